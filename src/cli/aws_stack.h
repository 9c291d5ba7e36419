// AwsStack: the AWS side of `wims up` — the local IAM and STS (Query protocol, persisted in the
// state store), their admin key pair, and the seed that makes the world's role ARNs usable at once:
// an OIDC provider for the embedded issuer (client id sts.amazonaws.com and the EKS Pod Identity
// audience) and, for every role ARN a service account or pod names that does not exist yet, a role
// whose trust policy admits exactly those service accounts. Also an in-process
// ServiceAccountTokenReviewer for the container-credentials endpoint. Built once at start
// (blocking); the handler is thread-safe.
//
// Web identity tokens of the embedded issuer are checked against the in-process signing keys;
// tokens of any other issuer (an OIDC provider registered with `aws iam
// create-open-id-connect-provider` for an external cluster or IdP) go to HttpJwksTokenVerifier,
// which fetches that issuer's discovery document and JWKS; the World's external cluster issuer
// (cluster.jwksUrl / jwksFile) is checked against its configured keys.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "aws/http_jwks_token_verifier.h"
#include "aws/iam_service.h"
#include "aws/key_source_token_verifier.h"
#include "aws/persistent_aws_state_repository.h"
#include "aws/query_handler.h"
#include "aws/sts_service.h"
#include "cloud/issuer_key_source.h"
#include "cloud/service_account_token_issuer.h"
#include "cloud/signing_key_ring.h"
#include "common/clock.h"
#include "config/world.h"
#include "http/client.h"
#include "metadata/service_account_token_reviewer.h"
#include "store/state_store.h"

namespace wims::cli {

struct AwsStack {
  std::string admin_access_key_id;
  std::string admin_secret_access_key;
  std::unique_ptr<aws::PersistentAwsStateRepository> repository;
  // External issuers (declared before `verifier`, which points at it).
  std::unique_ptr<http::Client> http_client;
  std::unique_ptr<aws::HttpJwksTokenVerifier> external_verifier;
  // The World's external cluster issuer (cluster.jwksUrl / jwksFile), when configured; falls back
  // to external_verifier.
  std::unique_ptr<aws::OidcTokenVerifier> cluster_verifier;
  std::unique_ptr<aws::KeySourceTokenVerifier> verifier;
  std::unique_ptr<aws::IamService> iam;
  std::unique_ptr<aws::StsService> sts;
  std::unique_ptr<aws::AwsQueryHandler> handler;

  // Flushes pending state writes.
  void stop();
};

// `embedded_issuer_url`: the URL of the embedded issuer whose keys `ring` holds (empty: the World's
// cluster issuer). `external_issuer_keys` (not owned; may be nullptr): the keys of the World's
// cluster issuer when it is an external one (World cluster.jwksUrl / jwksFile); then both issuers
// get an OIDC provider and the seeded roles trust both.
absl::StatusOr<std::unique_ptr<AwsStack>> open_aws_stack(
    store::StateStore& store, const config::World& world, const cloud::SigningKeyRing& ring,
    const Clock& clock, std::string embedded_issuer_url = "",
    const cloud::IssuerKeySource* external_issuer_keys = nullptr);

// TokenReview through the in-process issuer.
class IssuerTokenReviewer final : public metadata::ServiceAccountTokenReviewer {
 public:
  explicit IssuerTokenReviewer(const cloud::ServiceAccountTokenIssuer& issuer) : issuer_(issuer) {}
  boost::asio::awaitable<absl::StatusOr<metadata::ReviewedServiceAccountToken>> review(
      std::string token, std::vector<std::string> audiences) override;

 private:
  const cloud::ServiceAccountTokenIssuer& issuer_;
};

}  // namespace wims::cli
