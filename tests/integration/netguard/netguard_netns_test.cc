// End-to-end netguard tests in throwaway network namespaces (see netns_fixture.h). Every
// `wims-netguard` call runs INSIDE a test namespace via `ip netns exec`; nothing touches the host's
// own ruleset. Run as root: ctest -L netns. Skipped (not failed) without root or `ip netns`.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include "boost/json.hpp"
#include "fmt/format.h"
#include "integration/netguard/netns_fixture.h"

namespace wims::netguard::testing {
namespace {

constexpr int kWimsPort = 18181;     // "wims" on the node in redirect mode
constexpr int kSidecarPort = 18000;  // the sidecar on the pod's localhost
constexpr int kSidecarUid = 1501;

const std::string kTool = WIMS_NETGUARD_BIN;

class NetguardNetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!netns_tests_supported(&why)) GTEST_SKIP() << why;
    absl::StatusOr<std::unique_ptr<NetnsTopology>> t = NetnsTopology::create();
    ASSERT_TRUE(t.ok()) << t.status();
    topo_ = std::move(*t);
  }

  // Runs wims-netguard in `ns`; returns exit code and stdout.
  CommandResult tool(const std::string& ns, const std::string& args) {
    return topo_->exec(ns, kTool + " " + args);
  }
  CommandResult nft(const std::string& ns, const std::string& args) {
    return topo_->exec(ns, "nft " + args);
  }
  bool table_exists(const std::string& ns) {
    return nft(ns, "list table inet wims_netguard >/dev/null 2>&1").exit_code == 0;
  }
  std::string get(int pod, const char* url) { return topo_->http_get(topo_->pod(pod), url); }

  std::unique_ptr<NetnsTopology> topo_;
};

const std::string kImds4 = fmt::format("IMDS {}", kNodeCloudIpv4);
const std::string kImds6 = fmt::format("IMDS {}", kNodeCloudIpv6);

TEST_F(NetguardNetnsTest, BaselinePodsAndNodeReachImds) {
  EXPECT_EQ(get(1, kImdsUrl4), kImds4);
  EXPECT_EQ(get(2, kImdsUrl6), kImds6);
  EXPECT_EQ(topo_->http_get(topo_->node(), kImdsUrl4), kImds4);
}

TEST_F(NetguardNetnsTest, RestrictBlocksPodsButNotNode) {
  ASSERT_EQ(tool(topo_->node(), "apply --mode restrict").exit_code, 0);
  // The node (host processes, hostNetwork pods) keeps access over both families.
  EXPECT_EQ(topo_->http_get(topo_->node(), kImdsUrl4), kImds4);
  EXPECT_EQ(topo_->http_get(topo_->node(), kImdsUrl6), kImds6);
  // Pods time out over both families.
  for (int pod : {1, 2}) {
    SCOPED_TRACE(pod);
    EXPECT_EQ(get(pod, kImdsUrl4), "TIMEOUT");
    EXPECT_EQ(get(pod, kImdsUrl6), "TIMEOUT");
  }
  // Every port: without rules a closed port answers with a reset (curl 7); restricted, it times
  // out.
  EXPECT_EQ(get(1, "http://169.254.169.254:8080/"), "TIMEOUT");
  EXPECT_EQ(get(1, "http://[fd00:ec2::254]:8080/"), "TIMEOUT");
  // Other destinations are untouched: the pod still reaches the node itself.
  // (Nothing listens there: a refusal, curl 7, proves the packet got through.)
  EXPECT_EQ(get(1, "http://10.200.1.1:9/"), "ERR7");

  // status --json: restrict mode, drop counters moved.
  CommandResult st = tool(topo_->node(), "status --json");
  ASSERT_EQ(st.exit_code, 0);
  boost::json::value v = boost::json::parse(st.out);
  EXPECT_EQ(v.at("mode").as_string(), "restrict");
  uint64_t dropped = 0;
  for (const auto& chain : v.at("chains").as_array()) {
    for (const auto& rule : chain.at("rules").as_array()) {
      if (rule.at("packets").is_number()) dropped += rule.at("packets").to_number<uint64_t>();
    }
  }
  EXPECT_GT(dropped, 0u);
  CommandResult text = tool(topo_->node(), "status");
  EXPECT_NE(text.out.find("mode: restrict"), std::string::npos) << text.out;
}

