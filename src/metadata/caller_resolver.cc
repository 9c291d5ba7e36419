#include "metadata/caller_resolver.h"

#include <fmt/format.h>

#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace wims::metadata {
namespace {

using boost::asio::ip::address;

std::string pod_name(const config::Pod& pod) { return pod.namespace_name + "/" + pod.name; }

absl::StatusOr<address> parse_pod_ip(const config::Pod& pod, const std::string& ip) {
  boost::system::error_code ec;
  address parsed = boost::asio::ip::make_address(ip, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        fmt::format("pod {} has IP \"{}\", which is not an IP address", pod_name(pod), ip));
  }
  return normalize_address(parsed);
}

// Who claims an address while the index is built.
struct Claim {
  std::vector<const config::Pod*> pods;  // non-hostNetwork pods, distinct
  std::vector<const config::Pod*> host_network_pods;
};

}  // namespace

address normalize_address(const address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6());
  }
  return a;
}

boost::asio::awaitable<absl::StatusOr<broker::Caller>> CallerResolver::resolve_async(
    address peer) const {
  co_return resolve(peer);
}

absl::StatusOr<broker::Caller> caller_for_pod(const config::World& world, const config::Pod& pod) {
  const config::ServiceAccount* ksa = world.service_account_of(pod);
  if (ksa == nullptr) {
    return absl::PermissionDeniedError(
        fmt::format("pod {} runs as service account {}/{}, which is not defined", pod_name(pod),
                    pod.namespace_name, pod.service_account_name));
  }
  broker::Caller caller;
  caller.pod = pod;
  caller.service_account = *ksa;
  caller.workload.project_number = world.project.number;
  caller.workload.pool = world.workload_identity_pool();
  caller.workload.namespace_name = pod.namespace_name;
  caller.workload.service_account = ksa->name;
  caller.workload.service_account_uid = ksa->uid;
  caller.workload.cluster_url = world.cluster_resource_url();
  caller.workload.pod_name = pod.name;
  caller.workload.pod_uid = pod.uid;
  if (std::string gsa = ksa->gcp_service_account(); !gsa.empty()) {
    caller.google_service_account = std::move(gsa);
  }
  caller.return_principal_id_as_email = ksa->return_principal_id_as_email();

  // The GKE-on-AWS IMDS emulator: the pod opts in with the label set exactly to "True" and names
  // its role; otherwise the KSA's EKS-style annotation applies.
  auto label = pod.labels.find(config::kImdsEmulatorEnabledLabel);
  auto role = pod.annotations.find(config::kImdsEmulatorRoleArnAnnotation);
  if (label != pod.labels.end() && label->second == "True" && role != pod.annotations.end() &&
      !role->second.empty()) {
    caller.aws_role_arn = role->second;
  } else if (std::string arn = ksa->eks_role_arn(); !arn.empty()) {
    caller.aws_role_arn = std::move(arn);
  }
  return caller;
}

absl::StatusOr<std::unique_ptr<WorldCallerResolver>> WorldCallerResolver::create(
    const config::World& world) {
  std::map<address, Claim> claims;
  for (const config::Pod& pod : world.pods) {
    for (const std::string& ip : pod.ips) {
      absl::StatusOr<address> parsed = parse_pod_ip(pod, ip);
      if (!parsed.ok()) return parsed.status();
      Claim& claim = claims[*parsed];
      auto& list = pod.host_network ? claim.host_network_pods : claim.pods;
      bool seen = false;
      for (const config::Pod* p : list) seen = seen || p == &pod;
      if (!seen) list.push_back(&pod);
    }
  }

  std::map<address, absl::StatusOr<broker::Caller>> index;
  for (const auto& [addr, claim] : claims) {
    const std::string text = addr.to_string();
    if (claim.pods.size() + (claim.host_network_pods.empty() ? 0 : 1) > 1) {
      std::vector<std::string> names;
      for (const config::Pod* p : claim.pods) names.push_back(pod_name(*p));
      for (const config::Pod* p : claim.host_network_pods)
        names.push_back(pod_name(*p) + " (hostNetwork)");
      index.emplace(
          addr, absl::PermissionDeniedError(fmt::format(
                    "address {} is claimed by more than one pod ({}); refusing to pick one", text,
                    fmt::join(names, ", "))));
    } else if (!claim.pods.empty()) {
      index.emplace(addr, caller_for_pod(world, *claim.pods.front()));
    } else {
      index.emplace(addr,
                    absl::FailedPreconditionError(fmt::format(
                        "address {} is the node's own address (hostNetwork pod {}); it has no pod "
                        "identity",
                        text, pod_name(*claim.host_network_pods.front()))));
    }
  }
  return std::unique_ptr<WorldCallerResolver>(new WorldCallerResolver(std::move(index)));
}

absl::StatusOr<broker::Caller> WorldCallerResolver::resolve(const address& peer) const {
  auto it = index_.find(normalize_address(peer));
  if (it == index_.end()) {
    return absl::NotFoundError(
        fmt::format("no pod on this node has address {}", normalize_address(peer).to_string()));
  }
  return it->second;
}

size_t WorldCallerResolver::resolvable_addresses() const {
  size_t n = 0;
  for (const auto& [addr, answer] : index_) n += answer.ok() ? 1 : 0;
  return n;
}

}  // namespace wims::metadata
