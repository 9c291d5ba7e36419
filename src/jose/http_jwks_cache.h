// HttpJwksCache: the verification keys of external OIDC issuers, fetched over HTTP(S) and cached.
// Either through OIDC discovery (`ISSUER/.well-known/openid-configuration`, whose `issuer` must
// equal the issuer asked for, -> `jwks_uri` -> the JWKS), or from a JWKS URL given by
// configuration (a cluster whose issuer serves no discovery document to wims).
//
//   http::Client client;
//   jose::HttpJwksCache cache(client, clock, {.cache_ttl = absl::Hours(1)});
//   absl::StatusOr<std::shared_ptr<const jose::JwkSet>> jwks =
//       co_await cache.keys("https://oidc.example.com/id/X", kid);            // discovery
//   jwks = co_await cache.keys(issuer, kid, "https://host/openid/v1/jwks");   // fixed JWKS URL
//
// Shared by the AWS STS (aws/http_jwks_token_verifier.h) and the Google STS
// (cloud/jwks_issuer_key_source.h).
//
// Caching: one JWKS per (issuer, JWKS URL), reused for cache_ttl. A kid the cached set does not
// know triggers a refetch (the issuer may just have rotated), at most once per
// min_refetch_interval per issuer, so a stream of tokens with made-up kids cannot turn into a
// stream of fetches. When a refetch fails the cached set is returned (stale beats unavailable). At
// most max_issuers sets are cached; the one fetched longest ago is evicted first. Concurrent misses
// may fetch concurrently (no coalescing; fetches are rare and bounded by the interval above once
// one succeeded). Trailing slashes of issuer URLs are ignored.
//
// Errors: Unavailable when nothing is cached and discovery or the JWKS cannot be fetched or parsed
// (network error, timeout, non-200, not JSON, missing or non-http(s) jwks_uri, issuer mismatch,
// body over max_document_bytes, not a JWKS). The message says what failed without naming the
// issuer, so callers can wrap it in their protocol's error. A set that does not contain `kid` is
// not an error: the caller decides what an unknown key means.
//
// Thread-safe: the cache is behind a mutex never held across co_await. keys() runs on the caller's
// executor and co_awaits http::Client. `client` and `clock` must outlive this.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "http/client.h"
#include "jose/jwk_set.h"

namespace wims::jose {

struct HttpJwksCacheOptions {
  absl::Duration cache_ttl = absl::Hours(1);
  absl::Duration min_refetch_interval = absl::Seconds(30);
  size_t max_issuers = 64;
  // Per HTTP request (discovery, JWKS).
  absl::Duration request_timeout = absl::Seconds(5);
  size_t max_document_bytes = 512 * 1024;
};

class HttpJwksCache {
 public:
  HttpJwksCache(http::Client& client, const Clock& clock, HttpJwksCacheOptions options = {});

  // The JWKS `issuer_url` publishes, for a token whose header names `kid`. `jwks_url` empty: found
  // through OIDC discovery; otherwise fetched from that URL directly. Parameters by value
  // (coroutine lifetime).
  boost::asio::awaitable<absl::StatusOr<std::shared_ptr<const JwkSet>>> keys(
      std::string issuer_url, std::string kid, std::string jwks_url = {});

  // Fetches started since construction (one per discovery + JWKS round, or per direct JWKS GET).
  size_t fetches() const;

 private:
  using Key = std::pair<std::string, std::string>;  // (issuer, JWKS URL or "")
  struct CachedJwks {
    std::shared_ptr<const JwkSet> jwks;
    absl::Time fetched_at;
  };

  boost::asio::awaitable<absl::StatusOr<JwkSet>> fetch(std::string issuer_url,
                                                       std::string jwks_url);
  boost::asio::awaitable<absl::StatusOr<std::string>> get(std::string url, std::string what);
  void store(const Key& key, CachedJwks entry);

  http::Client& client_;
  const Clock& clock_;
  const HttpJwksCacheOptions options_;
  mutable std::mutex mu_;
  std::map<Key, CachedJwks> cache_ ABSL_GUARDED_BY(mu_);
  size_t fetches_ ABSL_GUARDED_BY(mu_) = 0;
};

// `url` without its trailing slashes ("https://a/b/" -> "https://a/b").
std::string without_trailing_slash(std::string url);

// True for an absolute http:// or https:// URL with a host.
bool is_http_url(std::string_view url);

}  // namespace wims::jose
