// GoogleBroker: the GoogleCredentials implementation, doing what the GKE metadata server does for a
// pod:
//
//   1. a Kubernetes service-account token for the pod, audience = the workload identity pool
//      ("PROJECT.svc.id.goog"), from the KsaTokenSource;
//   2. an RFC 8693 token exchange at the Security Token Service (`POST {sts_url}/v1/token`,
//   form-encoded, no
//      Authorization) with audience `identitynamespace:POOL:CLUSTER_URL`, giving a federated access
//      token;
//   3. when the service account is annotated `iam.gke.io/gcp-service-account`, impersonation
//   through the IAM
//      Credentials API (`POST
//      {iam_credentials_url}/v1/projects/-/serviceAccounts/EMAIL:generateAccessToken`,
//      `Authorization: Bearer <federated>`); otherwise the federated token itself is the answer.
//   ID tokens: `...:generateIdToken` with {"audience","includeEmail"}; NotFound without a Google
//   service account.
//
// Caches (broker/token_cache.h, each with `cache` options): federated tokens per workload identity
// and scope set; impersonated access tokens per workload identity, Google service account and scope
// set; ID tokens per workload identity, Google service account, audience and format, until shortly
// before their `exp`. The workload identity is part of every key because IAM authorizes each
// Kubernetes service account separately.
//
// Errors (broker/upstream.h): 400/401/403 -> PermissionDenied with the upstream's message, 404 ->
// NotFound, 429 -> ResourceExhausted, 5xx or no response -> Unavailable, malformed JSON ->
// Internal; plus the cache's ResourceExhausted over its rate or waiter bounds. Each upstream call
// is reported to `metrics` as
// ("sts" | "iamcredentials", HTTP status or 0).
//
// Thread-safe; calls run on the caller's executor (fetches on the executor of the request that
// started them). The KsaTokenSource, transport and clock must outlive the broker.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "broker/google_credentials.h"
#include "broker/http_transport.h"
#include "broker/ksa_token_source.h"
#include "broker/token_cache.h"
#include "broker/upstream.h"
#include "common/clock.h"

namespace wims::broker {

inline constexpr char kCloudPlatformScope[] = "https://www.googleapis.com/auth/cloud-platform";

// The node's Compute Engine facts for `identity?format=full` ID tokens. The real iamcredentials API
// derives these itself (and rejects unknown request fields), so they are sent only to the embedded
// cloud, as its documented `wimsComputeEngine` / `wimsLicenses` extension
// (cloud/iam_credentials_handler.h), which checks them against its World.
struct ComputeEngineFacts {
  std::string project_id;
  int64_t project_number = 0;
  std::string zone;
  std::string instance_id;
  std::string instance_name;
  int64_t instance_creation_timestamp = 0;  // Unix seconds
  std::vector<std::string> license_ids;
};

struct GoogleBrokerOptions {
  // Base URLs without a trailing slash; the embedded cloud's URL in `wims up`.
  std::string sts_url = "https://sts.googleapis.com";
  std::string iam_credentials_url = "https://iamcredentials.googleapis.com";
  int64_t project_number = 0;
  std::string pool;  // "PROJECT_ID.svc.id.goog"
  std::string
      cluster_url;  // "https://container.googleapis.com/v1/projects/P/locations/L/clusters/C"
  // A workload identity pool provider instead of the GKE pool (self-managed clusters on the real
  // Google Cloud): "projects/NUM/locations/global/workloadIdentityPools/POOL/providers/PROVIDER".
  // The STS audience is then "//iam.googleapis.com/" + provider and the pod's token is requested
  // for the provider's default audience "https://iam.googleapis.com/" + provider. Empty: GKE's
  // "identitynamespace:POOL:CLUSTER_URL", with the pod token's audience POOL.
  std::string workload_identity_provider;
  std::string default_scope = kCloudPlatformScope;
  // generateAccessToken "lifetime"; the API caps it at 1 h without an org policy.
  absl::Duration access_token_lifetime = absl::Hours(1);
  absl::Duration request_timeout = absl::Seconds(10);
  size_t body_limit = 1 << 20;
  TokenCache::Options cache;
  // Set only when iam_credentials_url is the embedded cloud (see ComputeEngineFacts).
  std::optional<ComputeEngineFacts> compute_engine;
};

struct GoogleBrokerStats {
  TokenCacheStats federated;
  TokenCacheStats access;
  TokenCacheStats id;
};

class GoogleBroker final : public GoogleCredentials {
 public:
  GoogleBroker(GoogleBrokerOptions options, KsaTokenSource& ksa_tokens, HttpTransport& transport,
               const Clock& clock, UpstreamMetrics metrics = {},
               TokenCache::RandomSource random = {});

  boost::asio::awaitable<absl::StatusOr<AccessToken>> access_token(
      const Caller& caller, std::vector<std::string> scopes) override;
  boost::asio::awaitable<absl::StatusOr<std::string>> id_token(const Caller& caller,
                                                               IdTokenOptions options) override;

  GoogleBrokerStats stats() const;
  const GoogleBrokerOptions& options() const { return options_; }

 private:
  std::string identity_key(const Caller& caller) const;
  boost::asio::awaitable<absl::StatusOr<CachedCredential>> federated_token(
      Caller caller, std::vector<std::string> scopes);
  boost::asio::awaitable<absl::StatusOr<CachedCredential>> exchange(
      Caller caller, std::vector<std::string> scopes);
  boost::asio::awaitable<absl::StatusOr<CachedCredential>> generate_access_token(
      Caller caller, std::string email, std::vector<std::string> scopes);
  boost::asio::awaitable<absl::StatusOr<CachedCredential>> generate_id_token(
      Caller caller, std::string email, IdTokenOptions options);

  const GoogleBrokerOptions options_;
  KsaTokenSource& ksa_tokens_;
  HttpTransport& transport_;
  const Clock& clock_;
  UpstreamMetrics metrics_;
  TokenCache federated_cache_;
  TokenCache access_cache_;
  TokenCache id_cache_;
};

}  // namespace wims::broker
