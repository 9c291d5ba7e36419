#include "netguard/redirect_listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"

namespace wims::netguard {

absl::Status check_redirect_listener(std::string_view bound_address, uint16_t port,
                                     Families families) {
  if (port == 0)
    return absl::InvalidArgumentError("netguard redirect needs the metadata listener's bound port");
  const std::string address(bound_address);  // inet_pton wants a NUL-terminated string
  in_addr v4{};
  in6_addr v6{};
  const bool is_v4 = ::inet_pton(AF_INET, address.c_str(), &v4) == 1;
  const bool is_v6 = !is_v4 && ::inet_pton(AF_INET6, address.c_str(), &v6) == 1;
  if (!is_v4 && !is_v6) {
    return absl::InvalidArgumentError(
        absl::StrCat("netguard redirect: '", address, "' is not an IP address"));
  }
  const std::string hostport =
      is_v6 ? absl::StrCat("[", address, "]:", port) : absl::StrCat(address, ":", port);
  const std::string suggestion = absl::StrCat("listen on all addresses instead, e.g. [::]:", port,
                                              " (IPv4 and IPv6) or 0.0.0.0:", port, " (IPv4 only)");
  const bool unspecified = is_v4 ? v4.s_addr == htonl(INADDR_ANY) : IN6_IS_ADDR_UNSPECIFIED(&v6);
  const bool loopback = is_v4 ? (ntohl(v4.s_addr) >> 24) == 127 : IN6_IS_ADDR_LOOPBACK(&v6);
  if (loopback) {
    return absl::FailedPreconditionError(
        absl::StrCat("netguard redirect: the metadata listener is bound to loopback ", hostport,
                     ", which redirected pod traffic cannot reach (nftables redirects it to the "
                     "address of the interface "
                     "the pod's packet arrived on, never to loopback); ",
                     suggestion));
  }
  if (!unspecified) {
    return absl::FailedPreconditionError(
        absl::StrCat("netguard redirect: the metadata listener is bound to ", hostport,
                     " only, but nftables redirects each pod's traffic to the address of the "
                     "interface it arrived on "
                     "(one per pod veth/bridge), so most pods could not reach it; ",
                     suggestion));
  }
  if (is_v4 && families != Families::kIpv4) {
    return absl::FailedPreconditionError(
        absl::StrCat("netguard redirect: the metadata listener is bound to 0.0.0.0:", port,
                     " (IPv4 only), so pods' IPv6 traffic to fd00:ec2::254 would be redirected to "
                     "a port nothing listens "
                     "on; listen on [::]:",
                     port, " (dual stack) instead"));
  }
  return absl::OkStatus();
}

}  // namespace wims::netguard
