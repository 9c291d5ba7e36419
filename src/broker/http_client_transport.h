// HttpClientTransport: the production HttpTransport, a thin adapter onto http::Client
// (http/client.h). It copies the TransportRequest field for field into an http::ClientRequest;
// statuses pass through unchanged (http::Client already answers Unavailable for connect/TLS/timeout
// failures).
//
// Thread-safe as http::Client is; send() runs and resumes on the caller's executor. The Client must
// outlive the adapter.
#pragma once

#include "broker/http_transport.h"
#include "http/client.h"

namespace wims::broker {

class HttpClientTransport final : public HttpTransport {
 public:
  explicit HttpClientTransport(http::Client& client) : client_(client) {}
  boost::asio::awaitable<absl::StatusOr<http::Response>> send(TransportRequest request) override;

 private:
  http::Client& client_;
};

}  // namespace wims::broker
