// World: the description of everything wims serves, loaded from YAML (config/world_loader.h) or
// built in (config/default_world.h). It names the cloud project, the cluster and its OIDC issuer,
// this node, the Kubernetes namespaces, service accounts and pods, and the initial state of the
// embedded local cloud (Google service accounts, buckets and IAM bindings; the Azure tenant,
// managed identities with their federated credentials, storage accounts and role assignments).
//
// A World is a plain value. Once loaded it is shared read-only (std::shared_ptr<const World>), so
// it is thread-safe to read from any executor.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"

namespace wims::config {

struct Project {
  std::string id;              // "wims-local"
  int64_t number = 0;          // 123456789012
  std::string aws_account_id;  // 12 digits, for the AWS side
  std::string aws_region;      // "us-east-1"

  bool operator==(const Project&) const = default;
};

struct Cluster {
  std::string name;      // "wims"
  std::string location;  // "us-central1-a" (a zone) or a region
  std::string uid;
  // The service-account token issuer. Empty: the embedded cloud's own issuer URL (set at start,
  // once the cloud listener is bound). Without jwks_url/jwks_file, a URL here only renames the
  // embedded issuer (its tokens carry this `iss`, e.g. a public URL proxied to wims).
  std::string issuer_url;
  // An external cluster issuer (a real cluster's API server): the keys that verify its tokens, at
  // most one of the two. With either, issuer_url names that external issuer, the local STSs trust
  // its tokens, and the embedded issuer keeps its own URL (docs/configuration.md, "Trusting an
  // external cluster issuer").
  std::string jwks_url;   // "https://host/openid/v1/jwks": fetched, cached, refetched on new kids
  std::string jwks_file;  // a JWKS JSON file; relative paths are relative to the world file

  // True when issuer_url is an external issuer whose keys come from jwks_url or jwks_file.
  bool has_external_issuer() const { return !jwks_url.empty() || !jwks_file.empty(); }

  bool operator==(const Cluster&) const = default;
};

struct Node {
  std::string name;      // "wims-node-1"
  std::string hostname;  // "wims-node-1.c.wims-local.internal"
  uint64_t id = 0;       // instance id
  std::string zone;      // "us-central1-a"
  std::string machine_type = "e2-standard-4";

  bool operator==(const Node&) const = default;
};

// The Kubernetes annotations wims reads, by name.
inline constexpr char kGcpServiceAccountAnnotation[] = "iam.gke.io/gcp-service-account";
inline constexpr char kReturnPrincipalIdAsEmailAnnotation[] =
    "iam.gke.io/return-principal-id-as-email";
inline constexpr char kEksRoleArnAnnotation[] = "eks.amazonaws.com/role-arn";
inline constexpr char kImdsEmulatorEnabledLabel[] =
    "gkemulticloud.googleapis.com/aws-imds-emulator-enabled";
inline constexpr char kImdsEmulatorRoleArnAnnotation[] =
    "gkemulticloud.googleapis.com/aws-imds-emulator-role-arn";
// Azure Workload Identity (azure-workload-identity webhook): the Entra client id, and optionally
// the tenant, a KSA's pods get tokens for.
inline constexpr char kAzureClientIdAnnotation[] = "azure.workload.identity/client-id";
inline constexpr char kAzureTenantIdAnnotation[] = "azure.workload.identity/tenant-id";

struct ServiceAccount {
  std::string namespace_name;
  std::string name;
  std::string uid;
  std::map<std::string, std::string> annotations;

  // The value of annotation `key`, or "" when absent.
  std::string annotation(std::string_view key) const {
    auto it = annotations.find(std::string(key));
    return it == annotations.end() ? std::string() : it->second;
  }
  // iam.gke.io/gcp-service-account: the Google service account this KSA impersonates ("" = none).
  std::string gcp_service_account() const { return annotation(kGcpServiceAccountAnnotation); }
  // eks.amazonaws.com/role-arn: the AWS role this KSA assumes ("" = none).
  std::string eks_role_arn() const { return annotation(kEksRoleArnAnnotation); }
  // azure.workload.identity/client-id: the Entra application or managed identity ("" = none).
  std::string azure_client_id() const { return annotation(kAzureClientIdAnnotation); }
  // iam.gke.io/return-principal-id-as-email == "true".
  bool return_principal_id_as_email() const {
    return annotation(kReturnPrincipalIdAsEmailAnnotation) == "true";
  }

