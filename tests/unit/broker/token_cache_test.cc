#include "broker/token_cache.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <future>
#include <sstream>
#include <thread>

#include "common/clock.h"
#include "spdlog/sinks/ostream_sink.h"
#include "spdlog/spdlog.h"
#include "unit/broker/scripted_fetch.h"

namespace wims::broker {
namespace {

namespace asio = boost::asio;
using testing::ScriptedFetch;
using Result = absl::StatusOr<CachedCredential>;

// A cache whose refresh point is deterministic: jitter drawn from a fixed value.
TokenCache::Options test_options() {
  TokenCache::Options options;
  options.refresh_jitter = absl::ZeroDuration();
  return options;
}

// Runs one get() to completion on a fresh io_context.
Result get_now(TokenCache& cache, std::string key, TokenCache::Fetcher fetch) {
  asio::io_context io;
  auto future = asio::co_spawn(io, cache.get(std::move(key), std::move(fetch)), asio::use_future);
  io.run();
  return future.get();
}

// Starts a get() on `io`; the result lands in `out` once `io` is polled far enough.
void start_get(asio::io_context& io, TokenCache& cache, std::string key, TokenCache::Fetcher fetch,
               std::optional<Result>& out, bool* ran_on_own_context = nullptr) {
  asio::co_spawn(io, cache.get(std::move(key), std::move(fetch)),
                 [&out, &io, ran_on_own_context](std::exception_ptr e, Result r) {
                   ASSERT_FALSE(e);
                   if (ran_on_own_context)
                     *ran_on_own_context = io.get_executor().running_in_this_thread();
                   out = std::move(r);
                 });
}

void poll_all(asio::io_context& a, asio::io_context& b) {
  // Each poll may post work to the other context; a few rounds settle everything.
  for (int i = 0; i < 8; ++i) {
    a.restart();
    a.poll();
    b.restart();
    b.poll();
  }
}

class TokenCacheTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  ScriptedFetch upstream_;
  CachedCredential token(std::string value, absl::Duration lifetime) {
    return {std::move(value), clock_.now() + lifetime};
  }
};

TEST_F(TokenCacheTest, KeyIgnoresScopeOrderAndDuplicates) {
  EXPECT_EQ(token_cache_key("id", {"b", "a", "b"}), token_cache_key("id", {"a", "b"}));
  EXPECT_EQ(token_cache_key("id", {"a", "b"}), "id\na b");
  EXPECT_NE(token_cache_key("id", {"a"}), token_cache_key("id2", {"a"}));
}

TEST_F(TokenCacheTest, MissFetchesThenHitServesFromCache) {
  TokenCache cache(test_options(), clock_);
  upstream_.set_result(token("t1", absl::Hours(1)));
  Result first = get_now(cache, "k", upstream_.fetcher());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->value, "t1");
  upstream_.set_result(token("t2", absl::Hours(1)));
  clock_.advance(absl::Minutes(10));
  Result second = get_now(cache, "k", upstream_.fetcher());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->value, "t1");
  EXPECT_EQ(upstream_.calls(), 1);
  TokenCacheStats stats = cache.stats();
  EXPECT_EQ(stats.misses, 1u);
  EXPECT_EQ(stats.hits, 1u);
  EXPECT_EQ(stats.entries, 1u);
}

TEST_F(TokenCacheTest, CoalescesConcurrentMissesAcrossIoContextsIntoOneFetch) {
  TokenCache cache(test_options(), clock_);
  upstream_.set_hold(true);
  asio::io_context io1, io2;
  constexpr int kWaiters = 10;
  std::vector<std::optional<Result>> results(kWaiters);
  bool own_context[kWaiters] = {};
  for (int i = 0; i < kWaiters; ++i) {
    start_get(i % 2 ? io2 : io1, cache, "k", upstream_.fetcher(), results[i], &own_context[i]);
  }
  poll_all(io1, io2);
  EXPECT_EQ(upstream_.calls(), 1);
  EXPECT_EQ(upstream_.pending(), 1u);
  for (const auto& r : results) EXPECT_FALSE(r.has_value());

  upstream_.complete_all(token("shared", absl::Hours(1)));
  poll_all(io1, io2);
  for (int i = 0; i < kWaiters; ++i) {
    SCOPED_TRACE(i);
    ASSERT_TRUE(results[i].has_value());
    ASSERT_TRUE(results[i]->ok()) << results[i]->status();
    EXPECT_EQ((*results[i])->value, "shared");
    EXPECT_TRUE(own_context[i]) << "waiter resumed on another io_context";
  }
  TokenCacheStats stats = cache.stats();
  EXPECT_EQ(stats.misses, 1u);
  EXPECT_EQ(stats.coalesced, static_cast<uint64_t>(kWaiters - 1));
  EXPECT_EQ(upstream_.calls(), 1);
}

