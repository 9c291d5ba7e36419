// MutationInput: what a pod mutation knows besides the pod itself: the request's namespace (the
// pod's own metadata.namespace may be empty on CREATE) and the pod's service account as the API
// server has it (nullopt when it does not exist or could not be read). Mutations report non-fatal
// findings (an annotation value they ignore) as admission warnings, which kubectl shows to the
// user.
//
// Plain value; thread-compatible.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/world.h"

namespace wims::webhook {

struct MutationInput {
  std::string namespace_name = {};
  std::optional<config::ServiceAccount> service_account = std::nullopt;
};

using Warnings = std::vector<std::string>;

}  // namespace wims::webhook
