#include "cloud/google_sts_handler.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/url.hpp>
#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "cloud/external_issuer_key_source.h"
#include "jose/jwt.h"

namespace wims::cloud {
namespace {

namespace bhttp = boost::beast::http;

constexpr char kIssuer[] = "http://127.0.0.1:8080/oidc/c";
constexpr char kPool[] = "p.svc.id.goog";
constexpr char kClusterUrl[] =
    "https://container.googleapis.com/v1/projects/p/locations/us-central1/clusters/c";
constexpr char kProvider[] =
    "//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/p.svc.id.goog/"
    "providers/c";
constexpr char kPrincipal[] =
    "principal://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/"
    "p.svc.id.goog/"
    "subject/ns/default/sa/demo";

std::string gke_audience() { return absl::StrCat("identitynamespace:", kPool, ":", kClusterUrl); }

config::World test_world(int quota = 6000) {
  config::World w;
  w.project.id = "p";
  w.project.number = 123;
  w.cluster.name = "c";
  w.cluster.location = "us-central1";
  w.node.name = "node-1";
  config::ServiceAccount sa;
  sa.namespace_name = "default";
  sa.name = "demo";
  sa.uid = "sa-uid";
  w.service_accounts.push_back(sa);
  config::Pod pod;
  pod.namespace_name = "default";
  pod.name = "app";
  pod.uid = "pod-uid";
  pod.service_account_name = "demo";
  w.pods.push_back(pod);
  w.google.sts_exchanges_per_minute = quota;
  return w;
}

using Form = std::vector<std::pair<std::string, std::string>>;

std::string encode_form(const Form& form) {
  boost::urls::url u;
  for (const auto& [k, v] : form) u.params().append({k, v});
  return std::string(u.encoded_query());
}

class GoogleStsHandlerTest : public ::testing::Test {
 public:
  GoogleStsHandlerTest()
      : store_(*store::StateStore::open_in_memory()),
        ring_(*SigningKeyRing::open(*store_, clock_.now(),
                                    {jose::Algorithm::kES256, absl::Hours(48)})),
        world_(std::make_shared<const config::World>(test_world())),
        issuer_(
            {kIssuer}, *ring_, [this] { return world_; }, clock_),
        keys_(kIssuer, *ring_),
        codec_("0123456789abcdef0123456789abcdef"),
        handler_(
            {kIssuer}, [this] { return world_; }, keys_, codec_, clock_) {}

  http::Response call(bhttp::verb method, std::string path, std::string body,
                      std::string content_type = "application/x-www-form-urlencoded") {
    http::Request request;
    request.message.method(method);
    request.message.target(path);
    request.message.version(11);
    if (!content_type.empty()) request.message.set(bhttp::field::content_type, content_type);
    request.message.body() = std::move(body);
    request.path = std::move(path);
    boost::asio::io_context io;
    std::optional<http::Response> response;
    boost::asio::co_spawn(io, target_->handle(request),
                          [&](std::exception_ptr e, http::Response r) {
                            ASSERT_FALSE(e) << "handler threw";
                            response = std::move(r);
                          });
    io.run();
    EXPECT_TRUE(response.has_value());
    EXPECT_EQ(request.route, "google.sts.token");
    return response ? *std::move(response) : http::Response();
  }

  // A kubectl-create-token style token from the cluster issuer, bound to pod default/app.
  std::string kube_token(std::vector<std::string> audiences = {kPool}, std::string sa = "demo") {
    TokenRequestSpec spec{.namespace_name = "default",
                          .service_account = std::move(sa),
                          .audiences = std::move(audiences)};
    spec.bound_object_ref = BoundObjectRef{"Pod", "v1", "app", "pod-uid"};
    absl::StatusOr<IssuedToken> token = issuer_.issue(spec);
    EXPECT_TRUE(token.ok()) << token.status();
    return token.ok() ? token->token : std::string();
  }

