// KeySourceTokenVerifier and HttpJwksTokenVerifier, the latter against a real http::Server on
// 127.0.0.1 port 0 that plays an OIDC issuer (discovery + JWKS).
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <mutex>

#include "aws/aws_error.h"
#include "aws/http_jwks_token_verifier.h"
#include "aws/iam_service.h"
#include "aws/key_source_token_verifier.h"
#include "aws/sts_service.h"
#include "common/clock.h"
#include "http/server.h"
#include "jose/jwt.h"
#include "unit/http/test_server.h"

namespace wims::aws {
namespace {

using http::testing::run_sync;
namespace beast_http = http::beast_http;

jose::SigningKey generate_key() {
  absl::StatusOr<jose::SigningKey> key = jose::SigningKey::generate(jose::Algorithm::kES256);
  EXPECT_TRUE(key.ok()) << key.status();
  return *std::move(key);
}

jose::JwkSet jwks_of(std::initializer_list<const jose::SigningKey*> keys) {
  jose::JwkSet jwks;
  for (const jose::SigningKey* key : keys) {
    absl::StatusOr<jose::PublicJwk> jwk = jose::PublicJwk::from_json(key->public_jwk());
    EXPECT_TRUE(jwk.ok()) << jwk.status();
    jwks.add(*jwk);
  }
  return jwks;
}

jose::DecodedJwt token_signed_by(const jose::SigningKey& key, const std::string& issuer) {
  std::string token = jose::sign_jwt(key, {{"iss", issuer}, {"sub", "system:serviceaccount:a:b"}});
  absl::StatusOr<jose::DecodedJwt> decoded = jose::decode_jwt(token);
  EXPECT_TRUE(decoded.ok()) << decoded.status();
  return *std::move(decoded);
}

std::string code_of(const absl::Status& status) {
  return status.ok() ? "OK" : aws_error_info(status).code;
}

// ---- KeySourceTokenVerifier ----

TEST(KeySourceTokenVerifierTest, OwnIssuerUsesTheCurrentKeysOfItsSource) {
  const jose::SigningKey first = generate_key();
  const jose::SigningKey second = generate_key();
  std::mutex mu;
  jose::JwkSet published = jwks_of({&first});
  KeySourceTokenVerifier verifier({{"http://127.0.0.1:9/oidc/c/", [&] {
                                      std::lock_guard lock(mu);
                                      return published;
                                    }}});
  const std::string issuer = "http://127.0.0.1:9/oidc/c";
  EXPECT_EQ(code_of(run_sync(verifier.verify_signature(token_signed_by(first, issuer), issuer))),
            "OK");
  EXPECT_EQ(code_of(run_sync(verifier.verify_signature(token_signed_by(second, issuer), issuer))),
            "InvalidIdentityToken");
  {
    std::lock_guard lock(mu);
    published = jwks_of({&first, &second});  // a rotation: the source is asked on every call
  }
  EXPECT_EQ(code_of(run_sync(verifier.verify_signature(token_signed_by(second, issuer), issuer))),
            "OK");
}

TEST(KeySourceTokenVerifierTest, OtherIssuersGoToTheFallbackOrAreRefused) {
  const jose::SigningKey own = generate_key();
  const jose::SigningKey external = generate_key();
  StaticJwksTokenVerifier fallback;
  fallback.set_jwks("https://oidc.example.com", jwks_of({&external}));
  KeySourceTokenVerifier with_fallback({{"http://own", [&] { return jwks_of({&own}); }}},
                                       &fallback);
  KeySourceTokenVerifier without_fallback({{"http://own", [&] { return jwks_of({&own}); }}});

  const std::string issuer = "https://oidc.example.com";
  EXPECT_EQ(
      code_of(run_sync(with_fallback.verify_signature(token_signed_by(external, issuer), issuer))),
      "OK");
  EXPECT_EQ(code_of(run_sync(
                without_fallback.verify_signature(token_signed_by(external, issuer), issuer))),
            "InvalidIdentityToken");
  // The own issuer's keys do not vouch for another issuer's tokens.
  EXPECT_EQ(code_of(run_sync(with_fallback.verify_signature(token_signed_by(own, issuer), issuer))),
            "InvalidIdentityToken");
}

// ---- HttpJwksTokenVerifier ----

// OIDC issuers at http://127.0.0.1:PORT/ANY/PATH: discovery names the issuer by the request path
// and points at PATH/keys; one JWKS for all; switchable faults; request counters.
class FakeIssuerHandler final : public http::Handler {
 public:
  enum class Mode { kOk, kDiscovery500, kNotJson, kWrongIssuer, kNoJwksUri, kBadJwks, kJwks404 };

