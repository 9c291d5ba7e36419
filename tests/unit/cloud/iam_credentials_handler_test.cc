#include "cloud/iam_credentials_handler.h"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "jose/jwt.h"
#include "unit/cloud/google_cloud_env.h"

namespace wims::cloud {
namespace {

using namespace testing;  // NOLINT: test helpers

constexpr char kAccessPath[] =
    "/v1/projects/-/serviceAccounts/app@p.iam.gserviceaccount.com:generateAccessToken";
constexpr char kIdPath[] =
    "/v1/projects/-/serviceAccounts/app@p.iam.gserviceaccount.com:generateIdToken";
constexpr char kScopeBody[] = R"({"scope":["https://www.googleapis.com/auth/cloud-platform"]})";

class IamCredentialsHandlerTest : public ::testing::Test {
 protected:
  IamCredentialsHandlerTest() : handler_(*env_.policies, env_.auth, *env_.ring, env_.clock) {}

  http::Response post(std::string path, std::string body, std::optional<std::string> token) {
    http::Request request =
        make_request(bhttp::verb::post, std::move(path), std::move(body), std::move(token));
    return run(handler_, request);
  }
  std::string api_token() { return env_.federated_token(workload("prod", "api")); }

  GoogleCloudEnv env_;
  IamCredentialsHandler handler_;
};

TEST_F(IamCredentialsHandlerTest, GenerateAccessTokenForABoundWorkload) {
  http::Response response = post(kAccessPath, kScopeBody, api_token());
  ASSERT_EQ(response.result_int(), 200) << response.body();
  boost::json::object body = json_of(response).as_object();
  EXPECT_EQ(body.size(), 2u);
  EXPECT_EQ(body.at("expireTime").as_string(), "2024-01-01T01:00:00Z");
  std::string token(body.at("accessToken").as_string());
  EXPECT_TRUE(token.starts_with("ya29."));
  auto claims = env_.codec.verify(token, env_.clock.now());
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->kind, AccessTokenKind::kServiceAccount);
  EXPECT_EQ(claims->subject, kAppGsa);
  EXPECT_EQ(claims->scopes, std::vector<std::string>{kCloudPlatform});
  EXPECT_EQ(claims->expires_at, at("2024-01-01T01:00:00Z"));
  // The minted token authenticates as the service account.
  auto caller = env_.auth.caller_of_token(token);
  ASSERT_TRUE(caller.ok());
  EXPECT_EQ(caller->email(), kAppGsa);
}

TEST_F(IamCredentialsHandlerTest, DeniedWithTheDocumentedError) {
  http::Response response = post(kAccessPath, kScopeBody, env_.federated_token(workload("dev")));
  EXPECT_EQ(response.result_int(), 403);
  // cloud-kubernetes-semantics.md section 2, verbatim.
  EXPECT_EQ(
      json_of(response),
      boost::json::parse(
          R"({"error":{"code":403,"message":"Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).","status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"IAM_PERMISSION_DENIED","domain":"iam.googleapis.com","metadata":{"permission":"iam.serviceAccounts.getAccessToken"}}]}})"));
}

