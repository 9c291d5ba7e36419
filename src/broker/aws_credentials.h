// AwsCredentialSource: what the AWS front ends (IMDS, the container-credentials endpoint) ask of
// the credential broker for a calling pod: temporary AWS credentials for the pod's AWS role
// (Caller::aws_role_arn). The implementation (broker/aws_broker.h) exchanges the pod's
// service-account token with STS AssumeRoleWithWebIdentity and caches the result per (pod, role).
//
// Implementations are thread-safe and may be called concurrently from every worker executor; the
// returned awaitables run on the caller's executor.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "broker/caller.h"

namespace wims::broker {

struct AwsCredentials {
  std::string access_key_id;  // "ASIA..."
  std::string secret_access_key;
  std::string session_token;
  absl::Time expiration;
  absl::Time last_updated;       // when these credentials were obtained
  std::string assumed_role_arn;  // "arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION"
};

class AwsCredentialSource {
 public:
  virtual ~AwsCredentialSource() = default;
  // Credentials for `caller`'s AWS role, never with less than 5 minutes left. Errors: NotFound (the
  // pod has no AWS role), FailedPrecondition (the role ARN is malformed, or STS refused the
  // request's shape), Unauthenticated (STS refused the service-account token: invalid or expired),
  // PermissionDenied (the role's trust policy refused the pod), ResourceExhausted (throttled, or
  // the local rate bound), Unavailable (STS unreachable or 5xx), Internal (an unreadable STS
  // answer).
  virtual boost::asio::awaitable<absl::StatusOr<AwsCredentials>> credentials(
      const Caller& caller) = 0;
};

// The role name of a role ARN: the part after the last '/' ("arn:aws:iam::1:role/path/app" ->
// "app"); "" when `role_arn` has no '/'.
inline std::string_view aws_role_name(std::string_view role_arn) {
  size_t slash = role_arn.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : role_arn.substr(slash + 1);
}

// The account field of an ARN ("arn:aws:sts::111122223333:assumed-role/R/S" -> "111122223333"); ""
// when `arn` does not have the six colon-separated fields.
inline std::string_view aws_arn_account(std::string_view arn) {
  size_t at = 0;
  for (int field = 0; field < 4; ++field) {
    at = arn.find(':', at);
    if (at == std::string_view::npos) return {};
    ++at;
  }
  size_t end = arn.find(':', at);
  if (end == std::string_view::npos) return {};
  return arn.substr(at, end - at);
}

}  // namespace wims::broker