  boost::asio::awaitable<http::Response> handle(http::Request& request) override {
    std::lock_guard lock(mu_);
    constexpr std::string_view kDiscovery = "/.well-known/openid-configuration";
    if (request.path.ends_with(kDiscovery)) {
      ++discovery_requests;
      const std::string issuer =
          base_url + request.path.substr(0, request.path.size() - kDiscovery.size());
      if (mode == Mode::kDiscovery500) {
        co_return respond(beast_http::status::internal_server_error, "x");
      }
      if (mode == Mode::kNotJson) co_return respond(beast_http::status::ok, "<html>");
      boost::json::object doc{{"issuer", mode == Mode::kWrongIssuer ? "https://evil" : issuer},
                              {"response_types_supported", boost::json::array{"id_token"}}};
      if (mode != Mode::kNoJwksUri) doc["jwks_uri"] = issuer + "/keys";
      co_return respond(beast_http::status::ok, boost::json::serialize(doc));
    }
    if (request.path.ends_with("/keys")) {
      ++jwks_requests;
      if (mode == Mode::kJwks404) co_return respond(beast_http::status::not_found, "{}");
      if (mode == Mode::kBadJwks) co_return respond(beast_http::status::ok, R"({"keys":"no"})");
      co_return respond(beast_http::status::ok, boost::json::serialize(jwks.to_json()));
    }
    co_return respond(beast_http::status::not_found, "{}");
  }

  void set(Mode m) {
    std::lock_guard lock(mu_);
    mode = m;
  }
  void publish(jose::JwkSet keys) {
    std::lock_guard lock(mu_);
    jwks = std::move(keys);
  }

  std::mutex mu_;
  std::string base_url;
  Mode mode = Mode::kOk;
  jose::JwkSet jwks;
  std::atomic<int> discovery_requests{0};
  std::atomic<int> jwks_requests{0};

 private:
  static http::Response respond(beast_http::status status, std::string body) {
    return http::make_response(status, "application/json", std::move(body));
  }
};

class HttpJwksTokenVerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    workers_.start();
    ASSERT_TRUE(server_.start().ok());
    issuer_.base_url = "http://127.0.0.1:" + std::to_string(server_.local_endpoint().port());
    issuer_url_ = issuer_.base_url + "/issuer";
    issuer_.publish(jwks_of({&key_}));
  }
  void TearDown() override {
    server_.stop();
    workers_.stop();
  }
  std::string verify(const jose::SigningKey& key) {
    return code_of(
        run_sync(verifier_.verify_signature(token_signed_by(key, issuer_url_), issuer_url_)));
  }

  const jose::SigningKey key_ = generate_key();
  const jose::SigningKey rotated_ = generate_key();
  FakeIssuerHandler issuer_;
  http::Metrics metrics_;
  http::WorkerPool workers_{1};
  http::Server server_{http::testing::test_options("127.0.0.1:0"), issuer_, workers_, metrics_};
  std::string issuer_url_;
  FakeClock clock_;
  http::Client client_;
  HttpJwksTokenVerifier verifier_{client_,
                                  clock_,
                                  {.cache_ttl = absl::Hours(1),
                                   .min_refetch_interval = absl::Seconds(30),
                                   .max_issuers = 2,
                                   .request_timeout = absl::Seconds(5)}};
};

TEST_F(HttpJwksTokenVerifierTest, DiscoversJwksAndCachesIt) {
  EXPECT_EQ(verify(key_), "OK");
  EXPECT_EQ(verify(key_), "OK");
  EXPECT_EQ(issuer_.discovery_requests.load(), 1);
  EXPECT_EQ(issuer_.jwks_requests.load(), 1);
  // A trailing slash on the issuer is the same issuer.
  EXPECT_EQ(code_of(run_sync(
                verifier_.verify_signature(token_signed_by(key_, issuer_url_), issuer_url_ + "/"))),
            "OK");
  EXPECT_EQ(verifier_.fetches(), 1u);
}

TEST_F(HttpJwksTokenVerifierTest, RefetchesAfterTheTtl) {
  EXPECT_EQ(verify(key_), "OK");
  clock_.advance(absl::Hours(1));
  EXPECT_EQ(verify(key_), "OK");
  EXPECT_EQ(issuer_.jwks_requests.load(), 2);
}

TEST_F(HttpJwksTokenVerifierTest, UnknownKidRefetchesAtMostOncePerInterval) {
  EXPECT_EQ(verify(key_), "OK");
  clock_.advance(absl::Seconds(31));
  issuer_.publish(jwks_of({&key_, &rotated_}));  // the issuer rotates
  EXPECT_EQ(verify(rotated_), "OK");
  EXPECT_EQ(issuer_.jwks_requests.load(), 2);

  // A key the issuer never published: one refetch per interval, then the cached set answers.
  const jose::SigningKey stranger = generate_key();
  clock_.advance(absl::Seconds(31));
  EXPECT_EQ(verify(stranger), "InvalidIdentityToken");
  EXPECT_EQ(verify(stranger), "InvalidIdentityToken");
  EXPECT_EQ(verify(stranger), "InvalidIdentityToken");
  EXPECT_EQ(issuer_.jwks_requests.load(), 3);
}

TEST_F(HttpJwksTokenVerifierTest, BadSignatureIsInvalidIdentityToken) {
  jose::DecodedJwt jwt = token_signed_by(key_, issuer_url_);
  jwt.signature[3] ^= 0x01;
  EXPECT_EQ(code_of(run_sync(verifier_.verify_signature(jwt, issuer_url_))),
            "InvalidIdentityToken");
}

