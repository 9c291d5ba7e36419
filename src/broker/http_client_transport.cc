#include "broker/http_client_transport.h"

#include <utility>

namespace wims::broker {

boost::asio::awaitable<absl::StatusOr<http::Response>> HttpClientTransport::send(
    TransportRequest request) {
  http::ClientRequest client_request;
  client_request.method = request.method;
  client_request.url = std::move(request.url);
  client_request.headers = std::move(request.headers);
  client_request.body = std::move(request.body);
  client_request.timeout = request.timeout;
  client_request.body_limit = request.body_limit;
  co_return co_await client_.send(std::move(client_request));
}

}  // namespace wims::broker
