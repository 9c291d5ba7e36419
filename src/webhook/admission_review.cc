#include "webhook/admission_review.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "common/encoding.h"
#include "fmt/format.h"

namespace wims::webhook {

namespace json = boost::json;

namespace {

// A string member: "" when absent, InvalidArgument when present with another type.
absl::StatusOr<std::string> optional_string(const json::object& object, std::string_view name,
                                            std::string_view where) {
  const json::value* v = object.if_contains(name);
  if (v == nullptr || v->is_null()) return std::string();
  if (!v->is_string())
    return absl::InvalidArgumentError(fmt::format("{}.{} must be a string", where, name));
  return std::string(v->as_string());
}

}  // namespace

absl::StatusOr<AdmissionRequest> parse_admission_review(std::string_view body) {
  boost::system::error_code ec;
  json::value root = json::parse(body, ec);
  if (ec)
    return absl::InvalidArgumentError(
        fmt::format("request body is not valid JSON: {}", ec.message()));
  const json::object* review = root.if_object();
  if (review == nullptr)
    return absl::InvalidArgumentError("request body must be a JSON object (an AdmissionReview)");
  auto api_version = optional_string(*review, "apiVersion", "AdmissionReview");
  if (!api_version.ok()) return api_version.status();
  auto kind = optional_string(*review, "kind", "AdmissionReview");
  if (!kind.ok()) return kind.status();
  if (*kind != "AdmissionReview") {
    return absl::InvalidArgumentError(
        fmt::format("kind must be \"AdmissionReview\", got \"{}\"", *kind));
  }
  if (*api_version != kAdmissionApiVersion) {
    return absl::InvalidArgumentError(fmt::format(
        "unsupported AdmissionReview apiVersion \"{}\" (this webhook speaks {}; list only v1 in "
        "admissionReviewVersions)",
        *api_version, kAdmissionApiVersion));
  }
  const json::value* request_value = review->if_contains("request");
  if (request_value == nullptr || !request_value->is_object()) {
    return absl::InvalidArgumentError("AdmissionReview.request is missing or not an object");
  }
  const json::object& request = request_value->as_object();

  AdmissionRequest out;
  auto uid = optional_string(request, "uid", "request");
  if (!uid.ok()) return uid.status();
  if (uid->empty()) return absl::InvalidArgumentError("request.uid is missing or empty");
  out.uid = *std::move(uid);

  const json::value* gvk = request.if_contains("kind");
  if (gvk == nullptr || !gvk->is_object()) {
    return absl::InvalidArgumentError(
        "request.kind is missing or not an object {group, version, kind}");
  }
  for (auto [field, target] :
       {std::pair{"group", &out.kind.group}, std::pair{"version", &out.kind.version},
        std::pair{"kind", &out.kind.kind}}) {
    auto value = optional_string(gvk->as_object(), field, "request.kind");
    if (!value.ok()) return value.status();
    *target = *std::move(value);
  }
  for (auto [field, target] :
       {std::pair{"subResource", &out.sub_resource}, std::pair{"name", &out.name},
        std::pair{"namespace", &out.namespace_name}, std::pair{"operation", &out.operation}}) {
    auto value = optional_string(request, field, "request");
    if (!value.ok()) return value.status();
    *target = *std::move(value);
  }
  if (out.operation.empty()) return absl::InvalidArgumentError("request.operation is missing");
  if (const json::value* dry_run = request.if_contains("dryRun");
      dry_run != nullptr && !dry_run->is_null()) {
    if (!dry_run->is_bool()) return absl::InvalidArgumentError("request.dryRun must be a boolean");
    out.dry_run = dry_run->as_bool();
  }
  if (const json::value* object = request.if_contains("object");
      object != nullptr && !object->is_null()) {
    if (!object->is_object()) return absl::InvalidArgumentError("request.object must be an object");
    out.object = object->as_object();
  }
  return out;
}

json::object admission_review_json(const AdmissionResponse& response) {
  json::object body;
  body["uid"] = response.uid;
  body["allowed"] = response.allowed;
  if (!response.patch.empty()) {
    body["patchType"] = "JSONPatch";
    body["patch"] = base64_encode(response.patch);
  }
  if (!response.allowed || response.status_code != 0) {
    json::object status;
    status["status"] = response.allowed ? "Success" : "Failure";
    if (response.status_code != 0) status["code"] = response.status_code;
    if (!response.status_reason.empty()) status["reason"] = response.status_reason;
    if (!response.status_message.empty()) status["message"] = response.status_message;
    body["status"] = std::move(status);
  }
  if (!response.warnings.empty()) {
    json::array warnings;
    for (const auto& w : response.warnings) warnings.emplace_back(w);
    body["warnings"] = std::move(warnings);
  }
  return json::object{{"apiVersion", kAdmissionApiVersion},
                      {"kind", "AdmissionReview"},
                      {"response", std::move(body)}};
}

std::string serialize_admission_review(const AdmissionResponse& response) {
  return json::serialize(admission_review_json(response));
}

}  // namespace wims::webhook
