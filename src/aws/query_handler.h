// AwsQueryHandler: the HTTP front end of the local cloud's AWS side. One http::Handler speaks the
// Query protocol for both IAM and STS: it reads Action and the parameters (form body of a POST, or
// the query string), routes STS actions (AssumeRoleWithWebIdentity, GetCallerIdentity) to
// StsService and IAM actions to IamService, verifies SigV4 where AWS requires it, and renders every
// failure as the documented XML error with its HTTP status.
//
//   AwsQueryHandler aws(iam, sts, clock, {.admin_access_key_id = id, .admin_secret_access_key =
//   secret}); router.add("/", aws);           // a dedicated listener: aws --endpoint-url
//   http://127.0.0.1:PORT router.add("/aws/", aws);       // or a path: aws --endpoint-url
//   http://127.0.0.1:PORT/aws/
//
// The handler ignores the path (the SigV4 canonical URI is taken from the request target as sent),
// so it can be mounted at any prefix; the same endpoint serves `aws iam` and `aws sts`.
// Authentication: IAM calls must be signed (service "iam", any region) by the admin key pair;
// GetCallerIdentity (service "sts") by the admin key or temporary credentials STS issued;
// AssumeRoleWithWebIdentity is unsigned.
//
// Thread-safe (the services are); handle() runs on the connection's executor and never blocks on
// I/O besides the repository.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>

#include "aws/iam_service.h"
#include "aws/sigv4.h"
#include "aws/sts_service.h"
#include "common/clock.h"
#include "http/handler.h"

namespace wims::aws {

struct AwsQueryHandlerOptions {
  std::string admin_access_key_id;
  std::string admin_secret_access_key;
  absl::Duration max_clock_skew = absl::Minutes(15);
};

class AwsQueryHandler final : public http::Handler {
 public:
  // Not owned; all must outlive the handler.
  AwsQueryHandler(IamService& iam, StsService& sts, const Clock& clock,
                  AwsQueryHandlerOptions options);

  boost::asio::awaitable<http::Response> handle(http::Request& request) override;

 private:
  absl::StatusOr<SigV4Identity> authenticate(const http::Request& request, std::string_view service,
                                             bool allow_sessions) const;

  IamService& iam_;
  StsService& sts_;
  AwsQueryHandlerOptions options_;
  SigV4Verifier iam_verifier_;
  SigV4Verifier sts_verifier_;
};

// The transport-neutral SigV4 view of `request` (raw target path and query as sent, all header
// fields, body).
SigV4Request to_sigv4_request(const http::Request& request);

}  // namespace wims::aws
