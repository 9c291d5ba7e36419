#include "metadata/caller_resolver.h"

#include <gtest/gtest.h>

#include "unit/metadata/test_support.h"

namespace wims::metadata {
namespace {

using boost::asio::ip::make_address;
using testing::make_pod;
using testing::make_world;

std::unique_ptr<WorldCallerResolver> resolver_for(const config::World& world) {
  auto resolver = WorldCallerResolver::create(world);
  EXPECT_TRUE(resolver.ok()) << resolver.status();
  return resolver.ok() ? *std::move(resolver) : nullptr;
}

TEST(WorldCallerResolverTest, ResolvesPodByIpv4WithWorkloadIdentity) {
  auto world = make_world();
  auto resolver = resolver_for(*world);
  absl::StatusOr<broker::Caller> caller = resolver->resolve(make_address(testing::kDemoIp));
  ASSERT_TRUE(caller.ok()) << caller.status();
  EXPECT_EQ(caller->pod.name, "demo");
  EXPECT_EQ(caller->service_account.name, "demo");
  EXPECT_EQ(caller->workload.project_number, 123456789012);
  EXPECT_EQ(caller->workload.pool, "wims-local.svc.id.goog");
  EXPECT_EQ(caller->workload.namespace_name, "default");
  EXPECT_EQ(caller->workload.service_account, "demo");
  EXPECT_EQ(caller->workload.service_account_uid, "ksa-uid-demo");
  EXPECT_EQ(caller->workload.cluster_url,
            "https://container.googleapis.com/v1/projects/wims-local/locations/us-central1-a/"
            "clusters/wims");
  EXPECT_EQ(caller->workload.pod_name, "demo");
  EXPECT_EQ(caller->workload.pod_uid, "uid-demo");
  EXPECT_EQ(caller->google_service_account, testing::kDemoGsa);
  EXPECT_FALSE(caller->return_principal_id_as_email);
  EXPECT_FALSE(caller->aws_role_arn.has_value());
}

TEST(WorldCallerResolverTest, ResolvesIpv6PodAddressInAnySpelling) {
  auto world = make_world();
  auto resolver = resolver_for(*world);
  for (const char* spelling : {"fd00::5", "fd00:0:0:0:0:0:0:5", "FD00::0005"}) {
    SCOPED_TRACE(spelling);
    absl::StatusOr<broker::Caller> caller = resolver->resolve(make_address(spelling));
    ASSERT_TRUE(caller.ok()) << caller.status();
    EXPECT_EQ(caller->pod.name, "demo");
  }
}

TEST(WorldCallerResolverTest, NormalisesV4MappedPeer) {
  auto world = make_world();
  auto resolver = resolver_for(*world);
  absl::StatusOr<broker::Caller> caller = resolver->resolve(make_address("::ffff:10.0.0.6"));
  ASSERT_TRUE(caller.ok()) << caller.status();
  EXPECT_EQ(caller->pod.name, "plain");
}

TEST(WorldCallerResolverTest, TwoPodsGetTwoIdentities) {
  auto world = make_world();
  auto resolver = resolver_for(*world);
  auto demo = resolver->resolve(make_address(testing::kDemoIp));
  auto plain = resolver->resolve(make_address(testing::kPlainIp));
  ASSERT_TRUE(demo.ok() && plain.ok());
  EXPECT_NE(demo->workload.service_account, plain->workload.service_account);
  EXPECT_EQ(plain->workload.service_account, "plain");
  EXPECT_FALSE(plain->google_service_account.has_value());
}

TEST(WorldCallerResolverTest, UnknownAddressIsNotFound) {
  auto world = make_world();
  auto resolver = resolver_for(*world);
  for (const char* address : {"10.0.0.200", "127.0.0.1", "::1"}) {
    SCOPED_TRACE(address);
    EXPECT_EQ(resolver->resolve(make_address(address)).status().code(),
              absl::StatusCode::kNotFound);
  }
}

TEST(WorldCallerResolverTest, HostNetworkPodAddressIsFailedPrecondition) {
  auto world = make_world();
  auto resolver = resolver_for(*world);
  absl::StatusOr<broker::Caller> caller = resolver->resolve(make_address(testing::kNodeIp));
  EXPECT_EQ(caller.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(caller.status().message().find("hostNetwork"), absl::string_view::npos);
}

TEST(WorldCallerResolverTest, AddressClaimedByTwoPodsIsRefused) {
  auto world = make_world();
  auto resolver = resolver_for(*world);
  absl::StatusOr<broker::Caller> caller = resolver->resolve(make_address(testing::kAmbiguousIp));
  EXPECT_EQ(caller.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(caller.status().message().find("twin-a"), absl::string_view::npos);
  EXPECT_NE(caller.status().message().find("twin-b"), absl::string_view::npos);
}

TEST(WorldCallerResolverTest, AddressOfPodAndHostNetworkPodIsRefused) {
  auto world = make_world();
  world->pods.push_back(make_pod("default", "squatter", "plain", {testing::kNodeIp}));
  auto resolver = resolver_for(*world);
  EXPECT_EQ(resolver->resolve(make_address(testing::kNodeIp)).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(WorldCallerResolverTest, PodWithUndefinedServiceAccountIsRefused) {
  auto world = make_world();
  world->pods.push_back(make_pod("default", "orphan", "nobody", {"10.0.0.50"}));
  auto resolver = resolver_for(*world);
  EXPECT_EQ(resolver->resolve(make_address("10.0.0.50")).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(WorldCallerResolverTest, InvalidPodIpFailsCreate) {
  auto world = make_world();
  world->pods.push_back(make_pod("default", "bad", "plain", {"10.0.0.300"}));
  EXPECT_EQ(WorldCallerResolver::create(*world).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(WorldCallerResolverTest, ReturnPrincipalIdAsEmailOnlyWhenExactlyTrue) {
  auto world = make_world();
  world->service_accounts.push_back(testing::make_ksa(
      "default", "yes-caps", {{config::kReturnPrincipalIdAsEmailAnnotation, "True"}}));
  world->pods.push_back(make_pod("default", "caps", "yes-caps", {"10.0.0.51"}));
  auto resolver = resolver_for(*world);
  EXPECT_TRUE(resolver->resolve(make_address(testing::kPrincipalIp))->return_principal_id_as_email);
  EXPECT_FALSE(resolver->resolve(make_address("10.0.0.51"))->return_principal_id_as_email);
}

TEST(WorldCallerResolverTest, AwsRoleFromImdsEmulatorLabelElseKsaAnnotation) {
  struct Case {
    const char* name;
    std::optional<std::string> label;
    std::optional<std::string> pod_role;
    std::optional<std::string> want;
  };
  const std::string ksa_role = "arn:aws:iam::111122223333:role/ksa";
  const std::string pod_role = "arn:aws:iam::111122223333:role/pod";
  const Case cases[] = {
      {"no label", std::nullopt, pod_role, ksa_role},
      {"label True", "True", pod_role, pod_role},
      {"label true (not exact)", "true", pod_role, ksa_role},
      {"label True without role", "True", std::nullopt, ksa_role},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto world = make_world();
    for (config::Pod& pod : world->pods) {
      if (pod.name != "app") continue;
      if (c.label) pod.labels[config::kImdsEmulatorEnabledLabel] = *c.label;
      if (c.pod_role) pod.annotations[config::kImdsEmulatorRoleArnAnnotation] = *c.pod_role;
    }
    auto resolver = resolver_for(*world);
    absl::StatusOr<broker::Caller> caller = resolver->resolve(make_address(testing::kAwsIp));
    ASSERT_TRUE(caller.ok()) << caller.status();
    EXPECT_EQ(caller->aws_role_arn, c.want);
  }
  auto world = make_world();
  auto resolver = resolver_for(*world);
  EXPECT_FALSE(resolver->resolve(make_address(testing::kPlainIp))->aws_role_arn.has_value());
}

}  // namespace
}  // namespace wims::metadata
