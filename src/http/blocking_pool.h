// BlockingPool: a bounded set of threads for blocking work (SQLite, key generation, nft calls) so
// that it never runs on an I/O worker. A coroutine hands a callable over and resumes on its own
// executor with the result:
//
//   BlockingPool blocking(/*threads=*/2, /*max_pending=*/256);
//   absl::StatusOr<Key> key = co_await run_blocking(blocking, [&] { return generate_key(); });
//
// Result type: F returning absl::Status -> absl::Status; returning absl::StatusOr<T> ->
// absl::StatusOr<T>; returning void -> absl::Status; returning T -> absl::StatusOr<T>. When
// max_pending jobs are already queued or running, run_blocking fails fast with ResourceExhausted (a
// bound, not a queue that grows); after stop() it returns Unavailable. F must not throw; it may
// reference the awaiting coroutine's locals, which stay alive while it runs.
//
// Owned by the CLI wiring; thread-safe. stop() (also the destructor) waits for running jobs; stop
// every service that may call run_blocking first.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstddef>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace wims::http {

class BlockingPool {
 public:
  BlockingPool(size_t threads, size_t max_pending);
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;
  ~BlockingPool();

  // Waits for running and queued jobs and joins the threads. Idempotent.
  void stop();

  // Reserves a slot for one job; false when max_pending are in use or the pool is stopped.
  bool try_acquire();
  // Returns a slot taken by try_acquire().
  void release();
  bool stopped() const { return stopped_.load(); }
  boost::asio::thread_pool::executor_type executor() { return pool_.get_executor(); }
  size_t max_pending() const { return max_pending_; }

 private:
  boost::asio::thread_pool pool_;
  const size_t max_pending_;
  std::atomic<size_t> pending_{0};
  std::atomic<bool> stopped_{false};
};

namespace internal {

template <class R>
struct BlockingResult {
  using type = absl::StatusOr<R>;
};
template <>
struct BlockingResult<void> {
  using type = absl::Status;
};
template <>
struct BlockingResult<absl::Status> {
  using type = absl::Status;
};
template <class T>
struct BlockingResult<absl::StatusOr<T>> {
  using type = absl::StatusOr<T>;
};

// Runs on a pool thread; the slot is released when the job finishes.
template <class F, class Result>
boost::asio::awaitable<Result> run_on_pool(BlockingPool* pool, F f) {
  struct Release {
    BlockingPool* pool;
    ~Release() { pool->release(); }
  } release{pool};
  if constexpr (std::is_void_v<std::invoke_result_t<F&>>) {
    f();
    co_return absl::OkStatus();
  } else {
    co_return Result(f());
  }
}

}  // namespace internal

template <class F>
boost::asio::awaitable<typename internal::BlockingResult<std::invoke_result_t<F&>>::type>
run_blocking(BlockingPool& pool, F f) {
  using Result = typename internal::BlockingResult<std::invoke_result_t<F&>>::type;
  if (pool.stopped()) co_return Result(absl::UnavailableError("blocking pool is stopped"));
  if (!pool.try_acquire()) {
    co_return Result(absl::ResourceExhaustedError("blocking pool is full"));
  }
  // co_spawn's completion resumes this coroutine through its own executor, not the pool's.
  co_return co_await boost::asio::co_spawn(pool.executor(),
                                           internal::run_on_pool<F, Result>(&pool, std::move(f)),
                                           boost::asio::use_awaitable);
}

}  // namespace wims::http
