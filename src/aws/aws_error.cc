#include "aws/aws_error.h"

#include <optional>
#include <utility>

#include "absl/strings/cord.h"
#include "common/strings.h"

namespace wims::aws {
namespace {

constexpr std::string_view kPayloadUrl = "type.wims.dev/aws.ErrorCode";

struct CodeStatus {
  std::string_view code;
  int http_status;
};

// HTTP statuses from the botocore STS/IAM service models and observed responses (shared/spec
// section 1).
constexpr CodeStatus kCodes[] = {
    {"AccessDenied", 403},
    {"AccessDeniedException", 403},
    {"ConcurrentModification", 409},
    {"DeleteConflict", 409},
    {"EntityAlreadyExists", 409},
    {"ExpiredToken", 400},
    {"ExpiredTokenException", 400},
    {"IDPCommunicationError", 400},
    {"IDPRejectedClaim", 403},
    {"IncompleteSignature", 400},
    {"InternalFailure", 500},
    {"InvalidAction", 400},
    {"InvalidClientTokenId", 403},
    {"InvalidIdentityToken", 400},
    {"InvalidInput", 400},
    {"InvalidParameterValue", 400},
    {"LimitExceeded", 409},
    {"MalformedPolicyDocument", 400},
    {"MalformedQueryString", 404},
    {"MissingAction", 400},
    {"MissingAuthenticationToken", 403},
    {"MissingParameter", 400},
    {"NoSuchEntity", 404},
    {"NotImplemented", 501},
    {"OptInRequired", 403},
    {"PackedPolicyTooLarge", 400},
    {"RegionDisabledException", 403},
    {"RequestExpired", 400},
    {"ServiceFailure", 500},
    {"ServiceUnavailable", 503},
    {"SignatureDoesNotMatch", 403},
    {"Throttling", 400},
    {"ValidationError", 400},
    {"XAmzContentSHA256Mismatch", 400},
};

absl::StatusCode absl_code_for(int http_status, std::string_view code) {
  if (http_status >= 500) return absl::StatusCode::kInternal;
  switch (http_status) {
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
      return absl::StatusCode::kNotFound;
    case 409:
      return code == "EntityAlreadyExists" ? absl::StatusCode::kAlreadyExists
                                           : absl::StatusCode::kFailedPrecondition;
    default:
      return absl::StatusCode::kInvalidArgument;
  }
}

}  // namespace

int aws_error_http_status(std::string_view code) {
  for (const auto& entry : kCodes) {
    if (entry.code == code) return entry.http_status;
  }
  return 400;
}

absl::Status aws_error(std::string_view code, std::string_view message) {
  int http_status = aws_error_http_status(code);
  absl::Status status(absl_code_for(http_status, code), to_absl(message));
  status.SetPayload(to_absl(kPayloadUrl), absl::Cord(to_absl(code)));
  return status;
}

AwsErrorInfo aws_error_info(const absl::Status& status) {
  AwsErrorInfo info;
  info.message = std::string(status.message());
  auto code = status.GetPayload(to_absl(kPayloadUrl));
  if (code.has_value()) {
    info.code = std::string(*code);
  } else if (status.code() == absl::StatusCode::kInvalidArgument) {
    info.code = "ValidationError";
  } else {
    info.code = "InternalFailure";
  }
  info.http_status = aws_error_http_status(info.code);
  info.type = info.http_status >= 500 ? "Receiver" : "Sender";
  return info;
}

}  // namespace wims::aws
