#include "metadata/container_credentials_handler.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <map>
#include <regex>

#include "metadata/caller_resolver.h"
#include "unit/metadata/aws_test_support.h"

namespace wims::metadata {
namespace {

namespace bh = boost::beast::http;
using testing::header;
using testing::make_aws_request;
using testing::run;

// Knows a fixed set of tokens; records the audiences it was asked for.
class FakeReviewer final : public ServiceAccountTokenReviewer {
 public:
  boost::asio::awaitable<absl::StatusOr<ReviewedServiceAccountToken>> review(
      std::string token, std::vector<std::string> audiences) override {
    last_audiences = audiences;
    auto it = tokens.find(token);
    if (it == tokens.end()) co_return absl::UnauthenticatedError("token signature invalid");
    co_return it->second;
  }
  std::map<std::string, ReviewedServiceAccountToken> tokens;
  std::vector<std::string> last_audiences;
};

class ContainerCredentialsTest : public ::testing::Test {
 protected:
  ContainerCredentialsTest() : world_(testing::make_aws_world()), credentials_(clock_) {
    resolver_ = *WorldCallerResolver::create(*world_);
    reviewer_.tokens["app-token"] = {"aws", "app", "app", "uid-app"};
    reviewer_.tokens["app-2-token"] = {"aws", "app", "app-2", "uid-app-2"};
    reviewer_.tokens["unbound-app-token"] = {"aws", "app", "", ""};
    reviewer_.tokens["demo-token"] = {"default", "demo", "demo", "uid-demo"};
  }

  http::Response get(ContainerCredentialsHandler& handler, const std::string& peer,
                     std::optional<std::string> authorization,
                     const std::string& target = "/v1/credentials",
                     bh::verb method = bh::verb::get) {
    std::vector<std::pair<std::string, std::string>> headers = {{"Accept", "application/json"}};
    if (authorization) headers.emplace_back("Authorization", *authorization);
    http::Request request = make_aws_request(method, target, peer, headers);
    std::optional<http::Response> response = run(handler, request);
    EXPECT_TRUE(response.has_value());
    return response ? *response : http::Response();
  }

  std::shared_ptr<config::World> world_;
  FakeClock clock_;
  testing::FakeAwsCredentials credentials_;
  std::unique_ptr<WorldCallerResolver> resolver_;
  FakeReviewer reviewer_;
};

// Checklist E32: without Authorization -> 401; with the raw token -> 200 JSON.
TEST_F(ContainerCredentialsTest, ChecklistE32) {
  ContainerCredentialsHandler handler(*resolver_, credentials_, &reviewer_);
  http::Response missing = get(handler, testing::kAwsIp, std::nullopt);
  EXPECT_EQ(missing.result_int(), 401u);
  EXPECT_EQ(header(missing, "Content-Type"), "application/json");
  boost::json::object error = boost::json::parse(missing.body()).as_object();
  EXPECT_TRUE(error.contains("Code"));
  EXPECT_TRUE(error.contains("Message"));
  EXPECT_EQ(get(handler, testing::kAwsIp, "").result_int(), 401u);

  http::Response ok = get(handler, testing::kAwsIp, "app-token");
  ASSERT_EQ(ok.result_int(), 200u) << ok.body();
  EXPECT_EQ(header(ok, "Content-Type"), "application/json");
  boost::json::object body = boost::json::parse(ok.body()).as_object();
  EXPECT_EQ(body.size(), 5u);
  EXPECT_EQ(body["AccessKeyId"], "ASIAFAKEapp");
  EXPECT_EQ(body["SecretAccessKey"], "secret\"/+=");
  EXPECT_EQ(body["Token"], "session-token-of-app");
  EXPECT_EQ(body["AccountId"], "111122223333");
  EXPECT_EQ(body["Expiration"], "2023-11-14T23:13:20Z");
  EXPECT_EQ(reviewer_.last_audiences, std::vector<std::string>{"pods.eks.amazonaws.com"});
}

TEST_F(ContainerCredentialsTest, TheTokenMustBelongToTheCallingPod) {
  ContainerCredentialsHandler handler(*resolver_, credentials_, &reviewer_);
  struct Case {
    std::string name;
    std::string peer;
    std::string token;
    unsigned status;
  };
  const std::vector<Case> cases = {
      {"own token", testing::kAwsIp, "app-token", 200},
      {"second pod's own token", testing::kAwsIp2, "app-2-token", 200},
      {"token of another pod of the same service account", testing::kAwsIp, "app-2-token", 403},
      {"token of another service account", testing::kAwsIp, "demo-token", 403},
      {"unbound token of the same service account", testing::kAwsIp, "unbound-app-token", 200},
      {"forged token", testing::kAwsIp, "forged", 401},
      {"oversized token", testing::kAwsIp, std::string(20000, 'a'), 400},
      {"unknown caller with a valid token", testing::kUnknownIp, "app-token", 403},
      {"hostNetwork caller", testing::kNodeIp, "app-token", 403},
      {"pod without a role", testing::kDemoIp, "demo-token", 404},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    http::Response r = get(handler, c.peer, c.token);
    EXPECT_EQ(r.result_int(), c.status) << r.body();
    EXPECT_EQ(header(r, "Content-Type"), "application/json");
    if (c.status != 200) {
      EXPECT_EQ(r.body().find("AccessKeyId"), std::string::npos);
    }
  }
}

TEST_F(ContainerCredentialsTest, WithoutAReviewerThePeerAddressDecides) {
  ContainerCredentialsHandler handler(*resolver_, credentials_, nullptr);
  EXPECT_EQ(get(handler, testing::kAwsIp, std::nullopt).result_int(), 401u);
  http::Response ok = get(handler, testing::kAwsIp, "anything");
  ASSERT_EQ(ok.result_int(), 200u);
  EXPECT_EQ(boost::json::parse(ok.body()).as_object()["AccessKeyId"], "ASIAFAKEapp");
  EXPECT_EQ(get(handler, testing::kUnknownIp, "anything").result_int(), 403u);
}

TEST_F(ContainerCredentialsTest, PathsMethodsAndBrokerErrors) {
  ContainerCredentialsHandler handler(*resolver_, credentials_, &reviewer_);
  EXPECT_EQ(get(handler, testing::kAwsIp, "app-token", "/v1/credentials/x").result_int(), 404u);
  http::Response post =
      get(handler, testing::kAwsIp, "app-token", "/v1/credentials", bh::verb::post);
  EXPECT_EQ(post.result_int(), 405u);
  EXPECT_EQ(header(post, "Allow"), "GET, HEAD");

  const std::vector<std::pair<absl::Status, unsigned>> cases = {
      {absl::PermissionDeniedError("denied"), 403},
      {absl::UnauthenticatedError("sts refused"), 403},
      {absl::NotFoundError("no role"), 404},
      {absl::ResourceExhaustedError("slow"), 429},
      {absl::UnavailableError("down"), 503},
      {absl::InternalError("bad"), 500},
  };
  for (const auto& [status, http_status] : cases) {
    SCOPED_TRACE(status.ToString());
    credentials_.status = status;
    http::Response r = get(handler, testing::kAwsIp, "app-token");
    EXPECT_EQ(r.result_int(), http_status);
    boost::json::object body = boost::json::parse(r.body()).as_object();
    EXPECT_EQ(std::string(body["Message"].as_string()), std::string(status.message()));
  }
}

}  // namespace
}  // namespace wims::metadata
