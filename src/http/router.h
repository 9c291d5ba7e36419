// Router: a Handler that dispatches each request to the Handler registered for the longest matching
// path prefix, and to a fallback (plain 404 by default) when none matches.
//
//   Router router;
//   router.add("/computeMetadata/v1", gce_handler);
//   router.add("/", root_handler);
//   server = Server(options, router, workers, metrics);
//
// Matching is on canonical paths (Request::path) and segment-aware: prefix "/a" matches "/a" and
// "/a/..." but not "/ab"; a prefix ending in '/' (including "/") matches every path that starts
// with it. Configure with add()/set_fallback() before serving; afterwards handle() only reads and
// is safe to call concurrently from every worker. Registered handlers must outlive the Router.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "http/handler.h"

namespace wims::http {

class Router final : public Handler {
 public:
  Router();

  // Routes `prefix` (must start with '/') to `handler`. A later add() of the same prefix replaces
  // it.
  void add(std::string prefix, Handler& handler);
  // Replaces the default 404 handler for unmatched paths.
  void set_fallback(Handler& handler);

  // The handler for `path` (the fallback when nothing matches).
  Handler& route(std::string_view path) const;

  boost::asio::awaitable<Response> handle(Request& request) override;

 private:
  struct Route {
    std::string prefix;
    Handler* handler;
  };
  class NotFound final : public Handler {
   public:
    boost::asio::awaitable<Response> handle(Request& request) override;
  };

  std::vector<Route> routes_;  // longest prefix first
  NotFound not_found_;
  Handler* fallback_;
};

}  // namespace wims::http
