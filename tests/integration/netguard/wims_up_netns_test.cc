// `wims up --netguard restrict|redirect` end to end, in throwaway network namespaces
// (netns_fixture.h): the real wims runs in the node namespace on the world
// examples/netns-two-pods.yaml (pod app-a at 10.200.1.2/fd10:1::2, pod app-b
// at 10.200.2.2/fd10:2::2, different service accounts), and real SDK clients in the pod namespaces,
// with no endpoint override, get their own pod's identity through 169.254.169.254 (and
// fd00:ec2::254). Tampering with the table while wims runs is repaired and counted in /metrics;
// stopping wims leaves the rules (fail closed). Run as root: ctest -L netns.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <regex>
#include <string>
#include <thread>

#include "boost/json.hpp"
#include "fmt/format.h"
#include "integration/netguard/netns_fixture.h"

namespace wims::netguard::testing {
namespace {

const std::string kWims = WIMS_BIN;
const std::string kWorld = std::string(WIMS_EXAMPLES_DIR) + "/netns-two-pods.yaml";
const std::string kImds4 = fmt::format("IMDS {}", kNodeCloudIpv4);
const std::string kImds6 = fmt::format("IMDS {}", kNodeCloudIpv6);

struct PodIdentity {
  const char* email;
  const char* role;
};
const PodIdentity kPods[] = {{"app-a@wims-netns.iam.gserviceaccount.com", "app-a"},
                             {"app-b@wims-netns.iam.gserviceaccount.com", "app-b"}};

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  return std::string((std::istreambuf_iterator<char>(f)), {});
}

// boost::json::parse without exceptions: a test failure naming the text instead.
boost::json::value parse_json(const std::string& text) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  if (ec) ADD_FAILURE() << "not JSON (" << ec.message() << "): " << text;
  return v;
}

// v[a][b] as a string, or "<no a.b>" (never throws: a client error then shows up in the
// comparison).
std::string field(const boost::json::value& v, const char* a, const char* b) {
  const boost::json::value* inner = v.is_object() ? v.as_object().if_contains(a) : nullptr;
  const boost::json::value* leaf =
      inner && inner->is_object() ? inner->as_object().if_contains(b) : nullptr;
  if (leaf == nullptr || !leaf->is_string()) return fmt::format("<no {}.{}>", a, b);
  return std::string(leaf->as_string());
}

// Polls `done` every 5 ms for at most `bound`; returns the elapsed milliseconds.
double wait_until(const std::function<bool()>& done, std::chrono::milliseconds bound, bool* ok) {
  const auto start = std::chrono::steady_clock::now();
  *ok = false;
  while (std::chrono::steady_clock::now() - start < bound) {
    if (done()) {
      *ok = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

class WimsUpNetguardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!netns_tests_supported(&why)) GTEST_SKIP() << why;
    absl::StatusOr<std::unique_ptr<NetnsTopology>> t = NetnsTopology::create();
    ASSERT_TRUE(t.ok()) << t.status();
    topo_ = std::move(*t);
  }

  // Starts `wims up --netguard <mode>` in the node namespace and waits (bounded) for its ready
  // file.
  void start_wims(const std::string& mode) {
    const std::string dir = topo_->dir();
    ready_file_ = dir + "/ready.json";
    log_ = dir + "/wims.log";
    absl::StatusOr<pid_t> pid = topo_->spawn({"ip",
                                              "netns",
                                              "exec",
                                              topo_->node(),
                                              kWims,
                                              "up",
                                              "--config",
                                              kWorld,
                                              "--netguard",
                                              mode,
                                              "--metadata-addr",
                                              "[::]:0",
                                              "--cloud-addr",
                                              "[::]:0",
                                              "--admin-addr",
                                              "127.0.0.1:0",
                                              "--state-dir",
                                              dir + "/state",
                                              "--ready-file",
                                              ready_file_,
                                              "--log-level",
                                              "info"},
                                             log_);
    ASSERT_TRUE(pid.ok()) << pid.status();
    wims_ = *pid;
    bool ok = false;
    wait_until(
        [&] {
          return std::filesystem::exists(ready_file_) || waitpid(wims_, nullptr, WNOHANG) != 0;
        },
        std::chrono::seconds(30), &ok);
    ASSERT_TRUE(std::filesystem::exists(ready_file_)) << "wims up not ready:\n" << read_file(log_);
    std::this_thread::sleep_for(
        std::chrono::milliseconds(50));  // the file is written in one go; be safe
    ready_ = parse_json(read_file(ready_file_));
    ASSERT_TRUE(ready_.is_object());
  }
  std::string ready(const char* key) {
    const boost::json::value* v =
        ready_.is_object() ? ready_.as_object().if_contains(key) : nullptr;
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  }
  std::string port_of(const std::string& hostport) {
    return hostport.substr(hostport.rfind(':') + 1);
  }

  CommandResult nft(const std::string& args) { return topo_->exec(topo_->node(), "nft " + args); }
  bool table_exists() {
    return nft("list table inet wims_netguard >/dev/null 2>&1").exit_code == 0;
  }
  std::string metrics() {
    return topo_->exec(topo_->node(), fmt::format("curl -s -m 5 http://{}/metrics", ready("admin")))
        .out;
  }

  std::unique_ptr<NetnsTopology> topo_;
  pid_t wims_ = -1;
  std::string ready_file_, log_;
  boost::json::value ready_;
};