  bool operator==(const ServiceAccount&) const = default;
};

// Canonical text of an IP literal (inet_ntop form: "::1", "10.0.0.1"); nullopt if `text` is not
// one.
std::optional<std::string> canonical_ip(std::string_view text);

struct Pod {
  std::string namespace_name;
  std::string name;
  std::string uid;
  std::string service_account_name = "default";
  // IPv4 and IPv6 literals, as in status.podIPs: at most one of each family. The loader stores them
  // in canonical (inet_ntop) form.
  std::vector<std::string> ips;
  bool host_network = false;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;

  bool operator==(const Pod&) const = default;
};

// IAM binding in an allow policy: role -> members, with an optional CEL condition.
struct Binding {
  std::string role;  // "roles/storage.objectViewer"
  std::vector<std::string>
      members;                  // "serviceAccount:demo@wims-local.iam.gserviceaccount.com", ...
  std::string condition_title;  // empty: no condition
  std::string condition_description;
  std::string condition_expression;

  bool operator==(const Binding&) const = default;
};

struct GoogleServiceAccount {
  std::string email;  // "demo@wims-local.iam.gserviceaccount.com"
  std::string display_name;
  std::vector<Binding> bindings;  // its own allow policy (e.g. roles/iam.workloadIdentityUser)

  bool operator==(const GoogleServiceAccount&) const = default;
};

struct BucketObject {
  std::string name;
  std::string content;

  bool operator==(const BucketObject&) const = default;
};

struct Bucket {
  std::string name;
  std::vector<BucketObject> objects;
  std::vector<Binding> bindings;
  std::map<std::string, std::string> tags;  // "123/env" -> "prod", for resource.matchTag

  bool operator==(const Bucket&) const = default;
};

struct GoogleCloud {
  std::vector<GoogleServiceAccount> service_accounts;
  std::vector<Bucket> buckets;
  std::vector<Binding> project_bindings;
  // Token exchange quota at the local STS, per project per minute (the real default is 6,000).
  int sts_exchanges_per_minute = 6000;

  bool operator==(const GoogleCloud&) const = default;
};

// An Entra federated identity credential: a token whose `iss`, `sub` and one `aud` equal these,
// exactly and case-sensitively (a trailing '/' on the issuer matters), may be exchanged for the
// owning identity's tokens. An empty issuer means the cluster's service-account issuer
// (cluster.issuerUrl, or the embedded issuer's URL once it is bound).
struct FederatedCredential {
  std::string name;     // "kubernetes-default-demo"
  std::string issuer;   // "https://oidc.example/abc/" or "" (the cluster's issuer)
  std::string subject;  // "system:serviceaccount:default:demo"
  std::vector<std::string> audiences = {"api://AzureADTokenExchange"};

  bool operator==(const FederatedCredential&) const = default;
};

// At most this many federated credentials per identity, as in Entra.
inline constexpr size_t kMaxFederatedCredentialsPerIdentity = 20;
inline constexpr char kAzureTokenExchangeAudience[] = "api://AzureADTokenExchange";

// A user-assigned managed identity in the world's subscription and resource group.
struct ManagedIdentity {
  std::string name;       // "wims-demo"
  std::string client_id;  // GUID; derived from the name when absent
  std::string object_id;  // GUID (the service principal's oid); derived when absent
  std::vector<FederatedCredential> federated_credentials;

  bool operator==(const ManagedIdentity&) const = default;
};

// An Entra app registration (and its service principal) in the tenant.
struct AppRegistration {
  std::string display_name;  // "wims-demo-app"
  std::string app_id;        // GUID, the client id; derived from the display name when absent
  std::string object_id;     // GUID of the service principal; derived when absent
  std::vector<FederatedCredential> federated_credentials;

  bool operator==(const AppRegistration&) const = default;
};

struct BlobItem {
  std::string name;
  std::string content;

  bool operator==(const BlobItem&) const = default;
};

struct BlobContainer {
  std::string name;  // 3-63 of [a-z0-9-]
  std::vector<BlobItem> blobs;

