#include "broker/aws_broker.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/url/url.hpp>
#include <map>
#include <regex>

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
using testing::header;

constexpr char kStsUrl[] = "http://127.0.0.1:41235/aws/sts/";
constexpr char kRole[] = "arn:aws:iam::111122223333:role/app-role";

// FakeClock starts at 2023-11-14T22:13:20Z; these credentials expire an hour later.
std::string sts_ok(std::string key = "ASIAFIRST", std::string expiration = "2023-11-14T23:13:20Z") {
  return fmt::format(
      R"(<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
 <AssumeRoleWithWebIdentityResult>
  <SubjectFromWebIdentityToken>system:serviceaccount:aws:app</SubjectFromWebIdentityToken>
  <Audience>sts.amazonaws.com</Audience>
  <AssumedRoleUser><Arn>arn:aws:sts::111122223333:assumed-role/app-role/wims-aws-app</Arn>
   <AssumedRoleId>AROAEXAMPLE:wims-aws-app</AssumedRoleId></AssumedRoleUser>
  <Credentials><AccessKeyId>{}</AccessKeyId><SecretAccessKey>secret/+=</SecretAccessKey>
   <SessionToken>session&amp;token</SessionToken><Expiration>{}</Expiration></Credentials>
  <Provider>arn:aws:iam::111122223333:oidc-provider/issuer</Provider>
 </AssumeRoleWithWebIdentityResult>
 <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>)",
      key, expiration);
}

std::string sts_error(std::string code, std::string message) {
  return fmt::format(
      R"(<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>)"
      R"(<Code>{}</Code><Message>{}</Message></Error><RequestId>r</RequestId></ErrorResponse>)",
      code, message);
}

Caller aws_caller(std::string pod, std::optional<std::string> role = std::string(kRole)) {
  Caller caller;
  caller.pod.namespace_name = "aws";
  caller.pod.name = pod;
  caller.pod.uid = pod + "-uid";
  caller.pod.service_account_name = "app";
  caller.service_account.namespace_name = "aws";
  caller.service_account.name = "app";
  caller.service_account.uid = "app-uid";
  caller.aws_role_arn = std::move(role);
  return caller;
}

class AwsBrokerTest : public ::testing::Test {
 protected:
  AwsBrokerTest() {
    AwsBrokerOptions options;
    options.sts_url = kStsUrl;
    options.cache.negative_ttl = absl::ZeroDuration();
    broker_ = std::make_unique<AwsBroker>(
        options, ksa_, transport_, clock_,
        [this](std::string_view service, int status) {
          upstream_calls_.emplace_back(std::string(service), status);
        },
        [] { return 0.0; });
  }

  absl::StatusOr<AwsCredentials> credentials(Caller caller) {
    asio::io_context io;
    auto future = asio::co_spawn(io, run(*broker_, std::move(caller)), asio::use_future);
    io.run();
    return future.get();
  }
  static asio::awaitable<absl::StatusOr<AwsCredentials>> run(AwsBroker& broker, Caller caller) {
    co_return co_await broker.credentials(caller);
  }

  FakeClock clock_;
  FakeHttpTransport transport_;
  FakeKsaTokenSource ksa_;
  std::vector<std::pair<std::string, int>> upstream_calls_;
  std::unique_ptr<AwsBroker> broker_;
};

