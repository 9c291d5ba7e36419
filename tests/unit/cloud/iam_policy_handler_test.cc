#include "cloud/iam_policy_handler.h"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "unit/cloud/google_cloud_env.h"

namespace wims::cloud {
namespace {

using namespace testing;  // NOLINT: test helpers

constexpr char kAppSa[] = "/v1/projects/-/serviceAccounts/app@p.iam.gserviceaccount.com";
constexpr char kViewerBinding[] =
    R"({"role":"roles/storage.objectViewer","members":["serviceAccount:other@p.iam.gserviceaccount.com"]})";

class IamPolicyHandlerTest : public ::testing::Test {
 protected:
  explicit IamPolicyHandlerTest(std::string state_dir = "")
      : env_(google_world(), std::move(state_dir)),
        handler_(*env_.policies, env_.auth, env_.clock, env_.blocking()) {}

  http::Response call(bhttp::verb method, std::string target, std::string body = "",
                      std::optional<std::string> token = std::string(kAdminToken)) {
    http::Request request =
        make_request(method, std::move(target), std::move(body), std::move(token));
    return run(handler_, request);
  }
  http::Response post(std::string target, std::string body = "",
                      std::optional<std::string> token = std::string(kAdminToken)) {
    return call(bhttp::verb::post, std::move(target), std::move(body), std::move(token));
  }
  static std::string status_of(const http::Response& r) {
    boost::json::value v = json_of(r);
    if (!v.is_object() || !v.as_object().contains("error")) return "";
    const boost::json::value& e = v.at("error");
    if (e.as_object().contains("status")) return std::string(e.at("status").as_string());
    return "";
  }

