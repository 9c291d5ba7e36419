#include "http/router.h"

#include <algorithm>

namespace wims::http {
namespace {

bool matches(std::string_view prefix, std::string_view path) {
  if (path.substr(0, prefix.size()) != prefix) return false;
  return prefix.back() == '/' || path.size() == prefix.size() || path[prefix.size()] == '/';
}

}  // namespace

Router::Router() : fallback_(&not_found_) {}

void Router::add(std::string prefix, Handler& handler) {
  if (prefix.empty() || prefix.front() != '/') prefix.insert(prefix.begin(), '/');
  for (Route& route : routes_) {
    if (route.prefix == prefix) {
      route.handler = &handler;
      return;
    }
  }
  routes_.push_back(Route{std::move(prefix), &handler});
  std::stable_sort(routes_.begin(), routes_.end(), [](const Route& a, const Route& b) {
    return a.prefix.size() > b.prefix.size();
  });
}

void Router::set_fallback(Handler& handler) { fallback_ = &handler; }

Handler& Router::route(std::string_view path) const {
  for (const Route& route : routes_) {
    if (matches(route.prefix, path)) return *route.handler;
  }
  return *fallback_;
}

boost::asio::awaitable<Response> Router::handle(Request& request) {
  co_return co_await route(request.path).handle(request);
}

boost::asio::awaitable<Response> Router::NotFound::handle(Request& request) {
  request.route = "not_found";
  co_return make_response(beast_http::status::not_found, "text/plain; charset=utf-8",
                          "not found\n");
}

}  // namespace wims::http
