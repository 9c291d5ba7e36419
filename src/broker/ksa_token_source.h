// KsaTokenSource: where the broker gets a Kubernetes service-account token for a calling pod, bound
// to that pod and minted for one audience (for Google: the workload identity pool,
// "PROJECT.svc.id.goog").
//
// TokenRequestKsaTokenSource asks the Kubernetes TokenRequest API
// (`POST {api_url}/api/v1/namespaces/NS/serviceaccounts/NAME/token`, authentication.k8s.io/v1) with
// an admin bearer token, so the same code serves the embedded local cloud and a real API server.
// Tokens are cached per (pod uid, service account, audience) in a TokenCache (broker/token_cache.h)
// and so obey its rules: never less than 5 minutes left, refreshed ahead of expiry, concurrent
// misses coalesced, upstream rate bound.
//
// Thread-safe; token() runs on the caller's executor. The transport, bearer provider and clock must
// outlive the source. Errors: upstream_error() mapping of broker/upstream.h (403 ->
// PermissionDenied, 404 -> NotFound, 409/422 -> FailedPrecondition, 429 -> ResourceExhausted,
// 5xx/connect -> Unavailable, bad JSON -> Internal).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "broker/caller.h"
#include "broker/http_transport.h"
#include "broker/token_cache.h"
#include "broker/upstream.h"
#include "common/clock.h"

namespace wims::broker {

class KsaTokenSource {
 public:
  virtual ~KsaTokenSource() = default;
  // A service-account token for `caller`'s pod and service account with `aud` = [audience].
  virtual boost::asio::awaitable<absl::StatusOr<std::string>> token(const Caller& caller,
                                                                    std::string audience) = 0;
};

// The admin credential for the TokenRequest API, read on every call (it may rotate). An empty
// string sends no Authorization header. Must be thread-safe.
using BearerTokenProvider = std::function<absl::StatusOr<std::string>()>;

struct TokenRequestKsaTokenSourceOptions {
  // The API server (or embedded cloud) base URL, without a trailing slash:
  // "http://127.0.0.1:41235".
  std::string api_url;
  // spec.expirationSeconds; the API server refuses less than 10 minutes.
  absl::Duration expiration = absl::Hours(1);
  absl::Duration request_timeout = absl::Seconds(10);
  size_t body_limit = 1 << 20;
  TokenCache::Options cache;
};

class TokenRequestKsaTokenSource final : public KsaTokenSource {
 public:
  using Options = TokenRequestKsaTokenSourceOptions;

  TokenRequestKsaTokenSource(Options options, HttpTransport& transport, BearerTokenProvider bearer,
                             const Clock& clock, UpstreamMetrics metrics = {},
                             TokenCache::RandomSource random = {});

  boost::asio::awaitable<absl::StatusOr<std::string>> token(const Caller& caller,
                                                            std::string audience) override;

  TokenCacheStats cache_stats() const { return cache_.stats(); }

 private:
  boost::asio::awaitable<absl::StatusOr<CachedCredential>> request_token(Caller caller,
                                                                         std::string audience);

  const Options options_;
  HttpTransport& transport_;
  BearerTokenProvider bearer_;
  UpstreamMetrics metrics_;
  TokenCache cache_;
};

}  // namespace wims::broker