  GoogleCloudEnv env_;
  IamPolicyHandler handler_;
};

TEST_F(IamPolicyHandlerTest, GetIamPolicyOfEachResource) {
  http::Response project = post("/v1/projects/p:getIamPolicy");
  ASSERT_EQ(project.result_int(), 200) << project.body();
  EXPECT_EQ(json_of(project).at("bindings").at(0).at("role"), "roles/viewer");
  EXPECT_EQ(post("/v1/projects/123:getIamPolicy").body(), project.body());

  http::Response sa = post(std::string(kAppSa) + ":getIamPolicy");
  ASSERT_EQ(sa.result_int(), 200) << sa.body();
  EXPECT_EQ(json_of(sa).at("bindings").at(0).at("members").at(0), kApiPrincipal);
  EXPECT_EQ(
      post("/v1/projects/p/serviceAccounts/app@p.iam.gserviceaccount.com:getIamPolicy").body(),
      sa.body());

  http::Response bucket = call(bhttp::verb::get, "/storage/v1/b/b/iam");
  ASSERT_EQ(bucket.result_int(), 200) << bucket.body();
  boost::json::value b = json_of(bucket);
  EXPECT_EQ(b.at("kind"), "storage#policy");
  EXPECT_EQ(b.at("resourceId"), "projects/_/buckets/b");
  EXPECT_EQ(b.at("bindings").at(0).at("role"), "roles/storage.objectViewer");
  EXPECT_TRUE(b.as_object().contains("etag"));

  // A resource without bindings: Google's empty policy.
  http::Response empty =
      post("/v1/projects/-/serviceAccounts/other@p.iam.gserviceaccount.com:getIamPolicy");
  ASSERT_EQ(empty.result_int(), 200);
  EXPECT_EQ(json_of(empty).at("etag"), "ACAB");
}

TEST_F(IamPolicyHandlerTest, PermissionTable) {
  const std::string api = env_.federated_token(workload("prod", "api"));
  const std::string other = env_.gsa_token(kOtherGsa);  // roles/viewer on the project
  const std::string app = env_.gsa_token(kAppGsa);      // objectViewer on bucket b
  struct Case {
    std::string name;
    bhttp::verb method;
    std::string target;
    std::string body;
    std::optional<std::string> token;
    int code;
    std::string status;
  } cases[] = {
      {"project get, viewer", bhttp::verb::post, "/v1/projects/p:getIamPolicy", "", other, 200, ""},
      {"project get, no role", bhttp::verb::post, "/v1/projects/p:getIamPolicy", "", app, 403,
       "PERMISSION_DENIED"},
      {"project set, viewer", bhttp::verb::post, "/v1/projects/p:setIamPolicy", R"({"policy":{}})",
       other, 403, "PERMISSION_DENIED"},
      {"unknown project", bhttp::verb::post, "/v1/projects/q:getIamPolicy", "", kAdminToken, 403,
       "PERMISSION_DENIED"},
      {"sa get, viewer (inherited)", bhttp::verb::post, std::string(kAppSa) + ":getIamPolicy", "",
       other, 200, ""},
      {"sa get, workload user only", bhttp::verb::post, std::string(kAppSa) + ":getIamPolicy", "",
       api, 403, "PERMISSION_DENIED"},
      {"sa set, viewer", bhttp::verb::post, std::string(kAppSa) + ":setIamPolicy",
       R"({"policy":{}})", other, 403, "PERMISSION_DENIED"},
      {"unknown sa", bhttp::verb::post,
       "/v1/projects/-/serviceAccounts/x@p.iam.gserviceaccount.com:getIamPolicy", "", kAdminToken,
       404, "NOT_FOUND"},
      {"no token", bhttp::verb::post, "/v1/projects/p:getIamPolicy", "", std::nullopt, 401,
       "UNAUTHENTICATED"},
      {"bad token", bhttp::verb::post, "/v1/projects/p:getIamPolicy", "", "ya29.x", 401,
       "UNAUTHENTICATED"},
      {"unknown method", bhttp::verb::post, "/v1/projects/p:deleteIamPolicy", "", kAdminToken, 404,
       "NOT_FOUND"},
      {"GET not allowed", bhttp::verb::get, "/v1/projects/p:getIamPolicy", "", kAdminToken, 405,
       "INVALID_ARGUMENT"},
      {"bucket get, viewer (inherited)", bhttp::verb::get, "/storage/v1/b/b/iam", "", other, 200,
       ""},
      {"bucket get, object viewer", bhttp::verb::get, "/storage/v1/b/b/iam", "", app, 403, ""},
      {"bucket set, object viewer", bhttp::verb::put, "/storage/v1/b/b/iam", "{}", app, 403, ""},
      {"bucket get, anonymous", bhttp::verb::get, "/storage/v1/b/b/iam", "", std::nullopt, 401, ""},
      {"unknown bucket", bhttp::verb::get, "/storage/v1/b/nope/iam", "", kAdminToken, 404, ""},
      {"bucket DELETE", bhttp::verb::delete_, "/storage/v1/b/b/iam", "", kAdminToken, 405,
       "INVALID_ARGUMENT"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    http::Response response = call(c.method, c.target, c.body, c.token);
    EXPECT_EQ(response.result_int(), c.code) << response.body();
    if (c.code != 200) {
      EXPECT_EQ(status_of(response), c.status) << response.body();
    }
  }
}

TEST_F(IamPolicyHandlerTest, DenialShapes) {
  http::Response sa =
      post(std::string(kAppSa) + ":setIamPolicy", R"({"policy":{}})", env_.gsa_token(kOtherGsa));
  EXPECT_EQ(
      json_of(sa),
      boost::json::parse(
          R"({"error":{"code":403,"message":"Permission 'iam.serviceAccounts.setIamPolicy' denied on resource (or it may not exist).","status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"IAM_PERMISSION_DENIED","domain":"iam.googleapis.com","metadata":{"permission":"iam.serviceAccounts.setIamPolicy"}}]}})"));
  http::Response project = post("/v1/projects/p:getIamPolicy", "", env_.gsa_token(kAppGsa));
  EXPECT_EQ(
      json_of(project),
      boost::json::parse(
          R"({"error":{"code":403,"message":"The caller does not have permission","status":"PERMISSION_DENIED"}})"));
  http::Response bucket =
      call(bhttp::verb::get, "/storage/v1/b/b/iam", "", env_.gsa_token(kAppGsa));
  EXPECT_EQ(
      json_of(bucket),
      boost::json::parse(
          R"({"error":{"code":403,"message":"app@p.iam.gserviceaccount.com does not have storage.buckets.getIamPolicy access to the Google Cloud Storage bucket. Permission 'storage.buckets.getIamPolicy' denied on resource (or it may not exist).","errors":[{"message":"app@p.iam.gserviceaccount.com does not have storage.buckets.getIamPolicy access to the Google Cloud Storage bucket. Permission 'storage.buckets.getIamPolicy' denied on resource (or it may not exist).","domain":"global","reason":"forbidden"}]}})"));
}

