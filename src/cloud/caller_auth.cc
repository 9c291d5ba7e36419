#include "cloud/caller_auth.h"

#include <openssl/crypto.h>

#include "absl/strings/match.h"
#include "cloud/google_error.h"
#include "common/strings.h"

namespace wims::cloud {

CallerAuth::CallerAuth(std::string admin_token, const AccessTokenCodec& codec, const Clock& clock)
    : admin_token_(std::move(admin_token)), codec_(codec), clock_(clock) {}

std::optional<std::string_view> CallerAuth::bearer_token(const http::Request& request) {
  std::optional<std::string_view> header = request.header("Authorization");
  if (!header) return std::nullopt;
  constexpr std::string_view kScheme = "bearer ";
  if (header->size() <= kScheme.size() ||
      !absl::StartsWithIgnoreCase(to_absl(*header), to_absl(kScheme))) {
    return std::string_view();
  }
  std::string_view token = header->substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  return token;
}

absl::StatusOr<iam::Caller> CallerAuth::caller_of_token(std::string_view token) const {
  if (token.empty()) return absl::UnauthenticatedError(kInvalidCredentialsMessage);
  // Constant time, so the admin token cannot be guessed byte by byte from response timing.
  if (!admin_token_.empty() && token.size() == admin_token_.size() &&
      CRYPTO_memcmp(token.data(), admin_token_.data(), token.size()) == 0) {
    return iam::Caller::admin();
  }
  absl::StatusOr<AccessTokenClaims> claims = codec_.verify(token, clock_.now());
  if (!claims.ok()) return absl::UnauthenticatedError(kInvalidCredentialsMessage);
  if (claims->kind == AccessTokenKind::kServiceAccount) {
    return iam::Caller::service_account(claims->subject);
  }
  if (!claims->workload) return absl::UnauthenticatedError(kInvalidCredentialsMessage);
  return iam::Caller::workload(*claims->workload);
}

absl::StatusOr<iam::Caller> CallerAuth::authenticate(const http::Request& request) const {
  std::optional<std::string_view> token = bearer_token(request);
  if (!token) return absl::UnauthenticatedError(kInvalidCredentialsMessage);
  return caller_of_token(*token);
}

absl::StatusOr<iam::Caller> CallerAuth::authenticate_or_anonymous(
    const http::Request& request) const {
  std::optional<std::string_view> token = bearer_token(request);
  if (!token) return iam::Caller::anonymous();
  return caller_of_token(*token);
}

std::string caller_display_name(const iam::Caller& caller) {
  switch (caller.kind()) {
    case iam::Caller::Kind::kServiceAccount:
      return caller.email();
    case iam::Caller::Kind::kWorkload:
      return iam::principal_id(caller.workload_identity());
    case iam::Caller::Kind::kAdmin:
      return "wims admin";
    case iam::Caller::Kind::kAnonymous:
      break;
  }
  return "Anonymous caller";
}

}  // namespace wims::cloud
