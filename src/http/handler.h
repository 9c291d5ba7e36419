// Handler: the one interface between the HTTP server core and a protocol front end (GCE metadata,
// the local cloud's APIs, the admin endpoints). `handle` runs as a coroutine on the worker executor
// that owns the connection; it may co_await upstream I/O. It must not block the thread, and must be
// safe to call concurrently from every worker (share-nothing state, or immutable snapshots, or its
// own locking never held across co_await).
#pragma once

#include <boost/asio/awaitable.hpp>

#include "http/request.h"

namespace wims::http {

class Handler {
 public:
  virtual ~Handler() = default;
  // Produces the response to `request`. Exceptions are a bug; errors are HTTP responses.
  virtual boost::asio::awaitable<Response> handle(Request& request) = 0;
};

}  // namespace wims::http
