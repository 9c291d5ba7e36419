#include "aws/oidc_issuer_url.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <string_view>

namespace wims::aws {
namespace {

TEST(OidcProviderUrlTest, Table) {
  struct Case {
    const char* issuer;
    std::optional<std::string> want;
  };
  const Case cases[] = {
      {"https://oidc.eks.us-west-2.amazonaws.com/id/ABC",
       "oidc.eks.us-west-2.amazonaws.com/id/ABC"},
      {"https://oidc.example.com/id/ABC//", "oidc.example.com/id/ABC"},
      {"https://oidc.example.com", "oidc.example.com"},
      {"https://oidc.example.com:8443/x", "oidc.example.com:8443/x"},
      {"HTTPS://oidc.example.com/x", "oidc.example.com/x"},
      // wims's embedded issuer: plain http on loopback only.
      {"http://127.0.0.1:39873/oidc/my-cluster", "127.0.0.1:39873/oidc/my-cluster"},
      {"http://127.1.2.3/oidc", "127.1.2.3/oidc"},
      {"http://[::1]:8080/oidc/c", "[::1]:8080/oidc/c"},
      {"http://localhost:8080/oidc/c", "localhost:8080/oidc/c"},
      {"http://oidc.example.com/x", std::nullopt},
      {"http://10.0.0.1/x", std::nullopt},
      {"http://localhost.example.com/x", std::nullopt},
      {"ftp://127.0.0.1/x", std::nullopt},
      {"https://", std::nullopt},
      {"https:oidc.example.com", std::nullopt},
      {"oidc.example.com/id/ABC", std::nullopt},
      {"https://user@oidc.example.com/x", std::nullopt},
      {"https://oidc.example.com/x?q=1", std::nullopt},
      {"https://oidc.example.com/x#f", std::nullopt},
      {"", std::nullopt},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.issuer);
    EXPECT_EQ(oidc_provider_url(c.issuer), c.want);
  }
}

// Guards the NUL-terminated copy oidc_provider_url makes before Boost.URL parses (Boost.URL 1.81's
// compiled parsers read some inputs with strlen): a view into a larger buffer is parsed only up to
// its own end.
TEST(OidcProviderUrlTest, ViewIntoALargerBufferIsParsedOnlyUpToItsEnd) {
  const std::string buffer = "https://oidc.example.com/id/ABC?not=part-of-the-view";
  const std::string_view issuer = std::string_view(buffer).substr(0, buffer.find('?'));
  EXPECT_EQ(oidc_provider_url(issuer), "oidc.example.com/id/ABC");
  // Not NUL-terminated at all: a heap buffer without a terminator (ASan reports any read past it).
  const std::string text = "http://127.0.0.1:1/oidc/c";
  auto bytes = std::make_unique<char[]>(text.size());
  std::memcpy(bytes.get(), text.data(), text.size());
  EXPECT_EQ(oidc_provider_url(std::string_view(bytes.get(), text.size())), "127.0.0.1:1/oidc/c");
}

}  // namespace
}  // namespace wims::aws
