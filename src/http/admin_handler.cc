#include "http/admin_handler.h"

#include <utility>

namespace wims::http {
namespace {

constexpr std::string_view kPlain = "text/plain; charset=utf-8";

}  // namespace

AdminHandler::AdminHandler(Metrics& metrics, std::function<bool()> ready)
    : metrics_(metrics), ready_(std::move(ready)) {}

boost::asio::awaitable<Response> AdminHandler::handle(Request& request) {
  const std::string& path = request.path;
  if (path != "/healthz" && path != "/readyz" && path != "/metrics") {
    request.route = "admin.not_found";
    co_return make_response(beast_http::status::not_found, kPlain, "not found\n");
  }
  request.route = "admin." + path.substr(1);
  if (request.method() != beast_http::verb::get && request.method() != beast_http::verb::head) {
    Response response =
        make_response(beast_http::status::method_not_allowed, kPlain, "method not allowed\n");
    response.set(beast_http::field::allow, "GET, HEAD");
    co_return response;
  }
  if (path == "/healthz") co_return make_response(beast_http::status::ok, kPlain, "ok");
  if (path == "/readyz") {
    if (!ready_ || ready_()) co_return make_response(beast_http::status::ok, kPlain, "ready\n");
    co_return make_response(beast_http::status::service_unavailable, kPlain, "not ready\n");
  }
  co_return make_response(beast_http::status::ok, "text/plain; version=0.0.4; charset=utf-8",
                          metrics_.render());
}

}  // namespace wims::http
