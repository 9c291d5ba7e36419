// Preflight checks run before netguard touches nftables, so that the common failures get a clear,
// actionable error instead of a raw netlink errno: not root / no CAP_NET_ADMIN, no nftables in the
// kernel, an address family missing (e.g. IPv6 disabled with ipv6.disable=1 or in this namespace).
//
// Reads /proc of the calling process; stateless and thread-safe. `proc_root` is injectable for
// tests.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "netguard/ruleset.h"

namespace wims::netguard {

// PermissionDenied unless the process has CAP_NET_ADMIN in its effective set (CapEff in
// <proc_root>/self/status).
absl::Status check_net_admin(const std::string& proc_root = "/proc");

// FailedPrecondition naming the missing family and the --family flag that avoids it:
// IPv4 needs <proc_root>/sys/net/ipv4, IPv6 needs <proc_root>/net/if_inet6 (absent when IPv6 is
// disabled).
absl::Status check_families(Families families, const std::string& proc_root = "/proc");

}  // namespace wims::netguard
