// Reconciler: keeps our nftables table equal to the desired ruleset while wims runs. It applies the
// desired table, remembers its stateless listing (`nft -s list table inet T`) and, on every
// nftables change event (ChangeFeed) and at least every `interval` (the backstop), lists the table
// again; if the table is gone or its listing differs (a rule deleted, added or altered), it
// re-applies the whole table in one transaction, logs the repair and counts it (`repairs()`, plus
// the `on_repair` callback for metrics).
//
//   Reconciler reconciler(options, std::move(backend), std::move(feed), absl::Seconds(30),
//                         [&metrics] { metrics.netguard_repairs.inc(); });
//   WIMS_RETURN_IF_ERROR(reconciler.start());  // applies once, synchronously; errors are returned
//   ...
//   reconciler.stop();                           // leaves the rules in place (fail closed)
//
// Threading: after start(), the backend and the feed are used only on the Reconciler's own thread
// (nft calls block; they never run on an I/O thread). start()/stop() are called from one owning
// thread; the getters are thread-safe. `on_repair` runs on the Reconciler thread and must not block
// for long. stop() does not remove the rules: if wims stops, the restriction stays (uninstall calls
// remove()). Conntrack flushing on enabling redirect mode is apply()'s job (netguard.h), not the
// Reconciler's.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "netguard/change_feed.h"
#include "netguard/rule_backend.h"
#include "netguard/ruleset.h"

namespace wims::netguard {

class Reconciler {
 public:
  Reconciler(Options desired, std::unique_ptr<RuleBackend> backend,
             std::unique_ptr<ChangeFeed> feed, absl::Duration interval,
             std::function<void()> on_repair = {});
  ~Reconciler();  // stop()
  Reconciler(const Reconciler&) = delete;
  Reconciler& operator=(const Reconciler&) = delete;

  // Validates and applies the desired table, records its listing, then starts the thread.
  // FailedPrecondition if already started.
  absl::Status start();
  // Stops the thread (prompt: interrupts the feed) and joins it. Idempotent.
  void stop();

  // Tables restored since construction.
  int64_t repairs() const { return repairs_.load(); }
  // Comparisons made (events plus periodic checks) since start().
  int64_t checks() const { return checks_.load(); }
  // The error of the last failed check or repair; OK if the last one succeeded.
  absl::Status last_error() const;

 private:
  void run();
  // Compares and repairs once. Runs on the Reconciler thread.
  void check(const char* trigger);
  absl::Status apply_and_record();

  const Options desired_;
  const std::string script_;
  std::unique_ptr<RuleBackend> backend_;
  std::unique_ptr<ChangeFeed> feed_;
  const absl::Duration interval_;
  std::function<void()> on_repair_;

  std::string baseline_;  // stateless listing right after our last apply; Reconciler thread only
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> repairs_{0};
  std::atomic<int64_t> checks_{0};
  mutable absl::Mutex mu_;
  absl::Status last_error_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace wims::netguard
