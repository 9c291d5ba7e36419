// The webhook end to end over the real HTTPS server on 127.0.0.1:0 (self-signed certificate
// generated with OpenSSL), with service accounts read from the fake Kubernetes API server:
// HTTP-level answers (405, 415, 400 with the reason, 404), the three mutations with their patches
// applied, dryRun, a service account annotation changed live, an API outage, and the certificate
// reloaded while serving.
#include "webhook/admission_handler.h"

#include <gtest/gtest.h>

#include <boost/asio/ssl/context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "common/encoding.h"
#include "fakes/fake_kube_api_server.h"
#include "http/client.h"
#include "http/metrics.h"
#include "http/server.h"
#include "http/tls_credentials.h"
#include "http/worker_pool.h"
#include "kube/api_client.h"
#include "unit/http/test_certificates.h"
#include "unit/webhook/test_support.h"

namespace wims::webhook {
namespace {

namespace json = boost::json;
using fakes::FakeKubeApiServer;
using http::testing::make_self_signed_certificate;
using http::testing::TestCertificate;
using http::testing::write_text_file;
using testing::container;
using testing::env;

constexpr char kRole[] = "arn:aws:iam::111122223333:role/app-role";

std::string review(std::string_view pod, std::string_view operation = "CREATE",
                   bool dry_run = false, std::string_view uid = "uid-1") {
  return std::string(
             R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":")") +
         std::string(uid) + R"(","kind":{"group":"","version":"v1","kind":"Pod"},
    "resource":{"group":"","version":"v1","resource":"pods"},"namespace":"apps","operation":")" +
         std::string(operation) + R"(","dryRun":)" + (dry_run ? "true" : "false") +
         R"(,"object":)" + std::string(pod) + "}}";
}

constexpr char kWebPod[] = R"({"apiVersion":"v1","kind":"Pod","metadata":{"generateName":"web-"},
  "spec":{"serviceAccountName":"web","containers":[{"name":"app","image":"busybox"}]}})";

class AdmissionHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/wims-webhook-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    cert_ = make_self_signed_certificate("webhook");
    write_text_file(dir_ + "/tls.crt", cert_.cert_pem);
    write_text_file(dir_ + "/tls.key", cert_.key_pem);

    ASSERT_TRUE(api_server_.start().ok());
    api_server_.upsert_service_account(FakeKubeApiServer::make_service_account(
        "apps", "web", "sa-uid", {{"eks.amazonaws.com/role-arn", kRole}}));
    auto client = kube::ApiClient::create(kube::KubeConfig{.server = api_server_.url()});
    ASSERT_TRUE(client.ok()) << client.status();
    api_ = *std::move(client);
    lookup_ = std::make_unique<KubeServiceAccountLookup>(*api_);
    handler_ = std::make_unique<AdmissionHandler>(MutatorOptions{}, *lookup_);

    auto tls = http::ServerTlsCredentials::load(dir_ + "/tls.crt", dir_ + "/tls.key",
                                                absl::ZeroDuration());
    ASSERT_TRUE(tls.ok()) << tls.status();
    tls_ = *tls;
    workers_.start();
    server_ = std::make_unique<http::Server>(
        http::ServerOptions{
            .name = "webhook", .listen = "127.0.0.1:0", .access_log = false, .tls = tls_},
        *handler_, workers_, metrics_);
    ASSERT_TRUE(server_->start().ok());
  }

  void TearDown() override {
    if (server_) server_->stop();
    workers_.stop();
    api_server_.stop();
    std::filesystem::remove_all(dir_);
  }

  absl::StatusOr<http::Response> send(std::string body,
                                      http::beast_http::verb method = http::beast_http::verb::post,
                                      std::string content_type = "application/json",
                                      std::string path = "/mutate",
                                      const TestCertificate* trusted = nullptr) {
    auto context =
        std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_client);
    context->add_certificate_authority(boost::asio::buffer((trusted ? *trusted : cert_).cert_pem));
    context->set_verify_mode(boost::asio::ssl::verify_peer);
    http::Client client(context);
    http::ClientRequest request{
        .method = method,
        .url = "https://127.0.0.1:" + std::to_string(server_->local_endpoint().port()) + path,
        .body = std::move(body),
        .timeout = absl::Seconds(10)};
    if (!content_type.empty()) request.headers.emplace_back("Content-Type", content_type);
    return client.send_blocking(std::move(request));
  }

  // POSTs a review of `pod`; returns the AdmissionReview's response object.
  json::object mutate(std::string_view pod, std::string_view operation = "CREATE",
                      bool dry_run = false) {
    auto response = send(review(pod, operation, dry_run));
    EXPECT_TRUE(response.ok()) << response.status();
    if (!response.ok()) return {};
    EXPECT_EQ(response->result_int(), 200) << response->body();
    EXPECT_EQ((*response)[http::beast_http::field::content_type], "application/json");
    json::value out = json::parse(response->body());
    EXPECT_EQ(out.at("apiVersion"), "admission.k8s.io/v1");
    EXPECT_EQ(out.at("kind"), "AdmissionReview");
    return out.at("response").as_object();
  }

  // The pod after the response's base64 JSON Patch.
  static json::object apply(const json::object& response, std::string_view pod) {
    json::object original = testing::object_from(pod);
    const json::value* patch = response.if_contains("patch");
    if (patch == nullptr) return original;
    EXPECT_EQ(response.at("patchType"), "JSONPatch");
    auto decoded = base64_decode(patch->as_string());
    EXPECT_TRUE(decoded.ok());
    auto result = apply_json_patch(original, json::parse(*decoded).as_array());
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? result->as_object() : original;
  }

  std::string dir_;
  TestCertificate cert_;
  FakeKubeApiServer api_server_;
  std::unique_ptr<kube::ApiClient> api_;
  std::unique_ptr<KubeServiceAccountLookup> lookup_;
  std::unique_ptr<AdmissionHandler> handler_;
  std::shared_ptr<http::ServerTlsCredentials> tls_;
  http::Metrics metrics_;
  http::WorkerPool workers_{2};
  std::unique_ptr<http::Server> server_;
};

