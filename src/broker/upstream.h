// Upstream calls shared by the broker's backends (Kubernetes TokenRequest, Google STS, IAM
// Credentials): send one request through an HttpTransport, record it in the upstream metrics, and
// map the answer to Status with one error policy:
//
//   transport failure (connect, timeout)     -> Unavailable
//   400, 401, 403 (the upstream refused)      -> PermissionDenied, carrying the upstream's own
//   message 404                                       -> NotFound 409, 422 (Kubernetes: conflicting
//   state)  -> FailedPrecondition 429                                       -> ResourceExhausted
//   5xx                                       -> Unavailable
//   any other non-2xx                         -> Unknown
//   2xx with a malformed or incomplete body   -> Internal
//
// Messages name the service ("sts: 403: Permission '...' denied ..."). Stateless and thread-safe;
// the coroutine runs on the caller's executor.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "broker/http_transport.h"

namespace wims::broker {

// Called once per upstream call with the service name ("kubernetes", "sts", "iamcredentials") and
// the HTTP status, or 0 when no response arrived. Must be thread-safe; may be empty.
using UpstreamMetrics = std::function<void(std::string_view service, int status)>;

// The Status for a non-2xx answer of `service`, with the message taken from a Google error
// (`{"error":{"message":...}}`), an OAuth error (`{"error":...,"error_description":...}`), a
// Kubernetes Status
// (`{"kind":"Status","message":...}`), or else the start of the body.
absl::Status upstream_error(std::string_view service, int http_status, std::string_view body);

// Sends `request`, records the call, and returns the body of a 2xx response or the mapped error.
boost::asio::awaitable<absl::StatusOr<std::string>> call_upstream(HttpTransport& transport,
                                                                  std::string service,
                                                                  TransportRequest request,
                                                                  UpstreamMetrics metrics);

// Parses a 2xx body as a JSON object; Internal when it is not one.
absl::StatusOr<boost::json::object> parse_json_object(std::string_view service,
                                                      std::string_view body);

// A required string member of a response object; Internal when absent or not a string.
absl::StatusOr<std::string> json_string_member(std::string_view service,
                                               const boost::json::object& object,
                                               std::string_view name);

// application/x-www-form-urlencoded: every byte outside the RFC 3986 unreserved set is
// percent-encoded.
std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace wims::broker
