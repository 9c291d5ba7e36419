#include "broker/google_broker.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/url.hpp>
#include <map>

#include "common/clock.h"
#include "common/encoding.h"
#include "unit/broker/fake_http_transport.h"
#include "unit/broker/fake_ksa_token_source.h"

namespace wims::broker {
namespace {

namespace asio = boost::asio;
using testing::FakeHttpTransport;
using testing::FakeKsaTokenSource;
using testing::form_fields;
using ::testing::HasSubstr;
using testing::header;

constexpr char kPool[] = "wims-local.svc.id.goog";
constexpr char kClusterUrl[] =
    "https://container.googleapis.com/v1/projects/wims-local/locations/us-central1-a/clusters/wims";
constexpr char kCloud[] = "http://127.0.0.1:41235";
constexpr char kGsa[] = "demo@wims-local.iam.gserviceaccount.com";
constexpr char kStsOk[] =
    R"({"access_token":"federated-1","issued_token_type":"urn:ietf:params:oauth:token-type:access_token",)"
    R"("token_type":"Bearer","expires_in":3599})";
// FakeClock starts at 2023-11-14T22:13:20Z.
constexpr char kIamOk[] = R"({"accessToken":"gsa-token-1","expireTime":"2023-11-14T23:13:20Z"})";

// Records the KSA token requests the broker makes.
Caller caller_for(std::string ksa, std::optional<std::string> gsa) {
  Caller caller;
  caller.pod.namespace_name = "default";
  caller.pod.name = ksa + "-pod";
  caller.pod.uid = ksa + "-pod-uid";
  caller.pod.service_account_name = ksa;
  caller.service_account.namespace_name = "default";
  caller.service_account.name = ksa;
  caller.service_account.uid = ksa + "-uid";
  caller.google_service_account = std::move(gsa);
  return caller;
}

std::string jwt_with_exp(absl::Time exp) {
  return base64url_encode(R"({"alg":"RS256","kid":"k1"})") + "." +
         base64url_encode(
             fmt::format(R"({{"aud":"https://svc","exp":{}}})", absl::ToUnixSeconds(exp))) +
         ".sig";
}

class GoogleBrokerTest : public ::testing::Test {
 protected:
  GoogleBrokerTest() {
    GoogleBrokerOptions options;
    options.sts_url = kCloud;
    options.iam_credentials_url = kCloud;
    options.project_number = 123456789012;
    options.pool = kPool;
    options.cluster_url = kClusterUrl;
    broker_ = std::make_unique<GoogleBroker>(
        options, ksa_, transport_, clock_, [this](std::string_view service, int status) {
          upstream_calls_.emplace_back(std::string(service), status);
        });
  }

  absl::StatusOr<AccessToken> access_token(Caller caller, std::vector<std::string> scopes) {
    asio::io_context io;
    auto future = asio::co_spawn(io, run_access(*broker_, std::move(caller), std::move(scopes)),
                                 asio::use_future);
    io.run();
    return future.get();
  }
  absl::StatusOr<std::string> id_token(Caller caller, IdTokenOptions options) {
    asio::io_context io;
    auto future = asio::co_spawn(io, run_id(*broker_, std::move(caller), std::move(options)),
                                 asio::use_future);
    io.run();
    return future.get();
  }

  static asio::awaitable<absl::StatusOr<AccessToken>> run_access(GoogleBroker& broker,
                                                                 Caller caller,
                                                                 std::vector<std::string> scopes) {
    co_return co_await broker.access_token(caller, std::move(scopes));
  }

  FakeClock clock_;
  FakeHttpTransport transport_;
  FakeKsaTokenSource ksa_;
  std::vector<std::pair<std::string, int>> upstream_calls_;
  std::unique_ptr<GoogleBroker> broker_;

 private:
  static asio::awaitable<absl::StatusOr<std::string>> run_id(GoogleBroker& broker, Caller caller,
                                                             IdTokenOptions options) {
    co_return co_await broker.id_token(caller, std::move(options));
  }
};

TEST_F(GoogleBrokerTest, WithoutGoogleServiceAccountReturnsFederatedTokenFromStsExchange) {
  transport_.on("/v1/token", 200, kStsOk);
  absl::StatusOr<AccessToken> token = access_token(caller_for("demo", std::nullopt), {});
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(token->token, "federated-1");
  EXPECT_EQ(token->expiry, clock_.now() + absl::Seconds(3599));

  ASSERT_EQ(ksa_.calls.size(), 1u);
  EXPECT_EQ(ksa_.calls[0], std::make_pair(std::string("demo-pod"), std::string(kPool)));

  auto requests = transport_.requests();
  ASSERT_EQ(requests.size(), 1u);
  const TransportRequest& sts = requests[0];
  EXPECT_EQ(sts.method, boost::beast::http::verb::post);
  EXPECT_EQ(sts.url, std::string(kCloud) + "/v1/token");
  EXPECT_EQ(header(sts, "Authorization"), std::nullopt) << "STS takes no Authorization header";
  EXPECT_EQ(header(sts, "Content-Type"), "application/x-www-form-urlencoded");
  std::map<std::string, std::string> want = {
      {"grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"},
      {"audience", std::string("identitynamespace:") + kPool + ":" + kClusterUrl},
      {"subject_token_type", "urn:ietf:params:oauth:token-type:jwt"},
      {"requested_token_type", "urn:ietf:params:oauth:token-type:access_token"},
      {"scope", "https://www.googleapis.com/auth/cloud-platform"},
      {"subject_token", "ksa-token-for-demo-pod"},
  };
  EXPECT_EQ(form_fields(sts.body), want);
  EXPECT_THAT(upstream_calls_, ::testing::ElementsAre(std::pair<std::string, int>("sts", 200)));
}

TEST_F(GoogleBrokerTest, WorkloadIdentityProviderSetsBothAudiences) {
  GoogleBrokerOptions options = broker_->options();
  options.workload_identity_provider =
      "projects/123456789012/locations/global/workloadIdentityPools/onprem/providers/k8s";
  broker_ = std::make_unique<GoogleBroker>(options, ksa_, transport_, clock_);
  transport_.on("/v1/token", 200, kStsOk);
  ASSERT_TRUE(access_token(caller_for("demo", std::nullopt), {}).ok());
  ASSERT_EQ(ksa_.calls.size(), 1u);
  EXPECT_EQ(ksa_.calls[0].second,
            "https://iam.googleapis.com/projects/123456789012/locations/global/"
            "workloadIdentityPools/onprem/providers/k8s");
  ASSERT_EQ(transport_.requests().size(), 1u);
  EXPECT_EQ(form_fields(transport_.requests()[0].body)["audience"],
            "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/"
            "onprem/providers/k8s");
}

TEST_F(GoogleBrokerTest, FederatedTokenCarriesRequestedScopesSpaceSeparated) {
  transport_.on("/v1/token", 200, kStsOk);
  ASSERT_TRUE(access_token(caller_for("demo", std::nullopt),
                           {"https://www.googleapis.com/auth/userinfo.email",
                            "https://www.googleapis.com/auth/cloud-platform"})
                  .ok());
  EXPECT_EQ(form_fields(transport_.requests().at(0).body)["scope"],
            "https://www.googleapis.com/auth/userinfo.email "
            "https://www.googleapis.com/auth/cloud-platform");
}

TEST_F(GoogleBrokerTest, ImpersonatesAnnotatedGoogleServiceAccount) {
  transport_.on("/v1/token", 200, kStsOk);
  transport_.on(":generateAccessToken", 200, kIamOk);
  absl::StatusOr<AccessToken> token = access_token(
      caller_for("demo", kGsa), {"https://www.googleapis.com/auth/devstorage.read_only"});
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(token->token, "gsa-token-1");
  EXPECT_EQ(token->expiry, clock_.now() + absl::Hours(1));

  auto sts = transport_.requests_to("/v1/token");
  ASSERT_EQ(sts.size(), 1u);
  EXPECT_EQ(form_fields(sts[0].body)["scope"], kCloudPlatformScope)
      << "exchange for cloud-platform, narrow later";

  auto iam = transport_.requests_to(":generateAccessToken");
  ASSERT_EQ(iam.size(), 1u);
  EXPECT_EQ(iam[0].url, std::string(kCloud) + "/v1/projects/-/serviceAccounts/" + kGsa +
                            ":generateAccessToken");
  EXPECT_EQ(header(iam[0], "Authorization"), "Bearer federated-1");
  EXPECT_EQ(header(iam[0], "Content-Type"), "application/json");
  EXPECT_EQ(
      boost::json::parse(iam[0].body),
      boost::json::parse(
          R"({"scope":["https://www.googleapis.com/auth/devstorage.read_only"],"lifetime":"3600s"})"));
  EXPECT_THAT(upstream_calls_,
              ::testing::ElementsAre(std::pair<std::string, int>("sts", 200),
                                     std::pair<std::string, int>("iamcredentials", 200)));
}

TEST_F(GoogleBrokerTest, CachesPerIdentityAndScopeSetAndReusesFederatedToken) {
  transport_.on("/v1/token", 200, kStsOk);
  transport_.on(":generateAccessToken", 200, kIamOk);
  ASSERT_TRUE(access_token(caller_for("demo", kGsa), {"a", "b"}).ok());
  ASSERT_TRUE(access_token(caller_for("demo", kGsa), {"b", "a"}).ok());  // same set
  EXPECT_EQ(transport_.requests().size(), 2u);
  ASSERT_TRUE(
      access_token(caller_for("demo", kGsa), {"c"}).ok());  // new set: new IAM call, same federated
  EXPECT_EQ(transport_.requests_to("/v1/token").size(), 1u);
  EXPECT_EQ(transport_.requests_to(":generateAccessToken").size(), 2u);
  // Another KSA bound to the same GSA: IAM must authorize it separately, so nothing is shared.
  ASSERT_TRUE(access_token(caller_for("other", kGsa), {"a", "b"}).ok());
  EXPECT_EQ(transport_.requests_to("/v1/token").size(), 2u);
  EXPECT_EQ(transport_.requests_to(":generateAccessToken").size(), 3u);
  GoogleBrokerStats stats = broker_->stats();
  EXPECT_EQ(stats.access.hits, 1u);
  EXPECT_EQ(stats.access.misses, 3u);
}

TEST_F(GoogleBrokerTest, RefetchesWhenLessThanFiveMinutesWouldRemain) {
  transport_.on("/v1/token", 200, kStsOk);
  ASSERT_TRUE(access_token(caller_for("demo", std::nullopt), {}).ok());
  clock_.advance(absl::Seconds(3599) - absl::Minutes(5) + absl::Seconds(1));
  transport_.on("/v1/token", 200,
                R"({"access_token":"federated-2","token_type":"Bearer","expires_in":"3599"})");
  absl::StatusOr<AccessToken> token = access_token(caller_for("demo", std::nullopt), {});
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(token->token, "federated-2");
  EXPECT_GE(token->expiry - clock_.now(), absl::Minutes(5));
}

TEST_F(GoogleBrokerTest, IdTokenIsNotFoundWithoutGoogleServiceAccount) {
  absl::StatusOr<std::string> token =
      id_token(caller_for("demo", std::nullopt), {.audience = "https://svc"});
  EXPECT_EQ(token.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(transport_.requests().empty());
}

TEST_F(GoogleBrokerTest, IdTokenRequiresAudience) {
  EXPECT_EQ(id_token(caller_for("demo", kGsa), {}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(GoogleBrokerTest, IdTokenCallsGenerateIdTokenAndCachesUntilShortlyBeforeExp) {
  std::string jwt = jwt_with_exp(clock_.now() + absl::Hours(1));
  transport_.on("/v1/token", 200, kStsOk);
  transport_.on(":generateIdToken", 200,
                boost::json::serialize(boost::json::object{{"token", jwt}}));
  absl::StatusOr<std::string> token =
      id_token(caller_for("demo", kGsa), {.audience = "https://svc", .full_format = true});
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(*token, jwt);
  auto iam = transport_.requests_to(":generateIdToken");
  ASSERT_EQ(iam.size(), 1u);
  EXPECT_EQ(iam[0].url,
            std::string(kCloud) + "/v1/projects/-/serviceAccounts/" + kGsa + ":generateIdToken");
  EXPECT_EQ(header(iam[0], "Authorization"), "Bearer federated-1");
  EXPECT_EQ(boost::json::parse(iam[0].body),
            boost::json::parse(R"({"audience":"https://svc","includeEmail":true})"));

  ASSERT_TRUE(
      id_token(caller_for("demo", kGsa), {.audience = "https://svc", .full_format = true}).ok());
  EXPECT_EQ(transport_.requests_to(":generateIdToken").size(), 1u);
  // The standard format is a different token.
  ASSERT_TRUE(id_token(caller_for("demo", kGsa), {.audience = "https://svc"}).ok());
  EXPECT_EQ(transport_.requests_to(":generateIdToken").size(), 2u);
  EXPECT_EQ(boost::json::parse(transport_.requests_to(":generateIdToken")[1].body),
            boost::json::parse(R"({"audience":"https://svc","includeEmail":false})"));

  clock_.advance(absl::Minutes(55) +
                 absl::Seconds(1));  // under 5 minutes left on the cached ID token
  // An upstream that keeps answering with the old token (4 min 59 s left) is refused, never served.
  EXPECT_EQ(id_token(caller_for("demo", kGsa), {.audience = "https://svc", .full_format = true})
                .status()
                .code(),
            absl::StatusCode::kUnavailable);
  clock_.advance(absl::Seconds(5));  // past the negative-cache window
  transport_.on(":generateIdToken", 200,
                boost::json::serialize(
                    boost::json::object{{"token", jwt_with_exp(clock_.now() + absl::Hours(1))}}));
  ASSERT_TRUE(
      id_token(caller_for("demo", kGsa), {.audience = "https://svc", .full_format = true}).ok());
  EXPECT_EQ(transport_.requests_to(":generateIdToken").size(), 4u);
}

TEST_F(GoogleBrokerTest, FullFormatSendsTheNodeFactsToTheEmbeddedCloudOnly) {
  GoogleBrokerOptions options = broker_->options();
  options.compute_engine = ComputeEngineFacts{.project_id = "wims-local",
                                              .project_number = 123456789012,
                                              .zone = "us-central1-a",
                                              .instance_id = "42",
                                              .instance_name = "node-1",
                                              .instance_creation_timestamp = 1700000000,
                                              .license_ids = {"1001"}};
  broker_ = std::make_unique<GoogleBroker>(options, ksa_, transport_, clock_);
  transport_.on("/v1/token", 200, kStsOk);
  transport_.on(":generateIdToken", 200,
                boost::json::serialize(
                    boost::json::object{{"token", jwt_with_exp(clock_.now() + absl::Hours(1))}}));

  ASSERT_TRUE(
      id_token(caller_for("demo", kGsa), {.audience = "https://svc", .full_format = true}).ok());
  ASSERT_TRUE(id_token(caller_for("demo", kGsa),
                       {.audience = "https://svc", .full_format = true, .include_licenses = true})
                  .ok());
  ASSERT_TRUE(id_token(caller_for("demo", kGsa), {.audience = "https://svc"}).ok());
  auto iam = transport_.requests_to(":generateIdToken");
  ASSERT_EQ(iam.size(), 3u);  // licenses=TRUE is a different token, not the cached one
  EXPECT_EQ(boost::json::parse(iam[0].body),
            boost::json::parse(R"({"audience":"https://svc","includeEmail":true,
      "wimsComputeEngine":{"project_id":"wims-local","project_number":123456789012,"zone":"us-central1-a",
      "instance_id":"42","instance_name":"node-1","instance_creation_timestamp":1700000000}})"));
  EXPECT_EQ(boost::json::parse(iam[1].body),
            boost::json::parse(R"({"audience":"https://svc","includeEmail":true,
      "wimsLicenses":true,
      "wimsComputeEngine":{"project_id":"wims-local","project_number":123456789012,"zone":"us-central1-a",
      "instance_id":"42","instance_name":"node-1","instance_creation_timestamp":1700000000,
      "license_id":["1001"]}})"));
  // The standard format never carries the claims.
  EXPECT_EQ(boost::json::parse(iam[2].body),
            boost::json::parse(R"({"audience":"https://svc","includeEmail":false})"));
}

TEST_F(GoogleBrokerTest, MapsUpstreamErrors) {
  struct Case {
    const char* name;
    const char* route;  // which upstream misbehaves
    int status;         // 0: no response
    std::string body;
    absl::StatusCode want;
    std::string message;  // expected substring
  };
  const std::string iam_denied =
      R"({"error":{"code":403,"message":"Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).","status":"PERMISSION_DENIED"}})";
  const std::vector<Case> cases = {
      {"iam 403", ":generateAccessToken", 403, iam_denied, absl::StatusCode::kPermissionDenied,
       "Permission 'iam.serviceAccounts.getAccessToken' denied"},
      {"sts invalid_grant", "/v1/token", 400,
       R"({"error":"invalid_grant","error_description":"token expired"})",
       absl::StatusCode::kPermissionDenied, "invalid_grant: token expired"},
      {"sts unauthorized_client", "/v1/token", 400,
       R"({"error":"unauthorized_client","error_description":"The given credential is rejected by the attribute condition."})",
       absl::StatusCode::kPermissionDenied, "rejected by the attribute condition"},
      {"sts throttled", "/v1/token", 429,
       "[Security Token Service] The request was throttled due to rate limit. Please retry after a "
       "few seconds.",
       absl::StatusCode::kResourceExhausted, "throttled"},
      {"iam 429", ":generateAccessToken", 429, "{}", absl::StatusCode::kResourceExhausted,
       "iamcredentials"},
      {"sts 500", "/v1/token", 500, "oops", absl::StatusCode::kUnavailable, "sts: 500"},
      {"iam 503", ":generateAccessToken", 503, "", absl::StatusCode::kUnavailable,
       "iamcredentials: 503"},
      {"sts connect", "/v1/token", 0, "", absl::StatusCode::kUnavailable, "connection refused"},
      {"iam connect", ":generateAccessToken", 0, "", absl::StatusCode::kUnavailable,
       "connection refused"},
      {"sts malformed", "/v1/token", 200, "{\"access_token\":", absl::StatusCode::kInternal,
       "malformed JSON"},
      {"sts no token", "/v1/token", 200, R"({"expires_in":3599})", absl::StatusCode::kInternal,
       "access_token"},
      {"sts no expiry", "/v1/token", 200, R"({"access_token":"t"})", absl::StatusCode::kInternal,
       "expires_in"},
      {"iam malformed", ":generateAccessToken", 200, "[]", absl::StatusCode::kInternal,
       "not a JSON object"},
      {"iam bad expireTime", ":generateAccessToken", 200,
       R"({"accessToken":"t","expireTime":"soon"})", absl::StatusCode::kInternal, "expireTime"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    FakeHttpTransport transport;
    transport.on("/v1/token", 200, kStsOk);
    transport.on(":generateAccessToken", 200, kIamOk);
    if (c.status == 0) {
      transport.fail(c.route, absl::UnavailableError("connection refused"));
    } else {
      transport.on(c.route, c.status, c.body);
    }
    GoogleBrokerOptions options;
    options.sts_url = kCloud;
    options.iam_credentials_url = kCloud;
    options.pool = kPool;
    options.cluster_url = kClusterUrl;
    GoogleBroker broker(options, ksa_, transport, clock_);
    asio::io_context io;
    auto future =
        asio::co_spawn(io, run_access(broker, caller_for("demo", kGsa), {}), asio::use_future);
    io.run();
    absl::StatusOr<AccessToken> token = future.get();
    EXPECT_EQ(token.status().code(), c.want) << token.status();
    EXPECT_THAT(std::string(token.status().message()), HasSubstr(c.message));
  }
}

TEST_F(GoogleBrokerTest, KsaTokenErrorIsReturnedWithoutCallingSts) {
  ksa_.error = absl::NotFoundError("serviceaccounts \"demo\" not found");
  EXPECT_EQ(access_token(caller_for("demo", kGsa), {}).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(transport_.requests().empty());
}

TEST_F(GoogleBrokerTest, RejectsGoogleServiceAccountThatWouldChangeTheUrl) {
  for (const char* gsa : {"a/b@x.iam.gserviceaccount.com", "x@y?z", "no-at-sign", ""}) {
    SCOPED_TRACE(gsa);
    EXPECT_EQ(access_token(caller_for("demo", std::string(gsa)), {}).status().code(),
              absl::StatusCode::kFailedPrecondition);
  }
  EXPECT_TRUE(transport_.requests().empty());
}

}  // namespace
}  // namespace wims::broker
