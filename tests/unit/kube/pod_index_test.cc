#include "kube/pod_index.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <thread>

#include "kube/kube_caller_resolver.h"
#include "unit/kube/test_support.h"

namespace wims::kube {
namespace {

using boost::asio::ip::make_address;
using testing::identity_world;
using testing::run_coroutine;

PodInfo pod(std::string name, std::string uid, std::vector<std::string> ips,
            std::string sa = "default") {
  PodInfo info;
  info.pod.namespace_name = "apps";
  info.pod.name = std::move(name);
  info.pod.uid = std::move(uid);
  info.pod.service_account_name = std::move(sa);
  info.pod.ips = std::move(ips);
  info.phase = "Running";
  info.node_name = "node-1";
  return info;
}

config::ServiceAccount account(std::string name,
                               std::map<std::string, std::string> annotations = {}) {
  return config::ServiceAccount{.namespace_name = "apps",
                                .name = std::move(name),
                                .uid = "sa-uid",
                                .annotations = std::move(annotations)};
}

absl::StatusOr<broker::Caller> resolve(const PodIndex& index, const std::string& ip) {
  return index.snapshot()->resolve(make_address(ip));
}

TEST(PodIndexTest, IndexesEveryPodIpWithTheServiceAccountsBinding) {
  PodIndex index(identity_world());
  index.replace_pods({pod("web", "uid-1", {"10.4.0.7", "fd00::7"})});
  index.replace_service_accounts({account("default", {{config::kGcpServiceAccountAnnotation,
                                                       "web@wims-test.iam.gserviceaccount.com"}})});
  index.publish();
  for (const std::string ip : {"10.4.0.7", "fd00::7", "::ffff:10.4.0.7"}) {
    SCOPED_TRACE(ip);
    absl::StatusOr<broker::Caller> caller = resolve(index, ip);
    ASSERT_TRUE(caller.ok()) << caller.status();
    EXPECT_EQ(caller->pod.uid, "uid-1");
    EXPECT_EQ(caller->google_service_account, "web@wims-test.iam.gserviceaccount.com");
    EXPECT_EQ(caller->workload.pool, "wims-test.svc.id.goog");
  }
  EXPECT_EQ(resolve(index, "10.4.0.8").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(index.snapshot()->address_count(), 2u);
}

TEST(PodIndexTest, HostNetworkPodIsNeverIndexedByTheNodeAddress) {
  PodIndex index(identity_world());
  PodInfo host = pod("kube-proxy", "uid-h", {"192.168.1.10"});
  host.pod.host_network = true;
  index.replace_pods({host});
  index.replace_service_accounts({account("default")});
  index.publish();
  EXPECT_EQ(resolve(index, "192.168.1.10").status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(PodIndexTest, FinishedAndTerminatingPodsAreDropped) {
  struct Case {
    std::string name;
    std::string phase;
    bool terminating;
  };
  for (const Case& c : std::vector<Case>{{"succeeded", "Succeeded", false},
                                         {"failed", "Failed", false},
                                         {"terminating", "Running", true}}) {
    SCOPED_TRACE(c.name);
    PodIndex index(identity_world());
    index.replace_pods({pod("job", "uid-1", {"10.4.0.9"})});
    index.replace_service_accounts({account("default")});
    index.publish();
    ASSERT_TRUE(resolve(index, "10.4.0.9").ok());
    PodInfo done = pod("job", "uid-1", {"10.4.0.9"});
    done.phase = c.phase;
    done.terminating = c.terminating;
    index.apply_pod(done);
    index.publish();
    EXPECT_EQ(resolve(index, "10.4.0.9").status().code(), absl::StatusCode::kNotFound);
  }
}

TEST(PodIndexTest, ReusedIpGoesToTheNewPodOnlyOnceTheOldOneIsGone) {
  PodIndex index(identity_world());
  index.replace_pods({pod("old", "uid-old", {"10.4.0.5"}, "old-sa")});
  index.replace_service_accounts({account("old-sa", {{config::kGcpServiceAccountAnnotation,
                                                      "old@wims-test.iam.gserviceaccount.com"}}),
                                  account("new-sa")});
  index.publish();
  // The new pod appears while the old one is still live: ambiguous, refused.
  index.apply_pod(pod("new", "uid-new", {"10.4.0.5"}, "new-sa"));
  index.replace_service_accounts({account("new-sa"), account("old-sa")});
  index.publish();
  absl::StatusOr<broker::Caller> ambiguous = resolve(index, "10.4.0.5");
  EXPECT_EQ(ambiguous.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(ambiguous.status().message()), ::testing::HasSubstr("uid-old"));
  // The old pod finishes: the address is the new pod's, with the new pod's identity.
  PodInfo old_done = pod("old", "uid-old", {"10.4.0.5"}, "old-sa");
  old_done.phase = "Succeeded";
  index.apply_pod(old_done);
  index.publish();
  absl::StatusOr<broker::Caller> caller = resolve(index, "10.4.0.5");
  ASSERT_TRUE(caller.ok()) << caller.status();
  EXPECT_EQ(caller->pod.uid, "uid-new");
  EXPECT_FALSE(caller->google_service_account.has_value());
}

TEST(PodIndexTest, SameNameNewUidIsANewPod) {
  PodIndex index(identity_world());
  index.replace_pods({pod("web", "uid-1", {"10.4.0.7"})});
  index.replace_service_accounts({account("default")});
  index.publish();
  index.remove_pod("uid-1");
  index.apply_pod(pod("web", "uid-2", {"10.4.0.7"}));
  // The last reference went with the old pod, so the account is fetched again (the reflector GETs
  // it).
  EXPECT_EQ(index.unknown_service_accounts().size(), 1u);
  index.apply_service_account_if_unknown(account("default"));
  index.publish();
  absl::StatusOr<broker::Caller> caller = resolve(index, "10.4.0.7");
  ASSERT_TRUE(caller.ok()) << caller.status();
  EXPECT_EQ(caller->pod.uid, "uid-2");
}

TEST(PodIndexTest, PodWaitsForItsServiceAccountAndAnAbsentOneIsRefused) {
  PodIndex index(identity_world());
  index.apply_pod(pod("web", "uid-1", {"10.4.0.7"}, "web-sa"));
  index.publish();
  EXPECT_EQ(resolve(index, "10.4.0.7").status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(index.unknown_service_accounts(),
              ::testing::ElementsAre(std::make_pair(std::string("apps"), std::string("web-sa"))));
  index.mark_service_account_absent("apps", "web-sa");
  index.publish();
  EXPECT_EQ(resolve(index, "10.4.0.7").status().code(), absl::StatusCode::kPermissionDenied);
  index.apply_service_account(account("web-sa"));
  index.publish();
  EXPECT_TRUE(resolve(index, "10.4.0.7").ok());
}

TEST(PodIndexTest, KeepsOnlyReferencedServiceAccounts) {
  PodIndex index(identity_world());
  index.replace_pods({pod("web", "uid-1", {"10.4.0.7"}, "sa-7")});
  std::vector<config::ServiceAccount> all;
  for (int i = 0; i < 1000; ++i) all.push_back(account("sa-" + std::to_string(i)));
  index.replace_service_accounts(all);
  index.apply_service_account(account("sa-unrelated"));
  index.publish();
  EXPECT_EQ(index.snapshot()->service_account_count(), 1u);
  EXPECT_FALSE(index.references("apps", "sa-8"));
  // When the pod goes, so does its service account.
  index.remove_pod("uid-1");
  index.publish();
  EXPECT_EQ(index.snapshot()->service_account_count(), 0u);
}

TEST(PodIndexTest, ServiceAccountAnnotationChangeTakesEffect) {
  PodIndex index(identity_world());
  index.replace_pods({pod("web", "uid-1", {"10.4.0.7"})});
  index.replace_service_accounts({account("default")});
  index.publish();
  EXPECT_FALSE(resolve(index, "10.4.0.7")->aws_role_arn.has_value());
  index.apply_service_account(
      account("default", {{config::kEksRoleArnAnnotation, "arn:aws:iam::1:role/r"}}));
  index.publish();
  EXPECT_EQ(resolve(index, "10.4.0.7")->aws_role_arn, "arn:aws:iam::1:role/r");
}

TEST(KubeCallerResolverTest, ResolveOrWaitWakesWhenThePodArrives) {
  PodIndex index(identity_world());
  index.replace_service_accounts({});
  index.mark_synced();
  index.publish();
  KubeCallerResolver resolver(index);
  boost::asio::io_context io;
  std::optional<absl::StatusOr<broker::Caller>> result;
  // A long bound: the answer must come from the wake-up, not the timeout.
  boost::asio::co_spawn(
      io, resolver.resolve_or_wait(make_address("10.4.0.7"), absl::Minutes(2)),
      [&](std::exception_ptr, absl::StatusOr<broker::Caller> r) { result = std::move(r); });
  std::thread writer([&] {
    // Publishes without a pod first (a wake-up that must not end the wait), then with it.
    index.publish();
    index.apply_pod(pod("web", "uid-1", {"10.4.0.7"}));
    index.apply_service_account(account("default"));
    index.publish();
  });
  io.run();
  writer.join();
  ASSERT_TRUE(result.has_value());
  ASSERT_TRUE(result->ok()) << result->status();
  EXPECT_EQ((*result)->pod.uid, "uid-1");
}

TEST(KubeCallerResolverTest, ResolveOrWaitTimesOutBoundedly) {
  PodIndex index(identity_world());
  index.publish();
  KubeCallerResolver resolver(index);
  absl::StatusOr<broker::Caller> result =
      run_coroutine(resolver.resolve_or_wait(make_address("10.4.0.7"), absl::Milliseconds(20)));
  EXPECT_EQ(result.status().code(), absl::StatusCode::kNotFound);
}

TEST(KubeCallerResolverTest, RefusalsAndFullWaiterTableAnswerAtOnce) {
  PodIndex index(identity_world(), PodIndexOptions{.max_waiters = 0});
  PodInfo host = pod("node-agent", "uid-h", {"192.168.1.10"});
  host.pod.host_network = true;
  index.replace_pods({host});
  index.replace_service_accounts({account("default")});
  index.publish();
  KubeCallerResolver resolver(index);
  // An hour-long bound: returning at all shows neither case waited.
  EXPECT_EQ(run_coroutine(resolver.resolve_or_wait(make_address("192.168.1.10"), absl::Hours(1)))
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(run_coroutine(resolver.resolve_or_wait(make_address("10.9.9.9"), absl::Hours(1)))
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(resolver.resolve(make_address("192.168.1.10")).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace wims::kube
