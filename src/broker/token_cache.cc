#include "broker/token_cache.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstring>
#include <exception>
#include <random>
#include <utility>

#include "common/random.h"

namespace wims::broker {

namespace asio = boost::asio;

std::string token_cache_key(std::string_view identity, std::vector<std::string> scopes) {
  std::sort(scopes.begin(), scopes.end());
  scopes.erase(std::unique(scopes.begin(), scopes.end()), scopes.end());
  std::string key(identity);
  key += '\n';
  for (size_t i = 0; i < scopes.size(); ++i) {
    if (i > 0) key += ' ';
    key += scopes[i];
  }
  return key;
}

// Completes a flight even when its coroutine frame is destroyed before the fetch returns (its
// io_context was shut down), so that waiters on other executors are not left suspended for ever.
class TokenCache::FlightGuard {
 public:
  FlightGuard(TokenCache& cache, std::string key, std::shared_ptr<Flight> flight)
      : cache_(cache), key_(std::move(key)), flight_(std::move(flight)) {}
  ~FlightGuard() {
    if (!finished_)
      cache_.finish_flight(key_, flight_, absl::CancelledError("token fetch abandoned"));
  }
  FlightGuard(const FlightGuard&) = delete;
  FlightGuard& operator=(const FlightGuard&) = delete;
  void finish(Result result) {
    finished_ = true;
    cache_.finish_flight(key_, flight_, std::move(result));
  }