TEST_F(IamPolicyHandlerTest, SetIamPolicyRoundTripWithEtagConflict) {
  const std::string resource = "/v1/projects/-/serviceAccounts/other@p.iam.gserviceaccount.com";
  std::string etag(json_of(post(resource + ":getIamPolicy")).at("etag").as_string());
  EXPECT_EQ(etag, "ACAB");
  const std::string binding =
      std::string(R"({"role":"roles/iam.workloadIdentityUser","members":[")") + kApiPrincipal +
      R"("]})";
  http::Response set = post(resource + ":setIamPolicy", R"({"policy":{"bindings":[)" + binding +
                                                            R"(],"etag":")" + etag + R"("}})");
  ASSERT_EQ(set.result_int(), 200) << set.body();
  std::string new_etag(json_of(set).at("etag").as_string());
  EXPECT_NE(new_etag, etag);
  EXPECT_EQ(json_of(set).at("bindings").at(0).at("role"), "roles/iam.workloadIdentityUser");

  // A second writer with the old etag loses.
  http::Response stale =
      post(resource + ":setIamPolicy", R"({"policy":{"bindings":[],"etag":")" + etag + R"("}})");
  EXPECT_EQ(stale.result_int(), 409) << stale.body();
  EXPECT_EQ(status_of(stale), "ABORTED");
  EXPECT_EQ(json_of(stale).at("error").at("message"), GooglePolicyStore::kEtagMismatchMessage);

  // The read sees the first write; the policy is in force (the workload may now read it? no: only
  // impersonate), and testIamPermissions shows it.
  http::Response get = post(resource + ":getIamPolicy");
  EXPECT_EQ(json_of(get), json_of(set));
  http::Response test = post(resource + ":testIamPermissions",
                             R"({"permissions":["iam.serviceAccounts.getAccessToken",
                                 "iam.serviceAccounts.setIamPolicy"]})",
                             env_.federated_token(workload()));
  ASSERT_EQ(test.result_int(), 200) << test.body();
  EXPECT_EQ(json_of(test),
            boost::json::parse(R"({"permissions":["iam.serviceAccounts.getAccessToken"]})"));

  // Without an etag the write is unconditional.
  http::Response blind =
      post(resource + ":setIamPolicy", R"({"policy":{"bindings":[]},"updateMask":"bindings"})");
  ASSERT_EQ(blind.result_int(), 200) << blind.body();
  EXPECT_EQ(json_of(blind).at("etag"), "ACAB");
}

