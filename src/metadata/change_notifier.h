// ChangeNotifier: wakes `wait_for_change` requests when the metadata they watch may have changed. A
// waiter reads `generation()` before it computes the value it answers with, then calls
// `wait(generation, timeout)`, which returns at once if a change happened in between (no lost
// wake-ups), else when `notify_all()` or `stop()` is called or `timeout` passes. Callers then
// recompute the value and compare ETags.
//
// Bounded: at most `max_waiters` concurrent waits; one more is refused with ResourceExhausted.
//
// Owned by the front end that serves the waits (GceMetadataHandler). Thread-safe: waits run on the
// calling coroutine's executor (a steady_timer there); notify_all()/stop() may be called from any
// thread and post the wake-up to each waiter's executor. The mutex is never held across co_await.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

#include "absl/status/status.h"

namespace wims::metadata {

class ChangeNotifier {
 public:
  explicit ChangeNotifier(size_t max_waiters) : max_waiters_(max_waiters) {}
  ChangeNotifier(const ChangeNotifier&) = delete;
  ChangeNotifier& operator=(const ChangeNotifier&) = delete;

  // Incremented by every notify_all().
  uint64_t generation() const;

  // Waits until the generation differs from `seen`, stop(), or `timeout`. OK in all those cases;
  // ResourceExhausted when max_waiters waits are already in progress.
  boost::asio::awaitable<absl::Status> wait(uint64_t seen,
                                            std::chrono::steady_clock::duration timeout);

  // Marks a change and wakes every waiter.
  void notify_all();

  // Wakes every waiter and makes later waits return at once (shutdown: waiters answer with what
  // they have).
  void stop();
  bool stopped() const;

  size_t waiters() const;

 private:
  using Timer = boost::asio::steady_timer;
  void wake_all_locked();

  const size_t max_waiters_;
  mutable std::mutex mutex_;
  uint64_t generation_ = 0;                            // guarded by mutex_
  bool stopped_ = false;                               // guarded by mutex_
  uint64_t next_id_ = 0;                               // guarded by mutex_
  std::map<uint64_t, std::shared_ptr<Timer>> timers_;  // guarded by mutex_
};

}  // namespace wims::metadata
