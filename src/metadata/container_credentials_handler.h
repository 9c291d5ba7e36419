// ContainerCredentialsHandler: the EKS Pod Identity / ECS style container-credentials endpoint, so
// SDKs configured with `AWS_CONTAINER_CREDENTIALS_FULL_URI=http://HOST:PORT/v1/credentials` and
// `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` get the pod's AWS role credentials (spec B4, HTTPP).
//
//   ContainerCredentialsHandler container(*resolver, aws_broker, &reviewer,
//   ContainerCredentialsOptions{}); router.add("/v1/credentials", container);
//
// `GET /v1/credentials` (HEAD too; other methods 405; other paths 404) with `Authorization: <raw
// token>`:
//   200 application/json {"AccessKeyId","SecretAccessKey","Token","AccountId","Expiration"}
//   (Expiration
//   `%Y-%m-%dT%H:%M:%SZ`, AccountId from the assumed-role ARN).
// Errors are JSON `{"Code":..,"Message":..}` (the fromHttp provider surfaces them):
//   missing or empty Authorization -> 401 (Code "Unauthorized"); over options.max_token_bytes or
//   with CR/LF -> 400; a token the reviewer refuses -> 401; a token for another pod or service
//   account -> 403; an unknown caller address, a hostNetwork pod or a broken world -> 403 (this
//   endpoint never serves a node identity); broker errors: NotFound (no AWS role) 404,
//   PermissionDenied/Unauthenticated/FailedPrecondition 403, ResourceExhausted 429, Unavailable 503
//   (Retry-After: 1), others 500.
//
// Who the caller is. The identity ALWAYS comes from the peer address (CallerResolver), as on every
// other metadata path; the Authorization token is a second factor on top:
//   - with a reviewer (the design the wiring should use): the token must be a valid service-account
//   token
//     for options.audiences (default `pods.eks.amazonaws.com`, what EKS Pod Identity projects)
//     whose service account is the calling pod's, and, when it is pod-bound (projected tokens
//     always are), whose bound pod uid is the calling pod's uid. So a token stolen from another pod
//     is useless from here, and a pod cannot present its own token from another pod's address.
//   - without one (reviewer == nullptr): the header is only required to be present and well-formed,
//   and the
//     identity is the peer address's. Weaker, documented, for setups without a TokenReview path.
//
// Thread-safe: handle() runs concurrently on every worker executor; all state is immutable. The
// resolver, credentials and reviewer are owned by the wiring and must outlive the handler.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <string>
#include <vector>

#include "broker/aws_credentials.h"
#include "http/handler.h"
#include "metadata/caller_resolver.h"
#include "metadata/service_account_token_reviewer.h"

namespace wims::metadata {

inline constexpr char kContainerCredentialsPath[] = "/v1/credentials";
inline constexpr char kEksPodIdentityAudience[] = "pods.eks.amazonaws.com";

struct ContainerCredentialsOptions {
  std::vector<std::string> audiences = {kEksPodIdentityAudience};
  size_t max_token_bytes = 16 * 1024;
};

class ContainerCredentialsHandler final : public http::Handler {
 public:
  ContainerCredentialsHandler(const CallerResolver& resolver,
                              broker::AwsCredentialSource& credentials,
                              ServiceAccountTokenReviewer* reviewer,
                              ContainerCredentialsOptions options = {});

  boost::asio::awaitable<http::Response> handle(http::Request& request) override;

 private:
  const CallerResolver& resolver_;
  broker::AwsCredentialSource& credentials_;
  ServiceAccountTokenReviewer* const reviewer_;
  const ContainerCredentialsOptions options_;
};

}  // namespace wims::metadata
