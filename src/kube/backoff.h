// Backoff: exponential reconnect delays with jitter, for the Reflector's list and watch retries.
// The n-th consecutive failure waits a uniformly random duration in [d/2, d] where d = min(max,
// initial * 2^n)
// ("equal jitter": never zero, so a failing API server is not hammered, and spread so that every
// node of a cluster does not reconnect in the same instant). reset() after a success.
//
// Randomness is injected (a function returning [0, 1)) so tests are deterministic. Not thread-safe:
// one owner.
#pragma once

#include <functional>

#include "absl/time/time.h"

namespace wims::kube {

struct BackoffOptions {
  absl::Duration initial = absl::Milliseconds(200);
  absl::Duration max = absl::Seconds(30);
};

class Backoff {
 public:
  using Random = std::function<double()>;  // uniform in [0, 1)

  // A null `random` uses a process-wide generator.
  explicit Backoff(BackoffOptions options = {}, Random random = nullptr);

  // The delay before the next attempt; each call doubles the base up to max.
  absl::Duration next();
  void reset() { attempt_ = 0; }
  int attempts() const { return attempt_; }

 private:
  const BackoffOptions options_;
  Random random_;
  int attempt_ = 0;
};

}  // namespace wims::kube
