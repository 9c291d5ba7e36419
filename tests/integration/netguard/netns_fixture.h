// NetnsTopology: the throwaway network-namespace world of the netguard tests
// (shared/spec/imds-netfilter.md §3), reusable by any test that needs pods, a node and a cloud
// metadata endpoint:
//
//   cloud (fake IMDS on 169.254.169.254:80 and [fd00:ec2::254]:80)
//     <-vcloud-> node (plays the host / hostNetwork; forwards; masquerades pod egress like a CNI)
//     <-vethpod1-> pod1 10.200.1.2 / fd10:1::2     <-vethpod2-> pod2 10.200.2.2 / fd10:2::2
//
// Namespace names are `wngt<pid>-<role>`, unique per test process; the destructor kills every
// process it started and deletes the namespaces even when the test failed, and create() first
// removes leftovers of dead test processes (prefix wngt, pid no longer alive). Nothing is changed
// outside these namespaces. Every external command is bounded (`timeout`), every wait is a bounded
// poll.
//
//   if (std::string why; !netns_tests_supported(&why)) GTEST_SKIP() << why;
//   auto topo = NetnsTopology::create();               // ~2 s
//   ASSERT_TRUE(topo.ok()) << topo.status();
//   EXPECT_EQ((*topo)->http_get((*topo)->pod(1), kImdsUrl4), "IMDS 169.254.0.1");
//
// Not thread-safe; one topology per test.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace wims::netguard::testing {

inline constexpr const char* kImdsUrl4 = "http://169.254.169.254/latest/meta-data/instance-id";
inline constexpr const char* kImdsUrl6 = "http://[fd00:ec2::254]/latest/meta-data/instance-id";
// The node's address on the cloud link: what the fake IMDS sees after masquerade.
inline constexpr const char* kNodeCloudIpv4 = "169.254.0.1";
inline constexpr const char* kNodeCloudIpv6 = "fd00:ec2::1";

struct CommandResult {
  int exit_code = -1;  // 124 when `timeout` fired
  std::string out;     // stdout (stderr goes to the test log)
};

// Runs `/bin/sh -c command`, at most `timeout_s` seconds. Returns the exit code and stdout.
CommandResult run_shell(const std::string& command, int timeout_s = 20);

// True if the process is root and `ip netns`, curl and python3 are usable; otherwise `why` says
// what is missing (tests GTEST_SKIP with it).
bool netns_tests_supported(std::string* why);

// Deletes namespaces named wngt<pid>-* whose pid is no longer alive (after killing what runs in
// them).
void cleanup_leftover_namespaces();

class NetnsTopology {
 public:
  static absl::StatusOr<std::unique_ptr<NetnsTopology>> create();
  ~NetnsTopology();
  NetnsTopology(const NetnsTopology&) = delete;
  NetnsTopology& operator=(const NetnsTopology&) = delete;

  const std::string& node() const { return node_; }
  const std::string& cloud() const { return cloud_; }
  const std::string& pod(int i) const { return i == 1 ? pod1_ : pod2_; }
  static std::string pod_ipv4(int i) { return "10.200." + std::to_string(i) + ".2"; }
  static std::string pod_ipv6(int i) { return "fd10:" + std::to_string(i) + "::2"; }
  // A scratch directory removed with the topology.
  const std::string& dir() const { return dir_; }

  // `ip netns exec <ns> <command>` through the shell, bounded.
  CommandResult exec(const std::string& ns, const std::string& command, int timeout_s = 20) const;
  // curl -s -m 2 (-g) url inside `ns`, optionally prefixed (e.g. "setpriv --reuid=1501 ..."): the
  // body without trailing newline, "TIMEOUT" (curl 28), or "ERR<curl exit code>".
  std::string http_get(const std::string& ns, const std::string& url,
                       const std::string& prefix = "") const;

  // Starts echo_server.py in `ns` on bind:port answering "<label> <client address>", optionally as
  // `uid`, and waits (bounded) until it listens. Killed with the topology.
  absl::Status start_echo_server(const std::string& ns, const std::string& bind, int port,
                                 const std::string& label, std::optional<int> uid = std::nullopt);
  // Starts `argv` in the background (argv[0] looked up in PATH), stdout/stderr to `log_file`;
  // returns its pid. Killed (SIGTERM, then SIGKILL) with the topology unless stop_process() ran
  // first.
  absl::StatusOr<pid_t> spawn(const std::vector<std::string>& argv, const std::string& log_file);
  // SIGTERM, bounded wait, then SIGKILL. Returns the exit status as waitpid reports it (or -1).
  int stop_process(pid_t pid);

  // Gives `ns` its own /etc/hosts (`ip netns exec` bind-mounts /etc/netns/<ns>/hosts over
  // /etc/hosts), the localhost entries plus `extra_lines`: e.g. "169.254.169.254
  // metadata.google.internal", the name a GKE pod resolves through the cluster DNS. /etc/netns/<ns>
  // is removed with the topology (and with leftovers).
  absl::Status set_hosts(const std::string& ns, const std::string& extra_lines);

  // Path of a helper script next to this fixture (echo_server.py, keepalive_client.py).
  static std::string script(const std::string& name);

 private:
  NetnsTopology();
  absl::Status build();

  std::string prefix_, node_, cloud_, pod1_, pod2_, dir_;
  std::vector<std::string> created_;
  std::vector<pid_t> processes_;
};

}  // namespace wims::netguard::testing
