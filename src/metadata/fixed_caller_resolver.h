// FixedCallerResolver: the CallerResolver of a metadata server that runs INSIDE the one pod it
// serves (the IMDS emulator sidecar, `wims sidecar`). Every legitimate caller is a process of that
// pod, so every accepted peer resolves to the same fixed broker::Caller; the question is only
// whether the connection came from inside the pod's network namespace:
//
//   - loopback peers (127.0.0.0/8, ::1; v4-mapped forms normalised) are the pod;
//   - so is a peer holding one of the network namespace's own addresses: a request to
//   169.254.169.254:80
//     that `wims netguard sidecar-init` redirected to localhost keeps the source address the kernel
//     chose for the original route (the pod IP), see shared/spec/imds-netfilter.md ("the pod source
//     IP survives");
//   - anything else (a listener bound beyond loopback by mistake, a forwarded packet) is refused
//   with
//     PermissionDenied, which the front ends answer 403 under every unknown-caller policy. Never
//     guessed.
//
//   FixedCallerResolver resolver(caller);   // is_local: the interfaces of this network namespace
//   absl::StatusOr<broker::Caller> c = resolver.resolve(request.peer);
//
// Thread-safe: immutable after construction; `is_local` must be thread-safe (the default calls
// getifaddrs(3), which is, once per request from a non-loopback peer, without blocking).
#pragma once

#include <boost/asio/ip/address.hpp>
#include <functional>

#include "absl/status/statusor.h"
#include "broker/caller.h"
#include "metadata/caller_resolver.h"

namespace wims::metadata {

// True when `address` is assigned to an interface of the calling thread's network namespace
// (getifaddrs).
bool is_local_interface_address(const boost::asio::ip::address& address);

class FixedCallerResolver final : public CallerResolver {
 public:
  using LocalAddressCheck = std::function<bool(const boost::asio::ip::address&)>;

  explicit FixedCallerResolver(broker::Caller caller,
                               LocalAddressCheck is_local = is_local_interface_address)
      : caller_(std::move(caller)), is_local_(std::move(is_local)) {}

  // The fixed caller for a loopback or local peer; PermissionDenied naming the peer otherwise.
  absl::StatusOr<broker::Caller> resolve(const boost::asio::ip::address& peer) const override;

  const broker::Caller& caller() const { return caller_; }

 private:
  const broker::Caller caller_;
  const LocalAddressCheck is_local_;
};

}  // namespace wims::metadata
