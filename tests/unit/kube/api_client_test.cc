#include "kube/api_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fakes/fake_kube_api_server.h"
#include "unit/kube/test_support.h"

namespace wims::kube {
namespace {

using fakes::FakeKubeApiServer;
using fakes::FakePodSpec;
using ::testing::HasSubstr;
using testing::run_coroutine;

class ApiClientTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    server_ = std::make_unique<FakeKubeApiServer>(fakes::FakeKubeApiServerOptions{
        .listen_host = GetParam(), .required_token = "admin-token"});
    ASSERT_TRUE(server_->start().ok());
    auto client =
        ApiClient::create(KubeConfig{.server = server_->url(), .bearer_token = "admin-token"});
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
  }

  std::unique_ptr<FakeKubeApiServer> server_;
  std::unique_ptr<ApiClient> client_;
};

INSTANTIATE_TEST_SUITE_P(Loopback, ApiClientTest, ::testing::Values("127.0.0.1", "::1"));

TEST_P(ApiClientTest, ServerVersionAndTheMinimum) {
  absl::StatusOr<ServerVersion> version = run_coroutine(client_->server_version());
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(version->major, 1);
  EXPECT_EQ(version->minor, 30);
  EXPECT_TRUE(check_server_version(*version).ok());
  absl::Status old = check_server_version(ServerVersion{1, 23, "v1.23.17"});
  EXPECT_EQ(old.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(old.message()), HasSubstr("1.24 or newer"));
  EXPECT_TRUE(check_server_version(ServerVersion{1, 24, "v1.24.0"}).ok());
}

TEST_P(ApiClientTest, WrongTokenIsUnauthenticated) {
  auto client = ApiClient::create(KubeConfig{.server = server_->url(), .bearer_token = "wrong"});
  ASSERT_TRUE(client.ok());
  EXPECT_EQ(run_coroutine((*client)->server_version()).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_P(ApiClientTest, ListsWithFieldSelectorAndPages) {
  for (int i = 0; i < 5; ++i) {
    server_->upsert_pod(FakePodSpec{.name = "p" + std::to_string(i),
                                    .uid = "u" + std::to_string(i),
                                    .node_name = i % 2 == 0 ? "n1" : "n2"});
  }
  absl::StatusOr<ObjectList> n1 = run_coroutine(
      client_->list("/api/v1/pods", ListOptions{.field_selector = "spec.nodeName=n1"}));
  ASSERT_TRUE(n1.ok()) << n1.status();
  EXPECT_EQ(n1->items.size(), 3u);
  EXPECT_EQ(n1->resource_version, std::to_string(server_->resource_version()));
  // Pages of two.
  std::vector<std::string> names;
  ListOptions options{.limit = 2};
  int pages = 0;
  do {
    absl::StatusOr<ObjectList> page = run_coroutine(client_->list("/api/v1/pods", options));
    ASSERT_TRUE(page.ok()) << page.status();
    for (const auto& item : page->items)
      names.emplace_back(item.at("metadata").at("name").as_string());
    options.continue_token = page->continue_token;
    ASSERT_LT(++pages, 10);
  } while (!options.continue_token.empty());
  EXPECT_EQ(pages, 3);
  EXPECT_THAT(names, ::testing::ElementsAre("p0", "p1", "p2", "p3", "p4"));
  absl::StatusOr<ObjectList> bad = run_coroutine(
      client_->list("/api/v1/pods", ListOptions{.field_selector = "status.phase=Running"}));
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
}

boost::asio::awaitable<std::vector<WatchEvent>> read_events(ApiClient& client, WatchOptions options,
                                                            size_t count) {
  std::vector<WatchEvent> events;
  absl::StatusOr<std::unique_ptr<WatchStream>> stream =
      co_await client.watch("/api/v1/pods", options);
  if (!stream.ok()) co_return events;
  while (events.size() < count) {
    absl::StatusOr<std::optional<WatchEvent>> event = co_await (*stream)->next();
    if (!event.ok() || !event->has_value()) break;
    events.push_back(**std::move(event));
  }
  co_return events;
}

TEST_P(ApiClientTest, WatchStreamsEventsFromTheResourceVersion) {
  server_->upsert_pod(FakePodSpec{.name = "a", .uid = "ua", .node_name = "n1"});
  const std::string rv = std::to_string(server_->resource_version());
  server_->upsert_pod(FakePodSpec{.name = "b", .uid = "ub", .node_name = "n1"});
  server_->upsert_pod(FakePodSpec{.name = "c", .uid = "uc", .node_name = "n2"});  // filtered out
  server_->upsert_pod(
      FakePodSpec{.name = "b", .uid = "ub", .node_name = "n1", .phase = "Succeeded"});
  server_->bookmark();
  server_->delete_pod("default", "a");
  std::vector<WatchEvent> events = run_coroutine(read_events(
      *client_, WatchOptions{.field_selector = "spec.nodeName=n1", .resource_version = rv}, 4));
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].type, WatchEventType::kAdded);
  EXPECT_EQ(events[1].type, WatchEventType::kModified);
  EXPECT_EQ(events[2].type, WatchEventType::kBookmark);
  // A bookmark carries only metadata.resourceVersion.
  EXPECT_EQ(events[2].object.at("metadata").as_object().size(), 1u);
  EXPECT_FALSE(events[2].resource_version.empty());
  EXPECT_EQ(events[3].type, WatchEventType::kDeleted);
  EXPECT_EQ(events[3].resource_version, std::to_string(server_->resource_version()));
}

