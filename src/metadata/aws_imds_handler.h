// AwsImdsHandler: the node metadata server's AWS EC2 IMDS front end (IMDSv1 and IMDSv2),
// shared/spec/ metadata-protocols.md section B, served to pods identified by their peer address.
// Mounted under `/latest/`.
//
//   auto resolver = WorldCallerResolver::create(*world).value();
//   AwsImdsHandler imds(world, *resolver, aws_broker, SystemClock::instance(),
//   AwsImdsOptions::from_world(*world)); router.add("/latest/", imds);
//
// IMDSv2 session tokens (B1/B2):
//   `PUT /latest/api/token` with `X-aws-ec2-metadata-token-ttl-seconds: N` (decimal, 1..21600;
//   missing or anything else -> 400) -> 200 text/plain, the TTL header echoed, body = the token
//   (metadata/ imds_session_token.h: HMAC-protected, carries its expiry, BOUND TO THE CALLING POD).
//   A PUT carrying `X-Forwarded-For` -> 403; `/latest/api/token/` (any method) -> 403 with an empty
//   text/plain body; another method on the token path -> 405. GETs carry the token in
//   `X-aws-ec2-metadata-token`. Token modes (options.token_mode):
//     kOptional  (default) a tokenless GET is served as IMDSv1; a token that is malformed, expired,
//     or was
//                issued to another pod -> 401;
//     kRequired  the same, and a tokenless GET -> 401;
//     kDisabled  the token API is absent: the PUT -> 403 so clients fall back to IMDSv1; the token
//     header is
//                ignored on GETs.
//   Anything but GET/HEAD on a metadata path -> 405 (`Allow: GET, HEAD`).
//
// Paths (B3; text/plain; listings '\n'-separated without a trailing newline; directories also
// without their slash). Profile kFull:
//   /latest/                      dynamic, meta-data
//   /latest/meta-data/            ami-id, iam/ (only with a role), instance-id, instance-type,
//   placement/ /latest/meta-data/iam/        info, security-credentials/ iam/info
//   {"Code","LastUpdated","InstanceProfileArn","InstanceProfileId"} iam/security-credentials/ the
//   role NAME (after the last '/' of the caller's role ARN) iam/security-credentials/ROLE the 7-key
//   pretty JSON (Code Success, LastUpdated, Type AWS-HMAC,
//                                 AccessKeyId, SecretAccessKey, Token, Expiration;
//                                 `%Y-%m-%dT%H:%M:%SZ`); any other ROLE -> 404
//   placement/availability-zone   the AWS zone (options.availability_zone, else the world's AWS
//   region + "a"),
//                                 with or without a trailing slash (botocore asks with one);
//                                 placement/region
//   /latest/dynamic/instance-identity/document   the 15-key JSON of EC2UG
// Profile kEmulator (the GKE-on-AWS IMDS emulator): only the token API and
// iam/security-credentials[/ROLE]; everything else 404. Unknown paths -> 404 with the XHTML page
// (aws_imds_response.h). A caller without an AWS role: iam/, iam/info and security-credentials/ ->
// 404.
//
// Callers: request.peer -> CallerResolver. NotFound (unknown address) or FailedPrecondition
// (hostNetwork / the node) follow options.unknown_caller: kDeny -> 403 with the resolver's reason
// on every path (the token PUT included); kNodeIdentity -> the node's instance facts, with no AWS
// role (so no credentials). Any other resolver error -> 403 under every policy. A caller never gets
// another pod's identity or token. Broker errors -> imds_error(): NotFound 404,
// PermissionDenied/Unauthenticated/FailedPrecondition 403, ResourceExhausted 429, Unavailable 503,
// ...; never a 200 with partial JSON.
//
// Route labels (request.route): imds.token, imds.rejected (method/header/token-path checks),
// imds.unauthorized (401), imds.denied (caller refused), imds.listing, imds.value,
// imds.credentials, imds.not_found.
//
// Owned by the CLI wiring, which keeps the resolver, credentials and clock alive longer than the
// handler. Thread-safe: handle() runs concurrently on every worker executor; the World snapshot is
// swapped atomically by update_world(); the session-token key is immutable.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "broker/aws_credentials.h"
#include "broker/caller.h"
#include "common/clock.h"
#include "config/world.h"
#include "http/handler.h"
#include "metadata/caller_resolver.h"
#include "metadata/imds_session_token.h"

namespace wims::metadata {

enum class ImdsTokenMode { kOptional, kRequired, kDisabled };
enum class ImdsProfile { kFull, kEmulator };

inline constexpr int64_t kImdsMaxTokenTtlSeconds = 21600;

struct AwsImdsOptions {
  ImdsTokenMode token_mode = ImdsTokenMode::kOptional;
  ImdsProfile profile = ImdsProfile::kFull;
  config::UnknownCallerPolicy unknown_caller = config::UnknownCallerPolicy::kDeny;
  // "us-east-1a". Empty: the world's AWS region (default us-east-1) + "a".
  std::string availability_zone;
  std::string instance_type = "m5.large";
  std::string image_id = "ami-0a1b2c3d4e5f60718";
  std::string architecture = "x86_64";

  // The options World.metadata asks for (the unknown-caller policy), other fields default.
  static AwsImdsOptions from_world(const config::World& world);
};

// "i-" + 17 hex digits of the node id: the instance id IMDS reports for `world`'s node.
std::string aws_instance_id(const config::World& world);

class AwsImdsHandler final : public http::Handler {
 public:
  AwsImdsHandler(std::shared_ptr<const config::World> world, const CallerResolver& resolver,
                 broker::AwsCredentialSource& credentials, const Clock& clock,
                 AwsImdsOptions options);

  boost::asio::awaitable<http::Response> handle(http::Request& request) override;

  // Serves `world`'s account, region and node facts from now on (the resolver is the wiring's).
  void update_world(std::shared_ptr<const config::World> world);

  const AwsImdsOptions& options() const { return options_; }

 private:
  struct Identity {
    broker::Caller caller;
    std::string binding;  // what session tokens are bound to
  };

  // The identity for the resolver's answer about the caller at request.peer.
  absl::StatusOr<Identity> identify(const http::Request& request,
                                    absl::StatusOr<broker::Caller> resolved,
                                    const config::World& world) const;
  boost::asio::awaitable<http::Response> issue_token(http::Request& request,
                                                     const config::World& world);
  boost::asio::awaitable<http::Response> serve(http::Request& request, const config::World& world,
                                               const Identity& identity);
  boost::asio::awaitable<http::Response> serve_credentials(http::Request& request,
                                                           const Identity& identity);
  std::string availability_zone(const config::World& world) const;

  std::atomic<std::shared_ptr<const config::World>> world_;
  const CallerResolver& resolver_;
  broker::AwsCredentialSource& credentials_;
  const Clock& clock_;
  const AwsImdsOptions options_;
  const ImdsSessionTokens tokens_;
  const absl::Time started_;  // iam/info LastUpdated and the identity document's pendingTime
};

}  // namespace wims::metadata
