// CallerResolver: decides who is calling the node metadata server from the connection's peer
// address alone (never from headers). WorldCallerResolver answers from an immutable index over a
// World snapshot: every pod IP (IPv4 and IPv6, any textual form, v4-mapped IPv6 normalised to IPv4)
// -> the pod, its Kubernetes service account, and what the service account's annotations bind it
// to.
//
//   auto resolver = WorldCallerResolver::create(*world);   // InvalidArgument on an unparseable pod
//   IP absl::StatusOr<broker::Caller> caller = resolver->resolve(request.peer);
//
// Refusals, never guesses:
//   NotFound            no pod on this node has the address;
//   FailedPrecondition  the address belongs to a hostNetwork pod (that is, the node itself);
//   PermissionDenied    the address is claimed by two pods (or by a pod and a hostNetwork pod), or
//   the pod's
//                       service account is not defined: a broken world, never resolved to either
//                       side.
//
// resolve_async() is what the front ends call: a resolver whose index is fed live
// (kube::KubeCallerResolver) overrides it to wait, bounded, for an address it does not know yet;
// the default answers resolve() at once.
//
// Owned by the CLI wiring; a WorldCallerResolver is immutable after create(), so resolve() is
// thread-safe and runs on any executor without blocking.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <map>
#include <memory>

#include "absl/status/statusor.h"
#include "broker/caller.h"
#include "config/world.h"

namespace wims::metadata {

class CallerResolver {
 public:
  virtual ~CallerResolver() = default;
  // The caller at `peer`; see the header comment for the error codes.
  virtual absl::StatusOr<broker::Caller> resolve(const boost::asio::ip::address& peer) const = 0;
  // The caller at `peer`, possibly after a bounded wait (on the calling coroutine's executor) for
  // the resolver to learn the address; same error codes. Default: resolve(peer), without
  // suspending.
  virtual boost::asio::awaitable<absl::StatusOr<broker::Caller>> resolve_async(
      boost::asio::ip::address peer) const;
};

class WorldCallerResolver final : public CallerResolver {
 public:
  // Indexes `world` (copied out: the resolver does not keep a reference). InvalidArgument when a
  // pod IP is not an IP literal.
  static absl::StatusOr<std::unique_ptr<WorldCallerResolver>> create(const config::World& world);

  absl::StatusOr<broker::Caller> resolve(const boost::asio::ip::address& peer) const override;

  // Number of addresses that resolve to a caller (for logs and tests).
  size_t resolvable_addresses() const;

 private:
  explicit WorldCallerResolver(
      std::map<boost::asio::ip::address, absl::StatusOr<broker::Caller>> index)
      : index_(std::move(index)) {}

  // Every known address -> its precomputed answer (a Caller or the refusal).
  const std::map<boost::asio::ip::address, absl::StatusOr<broker::Caller>> index_;
};

// The Caller for `pod` in `world` (PermissionDenied when its service account is not defined).
// Exposed for the other front ends and tests.
absl::StatusOr<broker::Caller> caller_for_pod(const config::World& world, const config::Pod& pod);

// `address` with a v4-mapped IPv6 address turned into IPv4; other addresses unchanged.
boost::asio::ip::address normalize_address(const boost::asio::ip::address& address);

}  // namespace wims::metadata
