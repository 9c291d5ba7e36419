// Deterministic identifiers derived from names, for the parts of a World a config may leave out
// (Kubernetes uids, the GKE cluster uid, the GCE instance id). The same name always gives the same
// id, so a world file loads to the same World on every run and tokens minted before a restart stay
// consistent. Stateless and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace wims::config {

// RFC 4122 version 5 (SHA-1, name-based) UUID of `name` in wims's own namespace, lower-case:
// "1b4e28ba-2fa1-5fd2-883f-0016d3cca427". Use a kind prefix to keep ids apart: "pod/default/demo".
std::string name_based_uid(std::string_view name);

// 64 lower-case hex characters (SHA-256 of `name`), the shape of a GKE cluster uid.
std::string name_based_cluster_uid(std::string_view name);

// A 19-digit number in [10^18, 9*10^18), the shape of a GCE instance id.
uint64_t name_based_instance_id(std::string_view name);

}  // namespace wims::config
