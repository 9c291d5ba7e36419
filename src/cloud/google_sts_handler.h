// GoogleStsHandler: the embedded cloud's Google Security Token Service, `POST /v1/token` (RFC 8693
// token exchange, as sts.googleapis.com): a Kubernetes service-account token of the cluster is
// exchanged for a federated access token (1 h) minted by the AccessTokenCodec.
//
//   POST /v1/token  Content-Type: application/x-www-form-urlencoded (or application/json, camelCase
//   or
//                   snake_case names), no Authorization header
//     grant_type=urn:ietf:params:oauth:grant-type:token-exchange
//     requested_token_type=urn:ietf:params:oauth:token-type:access_token
//     subject_token_type=urn:ietf:params:oauth:token-type:jwt (or :id_token)
//     subject_token=<JWT>   scope=<space separated; default cloud-platform>   options=<URL-encoded
//     JSON>
//     audience=identitynamespace:PROJECT.svc.id.goog:https://container.googleapis.com/v1/projects/P/
//                  locations/L/clusters/C                                        (GKE form)
//            | //iam.googleapis.com/projects/NUM/locations/global/workloadIdentityPools/
//                  PROJECT.svc.id.goog/providers/PROVIDER                        (provider form)
//   200 {"access_token","issued_token_type":"urn:ietf:params:oauth:token-type:access_token",
//        "token_type":"Bearer","expires_in":3599}
//
// The embedded cloud has one pool (World::workload_identity_pool()) with one provider, named after
// the cluster by default, trusting the cluster's issuer. The subject JWT must be signed
// (RS256/ES256, by kid) by a key the issuer publishes (IssuerKeySource), with iss = the cluster
// issuer, aud containing the pool (GKE form) or the provider's resource name (provider form,
// "//..." or "https://..."), iat in the past, exp in the future, exp - iat under 48 h, sub
// "system:serviceaccount:NS:KSA" (at most 127 characters) of a KSA that exists in the World (with
// the token's uid when it carries one).
//
// An external cluster issuer (World cluster.issuerUrl with cluster.jwksUrl or jwksFile): the STS
// trusts both that issuer and the embedded one (options.issuer_url; `keys` must serve both, e.g.
// an IssuerKeySourceChain). Tokens of the external issuer are mapped from their own claims, as
// sts.googleapis.com does: their KSA need not be in the World (it describes this machine, not the
// real cluster), and the uid is the token's.
//
// Errors are RFC 6749 JSON {"error","error_description"} with status 400: invalid_request
// (parameters, including the documented "Invalid value for \"audience\"..." text), invalid_grant
// (the subject token: malformed, signature, kid, issuer, audience, time), unauthorized_client (the
// documented "rejected by the attribute condition", e.g. a KSA that no longer exists). Over the
// per-project quota (World google.sts_exchanges_per_minute per one-minute window) the answer is 429
// (see the .cc for the body). Other paths 404, other methods 405.
//
// Owned by the cloud wiring; `keys`, `codec` and `clock` must outlive it. Thread-safe: handle()
// runs on every worker at once; the only shared mutable state is the quota counter, under a mutex
// never held across co_await.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "cloud/access_token_codec.h"
#include "cloud/issuer_key_source.h"
#include "cloud/service_account_token_issuer.h"
#include "common/clock.h"
#include "http/handler.h"

namespace wims::cloud {

struct GoogleStsHandlerOptions {
  // The embedded issuer ("http://127.0.0.1:PORT/oidc/CLUSTER"): the `iss` subject tokens must
  // have when World cluster.issuer_url is empty, and a second trusted issuer when the World's
  // cluster issuer is external.
  std::string issuer_url;
  // The provider id of the provider form; empty: the cluster name.
  std::string provider_id;
  // Lifetime of the minted access tokens.
  absl::Duration token_lifetime = absl::Hours(1);
};

class GoogleStsHandler final : public http::Handler {
 public:
  static constexpr char kPath[] = "/v1/token";
  static constexpr char kTokenExchangeGrant[] = "urn:ietf:params:oauth:grant-type:token-exchange";
  static constexpr char kAccessTokenType[] = "urn:ietf:params:oauth:token-type:access_token";
  static constexpr char kJwtTokenType[] = "urn:ietf:params:oauth:token-type:jwt";
  static constexpr char kIdTokenType[] = "urn:ietf:params:oauth:token-type:id_token";
  static constexpr char kCloudPlatformScope[] = "https://www.googleapis.com/auth/cloud-platform";
  static constexpr char kInvalidAudienceMessage[] =
      "Invalid value for \"audience\". This value should be the full resource name of the Identity "
      "Provider. See https://cloud.google.com/iam/docs/reference/sts/rest/v1/TopLevel/token for "
      "the list "
      "of possible formats.";
  static constexpr char kAttributeConditionMessage[] =
      "The given credential is rejected by the attribute condition.";
  static constexpr char kThrottledMessage[] =
      "[Security Token Service] The request was throttled due to rate limit. Please retry after a "
      "few "
      "seconds.";
  // The longest accepted exp - iat of a subject token (exclusive), and the tolerated clock skew for
  // iat and nbf in the future.
  static constexpr absl::Duration kMaxSubjectLifetime = absl::Hours(48);
  static constexpr absl::Duration kClockSkew = absl::Seconds(30);
  // google.subject (the token's sub) limit.
  static constexpr size_t kMaxSubjectLength = 127;

  GoogleStsHandler(GoogleStsHandlerOptions options, WorldProvider world,
                   const IssuerKeySource& keys, const AccessTokenCodec& codec, const Clock& clock);

  boost::asio::awaitable<http::Response> handle(http::Request& request) override;

 private:
  // Counts one exchange for `project_number` at `now`; false when the project's window is full.
  bool acquire_quota(int64_t project_number, int limit, absl::Time now);

  GoogleStsHandlerOptions options_;
  WorldProvider world_;
  const IssuerKeySource& keys_;
  const AccessTokenCodec& codec_;
  const Clock& clock_;

  struct QuotaWindow {
    absl::Time start = absl::InfinitePast();
    int count = 0;
  };
  std::mutex quota_mu_;
  std::map<int64_t, QuotaWindow> quota_ ABSL_GUARDED_BY(quota_mu_);
};

}  // namespace wims::cloud
