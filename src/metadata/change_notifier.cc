#include "metadata/change_notifier.h"

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace wims::metadata {

uint64_t ChangeNotifier::generation() const {
  std::lock_guard lock(mutex_);
  return generation_;
}

bool ChangeNotifier::stopped() const {
  std::lock_guard lock(mutex_);
  return stopped_;
}

size_t ChangeNotifier::waiters() const {
  std::lock_guard lock(mutex_);
  return timers_.size();
}

boost::asio::awaitable<absl::Status> ChangeNotifier::wait(
    uint64_t seen, std::chrono::steady_clock::duration timeout) {
  auto executor = co_await boost::asio::this_coro::executor;
  // Shared with the wake-up posted by notify_all(), which may run after this wait has finished.
  auto timer = std::make_shared<Timer>(executor, timeout);
  uint64_t id = 0;
  {
    std::lock_guard lock(mutex_);
    if (stopped_ || generation_ != seen) co_return absl::OkStatus();
    if (timers_.size() >= max_waiters_) {
      co_return absl::ResourceExhaustedError("too many concurrent wait_for_change requests");
    }
    id = next_id_++;
    timers_.emplace(id, timer);
  }
  // Deregisters even when the frame is destroyed while suspended (its io_context shut down), so
  // that notify_all() never posts to an executor that is gone.
  struct Registration {
    ChangeNotifier* notifier;
    uint64_t id;
    ~Registration() {
      std::lock_guard lock(notifier->mutex_);
      notifier->timers_.erase(id);
    }
  } registration{this, id};
  // The wake-up is posted to this (single-threaded, share-nothing) executor, so it runs only once
  // this coroutine is suspended in async_wait.
  boost::system::error_code ec;
  co_await timer->async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  co_return absl::OkStatus();
}

void ChangeNotifier::notify_all() {
  std::lock_guard lock(mutex_);
  ++generation_;
  wake_all_locked();
}

void ChangeNotifier::stop() {
  std::lock_guard lock(mutex_);
  stopped_ = true;
  wake_all_locked();
}

void ChangeNotifier::wake_all_locked() {
  for (auto& [id, timer] : timers_) {
    boost::asio::post(timer->get_executor(), [timer] { timer->cancel(); });
  }
}

}  // namespace wims::metadata
