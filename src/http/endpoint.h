// Endpoint text: parses the "HOST:PORT" listen/target syntax used in wims configuration into an
// Asio TCP endpoint and formats endpoints back for logs and messages.
//
//   parse_endpoint("127.0.0.1:8080")  -> 127.0.0.1 port 8080
//   parse_endpoint("[::1]:0")         -> ::1 port 0 (the OS picks a port)
//   parse_endpoint("0.0.0.0:80"), parse_endpoint("[::]:80")
//   parse_endpoint("localhost:8080")  -> 127.0.0.1 port 8080
//   format_endpoint(endpoint)         -> "127.0.0.1:41234", "[::1]:5"
//
// HOST is an IPv4 literal, a bracketed IPv6 literal, or "localhost" (always 127.0.0.1, so a
// listener's address does not depend on /etc/hosts). Other host names are rejected: a listen
// address must not need DNS. PORT is a decimal number 0..65535 and is required. Pure functions;
// thread-safe.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace wims::http {

// Parses "HOST:PORT" (see above). InvalidArgument with the offending text on any error.
absl::StatusOr<boost::asio::ip::tcp::endpoint> parse_endpoint(std::string_view text);

// "A.B.C.D:PORT" for IPv4, "[V6]:PORT" for IPv6.
std::string format_endpoint(const boost::asio::ip::tcp::endpoint& endpoint);

// An IPv4-mapped IPv6 address (::ffff:a.b.c.d) as IPv4; any other address unchanged.
boost::asio::ip::address normalize_address(const boost::asio::ip::address& address);

}  // namespace wims::http
