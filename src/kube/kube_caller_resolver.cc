#include "kube/kube_caller_resolver.h"

#include <chrono>

namespace wims::kube {

absl::StatusOr<broker::Caller> KubeCallerResolver::resolve(
    const boost::asio::ip::address& peer) const {
  return index_.snapshot()->resolve(peer);
}

boost::asio::awaitable<absl::StatusOr<broker::Caller>> KubeCallerResolver::resolve_or_wait(
    boost::asio::ip::address peer, absl::Duration max_wait) const {
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            absl::ToChronoNanoseconds(std::max(max_wait, absl::ZeroDuration())));
  while (true) {
    std::shared_ptr<const PodIndexSnapshot> snapshot = index_.snapshot();
    absl::StatusOr<broker::Caller> answer = snapshot->resolve(peer);
    if (answer.ok() || answer.status().code() != absl::StatusCode::kNotFound ||
        std::chrono::steady_clock::now() >= deadline) {
      co_return answer;
    }
    if (!co_await index_.wait_for_publish(snapshot->generation(), deadline)) co_return answer;
  }
}

}  // namespace wims::kube
