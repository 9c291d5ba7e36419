#include "netguard/command.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <sstream>
#include <string>
#include <vector>

namespace wims::netguard {
namespace {

// Only usage errors here: they are rejected before anything touches nftables. As a belt-and-braces
// guard (a parser bug must not install rules on the host when the tests run as root), a root test
// process first moves itself into a fresh, empty network namespace. The operations are covered by
// the netns tests.
class CommandTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (geteuid() == 0) (void)unshare(CLONE_NEWNET);
  }
};

TEST_F(CommandTest, UsageErrorsExitWithTwo) {
  struct Case {
    std::vector<std::string> args;
    const char* message_part;
  };
  const Case cases[] = {
      {{}, "subcommand"},
      {{"bogus"}, ""},
      {{"apply"}, "--mode"},
      {{"apply", "--mode", "sidecar"}, "--mode"},
      {{"apply", "--mode", "redirect"}, "target port"},
      {{"apply", "--mode", "restrict", "--port", "80"}, "--port"},
      {{"apply", "--mode", "redirect", "--port", "0"}, ""},
      {{"apply", "--mode", "redirect", "--port", "70000"}, ""},
      {{"apply", "--mode", "restrict", "--family", "ipx"}, ""},
      {{"apply", "--mode", "restrict", "--table", "a b"}, "table name"},
      {{"sidecar-init", "--port", "8000"}, "--exempt-uid"},
      {{"sidecar-init", "--exempt-uid", "1501"}, "--port"},
      {{"status", "--table", "x;y"}, "table name"},
      {{"watch", "--mode", "restrict", "--interval", "soon"}, "--interval"},
      {{"watch", "--mode", "restrict", "--interval", "-1s"}, "--interval"},
  };
  for (const Case& c : cases) {
    std::string joined;
    for (const auto& a : c.args) joined += a + " ";
    SCOPED_TRACE(joined);
    std::ostringstream out, err;
    EXPECT_EQ(run_netguard_command(c.args, out, err), 2);
    EXPECT_NE(err.str().find(c.message_part), std::string::npos) << err.str();
  }
}

TEST_F(CommandTest, HelpExitsWithZero) {
  std::ostringstream out, err;
  EXPECT_EQ(run_netguard_command({"--help"}, out, err), 0);
  EXPECT_NE(out.str().find("sidecar-init"), std::string::npos) << out.str();
}

}  // namespace
}  // namespace wims::netguard
