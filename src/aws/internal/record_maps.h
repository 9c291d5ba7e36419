// Lookup helpers over the keyed record maps (std::map<std::string, Record, std::less<>>) that both
// AwsStateRepository implementations keep in memory. Header-only; the caller holds the map's lock.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace wims::aws::internal {

template <typename Map>
std::optional<typename Map::mapped_type> find_in(const Map& map, std::string_view key) {
  auto it = map.find(key);
  if (it == map.end()) return std::nullopt;
  return it->second;
}

template <typename Map>
std::vector<typename Map::mapped_type> values_of(const Map& map) {
  std::vector<typename Map::mapped_type> out;
  out.reserve(map.size());
  for (const auto& [_, v] : map) out.push_back(v);
  return out;
}

template <typename Map>
void erase_from(Map& map, std::string_view key) {
  auto it = map.find(key);
  if (it != map.end()) map.erase(it);
}

}  // namespace wims::aws::internal
