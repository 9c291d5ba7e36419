// Loading a World from a YAML world file (the schema, with a full example, is in
// docs/configuration.md).
//
// The loader reads the file strictly: unknown keys (typos) and values of the wrong type are errors,
// and every World is then checked by find_world_problems (config/world_validator.h). All problems
// are reported at once, one per line, each with the file name, the line and the path of the
// offending value:
//
//   world.yaml:14: pods[1].ips[0]: "10.0.0.x" is not an IP address
//   world.yaml:9: pods[0].serviceAccountName: service account "default/nope" is not defined
//
// What a file leaves out gets a default (docs/configuration.md lists them): the project, cluster
// and node of default_world(), uids derived deterministically from names (config/stable_id.h), the
// node hostname NAME.c.PROJECT.internal, a `default` ServiceAccount in every namespace, and so on.
// Pod IPs are stored in canonical form.
//
// Stateless and thread-safe. load_world_file does blocking file I/O: call it at startup or off the
// I/O threads.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "config/world.h"

namespace wims::config {

// World files larger than this are refused (a world is a few kilobytes; this bounds a mistaken
// path).
inline constexpr size_t kMaxWorldFileBytes = 16 * 1024 * 1024;

// Reads and loads `path`. NotFound / PermissionDenied / FailedPrecondition (...) when the file
// cannot be read, InvalidArgument listing every problem when it is not a valid world.
absl::StatusOr<World> load_world_file(const std::string& path);

// Loads a world from YAML text. `source_name` (usually the file name) prefixes every error message.
// A relative cluster.jwksFile stays relative (to the working directory).
absl::StatusOr<World> load_world_yaml(std::string_view yaml, std::string_view source_name);

// load_world_yaml, with a relative cluster.jwksFile made relative to `base_dir` (load_world_file
// passes the world file's directory, so a world and its JWKS file can move together).
absl::StatusOr<World> load_world_yaml_in(std::string_view yaml, std::string_view source_name,
                                         std::string_view base_dir);

// The world as a world file: load_world_yaml(world_to_yaml(w), ...) == w for any valid w whose
// defaults are already applied (every World the loader or default_world returns). Used by `wims` to
// print the effective world.
std::string world_to_yaml(const World& world);

}  // namespace wims::config
