#include "kube/reflector.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <thread>

#include "fakes/fake_kube_api_server.h"
#include "kube/kube_caller_resolver.h"
#include "unit/kube/test_support.h"

namespace wims::kube {
namespace {

using boost::asio::ip::make_address;
using fakes::FakeKubeApiServer;
using fakes::FakePodSpec;
using testing::eventually;
using testing::identity_world;

FakePodSpec on_node(std::string name, std::string uid, std::vector<std::string> ips,
                    std::string sa = "default") {
  return FakePodSpec{.namespace_name = "apps",
                     .name = std::move(name),
                     .uid = std::move(uid),
                     .node_name = "node-1",
                     .service_account = std::move(sa),
                     .ips = std::move(ips)};
}

class ReflectorTest : public ::testing::Test {
 protected:
  void SetUp() override { start_server({}); }

  void start_server(fakes::FakeKubeApiServerOptions options) {
    server_ = std::make_unique<FakeKubeApiServer>(std::move(options));
    ASSERT_TRUE(server_->start().ok());
    server_->upsert_service_account(
        FakeKubeApiServer::make_service_account("apps", "default", "sa-default"));
    server_->upsert_service_account(FakeKubeApiServer::make_service_account(
        "apps", "web", "sa-web",
        {{config::kGcpServiceAccountAnnotation, "web@wims-test.iam.gserviceaccount.com"}}));
    auto client = ApiClient::create(KubeConfig{.server = server_->url()});
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
  }

  void start_reflector() {
    reflector_ = std::make_unique<Reflector>(
        *client_, index_,
        ReflectorOptions{
            .node_name = "node-1",
            .backoff = {.initial = absl::Milliseconds(5), .max = absl::Milliseconds(50)},
            .random = [] { return 0.5; },
            .page_size = 2});
    reflector_->start();
    ASSERT_TRUE(reflector_->wait_synced(absl::Seconds(20)));
  }

  void TearDown() override {
    if (reflector_) reflector_->stop();
    server_->stop();
  }

  absl::StatusOr<broker::Caller> resolve(const std::string& ip) {
    return index_.snapshot()->resolve(make_address(ip));
  }
  bool resolves_to(const std::string& ip, const std::string& uid) {
    absl::StatusOr<broker::Caller> caller = resolve(ip);
    return caller.ok() && caller->pod.uid == uid;
  }
  bool unknown(const std::string& ip) {
    return resolve(ip).status().code() == absl::StatusCode::kNotFound;
  }

