#include "kube/objects.h"

#include "common/json_members.h"
#include "fmt/format.h"

namespace wims::kube {
namespace {

namespace json = boost::json;

const json::object& object_at(const json::object& object, std::string_view key) {
  static const json::object kEmpty;
  auto it = object.find(key);
  return it != object.end() && it->value().is_object() ? it->value().get_object() : kEmpty;
}

std::map<std::string, std::string> string_map(const json::object& object) {
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : object) {
    if (value.is_string()) out.emplace(std::string(key), std::string(value.get_string()));
  }
  return out;
}

}  // namespace

absl::StatusOr<PodInfo> parse_pod(const json::object& object) {
  const json::object& metadata = object_at(object, "metadata");
  const json::object& spec = object_at(object, "spec");
  const json::object& status = object_at(object, "status");
  PodInfo info;
  info.pod.namespace_name = string_member(metadata, "namespace");
  info.pod.name = string_member(metadata, "name");
  info.pod.uid = string_member(metadata, "uid");
  if (info.pod.namespace_name.empty() || info.pod.name.empty() || info.pod.uid.empty()) {
    return absl::InvalidArgumentError(
        "a Pod without metadata.namespace, metadata.name or metadata.uid");
  }
  info.resource_version = string_member(metadata, "resourceVersion");
  if (auto it = metadata.find("deletionTimestamp");
      it != metadata.end() && !it->value().is_null()) {
    info.terminating = true;
  }
  info.pod.labels = string_map(object_at(metadata, "labels"));
  info.pod.annotations = string_map(object_at(metadata, "annotations"));
  if (std::string sa = string_member(spec, "serviceAccountName"); !sa.empty()) {
    info.pod.service_account_name = std::move(sa);
  } else if (std::string legacy = string_member(spec, "serviceAccount"); !legacy.empty()) {
    info.pod.service_account_name = std::move(legacy);
  }
  if (auto it = spec.find("hostNetwork"); it != spec.end() && it->value().is_bool()) {
    info.pod.host_network = it->value().get_bool();
  }
  info.node_name = string_member(spec, "nodeName");
  info.phase = string_member(status, "phase");

  std::vector<std::string> raw;
  if (auto it = status.find("podIPs"); it != status.end() && it->value().is_array()) {
    for (const json::value& entry : it->value().get_array()) {
      if (entry.is_object()) raw.push_back(string_member(entry.get_object(), "ip"));
    }
  }
  if (raw.empty()) {
    if (std::string ip = string_member(status, "podIP"); !ip.empty()) raw.push_back(std::move(ip));
  }
  for (const std::string& ip : raw) {
    std::optional<std::string> canonical = config::canonical_ip(ip);
    if (!canonical) {
      return absl::InvalidArgumentError(
          fmt::format("pod {}/{} has IP \"{}\", which is not an IP address",
                      info.pod.namespace_name, info.pod.name, ip));
    }
    info.pod.ips.push_back(*std::move(canonical));
  }
  return info;
}

absl::StatusOr<config::ServiceAccount> parse_service_account(const json::object& object) {
  const json::object& metadata = object_at(object, "metadata");
  config::ServiceAccount account;
  account.namespace_name = string_member(metadata, "namespace");
  account.name = string_member(metadata, "name");
  account.uid = string_member(metadata, "uid");
  if (account.namespace_name.empty() || account.name.empty()) {
    return absl::InvalidArgumentError(
        "a ServiceAccount without metadata.namespace or metadata.name");
  }
  account.annotations = string_map(object_at(metadata, "annotations"));
  return account;
}

}  // namespace wims::kube
