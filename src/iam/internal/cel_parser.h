// Internal to wims::iam (IAM Conditions): the CEL parser (recursive descent over cel-spec's
// grammar: ternary, ||, &&, relations incl. `in`, + -, * / %, unary ! -, member selection / calls /
// indexing, list literals, parentheses). Enforces the IAM limits while parsing: expression length,
// number of logical operators (&&, ||) and nesting depth. Stateless; thread-safe.
#pragma once

#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "iam/internal/cel_ast.h"

namespace wims::iam::internal {

struct ParseLimits {
  size_t max_length = 12288;
  int max_logical_operators = 12;
  int max_depth = 64;  // recursion (parentheses, ternaries) and tree height
};

// INVALID_ARGUMENT "line:col: what" on a syntax error or a limit exceeded.
absl::StatusOr<std::unique_ptr<Node>> parse(std::string_view source, const ParseLimits& limits);

}  // namespace wims::iam::internal
