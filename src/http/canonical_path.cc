#include "http/canonical_path.h"

#include "fmt/format.h"

namespace wims::http {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_control(unsigned char c) { return c < 0x20 || c == 0x7f; }

// RFC 3986 pchar minus pct-encoded: unreserved / sub-delims / ":" / "@" (and '/' as the separator).
bool is_raw_path_char(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '-':
    case '.':
    case '_':
    case '~':  // unreserved
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':  // sub-delims
    case '*':
    case '+':
    case ',':
    case ';':
    case '=':
    case ':':
    case '@':
    case '/':
      return true;
    default:
      return false;
  }
}

absl::Status reject(std::string_view why) {
  return absl::InvalidArgumentError(fmt::format("invalid request path: {}", why));
}

}  // namespace

absl::StatusOr<std::string> canonicalize_path(std::string_view raw_path,
                                              CanonicalPathOptions options) {
  if (raw_path.empty() || raw_path.front() != '/') {
    return reject("must start with '/'");
  }
  // Hand-written rather than Boost.URL's decoder because the policy needs to know, per byte,
  // whether it was spelled raw or percent-encoded ("%2F" must be rejected while '/' separates
  // segments).
  std::string out;
  out.reserve(raw_path.size());
  size_t segment_start = 0;  // index in `out` of the current segment's first byte
  auto finish_segment = [&](bool last) -> absl::Status {
    std::string_view segment(out.data() + segment_start, out.size() - segment_start);
    if (segment == "." || segment == "..") return reject("dot segments are not allowed");
    if (segment.empty() && !last) return reject("empty path segments ('//') are not allowed");
    return absl::OkStatus();
  };
  for (size_t i = 0; i < raw_path.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(raw_path[i]);
    if (c == '/') {
      if (i != 0) {
        if (absl::Status s = finish_segment(false); !s.ok()) return s;
      }
      out.push_back('/');
      segment_start = out.size();
      continue;
    }
    if (c == '%') {
      if (i + 2 >= raw_path.size() || hex_value(raw_path[i + 1]) < 0 ||
          hex_value(raw_path[i + 2]) < 0) {
        return reject("invalid percent-escape");
      }
      unsigned char decoded =
          static_cast<unsigned char>(hex_value(raw_path[i + 1]) * 16 + hex_value(raw_path[i + 2]));
      i += 2;
      if (decoded == 0) return reject("encoded NUL (%00) is not allowed");
      if (options.keep_encoded_slash && (decoded == '/' || decoded == '%')) {
        out += decoded == '/' ? "%2F" : "%25";
        continue;
      }
      if (decoded == '/' || decoded == '\\' || decoded == '?' || decoded == '#') {
        return reject(fmt::format("encoded '{}' is not allowed", static_cast<char>(decoded)));
      }
      if (is_control(decoded)) return reject("encoded control characters are not allowed");
      out.push_back(static_cast<char>(decoded));
      continue;
    }
    if (c == '\\') return reject("backslashes are not allowed");
    if (is_control(c)) return reject("control characters are not allowed");
    if (!is_raw_path_char(c)) {
      if (c >= 0x80) return reject("non-ASCII bytes must be percent-encoded");
      return reject(fmt::format("character '{}' must be percent-encoded", static_cast<char>(c)));
    }
    out.push_back(static_cast<char>(c));
  }
  if (absl::Status s = finish_segment(true); !s.ok()) return s;
  return out;
}

absl::StatusOr<std::string> canonicalize_path(std::string_view raw_path) {
  return canonicalize_path(raw_path, CanonicalPathOptions{});
}

}  // namespace wims::http
