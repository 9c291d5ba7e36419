// AdmissionReview (admission.k8s.io/v1): the envelope the API server POSTs to a mutating webhook
// and the answer it expects back (Kubernetes docs, "Dynamic Admission Control"):
//
//   in:
//   {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid","kind":{group,version,
//         kind},"resource","subResource","name","namespace","operation","userInfo","object","oldObject",
//         "dryRun","options"}}
//   out:
//   {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":<request.uid>,
//         "allowed":true,"patchType":"JSONPatch","patch":"<base64 RFC 6902>"}}; a refusal carries
//         "allowed":false and "status":{"code","message","reason","status":"Failure"}; optional
//         "warnings".
//
// parse_admission_review() is strict about what the webhook relies on and names the offending field
// in its InvalidArgument message (the handler answers it 400 verbatim). Only v1 is spoken (the API
// server sends v1 when the webhook configuration lists it in admissionReviewVersions, which deploy/
// does).
//
// Plain values and free functions: thread-safe; no I/O.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace wims::webhook {

inline constexpr char kAdmissionApiVersion[] = "admission.k8s.io/v1";

struct GroupVersionKind {
  std::string group = {};  // "" for the core group
  std::string version = {};
  std::string kind = {};

  bool is_core_v1(std::string_view k) const {
    return group.empty() && version == "v1" && kind == k;
  }
};

struct AdmissionRequest {
  std::string uid = {};
  GroupVersionKind kind = {};
  std::string sub_resource = {};
  std::string name = {};            // may be empty on CREATE (generateName)
  std::string namespace_name = {};  // request.namespace: authoritative (the object's may be empty)
  std::string operation = {};       // CREATE, UPDATE, DELETE, CONNECT
  bool dry_run = false;
  // request.object; nullopt when absent or null (DELETE).
  std::optional<boost::json::object> object = std::nullopt;
};

// InvalidArgument (with the field) for a body that is not an AdmissionReview v1 with a request.uid.
absl::StatusOr<AdmissionRequest> parse_admission_review(std::string_view body);

struct AdmissionResponse {
  std::string uid = {};
  bool allowed = true;
  // The RFC 6902 patch document (a JSON array as text); empty: no patch.
  std::string patch = {};
  // For a refusal: the HTTP-like code, reason ("BadRequest", "Forbidden") and a message for the
  // user.
  int32_t status_code = 0;
  std::string status_reason = {};
  std::string status_message = {};
  std::vector<std::string> warnings = {};

  static AdmissionResponse allow(std::string uid) {
    return AdmissionResponse{.uid = std::move(uid)};
  }
  static AdmissionResponse deny(std::string uid, int32_t code, std::string reason,
                                std::string message) {
    return AdmissionResponse{.uid = std::move(uid),
                             .allowed = false,
                             .status_code = code,
                             .status_reason = std::move(reason),
                             .status_message = std::move(message)};
  }
};

// The AdmissionReview v1 answer; the patch is base64-encoded with patchType JSONPatch.
boost::json::object admission_review_json(const AdmissionResponse& response);
std::string serialize_admission_review(const AdmissionResponse& response);

}  // namespace wims::webhook
