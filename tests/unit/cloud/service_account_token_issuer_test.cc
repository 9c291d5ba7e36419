#include "cloud/service_account_token_issuer.h"

#include <gtest/gtest.h>

#include <regex>

#include "jose/jwt.h"

namespace wims::cloud {
namespace {

constexpr char kIssuer[] = "http://127.0.0.1:8080/oidc/wims";

config::ServiceAccount make_sa(std::string name, std::string uid) {
  config::ServiceAccount sa;
  sa.namespace_name = "default";
  sa.name = std::move(name);
  sa.uid = std::move(uid);
  return sa;
}

config::Pod make_pod(std::string name, std::string uid, std::string sa) {
  config::Pod pod;
  pod.namespace_name = "default";
  pod.name = std::move(name);
  pod.uid = std::move(uid);
  pod.service_account_name = std::move(sa);
  return pod;
}

ServiceAccountTokenIssuerOptions options(std::string issuer) {
  ServiceAccountTokenIssuerOptions o;
  o.issuer_url = std::move(issuer);
  return o;
}

config::World test_world() {
  config::World w;
  w.project.id = "p";
  w.project.number = 123;
  w.cluster.name = "wims";
  w.node.name = "node-1";
  w.service_accounts = {make_sa("demo", "sa-uid"), make_sa("other", "sa2-uid")};
  w.pods = {make_pod("app", "pod-uid", "demo"), make_pod("otherpod", "pod2-uid", "other")};
  return w;
}

class IssuerTest : public ::testing::Test {
 protected:
  IssuerTest()
      : store_(*store::StateStore::open_in_memory()),
        ring_(*SigningKeyRing::open(*store_, clock_.now(),
                                    {jose::Algorithm::kES256, absl::Hours(48)})),
        world_(std::make_shared<const config::World>(test_world())),
        issuer_(
            options(kIssuer), *ring_, [this] { return world_; }, clock_) {}

  TokenRequestSpec pod_spec() {
    return TokenRequestSpec{.namespace_name = "default",
                            .service_account = "demo",
                            .audiences = {"sts.amazonaws.com"},
                            .expiration_seconds = 3600,
                            .bound_object_ref = BoundObjectRef{"Pod", "v1", "app", "pod-uid"}};
  }

  boost::json::object claims_of(const std::string& token) {
    return jose::decode_jwt(token)->claims;
  }