TEST_F(IamPolicyHandlerTest, SetIamPolicyValidates) {
  struct Case {
    std::string name;
    std::string body;
    std::string message_part;
  } cases[] = {
      {"unknown role", R"({"policy":{"bindings":[{"role":"roles/nope","members":["allUsers"]}]}})",
       "roles/nope"},
      {"bad member", R"({"policy":{"bindings":[{"role":"roles/viewer","members":["bob"]}]}})",
       "bob"},
      {"bad condition",
       R"({"policy":{"version":3,"bindings":[{"role":"roles/storage.objectViewer","members":["allUsers"],"condition":{"title":"t","expression":"request.time <"}}]}})",
       ""},
      {"condition unparsable",
       R"({"policy":{"version":3,"bindings":[{"role":"roles/storage.objectViewer","members":["serviceAccount:a@p.iam.gserviceaccount.com"],"condition":{"title":"t","expression":"request.time < "}}]}})",
       "Condition expression could not be parsed"},
      {"no policy", R"({})", "policy"},
      {"policy not an object", R"({"policy":1})", "policy"},
      {"unknown field", R"({"policy":{},"x":1})", "Unknown name \"x\""},
      {"unknown policy field", R"({"policy":{"y":1}})", "y"},
      {"not JSON", "{", "Invalid JSON payload"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    http::Response response = post("/v1/projects/p:setIamPolicy", c.body);
    EXPECT_EQ(response.result_int(), 400) << response.body();
    EXPECT_EQ(status_of(response), "INVALID_ARGUMENT");
    std::string message(json_of(response).at("error").at("message").as_string());
    EXPECT_NE(message.find(c.message_part), std::string::npos) << message;
  }
  // Nothing was written.
  EXPECT_EQ(json_of(post("/v1/projects/p:getIamPolicy")).at("bindings").at(0).at("role"),
            "roles/viewer");
}

TEST_F(IamPolicyHandlerTest, RequestedPolicyVersion) {
  const std::string conditional =
      R"j({"policy":{"version":3,"bindings":[{"role":"roles/storage.objectViewer","members":["serviceAccount:other@p.iam.gserviceaccount.com"],"condition":{"title":"t","expression":"request.time < timestamp('2030-01-01T00:00:00Z')"}}]}})j";
  ASSERT_EQ(post("/v1/projects/p:setIamPolicy", conditional).result_int(), 200);
  boost::json::value v1 = json_of(post("/v1/projects/p:getIamPolicy"));
  EXPECT_EQ(v1.at("version"), 1);
  EXPECT_NE(std::string(v1.at("bindings").at(0).at("role").as_string()).find("_withcond_"),
            std::string::npos);
  boost::json::value v3 =
      json_of(post("/v1/projects/p:getIamPolicy", R"({"options":{"requestedPolicyVersion":3}})"));
  EXPECT_EQ(v3.at("version"), 3);
  EXPECT_EQ(v3.at("bindings").at(0).at("condition").at("title"), "t");
  EXPECT_EQ(json_of(post("/v1/projects/p:getIamPolicy?options.requestedPolicyVersion=3")), v3);
  EXPECT_EQ(post("/v1/projects/p:getIamPolicy", R"({"options":{"requestedPolicyVersion":2}})")
                .result_int(),
            400);
  boost::json::value storage_v3 =
      json_of(call(bhttp::verb::get, "/storage/v1/b/b/iam?optionsRequestedPolicyVersion=3"));
  EXPECT_EQ(storage_v3.at("version"), 1);  // bucket b's own policy has no conditions
}

TEST_F(IamPolicyHandlerTest, TestIamPermissions) {
  const std::string api = env_.federated_token(workload());
  http::Response granted = post(std::string(kAppSa) + ":testIamPermissions",
                                R"({"permissions":["iam.serviceAccounts.getAccessToken",
                                    "iam.serviceAccounts.getOpenIdToken",
                                    "iam.serviceAccounts.setIamPolicy",
                                    "iam.serviceAccounts.getAccessToken"]})",
                                api);
  ASSERT_EQ(granted.result_int(), 200) << granted.body();
  EXPECT_EQ(
      json_of(granted),
      boost::json::parse(
          R"({"permissions":["iam.serviceAccounts.getAccessToken","iam.serviceAccounts.getOpenIdToken"]})"));
  http::Response none = post("/v1/projects/p:testIamPermissions",
                             R"({"permissions":["resourcemanager.projects.setIamPolicy"]})", api);
  ASSERT_EQ(none.result_int(), 200);
  EXPECT_EQ(none.body(), "{}");
  EXPECT_EQ(
      post("/v1/projects/p:testIamPermissions", R"({"permissions":["storage.*"]})").result_int(),
      400);
  EXPECT_EQ(post("/v1/projects/p:testIamPermissions", R"({"permissions":["nope"]})").result_int(),
            400);
  std::string many = R"({"permissions":[)";
  for (int i = 0; i < 101; ++i) many += std::string(i ? "," : "") + "\"a.b.c\"";
  EXPECT_EQ(post("/v1/projects/p:testIamPermissions", many + "]}").result_int(), 400);

  http::Response storage =
      call(bhttp::verb::get,
           "/storage/v1/b/b/iam/testPermissions?permissions=storage.objects.get&"
           "permissions=storage.objects.delete&permissions=storage.buckets.get",
           "", env_.gsa_token(kAppGsa));
  ASSERT_EQ(storage.result_int(), 200) << storage.body();
  EXPECT_EQ(
      json_of(storage),
      boost::json::parse(
          R"({"kind":"storage#testIamPermissionsResponse","permissions":["storage.objects.get"]})"));
  EXPECT_EQ(call(bhttp::verb::get, "/storage/v1/b/b/iam/testPermissions").result_int(), 400);
}

TEST_F(IamPolicyHandlerTest, StoragePutWithReadModifyWrite) {
  boost::json::value policy = json_of(call(bhttp::verb::get, "/storage/v1/b/secret/iam"));
  std::string etag(policy.at("etag").as_string());
  // Echo the whole resource back (kind and resourceId included), as clients do.
  policy.as_object()["bindings"] = boost::json::parse(std::string("[") + kViewerBinding + "]");
  http::Response put =
      call(bhttp::verb::put, "/storage/v1/b/secret/iam", boost::json::serialize(policy));
  ASSERT_EQ(put.result_int(), 200) << put.body();
  EXPECT_EQ(json_of(put).at("kind"), "storage#policy");
  EXPECT_NE(json_of(put).at("etag"), etag.c_str());
  // The old etag again: GCS's 412.
  http::Response stale =
      call(bhttp::verb::put, "/storage/v1/b/secret/iam", boost::json::serialize(policy));
  EXPECT_EQ(stale.result_int(), 412) << stale.body();
  EXPECT_EQ(json_of(stale).at("error").at("errors").at(0).at("reason"), "conditionNotMet");
  // In force for the Authorizer: other may now read objects of secret.
  EXPECT_TRUE(iam::Authorizer(env_.clock)
                  .check(iam::Caller::service_account(kOtherGsa), "storage.objects.get",
                         *env_.policies->object_ref("secret", "s"))
                  .allowed);
  http::Response invalid = call(bhttp::verb::put, "/storage/v1/b/secret/iam",
                                R"({"bindings":[{"role":"roles/nope","members":["allUsers"]}]})");
  EXPECT_EQ(invalid.result_int(), 400);
  EXPECT_EQ(json_of(invalid).at("error").at("errors").at(0).at("reason"), "invalid");
}

TEST(IamPolicyHandlerPersistenceTest, PoliciesSetThroughTheApiSurviveARestart) {
  TempDir dir;
  const std::string resource = "/v1/projects/-/serviceAccounts/other@p.iam.gserviceaccount.com";
  const std::string body =
      std::string(
          R"({"policy":{"bindings":[{"role":"roles/iam.workloadIdentityUser","members":[")") +
      kApiPrincipal + R"("]}]}})";
  std::string etag;
  {
    GoogleCloudEnv env(google_world(), dir.path());
    IamPolicyHandler handler(*env.policies, env.auth, env.clock, env.blocking());
    http::Request request =
        make_request(bhttp::verb::post, resource + ":setIamPolicy", body, std::string(kAdminToken));
    http::Response set = run(handler, request);
    ASSERT_EQ(set.result_int(), 200) << set.body();
    etag = std::string(json_of(set).at("etag").as_string());
  }
  GoogleCloudEnv env(google_world(), dir.path());
  IamPolicyHandler handler(*env.policies, env.auth, env.clock, env.blocking());
  http::Request request =
      make_request(bhttp::verb::post, resource + ":getIamPolicy", "", std::string(kAdminToken));
  http::Response get = run(handler, request);
  ASSERT_EQ(get.result_int(), 200);
  EXPECT_EQ(json_of(get).at("etag"), etag.c_str());
  EXPECT_EQ(json_of(get).at("bindings").at(0).at("members").at(0), kApiPrincipal);
}

TEST(IamPolicyHandlerPathTest, StorageIamPaths) {
  EXPECT_TRUE(IamPolicyHandler::is_storage_iam_path("/storage/v1/b/b/iam"));
  EXPECT_TRUE(IamPolicyHandler::is_storage_iam_path("/storage/v1/b/b/iam/testPermissions"));
  EXPECT_FALSE(IamPolicyHandler::is_storage_iam_path("/storage/v1/b/b/o/iam"));
  EXPECT_FALSE(IamPolicyHandler::is_storage_iam_path("/storage/v1/b/b"));
  EXPECT_FALSE(IamPolicyHandler::is_storage_iam_path("/storage/v1/b//iam"));
  EXPECT_FALSE(IamPolicyHandler::is_storage_iam_path("/v1/projects/p:getIamPolicy"));
}

}  // namespace
}  // namespace wims::cloud
