#include "config/default_world.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/world_validator.h"

namespace wims::config {
namespace {

TEST(DefaultWorldTest, PassesTheValidator) {
  const absl::Status status = validate_world(default_world());
  EXPECT_TRUE(status.ok()) << status;
}

TEST(DefaultWorldTest, DescribesTheDemo) {
  const World world = default_world();
  EXPECT_EQ(world.project.id, "wims-local");
  EXPECT_EQ(world.project.number, 123456789012);
  EXPECT_EQ(world.project.aws_account_id, "111122223333");
  EXPECT_EQ(world.project.aws_region, "us-east-1");
  EXPECT_EQ(world.cluster.name, "wims");
  EXPECT_EQ(world.cluster.location, "us-central1-a");
  EXPECT_EQ(world.node.name, "wims-node-1");
  EXPECT_EQ(world.node.hostname, "wims-node-1.c.wims-local.internal");
  EXPECT_EQ(world.node.zone, "us-central1-a");
  EXPECT_NE(world.node.id, 0u);
  EXPECT_THAT(world.namespaces, testing::ElementsAre("default"));

  const Pod* pod = world.find_pod("default", "demo");
  ASSERT_NE(pod, nullptr);
  EXPECT_THAT(pod->ips, testing::ElementsAre("127.0.0.1", "::1"));
  const ServiceAccount* sa = world.service_account_of(*pod);
  ASSERT_NE(sa, nullptr);
  EXPECT_EQ(sa->name, "demo");
  EXPECT_EQ(sa->gcp_service_account(), "demo@wims-local.iam.gserviceaccount.com");
  EXPECT_EQ(sa->eks_role_arn(), "arn:aws:iam::111122223333:role/wims-demo");

  const GoogleServiceAccount* gsa =
      world.find_google_service_account("demo@wims-local.iam.gserviceaccount.com");
  ASSERT_NE(gsa, nullptr);
  ASSERT_EQ(gsa->bindings.size(), 1u);
  EXPECT_EQ(gsa->bindings[0].role, "roles/iam.workloadIdentityUser");
  EXPECT_THAT(gsa->bindings[0].members,
              testing::ElementsAre(
                  "principal://iam.googleapis.com/projects/123456789012/locations/global/"
                  "workloadIdentityPools/wims-local.svc.id.goog/subject/ns/default/sa/demo"));

  const Bucket* bucket = world.find_bucket("wims-demo-bucket");
  ASSERT_NE(bucket, nullptr);
  ASSERT_EQ(bucket->objects.size(), 1u);
  EXPECT_EQ(bucket->objects[0].name, "hello.txt");
  EXPECT_EQ(bucket->objects[0].content, "hello from wims\n");
  ASSERT_EQ(bucket->bindings.size(), 1u);
  EXPECT_EQ(bucket->bindings[0].role, "roles/storage.objectViewer");
  EXPECT_THAT(bucket->bindings[0].members,
              testing::ElementsAre("serviceAccount:demo@wims-local.iam.gserviceaccount.com"));
  EXPECT_EQ(world.metadata.unknown_caller, UnknownCallerPolicy::kDeny);

  // Azure: the demo KSA's client id names the managed identity federated to it through the
  // cluster's issuer, and that identity may read wimsdemo/demo/hello.txt.
  const ManagedIdentity* identity = world.azure.find_managed_identity(sa->azure_client_id());
  ASSERT_NE(identity, nullptr);
  EXPECT_EQ(identity->name, "wims-demo");
  EXPECT_NE(identity->object_id, identity->client_id);
  ASSERT_EQ(identity->federated_credentials.size(), 1u);
  const FederatedCredential& fic = identity->federated_credentials[0];
  EXPECT_EQ(fic.issuer, "");
  EXPECT_EQ(fic.subject, "system:serviceaccount:default:demo");
  EXPECT_THAT(fic.audiences, testing::ElementsAre("api://AzureADTokenExchange"));
  EXPECT_EQ(world.azure.managed_identity_resource_id("wims-demo"),
            "/subscriptions/" + world.azure.subscription_id +
                "/resourceGroups/wims/providers/Microsoft.ManagedIdentity/"
                "userAssignedIdentities/wims-demo");
  ASSERT_EQ(world.azure.storage_accounts.size(), 1u);
  EXPECT_EQ(world.azure.storage_accounts[0].name, "wimsdemo");
  ASSERT_EQ(world.azure.role_assignments.size(), 1u);
  EXPECT_EQ(world.azure.role_assignments[0].principal_id, identity->object_id);
  EXPECT_EQ(world.azure.role_assignments[0].role, "Storage Blob Data Reader");
}

TEST(DefaultWorldTest, IsDeterministic) { EXPECT_EQ(default_world(), default_world()); }

}  // namespace
}  // namespace wims::config
