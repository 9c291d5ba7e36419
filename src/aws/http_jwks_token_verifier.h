// HttpJwksTokenVerifier: verifies web identity tokens of external OIDC issuers the way AWS STS
// does: OIDC discovery (`ISSUER/.well-known/openid-configuration`, whose `issuer` must equal the
// token's issuer) -> `jwks_uri` -> the JWKS, then the key named by the token's kid.
//
//   http::Client client;
//   aws::HttpJwksTokenVerifier verifier(client, clock, {.cache_ttl = absl::Hours(1)});
//   absl::Status ok = co_await verifier.verify_signature(jwt, "https://oidc.example.com/id/X");
//
// Fetching and caching are jose::HttpJwksCache's (jose/http_jwks_cache.h, shared with the Google
// STS): one JWKS per issuer, reused for cache_ttl, refetched on an unknown kid at most once per
// min_refetch_interval, stale keys used while the issuer is down, at most max_issuers cached.
//
// Errors (AWS-coded): IDPCommunicationError when discovery or the JWKS cannot be fetched or parsed
// (network error, timeout, non-200, not JSON, missing or non-http(s) jwks_uri, issuer mismatch,
// body over max_document_bytes); InvalidIdentityToken for an unknown kid or a bad signature.
//
// Thread-safe (the cache is). verify_signature runs on the caller's executor and co_awaits
// http::Client. `client` and `clock` must outlive this.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "aws/oidc_token_verifier.h"
#include "common/clock.h"
#include "http/client.h"
#include "jose/http_jwks_cache.h"

namespace wims::aws {

using HttpJwksTokenVerifierOptions = jose::HttpJwksCacheOptions;

class HttpJwksTokenVerifier final : public OidcTokenVerifier {
 public:
  HttpJwksTokenVerifier(http::Client& client, const Clock& clock,
                        HttpJwksTokenVerifierOptions options = {});

  boost::asio::awaitable<absl::Status> verify_signature(jose::DecodedJwt jwt,
                                                        std::string issuer_url) override;

  // Discovery + JWKS fetches started since construction (for tests and metrics).
  size_t fetches() const;

 private:
  jose::HttpJwksCache cache_;
};

}  // namespace wims::aws
