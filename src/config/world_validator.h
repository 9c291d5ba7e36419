// Semantic validation of a World: every rule a world must satisfy before wims serves it (names are
// valid Kubernetes / Google Cloud names, references resolve, no two pods claim one IP, annotations
// are well formed, ...). The YAML loader (config/world_loader.h) runs it on every file it loads and
// adds file line numbers; code that builds a World by hand (config/default_world.h, tests) calls
// validate_world.
//
// Stateless and thread-safe.
//
//   absl::Status status = validate_world(world);
//   // InvalidArgument: "pods[0].serviceAccountName: service account \"default/nope\" is not
//   defined\n..."
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "config/world.h"

namespace wims::config {

// One problem, located by its path in the world file's own key names: `pods[1].ips[0]`,
// `serviceAccounts[0].annotations["eks.amazonaws.com/role-arn"]`,
// `google.buckets[0].bindings[1].role`.
struct WorldProblem {
  std::string path;
  std::string message;
  // For a dangling reference, the path of the list it should be in ("namespaces",
  // "serviceAccounts"): a loader that already reported that list as malformed leaves such follow-on
  // problems out.
  std::string refers_to;

  bool operator==(const WorldProblem&) const = default;
};

// Every problem in `world`, in a stable order (section by section, item by item); empty when valid.
std::vector<WorldProblem> find_world_problems(const World& world);

// OK, or InvalidArgument whose message is the newline-joined "PATH: MESSAGE" of every problem.
absl::Status validate_world(const World& world);

}  // namespace wims::config
