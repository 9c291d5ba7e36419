#include "netguard/reconciler.h"

#include <gtest/gtest.h>

#include <memory>

#include "absl/synchronization/notification.h"
#include "netguard/ruleset.h"
#include "unit/netguard/fakes.h"

namespace wims::netguard {
namespace {

using testing::FakeChangeFeed;
using testing::FakeKernel;
using testing::FakeRuleBackend;

// Bounded waits for the reconciler thread; never an assertion on how long it took.
constexpr absl::Duration kBound = absl::Seconds(10);

Options redirect_options() {
  Options o;
  o.mode = Mode::kRedirect;
  o.port = 8181;
  return o;
}

struct Harness {
  FakeKernel kernel;
  FakeChangeFeed* feed = nullptr;
  std::unique_ptr<Reconciler> reconciler;
  absl::Mutex mu;
  int callbacks = 0;

  explicit Harness(absl::Duration interval, Options options = redirect_options()) {
    auto f = std::make_unique<FakeChangeFeed>();
    feed = f.get();
    reconciler =
        std::make_unique<Reconciler>(std::move(options), std::make_unique<FakeRuleBackend>(kernel),
                                     std::move(f), interval, [this] {
                                       absl::MutexLock lock(&mu);
                                       ++callbacks;
                                     });
  }
  bool wait_for_callbacks(int n) {
    absl::MutexLock lock(&mu);
    auto reached = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return callbacks >= n; };
    return mu.AwaitWithTimeout(absl::Condition(&reached), kBound);
  }
  void set_table(std::optional<std::string> t) {
    std::lock_guard lock(kernel.mu);
    kernel.table = std::move(t);
  }
  std::optional<std::string> table() {
    std::lock_guard lock(kernel.mu);
    return kernel.table;
  }
};

TEST(ReconcilerTest, StartAppliesDesiredTable) {
  Harness h(absl::Hours(1));
  ASSERT_TRUE(h.reconciler->start().ok());
  EXPECT_EQ(h.table(), render_apply_script(redirect_options()));
  EXPECT_EQ(h.reconciler->repairs(), 0);
  h.reconciler->stop();
}

TEST(ReconcilerTest, StartFailsWithBackendError) {
  Harness h(absl::Hours(1));
  h.kernel.fail_next_runs = 1;
  absl::Status s = h.reconciler->start();
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
}

TEST(ReconcilerTest, StartRejectsInvalidOptions) {
  Options bad;
  bad.mode = Mode::kRedirect;  // no port
  Harness h(absl::Hours(1), bad);
  EXPECT_EQ(h.reconciler->start().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(h.kernel.runs, 0);
}

TEST(ReconcilerTest, RepairsDeletedTableOnEvent) {
  Harness h(absl::Hours(1));  // the periodic backstop never fires in this test
  ASSERT_TRUE(h.reconciler->start().ok());
  h.set_table(std::nullopt);
  h.feed->fire();
  ASSERT_TRUE(h.wait_for_callbacks(1));
  EXPECT_EQ(h.table(), render_apply_script(redirect_options()));
  EXPECT_EQ(h.reconciler->repairs(), 1);
  EXPECT_TRUE(h.reconciler->last_error().ok());
  h.reconciler->stop();
}

TEST(ReconcilerTest, RepairsAlteredTableOnEvent) {
  Harness h(absl::Hours(1));
  ASSERT_TRUE(h.reconciler->start().ok());
  h.set_table("table inet wims_netguard { chain pod_redirect { } }");
  h.feed->fire();
  ASSERT_TRUE(h.wait_for_callbacks(1));
  EXPECT_EQ(h.table(), render_apply_script(redirect_options()));
  h.reconciler->stop();
  EXPECT_EQ(h.reconciler->repairs(), 1);
}

TEST(ReconcilerTest, UnchangedTableIsNotRepaired) {
  Harness h(absl::Hours(1));
  ASSERT_TRUE(h.reconciler->start().ok());
  const int runs_after_start = h.kernel.runs;
  for (int i = 0; i < 3; ++i) h.feed->fire();
  // Wait until the reconciler has compared at least once, then require that it changed nothing.
  for (int i = 0; i < 1000 && h.reconciler->checks() == 0; ++i)
    absl::SleepFor(absl::Milliseconds(10));
  h.reconciler->stop();
  EXPECT_GE(h.reconciler->checks(), 1);
  EXPECT_EQ(h.reconciler->repairs(), 0);
  std::lock_guard lock(h.kernel.mu);
  EXPECT_EQ(h.kernel.runs, runs_after_start);
}

TEST(ReconcilerTest, PeriodicCheckRepairsWithoutEvents) {
  Harness h(absl::Milliseconds(5));  // the backstop alone; the feed is never fired
  ASSERT_TRUE(h.reconciler->start().ok());
  h.set_table(std::nullopt);
  ASSERT_TRUE(h.wait_for_callbacks(1));
  EXPECT_TRUE(h.table().has_value());
  h.reconciler->stop();
}

TEST(ReconcilerTest, FailedRepairIsReportedAndRetried) {
  Harness h(absl::Milliseconds(5));
  ASSERT_TRUE(h.reconciler->start().ok());
  {
    std::lock_guard lock(h.kernel.mu);
    h.kernel.fail_next_runs = 2;
    h.kernel.table.reset();
  }
  ASSERT_TRUE(h.wait_for_callbacks(1));  // third attempt succeeds
  h.reconciler->stop();
  EXPECT_EQ(h.reconciler->repairs(), 1);
  EXPECT_TRUE(h.table().has_value());
  EXPECT_TRUE(h.reconciler->last_error().ok());
}

TEST(ReconcilerTest, StopIsPromptAndIdempotentAndLeavesRulesInPlace) {
  Harness h(absl::Hours(24));
  ASSERT_TRUE(h.reconciler->start().ok());
  h.reconciler->stop();  // would hang for a day if stop did not interrupt the wait
  h.reconciler->stop();
  EXPECT_TRUE(h.table().has_value());  // fail closed: rules stay after wims stops
  EXPECT_EQ(h.reconciler->start().code(), absl::StatusCode::kOk);  // restartable
  h.reconciler->stop();
}

}  // namespace
}  // namespace wims::netguard
