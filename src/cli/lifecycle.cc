#include "cli/lifecycle.h"

#include <spdlog/spdlog.h>

#include <memory>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"

namespace wims::cli {
namespace {

class FunctionService final : public Service {
 public:
  FunctionService(std::string name, std::function<absl::Status()> start, std::function<void()> stop)
      : name_(std::move(name)), start_(std::move(start)), stop_(std::move(stop)) {}
  std::string_view name() const override { return name_; }
  absl::Status start() override { return start_ ? start_() : absl::OkStatus(); }
  void stop() override {
    if (stop_) stop_();
  }

 private:
  std::string name_;
  std::function<absl::Status()> start_;
  std::function<void()> stop_;
};

void log_step(const LifecycleStep& step) {
  const double ms = absl::ToDoubleMilliseconds(step.elapsed);
  if (step.action == LifecycleStep::Action::kStart && !step.status.ok()) {
    spdlog::error("start {}: {} ({:.1f} ms)", step.service, std::string(step.status.message()), ms);
  } else {
    spdlog::info("{} {} ({:.1f} ms)",
                 step.action == LifecycleStep::Action::kStart ? "started" : "stopped", step.service,
                 ms);
  }
}

}  // namespace

std::unique_ptr<Service> service(std::string name, std::function<absl::Status()> start,
                                 std::function<void()> stop) {
  return std::make_unique<FunctionService>(std::move(name), std::move(start), std::move(stop));
}

Lifecycle::Lifecycle(Reporter report) : report_(report ? std::move(report) : log_step) {}

void Lifecycle::add(std::unique_ptr<Service> service) { services_.push_back(std::move(service)); }

absl::Status Lifecycle::start() {
  while (started_ < services_.size()) {
    Service& s = *services_[started_];
    const absl::Time begin = absl::Now();
    absl::Status status = s.start();
    report_({LifecycleStep::Action::kStart, std::string(s.name()), status, absl::Now() - begin});
    if (!status.ok()) {
      stop_started();
      return absl::Status(status.code(),
                          absl::StrCat(std::string(s.name()), ": ", status.message()));
    }
    ++started_;
  }
  return absl::OkStatus();
}

void Lifecycle::stop_started() {
  while (started_ > 0) {
    Service& s = *services_[--started_];
    const absl::Time begin = absl::Now();
    s.stop();
    report_({LifecycleStep::Action::kStop, std::string(s.name()), absl::OkStatus(),
             absl::Now() - begin});
  }
}

absl::Status Lifecycle::stop(absl::Duration bound) {
  // The stopping thread shares this state; on a timeout it outlives this call (detached).
  struct Progress {
    absl::Mutex mu;
    std::string current ABSL_GUARDED_BY(mu);
    absl::Notification done;
  };
  auto progress = std::make_shared<Progress>();
  if (started_ == 0) return absl::OkStatus();
  // Named before the thread starts, so a bound that passes before the thread runs still names
  // the service that has not stopped.
  {
    absl::MutexLock lock(&progress->mu);
    progress->current = std::string(services_[started_ - 1]->name());
  }
  std::thread stopper([this, progress] {
    while (started_ > 0) {
      Service& s = *services_[started_ - 1];
      {
        absl::MutexLock lock(&progress->mu);
        progress->current = std::string(s.name());
      }
      const absl::Time begin = absl::Now();
      s.stop();
      --started_;
      report_({LifecycleStep::Action::kStop, std::string(s.name()), absl::OkStatus(),
               absl::Now() - begin});
    }
    progress->done.Notify();
  });
  if (progress->done.WaitForNotificationWithTimeout(bound)) {
    stopper.join();
    return absl::OkStatus();
  }
  stopper.detach();
  absl::MutexLock lock(&progress->mu);
  return absl::DeadlineExceededError(absl::StrCat(
      "stop ", progress->current, ": still running after ", absl::FormatDuration(bound)));
}

}  // namespace wims::cli
