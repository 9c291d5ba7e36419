#include "http/blocking_pool.h"

#include <algorithm>

namespace wims::http {

BlockingPool::BlockingPool(size_t threads, size_t max_pending)
    : pool_(std::max<size_t>(1, threads)), max_pending_(std::max<size_t>(1, max_pending)) {}

BlockingPool::~BlockingPool() { stop(); }

void BlockingPool::stop() {
  if (stopped_.exchange(true)) return;
  pool_.join();
}

bool BlockingPool::try_acquire() {
  if (stopped_.load()) return false;
  size_t current = pending_.load();
  do {
    if (current >= max_pending_) return false;
  } while (!pending_.compare_exchange_weak(current, current + 1));
  return true;
}

void BlockingPool::release() { pending_.fetch_sub(1); }

}  // namespace wims::http