TEST_F(IamCredentialsHandlerTest, RequestChecklist) {
  const std::string token = api_token();
  struct Case {
    std::string name;
    std::string path;
    std::string body;
    std::optional<std::string> token;
    int code;
    std::string status;  // google status name, "" for 200
  } cases[] = {
      {"default lifetime", kAccessPath, kScopeBody, token, 200, ""},
      {"lifetime 1800s", kAccessPath, R"({"scope":["s"],"lifetime":"1800s","delegates":[]})", token,
       200, ""},
      {"lifetime 3600s", kAccessPath, R"({"scope":["s"],"lifetime":"3600s"})", token, 200, ""},
      {"lifetime 7200s", kAccessPath, R"({"scope":["s"],"lifetime":"7200s"})", token, 400,
       "INVALID_ARGUMENT"},
      {"lifetime 3600.5s", kAccessPath, R"({"scope":["s"],"lifetime":"3600.5s"})", token, 400,
       "INVALID_ARGUMENT"},
      {"lifetime 0s", kAccessPath, R"({"scope":["s"],"lifetime":"0s"})", token, 400,
       "INVALID_ARGUMENT"},
      {"lifetime not a duration", kAccessPath, R"({"scope":["s"],"lifetime":"1h"})", token, 400,
       "INVALID_ARGUMENT"},
      {"lifetime not a string", kAccessPath, R"({"scope":["s"],"lifetime":3600})", token, 400,
       "INVALID_ARGUMENT"},
      {"no scope", kAccessPath, "{}", token, 400, "INVALID_ARGUMENT"},
      {"scope not a list", kAccessPath, R"({"scope":"s"})", token, 400, "INVALID_ARGUMENT"},
      {"unknown field", kAccessPath, R"({"scope":["s"],"x":1})", token, 400, "INVALID_ARGUMENT"},
      {"not JSON", kAccessPath, "{", token, 400, "INVALID_ARGUMENT"},
      {"project id instead of -",
       "/v1/projects/p/serviceAccounts/app@p.iam.gserviceaccount.com:generateAccessToken",
       kScopeBody, token, 400, "INVALID_ARGUMENT"},
      {"unknown service account",
       "/v1/projects/-/serviceAccounts/nope@p.iam.gserviceaccount.com:generateAccessToken",
       kScopeBody, token, 404, "NOT_FOUND"},
      {"email case-insensitive",
       "/v1/projects/-/serviceAccounts/APP@p.iam.gserviceaccount.com:generateAccessToken",
       kScopeBody, token, 200, ""},
      {"no token", kAccessPath, kScopeBody, std::nullopt, 401, "UNAUTHENTICATED"},
      {"bad token", kAccessPath, kScopeBody, "ya29.bad", 401, "UNAUTHENTICATED"},
      {"admin", kAccessPath, kScopeBody, kAdminToken, 200, ""},
      {"other KSA", kAccessPath, kScopeBody, env_.federated_token(workload("prod", "web")), 403,
       "PERMISSION_DENIED"},
      {"the GSA itself lacks token creator on itself", kAccessPath, kScopeBody,
       env_.gsa_token(kAppGsa), 403, "PERMISSION_DENIED"},
      {"unknown delegate", kAccessPath,
       R"({"scope":["s"],"delegates":["projects/-/serviceAccounts/x@p.iam.gserviceaccount.com"]})",
       token, 404, "NOT_FOUND"},
      {"malformed delegate", kAccessPath, R"({"scope":["s"],"delegates":["x@p"]})", token, 400,
       "INVALID_ARGUMENT"},
      {"id token without audience", kIdPath, "{}", token, 400, "INVALID_ARGUMENT"},
      {"id token", kIdPath, R"({"audience":"https://example.com"})", token, 200, ""},
      {"unknown method", "/v1/projects/-/serviceAccounts/app@p.iam.gserviceaccount.com:nope", "{}",
       token, 404, "NOT_FOUND"},
      {"signBlob", "/v1/projects/-/serviceAccounts/app@p.iam.gserviceaccount.com:signBlob", "{}",
       token, 501, "UNIMPLEMENTED"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    http::Response response = post(c.path, c.body, c.token);
    EXPECT_EQ(response.result_int(), c.code) << response.body();
    if (c.code != 200) {
      boost::json::value body = json_of(response);
      ASSERT_TRUE(body.is_object());
      EXPECT_EQ(body.at("error").at("code"), c.code);
      EXPECT_EQ(body.at("error").at("status"), c.status.c_str());
    }
  }
}

TEST_F(IamCredentialsHandlerTest, LifetimeSetsExpireTime) {
  http::Response response = post(kAccessPath, R"({"scope":["s"],"lifetime":"1800s"})", api_token());
  ASSERT_EQ(response.result_int(), 200);
  EXPECT_EQ(json_of(response).at("expireTime"), "2024-01-01T00:30:00Z");
}

TEST_F(IamCredentialsHandlerTest, WrongHttpMethodIs405) {
  http::Request request = make_request(bhttp::verb::get, kAccessPath, "", api_token());
  http::Response response = run(handler_, request);
  EXPECT_EQ(response.result_int(), 405);
  EXPECT_EQ(response[bhttp::field::allow], "POST");
}

TEST_F(IamCredentialsHandlerTest, DelegationNeedsEveryLinkOfTheChain) {
  const std::string other_path =
      "/v1/projects/-/serviceAccounts/other@p.iam.gserviceaccount.com:generateAccessToken";
  const std::string body =
      R"({"scope":["s"],"delegates":["projects/-/serviceAccounts/app@p.iam.gserviceaccount.com"]})";
  // prod/api may impersonate app, but app may not mint for other.
  EXPECT_EQ(post(other_path, body, api_token()).result_int(), 403);
  env_.set_policy("projects/p/serviceAccounts/other@p.iam.gserviceaccount.com",
                  R"({"bindings":[{"role":"roles/iam.serviceAccountTokenCreator",
                      "members":["serviceAccount:app@p.iam.gserviceaccount.com"]}]})");
  EXPECT_EQ(post(other_path, body, api_token()).result_int(), 200);
  // Directly (without the delegate), prod/api still may not.
  EXPECT_EQ(post(other_path, R"({"scope":["s"]})", api_token()).result_int(), 403);
  // And app's own token may now mint for other.
  EXPECT_EQ(post(other_path, R"({"scope":["s"]})", env_.gsa_token(kAppGsa)).result_int(), 200);
}