  FakeClock clock_;
  std::unique_ptr<store::StateStore> store_;
  std::unique_ptr<SigningKeyRing> ring_;
  std::shared_ptr<const config::World> world_;
  ServiceAccountTokenIssuer issuer_;
};

TEST_F(IssuerTest, PodBoundTokenHasKubernetesClaims) {
  absl::StatusOr<IssuedToken> token = issuer_.issue(pod_spec());
  ASSERT_TRUE(token.ok()) << token.status();
  boost::json::object c = claims_of(token->token);
  int64_t now = absl::ToUnixSeconds(clock_.now());
  EXPECT_EQ(c.at("aud"), (boost::json::array{"sts.amazonaws.com"}));
  EXPECT_EQ(c.at("iat").as_int64(), now);
  EXPECT_EQ(c.at("nbf").as_int64(), now);
  EXPECT_EQ(c.at("exp").as_int64(), now + 3600);
  EXPECT_EQ(c.at("iss"), kIssuer);
  EXPECT_EQ(c.at("sub"), "system:serviceaccount:default:demo");
  EXPECT_TRUE(std::regex_match(
      std::string(c.at("jti").as_string()),
      std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")));
  const boost::json::object& k = c.at("kubernetes.io").as_object();
  EXPECT_EQ(k.at("namespace"), "default");
  EXPECT_EQ(k.at("pod"), (boost::json::object{{"name", "app"}, {"uid", "pod-uid"}}));
  EXPECT_EQ(k.at("serviceaccount"), (boost::json::object{{"name", "demo"}, {"uid", "sa-uid"}}));
  EXPECT_EQ(k.at("node").as_object().at("name"), "node-1");
  EXPECT_FALSE(k.at("node").as_object().at("uid").as_string().empty());
  EXPECT_FALSE(k.contains("warnafter"));
  EXPECT_EQ(token->expiration_timestamp, absl::FromUnixSeconds(now + 3600));
  EXPECT_TRUE(
      jose::verify_jwt(*jose::decode_jwt(token->token), ring_->verification_keys(clock_.now()))
          .ok());
}

TEST_F(IssuerTest, DefaultsAudiencesAndExpiration) {
  absl::StatusOr<IssuedToken> token =
      issuer_.issue(TokenRequestSpec{"default", "demo", {}, std::nullopt, std::nullopt});
  ASSERT_TRUE(token.ok()) << token.status();
  boost::json::object c = claims_of(token->token);
  EXPECT_EQ(c.at("aud"), (boost::json::array{kIssuer}));
  EXPECT_EQ(c.at("exp").as_int64() - c.at("iat").as_int64(), 3600);
  EXPECT_EQ(token->audiences, (std::vector<std::string>{kIssuer}));
  EXPECT_FALSE(c.at("kubernetes.io").as_object().contains("pod"));
  EXPECT_FALSE(c.at("kubernetes.io").as_object().contains("node"));
}

TEST_F(IssuerTest, LongRequestsAreShortenedToMaxExpiration) {
  TokenRequestSpec spec = pod_spec();
  spec.expiration_seconds = 7 * 24 * 3600;
  absl::StatusOr<IssuedToken> token = issuer_.issue(spec);
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(token->expiration_seconds, 48 * 3600);
}

TEST_F(IssuerTest, RequestErrorsMatchKubernetes) {
  struct Case {
    std::string name;
    TokenRequestSpec spec;
    absl::StatusCode code;
    std::string message;
  };
  auto with = [&](auto mutate) {
    TokenRequestSpec s = pod_spec();
    mutate(s);
    return s;
  };
  std::vector<Case> cases = {
      {"599 seconds", with([](auto& s) { s.expiration_seconds = 599; }),
       absl::StatusCode::kInvalidArgument,
       "TokenRequest.authentication.k8s.io \"\" is invalid: spec.expirationSeconds: Invalid value: "
       "599: may not "
       "specify a duration less than 10 minutes"},
      {"over 2^32", with([](auto& s) { s.expiration_seconds = (int64_t{1} << 32) + 1; }),
       absl::StatusCode::kInvalidArgument,
       "TokenRequest.authentication.k8s.io \"\" is invalid: spec.expirationSeconds: Invalid value: "
       "4294967297: may "
       "not specify a duration larger than 2^32 seconds"},
      {"unknown SA", with([](auto& s) { s.service_account = "ghost"; }),
       absl::StatusCode::kNotFound, "serviceaccounts \"ghost\" not found"},
      {"ConfigMap", with([](auto& s) { s.bound_object_ref->kind = "ConfigMap"; }),
       absl::StatusCode::kFailedPrecondition,
       "cannot bind token to object of type /v1, Kind=ConfigMap"},
      {"apps group", with([](auto& s) { s.bound_object_ref->api_version = "apps/v1"; }),
       absl::StatusCode::kFailedPrecondition,
       "cannot bind token to object of type apps/v1, Kind=Pod"},
      {"pod of another SA", with([](auto& s) { s.bound_object_ref->name = "otherpod"; }),
       absl::StatusCode::kFailedPrecondition,
       "cannot bind token for serviceaccount \"demo\" to pod running with serviceaccount "
       "\"other\""},
      {"uid mismatch", with([](auto& s) { s.bound_object_ref->uid = "stale"; }),
       absl::StatusCode::kAborted,
       "Operation cannot be fulfilled on Pod \"app\": the UID in the bound object reference "
       "(stale) does not "
       "match the UID in record. The object might have been deleted and then recreated"},
      {"missing pod", with([](auto& s) { s.bound_object_ref->name = "gone"; }),
       absl::StatusCode::kNotFound, "pods \"gone\" not found"},
      {"secret", with([](auto& s) {
         s.bound_object_ref = BoundObjectRef{"Secret", "v1", "s", ""};
       }),
       absl::StatusCode::kNotFound, "secrets \"s\" not found"},
      {"other node", with([](auto& s) {
         s.bound_object_ref = BoundObjectRef{"Node", "v1", "n9", ""};
       }),
       absl::StatusCode::kNotFound, "nodes \"n9\" not found"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<IssuedToken> token = issuer_.issue(c.spec);
    EXPECT_EQ(token.status().code(), c.code) << token.status();
    EXPECT_EQ(token.status().message(), c.message);
  }
}

TEST_F(IssuerTest, NodeBoundToken) {
  TokenRequestSpec spec = pod_spec();
  spec.bound_object_ref = BoundObjectRef{"Node", "v1", "node-1", ""};
  absl::StatusOr<IssuedToken> token = issuer_.issue(spec);
  ASSERT_TRUE(token.ok()) << token.status();
  boost::json::object c = claims_of(token->token);
  const boost::json::object& k = c.at("kubernetes.io").as_object();
  EXPECT_FALSE(k.contains("pod"));
  EXPECT_EQ(k.at("node").as_object().at("name"), "node-1");
  TokenReviewResult review = issuer_.review(token->token, {"sts.amazonaws.com"});
  EXPECT_TRUE(review.authenticated) << review.error;
}

TEST_F(IssuerTest, WarnOnlyMarkerExtendsPodTokensWhenEnabled) {
  ServiceAccountTokenIssuerOptions opts = options(kIssuer);
  opts.max_expiration = absl::Hours(24 * 400);
  opts.extend_expiration = true;
  ServiceAccountTokenIssuer extending(
      opts, *ring_, [this] { return world_; }, clock_);
  TokenRequestSpec spec = pod_spec();
  spec.audiences = {};
  spec.expiration_seconds = 3607;
  absl::StatusOr<IssuedToken> token = extending.issue(spec);
  ASSERT_TRUE(token.ok()) << token.status();
  boost::json::object c = claims_of(token->token);
  int64_t iat = c.at("iat").as_int64();
  EXPECT_EQ(c.at("exp").as_int64(), iat + 365 * 24 * 3600);
  EXPECT_EQ(c.at("kubernetes.io").as_object().at("warnafter").as_int64(), iat + 3607);
  EXPECT_EQ(token->expiration_timestamp, absl::FromUnixSeconds(iat + 3607));

  spec.audiences = {"sts.amazonaws.com"};  // not the API audiences: no extension
  EXPECT_EQ(claims_of(extending.issue(spec)->token).at("exp").as_int64(), iat + 3607);
}

TEST_F(IssuerTest, ReviewAuthenticatesWithUserInfo) {
  IssuedToken token = *issuer_.issue(pod_spec());
  std::string jti(claims_of(token.token).at("jti").as_string());
  TokenReviewResult review = issuer_.review(token.token, {"sts.amazonaws.com", "unrelated"});
  ASSERT_TRUE(review.authenticated) << review.error;
  EXPECT_EQ(review.audiences, (std::vector<std::string>{"sts.amazonaws.com"}));
  EXPECT_EQ(review.user.username, "system:serviceaccount:default:demo");
  EXPECT_EQ(review.user.uid, "sa-uid");
  EXPECT_EQ(review.user.groups,
            (std::vector<std::string>{"system:serviceaccounts", "system:serviceaccounts:default",
                                      "system:authenticated"}));
  using V = std::vector<std::string>;
  EXPECT_EQ(review.user.extra.at("authentication.kubernetes.io/pod-name"), V{"app"});
  EXPECT_EQ(review.user.extra.at("authentication.kubernetes.io/pod-uid"), V{"pod-uid"});
  EXPECT_EQ(review.user.extra.at("authentication.kubernetes.io/node-name"), V{"node-1"});
  EXPECT_EQ(review.user.extra.count("authentication.kubernetes.io/node-uid"), 1u);
  EXPECT_EQ(review.user.extra.at("authentication.kubernetes.io/credential-id"), V{"JTI=" + jti});
}

TEST_F(IssuerTest, ReviewRejects) {
  IssuedToken token = *issuer_.issue(pod_spec());
  {
    SCOPED_TRACE("wrong audience");
    TokenReviewResult r = issuer_.review(token.token, {"other"});
    EXPECT_FALSE(r.authenticated);
    EXPECT_EQ(
        r.error,
        "token audiences [\"sts.amazonaws.com\"] is invalid for the target audiences [\"other\"]");
  }
  {
    SCOPED_TRACE("no audiences means the API audiences");
    EXPECT_FALSE(issuer_.review(token.token, {}).authenticated);
  }
  {
    SCOPED_TRACE("garbage");
    EXPECT_FALSE(issuer_.review("not-a-jwt", {"sts.amazonaws.com"}).authenticated);
  }
  {
    SCOPED_TRACE("other issuer");
    ServiceAccountTokenIssuer other(
        options("https://elsewhere"), *ring_, [this] { return world_; }, clock_);
    TokenReviewResult r = other.review(token.token, {"sts.amazonaws.com"});
    EXPECT_FALSE(r.authenticated);
  }
  {
    SCOPED_TRACE("signed by a key not in the ring");
    absl::StatusOr<jose::SigningKey> rogue = jose::SigningKey::generate(jose::Algorithm::kES256);
    std::string forged = jose::sign_jwt(*rogue, claims_of(token.token));
    EXPECT_FALSE(issuer_.review(forged, {"sts.amazonaws.com"}).authenticated);
  }
  {
    SCOPED_TRACE("expired, with one minute of leeway");
    clock_.advance(absl::Seconds(3600 + 60));
    EXPECT_TRUE(issuer_.review(token.token, {"sts.amazonaws.com"}).authenticated);
    clock_.advance(absl::Seconds(1));
    TokenReviewResult r = issuer_.review(token.token, {"sts.amazonaws.com"});
    EXPECT_FALSE(r.authenticated);
    EXPECT_EQ(r.error, "service account token has expired");
  }
}

TEST_F(IssuerTest, ReviewRejectsDeletedOrRecreatedObjects) {
  IssuedToken token = *issuer_.issue(pod_spec());
  config::World w = test_world();
  w.pods.erase(w.pods.begin());  // pod deleted
  world_ = std::make_shared<const config::World>(w);
  EXPECT_EQ(issuer_.review(token.token, {"sts.amazonaws.com"}).error,
            "service account token has been invalidated");

  w = test_world();
  w.pods[0].uid = "recreated";
  world_ = std::make_shared<const config::World>(w);
  EXPECT_EQ(issuer_.review(token.token, {"sts.amazonaws.com"}).error,
            "pod UID (recreated) does not match claim (pod-uid)");

  w = test_world();
  w.service_accounts[0].uid = "sa-recreated";
  world_ = std::make_shared<const config::World>(w);
  EXPECT_EQ(issuer_.review(token.token, {"sts.amazonaws.com"}).error,
            "service account UID (sa-recreated) does not match claim (sa-uid)");

  w = test_world();
  w.service_accounts.erase(w.service_accounts.begin());
  world_ = std::make_shared<const config::World>(w);
  EXPECT_FALSE(issuer_.review(token.token, {"sts.amazonaws.com"}).authenticated);
}

TEST_F(IssuerTest, TokensSurviveKeyRotation) {
  IssuedToken token = *issuer_.issue(pod_spec());
  ASSERT_TRUE(ring_->rotate(clock_.now()).ok());
  EXPECT_TRUE(issuer_.review(token.token, {"sts.amazonaws.com"}).authenticated);
  IssuedToken fresh = *issuer_.issue(pod_spec());
  EXPECT_NE(*jose::string_claim(jose::decode_jwt(fresh.token)->header, "kid"),
            *jose::string_claim(jose::decode_jwt(token.token)->header, "kid"));
  EXPECT_TRUE(issuer_.review(fresh.token, {"sts.amazonaws.com"}).authenticated);
}

}  // namespace
}  // namespace wims::cloud
