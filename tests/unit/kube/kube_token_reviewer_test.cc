#include "kube/kube_token_reviewer.h"

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

constexpr char kAudience[] = "pods.eks.amazonaws.com";

TEST(KubeTokenReviewerTest, ReviewTableThroughTheApiServer) {
  FakeKubeApiServer server({.required_token = "admin-token"});
  ASSERT_TRUE(server.start().ok());
  auto client =
      ApiClient::create(KubeConfig{.server = server.url(), .bearer_token = "admin-token"});
  ASSERT_TRUE(client.ok()) << client.status();
  server.upsert_service_account(FakeKubeApiServer::make_service_account("apps", "web", "sa-uid"));
  server.upsert_pod(FakePodSpec{.namespace_name = "apps",
                                .name = "p",
                                .uid = "pod-uid",
                                .node_name = "n1",
                                .service_account = "web"});
  server.upsert_pod(FakePodSpec{.namespace_name = "apps",
                                .name = "q",
                                .uid = "pod-uid-q",
                                .node_name = "n1",
                                .service_account = "web"});
  auto mint = [&](std::string pod, std::string uid) {
    absl::StatusOr<IssuedToken> issued = run_coroutine((*client)->request_token(
        "apps", "web", {{kAudience}, 3600, std::move(pod), std::move(uid)}));
    EXPECT_TRUE(issued.ok()) << issued.status();
    return issued.ok() ? issued->token : std::string();
  };
  const std::string bound_to_p = mint("p", "pod-uid");
  const std::string bound_to_q = mint("q", "pod-uid-q");
  const std::string unbound = mint("", "");
  ASSERT_TRUE(server.delete_pod("apps", "q"));

  KubeTokenReviewer reviewer(**client);
  struct Case {
    std::string name;
    std::string token;
    std::vector<std::string> audiences;
    absl::StatusCode code;
    std::string pod_uid_or_message;
  };
  const std::vector<Case> cases = {
      {"pod-bound token", bound_to_p, {kAudience}, absl::StatusCode::kOk, "pod-uid"},
      {"unbound token", unbound, {kAudience}, absl::StatusCode::kOk, ""},
      {"another audience",
       bound_to_p,
       {"sts.amazonaws.com"},
       absl::StatusCode::kUnauthenticated,
       "audiences"},
      {"bound pod deleted",
       bound_to_q,
       {kAudience},
       absl::StatusCode::kUnauthenticated,
       "invalidated"},
      {"not a token",
       "garbage",
       {kAudience},
       absl::StatusCode::kUnauthenticated,
       "invalid bearer token"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<metadata::ReviewedServiceAccountToken> reviewed =
        run_coroutine(reviewer.review(c.token, c.audiences));
    ASSERT_EQ(reviewed.status().code(), c.code) << reviewed.status();
    if (reviewed.ok()) {
      EXPECT_EQ(reviewed->namespace_name, "apps");
      EXPECT_EQ(reviewed->service_account, "web");
      EXPECT_EQ(reviewed->pod_uid, c.pod_uid_or_message);
      EXPECT_EQ(reviewed->pod_name, c.pod_uid_or_message.empty() ? "" : "p");
    } else {
      EXPECT_THAT(std::string(reviewed.status().message()), HasSubstr(c.pod_uid_or_message));
    }
  }
  EXPECT_EQ(server.token_reviews(), cases.size());
}

TEST(KubeTokenReviewerTest, OnlyServiceAccountUsersAreAccepted) {
  for (const std::string username : {"system:node:n1", "alice", "system:serviceaccount:apps"}) {
    SCOPED_TRACE(username);
    EXPECT_EQ(reviewed_subject({.authenticated = true, .username = username}).status().code(),
              absl::StatusCode::kUnauthenticated);
  }
  EXPECT_EQ(reviewed_subject({.authenticated = false, .error = "expired"}).status().message(),
            "expired");
}

TEST(KubeTokenReviewerTest, ApiErrorsAreNotAuthenticationFailures) {
  FakeKubeApiServer server({.required_token = "admin-token"});
  ASSERT_TRUE(server.start().ok());
  auto client = ApiClient::create(KubeConfig{.server = server.url(), .bearer_token = "wrong"});
  ASSERT_TRUE(client.ok());
  KubeTokenReviewer reviewer(**client);
  // The node's own credentials are refused: the caller's token was never judged.
  absl::StatusOr<metadata::ReviewedServiceAccountToken> refused =
      run_coroutine(reviewer.review("t", {kAudience}));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("TokenReview is not available"));
  server.stop();
  EXPECT_EQ(run_coroutine(reviewer.review("t", {kAudience})).status().code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace wims::kube