TEST_F(IamCredentialsHandlerTest, ConditionOnRequestTimeFollowsTheClock) {
  env_.set_policy("projects/p/serviceAccounts/app@p.iam.gserviceaccount.com",
                  std::string(R"({"version":3,"bindings":[{"role":"roles/iam.workloadIdentityUser",
                      "members":[")") +
                      kApiPrincipal + R"j("],
                      "condition":{"title":"until noon",
                        "expression":"request.time < timestamp('2024-01-01T12:00:00Z')"}}]})j");
  EXPECT_EQ(post(kAccessPath, kScopeBody, api_token()).result_int(), 200);
  env_.clock.set(at("2024-01-01T11:59:59Z"));
  EXPECT_EQ(post(kAccessPath, kScopeBody, api_token()).result_int(), 200);
  env_.clock.set(at("2024-01-01T12:00:00Z"));
  EXPECT_EQ(post(kAccessPath, kScopeBody, api_token()).result_int(), 403);
}

TEST_F(IamCredentialsHandlerTest, GenerateIdTokenSignsGoogleClaims) {
  http::Response response =
      post(kIdPath, R"({"audience":"https://example.com","includeEmail":true})", api_token());
  ASSERT_EQ(response.result_int(), 200) << response.body();
  std::string token(json_of(response).at("token").as_string());
  auto jwt = jose::decode_jwt(token);
  ASSERT_TRUE(jwt.ok());
  EXPECT_TRUE(jose::verify_jwt(*jwt, env_.ring->verification_keys(env_.clock.now())).ok());
  EXPECT_EQ(jwt->header.at("alg"), "RS256");
  const boost::json::object& c = jwt->claims;
  EXPECT_EQ(c.at("iss"), "https://accounts.google.com");
  EXPECT_EQ(c.at("aud"), "https://example.com");
  const std::string id = service_account_unique_id(kAppGsa);
  EXPECT_EQ(c.at("sub"), id.c_str());
  EXPECT_EQ(c.at("azp"), id.c_str());
  EXPECT_EQ(c.at("iat"), absl::ToUnixSeconds(env_.clock.now()));
  EXPECT_EQ(c.at("exp"), absl::ToUnixSeconds(env_.clock.now()) + 3600);
  EXPECT_EQ(c.at("email"), kAppGsa);
  EXPECT_EQ(c.at("email_verified"), true);
  EXPECT_FALSE(c.contains("google"));

  http::Response no_email = post(kIdPath, R"({"audience":"a"})", api_token());
  ASSERT_EQ(no_email.result_int(), 200);
  auto plain = jose::decode_jwt(std::string(json_of(no_email).at("token").as_string()));
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->claims.contains("email"));
  EXPECT_FALSE(plain->claims.contains("email_verified"));
}

TEST_F(IamCredentialsHandlerTest, UniqueIdsAreStableNumericAndDistinct) {
  std::string app = service_account_unique_id(kAppGsa);
  EXPECT_EQ(app.size(), 21u);
  EXPECT_EQ(app.front(), '1');
  EXPECT_EQ(app.find_first_not_of("0123456789"), std::string::npos);
  EXPECT_EQ(app, service_account_unique_id("APP@p.iam.gserviceaccount.com"));
  EXPECT_NE(app, service_account_unique_id(kOtherGsa));
}