  // Claims like the issuer's, for hand-signed variants.
  boost::json::object claims(int64_t iat_offset = 0, int64_t lifetime = 3600) {
    int64_t iat = absl::ToUnixSeconds(clock_.now()) + iat_offset;
    return {{"aud", boost::json::array{kPool}},
            {"exp", iat + lifetime},
            {"iat", iat},
            {"iss", kIssuer},
            {"kubernetes.io",
             {{"namespace", "default"}, {"serviceaccount", {{"name", "demo"}, {"uid", "sa-uid"}}}}},
            {"nbf", iat},
            {"sub", "system:serviceaccount:default:demo"}};
  }
  std::string sign(const boost::json::object& c) { return jose::sign_jwt(*ring_->current(), c); }

  Form form(std::string token, std::string audience = gke_audience()) {
    return {{"grant_type", GoogleStsHandler::kTokenExchangeGrant},
            {"requested_token_type", GoogleStsHandler::kAccessTokenType},
            {"subject_token_type", GoogleStsHandler::kJwtTokenType},
            {"subject_token", std::move(token)},
            {"audience", std::move(audience)},
            {"scope", GoogleStsHandler::kCloudPlatformScope}};
  }
  http::Response exchange(const Form& f) {
    return call(bhttp::verb::post, "/v1/token", encode_form(f));
  }

  static boost::json::object json(const http::Response& r) {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(r.body(), ec);
    EXPECT_FALSE(ec) << r.body();
    return v.is_object() ? v.get_object() : boost::json::object();
  }

