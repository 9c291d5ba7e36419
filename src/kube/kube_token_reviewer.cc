#include "kube/kube_token_reviewer.h"

#include "absl/strings/str_split.h"

namespace wims::kube {

absl::StatusOr<metadata::ReviewedServiceAccountToken> reviewed_subject(
    const TokenReviewStatus& status) {
  if (!status.authenticated) {
    return absl::UnauthenticatedError(status.error.empty() ? "the token is not authenticated"
                                                           : status.error);
  }
  std::vector<std::string> parts = absl::StrSplit(status.username, ':');
  if (parts.size() != 4 || parts[0] != "system" || parts[1] != "serviceaccount") {
    return absl::UnauthenticatedError("not a service-account token (user " + status.username + ")");
  }
  metadata::ReviewedServiceAccountToken reviewed{.namespace_name = parts[2],
                                                 .service_account = parts[3]};
  auto first = [&status](const char* key) {
    auto it = status.extra.find(key);
    return it == status.extra.end() || it->second.empty() ? std::string() : it->second.front();
  };
  reviewed.pod_name = first("authentication.kubernetes.io/pod-name");
  reviewed.pod_uid = first("authentication.kubernetes.io/pod-uid");
  return reviewed;
}

boost::asio::awaitable<absl::StatusOr<metadata::ReviewedServiceAccountToken>>
KubeTokenReviewer::review(std::string token, std::vector<std::string> audiences) {
  absl::StatusOr<TokenReviewStatus> status =
      co_await client_.review_token(std::move(token), std::move(audiences));
  if (status.ok()) co_return reviewed_subject(*status);
  // The node's own credentials (or RBAC on tokenreviews) were refused: the caller's token was never
  // judged, so this must not read as "your token is invalid".
  if (absl::IsUnauthenticated(status.status()) || absl::IsPermissionDenied(status.status())) {
    co_return absl::UnavailableError("TokenReview is not available to wims: " +
                                     std::string(status.status().message()));
  }
  co_return status.status();
}

}  // namespace wims::kube