TEST_F(WimsUpNetguardTest, RedirectGivesEachPodItsOwnIdentityThroughRealSdks) {
  for (int pod : {1, 2}) {
    // What a GKE pod resolves through the cluster DNS; google-auth fetches tokens by this name.
    ASSERT_TRUE(topo_->set_hosts(topo_->pod(pod), "169.254.169.254 metadata.google.internal").ok());
  }
  ASSERT_NO_FATAL_FAILURE(start_wims("redirect"));
  ASSERT_TRUE(table_exists()) << read_file(log_);
  const std::string cloud_port = port_of(ready("cloud"));

  for (int pod : {1, 2}) {
    SCOPED_TRACE(fmt::format("pod{} ({})", pod, kPods[pod - 1].role));
    // The pod reaches the local cloud (for verifying its credentials) at its gateway, the node.
    const std::string cloud = fmt::format("http://10.200.{}.1:{}", pod, cloud_port);
    CommandResult r = topo_->exec(topo_->pod(pod),
                                  fmt::format("env -i PATH=/usr/bin:/bin /usr/bin/python3 {} {}",
                                              NetnsTopology::script("pod_sdk_client.py"), cloud),
                                  120);
    ASSERT_EQ(r.exit_code, 0) << r.out << read_file(log_);
    boost::json::value out = parse_json(r.out);
    ASSERT_TRUE(out.is_object());
    SCOPED_TRACE(r.out);
    const PodIdentity& want = kPods[pod - 1];
    const std::string assumed =
        fmt::format("arn:aws:sts::111122223333:assumed-role/{}/", want.role);
    // Python google-auth: google.auth.default() -> compute_engine credentials via 169.254.169.254.
    EXPECT_EQ(field(out, "google", "email"), want.email);
    EXPECT_EQ(field(out, "google", "token_email"), want.email);
    EXPECT_EQ(field(out, "google", "project"), "wims-netns");
    // The GCE metadata protocol over IPv6 (fd00:ec2::254 -> wims, the pod's own fd10:N::2 seen).
    EXPECT_EQ(field(out, "google_ipv6", "email"), want.email);
    EXPECT_EQ(field(out, "google_ipv6", "token_email"), want.email);
    // boto3's default chain through IMDS, IPv4 and its own IPv6 endpoint mode.
    for (const char* key : {"aws", "aws_ipv6"}) {
      SCOPED_TRACE(key);
      EXPECT_EQ(field(out, key, "method"), "iam-role");
      const std::string arn = field(out, key, "arn");
      EXPECT_EQ(arn.rfind(assumed, 0), 0u) << arn;
    }
  }
  // wims saw each pod's own address (its access log names the callers).
  const std::string log = read_file(log_);
  for (const char* address : {"10.200.1.2", "10.200.2.2", "fd10:1::2", "fd10:2::2"}) {
    EXPECT_NE(log.find(address), std::string::npos) << address;
  }
  // The node itself is not redirected: it still reads the real (fake) IMDS.
  EXPECT_EQ(topo_->http_get(topo_->node(), kImdsUrl4), kImds4);
  EXPECT_EQ(topo_->http_get(topo_->node(), kImdsUrl6), kImds6);

  // Tampering while wims runs: each change is repaired (nftables events) and counted in /metrics.
  const std::string desired = nft("-s list table inet wims_netguard").out;
  auto restored = [&] {
    return nft("-s list table inet wims_netguard 2>/dev/null").out == desired;
  };
  struct Tamper {
    const char* name;
    std::function<std::string()> command;
  };
  const Tamper tampers[] = {
      {"delete-table", [] { return std::string("delete table inet wims_netguard"); }},
      {"delete-redirect-rule",
       [&] {
         const std::string listing = nft("-a list table inet wims_netguard").out;
         std::smatch m;
         EXPECT_TRUE(std::regex_search(
             listing, m, std::regex(R"(ip daddr @imds4 tcp dport 80 .*redirect.*# handle (\d+))")))
             << listing;
         return "delete rule inet wims_netguard pod_redirect handle " + m[1].str();
       }},
      {"insert-accept",
       [] { return std::string("insert rule inet wims_netguard pod_fail_closed accept"); }},
  };
  int repairs = 0;
  for (const Tamper& t : tampers) {
    SCOPED_TRACE(t.name);
    ASSERT_EQ(nft(t.command()).exit_code, 0);
    bool ok = false;
    const double ms = wait_until(restored, std::chrono::seconds(10), &ok);
    EXPECT_TRUE(ok) << "not repaired within 10 s";
    ++repairs;
    RecordProperty(std::string("wims_up_") + t.name + "_repair_ms", fmt::format("{:.1f}", ms));
    std::printf("wims up --netguard redirect repair latency (%s): %.1f ms\n", t.name, ms);
    const std::string series =
        fmt::format("wims_netguard_repairs_total{{mode=\"redirect\"}} {}", repairs);
    wait_until([&] { return metrics().find(series) != std::string::npos; }, std::chrono::seconds(5),
               &ok);
    EXPECT_TRUE(ok) << series << " not in /metrics:\n" << metrics();
  }
  EXPECT_NE(read_file(log_).find("(repair #3)"), std::string::npos);
  EXPECT_EQ(topo_
                ->exec(topo_->pod(1),
                       "curl -s -m 5 -H 'Metadata-Flavor: Google' "
                       "http://169.254.169.254/computeMetadata/v1/instance/service-accounts/"
                       "default/email")
                .out,
            kPods[0].email);
  EXPECT_EQ(topo_->http_get(topo_->pod(2), "http://169.254.169.254:8080/"),
            "TIMEOUT");  // still fail closed

  // wims stops: the rules stay. Pods now hit a closed port on the node (refused), never the real
  // endpoint.
  const int status = topo_->stop_process(wims_);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << "\n" << read_file(log_);
  EXPECT_TRUE(table_exists());
  EXPECT_EQ(nft("-s list table inet wims_netguard").out, desired);
  for (int pod : {1, 2}) {
    SCOPED_TRACE(pod);
    EXPECT_EQ(topo_->http_get(topo_->pod(pod), kImdsUrl4), "ERR7");
    EXPECT_EQ(topo_->http_get(topo_->pod(pod), kImdsUrl6), "ERR7");
  }
  EXPECT_NE(read_file(log_).find("rules left in place"), std::string::npos);
}