TEST_F(IamCredentialsHandlerTest, GenerateIdTokenDeniedNamesGetOpenIdToken) {
  http::Response response =
      post(kIdPath, R"({"audience":"a"})", env_.federated_token(workload("dev")));
  ASSERT_EQ(response.result_int(), 403);
  EXPECT_EQ(json_of(response).at("error").at("details").at(0).at("metadata").at("permission"),
            "iam.serviceAccounts.getOpenIdToken");
}

class ComputeEngineExtensionTest : public IamCredentialsHandlerTest {
 protected:
  ComputeEngineExtensionTest() {
    config::World w = google_world();
    w.node.name = "node-1";
    w.node.zone = "us-central1-a";
    w.node.id = 4242424242424242424ULL;
    world_env_ = std::make_unique<GoogleCloudEnv>(w);
    world_handler_ = std::make_unique<IamCredentialsHandler>(
        *world_env_->policies, world_env_->auth, *world_env_->ring, world_env_->clock);
  }
  http::Response id_token(std::string body) {
    http::Request request = make_request(bhttp::verb::post, kIdPath, std::move(body),
                                         world_env_->federated_token(workload()));
    return run(*world_handler_, request);
  }
  std::unique_ptr<GoogleCloudEnv> world_env_;
  std::unique_ptr<IamCredentialsHandler> world_handler_;
};

constexpr char kComputeEngine[] =
    R"("wimsComputeEngine":{"project_id":"p","project_number":123,"zone":"us-central1-a",)"
    R"("instance_id":"4242424242424242424","instance_name":"node-1",)"
    R"("instance_creation_timestamp":1700000000,"license_id":["1001010"]})";

TEST_F(ComputeEngineExtensionTest, AddsTheGceClaims) {
  http::Response response =
      id_token(std::string(R"({"audience":"a","includeEmail":true,)") + kComputeEngine + "}");
  ASSERT_EQ(response.result_int(), 200) << response.body();
  auto jwt = jose::decode_jwt(std::string(json_of(response).at("token").as_string()));
  ASSERT_TRUE(jwt.ok());
  const boost::json::value& ce = jwt->claims.at("google").at("compute_engine");
  EXPECT_EQ(ce.at("project_id"), "p");
  EXPECT_EQ(ce.at("project_number"), 123);
  EXPECT_EQ(ce.at("zone"), "us-central1-a");
  EXPECT_EQ(ce.at("instance_id"), "4242424242424242424");
  EXPECT_EQ(ce.at("instance_name"), "node-1");
  EXPECT_EQ(ce.at("instance_creation_timestamp"), 1700000000);
  // license_id only with wimsLicenses.
  EXPECT_FALSE(ce.as_object().contains("license_id"));

  http::Response licensed =
      id_token(std::string(R"({"audience":"a","wimsLicenses":true,)") + kComputeEngine + "}");
  ASSERT_EQ(licensed.result_int(), 200) << licensed.body();
  auto jwt2 = jose::decode_jwt(std::string(json_of(licensed).at("token").as_string()));
  ASSERT_TRUE(jwt2.ok());
  EXPECT_EQ(jwt2->claims.at("google").at("compute_engine").at("license_id"),
            boost::json::parse(R"(["1001010"])"));
}

TEST_F(ComputeEngineExtensionTest, RejectsClaimsThatAreNotThisNode) {
  struct Case {
    std::string name;
    std::string extension;
  } cases[] = {
      {"other zone", R"({"zone":"europe-west1-b"})"},
      {"other instance", R"({"instance_name":"node-2"})"},
      {"other instance id", R"({"instance_id":"1"})"},
      {"other project", R"({"project_id":"q"})"},
      {"project number as string", R"({"project_number":"123"})"},
      {"unknown key", R"({"hostname":"x"})"},
      {"timestamp not a number", R"({"instance_creation_timestamp":"x"})"},
      {"license ids not strings", R"({"license_id":[1]})"},
      {"not an object", "true"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    http::Response response =
        id_token(R"({"audience":"a","wimsComputeEngine":)" + c.extension + "}");
    EXPECT_EQ(response.result_int(), 400) << response.body();
    EXPECT_EQ(json_of(response).at("error").at("status"), "INVALID_ARGUMENT");
  }
}

}  // namespace
}  // namespace wims::cloud