TEST_F(TokenCacheTest, CoalescesWaitersOnTwoThreads) {
  TokenCache cache(test_options(), clock_);
  upstream_.set_hold(true);
  asio::io_context io1, io2;
  auto guard1 = asio::make_work_guard(io1);
  auto guard2 = asio::make_work_guard(io2);
  std::thread t1([&] { io1.run(); });
  std::thread t2([&] { io2.run(); });
  constexpr int kWaiters = 16;
  std::vector<std::future<Result>> futures;
  for (int i = 0; i < kWaiters; ++i) {
    futures.push_back(
        asio::co_spawn(i % 2 ? io2 : io1, cache.get("k", upstream_.fetcher()), asio::use_future));
  }
  // Bounded wait for every get() to have joined (no timing assertion: we only wait for a state).
  for (int i = 0; i < 10000; ++i) {
    TokenCacheStats s = cache.stats();
    if (s.misses + s.coalesced == kWaiters && upstream_.pending() == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(upstream_.pending(), 1u);
  upstream_.complete_all(token("shared", absl::Hours(1)));
  for (auto& f : futures) {
    Result r = f.get();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->value, "shared");
  }
  guard1.reset();
  guard2.reset();
  t1.join();
  t2.join();
  EXPECT_EQ(upstream_.calls(), 1);
}

TEST_F(TokenCacheTest, RefreshAheadStartsExactlyOneBackgroundFetchAndServesOldEntryMeanwhile) {
  TokenCache cache(test_options(), clock_);
  upstream_.set_result(token("old", absl::Hours(1)));
  ASSERT_TRUE(get_now(cache, "k", upstream_.fetcher()).ok());

  // 44 minutes in, 16 minutes left: not yet due (refresh_ahead 15 min).
  clock_.advance(absl::Minutes(44));
  EXPECT_EQ(get_now(cache, "k", upstream_.fetcher())->value, "old");
  EXPECT_EQ(upstream_.calls(), 1);

  clock_.advance(absl::Minutes(2));  // 14 minutes left: due
  upstream_.set_hold(true);
  asio::io_context io;
  std::optional<Result> a, b;
  start_get(io, cache, "k", upstream_.fetcher(), a);
  start_get(io, cache, "k", upstream_.fetcher(), b);
  io.poll();
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_EQ((*a)->value, "old");
  EXPECT_EQ((*b)->value, "old");
  EXPECT_EQ(upstream_.calls(), 2);  // exactly one background fetch
  EXPECT_EQ(cache.stats().refreshes, 1u);

  upstream_.complete_all(token("new", absl::Hours(1)));
  io.restart();
  io.poll();
  upstream_.set_hold(false);
  EXPECT_EQ(get_now(cache, "k", upstream_.fetcher())->value, "new");
  EXPECT_EQ(upstream_.calls(), 2);
}

TEST_F(TokenCacheTest, RefreshPointIncludesJitterFromRandomSource) {
  TokenCache::Options options;
  options.refresh_jitter = absl::Minutes(10);
  TokenCache cache(options, clock_, [] { return 0.5; });  // refresh 15 + 5 minutes before expiry
  upstream_.set_result(token("old", absl::Hours(1)));
  ASSERT_TRUE(get_now(cache, "k", upstream_.fetcher()).ok());
  clock_.advance(absl::Minutes(39));
  upstream_.set_result(token("new", absl::Hours(1)));
  ASSERT_TRUE(get_now(cache, "k", upstream_.fetcher()).ok());
  EXPECT_EQ(upstream_.calls(), 1);
  clock_.advance(absl::Minutes(1) + absl::Seconds(1));
  EXPECT_EQ(get_now(cache, "k", upstream_.fetcher())->value, "old");  // served while refreshing
  EXPECT_EQ(upstream_.calls(), 2);
  EXPECT_EQ(get_now(cache, "k", upstream_.fetcher())->value, "new");
}

TEST_F(TokenCacheTest, FailedBackgroundRefreshIsLoggedWithTheKeyAndTheError) {
  // Clients keep getting the old credential, so the log is the only early sign of a broken
  // upstream.
  std::ostringstream captured;
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
      "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(captured)));
  TokenCache cache(test_options(), clock_);
  upstream_.set_result(token("old", absl::Hours(1)));
  ASSERT_TRUE(get_now(cache, "default/app\nscope-a", upstream_.fetcher()).ok());
  EXPECT_EQ(captured.str(), "");  // a successful fetch says nothing
  clock_.advance(absl::Minutes(50));
  upstream_.set_result(absl::UnavailableError("sts is down"));
  EXPECT_EQ(get_now(cache, "default/app\nscope-a", upstream_.fetcher())->value, "old");
  spdlog::set_default_logger(previous);
  EXPECT_THAT(captured.str(), ::testing::HasSubstr("refreshing [default/app scope-a] failed"));
  EXPECT_THAT(captured.str(), ::testing::HasSubstr("sts is down"));
  EXPECT_THAT(captured.str(), ::testing::HasSubstr("serving the cached credential"));
}

TEST_F(TokenCacheTest, NeverServesCredentialWithLessThanFiveMinutesLeft) {
  TokenCache::Options options = test_options();
  options.refresh_ahead =
      absl::ZeroDuration();  // no background refresh: only the min_remaining rule acts
  TokenCache cache(options, clock_);
  upstream_.set_result(token("old", absl::Hours(1)));
  ASSERT_TRUE(get_now(cache, "k", upstream_.fetcher()).ok());
  clock_.advance(absl::Minutes(55));  // exactly 5 minutes left: still servable
  EXPECT_EQ(get_now(cache, "k", upstream_.fetcher())->value, "old");
  clock_.advance(absl::Seconds(1));
  upstream_.set_result(token("new", absl::Hours(1)));
  EXPECT_EQ(get_now(cache, "k", upstream_.fetcher())->value, "new");
  EXPECT_EQ(upstream_.calls(), 2);
}

TEST_F(TokenCacheTest, UpstreamCredentialTooCloseToExpiryIsUnavailable) {
  TokenCache cache(test_options(), clock_);
  upstream_.set_result(token("short", absl::Minutes(4)));
  Result r = get_now(cache, "k", upstream_.fetcher());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(cache.stats().upstream_errors, 1u);
}

TEST_F(TokenCacheTest, RateBoundRefusesWithResourceExhaustedUntilBucketRefills) {
  TokenCache::Options options = test_options();
  options.upstream_rate_per_second = 1;
  options.upstream_burst = 2;
  TokenCache cache(options, clock_);
  upstream_.set_result(token("t", absl::Hours(1)));
  EXPECT_TRUE(get_now(cache, "a", upstream_.fetcher()).ok());
  EXPECT_TRUE(get_now(cache, "b", upstream_.fetcher()).ok());
  Result refused = get_now(cache, "c", upstream_.fetcher());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(upstream_.calls(), 2);
  EXPECT_TRUE(get_now(cache, "a", upstream_.fetcher()).ok()) << "hits are not rate bound";
  clock_.advance(absl::Seconds(1));
  EXPECT_TRUE(get_now(cache, "c", upstream_.fetcher()).ok());
  EXPECT_EQ(upstream_.calls(), 3);
  EXPECT_EQ(cache.stats().rate_limited, 1u);
}

TEST_F(TokenCacheTest, WaiterBoundPerKeyRefusesWithResourceExhausted) {
  TokenCache::Options options = test_options();
  options.max_waiters_per_key = 2;
  TokenCache cache(options, clock_);
  upstream_.set_hold(true);
  asio::io_context io;
  std::optional<Result> a, b, c;
  start_get(io, cache, "k", upstream_.fetcher(), a);
  start_get(io, cache, "k", upstream_.fetcher(), b);
  start_get(io, cache, "k", upstream_.fetcher(), c);
  io.poll();
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->status().code(), absl::StatusCode::kResourceExhausted);
  upstream_.complete_all(token("t", absl::Hours(1)));
  io.restart();
  io.run();
  EXPECT_TRUE(a->ok());
  EXPECT_TRUE(b->ok());
}

