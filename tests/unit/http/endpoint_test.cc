#include "http/endpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace wims::http {
namespace {

namespace ip = boost::asio::ip;

struct EndpointCase {
  std::string text;
  std::optional<std::string> formatted;  // nullopt: rejected
  std::string error_substring = "";
};

TEST(EndpointTest, ParseAndFormatTable) {
  const EndpointCase kCases[] = {
      {"127.0.0.1:8080", "127.0.0.1:8080"},
      {"0.0.0.0:80", "0.0.0.0:80"},
      {"localhost:8080", "127.0.0.1:8080"},
      {"[::1]:0", "[::1]:0"},
      {"[::]:80", "[::]:80"},
      {"[2001:db8::1]:65535", "[2001:db8::1]:65535"},
      {"169.254.169.254:80", "169.254.169.254:80"},
      {"", std::nullopt, "empty"},
      {"127.0.0.1", std::nullopt, "missing port"},
      {"127.0.0.1:", std::nullopt, "missing port"},
      {"[::1]", std::nullopt, "missing port"},
      {"::1:80", std::nullopt, ""},
      {"127.0.0.1:65536", std::nullopt, "0..65535"},
      {"127.0.0.1:99999999999", std::nullopt, "0..65535"},
      {"127.0.0.1:-1", std::nullopt, ""},
      {"127.0.0.1:http", std::nullopt, ""},
      {"example.com:80", std::nullopt, "IP literal or localhost"},
      {"user@127.0.0.1:80", std::nullopt, "user info"},
      {"127.0.0.1:80/path", std::nullopt, ""},
  };
  for (const EndpointCase& c : kCases) {
    SCOPED_TRACE("text: '" + c.text + "'");
    auto got = parse_endpoint(c.text);
    if (c.formatted.has_value()) {
      ASSERT_TRUE(got.ok()) << got.status();
      EXPECT_EQ(format_endpoint(*got), *c.formatted);
    } else {
      ASSERT_FALSE(got.ok()) << format_endpoint(*got);
      EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_THAT(std::string(got.status().message()), ::testing::HasSubstr(c.error_substring));
      EXPECT_THAT(std::string(got.status().message()), ::testing::HasSubstr(c.text));
    }
  }
}

TEST(EndpointTest, ParsedAddressFamilies) {
  auto v4 = parse_endpoint("10.1.2.3:443");
  ASSERT_TRUE(v4.ok());
  EXPECT_TRUE(v4->address().is_v4());
  EXPECT_EQ(v4->port(), 443);
  auto v6 = parse_endpoint("[::]:0");
  ASSERT_TRUE(v6.ok());
  EXPECT_TRUE(v6->address().is_v6());
  EXPECT_TRUE(v6->address().is_unspecified());
}

TEST(EndpointTest, NormalizesV4MappedAddresses) {
  EXPECT_EQ(normalize_address(ip::make_address("::ffff:10.0.0.7")), ip::make_address("10.0.0.7"));
  EXPECT_TRUE(normalize_address(ip::make_address("::ffff:10.0.0.7")).is_v4());
  EXPECT_EQ(normalize_address(ip::make_address("::1")), ip::make_address("::1"));
  EXPECT_EQ(normalize_address(ip::make_address("10.0.0.7")), ip::make_address("10.0.0.7"));
}

}  // namespace
}  // namespace wims::http