TEST_F(AdmissionHandlerTest, HttpLevelErrors) {
  using http::beast_http::verb;
  struct Case {
    const char* name;
    verb method;
    std::string content_type;
    std::string path;
    std::string body;
    int status;
    const char* body_contains;
  };
  const Case cases[] = {
      {"GET", verb::get, "", "/mutate", "", 405, "use POST"},
      {"text/plain (EKS answers 415)", verb::post, "text/plain", "/mutate", review(kWebPod), 415,
       "application/json"},
      {"no content type", verb::post, "", "/mutate", review(kWebPod), 415, "application/json"},
      {"bad JSON", verb::post, "application/json", "/mutate", "{\"apiVersion\":", 400,
       "not valid JSON"},
      {"wrong kind", verb::post, "application/json", "/mutate",
       R"({"apiVersion":"admission.k8s.io/v1","kind":"Pod","request":{}})", 400,
       "kind must be \"AdmissionReview\""},
      {"no uid", verb::post, "application/json; charset=utf-8", "/mutate",
       R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"kind":{}}})",
       400, "request.uid is missing"},
      {"other path", verb::post, "application/json", "/validate", review(kWebPod), 404,
       "POST /mutate"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto response = send(c.body, c.method, c.content_type, c.path);
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->result_int(), c.status) << response->body();
    EXPECT_NE(response->body().find(c.body_contains), std::string::npos) << response->body();
    if (c.status == 405) {
      EXPECT_EQ((*response)[http::beast_http::field::allow], "POST");
    }
  }
}

TEST_F(AdmissionHandlerTest, IrsaFromTheServiceAccountOnTheApiServer) {
  json::object response = mutate(kWebPod);
  EXPECT_EQ(response.at("uid"), "uid-1");
  EXPECT_EQ(response.at("allowed"), true);
  json::object pod = apply(response, kWebPod);
  EXPECT_EQ(env(container(pod, "app"), "AWS_ROLE_ARN"), kRole);
  EXPECT_NE(testing::volume(pod, "aws-iam-token"), nullptr);

  // Reinvocation with the patched pod: allowed, nothing more to add.
  json::object again = mutate(json::serialize(pod));
  EXPECT_EQ(again.at("allowed"), true);
  EXPECT_EQ(again.if_contains("patch"), nullptr);

  // dryRun: the same patch.
  json::object dry = mutate(kWebPod, "CREATE", /*dry_run=*/true);
  EXPECT_EQ(dry.at("patch"), response.at("patch"));

  // UPDATE is never mutated.
  EXPECT_EQ(mutate(kWebPod, "UPDATE").if_contains("patch"), nullptr);
}