 private:
  TokenCache& cache_;
  std::string key_;
  std::shared_ptr<Flight> flight_;
  bool finished_ = false;
};

namespace {

struct RandomState {
  absl::Mutex mu;
  std::mt19937_64 engine ABSL_GUARDED_BY(mu);
};

TokenCache::RandomSource default_random_source() {
  auto state = std::make_shared<RandomState>();
  uint64_t seed = 0;
  std::string bytes = random_bytes(sizeof(seed));
  std::memcpy(&seed, bytes.data(), sizeof(seed));
  {
    absl::MutexLock lock(&state->mu);
    state->engine.seed(seed);
  }
  return [state] {
    absl::MutexLock lock(&state->mu);
    return std::uniform_real_distribution<double>(0.0, 1.0)(state->engine);
  };
}

}  // namespace

TokenCache::TokenCache(Options options, const Clock& clock, RandomSource random)
    : options_(options),
      clock_(clock),
      random_(random ? std::move(random) : default_random_source()),
      bucket_tokens_(options.upstream_burst),
      bucket_updated_(clock.now()) {}

TokenCache::~TokenCache() = default;

bool TokenCache::servable(const CachedCredential& credential, absl::Time now) const {
  return credential.expiry - now >= options_.min_remaining;
}

double TokenCache::random() {
  double r = random_();
  return std::clamp(r, 0.0, 1.0);
}

bool TokenCache::take_upstream_token() {
  absl::Time now = clock_.now();
  double elapsed = std::max(0.0, absl::ToDoubleSeconds(now - bucket_updated_));
  bucket_updated_ = std::max(bucket_updated_, now);
  bucket_tokens_ = std::min(options_.upstream_burst,
                            bucket_tokens_ + elapsed * options_.upstream_rate_per_second);
  if (bucket_tokens_ < 1.0) return false;
  bucket_tokens_ -= 1.0;
  return true;
}

void TokenCache::touch(Entry& entry) { lru_.splice(lru_.begin(), lru_, entry.lru); }

void TokenCache::make_room(absl::Time now) {
  if (entries_.size() < options_.max_entries) return;
  // First whatever can no longer be served: expired credentials and lapsed negative entries.
  for (auto it = entries_.begin(); it != entries_.end();) {
    const Entry& entry = it->second;
    bool dead = entry.credential ? !servable(*entry.credential, now) : now >= entry.error_until;
    if (dead) {
      lru_.erase(entry.lru);
      entries_.erase(it++);
      ++stats_.evictions;
    } else {
      ++it;
    }
  }
  while (!lru_.empty() && entries_.size() >= options_.max_entries) {
    entries_.erase(lru_.back());
    lru_.pop_back();
    ++stats_.evictions;
  }
}

std::optional<CachedCredential> TokenCache::store(const std::string& key, absl::Time now,
                                                  const Result& result) {
  auto it = entries_.find(key);
  if (!result.ok()) {
    if (it != entries_.end() && it->second.credential && servable(*it->second.credential, now)) {
      // A failed refresh: keep serving the valid entry, retry after the negative window.
      it->second.refresh_retry_at = now + options_.negative_ttl;
      return it->second.credential;
    }
    if (options_.negative_ttl <= absl::ZeroDuration()) {
      if (it != entries_.end()) {
        lru_.erase(it->second.lru);
        entries_.erase(it);
      }
      return std::nullopt;
    }
  }
  if (options_.max_entries == 0) return std::nullopt;
  if (it == entries_.end()) {
    make_room(now);
    it = entries_.try_emplace(key).first;
    lru_.push_front(key);
    it->second.lru = lru_.begin();
  } else {
    touch(it->second);
  }
  Entry& entry = it->second;
  if (result.ok()) {
    entry.credential = *result;
    entry.error = absl::OkStatus();
    entry.error_until = absl::InfinitePast();
    entry.refresh_retry_at = absl::InfinitePast();
    absl::Duration ahead = options_.refresh_ahead + options_.refresh_jitter * random();
    entry.refresh_at = std::max(now, result->expiry - ahead);
  } else {
    entry.credential.reset();
    entry.error = result.status();
    entry.error_until = now + options_.negative_ttl;
  }
  return std::nullopt;
}

void TokenCache::finish_flight(const std::string& key, const std::shared_ptr<Flight>& flight,
                               Result result) {
  std::vector<Waiter> waiters;
  std::optional<CachedCredential> kept;  // still served after this failed refresh
  {
    absl::MutexLock lock(&mu_);
    absl::Time now = clock_.now();
    if (result.ok() && !servable(*result, now)) {
      result = absl::UnavailableError(fmt::format(
          "upstream returned a credential that expires in {}, less than the {} a client is owed",
          absl::FormatDuration(result->expiry - now),
          absl::FormatDuration(options_.min_remaining)));
    }
    if (!result.ok()) ++stats_.upstream_errors;
    auto it = flights_.find(key);
    if (it != flights_.end() && it->second == flight) {
      flights_.erase(it);
      kept = store(key, now, result);  // an erase() during the flight means: do not store
    }
    flight->done = true;
    flight->result = result;
    waiters = std::move(flight->waiters);
    flight->waiters.clear();
    waiters_total_ -= flight->waiter_count;
    flight->waiter_count = 0;
  }
  if (kept) {
    // Clients are still served, so nothing else would show this before the credential runs out.
    std::string who = key;
    std::replace(who.begin(), who.end(), '\n', ' ');
    spdlog::warn(
        "token cache: refreshing [{}] failed: {}; serving the cached credential (expires {}), next "
        "attempt in {}",
        who, result.status().ToString(), absl::FormatTime(kept->expiry, absl::UTCTimeZone()),
        absl::FormatDuration(options_.negative_ttl));
  }
  for (Waiter& waiter : waiters) {
    asio::post(waiter.work, [handler = std::move(waiter.handler), result]() mutable {
      std::move(handler)(std::move(result));
    });
  }
}

asio::awaitable<void> TokenCache::run_flight(std::string key, std::shared_ptr<Flight> flight,
                                             Fetcher fetch) {
  FlightGuard guard(*this, std::move(key), std::move(flight));
  Result result = absl::InternalError("token fetch not run");
  try {
    if (fetch) result = co_await fetch();
  } catch (const std::exception& e) {
    result = absl::InternalError(fmt::format("token fetch failed: {}", e.what()));
  }
  guard.finish(std::move(result));
}

asio::awaitable<TokenCache::Result> TokenCache::wait(std::shared_ptr<Flight> flight) {
  auto initiate = [this, flight](auto handler) {
    auto work = asio::prefer(asio::get_associated_executor(handler),
                             asio::execution::outstanding_work.tracked);
    absl::MutexLock lock(&mu_);
    if (flight->done) {
      asio::post(work, [handler = std::move(handler), result = flight->result]() mutable {
        std::move(handler)(std::move(result));
      });
      return;
    }
    flight->waiters.push_back(Waiter{std::move(handler), asio::any_io_executor(work)});
  };
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(Result)>(
      std::move(initiate), asio::use_awaitable);
}

asio::awaitable<TokenCache::Result> TokenCache::get(std::string key, Fetcher fetch) {
  asio::any_io_executor executor = co_await asio::this_coro::executor;
  std::shared_ptr<Flight> flight;
  bool start = false;
  std::optional<CachedCredential> hit;
  {
    absl::MutexLock lock(&mu_);
    absl::Time now = clock_.now();
    if (auto it = entries_.find(key); it != entries_.end()) {
      Entry& entry = it->second;
      if (entry.credential && servable(*entry.credential, now)) {
        ++stats_.hits;
        touch(entry);
        hit = *entry.credential;
        if (now >= entry.refresh_at && now >= entry.refresh_retry_at && !flights_.contains(key) &&
            take_upstream_token()) {
          ++stats_.refreshes;
          flight = std::make_shared<Flight>();
          flights_[key] = flight;
          start = true;
        }
      } else if (!entry.error.ok() && now < entry.error_until) {
        ++stats_.negative_hits;
        co_return entry.error;
      }
    }
    if (!hit) {
      auto it = flights_.find(key);
      if (it != flights_.end()) {
        if (it->second->waiter_count >= options_.max_waiters_per_key ||
            waiters_total_ >= options_.max_waiters_total) {
          ++stats_.rate_limited;
          co_return absl::ResourceExhaustedError(
              "too many requests are waiting for this credential");
        }
        ++stats_.coalesced;
        flight = it->second;
      } else {
        if (waiters_total_ >= options_.max_waiters_total) {
          ++stats_.rate_limited;
          co_return absl::ResourceExhaustedError("too many requests are waiting for credentials");
        }
        if (!take_upstream_token()) {
          ++stats_.rate_limited;
          co_return absl::ResourceExhaustedError(
              "upstream token request rate bound reached; retry shortly");
        }
        ++stats_.misses;
        flight = std::make_shared<Flight>();
        flights_[key] = flight;
        start = true;
      }
      ++flight->waiter_count;
      ++waiters_total_;
    }
  }
  if (start) asio::co_spawn(executor, run_flight(key, flight, std::move(fetch)), asio::detached);
  if (hit) co_return *std::move(hit);
  co_return co_await wait(std::move(flight));
}

void TokenCache::erase(std::string_view key) {
  absl::MutexLock lock(&mu_);
  std::string k(key);
  if (auto it = entries_.find(k); it != entries_.end()) {
    lru_.erase(it->second.lru);
    entries_.erase(it);
  }
  flights_.erase(k);
}

TokenCacheStats TokenCache::stats() const {
  absl::MutexLock lock(&mu_);
  TokenCacheStats stats = stats_;
  stats.entries = entries_.size();
  return stats;
}

}  // namespace wims::broker