  FakeClock clock_;
  std::unique_ptr<store::StateStore> store_;
  std::unique_ptr<SigningKeyRing> ring_;
  std::shared_ptr<const config::World> world_;
  ServiceAccountTokenIssuer issuer_;
  LocalIssuerKeySource keys_;
  AccessTokenCodec codec_;
  GoogleStsHandler handler_;
  // The handler call() drives.
  GoogleStsHandler* target_ = &handler_;
};

void expect_success(const http::Response& r) {
  ASSERT_EQ(r.result(), bhttp::status::ok) << r.body();
  EXPECT_EQ(r[bhttp::field::content_type], "application/json; charset=utf-8");
  EXPECT_EQ(r[bhttp::field::cache_control], "no-store");
}

TEST_F(GoogleStsHandlerTest, ExchangesGkeAudienceForFederatedToken) {
  http::Response r = exchange(form(kube_token()));
  expect_success(r);
  boost::json::object body = json(r);
  EXPECT_EQ(body.at("issued_token_type"), "urn:ietf:params:oauth:token-type:access_token");
  EXPECT_EQ(body.at("token_type"), "Bearer");
  EXPECT_EQ(body.at("expires_in"), 3599);
  ASSERT_TRUE(body.at("access_token").is_string());

  absl::StatusOr<AccessTokenClaims> claims =
      codec_.verify(std::string(body.at("access_token").get_string()), clock_.now());
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->kind, AccessTokenKind::kFederated);
  EXPECT_EQ(claims->subject, kPrincipal);
  EXPECT_EQ(claims->scopes, std::vector<std::string>{GoogleStsHandler::kCloudPlatformScope});
  EXPECT_EQ(claims->issued_at, clock_.now());
  EXPECT_EQ(claims->expires_at - claims->issued_at, absl::Hours(1));
  ASSERT_TRUE(claims->workload.has_value());
  const iam::WorkloadIdentity& w = *claims->workload;
  EXPECT_EQ(w.project_number, 123);
  EXPECT_EQ(w.pool, kPool);
  EXPECT_EQ(w.namespace_name, "default");
  EXPECT_EQ(w.service_account, "demo");
  EXPECT_EQ(w.service_account_uid, "sa-uid");
  EXPECT_EQ(w.cluster_url, kClusterUrl);
  EXPECT_EQ(w.pod_name, "app");
  EXPECT_EQ(w.pod_uid, "pod-uid");
}

TEST_F(GoogleStsHandlerTest, ExchangesProviderAudienceInBothTokenAudienceForms) {
  for (std::string aud : {std::string(kProvider), absl::StrCat("https:", kProvider)}) {
    SCOPED_TRACE(aud);
    Form f = form(kube_token({aud}), kProvider);
    f[5].second = "https://www.googleapis.com/auth/devstorage.read_only  openid";
    f[2].second = GoogleStsHandler::kIdTokenType;
    http::Response r = exchange(f);
    expect_success(r);
    absl::StatusOr<AccessTokenClaims> claims =
        codec_.verify(std::string(json(r).at("access_token").get_string()), clock_.now());
    ASSERT_TRUE(claims.ok()) << claims.status();
    EXPECT_EQ(claims->subject, kPrincipal);
    EXPECT_EQ(claims->scopes,
              (std::vector<std::string>{"https://www.googleapis.com/auth/devstorage.read_only",
                                        "openid"}));
  }
}

TEST_F(GoogleStsHandlerTest, AcceptsJsonBodyAndGoogleAuthOptionsEncoding) {
  // The REST API's JSON body (camelCase) and no scope: cloud-platform by default.
  boost::json::object body{{"grantType", GoogleStsHandler::kTokenExchangeGrant},
                           {"requestedTokenType", GoogleStsHandler::kAccessTokenType},
                           {"subjectTokenType", GoogleStsHandler::kJwtTokenType},
                           {"subjectToken", kube_token()},
                           {"audience", gke_audience()},
                           {"options", R"({"userProject":"p"})"}};
  http::Response r =
      call(bhttp::verb::post, "/v1/token", boost::json::serialize(body), "application/json");
  expect_success(r);
  absl::StatusOr<AccessTokenClaims> claims =
      codec_.verify(std::string(json(r).at("access_token").get_string()), clock_.now());
  ASSERT_TRUE(claims.ok());
  EXPECT_EQ(claims->scopes, std::vector<std::string>{GoogleStsHandler::kCloudPlatformScope});

  // google-auth (sts.py) quotes the options JSON before form-encoding the body.
  Form f = form(kube_token());
  f.emplace_back("options", "%7B%22userProject%22%3A%20%22p%22%7D");
  expect_success(exchange(f));
}

struct ErrorCase {
  std::string name;
  std::function<Form(GoogleStsHandlerTest&)> make;
  std::string error;
  std::string description;  // a substring of error_description; empty: not checked
};

class GoogleStsHandlerErrorTest : public GoogleStsHandlerTest {
 public:
  using GoogleStsHandlerTest::claims;
  using GoogleStsHandlerTest::form;
  using GoogleStsHandlerTest::kube_token;
  using GoogleStsHandlerTest::sign;
  void check(const std::vector<ErrorCase>& cases) {
    for (const ErrorCase& c : cases) {
      SCOPED_TRACE(c.name);
      http::Response r = exchange(c.make(*this));
      EXPECT_EQ(r.result(), bhttp::status::bad_request) << r.body();
      EXPECT_EQ(r[bhttp::field::content_type], "application/json; charset=utf-8");
      boost::json::object body = json(r);
      EXPECT_EQ(body["error"], boost::json::value(c.error)) << r.body();
      ASSERT_TRUE(body["error_description"].is_string()) << r.body();
      std::string description(body["error_description"].get_string());
      EXPECT_NE(description.find(c.description), std::string::npos) << description;
    }
  }
};

Form with(Form f, const std::string& key, std::string value) {
  for (auto& [k, v] : f) {
    if (k == key) v = value;
  }
  return f;
}
Form without(Form f, const std::string& key) {
  std::erase_if(f, [&](const auto& kv) { return kv.first == key; });
  return f;
}

TEST_F(GoogleStsHandlerErrorTest, RejectsInvalidRequests) {
  const std::string kAud = GoogleStsHandler::kInvalidAudienceMessage;
  check({
      {"bad grant_type",
       [](auto& t) { return with(t.form(t.kube_token()), "grant_type", "client_credentials"); },
       "invalid_request", "Invalid value for \"grant_type\""},
      {"missing grant_type", [](auto& t) { return without(t.form(t.kube_token()), "grant_type"); },
       "invalid_request", "Missing required parameter \"grant_type\""},
      {"requested id_token",
       [](auto& t) {
         return with(t.form(t.kube_token()), "requested_token_type",
                     GoogleStsHandler::kIdTokenType);
       },
       "invalid_request", "requested_token_type"},
      {"missing requested_token_type",
       [](auto& t) { return without(t.form(t.kube_token()), "requested_token_type"); },
       "invalid_request", "requested_token_type"},
      {"saml2 subject",
       [](auto& t) {
         return with(t.form(t.kube_token()), "subject_token_type",
                     "urn:ietf:params:oauth:token-type:saml2");
       },
       "invalid_request", "An OIDC identity provider accepts only"},
      {"aws4_request subject",
       [](auto& t) {
         return with(t.form(t.kube_token()), "subject_token_type",
                     "urn:ietf:params:aws:token-type:aws4_request");
       },
       "invalid_request", "subject_token_type"},
      {"missing subject_token",
       [](auto& t) { return without(t.form(t.kube_token()), "subject_token"); }, "invalid_request",
       "subject_token"},
      {"pool as audience",
       [](auto& t) {
         return t.form(t.kube_token(),
                       "//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/"
                       "p.svc.id.goog");
       },
       "invalid_request", kAud},
      {"unknown provider",
       [](auto& t) {
         return t.form(t.kube_token(),
                       "//iam.googleapis.com/projects/123/locations/global/"
                       "workloadIdentityPools/p.svc.id.goog/providers/other");
       },
       "invalid_request", kAud},
      {"unknown pool",
       [](auto& t) {
         return t.form(t.kube_token(),
                       "//iam.googleapis.com/projects/123/locations/global/"
                       "workloadIdentityPools/other/providers/c");
       },
       "invalid_request", kAud},
      {"other project number",
       [](auto& t) {
         return t.form(t.kube_token(),
                       "//iam.googleapis.com/projects/124/locations/global/"
                       "workloadIdentityPools/p.svc.id.goog/providers/c");
       },
       "invalid_request", kAud},
      {"identitynamespace of another pool",
       [](auto& t) {
         return t.form(t.kube_token(),
                       absl::StrCat("identitynamespace:q.svc.id.goog:", kClusterUrl));
       },
       "invalid_request", kAud},
      {"identitynamespace of another cluster",
       [](auto& t) {
         return t.form(t.kube_token(),
                       "identitynamespace:p.svc.id.goog:https://container.googleapis.com/v1/"
                       "projects/p/locations/us-central1/clusters/other");
       },
       "invalid_request", kAud},
      {"missing audience", [](auto& t) { return without(t.form(t.kube_token()), "audience"); },
       "invalid_request", "audience"},
      {"options not JSON",
       [](auto& t) {
         Form f = t.form(t.kube_token());
         f.emplace_back("options", "userProject=p");
         return f;
       },
       "invalid_request", "options"},
      {"duplicate parameter",
       [](auto& t) {
         Form f = t.form(t.kube_token());
         f.emplace_back("audience", gke_audience());
         return f;
       },
       "invalid_request", "Duplicate parameter \"audience\""},
  });
}

TEST_F(GoogleStsHandlerErrorTest, RejectsInvalidSubjectTokens) {
  check({
      {"lifetime 49 h", [](auto& t) { return t.form(t.sign(t.claims(0, 49 * 3600))); },
       "invalid_grant", "lifetime is too long"},
      {"lifetime exactly 48 h", [](auto& t) { return t.form(t.sign(t.claims(0, 48 * 3600))); },
       "invalid_grant", "lifetime is too long"},
      {"expired", [](auto& t) { return t.form(t.sign(t.claims(-7200, 3600))); }, "invalid_grant",
       "has expired"},
      {"iat in the future", [](auto& t) { return t.form(t.sign(t.claims(600, 3600))); },
       "invalid_grant", "issued in the future"},
      {"nbf in the future",
       [](auto& t) {
         boost::json::object c = t.claims();
         c["nbf"] = c["iat"].as_int64() + 600;
         return t.form(t.sign(c));
       },
       "invalid_grant", "not valid yet"},
      {"missing exp",
       [](auto& t) {
         boost::json::object c = t.claims();
         c.erase("exp");
         return t.form(t.sign(c));
       },
       "invalid_grant", "\"exp\""},
      {"wrong iss",
       [](auto& t) {
         boost::json::object c = t.claims();
         c["iss"] = "https://evil.example";
         return t.form(t.sign(c));
       },
       "invalid_grant", "does not match the expected issuer"},
      {"wrong aud", [](auto& t) { return t.form(t.kube_token({"sts.amazonaws.com"})); },
       "invalid_grant", "does not match the expected audience p.svc.id.goog"},
      {"provider audience in a GKE-form exchange",
       [](auto& t) { return t.form(t.kube_token({kProvider})); }, "invalid_grant",
       "does not match the expected audience"},
      {"pool audience in a provider-form exchange",
       [](auto& t) { return t.form(t.kube_token({kPool}), kProvider); }, "invalid_grant",
       "does not match the expected audience"},
      {"tampered signature",
       [](auto& t) {
         std::string token = t.kube_token();
         size_t dot = token.rfind('.');
         token[dot + 5] = token[dot + 5] == 'A' ? 'B' : 'A';
         return t.form(token);
       },
       "invalid_grant", "signature is invalid"},
      {"tampered payload",
       [](auto& t) {
         std::string token = t.kube_token();
         std::string forged = t.sign(t.claims(0, 7200));
         // The forged payload with the genuine token's signature.
         std::string payload =
             forged.substr(forged.find('.'), forged.rfind('.') - forged.find('.'));
         std::string header = token.substr(0, token.find('.'));
         return t.form(header + payload + token.substr(token.rfind('.')));
       },
       "invalid_grant", "signature is invalid"},
      {"unknown kid",
       [](auto& t) {
         auto other = jose::SigningKey::generate(jose::Algorithm::kES256);
         return t.form(jose::sign_jwt(*other, t.claims()));
       },
       "invalid_grant", "signed by an unknown key"},
      {"not a JWT", [](auto& t) { return t.form("not-a-jwt"); }, "invalid_grant",
       "not a valid JWT"},
      {"alg none",
       [](auto& t) {
         std::string token = t.kube_token();
         std::string payload = token.substr(token.find('.'), token.rfind('.') - token.find('.'));
         // {"alg":"none","kid":"x"}
         return t.form("eyJhbGciOiJub25lIiwia2lkIjoieCJ9" + payload + ".");
       },
       "invalid_grant", ""},
      {"sub not a service account",
       [](auto& t) {
         boost::json::object c = t.claims();
         c["sub"] = "alice";
         return t.form(t.sign(c));
       },
       "invalid_grant", "is not a Kubernetes service account"},
      {"sub longer than 127",
       [](auto& t) {
         boost::json::object c = t.claims();
         c["sub"] = "system:serviceaccount:default:" + std::string(100, 'a');
         return t.form(t.sign(c));
       },
       "invalid_grant", "at most 127"},
      {"kubernetes.io namespace differs from sub",
       [](auto& t) {
         boost::json::object c = t.claims();
         c["kubernetes.io"].as_object()["namespace"] = "kube-system";
         return t.form(t.sign(c));
       },
       "invalid_grant", "namespace"},
  });
}

TEST_F(GoogleStsHandlerErrorTest, RejectsUnknownServiceAccountsByAttributeCondition) {
  const std::string kRejected = GoogleStsHandler::kAttributeConditionMessage;
  check({
      {"unknown KSA",
       [](auto& t) {
         boost::json::object c = t.claims();
         c["sub"] = "system:serviceaccount:default:ghost";
         c["kubernetes.io"].as_object()["serviceaccount"] = {{"name", "ghost"},
                                                             {"uid", "ghost-uid"}};
         return t.form(t.sign(c));
       },
       "unauthorized_client", kRejected},
      {"KSA recreated with another uid",
       [](auto& t) {
         boost::json::object c = t.claims();
         c["kubernetes.io"].as_object()["serviceaccount"] = {{"name", "demo"}, {"uid", "old-uid"}};
         return t.form(t.sign(c));
       },
       "unauthorized_client", kRejected},
  });
}

TEST_F(GoogleStsHandlerTest, KsaDeletedAfterTokenIssueIsRejected) {
  std::string token = kube_token();
  config::World w = test_world();
  w.service_accounts.clear();
  world_ = std::make_shared<const config::World>(w);
  http::Response r = exchange(form(token));
  EXPECT_EQ(r.result(), bhttp::status::bad_request);
  EXPECT_EQ(json(r)["error"], "unauthorized_client");
}

TEST_F(GoogleStsHandlerTest, TokenOfRotatedOutButPublishedKeyStillWorks) {
  std::string old_token = kube_token();
  ASSERT_TRUE(ring_->rotate(clock_.now()).ok());
  clock_.advance(absl::Minutes(10));
  expect_success(exchange(form(old_token)));
  expect_success(exchange(form(kube_token())));
}

TEST_F(GoogleStsHandlerTest, QuotaTripsAtLimitPlusOneAndRecoversAfterTheWindow) {
  world_ = std::make_shared<const config::World>(test_world(3));
  std::string token = kube_token();
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    expect_success(exchange(form(token)));
  }
  clock_.advance(absl::Seconds(59));
  http::Response r = exchange(form(token));
  ASSERT_EQ(r.result(), bhttp::status::too_many_requests) << r.body();
  EXPECT_EQ(r[bhttp::field::content_type], "application/json; charset=utf-8");
  EXPECT_EQ(
      r.body(),
      R"({"error":{"code":429,"message":"[Security Token Service] The request was throttled due to rate )"
      R"(limit. Please retry after a few seconds.","status":"RESOURCE_EXHAUSTED"}})");
  clock_.advance(absl::Seconds(1));
  expect_success(exchange(form(token)));
}

