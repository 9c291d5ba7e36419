// ServiceAccountTokenReviewer: the seam through which a metadata front end checks a Kubernetes
// service-account token a client presents (TokenReview semantics: signature, issuer, expiry,
// audience, and that the service account and the bound pod still exist). The wiring adapts the
// embedded cloud's cloud::ServiceAccountTokenIssuer::review, or the API server's TokenReview API,
// onto it.
//
// Implementations are thread-safe; review() runs on the caller's executor and must not block it.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace wims::metadata {

struct ReviewedServiceAccountToken {
  std::string namespace_name;  // from "system:serviceaccount:NS:NAME"
  std::string service_account;
  // authentication.kubernetes.io/pod-name and pod-uid of a pod-bound token; empty when not
  // pod-bound.
  std::string pod_name;
  std::string pod_uid;
};

class ServiceAccountTokenReviewer {
 public:
  virtual ~ServiceAccountTokenReviewer() = default;
  // The token's subject when it is a valid service-account token for one of `audiences` (empty: the
  // API server's audiences). Unauthenticated (with the reason) when it is not; Unavailable when the
  // review could not be made.
  virtual boost::asio::awaitable<absl::StatusOr<ReviewedServiceAccountToken>> review(
      std::string token, std::vector<std::string> audiences) = 0;
};

}  // namespace wims::metadata
