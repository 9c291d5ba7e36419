// AwsBroker: the AwsCredentialSource implementation, doing what an IRSA-enabled AWS SDK does for a
// pod:
//
//   1. a Kubernetes service-account token for the pod, audience `sts.amazonaws.com`
//   (options.audience), from
//      the KsaTokenSource;
//   2. STS AssumeRoleWithWebIdentity over the Query protocol, unsigned:
//      `POST {sts_url}` with `Content-Type: application/x-www-form-urlencoded` and the body
//      `Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=..&RoleSessionName=..&WebIdentityToken=..
//      &DurationSeconds=..`;
//   3. the XML answer read with broker/xml_reader.h: `AssumeRoleWithWebIdentityResult/Credentials/
//      {AccessKeyId,SecretAccessKey,SessionToken,Expiration}` and `AssumedRoleUser/Arn`.
//
// RoleSessionName: `wims-NS-POD` (aws_role_session_name), deterministic per pod, valid for STS
// (`[\w+=,.@-]{2,64}`): other characters become '-', and a name over 64 characters is cut to 55 and
// given
// '-' plus 8 hex digits of the SHA-256 of the untruncated name, so long names stay distinct.
//
// Caching: one TokenCache (broker/token_cache.h) keyed by (pod uid, pod, service account uid, role
// ARN): concurrent misses coalesce into one STS call, the upstream rate is bounded, entries are
// refreshed in the background ahead of expiry. Defaults differ from the Google caches on purpose:
// `min_remaining` 10 min (botocore's mandatory-refresh window, so clients never see credentials
// they consider stale, and well over the 5 minutes IMDS promises) and `refresh_ahead` 20 min, with
// DurationSeconds 3600.
//
// Errors (STS `<ErrorResponse><Error><Code>` and HTTP status):
//   no role on the caller                          -> NotFound
//   malformed role ARN                             -> FailedPrecondition
//   transport failure, 5xx, IDPCommunicationError  -> Unavailable
//   429, Throttling                                -> ResourceExhausted
//   AccessDenied, IDPRejectedClaim                 -> PermissionDenied
//   InvalidIdentityToken, ExpiredTokenException    -> Unauthenticated
//   any other 4xx (ValidationError, ...)           -> FailedPrecondition
//   2xx with an unreadable or incomplete body      -> Internal
// Messages read "sts: CODE: MESSAGE". Each STS call is reported to `metrics` as ("aws-sts", HTTP
// status or 0).
//
// Thread-safe; calls run on the caller's executor (fetches on the executor of the request that
// started them). The KsaTokenSource, transport and clock must outlive the broker.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "broker/aws_credentials.h"
#include "broker/http_transport.h"
#include "broker/ksa_token_source.h"
#include "broker/token_cache.h"
#include "broker/upstream.h"
#include "common/clock.h"

namespace wims::broker {

inline constexpr char kAwsStsAudience[] = "sts.amazonaws.com";
inline constexpr char kAwsGlobalStsUrl[] = "https://sts.amazonaws.com/";

// "https://sts.REGION.amazonaws.com/" (the global endpoint when `region` is empty).
std::string aws_regional_sts_url(std::string_view region);

// The RoleSessionName for a pod (rules in the header comment).
std::string aws_role_session_name(std::string_view namespace_name, std::string_view pod_name);

// The Status for a non-2xx STS answer (the table in the header comment); `body` may be any text.
absl::Status aws_sts_error(int http_status, std::string_view body);

// Parses a 2xx AssumeRoleWithWebIdentity answer; Internal when it is not the documented shape.
// `last_updated` is copied into the result.
absl::StatusOr<AwsCredentials> parse_assume_role_with_web_identity(std::string_view body,
                                                                   absl::Time last_updated);

struct AwsBrokerOptions {
  // The full STS URL requests are POSTed to: the real global or regional endpoint, or the local
  // cloud's `http://CLOUD/aws/sts/` in `wims up`.
  std::string sts_url = kAwsGlobalStsUrl;
  std::string audience = kAwsStsAudience;
  absl::Duration duration = absl::Hours(1);  // DurationSeconds; STS accepts 900..43200
  absl::Duration request_timeout = absl::Seconds(10);
  size_t body_limit = 64 * 1024;  // STS answers are a few KiB; this is also the XML reader's limit
  TokenCache::Options cache = default_cache_options();

  static TokenCache::Options default_cache_options() {
    TokenCache::Options options;
    options.min_remaining = absl::Minutes(10);
    options.refresh_ahead = absl::Minutes(20);
    return options;
  }
};

class AwsBroker final : public AwsCredentialSource {
 public:
  AwsBroker(AwsBrokerOptions options, KsaTokenSource& ksa_tokens, HttpTransport& transport,
            const Clock& clock, UpstreamMetrics metrics = {}, TokenCache::RandomSource random = {});

  boost::asio::awaitable<absl::StatusOr<AwsCredentials>> credentials(const Caller& caller) override;

  TokenCacheStats stats() const { return cache_.stats(); }
  const AwsBrokerOptions& options() const { return options_; }

 private:
  boost::asio::awaitable<absl::StatusOr<CachedCredential>> assume_role(Caller caller,
                                                                       std::string role_arn);

  const AwsBrokerOptions options_;
  KsaTokenSource& ksa_tokens_;
  HttpTransport& transport_;
  const Clock& clock_;
  UpstreamMetrics metrics_;
  TokenCache cache_;
};

}  // namespace wims::broker
