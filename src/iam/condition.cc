#include "iam/condition.h"

#include <utility>

#include "absl/status/status.h"
#include "common/status_macros.h"
#include "fmt/format.h"
#include "iam/internal/cel_ast.h"
#include "iam/internal/cel_checker.h"
#include "iam/internal/cel_evaluator.h"
#include "iam/internal/cel_parser.h"

namespace wims::iam {

absl::StatusOr<Condition> Condition::compile(std::string_view expression) {
  internal::ParseLimits limits;
  limits.max_length = kMaxExpressionLength;
  limits.max_logical_operators = kMaxLogicalOperators;
  limits.max_depth = kMaxNestingDepth;
  auto program = std::make_shared<internal::Program>();
  program->expression = std::string(expression);
  WIMS_ASSIGN_OR_RETURN(program->root, internal::parse(expression, limits));
  WIMS_RETURN_IF_ERROR(internal::check(*program->root, expression));
  return Condition(std::move(program));
}

absl::StatusOr<bool> Condition::evaluate(const ConditionContext& context) const {
  internal::Value v = internal::evaluate(*program_->root, context);
  if (v.is_error())
    return absl::InvalidArgumentError(fmt::format("evaluation error: {}", v.error_message()));
  if (!v.is_bool()) {
    return absl::InvalidArgumentError(
        fmt::format("the condition evaluated to {}, not a bool", internal::type_name(v.kind())));
  }
  return v.as_bool();
}

const std::string& Condition::expression() const { return program_->expression; }

}  // namespace wims::iam
