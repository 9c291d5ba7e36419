// Internal to wims::iam (IAM Conditions): the CEL type checker. Resolves identifiers and field
// selections to the IAM attributes (request.time, resource.name/type/service), resolves every call
// to its possible overloads, infers static types, validates literal timestamps / durations / time
// zones / extract templates (folding timestamp('...') and duration('...') to literals) and rejects
// anything unknown or ill-typed with "line:col: what". Stateless; thread-safe.
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "iam/internal/cel_ast.h"

namespace wims::iam::internal {

// Annotates `root` in place. The whole expression must be a bool (or dyn).
absl::Status check(Node& root, std::string_view source);

}  // namespace wims::iam::internal
