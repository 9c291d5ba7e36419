// StsService: the local cloud's STS (Query protocol, version 2011-06-15). AssumeRoleWithWebIdentity
// exchanges a web identity token (a Kubernetes service-account token) for temporary credentials of
// a role whose trust policy admits it; GetCallerIdentity answers for credentials it issued. Issued
// credentials are kept in the AwsStateRepository with their expiry so signed calls can be verified
// (signing_secret).
//
//   StsService sts(repository, verifier, clock, "111122223333");
//   absl::StatusOr<std::string> xml = co_await sts.assume_role_with_web_identity(params,
//   request_id);
//
// AssumeRoleWithWebIdentity checks, in order: parameters (RoleArn, RoleSessionName
// [\w+=,.@-]{2,64}, WebIdentityToken 4..20000, DurationSeconds 900..43200, Policy 1..2048 and a
// valid policy) -> ValidationError / MalformedPolicyDocument; the token is a JWT whose `iss` names
// a registered OIDC provider
// -> InvalidIdentityToken "No OpenIDConnect provider found in your account for ISS"; its signature
// (OidcTokenVerifier); `aud` among the provider's client IDs -> "Incorrect token audience"; `exp`
// in the future -> ExpiredTokenException; the role exists and its trust policy allows
// Federated=provider ARN, sts:AssumeRoleWithWebIdentity with context keys ISSUER:sub, :aud, :amr,
// :azp, :oaud -> AccessDenied; DurationSeconds within the role's MaxSessionDuration ->
// ValidationError.
//
// Thread-safe; assume_role_with_web_identity runs on the caller's executor and co_awaits only the
// verifier.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "aws/aws_state_repository.h"
#include "aws/oidc_token_verifier.h"
#include "aws/query_protocol.h"
#include "aws/sigv4.h"
#include "common/clock.h"

namespace wims::aws {

class StsService {
 public:
  // Not owned; all must outlive the service.
  StsService(AwsStateRepository& repository, OidcTokenVerifier& verifier, const Clock& clock,
             std::string account_id);

  // Whether `action` is an STS action this service implements.
  static bool handles(std::string_view action);
  // Whether `action` is called unsigned (AssumeRoleWithWebIdentity).
  static bool is_unsigned(std::string_view action);

  // The response XML of AssumeRoleWithWebIdentity, or an AWS-coded error.
  boost::asio::awaitable<absl::StatusOr<std::string>> assume_role_with_web_identity(
      QueryParams params, std::string request_id);

  // The response XML of GetCallerIdentity for `caller`, who signed with credentials this service
  // issued (an assumed role) or with the account's admin key (`admin_access_key_id`, reported as
  // the root user).
  absl::StatusOr<std::string> get_caller_identity(const SigV4Identity& caller,
                                                  std::string_view admin_access_key_id,
                                                  std::string_view request_id);

  // The secret behind temporary access key `access_key_id`, for SigV4Verifier; nullopt when
  // unknown.
  std::optional<SigV4Secret> signing_secret(std::string_view access_key_id);

  const std::string& account_id() const { return account_id_; }

 private:
  AwsStateRepository& repository_;
  OidcTokenVerifier& verifier_;
  const Clock& clock_;
  std::string account_id_;
};

}  // namespace wims::aws
