// Google API error responses: the one mapping from absl::Status to the JSON error shape of Google's
// REST APIs (google.rpc.Status over HTTP), used by every Google handler of the embedded cloud:
//
//   {"error":{"code":403,"message":"...","status":"PERMISSION_DENIED","details":[...]}}
//
// plus the documented special shapes: the IAM_PERMISSION_DENIED ErrorInfo of IAM Credentials, the
// 401 of a bad bearer token, and Cloud Storage's JSON API errors (with its legacy "errors" array).
// Free functions; stateless and thread-safe.
#pragma once

#include <boost/json/array.hpp>
#include <string_view>

#include "absl/status/status.h"
#include "http/request.h"

namespace wims::cloud {

// The HTTP code and canonical status name ("INVALID_ARGUMENT") of a Status code:
// InvalidArgument 400, FailedPrecondition 400, OutOfRange 400, Unauthenticated 401,
// PermissionDenied 403, NotFound 404, Aborted 409, AlreadyExists 409, ResourceExhausted 429,
// Cancelled 499, Unimplemented 501, Unavailable 503, DeadlineExceeded 504, others 500 INTERNAL.
int google_http_code(absl::StatusCode code);
std::string_view google_status_name(absl::StatusCode code);

// {"error":{"code","message","status"[,"details"]}} for a non-OK `status`.
http::Response google_error(const absl::Status& status, boost::json::array details = {});

// The message of a 401 for a missing, malformed, unknown or expired bearer token (Google's text).
inline constexpr char kInvalidCredentialsMessage[] =
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie "
    "or other valid authentication credential. See "
    "https://developers.google.com/identity/sign-in/web/devconsole-project.";

// 401 UNAUTHENTICATED with kInvalidCredentialsMessage and `WWW-Authenticate: Bearer
// realm="https://accounts.google.com/"`.
http::Response unauthenticated_error();

// The IAM 403: "Permission 'PERMISSION' denied on resource (or it may not exist)." with status
// PERMISSION_DENIED and a google.rpc.ErrorInfo detail {reason IAM_PERMISSION_DENIED, domain
// `domain`, metadata {permission}} (the documented generateAccessToken denial).
http::Response iam_permission_denied(std::string_view permission,
                                     std::string_view domain = "iam.googleapis.com");

// A Cloud Storage JSON API error: {"error":{"code","message","errors":[{"message","domain":
// "global","reason"[,"locationType":"header","location":"Authorization"]}]}}. `reason` is e.g.
// "forbidden", "notFound", "required", "authError", "invalid", "conflict";
// `authorization_header` adds the location of the Authorization header (for 401s).
http::Response storage_error(int code, std::string_view message, std::string_view reason,
                             bool authorization_header = false);

}  // namespace wims::cloud
