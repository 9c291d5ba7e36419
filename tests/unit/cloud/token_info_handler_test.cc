#include "cloud/token_info_handler.h"

#include <gtest/gtest.h>

#include "cloud/iam_credentials_handler.h"
#include "jose/jwk_set.h"
#include "jose/jwt.h"
#include "unit/cloud/google_cloud_env.h"

namespace wims::cloud {
namespace {

using namespace testing;  // NOLINT: test helpers

class TokenInfoHandlerTest : public ::testing::Test {
 protected:
  TokenInfoHandlerTest()
      : handler_(env_.codec, *env_.ring, env_.clock),
        credentials_(*env_.policies, env_.auth, *env_.ring, env_.clock) {}

  http::Response get(std::string target) {
    http::Request request = make_request(bhttp::verb::get, std::move(target));
    return run(handler_, request);
  }
  std::string id_token(std::string body) {
    http::Request request =
        make_request(bhttp::verb::post,
                     "/v1/projects/-/serviceAccounts/app@p.iam.gserviceaccount.com:generateIdToken",
                     std::move(body), std::string(kAdminToken));
    http::Response response = run(credentials_, request);
    EXPECT_EQ(response.result_int(), 200) << response.body();
    return std::string(json_of(response).at("token").as_string());
  }

  GoogleCloudEnv env_;
  TokenInfoHandler handler_;
  IamCredentialsHandler credentials_;
};

TEST_F(TokenInfoHandlerTest, ServiceAccountAccessToken) {
  std::string token = env_.gsa_token(kAppGsa);
  env_.clock.advance(absl::Seconds(1));
  http::Response response = get("/oauth2/v3/tokeninfo?access_token=" + token);
  ASSERT_EQ(response.result_int(), 200) << response.body();
  const std::string id = service_account_unique_id(kAppGsa);
  EXPECT_EQ(json_of(response),
            boost::json::parse(R"({"azp":")" + id + R"(","aud":")" + id + R"(","sub":")" + id +
                               R"(","scope":"https://www.googleapis.com/auth/cloud-platform",)"
                               R"("exp":"1704070800","expires_in":"3599",)"
                               R"("email":"app@p.iam.gserviceaccount.com","email_verified":"true",)"
                               R"("access_type":"online"})"));
}

TEST_F(TokenInfoHandlerTest, FederatedAccessTokenHasThePrincipalAsSubject) {
  http::Response response =
      get("/oauth2/v3/tokeninfo?access_token=" + env_.federated_token(workload()));
  ASSERT_EQ(response.result_int(), 200) << response.body();
  boost::json::value v = json_of(response);
  EXPECT_EQ(v.at("sub"), kApiPrincipal);
  EXPECT_FALSE(v.as_object().contains("email"));
  EXPECT_EQ(v.at("expires_in"), "3600");
}

TEST_F(TokenInfoHandlerTest, PostWithAFormBody) {
  http::Request request = make_request(bhttp::verb::post, "/oauth2/v3/tokeninfo",
                                       "access_token=" + env_.gsa_token(kAppGsa));
  request.message.set(bhttp::field::content_type, "application/x-www-form-urlencoded");
  http::Response response = run(handler_, request);
  ASSERT_EQ(response.result_int(), 200) << response.body();
  EXPECT_EQ(json_of(response).at("email"), kAppGsa);
}

TEST_F(TokenInfoHandlerTest, BadTokens) {
  std::string expired = env_.gsa_token(kAppGsa, absl::Minutes(5));
  std::string id = id_token(R"({"audience":"a"})");
  std::string forged_id = id.substr(0, id.size() - 4) + (id.ends_with("AAAA") ? "BBBB" : "AAAA");
  env_.clock.advance(absl::Minutes(5));
  struct Case {
    std::string name;
    std::string target;
    std::string error;
  } cases[] = {
      {"expired", "/oauth2/v3/tokeninfo?access_token=" + expired, "invalid_token"},
      {"garbage", "/oauth2/v3/tokeninfo?access_token=ya29.garbage", "invalid_token"},
      {"admin token is no access token",
       std::string("/oauth2/v3/tokeninfo?access_token=") + kAdminToken, "invalid_token"},
      {"forged id token", "/oauth2/v3/tokeninfo?id_token=" + forged_id, "invalid_token"},
      {"id token not a JWT", "/oauth2/v3/tokeninfo?id_token=abc", "invalid_token"},
      {"no token", "/oauth2/v3/tokeninfo", "invalid_request"},
      {"both", "/oauth2/v3/tokeninfo?access_token=a&id_token=b", "invalid_request"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    http::Response response = get(c.target);
    EXPECT_EQ(response.result_int(), 400);
    EXPECT_EQ(json_of(response).at("error"), c.error.c_str());
    if (c.error == "invalid_token") {
      EXPECT_EQ(
          json_of(response),
          boost::json::parse(R"({"error":"invalid_token","error_description":"Invalid Value"})"));
    }
  }
}

TEST_F(TokenInfoHandlerTest, IdTokens) {
  std::string token = id_token(R"({"audience":"https://example.com","includeEmail":true})");
  http::Response response = get("/oauth2/v3/tokeninfo?id_token=" + token);
  ASSERT_EQ(response.result_int(), 200) << response.body();
  boost::json::value v = json_of(response);
  EXPECT_EQ(v.at("iss"), "https://accounts.google.com");
  EXPECT_EQ(v.at("aud"), "https://example.com");
  EXPECT_EQ(v.at("email"), kAppGsa);
  EXPECT_EQ(v.at("email_verified"), "true");
  EXPECT_EQ(v.at("exp"), std::to_string(absl::ToUnixSeconds(env_.clock.now()) + 3600).c_str());
  EXPECT_EQ(v.at("alg"), "RS256");
  EXPECT_EQ(v.at("kid"), env_.ring->current()->kid().c_str());
  env_.clock.advance(absl::Hours(1));
  EXPECT_EQ(get("/oauth2/v3/tokeninfo?id_token=" + token).result_int(), 400);
}

TEST_F(TokenInfoHandlerTest, CertsVerifyTheIdTokens) {
  std::string token = id_token(R"({"audience":"a"})");
  http::Response certs = get("/oauth2/v3/certs");
  ASSERT_EQ(certs.result_int(), 200);
  auto jwks = jose::JwkSet::parse(certs.body());
  ASSERT_TRUE(jwks.ok()) << jwks.status();
  auto jwt = jose::decode_jwt(token);
  ASSERT_TRUE(jwt.ok());
  EXPECT_TRUE(jose::verify_jwt(*jwt, *jwks).ok());
  http::Request post = make_request(bhttp::verb::post, "/oauth2/v3/certs");
  EXPECT_EQ(run(handler_, post).result_int(), 405);
  EXPECT_EQ(get("/oauth2/v3/nope").result_int(), 404);
}

}  // namespace
}  // namespace wims::cloud