TEST_F(WimsUpNetguardTest, RestrictCutsPodsOffAndStaysAfterExitUntilRemoved) {
  const std::string before = nft("-s list ruleset").out;
  ASSERT_NO_FATAL_FAILURE(start_wims("restrict"));
  for (int pod : {1, 2}) {
    SCOPED_TRACE(pod);
    EXPECT_EQ(topo_->http_get(topo_->pod(pod), kImdsUrl4), "TIMEOUT");
    EXPECT_EQ(topo_->http_get(topo_->pod(pod), kImdsUrl6), "TIMEOUT");
  }
  EXPECT_EQ(topo_->http_get(topo_->node(), kImdsUrl4), kImds4);
  EXPECT_EQ(topo_->http_get(topo_->node(), kImdsUrl6), kImds6);
  EXPECT_NE(metrics().find("wims_netguard_repairs_total{mode=\"restrict\"} 0"), std::string::npos)
      << metrics();
  topo_->stop_process(wims_);
  EXPECT_TRUE(table_exists());
  EXPECT_EQ(topo_->http_get(topo_->pod(1), kImdsUrl4), "TIMEOUT");
  // Uninstall through the same binary: exactly the pre-wims ruleset again, pods back to the
  // endpoint.
  CommandResult removed = topo_->exec(topo_->node(), kWims + " netguard remove");
  ASSERT_EQ(removed.exit_code, 0) << removed.out;
  EXPECT_EQ(nft("-s list ruleset").out, before);
  EXPECT_EQ(topo_->http_get(topo_->pod(1), kImdsUrl4), kImds4);
}

TEST_F(WimsUpNetguardTest, ClearErrorsAndNothingInstalled) {
  struct Case {
    const char* name;
    std::string prefix;  // e.g. run as an unprivileged uid
    std::string args;
    const char* message;
  };
  // Each case its own state directory, writable by the unprivileged user too.
  std::filesystem::permissions(topo_->dir(), std::filesystem::perms::all,
                               std::filesystem::perm_options::add);
  int n = 0;
  const Case cases[] = {
      {"redirect to a loopback listener", "", "--netguard redirect --metadata-addr 127.0.0.1:0",
       "netguard redirect: the metadata listener is bound to loopback 127.0.0.1"},
      {"redirect to an IPv4-only listener", "", "--netguard redirect --metadata-addr 0.0.0.0:0",
       "listen on [::]:"},
      {"not root", "setpriv --reuid=1501 --regid=1501 --clear-groups",
       "--netguard restrict --metadata-addr [::]:0", "CAP_NET_ADMIN"},
      {"unknown mode", "", "--netguard block", "--netguard"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string state = fmt::format("{}/state-{}", topo_->dir(), n++);
    std::filesystem::create_directories(state);
    std::filesystem::permissions(state, std::filesystem::perms::all,
                                 std::filesystem::perm_options::add);
    CommandResult r = topo_->exec(
        topo_->node(),
        fmt::format("{} {} up --config {} {} --cloud-addr 127.0.0.1:0 --admin-addr 127.0.0.1:0 "
                    "--state-dir {} 2>&1 </dev/null",
                    c.prefix, kWims, kWorld, c.args, state),
        30);
    EXPECT_NE(r.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find(c.message), std::string::npos) << r.out;
    EXPECT_FALSE(table_exists());
  }
}

}  // namespace
}  // namespace wims::netguard::testing