TEST_F(AwsBrokerTest, SendsTheAssumeRoleWithWebIdentityForm) {
  transport_.on("/aws/sts/", 200, sts_ok());
  absl::StatusOr<AwsCredentials> creds = credentials(aws_caller("app-pod"));
  ASSERT_TRUE(creds.ok()) << creds.status();

  ASSERT_EQ(ksa_.calls.size(), 1u);
  EXPECT_EQ(ksa_.calls[0],
            std::make_pair(std::string("app-pod"), std::string("sts.amazonaws.com")));
  std::vector<TransportRequest> requests = transport_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, boost::beast::http::verb::post);
  EXPECT_EQ(requests[0].url, kStsUrl);
  EXPECT_EQ(header(requests[0], "Content-Type").value_or(""),
            "application/x-www-form-urlencoded; charset=utf-8");
  EXPECT_FALSE(
      header(requests[0], "Authorization").has_value());  // AssumeRoleWithWebIdentity is unsigned
  std::map<std::string, std::string> fields = form_fields(requests[0].body);
  EXPECT_EQ(fields["Action"], "AssumeRoleWithWebIdentity");
  EXPECT_EQ(fields["Version"], "2011-06-15");
  EXPECT_EQ(fields["RoleArn"], kRole);
  EXPECT_EQ(fields["RoleSessionName"], "wims-aws-app-pod");
  EXPECT_EQ(fields["WebIdentityToken"], "ksa-token-for-app-pod");
  EXPECT_EQ(fields["DurationSeconds"], "3600");
  EXPECT_EQ(fields.size(), 6u);

  EXPECT_EQ(creds->access_key_id, "ASIAFIRST");
  EXPECT_EQ(creds->secret_access_key, "secret/+=");
  EXPECT_EQ(creds->session_token, "session&token");
  EXPECT_EQ(creds->expiration, absl::FromUnixSeconds(1700000000 + 3600));
  EXPECT_EQ(creds->last_updated, clock_.now());
  EXPECT_EQ(creds->assumed_role_arn,
            "arn:aws:sts::111122223333:assumed-role/app-role/wims-aws-app");
  EXPECT_EQ(upstream_calls_, (std::vector<std::pair<std::string, int>>{{"aws-sts", 200}}));
}

TEST_F(AwsBrokerTest, CachesPerPodAndRole) {
  transport_.on("/aws/sts/", 200, sts_ok());
  ASSERT_TRUE(credentials(aws_caller("app-pod")).ok());
  ASSERT_TRUE(credentials(aws_caller("app-pod")).ok());
  EXPECT_EQ(transport_.requests().size(), 1u);
  EXPECT_EQ(broker_->stats().hits, 1u);

  // Another pod of the same service account, and the same pod with another role: separate sessions.
  ASSERT_TRUE(credentials(aws_caller("other-pod")).ok());
  ASSERT_TRUE(credentials(aws_caller("app-pod", "arn:aws:iam::111122223333:role/second")).ok());
  EXPECT_EQ(transport_.requests().size(), 3u);
  EXPECT_EQ(form_fields(transport_.requests()[1].body)["RoleSessionName"], "wims-aws-other-pod");
  EXPECT_EQ(form_fields(transport_.requests()[2].body)["RoleArn"],
            "arn:aws:iam::111122223333:role/second");

  // A re-created pod (same name, new uid) never shares its predecessor's session.
  Caller recreated = aws_caller("app-pod");
  recreated.pod.uid = "new-uid";
  ASSERT_TRUE(credentials(recreated).ok());
  EXPECT_EQ(transport_.requests().size(), 4u);
}

TEST_F(AwsBrokerTest, RefreshesAheadOfExpiryAndNeverServesStaleCredentials) {
  transport_.on("/aws/sts/", 200, sts_ok("ASIAFIRST", "2023-11-14T23:13:20Z"));
  ASSERT_EQ(credentials(aws_caller("app-pod"))->access_key_id, "ASIAFIRST");
  transport_.on("/aws/sts/", 200, sts_ok("ASIASECOND", "2023-11-15T00:13:20Z"));

  // 30 min left: still served from the cache, no upstream call (refresh is due at 20 min left).
  clock_.advance(absl::Minutes(30));
  ASSERT_EQ(credentials(aws_caller("app-pod"))->access_key_id, "ASIAFIRST");
  EXPECT_EQ(transport_.requests().size(), 1u);

  // 15 min left: past the refresh point; the old entry is served and a background refresh replaces
  // it.
  clock_.advance(absl::Minutes(15));
  ASSERT_TRUE(credentials(aws_caller("app-pod")).ok());
  EXPECT_EQ(transport_.requests().size(), 2u);
  absl::StatusOr<AwsCredentials> after = credentials(aws_caller("app-pod"));
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->access_key_id, "ASIASECOND");
  EXPECT_GE(after->expiration - clock_.now(), absl::Minutes(10));
}

