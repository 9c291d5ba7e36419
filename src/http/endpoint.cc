#include "http/endpoint.h"

#include <boost/url/authority_view.hpp>
#include <charconv>

#include "fmt/format.h"

namespace wims::http {

namespace asio = boost::asio;

absl::StatusOr<asio::ip::tcp::endpoint> parse_endpoint(std::string_view text) {
  auto fail = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        fmt::format("invalid endpoint '{}': {} (want HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080)",
                    text, why));
  };
  if (text.empty()) return fail("empty");
  auto authority = boost::urls::parse_authority(boost::urls::string_view(text.data(), text.size()));
  if (!authority) return fail("not a valid host:port");
  if (authority->has_userinfo()) return fail("user info is not allowed");
  if (!authority->has_port() || authority->port().empty()) return fail("missing port");

  std::string_view port_text(authority->port().data(), authority->port().size());
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return fail("port must be a number in 0..65535");
  }

  asio::ip::address address;
  switch (authority->host_type()) {
    case boost::urls::host_type::ipv4:
      address = asio::ip::make_address_v4(authority->host_ipv4_address().to_bytes());
      break;
    case boost::urls::host_type::ipv6:
      address = asio::ip::make_address_v6(authority->host_ipv6_address().to_bytes());
      break;
    case boost::urls::host_type::name: {
      std::string name = authority->host_name();
      if (name != "localhost") return fail("host must be an IP literal or localhost");
      address = asio::ip::address_v4::loopback();
      break;
    }
    default:
      return fail("unsupported host");
  }
  return asio::ip::tcp::endpoint(address, static_cast<uint16_t>(port));
}

std::string format_endpoint(const asio::ip::tcp::endpoint& endpoint) {
  if (endpoint.address().is_v6()) {
    return fmt::format("[{}]:{}", endpoint.address().to_string(), endpoint.port());
  }
  return fmt::format("{}:{}", endpoint.address().to_string(), endpoint.port());
}

asio::ip::address normalize_address(const asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  return address;
}

}  // namespace wims::http