TEST_F(NetguardNetnsTest, BlockWireServerCutsPodsOffPorts80And32526ButNotTheNode) {
  const std::string wireserver = fmt::format("WIRESERVER {}", kNodeCloudIpv4);
  EXPECT_EQ(get(1, "http://168.63.129.16/"), wireserver);  // baseline: reachable
  ASSERT_EQ(tool(topo_->node(), "apply --mode restrict --block-wireserver").exit_code, 0);
  EXPECT_EQ(topo_->http_get(topo_->node(), "http://168.63.129.16/"), wireserver);
  for (int pod : {1, 2}) {
    SCOPED_TRACE(pod);
    EXPECT_EQ(get(pod, "http://168.63.129.16/"), "TIMEOUT");
    EXPECT_EQ(get(pod, "http://168.63.129.16:32526/"), "TIMEOUT");
    EXPECT_EQ(get(pod, kImdsUrl4), "TIMEOUT");
  }
  // Other WireServer ports (its DNS on 53) are not blocked: a closed port answers with a reset.
  EXPECT_EQ(get(1, "http://168.63.129.16:53/"), "ERR7");
  // Without the flag the WireServer stays reachable.
  ASSERT_EQ(tool(topo_->node(), "apply --mode restrict").exit_code, 0);
  EXPECT_EQ(get(1, "http://168.63.129.16/"), wireserver);
}

TEST_F(NetguardNetnsTest, RedirectSendsEachPodToWimsWithItsOwnAddress) {
  ASSERT_TRUE(topo_->start_echo_server(topo_->node(), "::", kWimsPort, "WIMS").ok());
  ASSERT_EQ(
      tool(topo_->node(), fmt::format("apply --mode redirect --port {}", kWimsPort)).exit_code, 0);
  for (int pod : {1, 2}) {
    SCOPED_TRACE(pod);
    EXPECT_EQ(get(pod, kImdsUrl4), "WIMS " + NetnsTopology::pod_ipv4(pod));
    EXPECT_EQ(get(pod, kImdsUrl6), "WIMS " + NetnsTopology::pod_ipv6(pod));
    // Fail closed: anything else aimed at the real endpoint is dropped.
    EXPECT_EQ(get(pod, "http://169.254.169.254:8080/"), "TIMEOUT");
    EXPECT_EQ(get(pod, "http://[fd00:ec2::254]:8080/"), "TIMEOUT");
  }
  // The node is not redirected.
  EXPECT_EQ(topo_->http_get(topo_->node(), kImdsUrl4), kImds4);
  EXPECT_EQ(topo_->http_get(topo_->node(), kImdsUrl6), kImds6);
  CommandResult st = tool(topo_->node(), "status --json");
  boost::json::value v = boost::json::parse(st.out);
  EXPECT_EQ(v.at("mode").as_string(), "redirect");
  EXPECT_EQ(v.at("port").to_number<int>(), kWimsPort);
}

// Regression for the stale-conntrack leak in shared/spec/imds-netfilter.md §3.3: a keep-alive
// connection opened before redirect mode must not keep reaching the real endpoint.
TEST_F(NetguardNetnsTest, RedirectCutsExistingConnectionsToTheRealEndpoint) {
  ASSERT_TRUE(topo_->start_echo_server(topo_->node(), "::", kWimsPort, "WIMS").ok());
  for (const char* host : {"169.254.169.254", "fd00:ec2::254"}) {
    SCOPED_TRACE(host);
    const std::string go = fmt::format("{}/go-{}", topo_->dir(), host[0] == 'f' ? 6 : 4);
    const std::string log = go + ".log";
    absl::StatusOr<pid_t> client =
        topo_->spawn({"ip", "netns", "exec", topo_->pod(1), "/usr/bin/python3",
                      NetnsTopology::script("keepalive_client.py"), host, "80", go},
                     log);
    ASSERT_TRUE(client.ok());
    // Wait (bounded) for the first answer over the real endpoint.
    std::string out;
    for (int i = 0; i < 100 && out.find("1:") == std::string::npos; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      std::ifstream f(log);
      out.assign(std::istreambuf_iterator<char>(f), {});
    }
    ASSERT_NE(out.find("1:IMDS"), std::string::npos) << out;
    ASSERT_EQ(
        tool(topo_->node(), fmt::format("apply --mode redirect --port {}", kWimsPort)).exit_code,
        0);
    std::ofstream(go).put('\n');
    for (int i = 0; i < 200 && out.find("\n2:") == std::string::npos; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      std::ifstream f(log);
      out.assign(std::istreambuf_iterator<char>(f), {});
    }
    // Conntrack entry deleted -> the next segment is NATed to the node, which resets it. (Without
    // the conntrack cut the fail-closed chain would make it "2:TIMEOUT"; "2:IMDS" would be the
    // leak.)
    EXPECT_NE(out.find("\n2:RESET"), std::string::npos) << out;
    topo_->stop_process(*client);
    ASSERT_EQ(tool(topo_->node(), "remove").exit_code, 0);
  }
}

