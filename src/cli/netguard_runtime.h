// NetguardRuntime: the `--netguard off|restrict|redirect` option of `wims up` and `wims node`. It
// turns the option and the metadata listener's bound endpoint into netguard::Options, applies the
// rules (preflight: root/CAP_NET_ADMIN, nftables, address families; redirect also cuts existing
// connections to the real endpoint), then keeps them in place with a netguard::Reconciler on its
// own thread (nftables netlink events, plus a periodic backstop). Each repair is logged by the
// Reconciler and counted in `wims_netguard_repairs_total{mode="restrict|redirect"}` (the series
// exists at 0 from start, so /metrics also shows the active mode). stop() leaves the rules in
// place: if wims stops, pods stay cut off from the real endpoint (fail closed); `wims netguard
// remove` uninstalls them.
//
// Redirect sends pod traffic to the metadata listener's PORT on the address of the node interface
// the pod's packet arrived on (nft `redirect`), so the metadata listener must be bound to the
// unspecified address:
// `--metadata-addr [::]:P` (IPv4 + IPv6, dual stack) or `0.0.0.0:P` (only if the node has no IPv6).
// start() refuses anything else with a message saying so (netguard/redirect_listener.h). IPv6 rules
// are installed when the node's network namespace has IPv6, otherwise IPv4 only.
//
// Usage (wims up, wims node): bind the metadata listener first, then
//
//   std::string netguard_word = "off";                    // bound to the subcommand by
//   add_netguard_option add_netguard_option(*cmd, netguard_word);
//   ...
//   WIMS_ASSIGN_OR_RETURN(NetguardMode mode, parse_netguard_mode(netguard_word));
//   auto netguard = NetguardRuntime::start({.mode = mode, .metadata_listener =
//   server.local_endpoint()},
//                                          metrics);
//   if (!netguard.ok()) { std::cerr << "wims up: " << netguard.status().message() << "\n"; return
//   1; }
//   ...                                                    // serve
//   (*netguard)->stop();                                   // on shutdown; rules stay
//
// With mode kOff, start() touches nothing and returns an inert runtime (enabled() == false).
// Threading: start() blocks on netlink (a few ms) and must not run on an I/O thread; call
// start()/stop() from one owning thread (main). `metrics` must outlive the runtime. Getters are
// thread-safe.
#pragma once

#include <CLI/CLI.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "http/metrics.h"
#include "netguard/reconciler.h"
#include "netguard/ruleset.h"

namespace wims::cli {

enum class NetguardMode { kOff, kRestrict, kRedirect };

// "off" | "restrict" | "redirect"; InvalidArgument otherwise.
absl::StatusOr<NetguardMode> parse_netguard_mode(std::string_view word);
std::string_view netguard_mode_name(NetguardMode mode);

// Adds `--netguard off|restrict|redirect` (validated; default: the current value of `word`,
// normally "off").
void add_netguard_option(CLI::App& command, std::string& word);

struct NetguardRuntimeOptions {
  NetguardMode mode = NetguardMode::kOff;
  // The metadata listener as bound (http::Server::local_endpoint()). Redirect targets its port.
  boost::asio::ip::tcp::endpoint metadata_listener;
  // Periodic check besides the nftables events.
  absl::Duration backstop_interval = absl::Seconds(30);
  // Tests only: another table name.
  std::string table = std::string(netguard::kDefaultTable);
};

class NetguardRuntime {
 public:
  // kOff: inert runtime. Otherwise: FailedPrecondition (redirect listener unreachable; no
  // nftables), PermissionDenied (not root / no CAP_NET_ADMIN), each message starting with
  // "netguard" and saying what to do; nothing is left installed when an error is returned before
  // the first apply.
  static absl::StatusOr<std::unique_ptr<NetguardRuntime>> start(
      const NetguardRuntimeOptions& options, http::Metrics& metrics);
  ~NetguardRuntime();  // stop()
  NetguardRuntime(const NetguardRuntime&) = delete;
  NetguardRuntime& operator=(const NetguardRuntime&) = delete;

  // Stops reconciling (joins the thread). Leaves the rules in place. Idempotent.
  void stop();

  bool enabled() const { return reconciler_ != nullptr; }
  NetguardMode mode() const { return mode_; }
  // Tables restored since start().
  int64_t repairs() const { return reconciler_ ? reconciler_->repairs() : 0; }
  // One line for logs: "netguard redirect: pods' 169.254.169.254:80 and [fd00:ec2::254]:80 -> port
  // 8980".
  const std::string& description() const { return description_; }

 private:
  NetguardRuntime(NetguardMode mode, std::unique_ptr<netguard::Reconciler> reconciler,
                  std::string description)
      : mode_(mode), reconciler_(std::move(reconciler)), description_(std::move(description)) {}

  NetguardMode mode_;
  std::unique_ptr<netguard::Reconciler> reconciler_;
  std::string description_;
  bool stopped_ = false;
};

}  // namespace wims::cli
