#include "cloud/storage_handler.h"

#include <gtest/gtest.h>

#include "unit/cloud/google_cloud_env.h"

namespace wims::cloud {
namespace {

using namespace testing;  // NOLINT: test helpers

class StorageHandlerTest : public ::testing::Test {
 protected:
  StorageHandlerTest() : handler_(*env_.policies, env_.auth, env_.clock) {}

  http::Response get(std::string target, std::optional<std::string> token) {
    http::Request request = make_request(bhttp::verb::get, std::move(target), "", std::move(token));
    request.message.set(bhttp::field::host, "127.0.0.1:8080");
    return run(handler_, request);
  }

  GoogleCloudEnv env_;
  StorageHandler handler_;
};

TEST_F(StorageHandlerTest, WhoMayReadWhat) {
  const std::string app = env_.gsa_token(kAppGsa);           // objectViewer on b
  const std::string other = env_.gsa_token(kOtherGsa);       // roles/viewer on the project
  const std::string api = env_.federated_token(workload());  // nothing on storage
  struct Case {
    std::string name;
    std::string target;
    std::optional<std::string> token;
    int code;
  } cases[] = {
      {"app reads b", "/storage/v1/b/b/o/hello.txt?alt=media", app, 200},
      {"app reads nested name", "/storage/v1/b/b/o/dir/data.json?alt=media", app, 200},
      // As the JSON API spells it: '/' in an object name is %2F (kept encoded by the cloud
      // listener).
      {"app reads %2F name", "/storage/v1/b/b/o/dir%2Fdata.json?alt=media", app, 200},
      {"%2F name that does not exist", "/storage/v1/b/b/o/dir%2Fnope?alt=media", app, 404},
      {"app metadata", "/storage/v1/b/b/o/hello.txt", app, 200},
      {"app reads secret", "/storage/v1/b/secret/o/s?alt=media", app, 403},
      {"app, missing object in b (may list)", "/storage/v1/b/b/o/nope?alt=media", app, 404},
      {"app, missing object in secret (may not list)", "/storage/v1/b/secret/o/nope", app, 403},
      {"viewer has no object data", "/storage/v1/b/b/o/hello.txt?alt=media", other, 403},
      {"viewer, missing object", "/storage/v1/b/b/o/nope", other, 403},
      {"viewer gets the bucket", "/storage/v1/b/b", other, 200},
      {"app may not get the bucket", "/storage/v1/b/b", app, 403},
      {"workload without binding", "/storage/v1/b/b/o/hello.txt?alt=media", api, 403},
      {"anonymous", "/storage/v1/b/b/o/hello.txt?alt=media", std::nullopt, 401},
      {"bad token", "/storage/v1/b/b/o/hello.txt?alt=media", "ya29.forged", 401},
      {"admin", "/storage/v1/b/secret/o/s?alt=media", kAdminToken, 200},
      {"unknown bucket", "/storage/v1/b/nope/o/x", app, 404},
      {"list b", "/storage/v1/b/b/o", app, 200},
      {"list secret", "/storage/v1/b/secret/o", app, 403},
      {"bad alt", "/storage/v1/b/b/o/hello.txt?alt=xml", app, 400},
      {"unknown path", "/storage/v1/b/b/x", app, 404},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    http::Response response = get(c.target, c.token);
    EXPECT_EQ(response.result_int(), c.code) << response.body();
    if (c.code >= 400) {
      boost::json::value body = json_of(response);
      EXPECT_EQ(body.at("error").at("code"), c.code);
      EXPECT_EQ(body.at("error").at("errors").at(0).at("domain"), "global");
    }
  }
}

TEST_F(StorageHandlerTest, MediaAndMetadata) {
  const std::string app = env_.gsa_token(kAppGsa);
  http::Response media = get("/storage/v1/b/b/o/hello.txt?alt=media", app);
  ASSERT_EQ(media.result_int(), 200);
  EXPECT_EQ(media.body(), "hello");
  EXPECT_EQ(media[bhttp::field::content_type], "text/plain; charset=utf-8");
  http::Response json = get("/storage/v1/b/b/o/dir/data.json?alt=media", app);
  EXPECT_EQ(json[bhttp::field::content_type], "application/json");

  http::Response meta = get("/storage/v1/b/b/o/hello.txt", app);
  ASSERT_EQ(meta.result_int(), 200);
  boost::json::value m = json_of(meta);
  EXPECT_EQ(m.at("kind"), "storage#object");
  EXPECT_EQ(m.at("name"), "hello.txt");
  EXPECT_EQ(m.at("bucket"), "b");
  EXPECT_EQ(m.at("size"), "5");
  EXPECT_EQ(m.at("contentType"), "text/plain; charset=utf-8");
  EXPECT_EQ(m.at("md5Hash"), "XUFAKrxLKna5cZ2REBfFkg==");  // md5("hello")
  EXPECT_EQ(m.at("mediaLink"),
            "http://127.0.0.1:8080/storage/v1/b/b/o/hello.txt?generation=1&alt=media");
  EXPECT_EQ(get("/storage/v1/b/b/o/dir/data.json", app).result_int(), 200);
  EXPECT_EQ(json_of(get("/storage/v1/b/b/o/dir/data.json", app)).at("selfLink"),
            "http://127.0.0.1:8080/storage/v1/b/b/o/dir%2Fdata.json");
}

TEST_F(StorageHandlerTest, BinaryContentIsOctetStream) {
  config::World w = google_world();
  w.google.buckets[0].objects.push_back({"blob", std::string("\x00\x01\xff", 3)});
  GoogleCloudEnv env(w);
  StorageHandler handler(*env.policies, env.auth, env.clock);
  http::Request request = make_request(bhttp::verb::get, "/storage/v1/b/b/o/blob?alt=media", "",
                                       env.gsa_token(kAppGsa));
  http::Response response = run(handler, request);
  ASSERT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(), std::string("\x00\x01\xff", 3));
  EXPECT_EQ(response[bhttp::field::content_type], "application/octet-stream");
}

TEST_F(StorageHandlerTest, DenialMessagesNameTheCaller) {
  http::Response denied = get("/storage/v1/b/secret/o/s?alt=media", env_.gsa_token(kAppGsa));
  const char* message =
      "app@p.iam.gserviceaccount.com does not have storage.objects.get access to the Google Cloud "
      "Storage object. Permission 'storage.objects.get' denied on resource (or it may not exist).";
  EXPECT_EQ(json_of(denied), boost::json::parse(std::string(R"({"error":{"code":403,"message":")") +
                                                message + R"(","errors":[{"message":")" + message +
                                                R"(","domain":"global","reason":"forbidden"}]}})"));
  http::Response workload_denied =
      get("/storage/v1/b/secret/o/s?alt=media", env_.federated_token(workload()));
  EXPECT_EQ(json_of(workload_denied).at("error").at("message"),
            boost::json::value(
                std::string(kApiPrincipal) +
                " does not have storage.objects.get access to the Google Cloud Storage object. "
                "Permission 'storage.objects.get' denied on resource (or it may not exist)."));
  http::Response anonymous = get("/storage/v1/b/secret/o/s?alt=media", std::nullopt);
  EXPECT_EQ(anonymous.result_int(), 401);
  EXPECT_EQ(json_of(anonymous).at("error").at("message"),
            "Anonymous caller does not have storage.objects.get access to the Google Cloud "
            "Storage object. Permission 'storage.objects.get' denied on resource (or it may not "
            "exist).");
  EXPECT_EQ(anonymous[bhttp::field::www_authenticate],
            "Bearer realm=\"https://accounts.google.com/\"");
}

