#include "http/blocking_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "http/worker_pool.h"
#include "unit/http/test_server.h"

namespace wims::http {
namespace {

using testing::run_sync;

boost::asio::awaitable<std::thread::id> thread_of_blocking_job(BlockingPool* pool,
                                                               std::thread::id* resumed_on) {
  absl::StatusOr<std::thread::id> id =
      co_await run_blocking(*pool, [] { return std::this_thread::get_id(); });
  *resumed_on = std::this_thread::get_id();
  co_return id.value();
}

TEST(BlockingPoolTest, RunsOffTheCallerAndResumesOnIt) {
  BlockingPool pool(2, 8);
  std::thread::id resumed_on;
  std::thread::id job = run_sync(thread_of_blocking_job(&pool, &resumed_on));
  EXPECT_NE(job, std::this_thread::get_id());
  EXPECT_EQ(resumed_on, std::this_thread::get_id());
}

boost::asio::awaitable<absl::Status> status_results(BlockingPool* pool) {
  absl::Status ok = co_await run_blocking(*pool, [] {});
  if (!ok.ok()) co_return ok;
  absl::Status failed = co_await run_blocking(*pool, [] { return absl::NotFoundError("x"); });
  if (failed.code() != absl::StatusCode::kNotFound) co_return absl::InternalError("lost status");
  absl::StatusOr<int> value =
      co_await run_blocking(*pool, []() -> absl::StatusOr<int> { return 7; });
  if (!value.ok() || *value != 7) co_return absl::InternalError("lost value");
  co_return absl::OkStatus();
}

TEST(BlockingPoolTest, MapsResultTypes) {
  BlockingPool pool(1, 8);
  EXPECT_TRUE(run_sync(status_results(&pool)).ok());
}

TEST(BlockingPoolTest, FullPoolFailsFastAndStoppedPoolIsUnavailable) {
  BlockingPool pool(1, 1);
  ASSERT_TRUE(pool.try_acquire());  // occupy the only slot
  absl::StatusOr<int> full = run_sync(run_blocking(pool, [] { return 1; }));
  EXPECT_EQ(full.status().code(), absl::StatusCode::kResourceExhausted);
  pool.release();
  absl::StatusOr<int> ok = run_sync(run_blocking(pool, [] { return 2; }));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 2);
  pool.stop();
  absl::StatusOr<int> stopped = run_sync(run_blocking(pool, [] { return 3; }));
  EXPECT_EQ(stopped.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace wims::http
