#include "cloud/google_error.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "common/strings.h"

namespace wims::cloud {
namespace {

namespace bhttp = boost::beast::http;

http::Response json_error(int code, boost::json::object error) {
  return http::make_response(
      static_cast<bhttp::status>(code), "application/json; charset=UTF-8",
      boost::json::serialize(boost::json::object{{"error", std::move(error)}}));
}

}  // namespace

int google_http_code(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kAlreadyExists:
      return 409;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kCancelled:
      return 499;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

std::string_view google_status_name(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return "OK";
    case absl::StatusCode::kCancelled:
      return "CANCELLED";
    case absl::StatusCode::kInvalidArgument:
      return "INVALID_ARGUMENT";
    case absl::StatusCode::kDeadlineExceeded:
      return "DEADLINE_EXCEEDED";
    case absl::StatusCode::kNotFound:
      return "NOT_FOUND";
    case absl::StatusCode::kAlreadyExists:
      return "ALREADY_EXISTS";
    case absl::StatusCode::kPermissionDenied:
      return "PERMISSION_DENIED";
    case absl::StatusCode::kResourceExhausted:
      return "RESOURCE_EXHAUSTED";
    case absl::StatusCode::kFailedPrecondition:
      return "FAILED_PRECONDITION";
    case absl::StatusCode::kAborted:
      return "ABORTED";
    case absl::StatusCode::kOutOfRange:
      return "OUT_OF_RANGE";
    case absl::StatusCode::kUnimplemented:
      return "UNIMPLEMENTED";
    case absl::StatusCode::kUnavailable:
      return "UNAVAILABLE";
    case absl::StatusCode::kDataLoss:
      return "DATA_LOSS";
    case absl::StatusCode::kUnauthenticated:
      return "UNAUTHENTICATED";
    default:
      return "INTERNAL";
  }
}

http::Response google_error(const absl::Status& status, boost::json::array details) {
  int code = google_http_code(status.code());
  boost::json::object error{{"code", code},
                            {"message", to_std(status.message())},
                            {"status", google_status_name(status.code())}};
  if (!details.empty()) error["details"] = std::move(details);
  return json_error(code, std::move(error));
}

http::Response unauthenticated_error() {
  http::Response response = google_error(absl::UnauthenticatedError(kInvalidCredentialsMessage));
  response.set(bhttp::field::www_authenticate, "Bearer realm=\"https://accounts.google.com/\"");
  return response;
}

http::Response iam_permission_denied(std::string_view permission, std::string_view domain) {
  std::string message =
      "Permission '" + std::string(permission) + "' denied on resource (or it may not exist).";
  boost::json::array details{
      boost::json::object{{"@type", "type.googleapis.com/google.rpc.ErrorInfo"},
                          {"reason", "IAM_PERMISSION_DENIED"},
                          {"domain", domain},
                          {"metadata", boost::json::object{{"permission", permission}}}}};
  return google_error(absl::PermissionDeniedError(message), std::move(details));
}

http::Response storage_error(int code, std::string_view message, std::string_view reason,
                             bool authorization_header) {
  boost::json::object item{{"message", message}, {"domain", "global"}, {"reason", reason}};
  if (authorization_header) {
    item["locationType"] = "header";
    item["location"] = "Authorization";
  }
  http::Response response =
      json_error(code, boost::json::object{{"code", code},
                                           {"message", message},
                                           {"errors", boost::json::array{std::move(item)}}});
  if (code == 401) {
    response.set(bhttp::field::www_authenticate, "Bearer realm=\"https://accounts.google.com/\"");
  }
  return response;
}

}  // namespace wims::cloud
