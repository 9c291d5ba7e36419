// The service lifecycle of a command: every long-lived piece a command wires (worker pool, HTTP
// servers, watchers, reconcilers) is a `Service` with a name, start() and stop(); a `Lifecycle`
// starts a list of them in order and stops them in reverse, reporting each step, so `wims up`,
// `wims node` and `wims sidecar` build a list instead of hand-coding start-up and shutdown order.
//
//   Lifecycle lifecycle;
//   lifecycle.add(service("workers", [&] { workers.start(); return absl::OkStatus(); },
//                         [&] { workers.stop(); }));
//   lifecycle.add(service("imds", [&] { return server.start(); }, [&] { server.stop(); }));
//   if (auto s = lifecycle.start(); !s.ok()) return fail(s.message());  // already stopped
//   ...
//   if (!lifecycle.stop(kDefaultStopBound).ok()) std::_Exit(kExitError);  // a stop hung
//
// A failed start() stops what had started, in reverse, and returns the failure named after its
// service. stop() runs the stops on a helper thread and waits at most `bound`: when a stop hangs
// past it, stop() returns DeadlineExceeded naming that service, and the caller must exit without
// destroying the services (the helper thread still uses them). Used from one controlling thread;
// not thread-safe. The services must outlive the Lifecycle's start()/stop() calls.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace wims::cli {

// How long a command's shutdown may take in all (each HTTP server drains for at most its
// drain_timeout, 5 s by default) before it gives up and exits.
inline constexpr absl::Duration kDefaultStopBound = absl::Seconds(30);

// A piece with a lifecycle. start() returns once serving (or with why it cannot); stop() blocks
// until the piece has drained and released its resources.
class Service {
 public:
  virtual ~Service() = default;
  virtual std::string_view name() const = 0;
  virtual absl::Status start() = 0;
  virtual void stop() = 0;
};

// A Service from two callables (the adapter for types whose start/stop differ in shape).
std::unique_ptr<Service> service(std::string name, std::function<absl::Status()> start,
                                 std::function<void()> stop);

// One step the Lifecycle took, as reported.
struct LifecycleStep {
  enum class Action { kStart, kStop };
  Action action;
  std::string service;
  absl::Status status;  // start()'s result; OK for stops
  absl::Duration elapsed;
};

class Lifecycle {
 public:
  using Reporter = std::function<void(const LifecycleStep&)>;
  // `report` sees every step; the default logs it (info, or error for a failed start).
  explicit Lifecycle(Reporter report = nullptr);

  void add(std::unique_ptr<Service> service);

  // Starts every service in order; on the first failure stops the started ones in reverse and
  // returns "<name>: <message>" with the failure's code.
  absl::Status start();
  // Stops the started services in reverse, within `bound` in all (see the header comment).
  absl::Status stop(absl::Duration bound);

 private:
  void stop_started();

  Reporter report_;
  std::vector<std::unique_ptr<Service>> services_;
  size_t started_ = 0;
};

}  // namespace wims::cli
