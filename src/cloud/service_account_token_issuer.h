// ServiceAccountTokenIssuer: the cluster's service-account token issuer, minting and reviewing
// tokens the way kube-apiserver's TokenRequest and TokenReview do
// (pkg/registry/core/serviceaccount/storage/token.go, pkg/serviceaccount/claims.go): same
// validation order and messages, same claims.
//
//   cloud::TokenRequestSpec spec{.namespace_name = "default", .service_account = "demo",
//                                .audiences = {"sts.amazonaws.com"}};
//   WIMS_ASSIGN_OR_RETURN(cloud::IssuedToken token, issuer.issue(spec));
//   cloud::TokenReviewResult review = issuer.review(token.token, {"sts.amazonaws.com"});
//
// Error codes of `issue`, which front ends map to Kubernetes Status responses:
//   kNotFound           404 NotFound    service account / bound object missing ("serviceaccounts
//   \"x\" not found") kInvalidArgument    422 Invalid     field validation
//   ("spec.expirationSeconds: Invalid value: 599: ...") kFailedPrecondition 400 BadRequest  "cannot
//   bind token to object of type ...", pod of another SA kAborted            409 Conflict    bound
//   object uid mismatch
// The Status message is the full Kubernetes message (e.g. for 422
// "TokenRequest.authentication.k8s.io \"\" is invalid: spec.expirationSeconds: Invalid value: 599:
// may not specify a duration less than 10 minutes").
//
// Reads the cluster through the injected World snapshot provider and time through the injected
// Clock. Thread-safe and non-blocking (an RS256 signature is ~1 ms of CPU): callable from any I/O
// worker.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cloud/signing_key_ring.h"
#include "common/clock.h"
#include "config/world.h"

namespace wims::cloud {

// The current World; called once per request, must be thread-safe and cheap.
using WorldProvider = std::function<std::shared_ptr<const config::World>()>;

struct BoundObjectRef {
  std::string kind;         // "Pod", "Secret" or "Node"
  std::string api_version;  // "v1"
  std::string name;
  std::string uid;  // optional; when set it must match the object's
};

struct TokenRequestSpec {
  std::string namespace_name;
  std::string service_account;
  std::vector<std::string> audiences;         // empty: the issuer's default audiences
  std::optional<int64_t> expiration_seconds;  // unset: 3600
  std::optional<BoundObjectRef> bound_object_ref;
};

struct IssuedToken {
  std::string token;
  // Kubernetes status.expirationTimestamp: iat + the (possibly shortened) requested expiration.
  absl::Time expiration_timestamp;
  // The spec as the API server echoes it: defaulted audiences and the effective expirationSeconds.
  std::vector<std::string> audiences;
  int64_t expiration_seconds = 0;
};

struct UserInfo {
  std::string username;  // "system:serviceaccount:NS:NAME"
  std::string uid;       // the service account's uid
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> extra;
};

struct TokenReviewResult {
  bool authenticated = false;
  std::vector<std::string>
      audiences;  // the intersection of the token's and the requested audiences
  UserInfo user;
  std::string error;  // set when !authenticated
};

struct ServiceAccountTokenIssuerOptions {
  // The issuer URL, the `iss` of every token ("http://127.0.0.1:PORT/oidc/CLUSTER").
  std::string issuer_url;
  // The API server's audiences (--api-audiences): the default for empty spec.audiences and for
  // reviews without audiences. Empty: {issuer_url}.
  std::vector<std::string> api_audiences;
  // --service-account-max-token-expiration: longer requests are shortened to this. Must not exceed
  // the key ring's max_token_lifetime.
  absl::Duration max_expiration = absl::Hours(48);
  // --service-account-extend-token-expiration: pod-bound tokens for the API audiences requested
  // with the 3607 s warn-only marker get a 1-year exp and `warnafter`. Off by default, because a
  // 1-year token outlives the key ring's default publication window and fails Google STS's 48 h
  // rule.
  bool extend_expiration = false;
};

class ServiceAccountTokenIssuer {
 public:
  static constexpr int64_t kDefaultExpirationSeconds = 3600;
  static constexpr int64_t kMinExpirationSeconds = 600;
  static constexpr int64_t kMaxExpirationSeconds = int64_t{1} << 32;
  static constexpr int64_t kWarnOnlyExpirationSeconds = 3607;
  static constexpr int64_t kExtendedExpirationSeconds = 365 * 24 * 60 * 60;

  // `ring` and `clock` must outlive the issuer.
  ServiceAccountTokenIssuer(ServiceAccountTokenIssuerOptions options, const SigningKeyRing& ring,
                            WorldProvider world, const Clock& clock);

  const std::string& issuer_url() const { return options_.issuer_url; }
  const std::vector<std::string>& api_audiences() const { return api_audiences_; }

  // TokenRequest. Errors as in the table at the top of this file.
  absl::StatusOr<IssuedToken> issue(const TokenRequestSpec& spec) const;

  // TokenReview: signature (a published ring key), issuer, time (1 minute leeway, as go-jose),
  // audience intersection with `audiences` (empty: the API audiences), and that the service account
  // and the bound pod or secret still exist with the same uids. Never fails: errors are in the
  // result.
  TokenReviewResult review(std::string_view token, const std::vector<std::string>& audiences) const;

 private:
  ServiceAccountTokenIssuerOptions options_;
  std::vector<std::string> api_audiences_;
  const SigningKeyRing& ring_;
  WorldProvider world_;
  const Clock& clock_;
};

}  // namespace wims::cloud
