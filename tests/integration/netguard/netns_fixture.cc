#include "integration/netguard/netns_fixture.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "fmt/format.h"

extern char** environ;

namespace wims::netguard::testing {
namespace {

constexpr const char* kPrefix = "wngt";
constexpr const char* kPython = "/usr/bin/python3";

// posix_spawnp with stdout to `out_fd` (or the log file) and its own process group.
absl::StatusOr<pid_t> spawn_with(const std::vector<std::string>& argv, int stdout_fd,
                                 int stderr_fd) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (stdout_fd >= 0) posix_spawn_file_actions_adddup2(&actions, stdout_fd, STDOUT_FILENO);
  if (stderr_fd >= 0) posix_spawn_file_actions_adddup2(&actions, stderr_fd, STDERR_FILENO);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return absl::InternalError(fmt::format("spawn {}: {}", argv[0], strerror(rc)));
  return pid;
}

bool pid_alive(pid_t pid) { return kill(pid, 0) == 0 || errno == EPERM; }

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

CommandResult run_shell(const std::string& command, int timeout_s) {
  CommandResult result;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return result;
  absl::StatusOr<pid_t> pid = spawn_with(
      {"timeout", "-k", "2", std::to_string(timeout_s), "/bin/sh", "-c", command}, fds[1], -1);
  close(fds[1]);
  if (!pid.ok()) {
    close(fds[0]);
    return result;
  }
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) result.out.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(*pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

bool netns_tests_supported(std::string* why) {
  if (geteuid() != 0) {
    *why = "network-namespace tests need root";
    return false;
  }
  if (run_shell("ip netns list >/dev/null", 10).exit_code != 0) {
    *why = "`ip netns` is unavailable";
    return false;
  }
  if (run_shell("command -v curl >/dev/null && command -v setpriv >/dev/null", 5).exit_code != 0 ||
      access(kPython, X_OK) != 0) {
    *why = "curl, setpriv or /usr/bin/python3 is missing";
    return false;
  }
  return true;
}

void cleanup_leftover_namespaces() {
  CommandResult list = run_shell("ip netns list", 10);
  std::istringstream lines(list.out);
  std::string line;
  while (std::getline(lines, line)) {
    std::string name = line.substr(0, line.find(' '));
    if (name.rfind(kPrefix, 0) != 0) continue;
    size_t dash = name.find('-');
    if (dash == std::string::npos) continue;
    pid_t owner = static_cast<pid_t>(std::atoi(name.substr(4, dash - 4).c_str()));
    if (owner <= 0 || pid_alive(owner)) continue;
    run_shell(
        fmt::format("ip netns pids {0} | xargs -r kill -9; ip netns del {0}; rm -rf /etc/netns/{0}",
                    name),
        10);
  }
}

NetnsTopology::NetnsTopology() {
  prefix_ = fmt::format("{}{}", kPrefix, getpid());
  node_ = prefix_ + "-node";
  cloud_ = prefix_ + "-cloud";
  pod1_ = prefix_ + "-pod1";
  pod2_ = prefix_ + "-pod2";
  char tmpl[] = "/tmp/wims-netns-XXXXXX";
  const char* d = mkdtemp(tmpl);
  dir_ = d != nullptr ? d : "/tmp";
}

absl::StatusOr<std::unique_ptr<NetnsTopology>> NetnsTopology::create() {
  cleanup_leftover_namespaces();
  std::unique_ptr<NetnsTopology> topo(new NetnsTopology());
  if (absl::Status built = topo->build(); !built.ok()) return built;  // the destructor cleans up
  return topo;
}

absl::Status NetnsTopology::build() {
  // A previous topology of this same process (same pid) may still exist if a test crashed mid-way.
  for (const std::string& ns : {node_, cloud_, pod1_, pod2_}) {
    run_shell(fmt::format(
        "ip netns pids {0} 2>/dev/null | xargs -r kill -9; ip netns del {0} 2>/dev/null", ns));
  }
  auto sh = [](const std::string& cmd) -> absl::Status {
    CommandResult r = run_shell(cmd);
    if (r.exit_code != 0) {
      return absl::InternalError(fmt::format("topology command failed ({}): {}", r.exit_code, cmd));
    }
    return absl::OkStatus();
  };
  for (const std::string& ns : {node_, cloud_, pod1_, pod2_}) {
    if (absl::Status s = sh("ip netns add " + ns); !s.ok()) return s;
    created_.push_back(ns);
    if (absl::Status s = sh(fmt::format("ip -n {} link set lo up", ns)); !s.ok()) return s;
  }
  const std::string N = node_, C = cloud_;
  std::vector<std::string> cmds = {
      fmt::format(
          "ip netns exec {} sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1", N),
      fmt::format("ip link add vcloud netns {} type veth peer name eth0 netns {}", N, C),
      fmt::format("ip -n {} addr add 169.254.0.1/16 dev vcloud", N),
      fmt::format("ip -n {} addr add fd00:ec2::1/64 dev vcloud nodad", N),
      fmt::format("ip -n {} addr add 169.254.169.254/16 dev eth0", C),
      fmt::format("ip -n {} addr add fd00:ec2::254/64 dev eth0 nodad", C),
      fmt::format("ip -n {} addr add 168.63.129.16/32 dev eth0", C),  // the Azure WireServer
      fmt::format("ip -n {} link set vcloud up", N),
      fmt::format("ip -n {} link set eth0 up", C),
      fmt::format("ip -n {} route add 168.63.129.16/32 via 169.254.169.254 dev vcloud", N),
      fmt::format("ip -n {} route add 10.200.0.0/16 via 169.254.0.1", C),
      fmt::format("ip -n {} -6 route add fd10::/16 via fd00:ec2::1", C),
  };
  for (int i = 1; i <= 2; ++i) {
    const std::string& P = pod(i);
    cmds.push_back(
        fmt::format("ip link add vethpod{} netns {} type veth peer name eth0 netns {}", i, N, P));
    cmds.push_back(fmt::format("ip -n {} addr add 10.200.{}.1/24 dev vethpod{}", N, i, i));
    cmds.push_back(fmt::format("ip -n {} addr add fd10:{}::1/64 dev vethpod{} nodad", N, i, i));
    cmds.push_back(fmt::format("ip -n {} addr add 10.200.{}.2/24 dev eth0", P, i));
    cmds.push_back(fmt::format("ip -n {} addr add fd10:{}::2/64 dev eth0 nodad", P, i));
    cmds.push_back(fmt::format("ip -n {} link set vethpod{} up", N, i));
    cmds.push_back(fmt::format("ip -n {} link set eth0 up", P));
    cmds.push_back(fmt::format("ip -n {} route add default via 10.200.{}.1", P, i));
    cmds.push_back(fmt::format("ip -n {} -6 route add default via fd10:{}::1", P, i));
  }
  // Stand-in for CNI/kube-proxy: pod egress masquerade in its own table (also turns conntrack on,
  // as on a real node). Tests check that netguard never touches it.
  cmds.push_back(
      fmt::format("ip netns exec {} nft -f - <<'NFT'\n"
                  "table inet cni_sim {{\n"
                  "  chain post {{\n"
                  "    type nat hook postrouting priority srcnat; policy accept;\n"
                  "    oifname \"vcloud\" ip saddr 10.200.0.0/16 masquerade\n"
                  "    oifname \"vcloud\" ip6 saddr fd10::/16 masquerade\n"
                  "  }}\n"
                  "}}\n"
                  "NFT",
                  N));
  for (const std::string& cmd : cmds) {
    if (absl::Status s = sh(cmd); !s.ok()) return s;
  }
  if (absl::Status s = start_echo_server(C, "169.254.169.254", 80, "IMDS"); !s.ok()) return s;
  if (absl::Status s = start_echo_server(C, "168.63.129.16", 80, "WIRESERVER"); !s.ok()) return s;
  return start_echo_server(C, "fd00:ec2::254", 80, "IMDS");
}

NetnsTopology::~NetnsTopology() {
  for (pid_t pid : processes_) stop_process(pid);
  for (const std::string& ns : created_) {
    run_shell(fmt::format("ip netns pids {0} | xargs -r kill -9; ip netns del {0}", ns), 10);
  }
  std::error_code ec;
  for (const std::string& ns : created_) std::filesystem::remove_all("/etc/netns/" + ns, ec);
  if (dir_ != "/tmp") std::filesystem::remove_all(dir_, ec);
}

CommandResult NetnsTopology::exec(const std::string& ns, const std::string& command,
                                  int timeout_s) const {
  return run_shell(fmt::format("ip netns exec {} {}", ns, command), timeout_s);
}

std::string NetnsTopology::http_get(const std::string& ns, const std::string& url,
                                    const std::string& prefix) const {
  CommandResult r = exec(ns, fmt::format("{} curl -s -g -m 2 '{}'", prefix, url), 10);
  if (r.exit_code == 0) return trim(r.out);
  if (r.exit_code == 28) return "TIMEOUT";
  return fmt::format("ERR{}", r.exit_code);
}

absl::Status NetnsTopology::set_hosts(const std::string& ns, const std::string& extra_lines) {
  std::error_code ec;
  const std::filesystem::path dir = "/etc/netns/" + ns;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError(fmt::format("mkdir {}: {}", dir.string(), ec.message()));
  std::ofstream hosts(dir / "hosts");
  hosts << "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n" << extra_lines << "\n";
  hosts.close();
  if (!hosts) return absl::InternalError(fmt::format("cannot write {}/hosts", dir.string()));
  return absl::OkStatus();
}

std::string NetnsTopology::script(const std::string& name) {
  return std::string(WIMS_NETGUARD_TEST_DIR) + "/" + name;
}

absl::StatusOr<pid_t> NetnsTopology::spawn(const std::vector<std::string>& argv,
                                           const std::string& log_file) {
  int fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return absl::InternalError(fmt::format("open {}: {}", log_file, strerror(errno)));
  absl::StatusOr<pid_t> pid = spawn_with(argv, fd, fd);
  close(fd);
  if (pid.ok()) processes_.push_back(*pid);
  return pid;
}

int NetnsTopology::stop_process(pid_t pid) {
  auto it = std::find(processes_.begin(), processes_.end(), pid);
  if (it == processes_.end()) return -1;
  processes_.erase(it);
  kill(-pid, SIGTERM);
  int status = 0;
  for (int i = 0; i < 50; ++i) {  // 5 s
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  kill(-pid, SIGKILL);
  waitpid(pid, &status, 0);
  return status;
}

absl::Status NetnsTopology::start_echo_server(const std::string& ns, const std::string& bind,
                                              int port, const std::string& label,
                                              std::optional<int> uid) {
  const std::string ready = fmt::format("{}/ready-{}-{}-{}", dir_, ns, port, processes_.size());
  std::vector<std::string> argv = {"ip", "netns", "exec", ns};
  if (uid) {
    argv.insert(argv.end(), {"setpriv", fmt::format("--reuid={}", *uid),
                             fmt::format("--regid={}", *uid), "--clear-groups"});
    // The unprivileged server must be able to create its ready file.
    std::filesystem::permissions(dir_, std::filesystem::perms::all,
                                 std::filesystem::perm_options::add);
  }
  argv.insert(argv.end(),
              {kPython, script("echo_server.py"), bind, std::to_string(port), label, ready});
  absl::StatusOr<pid_t> pid = spawn(argv, ready + ".log");
  if (!pid.ok()) return pid.status();
  for (int i = 0; i < 100; ++i) {  // 10 s
    if (std::filesystem::exists(ready)) return absl::OkStatus();
    if (waitpid(*pid, nullptr, WNOHANG) == *pid) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::ifstream log(ready + ".log");
  std::stringstream text;
  text << log.rdbuf();
  return absl::InternalError(
      fmt::format("echo server {} {}:{} did not start: {}", label, bind, port, text.str()));
}

}  // namespace wims::netguard::testing
