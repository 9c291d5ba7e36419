#include "broker/ksa_token_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/parse.hpp>

#include "common/clock.h"
#include "unit/broker/fake_http_transport.h"

namespace wims::broker {
namespace {

namespace asio = boost::asio;
using testing::FakeHttpTransport;
using testing::header;

constexpr char kApi[] = "http://127.0.0.1:6443";
constexpr char kTokenUrl[] =
    "http://127.0.0.1:6443/api/v1/namespaces/default/serviceaccounts/demo/token";
constexpr char kOkBody[] =
    R"({"kind":"TokenRequest","apiVersion":"authentication.k8s.io/v1","spec":{},)"
    R"("status":{"token":"ksa.jwt.token","expirationTimestamp":"2023-11-14T23:13:20Z"}})";

Caller demo_caller(std::string pod_uid = "pod-uid-1") {
  Caller caller;
  caller.pod.namespace_name = "default";
  caller.pod.name = "demo-7d9f";
  caller.pod.uid = std::move(pod_uid);
  caller.pod.service_account_name = "demo";
  caller.service_account.namespace_name = "default";
  caller.service_account.name = "demo";
  caller.service_account.uid = "sa-uid";
  return caller;
}

class KsaTokenSourceTest : public ::testing::Test {
 protected:
  // FakeClock starts at 1700000000 = 2023-11-14T22:13:20Z; kOkBody expires an hour later.
  FakeClock clock_;
  FakeHttpTransport transport_;
  std::vector<std::pair<std::string, int>> calls_;

  std::unique_ptr<TokenRequestKsaTokenSource> make_source(BearerTokenProvider bearer = [] {
    return absl::StatusOr<std::string>("admin-token");
  }) {
    TokenRequestKsaTokenSource::Options options;
    options.api_url = kApi;
    return std::make_unique<TokenRequestKsaTokenSource>(
        options, transport_, std::move(bearer), clock_,
        [this](std::string_view service, int status) {
          calls_.emplace_back(std::string(service), status);
        });
  }

  absl::StatusOr<std::string> token(KsaTokenSource& source, Caller caller, std::string audience) {
    asio::io_context io;
    auto future =
        asio::co_spawn(io, run(source, std::move(caller), std::move(audience)), asio::use_future);
    io.run();
    return future.get();
  }

