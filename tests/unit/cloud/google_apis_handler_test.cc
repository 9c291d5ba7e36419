#include "cloud/google_apis_handler.h"

#include <gtest/gtest.h>

#include "unit/cloud/google_cloud_env.h"

namespace wims::cloud {
namespace {

using namespace testing;  // NOLINT: test helpers

TEST(GoogleApisHandlerTest, RoutesSharedPrefixes) {
  GoogleCloudEnv env;
  IamCredentialsHandler credentials(*env.policies, env.auth, *env.ring, env.clock);
  IamPolicyHandler policies(*env.policies, env.auth, env.clock, env.blocking());
  StorageHandler storage(*env.policies, env.auth, env.clock);
  TokenInfoHandler token_info(env.codec, *env.ring, env.clock);
  GoogleApisHandler apis(credentials, policies, storage, token_info);
  struct Case {
    std::string path;
    http::Handler* expected;
  } cases[] = {
      {"/v1/projects/-/serviceAccounts/a@p.iam.gserviceaccount.com:generateAccessToken",
       &credentials},
      {"/v1/projects/-/serviceAccounts/a@p.iam.gserviceaccount.com:generateIdToken", &credentials},
      {"/v1/projects/-/serviceAccounts/a@p.iam.gserviceaccount.com:signJwt", &credentials},
      {"/v1/projects/-/serviceAccounts/a@p.iam.gserviceaccount.com:getIamPolicy", &policies},
      {"/v1/projects/p:getIamPolicy", &policies},
      {"/v1/projects/p:generateAccessToken", &policies},
      {"/storage/v1/b/b/iam", &policies},
      {"/storage/v1/b/b/iam/testPermissions", &policies},
      {"/storage/v1/b/b/o/iam", &storage},
      {"/storage/v1/b/b/o", &storage},
      {"/storage/v1/b/b", &storage},
      {"/oauth2/v3/tokeninfo", &token_info},
      {"/oauth2/v3/certs", &token_info},
      {"/v1/token", nullptr},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.path);
    EXPECT_EQ(apis.route(c.path), c.expected);
  }
  // End to end through the dispatcher: the bound workload impersonates app and reads bucket b.
  http::Request mint = make_request(
      bhttp::verb::post,
      "/v1/projects/-/serviceAccounts/app@p.iam.gserviceaccount.com:generateAccessToken",
      R"({"scope":["https://www.googleapis.com/auth/devstorage.read_only"]})",
      env.federated_token(workload()));
  http::Response minted = run(apis, mint);
  ASSERT_EQ(minted.result_int(), 200) << minted.body();
  std::string token(json_of(minted).at("accessToken").as_string());
  http::Request read =
      make_request(bhttp::verb::get, "/storage/v1/b/b/o/hello.txt?alt=media", "", token);
  http::Response content = run(apis, read);
  EXPECT_EQ(content.result_int(), 200);
  EXPECT_EQ(content.body(), "hello");
  http::Request secret =
      make_request(bhttp::verb::get, "/storage/v1/b/secret/o/s?alt=media", "", token);
  EXPECT_EQ(run(apis, secret).result_int(), 403);
  http::Request info = make_request(bhttp::verb::get, "/oauth2/v3/tokeninfo?access_token=" + token);
  http::Response tokeninfo = run(apis, info);
  ASSERT_EQ(tokeninfo.result_int(), 200);
  EXPECT_EQ(json_of(tokeninfo).at("scope"), "https://www.googleapis.com/auth/devstorage.read_only");
  http::Request unknown = make_request(bhttp::verb::get, "/v1/token");
  EXPECT_EQ(run(apis, unknown).result_int(), 404);
}

}  // namespace
}  // namespace wims::cloud