TEST_F(HttpJwksTokenVerifierTest, IssuerFaultsAreIdpCommunicationErrors) {
  using Mode = FakeIssuerHandler::Mode;
  for (Mode mode : {Mode::kDiscovery500, Mode::kNotJson, Mode::kWrongIssuer, Mode::kNoJwksUri,
                    Mode::kBadJwks, Mode::kJwks404}) {
    SCOPED_TRACE(static_cast<int>(mode));
    issuer_.set(mode);
    absl::Status status =
        run_sync(verifier_.verify_signature(token_signed_by(key_, issuer_url_), issuer_url_));
    EXPECT_EQ(code_of(status), "IDPCommunicationError") << status;
    EXPECT_EQ(aws_error_info(status).http_status, 400);
  }
  // An unreachable issuer: a port that was just closed.
  uint16_t closed_port;
  {
    boost::asio::io_context context;
    boost::asio::ip::tcp::acceptor acceptor(context,
                                            {boost::asio::ip::make_address("127.0.0.1"), 0});
    closed_port = acceptor.local_endpoint().port();
  }
  const std::string gone = "http://127.0.0.1:" + std::to_string(closed_port) + "/issuer";
  EXPECT_EQ(code_of(run_sync(verifier_.verify_signature(token_signed_by(key_, gone), gone))),
            "IDPCommunicationError");
}

TEST_F(HttpJwksTokenVerifierTest, StaleKeysServeWhileTheIssuerIsDown) {
  EXPECT_EQ(verify(key_), "OK");
  issuer_.set(FakeIssuerHandler::Mode::kDiscovery500);
  clock_.advance(absl::Hours(2));
  EXPECT_EQ(verify(key_), "OK");
  EXPECT_EQ(verifier_.fetches(), 2u);
}

TEST_F(HttpJwksTokenVerifierTest, CacheHoldsAtMostMaxIssuersEvictingTheOldest) {
  auto verify_at = [&](const std::string& path) {
    const std::string issuer = issuer_.base_url + path;
    return code_of(run_sync(verifier_.verify_signature(token_signed_by(key_, issuer), issuer)));
  };
  for (const char* path : {"/a", "/b", "/c"}) {  // max_issuers is 2: "/a" is evicted
    EXPECT_EQ(verify_at(path), "OK");
    clock_.advance(absl::Seconds(1));
  }
  EXPECT_EQ(verifier_.fetches(), 3u);
  EXPECT_EQ(verify_at("/c"), "OK");
  EXPECT_EQ(verifier_.fetches(), 3u);
  EXPECT_EQ(verify_at("/a"), "OK");  // refetched, evicting "/b"
  EXPECT_EQ(verifier_.fetches(), 4u);
  EXPECT_EQ(verify_at("/b"), "OK");
  EXPECT_EQ(verifier_.fetches(), 5u);
}

// ---- end to end through StsService: an http:// loopback issuer is accepted ----

TEST_F(HttpJwksTokenVerifierTest, StsAcceptsALoopbackHttpIssuerThroughDiscovery) {
  InMemoryAwsStateRepository repository;
  IamService iam(repository, clock_, "111122223333");
  StsService sts(repository, verifier_, clock_, "111122223333");
  const std::string host = issuer_url_.substr(7);  // "127.0.0.1:PORT/issuer"
  QueryParams provider;
  provider.set("Url", issuer_url_);
  provider.set("ClientIDList.member.1", "sts.amazonaws.com");
  ASSERT_TRUE(iam.call("CreateOpenIDConnectProvider", provider, "r").ok());
  QueryParams role;
  role.set("RoleName", "r");
  role.set(
      "AssumeRolePolicyDocument",
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/)" +
          host + R"("},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{")" +
          host + R"(:sub":"system:serviceaccount:a:b"}}}]})");
  absl::StatusOr<std::string> created = iam.call("CreateRole", role, "r");
  ASSERT_TRUE(created.ok()) << created.status();

  const absl::Time now = clock_.now();
  std::string token = jose::sign_jwt(key_, {{"iss", issuer_url_},
                                            {"sub", "system:serviceaccount:a:b"},
                                            {"aud", "sts.amazonaws.com"},
                                            {"iat", absl::ToUnixSeconds(now)},
                                            {"exp", absl::ToUnixSeconds(now + absl::Hours(1))}});
  QueryParams assume;
  assume.set("RoleArn", "arn:aws:iam::111122223333:role/r");
  assume.set("RoleSessionName", "s1");
  assume.set("WebIdentityToken", token);
  absl::StatusOr<std::string> xml = run_sync(sts.assume_role_with_web_identity(assume, "req"));
  ASSERT_TRUE(xml.ok()) << xml.status();
  EXPECT_NE(xml->find("arn:aws:sts::111122223333:assumed-role/r/s1"), std::string::npos) << *xml;
}

}  // namespace
}  // namespace wims::aws
