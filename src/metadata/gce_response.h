// GCE metadata server response shapes: the headers every response carries (Metadata-Flavor, Server,
// X-XSS-Protection, X-Frame-Options), the content types, the ETag of a 200, and Google's HTML error
// page. `gce_error` is the one mapping from absl::Status to a GCE error response:
//
//   InvalidArgument, OutOfRange          -> 400 Bad Request
//   PermissionDenied, FailedPrecondition,
//   Unauthenticated                      -> 403 Forbidden (the message is shown)
//   NotFound                             -> 404 Not Found ("The requested URL <code>PATH</code> was
//   not found") ResourceExhausted                    -> 429 Too Many Requests, Retry-After: 1
//   Unimplemented                        -> 501 Not Implemented
//   Unavailable                          -> 503 Service Unavailable, Retry-After: 1
//   DeadlineExceeded                     -> 504 Gateway Timeout
//   anything else                        -> 500 Internal Server Error
//
// Sources: shared/spec/metadata-protocols.md A2/A3 (captures of real GCE pages). Stateless,
// thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "http/request.h"

namespace wims::metadata {

inline constexpr char kGceTextContentType[] = "application/text";
inline constexpr char kGceJsonContentType[] = "application/json";
inline constexpr char kGceHtmlContentType[] = "text/html; charset=UTF-8";
// The message of the 403 for a request without `Metadata-Flavor: Google` (real GCE and the
// emulators).
inline constexpr char kMissingFlavorMessage[] = "Missing Metadata-Flavor:Google header.";

// A response with the GCE headers of A3 and the given content type and body (no ETag).
http::Response gce_response(http::beast_http::status status, std::string_view content_type,
                            std::string body);

// A 200 with the GCE headers and `ETag: gce_etag(body)`.
http::Response gce_ok(std::string_view content_type, std::string body);

// The GCE error response for `status` (must not be OK) on request path `path`: Google's HTML page
// with the HTML-escaped path and message, `text/html; charset=UTF-8`, and the A3 headers.
http::Response gce_error(const absl::Status& status, std::string_view path);

// 405 for a method other than GET/HEAD, with `Allow: GET, HEAD`.
http::Response gce_method_not_allowed(std::string_view path);

// 301 to `location` with body `<path>/\n` (spec A4).
http::Response gce_redirect(std::string_view location, std::string_view body);

// 16 lowercase hex digits identifying `body` (the first 8 bytes of its SHA-256).
std::string gce_etag(std::string_view body);

}  // namespace wims::metadata
