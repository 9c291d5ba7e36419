// IAM roles for service accounts (IRSA), as aws/amazon-eks-pod-identity-webhook mutates a Pod on
// CREATE (pkg/handler/handler.go at 3bf80a3; shared/spec/cloud-kubernetes-semantics.md section 5):
//
//   ServiceAccount annotations  eks.amazonaws.com/role-arn (required), audience (default
//                               options.audience), sts-regional-endpoints (Go ParseBool),
//                               token-expiration
//   Pod annotations             eks.amazonaws.com/token-expiration (overrides the SA's; below 600
//   -> 600;
//                               a non-integer is ignored), eks.amazonaws.com/skip-containers (CSV)
//
//   For every init container and container not skipped, in this order:
//     AWS_STS_REGIONAL_ENDPOINTS=regional   if absent and regional mode is on
//     AWS_DEFAULT_REGION, AWS_REGION        if neither is present and options.region is set
//     AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE   only if neither is present
//     volumeMount aws-iam-token (read-only) at /var/run/secrets/eks.amazonaws.com/serviceaccount
//                                           if no mount of that name exists
//   Volume aws-iam-token: projected serviceAccountToken {audience, expirationSeconds, path "token"}
//   unless the pod has a volume of that name. Windows pods (nodeSelector kubernetes.io/os=windows)
//   get the token path C:\var\run\secrets\eks.amazonaws.com\serviceaccount\token.
//
// Idempotent: a pod mutated once is left unchanged by a second run. A role ARN that does not look
// like one is used anyway (the EKS webhook only logs it) and reported as a warning.
//
// Free functions on plain values: thread-safe; no I/O.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "webhook/mutation_input.h"

namespace wims::webhook {

inline constexpr char kEksAnnotationPrefix[] = "eks.amazonaws.com/";
inline constexpr char kIrsaTokenVolume[] = "aws-iam-token";
inline constexpr char kIrsaTokenMountPath[] = "/var/run/secrets/eks.amazonaws.com/serviceaccount";
inline constexpr char kIrsaTokenFile[] = "/var/run/secrets/eks.amazonaws.com/serviceaccount/token";
inline constexpr char kIrsaWindowsTokenFile[] =
    "C:\\var\\run\\secrets\\eks.amazonaws.com\\serviceaccount\\token";
inline constexpr int64_t kMinTokenExpirationSeconds = 600;

struct IrsaOptions {
  // --token-audience of the EKS webhook.
  std::string audience = "sts.amazonaws.com";
  // --sts-regional-endpoint: regional mode for service accounts without the annotation.
  bool regional_sts = false;
  // --aws-default-region: AWS_DEFAULT_REGION and AWS_REGION ("" = not injected).
  std::string region = {};
  // --token-expiration.
  int64_t token_expiration_seconds = 86400;
};

// ^arn:aws[a-z0-9-]*:iam::\d{12}:role\/[\w-\/.@+=,]+$ (the EKS webhook's check).
bool is_iam_role_arn(std::string_view arn);

// Go's strconv.ParseBool: 1 t T TRUE true True / 0 f F FALSE false False; nullopt otherwise.
std::optional<bool> parse_go_bool(std::string_view text);

// Mutates `pod` in place; true when it changed anything. Does nothing without a service account
// annotated eks.amazonaws.com/role-arn.
bool apply_irsa(boost::json::object& pod, const MutationInput& input, const IrsaOptions& options,
                Warnings& warnings);

}  // namespace wims::webhook
