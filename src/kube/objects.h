// Kubernetes objects as wims needs them, parsed from the API's JSON (a Pod of a PodList or a watch
// event, a ServiceAccount): only the fields identity depends on, into the config model the rest of
// wims already uses (config::Pod, config::ServiceAccount) plus the lifecycle facts the pod index
// needs.
//
// Free functions on plain values: thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <string>

#include "absl/status/statusor.h"
#include "config/world.h"

namespace wims::kube {

struct PodInfo {
  // namespace, name, uid, serviceAccountName (default "default"), status.podIPs (canonical;
  // status.podIP when podIPs is absent), hostNetwork, labels, annotations.
  config::Pod pod = {};
  std::string node_name = {};
  std::string phase = {};    // Pending, Running, Succeeded, Failed, Unknown
  bool terminating = false;  // metadata.deletionTimestamp is set
  std::string resource_version = {};

  // Succeeded, Failed or terminating: the pod no longer holds an identity.
  bool finished() const { return terminating || phase == "Succeeded" || phase == "Failed"; }
};

// InvalidArgument when metadata.name/namespace/uid is missing or a pod IP is not an IP literal.
absl::StatusOr<PodInfo> parse_pod(const boost::json::object& object);
// InvalidArgument when metadata.name/namespace is missing.
absl::StatusOr<config::ServiceAccount> parse_service_account(const boost::json::object& object);

}  // namespace wims::kube
