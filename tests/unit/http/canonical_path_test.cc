#include "http/canonical_path.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace wims::http {
namespace {

struct CanonicalCase {
  std::string raw;
  std::optional<std::string> canonical;  // nullopt: rejected
  std::string error_substring = "";
};

TEST(CanonicalPathTest, Table) {
  const CanonicalCase kCases[] = {
      // Accepted, unchanged.
      {"/", "/"},
      {"/computeMetadata/v1/instance/", "/computeMetadata/v1/instance/"},
      {"/computeMetadata/v1/instance", "/computeMetadata/v1/instance"},
      {"/latest/meta-data/iam/security-credentials/role-name",
       "/latest/meta-data/iam/security-credentials/role-name"},
      {"/sa/svc@proj.iam.gserviceaccount.com/token", "/sa/svc@proj.iam.gserviceaccount.com/token"},
      {"/a/.hidden/...", "/a/.hidden/..."},
      {"/a:b;c=d,e+f!$&'()*", "/a:b;c=d,e+f!$&'()*"},
      // Percent-decoding is the only accepted difference.
      {"/a/%7Euser", "/a/~user"},
      {"/sa/svc%40proj/token", "/sa/svc@proj/token"},
      {"/%61%62c", "/abc"},
      {"/a%20b", "/a b"},
      {"/caf%C3%A9", "/caf\xC3\xA9"},
      // Structure.
      {"", std::nullopt, "start with '/'"},
      {"a/b", std::nullopt, "start with '/'"},
      {"*", std::nullopt, "start with '/'"},
      {"http://x/a", std::nullopt, "start with '/'"},
      {"//", std::nullopt, "empty path segments"},
      {"//etc/passwd", std::nullopt, "empty path segments"},
      {"/a//b", std::nullopt, "empty path segments"},
      {"/a/b//", std::nullopt, "empty path segments"},
      // Dot segments, raw and encoded.
      {"/.", std::nullopt, "dot segments"},
      {"/..", std::nullopt, "dot segments"},
      {"/a/./b", std::nullopt, "dot segments"},
      {"/a/../b", std::nullopt, "dot segments"},
      {"/a/..", std::nullopt, "dot segments"},
      {"/a/../", std::nullopt, "dot segments"},
      {"/a/%2e%2e/b", std::nullopt, "dot segments"},
      {"/a/%2E/b", std::nullopt, "dot segments"},
      {"/a/.%2e", std::nullopt, "dot segments"},
      // Backslashes.
      {"/a\\b", std::nullopt, "backslashes"},
      {"/..\\..\\x", std::nullopt, "backslashes"},
      {"/a%5Cb", std::nullopt, "encoded '\\'"},
      {"/a%5cb", std::nullopt, "encoded '\\'"},
      // Encoded separators.
      {"/a%2Fb", std::nullopt, "encoded '/'"},
      {"/a%2fb", std::nullopt, "encoded '/'"},
      {"/a%3Fb", std::nullopt, "encoded '?'"},
      {"/a%23b", std::nullopt, "encoded '#'"},
      {"/a/%2F..%2F", std::nullopt, "encoded '/'"},
      // Bad escapes and NUL.
      {"/a%00b", std::nullopt, "%00"},
      {"/a%", std::nullopt, "invalid percent-escape"},
      {"/a%4", std::nullopt, "invalid percent-escape"},
      {"/a%zz", std::nullopt, "invalid percent-escape"},
      {"/a%g1", std::nullopt, "invalid percent-escape"},
      {"/a%%41", std::nullopt, "invalid percent-escape"},
      // Control characters, raw and encoded.
      {std::string("/a\0b", 4), std::nullopt, "control characters"},
      {"/a\rb", std::nullopt, "control characters"},
      {"/a\nb", std::nullopt, "control characters"},
      {"/a\tb", std::nullopt, "control characters"},
      {"/a\x7f", std::nullopt, "control characters"},
      {"/a%0D%0Ab", std::nullopt, "control characters"},
      {"/a%7F", std::nullopt, "control characters"},
      // Characters that must be encoded.
      {"/a b", std::nullopt, "' ' must be percent-encoded"},
      {"/a\"b", std::nullopt, "must be percent-encoded"},
      {"/a<b>", std::nullopt, "must be percent-encoded"},
      {"/a{b}", std::nullopt, "must be percent-encoded"},
      {"/a|b", std::nullopt, "must be percent-encoded"},
      {"/a?b", std::nullopt, "'?' must be percent-encoded"},
      {"/a#b", std::nullopt, "'#' must be percent-encoded"},
      {"/caf\xC3\xA9", std::nullopt, "non-ASCII"},
  };
  for (const CanonicalCase& c : kCases) {
    SCOPED_TRACE("raw path: '" + c.raw + "'");
    absl::StatusOr<std::string> got = canonicalize_path(c.raw);
    if (c.canonical.has_value()) {
      ASSERT_TRUE(got.ok()) << got.status();
      EXPECT_EQ(*got, *c.canonical);
    } else {
      ASSERT_FALSE(got.ok()) << "accepted as '" << *got << "'";
      EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_THAT(std::string(got.status().message()), ::testing::HasSubstr(c.error_substring));
    }
  }
}

TEST(CanonicalPathTest, KeepEncodedSlashTable) {
  const CanonicalCase kCases[] = {
      {"/storage/v1/b/b/o/dir%2Fdata.json", "/storage/v1/b/b/o/dir%2Fdata.json"},
      {"/o/a%2fb", "/o/a%2Fb"},        // normalised to upper case
      {"/o/100%25", "/o/100%25"},      // a decoded '%' stays escaped: never confused with %2F
      {"/o/%252F", "/o/%252F"},        // "%2F" as literal text in a name
      {"/o/%7Eu", "/o/~u"},            // everything else decodes as usual
      {"/o/%2F", "/o/%2F"},            // a name that is just "/": not an empty segment
      {"/o/%2F..%2F", "/o/%2F..%2F"},  // one segment, not a dot segment
      {"/o/../x", std::nullopt, "dot segments"},
      {"/o//x", std::nullopt, "empty path segments"},
      {"/o/a%5Cb", std::nullopt, "encoded '\\'"},
      {"/o/a%3Fb", std::nullopt, "encoded '?'"},
      {"/o/a%00", std::nullopt, "%00"},
  };
  for (const CanonicalCase& c : kCases) {
    SCOPED_TRACE("raw path: '" + c.raw + "'");
    absl::StatusOr<std::string> got = canonicalize_path(c.raw, {.keep_encoded_slash = true});
    if (c.canonical.has_value()) {
      ASSERT_TRUE(got.ok()) << got.status();
      EXPECT_EQ(*got, *c.canonical);
    } else {
      ASSERT_FALSE(got.ok()) << "accepted as '" << *got << "'";
      EXPECT_THAT(std::string(got.status().message()), ::testing::HasSubstr(c.error_substring));
    }
  }
  // Off by default.
  EXPECT_FALSE(canonicalize_path("/o/a%2Fb").ok());
}

}  // namespace
}  // namespace wims::http
