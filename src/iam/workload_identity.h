// WorkloadIdentity: who a Kubernetes workload is, in the terms IAM matches principals against. It
// is what a federated access token from the local Google STS stands for, and what the node metadata
// server knows about a calling pod. Built from a verified service-account token (cloud) or from the
// pod index (metadata).
//
// A plain value; thread-safe to copy and read.
#pragma once

#include <cstdint>
#include <string>

namespace wims::iam {

struct WorkloadIdentity {
  int64_t project_number = 0;
  std::string pool;             // "PROJECT_ID.svc.id.goog"
  std::string namespace_name;   // "default"
  std::string service_account;  // Kubernetes service account name, "demo"
  std::string service_account_uid;
  // "https://container.googleapis.com/v1/projects/P/locations/L/clusters/C"; identity sameness: two
  // clusters of one pool give the same principal, but conditions and
  // principalSet://.../kubernetes.cluster/... can still tell them apart.
  std::string cluster_url;
  std::string pod_name;  // optional: the bound pod of the token
  std::string pod_uid;
};

}  // namespace wims::iam
