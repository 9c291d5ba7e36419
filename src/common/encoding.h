// Byte encodings used by the wire protocols: base64 (standard and URL-safe, unpadded), hex, and
// RFC 3339 / ISO 8601 timestamps. Base64 is OpenSSL's EVP codec; timestamps are absl::FormatTime.
// Stateless and thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace wims {

std::string base64_encode(std::string_view bytes);
absl::StatusOr<std::string> base64_decode(std::string_view text);
// RFC 4648 section 5 alphabet, no padding (JOSE).
std::string base64url_encode(std::string_view bytes);
// Accepts padded or unpadded input.
absl::StatusOr<std::string> base64url_decode(std::string_view text);

std::string hex_encode(std::string_view bytes);

// `text` with & < > " ' replaced by character references, for HTML or XML text and attribute values
// (' becomes &#39;, which both languages read).
std::string markup_escape(std::string_view text);

// `2024-01-02T03:04:05Z` (seconds precision, UTC), the form AWS and botocore require.
std::string format_rfc3339_seconds(absl::Time t);
// RFC 3339 with up to nanosecond fraction, as Google APIs emit (e.g. expireTime).
std::string format_rfc3339(absl::Time t);
// Parses RFC 3339 with optional fraction and a `Z` or numeric offset.
absl::StatusOr<absl::Time> parse_rfc3339(std::string_view text);

}  // namespace wims