TEST_F(NetguardNetnsTest, SidecarRedirectsPodButNotExemptUid) {
  for (const char* bind : {"127.0.0.1", "::1"}) {
    ASSERT_TRUE(
        topo_->start_echo_server(topo_->pod(1), bind, kSidecarPort, "SIDECAR", kSidecarUid).ok());
  }
  CommandResult init = tool(topo_->pod(1), fmt::format("sidecar-init --port {} --exempt-uid {}",
                                                       kSidecarPort, kSidecarUid));
  ASSERT_EQ(init.exit_code, 0);
  // Output-hook redirect keeps the source address the socket already chose (the pod's own).
  EXPECT_EQ(get(1, kImdsUrl4), "SIDECAR " + NetnsTopology::pod_ipv4(1));
  EXPECT_EQ(get(1, kImdsUrl6), "SIDECAR " + NetnsTopology::pod_ipv6(1));
  const std::string as_sidecar =
      fmt::format("setpriv --reuid={0} --regid={0} --clear-groups", kSidecarUid);
  EXPECT_EQ(topo_->http_get(topo_->pod(1), kImdsUrl4, as_sidecar), kImds4);
  EXPECT_EQ(topo_->http_get(topo_->pod(1), kImdsUrl6, as_sidecar), kImds6);
  // Another uid that is not exempt is redirected too.
  EXPECT_EQ(
      topo_->http_get(topo_->pod(1), kImdsUrl4, "setpriv --reuid=1502 --regid=1502 --clear-groups"),
      "SIDECAR " + NetnsTopology::pod_ipv4(1));
  // Other pods are unaffected (the rules live in pod1's namespace only).
  EXPECT_EQ(get(2, kImdsUrl4), kImds4);
  EXPECT_FALSE(table_exists(topo_->node()));
}

TEST_F(NetguardNetnsTest, RemoveLeavesNoTraceAndNeverTouchesOtherTables) {
  const std::string before = nft(topo_->node(), "-s list ruleset").out;
  ASSERT_NE(before.find("table inet cni_sim"), std::string::npos);
  ASSERT_TRUE(topo_->start_echo_server(topo_->node(), "::", kWimsPort, "WIMS").ok());
  ASSERT_EQ(
      tool(topo_->node(), fmt::format("apply --mode redirect --port {}", kWimsPort)).exit_code, 0);
  const std::string cni_during = nft(topo_->node(), "-s list table inet cni_sim").out;
  EXPECT_EQ(cni_during, nft(topo_->node(), "-s list table inet cni_sim").out);
  EXPECT_NE(before.find(cni_during.substr(0, 20)), std::string::npos);
  EXPECT_EQ(get(1, kImdsUrl4), "WIMS " + NetnsTopology::pod_ipv4(1));

  CommandResult removed = tool(topo_->node(), "remove");
  ASSERT_EQ(removed.exit_code, 0);
  EXPECT_EQ(nft(topo_->node(), "-s list ruleset").out, before);
  EXPECT_EQ(get(1, kImdsUrl4), kImds4);  // back to the baseline
  // Removing again is fine, and status says not installed.
  EXPECT_EQ(tool(topo_->node(), "remove").exit_code, 0);
  CommandResult st = tool(topo_->node(), "status --json");
  EXPECT_EQ(boost::json::parse(st.out).at("installed").as_bool(), false);
}

TEST_F(NetguardNetnsTest, ApplyTwiceEqualsApplyOnce) {
  const std::string before = nft(topo_->node(), "-s list ruleset").out;
  for (const std::string& args : std::vector<std::string>{
           "apply --mode restrict --family ipv4",
           fmt::format("apply --mode redirect --port {}", kWimsPort),
           fmt::format("apply --mode redirect --port {} --family ipv6", kWimsPort)}) {
    SCOPED_TRACE(args);
    ASSERT_EQ(tool(topo_->node(), args).exit_code, 0);
    const std::string once = nft(topo_->node(), "-s list ruleset").out;
    ASSERT_EQ(tool(topo_->node(), args).exit_code, 0);
    EXPECT_EQ(nft(topo_->node(), "-s list ruleset").out, once);
    ASSERT_EQ(tool(topo_->node(), "remove").exit_code, 0);
    EXPECT_EQ(nft(topo_->node(), "-s list ruleset").out, before);  // and remove leaves no trace
  }
  ASSERT_EQ(tool(topo_->node(), "apply --mode restrict").exit_code, 0);
  const std::string once = nft(topo_->node(), "-s list ruleset").out;
  ASSERT_EQ(tool(topo_->node(), "apply --mode restrict").exit_code, 0);
  EXPECT_EQ(nft(topo_->node(), "-s list ruleset").out, once);
  // Switching modes replaces the table atomically: no chain of the old mode survives.
  ASSERT_EQ(
      tool(topo_->node(), fmt::format("apply --mode redirect --port {}", kWimsPort)).exit_code, 0);
  const std::string redirect = nft(topo_->node(), "-s list table inet wims_netguard").out;
  EXPECT_EQ(redirect.find("pod_block"), std::string::npos) << redirect;
  EXPECT_NE(redirect.find("pod_redirect"), std::string::npos) << redirect;
  ASSERT_EQ(tool(topo_->node(), "apply --mode restrict").exit_code, 0);
  EXPECT_EQ(nft(topo_->node(), "-s list ruleset").out, once);
}

