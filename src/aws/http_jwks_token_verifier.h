// HttpJwksTokenVerifier: verifies web identity tokens of external OIDC issuers the way AWS STS
// does: OIDC discovery (`ISSUER/.well-known/openid-configuration`, whose `issuer` must equal the
// token's issuer) -> `jwks_uri` -> the JWKS, then the key named by the token's kid.
//
//   http::Client client;
//   aws::HttpJwksTokenVerifier verifier(client, clock, {.cache_ttl = absl::Hours(1)});
//   absl::Status ok = co_await verifier.verify_signature(jwt, "https://oidc.example.com/id/X");
//
// Caching: one JWKS per issuer, reused for cache_ttl. A kid the cached set does not know triggers
// a refetch (the issuer may just have rotated), at most once per min_refetch_interval per issuer so
// a stream of tokens with made-up kids cannot turn into a stream of fetches. When a refetch fails
// the cached set is used (stale beats unavailable). At most max_issuers sets are cached; the one
// fetched longest ago is evicted first. Concurrent misses may fetch concurrently (no coalescing;
// fetches are rare and bounded by the interval above once one succeeded).
//
// Errors (AWS-coded): IDPCommunicationError when discovery or the JWKS cannot be fetched or parsed
// (network error, timeout, non-200, not JSON, missing or non-http(s) jwks_uri, issuer mismatch,
// body over max_document_bytes); InvalidIdentityToken for an unknown kid or a bad signature.
//
// Thread-safe: the cache is behind a mutex never held across co_await. verify_signature runs on
// the caller's executor and co_awaits http::Client. `client` and `clock` must outlive this.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "aws/oidc_token_verifier.h"
#include "common/clock.h"
#include "http/client.h"
#include "jose/jwk_set.h"

namespace wims::aws {

struct HttpJwksTokenVerifierOptions {
  absl::Duration cache_ttl = absl::Hours(1);
  absl::Duration min_refetch_interval = absl::Seconds(30);
  size_t max_issuers = 64;
  // Per HTTP request (discovery, JWKS).
  absl::Duration request_timeout = absl::Seconds(5);
  size_t max_document_bytes = 512 * 1024;
};

class HttpJwksTokenVerifier final : public OidcTokenVerifier {
 public:
  HttpJwksTokenVerifier(http::Client& client, const Clock& clock,
                        HttpJwksTokenVerifierOptions options = {});

  boost::asio::awaitable<absl::Status> verify_signature(jose::DecodedJwt jwt,
                                                        std::string issuer_url) override;

  // Discovery + JWKS fetches started since construction (for tests and metrics).
  size_t fetches() const;

 private:
  struct CachedJwks {
    std::shared_ptr<const jose::JwkSet> jwks;
    absl::Time fetched_at;
  };

  boost::asio::awaitable<absl::StatusOr<jose::JwkSet>> fetch(std::string issuer_url);
  boost::asio::awaitable<absl::StatusOr<std::string>> get(std::string url, std::string what);
  void store(const std::string& issuer_url, CachedJwks entry);

  http::Client& client_;
  const Clock& clock_;
  const HttpJwksTokenVerifierOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, CachedJwks> cache_ ABSL_GUARDED_BY(mu_);
  size_t fetches_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace wims::aws
