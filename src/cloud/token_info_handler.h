// TokenInfoHandler: the embedded cloud's Google OAuth2 v3 endpoints under /oauth2/v3/:
//
//   GET|POST /oauth2/v3/tokeninfo?access_token=T   (POST: also a form body access_token=T)
//     ->
//     {"azp","aud","sub","scope","exp","expires_in","email","email_verified","access_type":"online"}
//        for a valid access token of the local cloud (cloud/access_token_codec.h). As Google, the
//        numbers and booleans are JSON strings. Service-account tokens: azp = aud = sub = the
//        account's unique id (service_account_unique_id), email = its email. Federated tokens:
//        azp = aud = sub = the workload's principal:// identifier, no email.
//   GET|POST /oauth2/v3/tokeninfo?id_token=T
//     -> the claims of a valid ID token signed by the cloud's SigningKeyRing (issuer
//        https://accounts.google.com, not expired), numbers and booleans as strings, plus the
//        header's "alg", "kid" and "typ".
//   Errors: 400 {"error":"invalid_token","error_description":"Invalid Value"} for a malformed,
//   unknown, forged or expired token; 400 {"error":"invalid_request",...} without a token.
//   GET /oauth2/v3/certs  the ring's published keys (JWKS), to verify the ID tokens
//                         generateIdToken mints (cloud/iam_credentials_handler.h).
//
// Owned by the cloud wiring; `codec`, `ring` and `clock` must outlive it. Thread-safe, no blocking
// I/O.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "cloud/access_token_codec.h"
#include "cloud/signing_key_ring.h"
#include "common/clock.h"
#include "http/handler.h"

namespace wims::cloud {

class TokenInfoHandler final : public http::Handler {
 public:
  TokenInfoHandler(const AccessTokenCodec& codec, const SigningKeyRing& ring, const Clock& clock);

  boost::asio::awaitable<http::Response> handle(http::Request& request) override;

 private:
  http::Response access_token_info(std::string_view token) const;
  http::Response id_token_info(std::string_view token) const;

  const AccessTokenCodec& codec_;
  const SigningKeyRing& ring_;
  const Clock& clock_;
};

}  // namespace wims::cloud
