// Clock: the injected source of wall-clock time. Every expiry, refresh and backoff decision in wims
// reads time through a Clock so tests can use FakeClock instead of sleeping.
//
// SystemClock is stateless and thread-safe. FakeClock is thread-safe (an atomic), and is advanced
// by tests.
#pragma once

#include <atomic>
#include <cstdint>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace wims {

class Clock {
 public:
  virtual ~Clock() = default;
  // The current wall-clock time.
  virtual absl::Time now() const = 0;
};

class SystemClock final : public Clock {
 public:
  absl::Time now() const override { return absl::Now(); }
  // A process-wide instance for wiring code.
  static SystemClock& instance() {
    static SystemClock clock;
    return clock;
  }
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1700000000))
      : nanos_(absl::ToUnixNanos(start)) {}
  absl::Time now() const override { return absl::FromUnixNanos(nanos_.load()); }
  void set(absl::Time t) { nanos_.store(absl::ToUnixNanos(t)); }
  void advance(absl::Duration d) { nanos_.fetch_add(absl::ToInt64Nanoseconds(d)); }

 private:
  std::atomic<int64_t> nanos_;
};

}  // namespace wims
