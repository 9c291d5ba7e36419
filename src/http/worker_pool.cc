#include "http/worker_pool.h"

#include <spdlog/spdlog.h>

#include <exception>

namespace wims::http {
namespace {

// Which worker the calling thread is (set once per worker thread).
thread_local const void* tls_pool = nullptr;
thread_local size_t tls_index = 0;

}  // namespace

WorkerPool::WorkerPool(size_t threads) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  workers_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) {
    auto worker = std::make_unique<Worker>();
    worker->work.emplace(worker->context.get_executor());
    workers_.push_back(std::move(worker));
  }
}

WorkerPool::~WorkerPool() { stop(); }

void WorkerPool::start() {
  if (started_ || stopped_) return;
  started_ = true;
  for (size_t i = 0; i < workers_.size(); ++i) {
    Worker* worker = workers_[i].get();
    worker->thread = std::thread([this, worker, i] {
      tls_pool = this;
      tls_index = i;
      // Exceptions escaping a handler are bugs (sessions catch at their edge); log and keep the
      // worker alive rather than terminating the process on one bad connection.
      for (;;) {
        try {
          worker->context.run();
          return;
        } catch (const std::exception& e) {
          spdlog::error("worker {}: unhandled exception: {}", i, e.what());
        }
      }
    });
  }
}

void WorkerPool::stop() {
  if (stopped_) return;
  stopped_ = true;
  for (auto& worker : workers_) {
    worker->work.reset();
    worker->context.stop();
  }
  for (auto& worker : workers_) {
    if (worker->thread.joinable()) worker->thread.join();
  }
}

WorkerPool::Executor WorkerPool::next_executor() {
  return executor(next_.fetch_add(1, std::memory_order_relaxed) % workers_.size());
}

std::optional<size_t> WorkerPool::current_worker() const {
  if (tls_pool != this) return std::nullopt;
  return tls_index;
}

}  // namespace wims::http
