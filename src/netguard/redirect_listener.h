// Which metadata listener can receive the pod traffic that redirect mode (Mode::kRedirect) sends to
// wims.
//
// nft `redirect to :P` rewrites a pod packet's destination to the PRIMARY ADDRESS OF THE INTERFACE
// IT ARRIVED ON (the node side of each pod's veth, bridge or ENI: 10.200.1.1 for one
// pod, 10.200.2.1 for another) and port P, keeping the pod's own source address. So the listener
// has to accept connections on every local address, i.e. be bound to the unspecified address:
//   "[::]:P"     both families (http::Server binds it dual stack, IPV6_V6ONLY off)  -> OK
//   "0.0.0.0:P"  IPv4 only                                                        -> OK for
//   Families::kIpv4 127.0.0.1 / ::1                 never (packets from a pod interface are not
//   delivered to loopback) a specific node address         only the pods behind that one interface:
//   refused as a trap
//
//   WIMS_RETURN_IF_ERROR(check_redirect_listener("::", 8980, Families::kBoth));
//
// Pure function; thread-safe; no I/O.
#pragma once

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "netguard/ruleset.h"

namespace wims::netguard {

// OK if a TCP listener bound to `bound_address` (a literal IPv4/IPv6 address as bound, without
// brackets or port) and `port` receives redirected pod traffic for `families`; otherwise
// FailedPrecondition saying why and what to listen on instead (InvalidArgument for an unparsable
// address or port 0).
absl::Status check_redirect_listener(std::string_view bound_address, uint16_t port,
                                     Families families);

}  // namespace wims::netguard
