#include "netguard/preflight.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "fmt/format.h"

namespace wims::netguard {

absl::Status check_net_admin(const std::string& proc_root) {
  constexpr int kCapNetAdmin = 12;  // linux/capability.h
  std::ifstream in(proc_root + "/self/status");
  if (!in) {
    return absl::FailedPreconditionError(
        fmt::format("netguard: cannot read {}/self/status to check CAP_NET_ADMIN", proc_root));
  }
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("CapEff:", 0) != 0) continue;
    uint64_t caps = 0;
    try {
      caps = std::stoull(line.substr(7), nullptr, 16);
    } catch (const std::exception&) {
      return absl::FailedPreconditionError(
          fmt::format("netguard: malformed CapEff line \"{}\"", line));
    }
    if ((caps >> kCapNetAdmin) & 1U) return absl::OkStatus();
    return absl::PermissionDeniedError(
        "netguard: changing nftables rules needs root or CAP_NET_ADMIN (sidecar-init containers "
        "need "
        "securityContext.capabilities.add: [NET_ADMIN, NET_RAW])");
  }
  return absl::FailedPreconditionError(
      fmt::format("netguard: no CapEff line in {}/self/status", proc_root));
}

absl::Status check_families(Families families, const std::string& proc_root) {
  std::error_code ec;
  if (families != Families::kIpv6 && !std::filesystem::exists(proc_root + "/sys/net/ipv4", ec)) {
    return absl::FailedPreconditionError(
        "netguard: IPv4 is not available in this kernel or network namespace; use --family ipv6");
  }
  if (families != Families::kIpv4 && !std::filesystem::exists(proc_root + "/net/if_inet6", ec)) {
    return absl::FailedPreconditionError(
        "netguard: IPv6 is not available in this kernel or network namespace (disabled?); use "
        "--family ipv4");
  }
  return absl::OkStatus();
}

}  // namespace wims::netguard
