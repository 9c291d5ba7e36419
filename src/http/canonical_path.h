// Canonical request paths: the one place where the raw path of an HTTP request target becomes the
// percent-decoded path that handlers route on.
//
// Policy (defence against path-confusion bypasses such as CVE-2022-23551): canonicalisation never
// rewrites a path into a different one. It percent-decodes, and rejects every spelling whose
// meaning could differ between wims and a client, a proxy or a handler's prefix check:
//   - the path must start with '/';
//   - invalid percent-escapes, "%00", and encoded '/', '\', '?', '#' are rejected;
//   - raw or decoded control characters (0x00-0x1F, 0x7F) are rejected;
//   - raw characters outside RFC 3986 pchar (space, '"', '<', '>', '\', '^', '`', '{', '|', '}',
//   '[', ']',
//     bytes >= 0x80) are rejected; a backslash gets its own message;
//   - dot segments ("." and ".."), also when spelled "%2e", are rejected;
//   - empty segments ("//") are rejected; a single trailing '/' is kept, because metadata protocols
//     distinguish "/dir" from "/dir/".
// So the only accepted difference between the spelled and the canonical path is percent-decoding.
//
// APIs whose resource names may contain '/' (Cloud Storage object names, spelled "dir%2Ffile.txt")
// opt in with keep_encoded_slash: "%2F" is then accepted but stays "%2F" in the canonical path
// (never a separator), and a decoded '%' is written "%25" so that the two cannot be confused; the
// handler turns
// "%2F" and "%25" in its segment back into '/' and '%'. Listeners of the metadata server never opt
// in. The server answers 400 (plain text, with the message) when this fails.
//
//   canonicalize_path("/computeMetadata/v1/instance/")   -> "/computeMetadata/v1/instance/"
//   canonicalize_path("/a/%7Euser")                      -> "/a/~user"
//   canonicalize_path("/a/../b")                         -> InvalidArgument
//
// Pure function; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace wims::http {

struct CanonicalPathOptions {
  bool keep_encoded_slash = false;
};

// `raw_path` is the path part of an origin-form request target (no '?' or query).
absl::StatusOr<std::string> canonicalize_path(std::string_view raw_path,
                                              CanonicalPathOptions options);
absl::StatusOr<std::string> canonicalize_path(std::string_view raw_path);

}  // namespace wims::http
