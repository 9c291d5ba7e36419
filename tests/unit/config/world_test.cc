#include "config/world.h"

#include <gtest/gtest.h>

#include "config/default_world.h"

namespace wims::config {
namespace {

TEST(WorldTest, FindsServiceAccountAndPodByNamespaceAndName) {
  const World world = default_world();
  const ServiceAccount* sa = world.find_service_account("default", "demo");
  ASSERT_NE(sa, nullptr);
  EXPECT_EQ(sa->name, "demo");
  EXPECT_EQ(world.find_service_account("kube-system", "demo"), nullptr);
  EXPECT_EQ(world.find_service_account("default", "nope"), nullptr);

  const Pod* pod = world.find_pod("default", "demo");
  ASSERT_NE(pod, nullptr);
  EXPECT_EQ(world.service_account_of(*pod), sa);
  EXPECT_EQ(world.find_pod("other", "demo"), nullptr);
}

TEST(WorldTest, FindsPodByAnyFormOfItsIp) {
  const World world = default_world();
  const Pod* demo = world.find_pod("default", "demo");
  EXPECT_EQ(world.find_pod_by_ip("127.0.0.1"), demo);
  EXPECT_EQ(world.find_pod_by_ip("::1"), demo);
  EXPECT_EQ(world.find_pod_by_ip("0:0::0001"), demo);
  EXPECT_EQ(world.find_pod_by_ip("127.0.0.2"), nullptr);
  EXPECT_EQ(world.find_pod_by_ip("not an ip"), nullptr);
}

TEST(WorldTest, HostNetworkPodsAreNotFoundByIp) {
  World world = default_world();
  world.pods[0].host_network = true;
  EXPECT_EQ(world.find_pod_by_ip("127.0.0.1"), nullptr);
}

TEST(WorldTest, ServiceAccountAnnotationAccessors) {
  ServiceAccount sa;
  EXPECT_EQ(sa.gcp_service_account(), "");
  EXPECT_EQ(sa.eks_role_arn(), "");
  EXPECT_FALSE(sa.return_principal_id_as_email());
  sa.annotations[kGcpServiceAccountAnnotation] = "a@p.iam.gserviceaccount.com";
  sa.annotations[kEksRoleArnAnnotation] = "arn:aws:iam::111122223333:role/r";
  sa.annotations[kReturnPrincipalIdAsEmailAnnotation] = "true";
  EXPECT_EQ(sa.gcp_service_account(), "a@p.iam.gserviceaccount.com");
  EXPECT_EQ(sa.eks_role_arn(), "arn:aws:iam::111122223333:role/r");
  EXPECT_TRUE(sa.return_principal_id_as_email());
  sa.annotations[kReturnPrincipalIdAsEmailAnnotation] = "false";
  EXPECT_FALSE(sa.return_principal_id_as_email());
}

TEST(WorldTest, FindsGoogleServiceAccountsAndBuckets) {
  const World world = default_world();
  ASSERT_NE(world.find_google_service_account("demo@wims-local.iam.gserviceaccount.com"), nullptr);
  EXPECT_EQ(world.find_google_service_account("nope@wims-local.iam.gserviceaccount.com"), nullptr);
  ASSERT_NE(world.find_bucket("wims-demo-bucket"), nullptr);
  EXPECT_EQ(world.find_bucket("other"), nullptr);
}

TEST(WorldTest, DerivedNames) {
  const World world = default_world();
  EXPECT_EQ(world.workload_identity_pool(), "wims-local.svc.id.goog");
  EXPECT_EQ(world.cluster_resource_url(),
            "https://container.googleapis.com/v1/projects/wims-local/locations/us-central1-a/"
            "clusters/wims");
}

TEST(WorldTest, CanonicalIp) {
  EXPECT_EQ(canonical_ip("10.0.0.1"), "10.0.0.1");
  EXPECT_EQ(canonical_ip("FD10:1:0::2"), "fd10:1::2");
  EXPECT_EQ(canonical_ip("10.0.0.x"), std::nullopt);
  EXPECT_EQ(canonical_ip("010.0.0.1"), std::nullopt);
  EXPECT_EQ(canonical_ip(""), std::nullopt);
}

}  // namespace
}  // namespace wims::config
