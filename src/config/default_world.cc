#include "config/default_world.h"

#include "config/stable_id.h"

namespace wims::config {
namespace {

Binding unconditional(std::string role, std::vector<std::string> members) {
  Binding binding;
  binding.role = std::move(role);
  binding.members = std::move(members);
  return binding;
}

}  // namespace

World default_world() {
  World world;
  world.project = Project{.id = kDefaultProjectId,
                          .number = kDefaultProjectNumber,
                          .aws_account_id = kDefaultAwsAccountId,
                          .aws_region = kDefaultAwsRegion};
  world.cluster = Cluster{
      .name = kDefaultClusterName,
      .location = kDefaultClusterLocation,
      .uid = name_based_cluster_uid(std::string(kDefaultProjectId) + "/" + kDefaultClusterLocation +
                                    "/" + kDefaultClusterName),
      .issuer_url = "",
  };
  world.node =
      Node{.name = kDefaultNodeName,
           .hostname = std::string(kDefaultNodeName) + ".c." + kDefaultProjectId + ".internal",
           .id = name_based_instance_id(kDefaultNodeName),
           .zone = kDefaultClusterLocation,
           .machine_type = kDefaultMachineType};
  world.namespaces = {"default"};

  const std::string demo_gsa =
      std::string("demo@") + kDefaultProjectId + ".iam.gserviceaccount.com";
  world.service_accounts = {
      ServiceAccount{.namespace_name = "default",
                     .name = "default",
                     .uid = name_based_uid("serviceaccount/default/default"),
                     .annotations = {}},
      ServiceAccount{
          .namespace_name = "default",
          .name = "demo",
          .uid = name_based_uid("serviceaccount/default/demo"),
          .annotations = {{kGcpServiceAccountAnnotation, demo_gsa},
                          {kEksRoleArnAnnotation, std::string("arn:aws:iam::") +
                                                      kDefaultAwsAccountId + ":role/wims-demo"}}},
  };
  world.pods = {Pod{.namespace_name = "default",
                    .name = "demo",
                    .uid = name_based_uid("pod/default/demo"),
                    .service_account_name = "demo",
                    .ips = {"127.0.0.1", "::1"},
                    .host_network = false,
                    .labels = {{"app", "demo"}},
                    .annotations = {}}};

  const std::string demo_principal = "principal://iam.googleapis.com/projects/" +
                                     std::to_string(kDefaultProjectNumber) +
                                     "/locations/global/workloadIdentityPools/" +
                                     world.workload_identity_pool() + "/subject/ns/default/sa/demo";
  world.google.service_accounts = {GoogleServiceAccount{
      .email = demo_gsa,
      .display_name = "wims demo workload",
      .bindings = {unconditional("roles/iam.workloadIdentityUser", {demo_principal})},
  }};
  world.google.buckets = {Bucket{
      .name = "wims-demo-bucket",
      .objects = {BucketObject{.name = "hello.txt", .content = "hello from wims\n"}},
      .bindings = {unconditional("roles/storage.objectViewer", {"serviceAccount:" + demo_gsa})},
      .tags = {},
  }};
  world.google.sts_exchanges_per_minute = kDefaultStsExchangesPerMinute;

  AzureCloud& azure = world.azure;
  azure.tenant_id = name_based_uid(std::string("azure/tenant/") + kDefaultProjectId);
  azure.subscription_id = name_based_uid(std::string("azure/subscription/") + kDefaultProjectId);
  azure.resource_group = kDefaultAzureResourceGroup;
  azure.location = kDefaultAzureLocation;
  const std::string identity_id = azure.managed_identity_resource_id(kDefaultAzureIdentityName);
  ManagedIdentity identity{
      .name = kDefaultAzureIdentityName,
      .client_id = name_based_uid("azure/client/" + identity_id),
      .object_id = name_based_uid("azure/object/" + identity_id),
      .federated_credentials = {FederatedCredential{.name = "kubernetes-default-demo",
                                                    .issuer = "",
                                                    .subject = "system:serviceaccount:default:demo",
                                                    .audiences = {kAzureTokenExchangeAudience}}},
  };
  for (ServiceAccount& sa : world.service_accounts) {
    if (sa.name == "demo") sa.annotations[kAzureClientIdAnnotation] = identity.client_id;
  }
  azure.storage_accounts = {StorageAccount{
      .name = kDefaultAzureStorageAccount,
      .containers = {BlobContainer{
          .name = "demo",
          .blobs = {BlobItem{.name = "hello.txt", .content = "hello from wims\n"}}}},
  }};
  azure.role_assignments = {
      RoleAssignment{.role = "Storage Blob Data Reader",
                     .principal_id = identity.object_id,
                     .scope = azure.storage_account_resource_id(kDefaultAzureStorageAccount)}};
  azure.managed_identities = {std::move(identity)};
  world.metadata =
      MetadataOptions{.unknown_caller = UnknownCallerPolicy::kDeny, .node_service_account = ""};
  return world;
}

}  // namespace wims::config