  std::unique_ptr<FakeKubeApiServer> server_;
  std::unique_ptr<ApiClient> client_;
  PodIndex index_{identity_world()};
  std::unique_ptr<Reflector> reflector_;
};

TEST_F(ReflectorTest, InitialListIndexesThisNodesPodsOnly) {
  server_->upsert_pod(on_node("a", "ua", {"10.4.0.1", "fd00::1"}, "web"));
  server_->upsert_pod(on_node("b", "ub", {"10.4.0.2"}));
  server_->upsert_pod(on_node("c", "uc", {"10.4.0.3"}));
  FakePodSpec elsewhere = on_node("x", "ux", {"10.4.1.1"});
  elsewhere.node_name = "node-2";
  server_->upsert_pod(elsewhere);
  start_reflector();
  auto snapshot = index_.snapshot();
  EXPECT_TRUE(snapshot->synced());
  EXPECT_EQ(snapshot->pod_count(), 3u);
  EXPECT_TRUE(resolves_to("fd00::1", "ua"));
  EXPECT_EQ(resolve("10.4.0.1")->google_service_account, "web@wims-test.iam.gserviceaccount.com");
  EXPECT_TRUE(resolves_to("10.4.0.3", "uc"));
  EXPECT_TRUE(unknown("10.4.1.1"));
  // Only the two referenced accounts are kept.
  EXPECT_EQ(snapshot->service_account_count(), 2u);
}

TEST_F(ReflectorTest, AppliesAddUpdateDelete) {
  start_reflector();
  server_->upsert_pod(on_node("a", "ua", {"10.4.0.1"}));
  ASSERT_TRUE(eventually([&] { return resolves_to("10.4.0.1", "ua"); }));
  // MODIFIED: the pod moves to another service account.
  server_->upsert_pod(on_node("a", "ua", {"10.4.0.1"}, "web"));
  ASSERT_TRUE(eventually([&] {
    auto caller = resolve("10.4.0.1");
    return caller.ok() && caller->service_account.name == "web";
  }));
  server_->delete_pod("apps", "a");
  ASSERT_TRUE(eventually([&] { return unknown("10.4.0.1"); }));
}

TEST_F(ReflectorTest, ReusedIpByANewUidNeverGetsTheOldIdentity) {
  server_->upsert_pod(on_node("job", "u-old", {"10.4.0.5"}, "web"));
  start_reflector();
  ASSERT_TRUE(resolves_to("10.4.0.5", "u-old"));
  // Same name, new UID: a delete and a create; the IP goes to the new pod with its own service
  // account.
  server_->upsert_pod(on_node("job", "u-new", {"10.4.0.5"}, "default"));
  ASSERT_TRUE(eventually([&] { return resolves_to("10.4.0.5", "u-new"); }));
  EXPECT_FALSE(resolve("10.4.0.5")->google_service_account.has_value());
  // Another pod claiming the same live address is refused, not guessed.
  server_->upsert_pod(on_node("intruder", "u-3", {"10.4.0.5"}));
  ASSERT_TRUE(eventually(
      [&] { return resolve("10.4.0.5").status().code() == absl::StatusCode::kPermissionDenied; }));
}

TEST_F(ReflectorTest, ResumesFromABookmarkWithoutRelisting) {
  start_reflector();
  ASSERT_TRUE(eventually([&] { return server_->open_watches() == 2; }));
  server_->bookmark();
  // Both watches (pods and service accounts) see it; after compaction the bookmark's RV is current,
  // so resuming from it needs no relist.
  ASSERT_TRUE(eventually([&] { return reflector_->stats().bookmarks == 2; }));
  const uint64_t lists = reflector_->stats().pod_lists;
  server_->compact();
  server_->end_watches();
  server_->upsert_pod(on_node("a", "ua", {"10.4.0.1"}));
  ASSERT_TRUE(eventually([&] { return resolves_to("10.4.0.1", "ua"); }));
  EXPECT_EQ(reflector_->stats().pod_lists, lists);
}

TEST_F(ReflectorTest, RelistsAfter410AndReconnectsAfterAnOutage) {
  server_->upsert_pod(on_node("a", "ua", {"10.4.0.1"}));
  start_reflector();
  ASSERT_TRUE(eventually([&] { return server_->open_watches() == 2; }));
  server_->set_outage(true);
  // Serving continues from the index during the outage.
  ASSERT_TRUE(eventually([&] { return reflector_->stats().reconnects_after_error > 0; }));
  EXPECT_TRUE(resolves_to("10.4.0.1", "ua"));
  // Changes the reflector missed, then history compacted: resuming gets 410 and must relist.
  server_->delete_pod("apps", "a");
  server_->upsert_pod(on_node("b", "ub", {"10.4.0.2"}));
  server_->compact();
  server_->set_outage(false);
  ASSERT_TRUE(eventually([&] { return resolves_to("10.4.0.2", "ub") && unknown("10.4.0.1"); }));
  EXPECT_GE(reflector_->stats().relists_after_expiry, 1u);
}

TEST_F(ReflectorTest, RelistsAfterAPlainHttp410WithReasonGone) {
  server_->stop();
  start_server({.expired_reason = "Gone", .expired_as_http_410 = true});
  start_reflector();
  ASSERT_TRUE(eventually([&] { return server_->open_watches() == 2; }));
  server_->set_outage(true);
  ASSERT_TRUE(eventually([&] { return reflector_->stats().reconnects_after_error > 0; }));
  server_->upsert_pod(on_node("b", "ub", {"10.4.0.2"}));
  server_->compact();
  server_->set_outage(false);
  ASSERT_TRUE(eventually([&] { return resolves_to("10.4.0.2", "ub"); }));
  EXPECT_GE(reflector_->stats().relists_after_expiry, 1u);
}

TEST_F(ReflectorTest, ServiceAccountAnnotationChangeTakesEffectLive) {
  server_->upsert_pod(on_node("a", "ua", {"10.4.0.1"}));
  start_reflector();
  ASSERT_FALSE(resolve("10.4.0.1")->aws_role_arn.has_value());
  server_->upsert_service_account(FakeKubeApiServer::make_service_account(
      "apps", "default", "sa-default",
      {{config::kEksRoleArnAnnotation, "arn:aws:iam::111122223333:role/app"}}));
  ASSERT_TRUE(eventually([&] {
    auto caller = resolve("10.4.0.1");
    return caller.ok() && caller->aws_role_arn == "arn:aws:iam::111122223333:role/app";
  }));
  // A service account no local pod uses is not kept.
  server_->upsert_service_account(
      FakeKubeApiServer::make_service_account("other", "unused", "sa-unused"));
  server_->upsert_pod(on_node("marker", "um", {"10.4.0.9"}));
  ASSERT_TRUE(eventually([&] { return resolves_to("10.4.0.9", "um"); }));
  EXPECT_FALSE(index_.references("other", "unused"));
}

TEST_F(ReflectorTest, NewPodWithAServiceAccountCreatedLaterIsFetched) {
  start_reflector();
  server_->upsert_service_account(FakeKubeApiServer::make_service_account(
      "apps", "late", "sa-late",
      {{config::kGcpServiceAccountAnnotation, "late@wims-test.iam.gserviceaccount.com"}}));
  server_->upsert_pod(on_node("a", "ua", {"10.4.0.1"}, "late"));
  ASSERT_TRUE(eventually([&] { return resolves_to("10.4.0.1", "ua"); }));
  EXPECT_EQ(resolve("10.4.0.1")->google_service_account, "late@wims-test.iam.gserviceaccount.com");
}

TEST_F(ReflectorTest, ResolveOrWaitGetsANewPodOnItsFirstRequest) {
  start_reflector();
  KubeCallerResolver resolver(index_);
  boost::asio::io_context io;
  std::optional<absl::StatusOr<broker::Caller>> result;
  // A generous bound: the answer has to come from the watch event waking the waiter.
  boost::asio::co_spawn(
      io, resolver.resolve_or_wait(make_address("10.4.0.7"), absl::Seconds(60)),
      [&](std::exception_ptr, absl::StatusOr<broker::Caller> r) { result = std::move(r); });
  std::thread creator([&] { server_->upsert_pod(on_node("new", "u-new", {"10.4.0.7"})); });
  io.run();
  creator.join();
  ASSERT_TRUE(result.has_value());
  ASSERT_TRUE(result->ok()) << result->status();
  EXPECT_EQ((*result)->pod.uid, "u-new");
}

TEST_F(ReflectorTest, NewPodDuringAnOutageWaitsAndRecovers) {
  start_reflector();
  ASSERT_TRUE(eventually([&] { return server_->open_watches() == 2; }));
  server_->set_outage(true);
  ASSERT_TRUE(eventually([&] { return reflector_->stats().reconnects_after_error > 0; }));
  KubeCallerResolver resolver(index_);
  boost::asio::io_context io;
  std::optional<absl::StatusOr<broker::Caller>> result;
  boost::asio::co_spawn(
      io, resolver.resolve_or_wait(make_address("10.4.0.8"), absl::Seconds(60)),
      [&](std::exception_ptr, absl::StatusOr<broker::Caller> r) { result = std::move(r); });
  std::thread recovery([&] {
    server_->upsert_pod(on_node("late", "u-late", {"10.4.0.8"}));
    server_->set_outage(false);
  });
  io.run();
  recovery.join();
  ASSERT_TRUE(result.has_value());
  ASSERT_TRUE(result->ok()) << result->status();
  EXPECT_EQ((*result)->pod.uid, "u-late");
}

}  // namespace
}  // namespace wims::kube