TEST_F(GoogleStsHandlerTest, MalformedRequestsDoNotConsumeQuota) {
  world_ = std::make_shared<const config::World>(test_world(1));
  std::string token = kube_token();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(exchange(with(form(token), "grant_type", "x")).result(), bhttp::status::bad_request);
  }
  expect_success(exchange(form(token)));
  EXPECT_EQ(exchange(form(token)).result(), bhttp::status::too_many_requests);
}

TEST_F(GoogleStsHandlerTest, OnlyPostOnTheTokenPath) {
  http::Response r = call(bhttp::verb::get, "/v1/token", "");
  EXPECT_EQ(r.result(), bhttp::status::method_not_allowed);
  EXPECT_EQ(r[bhttp::field::allow], "POST");
  EXPECT_EQ(call(bhttp::verb::post, "/v1/tokens", encode_form(form(kube_token()))).result(),
            bhttp::status::not_found);
  http::Response text =
      call(bhttp::verb::post, "/v1/token", encode_form(form(kube_token())), "text/plain");
  EXPECT_EQ(text.result(), bhttp::status::bad_request);
  EXPECT_EQ(json(text)["error"], "invalid_request");
}

TEST_F(GoogleStsHandlerTest, RejectsNonStringJsonFields) {
  http::Response r = call(bhttp::verb::post, "/v1/token", R"({"grantType":1})", "application/json");
  EXPECT_EQ(r.result(), bhttp::status::bad_request);
  EXPECT_EQ(json(r)["error"], "invalid_request");
  r = call(bhttp::verb::post, "/v1/token", "[", "application/json");
  EXPECT_EQ(json(r)["error"], "invalid_request");
}

