// AWS EC2 IMDS response shapes: every response carries `Server: EC2ws` (BEAM47); values and
// listings are `text/plain` (EC2UG); errors are the XHTML page the AWS EC2 metadata mock serves
// (`<title>404 - Not Found</title>`), with our reason added in a <p> when there is one.
// `imds_error` is the one mapping from a broker absl::Status to an IMDS error response:
//
//   InvalidArgument, OutOfRange                             -> 400
//   PermissionDenied, Unauthenticated, FailedPrecondition   -> 403 (never 401: a 401 tells IMDSv2
//   clients their
//                                                              session token is bad, and they would
//                                                              loop)
//   NotFound                                                -> 404
//   ResourceExhausted                                       -> 429, Retry-After: 1
//   Unavailable                                             -> 503, Retry-After: 1
//   DeadlineExceeded                                        -> 504
//   anything else                                           -> 500
//
// Sources: shared/spec/metadata-protocols.md B1-B3. Stateless, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "http/request.h"

namespace wims::metadata {

inline constexpr char kImdsTextContentType[] = "text/plain";
inline constexpr char kImdsHtmlContentType[] = "text/html";
inline constexpr char kImdsServer[] = "EC2ws";
inline constexpr char kImdsTokenHeader[] = "X-aws-ec2-metadata-token";
inline constexpr char kImdsTokenTtlHeader[] = "X-aws-ec2-metadata-token-ttl-seconds";

// A response with `Server: EC2ws`, the content type and the body.
http::Response imds_response(http::beast_http::status status, std::string_view content_type,
                             std::string body);

// 200 text/plain.
http::Response imds_ok(std::string body);

// The XHTML error page for `status` ("404 - Not Found"), with `message` (HTML-escaped) when not
// empty.
http::Response imds_error_page(http::beast_http::status status, std::string_view message = {});

// The IMDS error response for a non-OK `status` (table above).
http::Response imds_error(const absl::Status& status);

// The pretty JSON EC2 IMDS writes: `{\n  "Key" : "value",\n ... \n}` in the given order; nullopt is
// `null`.
std::string imds_pretty_json(
    const std::vector<std::pair<std::string, std::optional<std::string>>>& fields);

}  // namespace wims::metadata
