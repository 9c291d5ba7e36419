// KubeTokenReviewer: metadata::ServiceAccountTokenReviewer over the API server's TokenReview API,
// for the container-credentials endpoint of `wims node` (the Authorization token a pod presents
// must be a valid service-account token of that pod; metadata/container_credentials_handler.h does
// the comparison).
//
//   KubeTokenReviewer reviewer(*api_client);
//   ContainerCredentialsHandler container(resolver, aws_broker, &reviewer);
//
// Not authenticated (or not a service-account user) -> Unauthenticated with the API server's
// reason. The API call failing -> Unavailable, including when wims' own credentials or RBAC (create
// tokenreviews) are refused: the caller's token was never judged. Thread-safe; review() runs on the
// caller's executor. The ApiClient must outlive the reviewer.
#pragma once

#include "kube/api_client.h"
#include "metadata/service_account_token_reviewer.h"

namespace wims::kube {

class KubeTokenReviewer final : public metadata::ServiceAccountTokenReviewer {
 public:
  explicit KubeTokenReviewer(ApiClient& client) : client_(client) {}

  boost::asio::awaitable<absl::StatusOr<metadata::ReviewedServiceAccountToken>> review(
      std::string token, std::vector<std::string> audiences) override;

 private:
  ApiClient& client_;
};

// The reviewed subject of a TokenReview status (exposed for tests).
absl::StatusOr<metadata::ReviewedServiceAccountToken> reviewed_subject(
    const TokenReviewStatus& status);

}  // namespace wims::kube
