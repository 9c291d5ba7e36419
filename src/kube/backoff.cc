#include "kube/backoff.h"

#include <algorithm>

#include "absl/random/random.h"
#include "absl/synchronization/mutex.h"

namespace wims::kube {

Backoff::Backoff(BackoffOptions options, Random random)
    : options_(options), random_(std::move(random)) {
  if (!random_) {
    random_ = [] {
      static absl::Mutex mu(absl::kConstInit);
      static absl::BitGen* gen = new absl::BitGen();
      absl::MutexLock lock(&mu);
      return absl::Uniform(*gen, 0.0, 1.0);
    };
  }
}

absl::Duration Backoff::next() {
  absl::Duration base = options_.initial;
  // Doubling stops at max (and at 2^30 to keep the arithmetic finite).
  for (int i = 0; i < attempt_ && i < 30 && base < options_.max; ++i) base *= 2;
  base = std::min(base, options_.max);
  ++attempt_;
  const double r = std::clamp(random_(), 0.0, 1.0);
  return base / 2 + (base / 2) * r;
}

}  // namespace wims::kube