TEST_P(ApiClientTest, TooOldResourceVersionIsAn410ErrorEvent) {
  server_->upsert_pod(FakePodSpec{.name = "a", .uid = "ua", .node_name = "n1"});
  server_->upsert_pod(FakePodSpec{.name = "b", .uid = "ub", .node_name = "n1"});
  server_->compact();
  std::vector<WatchEvent> events =
      run_coroutine(read_events(*client_, WatchOptions{.resource_version = "1001"}, 1));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, WatchEventType::kError);
  EXPECT_EQ(events[0].object.at("reason").as_string(), "Expired");
  EXPECT_EQ(events[0].object.at("code").as_int64(), 410);
  absl::Status status = status_from_kube_status(events[0].object, 200);
  EXPECT_TRUE(is_expired(status)) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("too old resource version"));
}

TEST_P(ApiClientTest, TokenRequestValidationTable) {
  server_->upsert_service_account(FakeKubeApiServer::make_service_account("apps", "web", "sa-uid"));
  server_->upsert_service_account(
      FakeKubeApiServer::make_service_account("apps", "other", "sa-uid-2"));
  server_->upsert_pod(FakePodSpec{.namespace_name = "apps",
                                  .name = "p",
                                  .uid = "pod-uid",
                                  .node_name = "n1",
                                  .service_account = "web"});
  struct Case {
    std::string name;
    std::string service_account;
    TokenRequestSpec spec;
    absl::StatusCode code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"bound to the pod",
       "web",
       {{"wims-test.svc.id.goog"}, 3600, "p", "pod-uid"},
       absl::StatusCode::kOk,
       ""},
      {"unbound, default audience", "web", {{}, 600, "", ""}, absl::StatusCode::kOk, ""},
      {"under ten minutes",
       "web",
       {{"a"}, 599, "p", "pod-uid"},
       absl::StatusCode::kInvalidArgument,
       "may not specify a duration less than 10 minutes"},
      {"over 2^32 seconds",
       "web",
       {{"a"}, (int64_t{1} << 32) + 1, "", ""},
       absl::StatusCode::kInvalidArgument,
       "larger than 2^32"},
      {"pod of another service account",
       "other",
       {{"a"}, 3600, "p", "pod-uid"},
       absl::StatusCode::kInvalidArgument,
       "cannot bind token for serviceaccount \"other\" to pod running with "
       "serviceaccount \"web\""},
      {"uid mismatch",
       "web",
       {{"a"}, 3600, "p", "stale-uid"},
       absl::StatusCode::kAlreadyExists,
       "does not match the UID in record"},
      {"unknown service account",
       "nope",
       {{"a"}, 3600, "", ""},
       absl::StatusCode::kNotFound,
       "not found"},
      {"unknown pod",
       "web",
       {{"a"}, 3600, "gone", "x"},
       absl::StatusCode::kNotFound,
       "pods \"gone\" not found"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<IssuedToken> token =
        run_coroutine(client_->request_token("apps", c.service_account, c.spec));
    ASSERT_EQ(token.status().code(), c.code) << token.status();
    if (token.ok()) {
      EXPECT_FALSE(token->token.empty());
      EXPECT_GT(token->expiration, absl::Now());
    } else {
      EXPECT_THAT(std::string(token.status().message()), HasSubstr(c.message));
    }
  }
}

TEST(ApiClientCreateTest, RefusesWhatTheHttpClientCannotHonour) {
  EXPECT_EQ(ApiClient::create(KubeConfig{.server = "https://a", .insecure_skip_tls_verify = true})
                .status()
                .code(),
            absl::StatusCode::kUnimplemented);
  EXPECT_EQ(
      ApiClient::create(KubeConfig{.server = "https://a", .tls_server_name = "b"}).status().code(),
      absl::StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace wims::kube
