// Fakes for netguard unit tests: an in-memory RuleBackend (the "kernel" holds one listing per
// table, which is simply the last script run, so tampering is a string change) and a ChangeFeed the
// test fires by hand. Both are thread-safe: the Reconciler thread uses them while the test tampers.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "netguard/change_feed.h"
#include "netguard/rule_backend.h"

namespace wims::netguard::testing {

struct FakeKernel {
  std::mutex mu;
  std::optional<std::string> table;  // listing of our table; nullopt = no table
  int runs = 0;
  int fail_next_runs = 0;  // fault injection: the next N run() calls fail
};

class FakeRuleBackend final : public RuleBackend {
 public:
  explicit FakeRuleBackend(FakeKernel& kernel) : kernel_(kernel) {}
  absl::Status run(std::string_view script) override {
    std::lock_guard lock(kernel_.mu);
    ++kernel_.runs;
    if (kernel_.fail_next_runs > 0) {
      --kernel_.fail_next_runs;
      return absl::PermissionDeniedError("fake: Operation not permitted");
    }
    kernel_.table = std::string(script);
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> list_table(std::string_view, ListFormat) override {
    std::lock_guard lock(kernel_.mu);
    if (!kernel_.table) return absl::NotFoundError("fake: No such file or directory");
    return *kernel_.table;
  }

 private:
  FakeKernel& kernel_;
};

class FakeChangeFeed final : public ChangeFeed {
 public:
  bool wait(absl::Duration timeout) override {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                 [&] { return events_ > 0 || interrupted_; });
    interrupted_ = false;
    if (events_ > 0) {
      events_ = 0;
      return true;
    }
    return false;
  }
  void interrupt() override {
    std::lock_guard lock(mu_);
    interrupted_ = true;
    cv_.notify_all();
  }
  void fire() {
    std::lock_guard lock(mu_);
    ++events_;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int events_ = 0;
  bool interrupted_ = false;
};

}  // namespace wims::netguard::testing
