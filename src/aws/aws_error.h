// AwsError: how wims::aws carries an AWS error code ("ValidationError", "SignatureDoesNotMatch",
// ...) inside the project's single error currency, absl::Status. The code travels as a status
// payload; the HTTP status and the Sender/Receiver type come from one table, so the Query-protocol
// front end renders every failure in the documented shape without a per-call mapping.
//
//   return aws_error("ValidationError", "1 validation error detected: ...");
//   ...
//   AwsErrorInfo info = aws_error_info(status);  // {code, message, http_status, type}
//
// Stateless and thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace wims::aws {

// A status carrying `code`. The absl code follows the HTTP status of `code` (400 ->
// InvalidArgument, 403 -> PermissionDenied, 404 -> NotFound, 409 ->
// AlreadyExists/FailedPrecondition, 5xx -> Internal).
absl::Status aws_error(std::string_view code, std::string_view message);

struct AwsErrorInfo {
  std::string code;     // "ValidationError"; "InternalFailure" for a status without an AWS code
  std::string message;  // the status message
  int http_status = 500;
  std::string type;  // "Sender" (4xx) or "Receiver" (5xx)
};

// The AWS rendering of `status` (which must not be OK). A status without an AWS code payload is an
// internal failure (500) unless it is InvalidArgument, which maps to ValidationError (400).
AwsErrorInfo aws_error_info(const absl::Status& status);

// The HTTP status AWS uses for `code` (400 for codes not in the table).
int aws_error_http_status(std::string_view code);

}  // namespace wims::aws