TEST_F(NetguardNetnsTest, ClearErrorWithoutCapNetAdmin) {
  CommandResult r = topo_->exec(
      topo_->node(), fmt::format("setpriv --reuid=1501 --regid=1501 --clear-groups {} apply --mode "
                                 "restrict 2>&1",
                                 kTool));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("CAP_NET_ADMIN"), std::string::npos) << r.out;
  EXPECT_FALSE(table_exists(topo_->node()));
}

// Polls `done` every 5 ms for at most `bound`; returns the elapsed milliseconds.
double wait_until(const std::function<bool()>& done, absl::Duration bound, bool* ok) {
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + absl::ToChronoMilliseconds(bound);
  *ok = false;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) {
      *ok = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

class NetguardTamperTest : public NetguardNetnsTest {
 protected:
  // Starts `wims-netguard watch --mode restrict <extra>` in the node namespace, then deletes the
  // table, deletes a rule and inserts a foreign rule, each time waiting (bounded, 10 s) for the
  // repair. Repair latencies are printed and recorded as test properties, not asserted.
  void tamper_and_measure(const std::vector<std::string>& extra, const std::string& label) {
    std::vector<std::string> argv = {"ip",  "netns", "exec",   topo_->node(),
                                     kTool, "watch", "--mode", "restrict"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    const std::string log = topo_->dir() + "/watch.log";
    absl::StatusOr<pid_t> watcher = topo_->spawn(argv, log);
    ASSERT_TRUE(watcher.ok());
    bool ok = false;
    wait_until([&] { return table_exists(topo_->node()); }, absl::Seconds(10), &ok);
    ASSERT_TRUE(ok) << "watch did not install the table";
    const std::string desired = nft(topo_->node(), "-s list table inet wims_netguard").out;
    auto restored = [&] {
      return nft(topo_->node(), "-s list table inet wims_netguard 2>/dev/null").out == desired;
    };

    struct Tamper {
      const char* name;
      std::function<std::string()> command;
    };
    const Tamper tampers[] = {
        {"delete-table", [] { return std::string("delete table inet wims_netguard"); }},
        {"delete-rule",
         [&] {
           const std::string listing = nft(topo_->node(), "-a list table inet wims_netguard").out;
           std::smatch m;
           std::regex rule(R"(ip daddr @imds4 .*drop.*# handle (\d+))");
           EXPECT_TRUE(std::regex_search(listing, m, rule)) << listing;
           return "delete rule inet wims_netguard pod_block handle " + m[1].str();
         }},
        {"insert-accept",
         [] { return std::string("insert rule inet wims_netguard pod_block accept"); }},
    };
    for (const Tamper& t : tampers) {
      SCOPED_TRACE(t.name);
      ASSERT_EQ(nft(topo_->node(), t.command()).exit_code, 0);
      double ms = wait_until(restored, absl::Seconds(10), &ok);
      EXPECT_TRUE(ok) << "not repaired within 10 s";
      const std::string key = label + "_" + t.name + "_repair_ms";
      RecordProperty(key, fmt::format("{:.1f}", ms));
      std::printf("netguard repair latency (%s, %s): %.1f ms\n", label.c_str(), t.name, ms);
    }
    // Still enforcing after the repairs, over both families.
    EXPECT_EQ(get(1, kImdsUrl4), "TIMEOUT");
    EXPECT_EQ(get(2, kImdsUrl6), "TIMEOUT");
    EXPECT_EQ(topo_->http_get(topo_->node(), kImdsUrl4), kImds4);

    topo_->stop_process(*watcher);
    EXPECT_TRUE(table_exists(topo_->node())) << "stopping wims must leave the restriction in place";
    std::ifstream f(log);
    const std::string text((std::istreambuf_iterator<char>(f)), {});
    EXPECT_NE(text.find("repair #3"), std::string::npos) << text;
  }
};

TEST_F(NetguardTamperTest, NetlinkEventsRepairTampering) {
  // A 1-hour backstop: any repair within the 10 s bound came from the nftables event feed.
  tamper_and_measure({"--interval", "1h"}, "events");
}

TEST_F(NetguardTamperTest, PeriodicBackstopRepairsTampering) {
  tamper_and_measure({"--no-events", "--interval", "200ms"}, "periodic");
}

}  // namespace
}  // namespace wims::netguard::testing
