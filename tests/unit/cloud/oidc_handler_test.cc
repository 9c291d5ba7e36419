#include "cloud/oidc_handler.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "jose/jwt.h"

namespace wims::cloud {
namespace {

namespace bhttp = boost::beast::http;

constexpr char kIssuerUrl[] = "http://127.0.0.1:8080/oidc/wims";
constexpr char kAdmin[] = "admin-secret";

config::World oidc_test_world() {
  config::World w;
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
  return w;
}

ServiceAccountTokenIssuerOptions issuer_options() {
  ServiceAccountTokenIssuerOptions o;
  o.issuer_url = kIssuerUrl;
  return o;
}

class OidcHandlerTest : public ::testing::Test {
 protected:
  OidcHandlerTest()
      : store_(*store::StateStore::open_in_memory()),
        ring_(*SigningKeyRing::open(*store_, clock_.now(),
                                    {jose::Algorithm::kES256, absl::Hours(48)})),
        world_(std::make_shared<const config::World>(oidc_test_world())),
        issuer_(
            issuer_options(), *ring_, [this] { return world_; }, clock_),
        pool_(1),
        handler_({kIssuerUrl, kAdmin}, *ring_, issuer_, clock_, pool_.get_executor()) {}
  ~OidcHandlerTest() override { pool_.join(); }

  http::Response call(bhttp::verb method, std::string path, std::string body = "",
                      bool admin = true) {
    http::Request request;
    request.message.method(method);
    request.message.target(path);
    request.message.version(11);
    if (admin) request.message.set(bhttp::field::authorization, std::string("Bearer ") + kAdmin);
    request.message.body() = std::move(body);
    request.path = std::move(path);
    boost::asio::io_context io;
    std::optional<http::Response> response;
    boost::asio::co_spawn(io, handler_.handle(request),
                          [&](std::exception_ptr e, http::Response r) {
                            ASSERT_FALSE(e) << "handler threw";
                            response = std::move(r);
                          });
    io.run();
    EXPECT_TRUE(response.has_value());
    return response ? *std::move(response) : http::Response();
  }

  static boost::json::object json(const http::Response& r) {
    return boost::json::parse(r.body()).as_object();
  }

  std::string token_body(int64_t expiration, std::string uid = "pod-uid") {
    return boost::json::serialize(boost::json::object{
        {"apiVersion", "authentication.k8s.io/v1"},
        {"kind", "TokenRequest"},
        {"spec", boost::json::object{{"audiences", boost::json::array{"sts.amazonaws.com"}},
                                     {"expirationSeconds", expiration},
                                     {"boundObjectRef", boost::json::object{{"kind", "Pod"},
                                                                            {"apiVersion", "v1"},
                                                                            {"name", "app"},
                                                                            {"uid", uid}}}}}});
  }

