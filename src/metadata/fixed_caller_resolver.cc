#include "metadata/fixed_caller_resolver.h"

#include <fmt/format.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

namespace wims::metadata {

namespace ip = boost::asio::ip;

bool is_local_interface_address(const ip::address& address) {
  const ip::address wanted = normalize_address(address);
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return false;  // cannot tell: refuse rather than guess
  bool found = false;
  for (const ifaddrs* it = list; it != nullptr && !found; it = it->ifa_next) {
    if (it->ifa_addr == nullptr) continue;
    if (it->ifa_addr->sa_family == AF_INET && wanted.is_v4()) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(it->ifa_addr);
      ip::address_v4::bytes_type bytes;
      std::memcpy(bytes.data(), &in->sin_addr, bytes.size());
      found = ip::address_v4(bytes) == wanted.to_v4();
    } else if (it->ifa_addr->sa_family == AF_INET6 && wanted.is_v6()) {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(it->ifa_addr);
      ip::address_v6::bytes_type bytes;
      std::memcpy(bytes.data(), &in6->sin6_addr, bytes.size());
      // Link-local addresses compare with their scope; everything a pod calls from is global or
      // loopback.
      found = ip::address_v6(bytes) == ip::address_v6(wanted.to_v6().to_bytes());
    }
  }
  ::freeifaddrs(list);
  return found;
}

absl::StatusOr<broker::Caller> FixedCallerResolver::resolve(const ip::address& peer) const {
  const ip::address address = normalize_address(peer);
  if (address.is_loopback()) return caller_;
  if (is_local_ && is_local_(address)) return caller_;
  return absl::PermissionDeniedError(
      fmt::format("this metadata server serves only its own pod ({}/{}): peer {} is neither "
                  "loopback nor an address of the "
                  "pod's network namespace",
                  caller_.pod.namespace_name, caller_.pod.name, address.to_string()));
}

}  // namespace wims::metadata
