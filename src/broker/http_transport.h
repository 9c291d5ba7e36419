// HttpTransport: the broker's narrow seam onto an HTTP client. The broker's upstream backends
// (Kubernetes TokenRequest, Google STS, IAM Credentials) send one request and read one response
// through it, so they can be tested against a scripted fake
// (tests/unit/broker/fake_http_transport.h) and wired onto http::Client in production
// (broker/http_client_transport.h, once src/http/client.h exists).
//
// Implementations are thread-safe: `send` may be called concurrently from every worker executor,
// and the returned awaitable completes on the caller's executor. A non-OK status means no HTTP
// response was received (connect failure, timeout, body over the limit); any HTTP status, including
// 4xx and 5xx, is a Response.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/verb.hpp>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "http/request.h"

namespace wims::broker {

// One outgoing request; mirrors http::ClientRequest field for field.
struct TransportRequest {
  boost::beast::http::verb method = boost::beast::http::verb::post;
  std::string url;  // absolute: "https://sts.googleapis.com/v1/token"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  absl::Duration timeout = absl::Seconds(10);
  size_t body_limit = 1 << 20;  // bytes of response body accepted
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  virtual boost::asio::awaitable<absl::StatusOr<http::Response>> send(TransportRequest request) = 0;
};

}  // namespace wims::broker
