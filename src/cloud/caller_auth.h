// CallerAuth: who is calling one of the embedded cloud's Google APIs, from the request's
// `Authorization: Bearer TOKEN` header:
//   - the admin token given at construction       -> iam::Caller::admin()
//   - a valid federated access token (local STS)  -> iam::Caller::workload(identity)
//   - a valid service-account access token        -> iam::Caller::service_account(email)
//     (minted by generateAccessToken)
//   - a missing header, another scheme, an unknown, malformed or expired token -> Unauthenticated
//     with kInvalidCredentialsMessage (cloud/google_error.h), which handlers answer with
//     unauthenticated_error() (401 UNAUTHENTICATED, Google's JSON shape).
// Access tokens are self-contained ("ya29." + sealed claims, cloud/access_token_codec.h), so
// authentication is pure computation.
//
//   absl::StatusOr<iam::Caller> caller = auth.authenticate(request);
//   if (!caller.ok()) co_return unauthenticated_error();
//
// Holds references to the codec and the clock (both must outlive it); immutable after
// construction, so thread-safe on any worker. No I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "cloud/access_token_codec.h"
#include "common/clock.h"
#include "http/request.h"
#include "iam/principal.h"

namespace wims::cloud {

class CallerAuth {
 public:
  // `admin_token` must not be empty (an empty one never matches).
  CallerAuth(std::string admin_token, const AccessTokenCodec& codec, const Clock& clock);

  // The caller of `request`, or Unauthenticated (see above).
  absl::StatusOr<iam::Caller> authenticate(const http::Request& request) const;
  // As authenticate(), but a request WITHOUT an Authorization header is iam::Caller::anonymous()
  // (Cloud Storage serves public objects to anonymous callers); a present but bad header is still
  // Unauthenticated.
  absl::StatusOr<iam::Caller> authenticate_or_anonymous(const http::Request& request) const;
  // The caller a bearer token stands for (the token without "Bearer ").
  absl::StatusOr<iam::Caller> caller_of_token(std::string_view token) const;

  // The bearer token of `request`: the credentials of an `Authorization: Bearer` header (the
  // scheme is case-insensitive), nullopt when the header is absent, "" when present but not a
  // non-empty bearer token.
  static std::optional<std::string_view> bearer_token(const http::Request& request);

  const AccessTokenCodec& codec() const { return codec_; }

 private:
  std::string admin_token_;
  const AccessTokenCodec& codec_;
  const Clock& clock_;
};

// How a caller is named in Google's denial messages: the email of a service account, the
// principal:// identifier of a workload, "Anonymous caller", or "wims admin".
std::string caller_display_name(const iam::Caller& caller);

}  // namespace wims::cloud
