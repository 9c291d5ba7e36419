// The AWS IMDS emulator sidecar of GKE on AWS ("enable-imds-emulator"), served by wims:
//
//   Pod label       gkemulticloud.googleapis.com/aws-imds-emulator-enabled: "True"   (exactly
//   "True"; any
//                   other value, "true" included, leaves the pod alone, as GKE documents it)
//   Pod annotation  gkemulticloud.googleapis.com/aws-imds-emulator-role-arn:
//   arn:aws:iam::ACCOUNT:role/NAME
//
//   initContainers[0]  wims-imds-emulator-init: `wims netguard sidecar-init --port P --exempt-uid
//   U`, run as
//                      root with capabilities NET_ADMIN and NET_RAW (everything else dropped):
//                      inside the pod's own network namespace it redirects 169.254.169.254:80 (and
//                      fd00:ec2::254) to localhost:P, except the sidecar's own uid U.
//   the sidecar        wims-imds-emulator: `wims sidecar --imds-profile emulator --listen
//   127.0.0.1:P
//                      --listen [::1]:P --role-arn ARN --token-file F [--sts-endpoint URL]
//                      [--region R]` as uid U (non-root, read-only root filesystem, no
//                      capabilities). It serves the emulator profile of IMDS (token API +
//                      iam/security-credentials[/ROLE], IMDSv1 too) with credentials from
//                      AssumeRoleWithWebIdentity on the projected token. Appended to `containers`,
//                      or with options.native_sidecar placed right after the init container as a
//                      native sidecar (restartPolicy: Always, Kubernetes 1.29+), so that later init
//                      containers get credentials as well.
//   volume             wims-imds-emulator-token: projected serviceAccountToken {audience
//                      options.token_audience, expirationSeconds, path "token"}, mounted read-only
//                      into the sidecar only, at /var/run/secrets/wims/imds-emulator.
//
// Refused (InvalidArgument, the pod is not admitted): the label without the annotation, an
// annotation that is not an IAM role ARN, and hostNetwork pods (their network namespace is the
// node's: the init container's rules would redirect the whole node). Works for bare Pods and for
// everything that creates them (Deployments, DaemonSets, Jobs): the webhook sees each Pod.
// Idempotent: containers and the volume are added only when absent by name.
//
// Free functions on plain values: thread-safe; no I/O.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "webhook/mutation_input.h"

namespace wims::webhook {

inline constexpr char kImdsEmulatorInitContainer[] = "wims-imds-emulator-init";
inline constexpr char kImdsEmulatorSidecar[] = "wims-imds-emulator";
inline constexpr char kImdsEmulatorTokenVolume[] = "wims-imds-emulator-token";
inline constexpr char kImdsEmulatorTokenMountPath[] = "/var/run/secrets/wims/imds-emulator";

struct ImdsEmulatorOptions {
  // The wims image both containers run.
  std::string image = "ghcr.io/wims/wims:latest";
  std::string image_pull_policy = "IfNotPresent";
  // localhost port the sidecar serves and the init container redirects to.
  uint16_t port = 8180;
  // The sidecar's uid (exempt from the redirect so it can reach the real endpoint).
  uint32_t sidecar_uid = 1501;
  std::string token_audience = "sts.amazonaws.com";
  int64_t token_expiration_seconds = 86400;
  // Passed to the sidecar when set: the STS endpoint (e.g. the embedded cloud) and the AWS region.
  std::string sts_endpoint = {};
  std::string region = {};
  bool native_sidecar = false;
};

// Mutates `pod` in place; true when it changed anything, false for pods without the label value
// "True". InvalidArgument with a message for the user when the pod asks for the emulator but cannot
// have it.
absl::StatusOr<bool> apply_imds_emulator(boost::json::object& pod, const MutationInput& input,
                                         const ImdsEmulatorOptions& options);

}  // namespace wims::webhook
