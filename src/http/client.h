// Client: an asynchronous HTTP/1.1 client for upstream calls (STS, IAM, the Kubernetes API, the
// local cloud), plain http and https.
//
//   Client client;  // system CA store, peer + host name verification, SNI
//   ClientRequest request{.method = beast_http::verb::post, .url =
//   "https://sts.googleapis.com/v1/token",
//                         .headers = {{"Content-Type", "application/json"}}, .body = json};
//   absl::StatusOr<Response> response = co_await client.send(std::move(request));
//
// send() runs on the calling coroutine's executor (any worker, any io_context) and resumes there;
// it never blocks the thread. One connection per request ("Connection: close"; no keep-alive pool
// yet). The URL is parsed with Boost.URL: absolute http/https URLs only, no user info; the port
// defaults to 80/443; the fragment is not sent. One deadline (`timeout`) covers connect, TLS
// handshake, write and read. Name resolution uses the system resolver, which Asio cannot interrupt:
// the deadline starts after it. The response body is limited to `body_limit` bytes.
//
// Errors (the HTTP status of a response is not an error; check response.result()):
//   InvalidArgument    bad URL, unsupported scheme, invalid header name/value or method
//   Unavailable        name resolution, connect, TLS handshake (incl. certificate verification),
//   write or
//                      read failed, or the deadline expired (message says "timed out")
//   ResourceExhausted  response body over body_limit (or headers over Beast's 8 KiB default)
//   Internal           a malformed HTTP response
//
// Thread-safe: one Client may be used by many coroutines on many executors concurrently (the TLS
// context is shared read-only). The Client must outlive the send() calls.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "http/request.h"

namespace wims::http {

struct ClientRequest {
  beast_http::verb method = beast_http::verb::get;
  std::string url = {};
  // Added in order; "Host" and "User-Agent" given here replace the defaults.
  std::vector<std::pair<std::string, std::string>> headers = {};
  std::string body = {};
  absl::Duration timeout = absl::Seconds(10);
  size_t body_limit = 4 << 20;
};

class Client {
 public:
  // `tls` is used for https URLs; nullptr builds the default (TLS 1.2+, system CA store, verify
  // peer).
  explicit Client(std::shared_ptr<boost::asio::ssl::context> tls = nullptr);

  // Performs the request on the current coroutine's executor.
  boost::asio::awaitable<absl::StatusOr<Response>> send(ClientRequest request);

  // send() on a private io_context, blocking the calling thread: for CLI commands and tests. Never
  // call it on a worker thread.
  absl::StatusOr<Response> send_blocking(ClientRequest request);

 private:
  boost::asio::awaitable<absl::StatusOr<Response>> send_unchecked(ClientRequest request);

  std::shared_ptr<boost::asio::ssl::context> tls_;
};

}  // namespace wims::http
