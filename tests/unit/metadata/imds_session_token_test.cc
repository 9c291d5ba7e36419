#include "metadata/imds_session_token.h"

#include <gtest/gtest.h>

#include <string>

#include "common/encoding.h"

namespace wims::metadata {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1700000000);

TEST(ImdsSessionTokensTest, AcceptsItsOwnTokenForTheSameBindingUntilExpiry) {
  ImdsSessionTokens tokens("key-1");
  std::string token = tokens.issue("pod\nuid-a\nns/a", kNow + absl::Seconds(10));
  EXPECT_EQ(token.size(), 54u);
  EXPECT_TRUE(tokens.verify(token, "pod\nuid-a\nns/a", kNow).ok());
  EXPECT_TRUE(
      tokens.verify(token, "pod\nuid-a\nns/a", kNow + absl::Seconds(10) - absl::Nanoseconds(1))
          .ok());
  absl::Status expired = tokens.verify(token, "pod\nuid-a\nns/a", kNow + absl::Seconds(10));
  EXPECT_TRUE(absl::IsUnauthenticated(expired));
  EXPECT_NE(expired.message().find("expired"), absl::string_view::npos);
}

TEST(ImdsSessionTokensTest, RefusesOtherBindingsKeysAndTampering) {
  ImdsSessionTokens tokens("key-1");
  const std::string token = tokens.issue("pod\nuid-a\nns/a", kNow + absl::Hours(6));
  EXPECT_TRUE(absl::IsUnauthenticated(tokens.verify(token, "pod\nuid-b\nns/b", kNow)));
  EXPECT_TRUE(
      absl::IsUnauthenticated(ImdsSessionTokens("key-2").verify(token, "pod\nuid-a\nns/a", kNow)));

  // Extending the expiry inside the token breaks the MAC.
  std::string raw = *base64url_decode(token);
  raw[0] = static_cast<char>(raw[0] + 1);
  EXPECT_TRUE(
      absl::IsUnauthenticated(tokens.verify(base64url_encode(raw), "pod\nuid-a\nns/a", kNow)));
  // Every single-character change is refused.
  for (size_t i = 0; i < token.size(); ++i) {
    std::string changed = token;
    changed[i] = changed[i] == 'A' ? 'B' : 'A';
    SCOPED_TRACE(i);
    EXPECT_FALSE(tokens.verify(changed, "pod\nuid-a\nns/a", kNow).ok());
  }
  for (std::string bad :
       {std::string(), std::string("short"), std::string(54, '!'), token + "A", token.substr(1)}) {
    SCOPED_TRACE(bad);
    EXPECT_TRUE(absl::IsUnauthenticated(tokens.verify(bad, "pod\nuid-a\nns/a", kNow)));
  }
}

TEST(ImdsSessionTokensTest, RandomKeysDifferPerInstance) {
  ImdsSessionTokens a;
  ImdsSessionTokens b;
  const std::string token = a.issue("x", kNow + absl::Hours(1));
  EXPECT_TRUE(a.verify(token, "x", kNow).ok());
  EXPECT_FALSE(b.verify(token, "x", kNow).ok());
}

}  // namespace
}  // namespace wims::metadata