 private:
  static asio::awaitable<absl::StatusOr<std::string>> run(KsaTokenSource& source, Caller caller,
                                                          std::string audience) {
    co_return co_await source.token(caller, std::move(audience));
  }
};

TEST_F(KsaTokenSourceTest, SendsTheTokenRequestTheApiServerExpects) {
  transport_.on("/token", 201, kOkBody);
  auto source = make_source();
  absl::StatusOr<std::string> token = this->token(*source, demo_caller(), "wims-local.svc.id.goog");
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(*token, "ksa.jwt.token");

  auto requests = transport_.requests();
  ASSERT_EQ(requests.size(), 1u);
  const TransportRequest& r = requests[0];
  EXPECT_EQ(r.method, boost::beast::http::verb::post);
  EXPECT_EQ(r.url, kTokenUrl);
  EXPECT_EQ(header(r, "Authorization"), "Bearer admin-token");
  EXPECT_EQ(header(r, "Content-Type"), "application/json");
  EXPECT_EQ(boost::json::parse(r.body), boost::json::parse(R"({
      "apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest",
      "spec":{"audiences":["wims-local.svc.id.goog"],"expirationSeconds":3600,
              "boundObjectRef":{"kind":"Pod","apiVersion":"v1","name":"demo-7d9f","uid":"pod-uid-1"}}})"));
  EXPECT_THAT(calls_, ::testing::ElementsAre(std::pair<std::string, int>("kubernetes", 201)));
}

TEST_F(KsaTokenSourceTest, EmptyBearerSendsNoAuthorization) {
  transport_.on("/token", 201, kOkBody);
  auto source = make_source([] { return absl::StatusOr<std::string>(""); });
  ASSERT_TRUE(token(*source, demo_caller(), "aud").ok());
  EXPECT_EQ(header(transport_.requests().at(0), "Authorization"), std::nullopt);
}

TEST_F(KsaTokenSourceTest, BearerProviderErrorIsReturnedWithoutCallingTheApi) {
  auto source = make_source(
      [] { return absl::StatusOr<std::string>(absl::UnavailableError("no admin token")); });
  EXPECT_EQ(token(*source, demo_caller(), "aud").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(transport_.requests().empty());
}

TEST_F(KsaTokenSourceTest, CachesPerPodUidAndAudience) {
  transport_.on("/token", 201, kOkBody);
  auto source = make_source();
  ASSERT_TRUE(token(*source, demo_caller(), "a").ok());
  ASSERT_TRUE(token(*source, demo_caller(), "a").ok());
  EXPECT_EQ(transport_.requests().size(), 1u);
  ASSERT_TRUE(token(*source, demo_caller(), "b").ok());
  EXPECT_EQ(transport_.requests().size(), 2u);
  ASSERT_TRUE(
      token(*source, demo_caller("pod-uid-2"), "a").ok());  // re-created pod: new bound token
  EXPECT_EQ(transport_.requests().size(), 3u);
  EXPECT_EQ(source->cache_stats().hits, 1u);
}

TEST_F(KsaTokenSourceTest, MapsUpstreamAnswersToStatus) {
  struct Case {
    const char* name;
    int status;  // 0: transport failure
    std::string body;
    absl::StatusCode want;
  };
  const std::vector<Case> cases = {
      {"forbidden", 403, R"({"kind":"Status","message":"serviceaccounts \"demo\" is forbidden"})",
       absl::StatusCode::kPermissionDenied},
      {"unauthorized", 401, R"({"kind":"Status","message":"Unauthorized"})",
       absl::StatusCode::kPermissionDenied},
      {"unknown service account", 404,
       R"({"kind":"Status","message":"serviceaccounts \"demo\" not found"})",
       absl::StatusCode::kNotFound},
      {"uid mismatch", 409,
       R"({"kind":"Status","message":"the UID in the bound object reference"})",
       absl::StatusCode::kFailedPrecondition},
      {"validation", 422,
       R"({"kind":"Status","message":"may not specify a duration less than 10 minutes"})",
       absl::StatusCode::kFailedPrecondition},
      {"throttled", 429, "{}", absl::StatusCode::kResourceExhausted},
      {"server error", 503, "upstream connect error", absl::StatusCode::kUnavailable},
      {"no response", 0, "", absl::StatusCode::kUnavailable},
      {"malformed json", 201, "{not json", absl::StatusCode::kInternal},
      {"no status", 201, R"({"kind":"TokenRequest"})", absl::StatusCode::kInternal},
      {"no token", 201, R"({"status":{"expirationTimestamp":"2023-11-14T23:13:20Z"}})",
       absl::StatusCode::kInternal},
      {"bad timestamp", 201, R"({"status":{"token":"t","expirationTimestamp":"tomorrow"}})",
       absl::StatusCode::kInternal},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    if (c.status == 0) {
      transport_.fail("/token", absl::DeadlineExceededError("connect timed out"));
    } else {
      transport_.on("/token", c.status, c.body);
    }
    auto source = make_source();
    absl::StatusOr<std::string> token = this->token(*source, demo_caller(), "aud");
    EXPECT_EQ(token.status().code(), c.want) << token.status();
  }
}

TEST_F(KsaTokenSourceTest, ForbiddenCarriesTheApiServerMessage) {
  transport_.on("/token", 403,
                R"({"kind":"Status","message":"serviceaccounts \"demo\" is forbidden"})");
  auto source = make_source();
  absl::StatusOr<std::string> token = this->token(*source, demo_caller(), "aud");
  EXPECT_THAT(std::string(token.status().message()),
              ::testing::HasSubstr("serviceaccounts \"demo\" is forbidden"));
}

}  // namespace
}  // namespace wims::broker
