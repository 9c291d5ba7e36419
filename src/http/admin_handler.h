// AdminHandler: the operational endpoints of a wims process, served on the admin listener.
//   GET /healthz -> 200 "ok"  (the process serves HTTP)
//   GET /readyz  -> 200 "ready" when the readiness predicate returns true, else 503 "not ready"
//   GET /metrics -> the Metrics registry, "text/plain; version=0.0.4; charset=utf-8"
// Other paths 404; other methods than GET/HEAD 405. Routes are labelled "admin.healthz",
// "admin.readyz", "admin.metrics".
//
// Owned by the CLI wiring; the predicate is called on worker threads, concurrently, and must be
// cheap and thread-safe (e.g. an atomic flag set once informers have synced). Metrics must outlive
// the handler.
#pragma once

#include <functional>

#include "http/handler.h"
#include "http/metrics.h"

namespace wims::http {

class AdminHandler final : public Handler {
 public:
  // `ready` may be empty: then /readyz is always ready.
  AdminHandler(Metrics& metrics, std::function<bool()> ready);

  boost::asio::awaitable<Response> handle(Request& request) override;

 private:
  Metrics& metrics_;
  std::function<bool()> ready_;
};

}  // namespace wims::http
