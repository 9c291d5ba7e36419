#include "netguard/preflight.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace wims::netguard {
namespace {

// A throwaway fake /proc.
class FakeProc {
 public:
  FakeProc() {
    root_ = std::filesystem::temp_directory_path() /
            ("wims-netguard-proc-" + std::to_string(getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::create_directories(root_ / "self");
    std::filesystem::create_directories(root_ / "net");
  }
  ~FakeProc() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  void write(const std::string& rel, const std::string& content) {
    std::filesystem::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel) << content;
  }
  std::string root() const { return root_.string(); }

 private:
  static inline int counter_ = 0;
  std::filesystem::path root_;
};

TEST(PreflightTest, NetAdminFromCapEff) {
  struct Case {
    const char* name;
    const char* status;
    absl::StatusCode code;
  };
  const Case cases[] = {
      {"root", "Name:\tx\nCapEff:\t000001ffffffffff\n", absl::StatusCode::kOk},
      {"only NET_ADMIN", "CapEff:\t0000000000001000\n", absl::StatusCode::kOk},
      {"NET_RAW only", "CapEff:\t0000000000002000\n", absl::StatusCode::kPermissionDenied},
      {"unprivileged", "CapEff:\t0000000000000000\n", absl::StatusCode::kPermissionDenied},
      {"garbage", "CapEff:\tzz\n", absl::StatusCode::kFailedPrecondition},
      {"no line", "Name:\tx\n", absl::StatusCode::kFailedPrecondition},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    FakeProc proc;
    proc.write("self/status", c.status);
    EXPECT_EQ(check_net_admin(proc.root()).code(), c.code);
  }
  EXPECT_EQ(check_net_admin("/nonexistent-proc").code(), absl::StatusCode::kFailedPrecondition);
}

TEST(PreflightTest, MissingFamilyNamesTheFlag) {
  FakeProc proc;
  proc.write("sys/net/ipv4/ip_forward", "1\n");
  EXPECT_TRUE(check_families(Families::kIpv4, proc.root()).ok());
  absl::Status s = check_families(Families::kBoth, proc.root());
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(s.message()).find("IPv6 is not available"), std::string::npos) << s;
  EXPECT_NE(std::string(s.message()).find("--family ipv4"), std::string::npos) << s;

  FakeProc v6only;
  v6only.write("net/if_inet6", "");
  EXPECT_TRUE(check_families(Families::kIpv6, v6only.root()).ok());
  EXPECT_NE(
      std::string(check_families(Families::kBoth, v6only.root()).message()).find("--family ipv6"),
      std::string::npos);
}

}  // namespace
}  // namespace wims::netguard