TEST_F(TokenCacheTest, ErrorReachesEveryWaiterAndIsCachedOnlyForNegativeTtl) {
  TokenCache cache(test_options(), clock_);
  upstream_.set_hold(true);
  asio::io_context io1, io2;
  std::optional<Result> a, b, c;
  start_get(io1, cache, "k", upstream_.fetcher(), a);
  start_get(io2, cache, "k", upstream_.fetcher(), b);
  start_get(io1, cache, "k", upstream_.fetcher(), c);
  poll_all(io1, io2);
  upstream_.complete_all(absl::PermissionDeniedError("denied"));
  poll_all(io1, io2);
  for (auto* r : {&a, &b, &c}) {
    ASSERT_TRUE(r->has_value());
    EXPECT_EQ((*r)->status().code(), absl::StatusCode::kPermissionDenied);
  }
  EXPECT_EQ(upstream_.calls(), 1);
  EXPECT_EQ(cache.stats().upstream_errors, 1u);

  upstream_.set_hold(false);
  upstream_.set_result(token("t", absl::Hours(1)));
  clock_.advance(absl::Seconds(4));
  EXPECT_EQ(get_now(cache, "k", upstream_.fetcher()).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(upstream_.calls(), 1);
  clock_.advance(absl::Seconds(1));
  EXPECT_TRUE(get_now(cache, "k", upstream_.fetcher()).ok());
  EXPECT_EQ(upstream_.calls(), 2);
}

TEST_F(TokenCacheTest, ZeroNegativeTtlDoesNotCacheErrors) {
  TokenCache::Options options = test_options();
  options.negative_ttl = absl::ZeroDuration();
  TokenCache cache(options, clock_);
  upstream_.set_result(absl::UnavailableError("down"));
  EXPECT_FALSE(get_now(cache, "k", upstream_.fetcher()).ok());
  EXPECT_FALSE(get_now(cache, "k", upstream_.fetcher()).ok());
  EXPECT_EQ(upstream_.calls(), 2);
  EXPECT_EQ(cache.stats().entries, 0u);
}

TEST_F(TokenCacheTest, FailedRefreshKeepsServingValidEntryAndRetriesAfterNegativeTtl) {
  TokenCache cache(test_options(), clock_);
  upstream_.set_result(token("old", absl::Hours(1)));
  ASSERT_TRUE(get_now(cache, "k", upstream_.fetcher()).ok());
  clock_.advance(absl::Minutes(50));
  upstream_.set_result(absl::UnavailableError("down"));
  EXPECT_EQ(get_now(cache, "k", upstream_.fetcher())->value, "old");  // starts a refresh that fails
  EXPECT_EQ(upstream_.calls(), 2);
  EXPECT_EQ(get_now(cache, "k", upstream_.fetcher())->value,
            "old");  // within negative_ttl: no retry
  EXPECT_EQ(upstream_.calls(), 2);
  clock_.advance(absl::Seconds(5));
  upstream_.set_result(token("new", absl::Hours(1)));
  EXPECT_EQ(get_now(cache, "k", upstream_.fetcher())->value, "old");
  EXPECT_EQ(upstream_.calls(), 3);
  EXPECT_EQ(get_now(cache, "k", upstream_.fetcher())->value, "new");
}

TEST_F(TokenCacheTest, EvictsExpiredThenLeastRecentlyUsedEntries) {
  TokenCache::Options options = test_options();
  options.max_entries = 2;
  TokenCache cache(options, clock_);
  upstream_.set_result(token("t", absl::Hours(1)));
  ASSERT_TRUE(get_now(cache, "a", upstream_.fetcher()).ok());
  ASSERT_TRUE(get_now(cache, "b", upstream_.fetcher()).ok());
  ASSERT_TRUE(get_now(cache, "a", upstream_.fetcher()).ok());  // a is now most recently used
  ASSERT_TRUE(get_now(cache, "c", upstream_.fetcher()).ok());  // evicts b
  EXPECT_EQ(cache.stats().evictions, 1u);
  EXPECT_EQ(cache.stats().entries, 2u);
  int calls = upstream_.calls();
  ASSERT_TRUE(get_now(cache, "a", upstream_.fetcher()).ok());
  EXPECT_EQ(upstream_.calls(), calls);
  ASSERT_TRUE(get_now(cache, "b", upstream_.fetcher()).ok());
  EXPECT_EQ(upstream_.calls(), calls + 1);
}

TEST_F(TokenCacheTest, EraseForgetsEntryAndDiscardsFlightResult) {
  TokenCache cache(test_options(), clock_);
  upstream_.set_result(token("t", absl::Hours(1)));
  ASSERT_TRUE(get_now(cache, "k", upstream_.fetcher()).ok());
  cache.erase("k");
  EXPECT_EQ(cache.stats().entries, 0u);

  upstream_.set_hold(true);
  asio::io_context io;
  std::optional<Result> waiter;
  start_get(io, cache, "k", upstream_.fetcher(), waiter);
  io.poll();
  cache.erase("k");  // e.g. the pod went away while its token was being fetched
  upstream_.complete_all(token("in-flight", absl::Hours(1)));
  io.restart();
  io.run();
  ASSERT_TRUE(waiter.has_value() && waiter->ok());
  EXPECT_EQ((*waiter)->value, "in-flight");  // the waiter still gets its answer
  EXPECT_EQ(cache.stats().entries, 0u);      // but it is not stored
  EXPECT_EQ(upstream_.calls(), 2);
}

}  // namespace
}  // namespace wims::broker
