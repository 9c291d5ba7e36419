// How configuration errors name a place in the file: `pods[1].annotations["iam.gke.io/x"]`. Shared
// by the loader (YAML shape) and the validator (meaning), so that both speak the same paths.
// Free functions; stateless and thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "fmt/format.h"

namespace wims::config {

// `base[i]`
inline std::string index_path(std::string_view base, size_t i) {
  return fmt::format("{}[{}]", base, i);
}

// `base["key"]`, for map keys (annotations, labels) that may hold dots.
inline std::string key_path(std::string_view base, std::string_view key) {
  return fmt::format("{}[\"{}\"]", base, key);
}

}  // namespace wims::config
