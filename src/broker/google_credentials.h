// GoogleCredentials: what the GCE metadata front end asks of the credential broker for a calling
// pod. Implementations exchange the pod's Kubernetes service-account token at a Security Token
// Service and, when the service account is annotated with a Google service account, impersonate it
// through the IAM Credentials API; results are cached per identity and scope set
// (broker/token_cache.h).
//
// Implementations are thread-safe and may be called concurrently from every worker executor; the
// returned awaitables run on the caller's executor.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "broker/caller.h"

namespace wims::broker {

struct AccessToken {
  std::string token;
  absl::Time expiry;
};

struct IdTokenOptions {
  std::string audience;
  bool full_format =
      false;  // format=full: email, email_verified (and compute_engine claims where available)
  bool include_licenses = false;
};

class GoogleCredentials {
 public:
  virtual ~GoogleCredentials() = default;
  // An OAuth access token for `caller` with `scopes` (empty: the default cloud-platform scope).
  // Never returns a token with less than 5 minutes left. Errors: PermissionDenied (the cloud
  // refused), Unavailable (upstream down), ResourceExhausted (upstream rate bound).
  virtual boost::asio::awaitable<absl::StatusOr<AccessToken>> access_token(
      const Caller& caller, std::vector<std::string> scopes) = 0;
  // A signed OpenID Connect ID token for `caller`. NotFound when the service account has no Google
  // service account to speak for (GKE answers 404 there).
  virtual boost::asio::awaitable<absl::StatusOr<std::string>> id_token(const Caller& caller,
                                                                       IdTokenOptions options) = 0;
};

}  // namespace wims::broker