TEST_F(AwsBrokerTest, FetchesAnewWhenTheCachedCredentialsAreTooCloseToExpiry) {
  transport_.on("/aws/sts/", 200, sts_ok("ASIAFIRST", "2023-11-14T23:13:20Z"));
  ASSERT_TRUE(credentials(aws_caller("app-pod")).ok());
  transport_.on("/aws/sts/", 200, sts_ok("ASIASECOND", "2023-11-15T00:13:20Z"));
  clock_.advance(absl::Minutes(55));  // 5 min left < min_remaining (10 min)
  absl::StatusOr<AwsCredentials> creds = credentials(aws_caller("app-pod"));
  ASSERT_TRUE(creds.ok());
  EXPECT_EQ(creds->access_key_id, "ASIASECOND");
}

TEST_F(AwsBrokerTest, MapsStsErrors) {
  struct Case {
    std::string name;
    int http_status;
    std::string body;
    absl::StatusCode code;
    std::string message_part;
  };
  const std::vector<Case> cases = {
      {"AccessDenied", 403,
       sts_error("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity"),
       absl::StatusCode::kPermissionDenied, "sts: AccessDenied: Not authorized"},
      {"IDPRejectedClaim", 403, sts_error("IDPRejectedClaim", "no"),
       absl::StatusCode::kPermissionDenied, "IDPRejectedClaim"},
      {"InvalidIdentityToken", 400, sts_error("InvalidIdentityToken", "Incorrect token audience"),
       absl::StatusCode::kUnauthenticated, "Incorrect token audience"},
      {"ExpiredTokenException", 400, sts_error("ExpiredTokenException", "Token expired"),
       absl::StatusCode::kUnauthenticated, "ExpiredTokenException"},
      {"Throttling", 400, sts_error("Throttling", "Rate exceeded"),
       absl::StatusCode::kResourceExhausted, "Rate exceeded"},
      {"429 without XML", 429, "slow down", absl::StatusCode::kResourceExhausted, "slow down"},
      {"IDPCommunicationError", 400, sts_error("IDPCommunicationError", "x"),
       absl::StatusCode::kUnavailable, "x"},
      {"ValidationError", 400, sts_error("ValidationError", "DurationSeconds exceeds"),
       absl::StatusCode::kFailedPrecondition, "ValidationError"},
      {"500", 500, sts_error("InternalFailure", "boom"), absl::StatusCode::kUnavailable,
       "InternalFailure"},
      {"503 HTML", 503, "<html><body>down", absl::StatusCode::kUnavailable, "HTTP 503"},
      {"200 not XML", 200, "{\"json\":true}", absl::StatusCode::kInternal, "unreadable"},
      {"200 wrong root", 200, "<Other/>", absl::StatusCode::kInternal, "Other"},
      {"200 without SessionToken", 200,
       "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>"
       "<AccessKeyId>A</AccessKeyId><SecretAccessKey>S</"
       "SecretAccessKey><Expiration>2024-01-01T00:00:00Z"
       "</Expiration></Credentials><AssumedRoleUser><Arn>arn</Arn></AssumedRoleUser>"
       "</AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>",
       absl::StatusCode::kInternal, "SessionToken"},
      {"200 bad Expiration", 200, sts_ok("A", "tomorrow"), absl::StatusCode::kInternal,
       "Expiration"},
      {"200 already expired", 200, sts_ok("A", "2023-11-14T22:00:00Z"),
       absl::StatusCode::kUnavailable, ""},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    SCOPED_TRACE(c.name);
    transport_.on("/aws/sts/", c.http_status, c.body);
    // A fresh pod per case, so no cache entry answers.
    absl::StatusOr<AwsCredentials> creds = credentials(aws_caller(fmt::format("pod-{}", i)));
    ASSERT_FALSE(creds.ok());
    EXPECT_EQ(creds.status().code(), c.code) << creds.status();
    EXPECT_NE(creds.status().message().find(c.message_part), absl::string_view::npos)
        << creds.status();
  }
}

