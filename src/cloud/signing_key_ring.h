// SigningKeyRing: the cluster issuer's signing keys, persisted in the StateStore (namespace
// "signing_keys"). One key is current and signs new tokens; `rotate` makes a new current key and
// retires the old one, which stays published (JWKS) and trusted for verification until `retired_at
// + max_token_lifetime`, so every token it signed can still be verified until it expires. A restart
// reloads the same keys.
//
//   WIMS_ASSIGN_OR_RETURN(auto ring, cloud::SigningKeyRing::open(store, clock.now()));   //
//   blocking std::string token = jose::sign_jwt(*ring->current(), claims); jose::JwkSet trusted =
//   ring->verification_keys(clock.now());
//
// Owned by the cloud wiring, shared by reference. Thread-safe: readers get an immutable Snapshot
// swapped atomically (lock-free reads from any worker); `open` and `rotate` are blocking (key
// generation, SQLite) and must run on a blocking thread pool, never on an I/O thread; concurrent
// rotations are serialized.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "jose/jwk_set.h"
#include "jose/signing_key.h"
#include "store/state_store.h"

namespace wims::cloud {

struct SigningKeyRingOptions {
  // The algorithm of keys made by `open` (when the store has none) and `rotate`.
  jose::Algorithm algorithm = jose::Algorithm::kRS256;
  // The longest lifetime of a token signed by a ring key; a retired key is published this long
  // after its retirement. Must cover the issuer's maximum token lifetime.
  absl::Duration max_token_lifetime = absl::Hours(48);
};

class SigningKeyRing {
 public:
  static constexpr char kStoreNamespace[] = "signing_keys";

  struct Entry {
    std::shared_ptr<const jose::SigningKey> key;
    jose::PublicJwk public_key;
    int64_t sequence = 0;                  // creation order, increasing
    std::optional<absl::Time> retired_at;  // nullopt for the current key
  };
  // An immutable view of the ring. `entries` are newest first; entries.front() is the current key.
  struct Snapshot {
    std::vector<Entry> entries;
    absl::Duration max_token_lifetime;

    const std::shared_ptr<const jose::SigningKey>& current() const { return entries.front().key; }
    // Keys whose tokens may still be unexpired at `now`: the current key, and retired keys with
    // now < retired_at + max_token_lifetime.
    jose::JwkSet published(absl::Time now) const;
  };

  // Loads the ring from `store`, dropping retired keys past their publication window; if there is
  // no current key, generates and persists one. Blocking.
  static absl::StatusOr<std::unique_ptr<SigningKeyRing>> open(store::StateStore& store,
                                                              absl::Time now,
                                                              SigningKeyRingOptions options = {});

  SigningKeyRing(const SigningKeyRing&) = delete;
  SigningKeyRing& operator=(const SigningKeyRing&) = delete;

  std::shared_ptr<const Snapshot> snapshot() const { return snapshot_.load(); }
  // The key that signs new tokens.
  std::shared_ptr<const jose::SigningKey> current() const { return snapshot()->current(); }
  // The published keys at `now` (see Snapshot::published), for verification.
  jose::JwkSet verification_keys(absl::Time now) const { return snapshot()->published(now); }
  // The JWKS document `{"keys":[...]}` of verification_keys(now).
  std::string jwks_json(absl::Time now) const;
  // The distinct algorithms of verification_keys(now), sorted ("ES256" < "RS256").
  std::vector<std::string> algorithms(absl::Time now) const;

  // Makes a new current key, retires the previous one at `now`, persists both, and drops keys past
  // their window. Returns the new kid. Blocking.
  absl::StatusOr<std::string> rotate(absl::Time now);

 private:
  SigningKeyRing(store::StateStore& store, SigningKeyRingOptions options)
      : store_(store), options_(options) {}

  store::StateStore& store_;
  const SigningKeyRingOptions options_;
  std::mutex rotate_mu_;  // serializes rotate(); readers never take it
  std::atomic<std::shared_ptr<const Snapshot>> snapshot_;
};

}  // namespace wims::cloud