  bool operator==(const BlobContainer&) const = default;
};

struct StorageAccount {
  std::string name;  // 3-24 of [a-z0-9]
  std::vector<BlobContainer> containers;

  bool operator==(const StorageAccount&) const = default;
};

// An Azure RBAC role assignment: `principal_id` (an object id) holds `role` (a built-in role name,
// like "Storage Blob Data Reader") at `scope` (an ARM resource id: a storage account
// or one of its containers, ".../blobServices/default/containers/NAME").
struct RoleAssignment {
  std::string role;
  std::string principal_id;
  std::string scope;

  bool operator==(const RoleAssignment&) const = default;
};

struct AzureCloud {
  std::string tenant_id;        // GUID; derived from project.id when absent
  std::string subscription_id;  // GUID; derived from project.id when absent
  std::string resource_group = "wims";
  std::string location = "eastus";
  std::vector<ManagedIdentity> managed_identities;
  std::vector<AppRegistration> app_registrations;
  std::vector<StorageAccount> storage_accounts;
  std::vector<RoleAssignment> role_assignments;

  // "/subscriptions/SUB/resourceGroups/RG/providers/Microsoft.ManagedIdentity/
  // userAssignedIdentities/NAME".
  std::string managed_identity_resource_id(std::string_view name) const {
    return "/subscriptions/" + subscription_id + "/resourceGroups/" + resource_group +
           "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/" + std::string(name);
  }
  // "/subscriptions/SUB/resourceGroups/RG/providers/Microsoft.Storage/storageAccounts/NAME".
  std::string storage_account_resource_id(std::string_view name) const {
    return "/subscriptions/" + subscription_id + "/resourceGroups/" + resource_group +
           "/providers/Microsoft.Storage/storageAccounts/" + std::string(name);
  }
  // The storage account's id + "/blobServices/default/containers/CONTAINER".
  std::string blob_container_resource_id(std::string_view account,
                                         std::string_view container) const {
    return storage_account_resource_id(account) + "/blobServices/default/containers/" +
           std::string(container);
  }
  // Lookups by client id (a managed identity's client_id or an app's app_id); nullptr when absent.
  const ManagedIdentity* find_managed_identity(std::string_view client_id) const;
  const AppRegistration* find_app_registration(std::string_view app_id) const;

  bool operator==(const AzureCloud&) const = default;
};

// What the node metadata server does for a caller that is not a known pod, or is a hostNetwork pod.
enum class UnknownCallerPolicy { kDeny, kNodeIdentity };

struct MetadataOptions {
  UnknownCallerPolicy unknown_caller = UnknownCallerPolicy::kDeny;
  // The Google service account the node itself runs as, served under kNodeIdentity.
  std::string node_service_account;

  bool operator==(const MetadataOptions&) const = default;
};

struct World {
  Project project;
  Cluster cluster;
  Node node;
  std::vector<std::string> namespaces;
  std::vector<ServiceAccount> service_accounts;
  std::vector<Pod> pods;
  GoogleCloud google;
  AzureCloud azure;
  MetadataOptions metadata;

  // Lookups; nullptr when absent. Linear scans: worlds are small and lookups happen at load or
  // index-build time, not per request.
  const ServiceAccount* find_service_account(std::string_view ns, std::string_view name) const;
  const Pod* find_pod(std::string_view ns, std::string_view name) const;
  // The non-hostNetwork pod that owns `ip` (any textual form of the address); nullptr if none.
  const Pod* find_pod_by_ip(std::string_view ip) const;
  // The KSA `pod` runs as (pod.namespace_name / pod.service_account_name); nullptr if undefined.
  const ServiceAccount* service_account_of(const Pod& pod) const;
  const GoogleServiceAccount* find_google_service_account(std::string_view email) const;
  const Bucket* find_bucket(std::string_view name) const;

  // The workload identity pool of the project: "PROJECT_ID.svc.id.goog".
  std::string workload_identity_pool() const { return project.id + ".svc.id.goog"; }
  // "https://container.googleapis.com/v1/projects/P/locations/L/clusters/C".
  std::string cluster_resource_url() const {
    return "https://container.googleapis.com/v1/projects/" + project.id + "/locations/" +
           cluster.location + "/clusters/" + cluster.name;
  }

  bool operator==(const World&) const = default;
};

}  // namespace wims::config
