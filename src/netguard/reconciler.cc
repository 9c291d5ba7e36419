#include "netguard/reconciler.h"

#include <utility>

#include "common/status_macros.h"
#include "spdlog/spdlog.h"

namespace wims::netguard {

Reconciler::Reconciler(Options desired, std::unique_ptr<RuleBackend> backend,
                       std::unique_ptr<ChangeFeed> feed, absl::Duration interval,
                       std::function<void()> on_repair)
    : desired_(std::move(desired)),
      script_(render_apply_script(desired_)),
      backend_(std::move(backend)),
      feed_(std::move(feed)),
      interval_(interval),
      on_repair_(std::move(on_repair)) {}

Reconciler::~Reconciler() { stop(); }

absl::Status Reconciler::apply_and_record() {
  WIMS_RETURN_IF_ERROR(backend_->run(script_));
  WIMS_ASSIGN_OR_RETURN(baseline_, backend_->list_table(desired_.table, ListFormat::kStateless));
  return absl::OkStatus();
}

absl::Status Reconciler::start() {
  if (thread_.joinable())
    return absl::FailedPreconditionError("netguard: reconciler already started");
  WIMS_RETURN_IF_ERROR(validate(desired_));
  WIMS_RETURN_IF_ERROR(apply_and_record());
  stopping_.store(false);
  thread_ = std::thread([this] { run(); });
  spdlog::info("netguard: reconciling table inet {} (mode {}, backstop every {})", desired_.table,
               mode_name(desired_.mode), absl::FormatDuration(interval_));
  return absl::OkStatus();
}

void Reconciler::stop() {
  if (!thread_.joinable()) return;
  stopping_.store(true);
  feed_->interrupt();
  thread_.join();
}

absl::Status Reconciler::last_error() const {
  absl::MutexLock lock(&mu_);
  return last_error_;
}

void Reconciler::run() {
  while (!stopping_.load()) {
    const bool event = feed_->wait(interval_);
    if (stopping_.load()) break;
    check(event ? "nftables event" : "periodic check");
  }
}

void Reconciler::check(const char* trigger) {
  checks_.fetch_add(1);
  absl::StatusOr<std::string> listing =
      backend_->list_table(desired_.table, ListFormat::kStateless);
  if (listing.ok() && *listing == baseline_) {
    absl::MutexLock lock(&mu_);
    last_error_ = absl::OkStatus();
    return;
  }
  if (!listing.ok() && !absl::IsNotFound(listing.status())) {
    spdlog::error("netguard: cannot list table inet {}: {}", desired_.table,
                  listing.status().ToString());
    absl::MutexLock lock(&mu_);
    last_error_ = listing.status();
    return;
  }
  const char* what = listing.ok() ? "altered" : "deleted";
  absl::Status repaired = apply_and_record();
  {
    absl::MutexLock lock(&mu_);
    last_error_ = repaired;
  }
  if (!repaired.ok()) {
    spdlog::error("netguard: table inet {} was {} and could not be restored: {}", desired_.table,
                  what, repaired.ToString());
    return;
  }
  repairs_.fetch_add(1);
  spdlog::warn("netguard: table inet {} was {} (seen by {}); restored mode {} (repair #{})",
               desired_.table, what, trigger, mode_name(desired_.mode), repairs_.load());
  if (on_repair_) on_repair_();
}

}  // namespace wims::netguard
