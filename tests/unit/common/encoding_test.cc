#include "common/encoding.h"

#include <gtest/gtest.h>

namespace wims {
namespace {

TEST(EncodingTest, Base64RoundTripsRfc4648Vectors) {
  struct Case {
    std::string plain, b64, b64url;
  };
  const Case cases[] = {{"", "", ""},
                        {"f", "Zg==", "Zg"},
                        {"fo", "Zm8=", "Zm8"},
                        {"foo", "Zm9v", "Zm9v"},
                        {"foob", "Zm9vYg==", "Zm9vYg"},
                        {"\xfb\xff", "+/8=", "-_8"}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.b64);
    EXPECT_EQ(base64_encode(c.plain), c.b64);
    EXPECT_EQ(base64url_encode(c.plain), c.b64url);
    EXPECT_EQ(*base64_decode(c.b64), c.plain);
    EXPECT_EQ(*base64url_decode(c.b64url), c.plain);
  }
}

TEST(EncodingTest, Base64RejectsGarbage) {
  EXPECT_FALSE(base64_decode("Zm9").ok());
  EXPECT_FALSE(base64_decode("Zm9$").ok());
  EXPECT_FALSE(base64url_decode("Zm9v+A").ok());
  EXPECT_FALSE(base64url_decode("Z").ok());
}

TEST(EncodingTest, Rfc3339) {
  absl::Time t = absl::FromUnixSeconds(1335457156);
  EXPECT_EQ(format_rfc3339_seconds(t), "2012-04-26T16:19:16Z");
  EXPECT_EQ(*parse_rfc3339("2012-04-26T16:19:16Z"), t);
  EXPECT_EQ(*parse_rfc3339("2012-04-26T18:19:16+02:00"), t);
  EXPECT_EQ(format_rfc3339(t + absl::Milliseconds(500)), "2012-04-26T16:19:16.5Z");
  EXPECT_FALSE(parse_rfc3339("yesterday").ok());
}

TEST(EncodingTest, MarkupEscapeReplacesTheFiveSpecialCharactersOnly) {
  EXPECT_EQ(markup_escape(R"(<a href="x">Tom & Jerry's</a>)"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;");
  EXPECT_EQ(markup_escape("plain text / 100%"), "plain text / 100%");
  EXPECT_EQ(markup_escape(""), "");
}

}  // namespace
}  // namespace wims
