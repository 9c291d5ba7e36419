// AccessTokenCodec: the format of the local Google cloud's OAuth2 access tokens. Tokens are
// self-contained and stateless: "ya29." + base64url(JSON claims) + "." +
// base64url(HMAC-SHA256(secret, everything before the last dot)), keyed by a 32-byte secret
// persisted in the StateStore (namespace "access_token_codec"), so tokens survive a restart and
// nothing is stored per token. The claims say who the token stands for:
//   federated        minted by the local STS for a Kubernetes workload; subject is the principal://
//   id and
//                    `workload` carries the iam::WorkloadIdentity
//   service_account  minted by IAM Credentials (or the metadata server) for a Google service
//   account;
//                    subject is the GSA email
//
//   WIMS_ASSIGN_OR_RETURN(auto codec, cloud::AccessTokenCodec::open(store));   // blocking, once at
//   start std::string token = codec->mint(claims); WIMS_ASSIGN_OR_RETURN(cloud::AccessTokenClaims
//   who, codec->verify(bearer, clock.now()));
//
// Immutable after construction: thread-safe and non-blocking (mint/verify are one HMAC).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "iam/workload_identity.h"
#include "store/state_store.h"

namespace wims::cloud {

enum class AccessTokenKind { kFederated, kServiceAccount };

struct AccessTokenClaims {
  AccessTokenKind kind = AccessTokenKind::kFederated;
  // kFederated:
  // "principal://iam.googleapis.com/projects/NUM/locations/global/workloadIdentityPools/POOL/subject/..."
  // kServiceAccount: "name@project.iam.gserviceaccount.com".
  std::string subject;
  // Set for kFederated tokens.
  std::optional<iam::WorkloadIdentity> workload;
  std::vector<std::string> scopes;
  absl::Time issued_at;   // whole seconds are kept
  absl::Time expires_at;  // whole seconds are kept
};

class AccessTokenCodec {
 public:
  static constexpr char kStoreNamespace[] = "access_token_codec";
  static constexpr char kTokenPrefix[] = "ya29.";
  // Longer bearer strings are rejected before any decoding.
  static constexpr size_t kMaxTokenBytes = 8192;
  static constexpr size_t kSecretBytes = 32;

  // Loads the secret from `store`, creating and persisting a random one on first use. Blocking.
  static absl::StatusOr<std::unique_ptr<AccessTokenCodec>> open(store::StateStore& store);
  // A codec with a given secret (tests, tools).
  explicit AccessTokenCodec(std::string secret) : secret_(std::move(secret)) {}

  std::string mint(const AccessTokenClaims& claims) const;

  // The claims of a token this codec minted. Unauthenticated when it is malformed, forged, minted
  // with another secret, or expired at `now` (now >= expires_at); the message says which.
  absl::StatusOr<AccessTokenClaims> verify(std::string_view token, absl::Time now) const;

 private:
  std::string mac(std::string_view input) const;

  const std::string secret_;
};

}  // namespace wims::cloud