  FakeClock clock_;
  std::unique_ptr<store::StateStore> store_;
  std::unique_ptr<SigningKeyRing> ring_;
  std::shared_ptr<const config::World> world_;
  ServiceAccountTokenIssuer issuer_;
  boost::asio::thread_pool pool_;
  OidcHandler handler_;
};

TEST_F(OidcHandlerTest, DiscoveryDocument) {
  http::Response r =
      call(bhttp::verb::get, "/oidc/wims/.well-known/openid-configuration", "", false);
  EXPECT_EQ(r.result(), bhttp::status::ok);
  EXPECT_EQ(r[bhttp::field::content_type], "application/json");
  EXPECT_EQ(r[bhttp::field::cache_control], "public, max-age=3600");
  EXPECT_EQ(r.body(),
            std::string(R"({"issuer":"http://127.0.0.1:8080/oidc/wims",)") +
                R"("jwks_uri":"http://127.0.0.1:8080/oidc/wims/openid/v1/jwks",)" +
                R"("response_types_supported":["id_token"],"subject_types_supported":["public"],)" +
                R"("id_token_signing_alg_values_supported":["ES256"]})");
}

TEST_F(OidcHandlerTest, AlgorithmsAreSortedAcrossRotatedKeyTypes) {
  // An RS256 ring over the same store: the ES256 key stays published after rotation.
  auto rs_ring =
      *SigningKeyRing::open(*store_, clock_.now(), {jose::Algorithm::kRS256, absl::Hours(48)});
  ASSERT_TRUE(rs_ring->rotate(clock_.now()).ok());
  EXPECT_EQ(rs_ring->algorithms(clock_.now()), (std::vector<std::string>{"ES256", "RS256"}));
}

TEST_F(OidcHandlerTest, JwksDocument) {
  http::Response r = call(bhttp::verb::get, "/oidc/wims/openid/v1/jwks", "", false);
  EXPECT_EQ(r.result(), bhttp::status::ok);
  EXPECT_EQ(r[bhttp::field::content_type], "application/jwk-set+json");
  EXPECT_EQ(r[bhttp::field::cache_control], "public, max-age=3600");
  absl::StatusOr<jose::JwkSet> set = jose::JwkSet::parse(r.body());
  ASSERT_TRUE(set.ok()) << set.status();
  ASSERT_EQ(set->keys().size(), 1u);
  EXPECT_EQ(set->keys()[0].kid(), ring_->current()->kid());
  boost::json::object doc = json(r);
  for (const boost::json::value& key : doc.at("keys").as_array()) {
    EXPECT_EQ(key.as_object().at("use"), "sig");
    EXPECT_TRUE(key.as_object().contains("alg"));
  }
}

TEST_F(OidcHandlerTest, DiscoveryOnlyUnderIssuerPath) {
  EXPECT_EQ(call(bhttp::verb::get, "/.well-known/openid-configuration").result(),
            bhttp::status::not_found);
  EXPECT_EQ(call(bhttp::verb::get, "/oidc/other/openid/v1/jwks").result(),
            bhttp::status::not_found);
  EXPECT_EQ(call(bhttp::verb::post, "/oidc/wims/openid/v1/jwks").result(),
            bhttp::status::method_not_allowed);
}

TEST_F(OidcHandlerTest, TokenRequestRoundTripsThroughTokenReview) {
  http::Response r = call(
      bhttp::verb::post, "/api/v1/namespaces/default/serviceaccounts/demo/token", token_body(3600));
  ASSERT_EQ(r.result(), bhttp::status::created) << r.body();
  boost::json::object tr = json(r);
  EXPECT_EQ(tr.at("kind"), "TokenRequest");
  EXPECT_EQ(tr.at("apiVersion"), "authentication.k8s.io/v1");
  EXPECT_EQ(tr.at("spec").at("expirationSeconds").as_int64(), 3600);
  EXPECT_EQ(tr.at("status").at("expirationTimestamp"),
            "2023-11-14T23:13:20Z");  // FakeClock start + 1h
  std::string token(tr.at("status").at("token").as_string());
  EXPECT_EQ(jose::decode_jwt(token)->claims.at("sub"), "system:serviceaccount:default:demo");

  std::string review_body = boost::json::serialize(boost::json::object{
      {"apiVersion", "authentication.k8s.io/v1"},
      {"kind", "TokenReview"},
      {"spec", boost::json::object{{"token", token},
                                   {"audiences", boost::json::array{"sts.amazonaws.com"}}}}});
  http::Response review =
      call(bhttp::verb::post, "/apis/authentication.k8s.io/v1/tokenreviews", review_body);
  ASSERT_EQ(review.result(), bhttp::status::created) << review.body();
  boost::json::object status = json(review).at("status").as_object();
  EXPECT_EQ(status.at("authenticated"), true);
  EXPECT_EQ(status.at("audiences"), (boost::json::array{"sts.amazonaws.com"}));
  EXPECT_EQ(status.at("user").at("username"), "system:serviceaccount:default:demo");
  EXPECT_EQ(status.at("user").at("groups").as_array().size(), 3u);
  EXPECT_EQ(status.at("user").at("extra").at("authentication.kubernetes.io/pod-name"),
            (boost::json::array{"app"}));

  std::string wrong = boost::json::serialize(boost::json::object{
      {"spec", boost::json::object{{"token", token}, {"audiences", boost::json::array{"other"}}}}});
  http::Response denied =
      call(bhttp::verb::post, "/apis/authentication.k8s.io/v1/tokenreviews", wrong);
  ASSERT_EQ(denied.result(), bhttp::status::created);
  boost::json::object denied_status = json(denied).at("status").as_object();
  EXPECT_FALSE(denied_status.contains("authenticated"));
  EXPECT_FALSE(denied_status.at("error").as_string().empty());
}

TEST_F(OidcHandlerTest, ApiErrorsAreKubernetesStatuses) {
  struct Case {
    std::string name;
    std::string path;
    std::string body;
    bool admin;
    int code;
    std::string reason;
  };
  const std::string token_path = "/api/v1/namespaces/default/serviceaccounts/demo/token";
  std::vector<Case> cases = {
      {"no admin token", token_path, token_body(3600), false, 401, "Unauthorized"},
      {"599 s", token_path, token_body(599), true, 422, "Invalid"},
      {"uid mismatch", token_path, token_body(3600, "stale"), true, 409, "Conflict"},
      {"unknown SA", "/api/v1/namespaces/default/serviceaccounts/ghost/token", token_body(3600),
       true, 404, "NotFound"},
      {"not json", token_path, "{", true, 400, "BadRequest"},
      {"wrong kind", token_path, R"({"kind":"Pod"})", true, 400, "BadRequest"},
      {"string expiration", token_path, R"({"spec":{"expirationSeconds":"3600"}})", true, 400,
       "BadRequest"},
      {"empty review token", "/apis/authentication.k8s.io/v1/tokenreviews", R"({"spec":{}})", true,
       400, "BadRequest"},
      {"review without admin", "/apis/authentication.k8s.io/v1/tokenreviews",
       R"({"spec":{"token":"x"}})", false, 401, "Unauthorized"},
      {"rotate without admin", "/wims/v1/signing-keys:rotate", "", false, 401, "Unauthorized"},
      {"unknown path", "/api/v1/pods", "", true, 404, "NotFound"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    http::Response r = call(bhttp::verb::post, c.path, c.body, c.admin);
    EXPECT_EQ(static_cast<int>(r.result()), c.code) << r.body();
    boost::json::object status = json(r);
    EXPECT_EQ(status.at("kind"), "Status");
    EXPECT_EQ(status.at("status"), "Failure");
    EXPECT_EQ(std::string(status.at("reason").as_string()), c.reason);
    EXPECT_EQ(status.at("code").as_int64(), c.code);
  }
  http::Response invalid = call(bhttp::verb::post, token_path, token_body(599));
  EXPECT_EQ(json(invalid).at("message"),
            "TokenRequest.authentication.k8s.io \"\" is invalid: spec.expirationSeconds: Invalid "
            "value: 599: may "
            "not specify a duration less than 10 minutes");
}

TEST_F(OidcHandlerTest, WrongAdminTokenIsRejected) {
  http::Request request;
  for (std::string header : {"Bearer admin-secreT", "Bearer admin-secret2", "bearer admin-secret",
                             "admin-secret", "Bearer "}) {
    SCOPED_TRACE(header);
    http::Request r;
    r.message.method(bhttp::verb::post);
    r.message.set(bhttp::field::authorization, header);
    r.path = "/wims/v1/signing-keys:rotate";
    boost::asio::io_context io;
    std::optional<http::Response> response;
    boost::asio::co_spawn(io, handler_.handle(r),
                          [&](std::exception_ptr, http::Response resp) { response = resp; });
    io.run();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->result(), bhttp::status::unauthorized);
  }
}

TEST_F(OidcHandlerTest, RotateRunsOffTheCallerAndPublishesBothKeys) {
  std::string old_kid = ring_->current()->kid();
  http::Response r = call(bhttp::verb::post, "/wims/v1/signing-keys:rotate");
  ASSERT_EQ(r.result(), bhttp::status::ok) << r.body();
  boost::json::object body = json(r);
  EXPECT_EQ(std::string(body.at("previousKid").as_string()), old_kid);
  EXPECT_EQ(std::string(body.at("kid").as_string()), ring_->current()->kid());
  EXPECT_NE(ring_->current()->kid(), old_kid);
  absl::StatusOr<jose::JwkSet> set =
      jose::JwkSet::parse(call(bhttp::verb::get, "/oidc/wims/openid/v1/jwks").body());
  ASSERT_TRUE(set.ok());
  EXPECT_NE(set->find(old_kid), nullptr);
  EXPECT_NE(set->find(ring_->current()->kid()), nullptr);
}

}  // namespace
}  // namespace wims::cloud