TEST_F(StorageHandlerTest, ListsObjectsWithPrefix) {
  const std::string app = env_.gsa_token(kAppGsa);
  boost::json::value all = json_of(get("/storage/v1/b/b/o", app));
  EXPECT_EQ(all.at("kind"), "storage#objects");
  ASSERT_EQ(all.at("items").as_array().size(), 2u);
  EXPECT_EQ(all.at("items").at(0).at("name"), "dir/data.json");
  EXPECT_EQ(all.at("items").at(1).at("name"), "hello.txt");
  boost::json::value dir = json_of(get("/storage/v1/b/b/o?prefix=dir%2F", app));
  ASSERT_EQ(dir.at("items").as_array().size(), 1u);
  boost::json::value none = json_of(get("/storage/v1/b/b/o?prefix=zzz", app));
  EXPECT_FALSE(none.as_object().contains("items"));
}

TEST_F(StorageHandlerTest, ConditionalBindingFollowsTheClock) {
  env_.set_policy("projects/_/buckets/secret",
                  R"j({"version":3,"bindings":[{"role":"roles/storage.objectViewer",
                      "members":["serviceAccount:app@p.iam.gserviceaccount.com"],
                      "condition":{"title":"until noon",
                        "expression":"request.time < timestamp('2024-01-01T12:00:00Z')"}}]})j");
  const std::string target = "/storage/v1/b/secret/o/s?alt=media";
  http::Response before = get(target, env_.gsa_token(kAppGsa));
  EXPECT_EQ(before.result_int(), 200);
  EXPECT_EQ(before.body(), "top secret");
  env_.clock.set(at("2024-01-01T12:00:00Z"));
  EXPECT_EQ(get(target, env_.gsa_token(kAppGsa)).result_int(), 403);
}

TEST_F(StorageHandlerTest, ConditionsSeeTheObjectAndTheBucketTags) {
  env_.set_policy("projects/p",
                  R"j({"version":3,"bindings":[
                      {"role":"roles/storage.objectViewer",
                       "members":["serviceAccount:other@p.iam.gserviceaccount.com"],
                       "condition":{"title":"prod buckets",
                                    "expression":"resource.matchTag('123/env', 'prod')"}},
                      {"role":"roles/storage.objectViewer",
                       "members":["allUsers"]}]})j");
  // allUsers: anonymous callers may read every bucket now.
  EXPECT_EQ(get("/storage/v1/b/secret/o/s?alt=media", std::nullopt).result_int(), 200);
  env_.set_policy("projects/p",
                  R"j({"version":3,"bindings":[
                      {"role":"roles/storage.objectViewer",
                       "members":["serviceAccount:other@p.iam.gserviceaccount.com"],
                       "condition":{"title":"prod buckets",
                                    "expression":"resource.matchTag('123/env', 'prod')"}},
                      {"role":"roles/storage.objectViewer",
                       "members":["serviceAccount:app@p.iam.gserviceaccount.com"],
                       "condition":{"title":"dir only",
                                    "expression":"resource.name.startsWith('projects/_/buckets/secret/objects/dir/')"}}]})j");
  const std::string other = env_.gsa_token(kOtherGsa);
  EXPECT_EQ(get("/storage/v1/b/b/o/hello.txt?alt=media", other).result_int(), 200);
  EXPECT_EQ(get("/storage/v1/b/secret/o/s?alt=media", other).result_int(), 403);
  EXPECT_EQ(get("/storage/v1/b/secret/o/s?alt=media", env_.gsa_token(kAppGsa)).result_int(), 403);
  EXPECT_EQ(get("/storage/v1/b/secret/o/s?alt=media", std::nullopt).result_int(), 401);
}

}  // namespace
}  // namespace wims::cloud
