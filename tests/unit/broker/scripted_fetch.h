// ScriptedFetch: a fake upstream for TokenCache tests. Each fetch either completes at once with the
// scripted result, or (when `hold` is set) stays pending until the test calls complete_all(), so
// tests can line up concurrent waiters deterministically. Thread-safe; fetches complete on their
// own executor.
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "broker/token_cache.h"

namespace wims::broker::testing {

class ScriptedFetch {
 public:
  using Result = absl::StatusOr<CachedCredential>;

  void set_result(Result result) {
    absl::MutexLock lock(&mu_);
    result_ = std::move(result);
  }
  void set_hold(bool hold) {
    absl::MutexLock lock(&mu_);
    hold_ = hold;
  }
  TokenCache::Fetcher fetcher() {
    return [this] { return fetch(); };
  }
  int calls() const {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  size_t pending() const {
    absl::MutexLock lock(&mu_);
    return pending_.size();
  }
  // Completes every held fetch with `result`.
  void complete_all(Result result) {
    std::vector<Pending> pending;
    {
      absl::MutexLock lock(&mu_);
      pending.swap(pending_);
    }
    for (Pending& p : pending) {
      boost::asio::post(p.work, [handler = std::move(p.handler), result]() mutable {
        std::move(handler)(result);
      });
    }
  }

 private:
  struct Pending {
    boost::asio::any_completion_handler<void(Result)> handler;
    boost::asio::any_io_executor work;
  };

  boost::asio::awaitable<Result> fetch() {
    {
      absl::MutexLock lock(&mu_);
      ++calls_;
      if (!hold_) co_return result_;
    }
    auto initiate = [this](auto handler) {
      auto work = boost::asio::prefer(boost::asio::get_associated_executor(handler),
                                      boost::asio::execution::outstanding_work.tracked);
      absl::MutexLock lock(&mu_);
      pending_.push_back(Pending{std::move(handler), boost::asio::any_io_executor(work)});
    };
    co_return co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&,
                                                   void(Result)>(std::move(initiate),
                                                                 boost::asio::use_awaitable);
  }

  mutable absl::Mutex mu_;
  Result result_ ABSL_GUARDED_BY(mu_) = absl::InternalError("no result scripted");
  bool hold_ ABSL_GUARDED_BY(mu_) = false;
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<Pending> pending_ ABSL_GUARDED_BY(mu_);
};

}  // namespace wims::broker::testing
