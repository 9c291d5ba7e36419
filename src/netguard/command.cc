#include "netguard/command.h"

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/time/time.h"
#include "common/strings.h"
#include "netguard/change_feed.h"
#include "netguard/netguard.h"
#include "netguard/reconciler.h"
#include "spdlog/spdlog.h"

namespace wims::netguard {
namespace {

constexpr int kFailed = 1;
constexpr int kUsage = 2;

int report(const absl::Status& status, std::ostream& err) {
  if (status.ok()) return 0;
  err << "wims netguard: " << status.message() << "\n";
  return kFailed;
}

// Blocks until SIGINT or SIGTERM. The signals are blocked first so the Reconciler thread (created
// after) inherits the mask and sigwait() is the only receiver.
int watch(const Options& options, absl::Duration interval, bool events, std::ostream& out,
          std::ostream& err) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigset_t previous;
  pthread_sigmask(SIG_BLOCK, &signals, &previous);

  absl::Status applied = apply(options);  // preflight and conntrack flush
  if (!applied.ok()) {
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    return report(applied, err);
  }
  absl::StatusOr<std::unique_ptr<NftBackend>> backend = NftBackend::create();
  if (!backend.ok()) {
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    return report(backend.status(), err);
  }
  std::unique_ptr<ChangeFeed> feed;
  if (auto netlink = NetlinkChangeFeed::create(); events && netlink.ok()) {
    feed = std::move(*netlink);
  } else if (!events) {
    feed = std::make_unique<PeriodicOnlyFeed>();
  } else {
    spdlog::warn("netguard: no nftables events ({}); checking every {} only",
                 netlink.status().ToString(), absl::FormatDuration(interval));
    feed = std::make_unique<PeriodicOnlyFeed>();
  }
  Reconciler reconciler(options, std::move(*backend), std::move(feed), interval);
  if (absl::Status started = reconciler.start(); !started.ok()) {
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    return report(started, err);
  }
  out << "netguard: watching table inet " << options.table << " (mode " << mode_name(options.mode)
      << ")" << std::endl;
  int signal = 0;
  sigwait(&signals, &signal);
  reconciler.stop();
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  out << "netguard: stopped after " << reconciler.repairs() << " repair(s); rules left in place"
      << std::endl;
  return 0;
}

}  // namespace

