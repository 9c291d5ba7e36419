// Conntrack flush for the metadata endpoint: deletes every conntrack entry whose original
// destination is one of the given addresses, so that connections a pod opened to the real endpoint
// before redirect mode was enabled are cut (their next packet is NATed again by our redirect chain
// and answered with a reset, instead of continuing to the real endpoint). Talks ctnetlink
// (NETLINK_NETFILTER, the interface `conntrack -D -d ADDR` uses) directly: a dump, then one delete
// per matching entry.
//
// Blocking (netlink round trips with a 2 s receive timeout); call from a worker thread, never an
// I/O thread. Thread-safe (a socket per call). Acts on the calling thread's network namespace.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace wims::netguard {

// Returns how many entries were deleted. Entries that vanish between dump and delete are not
// errors. PermissionDenied without CAP_NET_ADMIN; FailedPrecondition if the kernel has no
// ctnetlink; InvalidArgument for an address that is neither IPv4 nor IPv6.
absl::StatusOr<int> delete_conntrack_to(const std::vector<std::string>& destinations);

}  // namespace wims::netguard