// An external cluster issuer (cluster.issuerUrl + cluster.jwksFile): its tokens are exchanged
// from their own claims (the KSA is not in the World), the embedded issuer stays trusted, and
// anything else is refused.
TEST_F(GoogleStsHandlerTest, TrustsAnExternalClusterIssuerAndTheEmbeddedOne) {
  constexpr char kExternal[] = "https://kubernetes.default.svc.cluster.local";
  absl::StatusOr<jose::SigningKey> external = jose::SigningKey::generate(jose::Algorithm::kRS256);
  absl::StatusOr<jose::SigningKey> other = jose::SigningKey::generate(jose::Algorithm::kRS256);
  ASSERT_TRUE(external.ok() && other.ok());
  const std::string path = ::testing::TempDir() + "/sts_external_jwks.json";
  {
    std::ofstream(path) << boost::json::serialize(
        boost::json::object{{"keys", boost::json::array{external->public_jwk()}}});
  }
  config::World w = test_world();
  w.cluster.issuer_url = kExternal;
  w.cluster.jwks_file = path;
  world_ = std::make_shared<const config::World>(w);
  absl::StatusOr<std::unique_ptr<JwksFileIssuerKeySource>> file_keys =
      JwksFileIssuerKeySource::open(kExternal, path);
  ASSERT_TRUE(file_keys.ok()) << file_keys.status();
  IssuerKeySourceChain chain({&keys_, file_keys->get()});
  GoogleStsHandler handler(
      {kIssuer}, [this] { return world_; }, chain, codec_, clock_);
  target_ = &handler;

  const int64_t now = absl::ToUnixSeconds(clock_.now());
  boost::json::object ext_claims{
      {"aud", boost::json::array{kPool}},
      {"exp", now + 3600},
      {"iat", now},
      {"iss", kExternal},
      {"kubernetes.io",
       {{"namespace", "ext"},
        {"serviceaccount", {{"name", "app"}, {"uid", "real-cluster-uid"}}},
        {"pod", {{"name", "app-1"}, {"uid", "real-pod-uid"}}}}},
      {"sub", "system:serviceaccount:ext:app"}};

  {
    SCOPED_TRACE("external token, KSA unknown to the World");
    http::Response r = exchange(form(jose::sign_jwt(*external, ext_claims)));
    expect_success(r);
    absl::StatusOr<AccessTokenClaims> claims =
        codec_.verify(std::string(json(r).at("access_token").get_string()), clock_.now());
    ASSERT_TRUE(claims.ok()) << claims.status();
    EXPECT_EQ(claims->subject,
              "principal://iam.googleapis.com/projects/123/locations/global/"
              "workloadIdentityPools/p.svc.id.goog/subject/ns/ext/sa/app");
    ASSERT_TRUE(claims->workload.has_value());
    EXPECT_EQ(claims->workload->service_account_uid, "real-cluster-uid");
    EXPECT_EQ(claims->workload->pod_uid, "real-pod-uid");
    EXPECT_EQ(claims->workload->cluster_url, kClusterUrl);
  }
  {
    SCOPED_TRACE("embedded issuer token");
    expect_success(exchange(form(kube_token())));
  }

  // Another key under the external key's kid: the other key's signature on the same claims.
  const std::string good = jose::sign_jwt(*external, ext_claims);
  const std::string by_other = jose::sign_jwt(*other, ext_claims);
  const std::string forged = good.substr(0, good.rfind('.')) + by_other.substr(by_other.rfind('.'));
  boost::json::object other_issuer = ext_claims;
  other_issuer["iss"] = "https://evil.example.com";
  boost::json::object embedded_sub_on_external = ext_claims;
  embedded_sub_on_external["sub"] = "system:serviceaccount:default:demo";
  embedded_sub_on_external.erase("kubernetes.io");
  struct Refused {
    const char* name;
    std::string token;
    const char* description;
  } refused[] = {
      {"another key, same kid", forged, "The subject token signature is invalid."},
      {"key not in the JWKS", jose::sign_jwt(*other, ext_claims), "is not among the keys"},
      {"another issuer", jose::sign_jwt(*external, other_issuer),
       "does not match the expected issuer \"https://kubernetes.default.svc.cluster.local\" or "
       "\"http://127.0.0.1:8080/oidc/c\""},
      {"embedded issuer name, external key",
       jose::sign_jwt(*external,
                      [&] {
                        boost::json::object c = ext_claims;
                        c["iss"] = kIssuer;
                        return c;
                      }()),
       "is not among the keys published by http://127.0.0.1:8080/oidc/c"},
  };
  for (const Refused& c : refused) {
    SCOPED_TRACE(c.name);
    http::Response r = exchange(form(c.token));
    EXPECT_EQ(r.result(), bhttp::status::bad_request) << r.body();
    boost::json::object body = json(r);
    EXPECT_EQ(body["error"], "invalid_grant") << r.body();
    EXPECT_NE(std::string(body["error_description"].as_string()).find(c.description),
              std::string::npos)
        << r.body();
  }
  // A token of the external issuer for a KSA that the World does declare is still mapped from the
  // token (the World's uid does not apply to the real cluster).
  expect_success(exchange(form(jose::sign_jwt(*external, embedded_sub_on_external))));
  target_ = &handler_;
  std::remove(path.c_str());
}

}  // namespace
}  // namespace wims::cloud
