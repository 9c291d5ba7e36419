// AdmissionReview v1 parsing (clear InvalidArgument messages naming the field) and the response
// shape.
#include "webhook/admission_review.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "common/encoding.h"

namespace wims::webhook {
namespace {

namespace json = boost::json;

constexpr char kReview[] =
    R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{
  "uid":"705ab4f5-6393-11e8-b7cc-42010a800002",
  "kind":{"group":"","version":"v1","kind":"Pod"},
  "resource":{"group":"","version":"v1","resource":"pods"},
  "requestKind":{"group":"","version":"v1","kind":"Pod"},
  "name":"","namespace":"team-a","operation":"CREATE",
  "userInfo":{"username":"system:serviceaccount:kube-system:replicaset-controller"},
  "object":{"apiVersion":"v1","kind":"Pod","metadata":{"generateName":"web-"},"spec":{"containers":[]}},
  "oldObject":null,"dryRun":true,"options":{"apiVersion":"meta.k8s.io/v1","kind":"CreateOptions"}}})";

TEST(AdmissionReviewTest, ParsesAV1PodCreate) {
  auto request = parse_admission_review(kReview);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->uid, "705ab4f5-6393-11e8-b7cc-42010a800002");
  EXPECT_TRUE(request->kind.is_core_v1("Pod"));
  EXPECT_EQ(request->namespace_name, "team-a");
  EXPECT_EQ(request->operation, "CREATE");
  EXPECT_TRUE(request->dry_run);
  ASSERT_TRUE(request->object.has_value());
  EXPECT_EQ(request->object->at("metadata").at("generateName"), "web-");
}

TEST(AdmissionReviewTest, RejectsMalformedReviewsNamingTheProblem) {
  struct Case {
    const char* name;
    std::string body;
    const char* message;
  };
  const Case cases[] = {
      {"not JSON", "{not json", "not valid JSON"},
      {"not an object", "[1,2]", "must be a JSON object"},
      {"wrong kind", R"({"apiVersion":"admission.k8s.io/v1","kind":"Pod","request":{}})",
       "kind must be \"AdmissionReview\""},
      {"v1beta1",
       R"({"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{}})",
       "unsupported AdmissionReview apiVersion \"admission.k8s.io/v1beta1\""},
      {"no request", R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"})",
       "request is missing"},
      {"no uid",
       R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"kind":{},"operation":"CREATE"}})",
       "request.uid is missing"},
      {"uid not a string",
       R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":5}})",
       "request.uid must be a string"},
      {"no kind",
       R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","operation":"CREATE"}})",
       "request.kind is missing"},
      {"no operation",
       R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{}}})",
       "request.operation is missing"},
      {"dryRun not bool",
       R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{},"operation":"CREATE","dryRun":"yes"}})",
       "request.dryRun must be a boolean"},
      {"object not an object",
       R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{},"operation":"CREATE","object":[]}})",
       "request.object must be an object"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto request = parse_admission_review(c.body);
    ASSERT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(request.status().message()).find(c.message), std::string::npos)
        << request.status();
  }
}

TEST(AdmissionReviewTest, AllowedResponseCarriesTheBase64Patch) {
  AdmissionResponse response = AdmissionResponse::allow("uid-1");
  response.patch = R"([{"op":"add","path":"/spec/volumes","value":[]}])";
  response.warnings = {"careful"};
  json::value out = json::parse(serialize_admission_review(response));
  EXPECT_EQ(out.at("apiVersion"), "admission.k8s.io/v1");
  EXPECT_EQ(out.at("kind"), "AdmissionReview");
  const json::object& r = out.at("response").as_object();
  EXPECT_EQ(r.at("uid"), "uid-1");
  EXPECT_EQ(r.at("allowed"), true);
  EXPECT_EQ(r.at("patchType"), "JSONPatch");
  auto decoded = base64_decode(r.at("patch").as_string());
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, response.patch);
  EXPECT_EQ(r.at("warnings"), json::parse(R"(["careful"])"));
  EXPECT_EQ(r.if_contains("status"), nullptr);
}

TEST(AdmissionReviewTest, NoPatchMeansNoPatchType) {
  json::value out = json::parse(serialize_admission_review(AdmissionResponse::allow("u")));
  EXPECT_EQ(out.at("response"), json::parse(R"({"uid":"u","allowed":true})"));
}

TEST(AdmissionReviewTest, DenialCarriesStatus) {
  json::value out = json::parse(serialize_admission_review(
      AdmissionResponse::deny("u", 400, "BadRequest", "bad annotation")));
  EXPECT_EQ(out.at("response"),
            json::parse(R"({"uid":"u","allowed":false,"status":{"status":"Failure","code":400,
                            "reason":"BadRequest","message":"bad annotation"}})"));
}

}  // namespace
}  // namespace wims::webhook
