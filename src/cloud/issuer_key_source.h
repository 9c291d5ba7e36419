// IssuerKeySource: where the local Google STS gets the verification keys of a subject token's
// issuer. The embedded cloud trusts its own cluster issuer, whose keys are the SigningKeyRing's
// published keys (LocalIssuerKeySource). An external issuer (OIDC discovery + JWKS over HTTP, with
// caching and a refetch on an unknown kid) plugs in behind the same interface.
//
//   cloud::LocalIssuerKeySource keys(issuer_url, ring);
//   absl::StatusOr<jose::JwkSet> jwks = co_await keys.keys(iss, kid, clock.now());
//
// Implementations are shared by every worker: keys() must be safe to call concurrently and must
// never hold a lock across co_await. It runs on the caller's executor.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cloud/signing_key_ring.h"
#include "jose/jwk_set.h"

namespace wims::cloud {

class IssuerKeySource {
 public:
  virtual ~IssuerKeySource() = default;

  // The keys `issuer` publishes at `now`. `kid` is the key the token names: a caching
  // implementation refetches the JWKS when it does not know it (a just-rotated key). Errors:
  // NotFound when `issuer` is not one this source serves, Unavailable when the issuer's discovery
  // or JWKS could not be fetched. Parameters by value (coroutine lifetime).
  virtual boost::asio::awaitable<absl::StatusOr<jose::JwkSet>> keys(std::string issuer,
                                                                    std::string kid,
                                                                    absl::Time now) const = 0;
};

// The embedded cluster issuer: the keys of `ring` published at `now` (the current key and retired
// keys still inside their publication window). `ring` must outlive this. Thread-safe, lock-free, no
// I/O.
class LocalIssuerKeySource final : public IssuerKeySource {
 public:
  LocalIssuerKeySource(std::string issuer_url, const SigningKeyRing& ring)
      : issuer_url_(std::move(issuer_url)), ring_(ring) {}

  boost::asio::awaitable<absl::StatusOr<jose::JwkSet>> keys(std::string issuer, std::string kid,
                                                            absl::Time now) const override;

 private:
  const std::string issuer_url_;
  const SigningKeyRing& ring_;
};

}  // namespace wims::cloud
