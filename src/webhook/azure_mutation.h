// Azure AD workload identity, as Azure/azure-workload-identity's mutating webhook injects it
// (pkg/webhook/webhook.go, v1.5.x names and paths; shared/spec/cloud-kubernetes-semantics.md
// section 5):
//
//   Pod label          azure.workload.identity/use: "true" (exactly; the upstream chart enforces it
//   with an
//                      objectSelector, wims checks it here because one webhook serves all three
//                      mutations)
//   SA annotations     azure.workload.identity/client-id, tenant-id (default options.tenant_id),
//                      service-account-token-expiration
//   Pod annotations    azure.workload.identity/service-account-token-expiration (overrides the
//   SA's),
//                      azure.workload.identity/skip-containers (';'-separated, trimmed)
//
//   Every init container and container not skipped gets, each only if that name is absent and the
//   value is non-empty: AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE
//   (/var/run/secrets/azure/tokens/azure-identity-token), AZURE_AUTHORITY_HOST; and the read-only
//   mount azure-identity-token at /var/run/secrets/azure/tokens unless a mount of that name exists.
//   The pod gets the projected volume azure-identity-token {audience api://AzureADTokenExchange,
//   expirationSeconds, path azure-identity-token} unless it has one.
//
//   (v1.6.0 names the volume azure-workload-identity-reserved-<sha256(pod name)> instead; the pod
//   name is often empty at CREATE (generateName), so wims keeps the v1.5.x name, which is what SDKs
//   read through AZURE_FEDERATED_TOKEN_FILE anyway.) The proxy sidecar (inject-proxy-sidecar) is
//   not injected.
//
// Token expiration: default 3600; a value outside 3600..86400, or not an integer, refuses the pod
// (InvalidArgument "token expiration N not valid. Expected value to be between 3600 and 86400", the
// upstream message). Idempotent under reinvocation.
//
// Free functions on plain values: thread-safe; no I/O.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "webhook/mutation_input.h"

namespace wims::webhook {

inline constexpr char kAzureUseLabel[] = "azure.workload.identity/use";
inline constexpr char kAzureAnnotationPrefix[] = "azure.workload.identity/";
inline constexpr char kAzureTokenVolume[] = "azure-identity-token";
inline constexpr char kAzureTokenMountPath[] = "/var/run/secrets/azure/tokens";
inline constexpr char kAzureTokenFile[] = "/var/run/secrets/azure/tokens/azure-identity-token";
inline constexpr char kAzureTokenAudience[] = "api://AzureADTokenExchange";
inline constexpr int64_t kAzureMinTokenExpiration = 3600;
inline constexpr int64_t kAzureMaxTokenExpiration = 86400;

struct AzureOptions {
  // The cluster's Azure tenant (AZURE_TENANT_ID when the SA has no tenant-id annotation).
  std::string tenant_id = {};
  std::string authority_host = "https://login.microsoftonline.com/";
  int64_t token_expiration_seconds = 3600;
};

// Mutates `pod` in place; true when it changed anything, false for pods without the label.
// InvalidArgument (refuse the pod) for a bad token expiration.
absl::StatusOr<bool> apply_azure_workload_identity(boost::json::object& pod,
                                                   const MutationInput& input,
                                                   const AzureOptions& options);

}  // namespace wims::webhook
