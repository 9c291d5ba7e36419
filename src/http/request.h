// Request and Response: what a wims HTTP handler sees and returns. The server has already read the
// message within its limits, canonicalised the path (http/canonical_path.h) and normalised the peer
// address (v4-mapped IPv6 -> IPv4), because callers are identified by that address.
//
// Plain values; a Request belongs to the one connection coroutine that handles it.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wims::http {

namespace beast_http = boost::beast::http;

using RawRequest = beast_http::request<beast_http::string_body>;
using Response = beast_http::response<beast_http::string_body>;

struct Request {
  RawRequest message;
  // The canonical, percent-decoded path ("/computeMetadata/v1/instance/"), without the query.
  std::string path;
  // The raw query string after '?', percent-encoded as received ("" when absent).
  std::string query;
  // Peer (caller) and local addresses. IPv4-mapped IPv6 peers are normalised to IPv4.
  boost::asio::ip::address peer;
  uint16_t peer_port = 0;
  boost::asio::ip::address local;
  uint16_t local_port = 0;
  // Set by the handler: a low-cardinality route label for metrics and the access log ("gce.token").
  std::string route;

  beast_http::verb method() const { return message.method(); }
  // A header value, or nullopt when absent.
  std::optional<std::string_view> header(std::string_view name) const {
    auto it = message.find(name);
    if (it == message.end()) return std::nullopt;
    return std::string_view(it->value().data(), it->value().size());
  }
  // The first value of query parameter `name`, percent-decoded; nullopt when absent.
  std::optional<std::string> query_param(std::string_view name) const;
  // Number of occurrences of `name` in the query (some protocols reject duplicates).
  size_t query_param_count(std::string_view name) const;
};

// A response with status, content type and body; `keep_alive` and the Content-Length are set by the
// server.
Response make_response(beast_http::status status, std::string_view content_type, std::string body);

}  // namespace wims::http
