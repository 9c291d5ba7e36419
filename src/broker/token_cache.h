// TokenCache: a cache of short-lived credentials (access tokens, ID tokens, Kubernetes
// service-account tokens) keyed by a string that names the identity and the scope set (see
// `token_cache_key`). It is what stands between the metadata front ends and the upstream token
// services, with the rules of issue 2 section 5:
//
//  - Never serves a credential with less than `min_remaining` (default 5 min) left. Clients
//    refresh at 3 min 45 s, so whatever we hand out outlives their own refresh point.
//  - Refreshes in the background ahead of expiry: an entry stored at fetch time F with expiry E
//    is due for refresh at max(F, E - refresh_ahead - jitter), jitter uniform in
//    [0, refresh_jitter) from the injected random source. A get() after that point still returns
//    the valid entry and starts exactly one background fetch on the caller's executor.
//  - Coalesces concurrent misses for one key into ONE upstream fetch ("flight"). Every waiter
//    gets the flight's result and is resumed on its own executor (waiters may live on different
//    io_contexts / threads).
//  - Bounds the upstream rate with a token bucket (`upstream_rate_per_second`, `upstream_burst`)
//    read through the injected Clock. Over the bound a miss fails at once with ResourceExhausted;
//    it never queues (a queue would only make the caller's own deadline pass). Background
//    refreshes over the bound are skipped and tried again on a later get().
//  - Bounds waiters: `max_waiters_per_key` and `max_waiters_total`; over either,
//    ResourceExhausted.
//  - Errors are remembered only for `negative_ttl` (default 5 s; zero disables): gets within
//    that window fail with the same status without another upstream call. A failed background
//    refresh keeps serving the old entry while it has more than `min_remaining` left, is logged
//    (warning: the key, the error, the served credential's expiry), and is retried after
//    `negative_ttl`.
//  - At most `max_entries` entries: on insert, entries that can no longer be served are dropped
//    first, then the least recently used.
//
// Thread-safety: every member function is thread-safe; one mutex guards the map and it is never
// held across a co_await. Executors: get() runs on the caller's executor; a fetch (and its fetcher)
// runs detached on the executor of the get() that started it. Lifetime: the cache must outlive
// every io_context that runs its operations, and those io_contexts must keep running until
// in-flight fetches end (the fetcher's own timeouts bound that).
//
// Example:
//   TokenCache cache(TokenCache::Options{}, clock);
//   auto token = co_await cache.get(token_cache_key(identity, scopes),
//                                   [this, caller, scopes] { return fetch(caller, scopes); });
#pragma once

#include <atomic>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"

namespace wims::broker {

// A credential and the time it stops being valid.
struct CachedCredential {
  std::string value;
  absl::Time expiry;
};

// Counters for metrics; monotonically increasing except `entries`.
struct TokenCacheStats {
  uint64_t hits = 0;             // served from a valid entry
  uint64_t misses = 0;           // started a fetch
  uint64_t coalesced = 0;        // joined a fetch that another get() started
  uint64_t refreshes = 0;        // background refreshes started
  uint64_t upstream_errors = 0;  // fetches that failed
  uint64_t negative_hits = 0;    // answered from the negative cache
  uint64_t rate_limited = 0;     // refused by the upstream rate bound or a waiter bound
  uint64_t evictions = 0;        // entries dropped to respect max_entries
  uint64_t entries = 0;          // entries now held
};

// "identity\nscope1 scope2": scopes sorted and de-duplicated, so that the same set in any order is
// one key.
std::string token_cache_key(std::string_view identity, std::vector<std::string> scopes);

class TokenCache {
 public:
  struct Options {
    absl::Duration min_remaining = absl::Minutes(5);
    absl::Duration refresh_ahead = absl::Minutes(15);
    absl::Duration refresh_jitter = absl::Minutes(5);
    absl::Duration negative_ttl = absl::Seconds(5);
    double upstream_rate_per_second = 50;
    double upstream_burst = 100;
    size_t max_waiters_per_key = 1024;
    size_t max_waiters_total = 16384;
    size_t max_entries = 10000;
  };
  // Uniform random numbers in [0, 1); thread-safe. Empty: an internal generator seeded from
  // OpenSSL.
  using RandomSource = std::function<double()>;
  // Fetches a fresh credential from upstream. Invoked at most once per flight, possibly after the
  // get() that supplied it has returned (background refresh): it must own what it needs (capture by
  // value).
  using Fetcher = std::function<boost::asio::awaitable<absl::StatusOr<CachedCredential>>()>;

  TokenCache(Options options, const Clock& clock, RandomSource random = {});
  ~TokenCache();
  TokenCache(const TokenCache&) = delete;
  TokenCache& operator=(const TokenCache&) = delete;

  // The cached credential for `key`, or the result of `fetch` (shared with concurrent gets of the
  // same key). Errors: those of the fetch (for `negative_ttl`), ResourceExhausted over a rate or
  // waiter bound, Unavailable when upstream returned a credential with less than `min_remaining`
  // left.
  boost::asio::awaitable<absl::StatusOr<CachedCredential>> get(std::string key, Fetcher fetch);

  // Drops `key` (its flight, if any, still completes for its waiters but is not stored).
  void erase(std::string_view key);

  TokenCacheStats stats() const;
  const Options& options() const { return options_; }

 private:
  using Result = absl::StatusOr<CachedCredential>;
  struct Waiter {
    boost::asio::any_completion_handler<void(Result)> handler;
    boost::asio::any_io_executor work;  // tracks outstanding work on the waiter's executor
  };
  struct Flight {
    size_t waiter_count = 0;  // reserved by get(), released when the flight ends
    bool done = false;
    Result result = absl::UnknownError("flight pending");
    std::vector<Waiter> waiters;
  };
  struct Entry {
    std::optional<CachedCredential> credential;
    absl::Time refresh_at = absl::InfiniteFuture();
    absl::Status error;  // non-OK: negative entry
    absl::Time error_until = absl::InfinitePast();
    absl::Time refresh_retry_at = absl::InfinitePast();  // after a failed background refresh
    std::list<std::string>::iterator lru;
  };
  class FlightGuard;

  boost::asio::awaitable<void> run_flight(std::string key, std::shared_ptr<Flight> flight,
                                          Fetcher fetch);
  void finish_flight(const std::string& key, const std::shared_ptr<Flight>& flight, Result result);
  boost::asio::awaitable<Result> wait(std::shared_ptr<Flight> flight);
  bool take_upstream_token() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Returns the credential still served when `result` is a failed refresh of a valid entry (the
  // caller logs that outside the lock), nullopt otherwise.
  std::optional<CachedCredential> store(const std::string& key, absl::Time now,
                                        const Result& result) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void touch(Entry& entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void make_room(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool servable(const CachedCredential& credential, absl::Time now) const;
  double random();

  const Options options_;
  const Clock& clock_;
  RandomSource random_;

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  std::list<std::string> lru_ ABSL_GUARDED_BY(mu_);  // most recently used first
  absl::flat_hash_map<std::string, std::shared_ptr<Flight>> flights_ ABSL_GUARDED_BY(mu_);
  size_t waiters_total_ ABSL_GUARDED_BY(mu_) = 0;
  double bucket_tokens_ ABSL_GUARDED_BY(mu_);
  absl::Time bucket_updated_ ABSL_GUARDED_BY(mu_);
  TokenCacheStats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace wims::broker
