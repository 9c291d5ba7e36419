// The built-in World that `wims up` serves when given no world file: one project, one GKE-style
// cluster and node, the `default` namespace with the `demo` KSA (annotated for both GKE Workload
// Identity and EKS IRSA), the `default/demo` pod on 127.0.0.1 and ::1, and a local cloud holding
// the demo Google service account and a readable bucket, and an Azure tenant with the managed
// identity `wims-demo` (federated to default/demo through the cluster's issuer, the KSA annotated
// with its client id) that may read the blob wimsdemo/demo/hello.txt. It passes validate_world
// (tested). docs/configuration.md shows it as YAML.
//
// Returns a fresh value each call; thread-safe.
#pragma once

#include "config/world.h"

namespace wims::config {

inline constexpr char kDefaultProjectId[] = "wims-local";
inline constexpr int64_t kDefaultProjectNumber = 123456789012;
// The account id AWS documentation uses in its examples, so it is obviously not a real account.
inline constexpr char kDefaultAwsAccountId[] = "111122223333";
inline constexpr char kDefaultAwsRegion[] = "us-east-1";
inline constexpr char kDefaultClusterName[] = "wims";
inline constexpr char kDefaultClusterLocation[] = "us-central1-a";
inline constexpr char kDefaultNodeName[] = "wims-node-1";
inline constexpr char kDefaultMachineType[] = "e2-standard-4";
inline constexpr int kDefaultStsExchangesPerMinute = 6000;
inline constexpr char kDefaultAzureResourceGroup[] = "wims";
inline constexpr char kDefaultAzureLocation[] = "eastus";
inline constexpr char kDefaultAzureIdentityName[] = "wims-demo";
inline constexpr char kDefaultAzureStorageAccount[] = "wimsdemo";

World default_world();

}  // namespace wims::config