int run_netguard_command(std::vector<std::string> args, std::ostream& out, std::ostream& err) {
  CLI::App app{"Keep pods away from the instance metadata endpoint, or send them to wims",
               "netguard"};
  app.require_subcommand(1, 1);

  std::string mode_text;
  std::string family_text = "both";
  std::string table = std::string(kDefaultTable);
  std::string interval_text = "30s";
  uint16_t port = 0;
  uint32_t exempt_uid = 0;
  bool json = false;
  bool no_events = false;
  bool block_wireserver = false;

  auto add_common = [&](CLI::App* sub) {
    sub->add_option("--table", table, "nftables table (family inet) owned by wims")
        ->capture_default_str();
  };
  auto add_family = [&](CLI::App* sub) {
    sub->add_option("--family", family_text, "address families to cover: both, ipv4, ipv6")
        ->check(CLI::IsMember({"both", "ipv4", "ipv6"}))
        ->capture_default_str();
  };

  CLI::App* apply_cmd =
      app.add_subcommand("apply", "Install (or atomically replace) the netguard rules");
  apply_cmd->add_option("--mode", mode_text, "restrict or redirect")
      ->required()
      ->check(CLI::IsMember({"restrict", "redirect"}));
  apply_cmd->add_option("--port", port, "redirect: the wims metadata port on the node")
      ->check(CLI::Range(1, 65535));
  apply_cmd->add_flag("--block-wireserver", block_wireserver,
                      "also drop pod TCP 80/32526 to the Azure WireServer 168.63.129.16");
  add_family(apply_cmd);
  add_common(apply_cmd);

  CLI::App* remove_cmd = app.add_subcommand("remove", "Delete exactly the table wims installed");
  add_common(remove_cmd);

  CLI::App* status_cmd = app.add_subcommand("status", "Show the mode, rules and counters");
  status_cmd->add_flag("--json", json, "print JSON");
  add_common(status_cmd);

  CLI::App* sidecar_cmd = app.add_subcommand(
      "sidecar-init", "Inside a pod's netns: send the pod's metadata traffic to the sidecar");
  sidecar_cmd->add_option("--port", port, "the sidecar's port on localhost")
      ->required()
      ->check(CLI::Range(1, 65535));
  sidecar_cmd
      ->add_option("--exempt-uid", exempt_uid, "uid of the sidecar (reaches the real endpoint)")
      ->required();
  add_family(sidecar_cmd);
  add_common(sidecar_cmd);

  CLI::App* watch_cmd =
      app.add_subcommand("watch", "Apply, then repair deletions/alterations until SIGINT/SIGTERM");
  watch_cmd->add_option("--mode", mode_text, "restrict, redirect or sidecar")
      ->required()
      ->check(CLI::IsMember({"restrict", "redirect", "sidecar"}));
  watch_cmd->add_option("--port", port, "redirect/sidecar target port")
      ->check(CLI::Range(1, 65535));
  watch_cmd->add_option("--exempt-uid", exempt_uid, "sidecar: uid that is not redirected");
  watch_cmd->add_flag("--block-wireserver", block_wireserver,
                      "restrict/redirect: also drop pod TCP 80/32526 to the Azure WireServer");
  watch_cmd->add_option("--interval", interval_text, "backstop check interval (e.g. 30s)")
      ->capture_default_str();
  watch_cmd->add_flag("--no-events", no_events,
                      "do not subscribe to nftables events (periodic checks only)");
  add_family(watch_cmd);
  add_common(watch_cmd);

  std::reverse(args.begin(), args.end());  // CLI11 consumes the vector from the back
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e, out, err);
    return code == 0 ? 0 : kUsage;
  }

  Options options;
  options.table = table;
  options.port = port;
  options.exempt_uid = exempt_uid;
  options.block_wireserver = block_wireserver;
  if (absl::StatusOr<Families> f = parse_families(family_text); f.ok()) {
    options.families = *f;
  } else {
    err << "wims netguard: " << f.status().message() << "\n";
    return kUsage;
  }
  auto usage_error = [&](const absl::Status& s) {
    err << "wims netguard: " << s.message() << "\n";
    return kUsage;
  };

  if (apply_cmd->parsed() || watch_cmd->parsed()) {
    absl::StatusOr<Mode> mode = parse_mode(mode_text);
    if (!mode.ok()) return usage_error(mode.status());
    options.mode = *mode;
    if (absl::Status valid = validate(options); !valid.ok()) return usage_error(valid);
    if (apply_cmd->parsed()) {
      int code = report(apply(options), err);
      if (code == 0) out << "netguard: applied mode " << mode_name(options.mode) << "\n";
      return code;
    }
    absl::Duration interval;
    if (!absl::ParseDuration(to_absl(interval_text), &interval) ||
        interval <= absl::ZeroDuration()) {
      return usage_error(
          absl::InvalidArgumentError("--interval must be a positive duration like 30s"));
    }
    return watch(options, interval, !no_events, out, err);
  }
  if (sidecar_cmd->parsed()) {
    options.mode = Mode::kSidecar;
    if (absl::Status valid = validate(options); !valid.ok()) return usage_error(valid);
    int code = report(apply(options), err);
    if (code == 0) out << "netguard: sidecar redirect to port " << port << " installed\n";
    return code;
  }
  if (remove_cmd->parsed()) {
    if (absl::Status valid = validate(options); !valid.ok()) return usage_error(valid);
    int code = report(remove(table), err);
    if (code == 0) out << "netguard: removed table inet " << table << "\n";
    return code;
  }
  if (status_cmd->parsed()) {
    if (absl::Status valid = validate(options); !valid.ok()) return usage_error(valid);
    absl::StatusOr<StatusReport> st = status(table);
    if (!st.ok()) return report(st.status(), err);
    out << (json ? format_status_json(*st) : format_status_text(*st));
    return 0;
  }
  return kUsage;  // unreachable: require_subcommand(1, 1)
}

}  // namespace wims::netguard