TEST_F(AwsBrokerTest, TransportFailureIsUnavailable) {
  transport_.fail("/aws/sts/", absl::DeadlineExceededError("connect timed out"));
  absl::StatusOr<AwsCredentials> creds = credentials(aws_caller("app-pod"));
  EXPECT_EQ(creds.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(upstream_calls_, (std::vector<std::pair<std::string, int>>{{"aws-sts", 0}}));
}

TEST_F(AwsBrokerTest, RefusesCallersWithoutAValidRole) {
  absl::StatusOr<AwsCredentials> none = credentials(aws_caller("app-pod", std::nullopt));
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  for (std::string bad : {"", "not-an-arn-at-all-really", "arn:aws:iam::111122223333:user/someone",
                          "arn:aws:iam::111122223333:role/"}) {
    SCOPED_TRACE(bad);
    absl::StatusOr<AwsCredentials> creds = credentials(aws_caller("app-pod", bad));
    EXPECT_FALSE(creds.ok());
    EXPECT_NE(creds.status().code(), absl::StatusCode::kOk);
  }
  EXPECT_TRUE(transport_.requests().empty());
  EXPECT_TRUE(ksa_.calls.empty());
}

TEST_F(AwsBrokerTest, KsaTokenErrorsPassThrough) {
  ksa_.error = absl::PermissionDeniedError("kubernetes: 403: forbidden");
  absl::StatusOr<AwsCredentials> creds = credentials(aws_caller("app-pod"));
  EXPECT_EQ(creds.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(transport_.requests().empty());
}

TEST(AwsRoleSessionNameTest, IsDeterministicAndValid) {
  const std::regex valid(R"([\w+=,.@-]{2,64})");
  struct Case {
    std::string ns;
    std::string pod;
    std::string expected;  // "" = only check validity
  };
  const std::vector<Case> cases = {
      {"default", "demo", "wims-default-demo"},
      {"kube-system", "aws-node-x7k2p", "wims-kube-system-aws-node-x7k2p"},
      {"a b", "c/d", "wims-a-b-c-d"},
      {"ns", std::string(100, 'p'), ""},
      {"", "", "wims--"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.ns + "/" + c.pod);
    std::string name = aws_role_session_name(c.ns, c.pod);
    EXPECT_TRUE(std::regex_match(name, valid)) << name;
    EXPECT_EQ(name, aws_role_session_name(c.ns, c.pod));
    if (!c.expected.empty()) {
      EXPECT_EQ(name, c.expected);
    }
  }
  // Long names that share a 55-character prefix stay distinct.
  std::string a = aws_role_session_name("ns", std::string(100, 'p') + "a");
  std::string b = aws_role_session_name("ns", std::string(100, 'p') + "b");
  EXPECT_EQ(a.size(), 64u);
  EXPECT_NE(a, b);
}

TEST(AwsArnTest, RoleNameAndAccount) {
  EXPECT_EQ(aws_role_name("arn:aws:iam::111122223333:role/path/app"), "app");
  EXPECT_EQ(aws_role_name("no-slash"), "");
  EXPECT_EQ(aws_arn_account("arn:aws:sts::111122223333:assumed-role/R/S"), "111122223333");
  EXPECT_EQ(aws_arn_account("arn:aws:sts"), "");
  EXPECT_EQ(aws_regional_sts_url("eu-west-1"), "https://sts.eu-west-1.amazonaws.com/");
  EXPECT_EQ(aws_regional_sts_url(""), "https://sts.amazonaws.com/");
}

}  // namespace
}  // namespace wims::broker
