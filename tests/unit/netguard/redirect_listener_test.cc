#include "netguard/redirect_listener.h"

#include <gtest/gtest.h>

#include <string>

namespace wims::netguard {
namespace {

TEST(RedirectListenerTest, OnlyTheUnspecifiedAddressReceivesRedirectedTraffic) {
  struct Case {
    const char* address;
    uint16_t port;
    Families families;
    absl::StatusCode code;
    const char* message_part;  // must appear in the message when not OK
  };
  const Case cases[] = {
      {"::", 8980, Families::kBoth, absl::StatusCode::kOk, ""},
      {"::", 8980, Families::kIpv4, absl::StatusCode::kOk, ""},
      {"::", 8980, Families::kIpv6, absl::StatusCode::kOk, ""},
      {"0.0.0.0", 8980, Families::kIpv4, absl::StatusCode::kOk, ""},
      {"0.0.0.0", 8980, Families::kBoth, absl::StatusCode::kFailedPrecondition,
       "listen on [::]:8980"},
      {"0.0.0.0", 8980, Families::kIpv6, absl::StatusCode::kFailedPrecondition, "IPv4 only"},
      {"127.0.0.1", 8980, Families::kBoth, absl::StatusCode::kFailedPrecondition,
       "loopback 127.0.0.1:8980"},
      {"127.0.0.5", 1, Families::kIpv4, absl::StatusCode::kFailedPrecondition, "loopback"},
      {"::1", 8980, Families::kBoth, absl::StatusCode::kFailedPrecondition, "loopback [::1]:8980"},
      {"10.200.1.1", 8980, Families::kBoth, absl::StatusCode::kFailedPrecondition, "arrived on"},
      {"fd10:1::1", 8980, Families::kIpv6, absl::StatusCode::kFailedPrecondition, "[::]:8980"},
      {"::", 0, Families::kBoth, absl::StatusCode::kInvalidArgument, "port"},
      {"localhost", 8980, Families::kBoth, absl::StatusCode::kInvalidArgument, "not an IP address"},
      {"", 8980, Families::kBoth, absl::StatusCode::kInvalidArgument, "not an IP address"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.address) + " " + std::string(families_name(c.families)));
    absl::Status s = check_redirect_listener(c.address, c.port, c.families);
    EXPECT_EQ(s.code(), c.code) << s;
    if (!s.ok()) {
      EXPECT_NE(std::string(s.message()).find(c.message_part), std::string::npos) << s;
    }
  }
}

}  // namespace
}  // namespace wims::netguard
