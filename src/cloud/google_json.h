// Small helpers shared by the embedded cloud's Google handlers for request bodies and responses in
// Google's JSON conventions (proto3 JSON mapping): parse a body as an object, read typed fields
// with Google's "Invalid JSON payload received" messages, and build JSON responses.
// Free functions; stateless and thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "http/request.h"

namespace wims::cloud {

// The request body as a JSON object; an empty (or all-whitespace) body is {}. INVALID_ARGUMENT
// "Invalid JSON payload received. ..." otherwise.
absl::StatusOr<boost::json::object> parse_json_body(const http::Request& request);

// INVALID_ARGUMENT `Invalid JSON payload received. Unknown name "x": Cannot find field.` for the
// first member of `object` not in `allowed`.
absl::Status check_known_fields(const boost::json::object& object,
                                const std::vector<std::string_view>& allowed);

// Typed optional fields: nullopt when absent or null, INVALID_ARGUMENT on the wrong type.
absl::StatusOr<std::optional<std::string>> optional_string_field(const boost::json::object& object,
                                                                 std::string_view name);
absl::StatusOr<std::optional<bool>> optional_bool_field(const boost::json::object& object,
                                                        std::string_view name);
// An integer (a JSON integer, an integral number, or a decimal string, as proto3 JSON allows).
absl::StatusOr<std::optional<int64_t>> optional_int_field(const boost::json::object& object,
                                                          std::string_view name);
absl::StatusOr<std::vector<std::string>> string_list_field(const boost::json::object& object,
                                                           std::string_view name);

// A google.protobuf.Duration in JSON form: decimal seconds with up to 9 fractional digits and an
// "s" suffix ("3600s", "1.5s", "-2s"). INVALID_ARGUMENT otherwise.
absl::StatusOr<absl::Duration> parse_proto_duration(std::string_view text);

// Every value of query parameter `name` in `query` (percent-decoded, in order).
std::vector<std::string> query_values(std::string_view query, std::string_view name);

// 200 (or `status`) with `application/json; charset=UTF-8` and the serialized value.
http::Response json_response(const boost::json::value& body, int status = 200);

}  // namespace wims::cloud
