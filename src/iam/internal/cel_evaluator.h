// Internal to wims::iam (IAM Conditions): the CEL evaluator, a tree walk over a checked Node.
// Errors are values; && and || absorb them when the other side decides (false && err == false, true
// || err == true, in either order). Reads only the tree and the context, so any number of threads
// may evaluate one tree.
#pragma once

#include "iam/condition.h"
#include "iam/internal/cel_ast.h"
#include "iam/internal/cel_value.h"

namespace wims::iam::internal {

Value evaluate(const Node& node, const ConditionContext& context);

}  // namespace wims::iam::internal
