// KubeCallerResolver: the metadata::CallerResolver of `wims node`, answering from the PodIndex that
// the Reflector keeps in sync with the Kubernetes API. resolve() reads the current snapshot (never
// blocks); resolve_or_wait() additionally waits, for an address the index does not know yet, until
// the watch delivers it (woken by the publish, not polled), bounded by max_wait: a new pod's first
// request succeeds instead of failing during the few hundred milliseconds between the pod getting
// its IP and the watch event.
//
//   KubeCallerResolver resolver(index);
//   absl::StatusOr<broker::Caller> caller = co_await resolver.resolve_or_wait(request.peer);
//   // the metadata handlers call the same through metadata::CallerResolver::resolve_async(peer)
//
// Error codes are PodIndexSnapshot's (NotFound, FailedPrecondition, PermissionDenied);
// resolve_or_wait only waits on NotFound. Thread-safe; resolve_or_wait runs and resumes on the
// caller's executor and holds no lock while suspended. The PodIndex must outlive the resolver.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "absl/time/time.h"
#include "kube/pod_index.h"
#include "metadata/caller_resolver.h"

namespace wims::kube {

class KubeCallerResolver final : public metadata::CallerResolver {
 public:
  static constexpr absl::Duration kDefaultMaxWait = absl::Milliseconds(500);

  explicit KubeCallerResolver(PodIndex& index, absl::Duration default_max_wait = kDefaultMaxWait)
      : index_(index), default_max_wait_(default_max_wait) {}

  absl::StatusOr<broker::Caller> resolve(const boost::asio::ip::address& peer) const override;
  // The metadata front ends' entry point: resolve_or_wait(peer) with the default bound.
  boost::asio::awaitable<absl::StatusOr<broker::Caller>> resolve_async(
      boost::asio::ip::address peer) const override {
    return resolve_or_wait(std::move(peer), default_max_wait_);
  }

  boost::asio::awaitable<absl::StatusOr<broker::Caller>> resolve_or_wait(
      boost::asio::ip::address peer, absl::Duration max_wait) const;
  boost::asio::awaitable<absl::StatusOr<broker::Caller>> resolve_or_wait(
      boost::asio::ip::address peer) const {
    return resolve_or_wait(std::move(peer), default_max_wait_);
  }

 private:
  PodIndex& index_;
  const absl::Duration default_max_wait_;
};

}  // namespace wims::kube
