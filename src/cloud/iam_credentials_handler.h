// IamCredentialsHandler: the embedded cloud's IAM Service Account Credentials API
// (iamcredentials.googleapis.com), minting credentials for the World's Google service accounts:
//
//   POST /v1/projects/-/serviceAccounts/EMAIL:generateAccessToken
//        {"delegates":[...],"scope":[...],"lifetime":"3600s"} -> {"accessToken","expireTime"}
//   POST /v1/projects/-/serviceAccounts/EMAIL:generateIdToken
//        {"delegates":[...],"audience":"...","includeEmail":true} -> {"token"}
//
// Rules (as the real API): the project segment must be the "-" wildcard (400 INVALID_ARGUMENT
// otherwise); an unknown service account is 404 NOT_FOUND; `scope` is required; `lifetime`
// defaults to 1 h and may not exceed 1 h (400 INVALID_ARGUMENT). The caller (a valid bearer token,
// cloud/caller_auth.h; 401 otherwise) must hold iam.serviceAccounts.getAccessToken (access
// tokens) or iam.serviceAccounts.getOpenIdToken (ID tokens) on the service account, e.g. through
// roles/iam.workloadIdentityUser or roles/iam.serviceAccountTokenCreator; with `delegates`
// ("projects/-/serviceAccounts/EMAIL"), the caller needs it on the first delegate, each delegate on
// the next, and the last on the target. A denial is the documented 403 PERMISSION_DENIED with the
// IAM_PERMISSION_DENIED ErrorInfo.
//
// Access tokens are "ya29." tokens of cloud/access_token_codec.h (kind service_account, subject =
// the service account's email, the requested scopes). ID tokens are JWTs signed by the cloud's
// SigningKeyRing (published at GET /oauth2/v3/certs by cloud/token_info_handler.h) with claims
//   iss "https://accounts.google.com", aud = audience, azp = sub = the service account's unique id
//   (service_account_unique_id), iat, exp = iat + 1 h, and email + email_verified when
//   includeEmail.
//
// wims extension (honoured only by the embedded cloud; the real API rejects unknown fields): the
// node metadata server's `identity?format=full` needs the GCE claims, so generateIdToken also
// accepts
//   "wimsComputeEngine": {"project_id","project_number"(int),"zone","instance_id",
//                         "instance_name","instance_creation_timestamp"(int),"license_id":[...]}
//   "wimsLicenses": true
// and then adds "google":{"compute_engine":{...}} with those fields (license_id only with
// wimsLicenses). Values the World knows (project id and number, the node's zone, name and id)
// must equal the World's (400 INVALID_ARGUMENT otherwise), so a caller cannot mint claims for a
// VM that is not this node.
//
// Owned by the cloud wiring; `policies`, `auth`, `ring` and `clock` must outlive it. Thread-safe:
// handle() may run on every worker at once; pure computation (signing), no blocking I/O.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>
#include <string_view>

#include "cloud/caller_auth.h"
#include "cloud/google_policy_store.h"
#include "cloud/signing_key_ring.h"
#include "common/clock.h"
#include "http/handler.h"
#include "iam/authorizer.h"

namespace wims::cloud {

// Google's ID token issuer.
inline constexpr char kGoogleIdTokenIssuer[] = "https://accounts.google.com";

// A stable 21-digit numeric id for a Google service account (the "uniqueId" / ID-token `sub`),
// derived from its lower-cased email.
std::string service_account_unique_id(std::string_view email);

class IamCredentialsHandler final : public http::Handler {
 public:
  static constexpr absl::Duration kDefaultLifetime = absl::Hours(1);
  static constexpr absl::Duration kMaxLifetime = absl::Hours(1);
  static constexpr absl::Duration kIdTokenLifetime = absl::Hours(1);

  IamCredentialsHandler(const GooglePolicyStore& policies, const CallerAuth& auth,
                        const SigningKeyRing& ring, const Clock& clock);

  boost::asio::awaitable<http::Response> handle(http::Request& request) override;

  // Whether `path` is an IAM Credentials method path (".../serviceAccounts/X:generateAccessToken"
  // or ":generateIdToken", ":signBlob", ":signJwt"), for dispatchers sharing /v1/projects/.
  static bool is_credentials_path(std::string_view path);

 private:
  http::Response generate_access_token(const http::Request& request, const iam::Caller& caller,
                                       const config::GoogleServiceAccount& gsa) const;
  http::Response generate_id_token(const http::Request& request, const iam::Caller& caller,
                                   const config::GoogleServiceAccount& gsa) const;
  // OK when `caller` (through `delegates`) holds `permission` on `gsa`; else the HTTP error.
  std::optional<http::Response> authorize(const iam::Caller& caller,
                                          const std::vector<std::string>& delegates,
                                          const config::GoogleServiceAccount& gsa,
                                          std::string_view permission) const;

  const GooglePolicyStore& policies_;
  const CallerAuth& auth_;
  const SigningKeyRing& ring_;
  const Clock& clock_;
  iam::Authorizer authorizer_;
};

}  // namespace wims::cloud