TEST_F(AdmissionHandlerTest, AServiceAccountAnnotationChangeAppliesToTheNextPod) {
  const std::string other_role = "arn:aws:iam::111122223333:role/other";
  api_server_.upsert_service_account(FakeKubeApiServer::make_service_account(
      "apps", "web", "sa-uid", {{"eks.amazonaws.com/role-arn", other_role}}));
  json::object pod = apply(mutate(kWebPod), kWebPod);
  EXPECT_EQ(env(container(pod, "app"), "AWS_ROLE_ARN"), other_role);

  api_server_.upsert_service_account(
      FakeKubeApiServer::make_service_account("apps", "web", "sa-uid"));
  EXPECT_EQ(mutate(kWebPod).if_contains("patch"), nullptr);
}

TEST_F(AdmissionHandlerTest, UnknownServiceAccountIsAllowedWithoutPatch) {
  const std::string pod =
      R"({"metadata":{"name":"p"},"spec":{"serviceAccountName":"nobody","containers":[{"name":"a"}]}})";
  json::object response = mutate(pod);
  EXPECT_EQ(response.at("allowed"), true);
  EXPECT_EQ(response.if_contains("patch"), nullptr);
  EXPECT_EQ(response.if_contains("warnings"), nullptr);
}

TEST_F(AdmissionHandlerTest, ApiOutageAdmitsThePodWithAWarning) {
  api_server_.set_outage(true);
  json::object response = mutate(kWebPod);
  api_server_.set_outage(false);
  EXPECT_EQ(response.at("allowed"), true);
  EXPECT_EQ(response.if_contains("patch"), nullptr);
  ASSERT_NE(response.if_contains("warnings"), nullptr);
  EXPECT_NE(std::string(response.at("warnings").at(0).as_string())
                .find("could not read service account apps/web"),
            std::string::npos);
}

TEST_F(AdmissionHandlerTest, AzureAndEmulatorThroughHttps) {
  api_server_.upsert_service_account(
      FakeKubeApiServer::make_service_account("apps", "az", "sa-2",
                                              {{"azure.workload.identity/client-id", "cid"},
                                               {"azure.workload.identity/tenant-id", "tid"}}));
  const std::string azure_pod = R"({"metadata":{"labels":{"azure.workload.identity/use":"true"}},
    "spec":{"serviceAccountName":"az","containers":[{"name":"app"}]}})";
  json::object pod = apply(mutate(azure_pod), azure_pod);
  EXPECT_EQ(env(container(pod, "app"), "AZURE_CLIENT_ID"), "cid");
  EXPECT_EQ(env(container(pod, "app"), "AZURE_TENANT_ID"), "tid");

  const std::string emulator_pod =
      std::string(
          R"({"metadata":{"labels":{"gkemulticloud.googleapis.com/aws-imds-emulator-enabled":"True"},
    "annotations":{"gkemulticloud.googleapis.com/aws-imds-emulator-role-arn":")") +
      kRole + R"("}},
    "spec":{"serviceAccountName":"nobody","containers":[{"name":"app"}]}})";
  pod = apply(mutate(emulator_pod), emulator_pod);
  EXPECT_NE(container(pod, "wims-imds-emulator-init", "initContainers"), nullptr);
  EXPECT_NE(container(pod, "wims-imds-emulator"), nullptr);

  const std::string refused =
      R"({"metadata":{"labels":{"gkemulticloud.googleapis.com/aws-imds-emulator-enabled":"True"}},
    "spec":{"containers":[{"name":"app"}]}})";
  json::object response = mutate(refused);
  EXPECT_EQ(response.at("allowed"), false);
  EXPECT_EQ(response.at("status").at("code"), 400);
  EXPECT_NE(std::string(response.at("status").at("message").as_string())
                .find("aws-imds-emulator-role-arn"),
            std::string::npos);
}

TEST_F(AdmissionHandlerTest, ServesTheNewCertificateAfterTheFilesChange) {
  ASSERT_TRUE(send(review(kWebPod)).ok());
  TestCertificate rotated = make_self_signed_certificate("webhook-rotated");
  write_text_file(dir_ + "/tls.crt", rotated.cert_pem);
  write_text_file(dir_ + "/tls.key", rotated.key_pem);
  auto response =
      send(review(kWebPod), http::beast_http::verb::post, "application/json", "/mutate", &rotated);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->result_int(), 200);
  EXPECT_FALSE(send(review(kWebPod)).ok()) << "the old certificate is still served";
  EXPECT_EQ(tls_->generation(), 2u);
}

}  // namespace
}  // namespace wims::webhook
