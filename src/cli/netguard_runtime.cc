#include "cli/netguard_runtime.h"

#include <spdlog/spdlog.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "netguard/change_feed.h"
#include "netguard/netguard.h"
#include "netguard/preflight.h"
#include "netguard/redirect_listener.h"
#include "netguard/rule_backend.h"

namespace wims::cli {
namespace {

constexpr char kRepairsMetric[] = "wims_netguard_repairs_total";

absl::Status with_context(const absl::Status& status, NetguardMode mode) {
  return absl::Status(
      status.code(),
      absl::StrCat("netguard ", std::string(netguard_mode_name(mode)), ": ", status.message()));
}

std::string describe(const netguard::Options& options) {
  std::string targets;
  if (options.families != netguard::Families::kIpv6) absl::StrAppend(&targets, options.imds_ipv4);
  if (options.families == netguard::Families::kBoth) absl::StrAppend(&targets, " and ");
  if (options.families != netguard::Families::kIpv4)
    absl::StrAppend(&targets, "[", options.imds_ipv6, "]");
  if (options.mode == netguard::Mode::kRedirect) {
    return absl::StrCat(
        "netguard redirect: pods' ", targets, " port 80 -> this node's port ", options.port,
        " (source address kept); anything else to them dropped; table inet ", options.table);
  }
  return absl::StrCat("netguard restrict: pods cannot reach ", targets,
                      " (node processes and hostNetwork pods can); table inet ", options.table);
}

}  // namespace

absl::StatusOr<NetguardMode> parse_netguard_mode(std::string_view word) {
  if (word == "off") return NetguardMode::kOff;
  if (word == "restrict") return NetguardMode::kRestrict;
  if (word == "redirect") return NetguardMode::kRedirect;
  return absl::InvalidArgumentError(
      absl::StrCat("--netguard must be off, restrict or redirect, not '", std::string(word), "'"));
}

std::string_view netguard_mode_name(NetguardMode mode) {
  switch (mode) {
    case NetguardMode::kOff:
      return "off";
    case NetguardMode::kRestrict:
      return "restrict";
    case NetguardMode::kRedirect:
      return "redirect";
  }
  return "?";
}

void add_netguard_option(CLI::App& command, std::string& word) {
  command
      .add_option(
          "--netguard", word,
          "nftables rules for pods' traffic to the metadata endpoint 169.254.169.254 / "
          "fd00:ec2::254: "
          "off, restrict (pods cut off) or redirect (pods sent to this wims; needs --metadata-addr "
          "[::]:PORT). Kept in place while running, left in place on exit (wims netguard remove "
          "uninstalls). Needs root")
      ->check(CLI::IsMember({"off", "restrict", "redirect"}))
      ->capture_default_str();
}

absl::StatusOr<std::unique_ptr<NetguardRuntime>> NetguardRuntime::start(
    const NetguardRuntimeOptions& options, http::Metrics& metrics) {
  if (options.mode == NetguardMode::kOff) {
    return std::unique_ptr<NetguardRuntime>(
        new NetguardRuntime(NetguardMode::kOff, nullptr, "netguard off"));
  }
  netguard::Options desired;
  desired.mode = options.mode == NetguardMode::kRedirect ? netguard::Mode::kRedirect
                                                         : netguard::Mode::kRestrict;
  desired.table = options.table;
  // A node without IPv6 (ipv6.disable=1, or none in this netns) has no IPv6 path to the endpoint
  // either.
  desired.families = netguard::check_families(netguard::Families::kIpv6).ok()
                         ? netguard::Families::kBoth
                         : netguard::Families::kIpv4;
  if (desired.families == netguard::Families::kIpv4) {
    spdlog::info("netguard: no IPv6 in this network namespace; IPv4 rules only");
  }
  if (desired.mode == netguard::Mode::kRedirect) {
    desired.port = options.metadata_listener.port();
    absl::Status reachable = netguard::check_redirect_listener(
        options.metadata_listener.address().to_string(), desired.port, desired.families);
    if (!reachable.ok()) {
      // Name the flag of wims up/node; the reason stays netguard's.
      return absl::Status(reachable.code(),
                          absl::StrCat(reachable.message(), " (--metadata-addr)"));
    }
  }
  if (absl::Status valid = netguard::validate(desired); !valid.ok())
    return with_context(valid, options.mode);

  // Preflight (root, nftables, families), the atomic apply and, for redirect, the conntrack cut.
  if (absl::Status applied = netguard::apply(desired); !applied.ok())
    return with_context(applied, options.mode);

  absl::StatusOr<std::unique_ptr<netguard::NftBackend>> backend = netguard::NftBackend::create();
  if (!backend.ok()) return with_context(backend.status(), options.mode);
  std::unique_ptr<netguard::ChangeFeed> feed;
  if (auto netlink = netguard::NetlinkChangeFeed::create(); netlink.ok()) {
    feed = std::move(*netlink);
  } else {
    spdlog::warn("netguard: no nftables change events ({}); checking every {} only",
                 std::string(netlink.status().message()),
                 absl::FormatDuration(options.backstop_interval));
    feed = std::make_unique<netguard::PeriodicOnlyFeed>();
  }

  metrics.describe_counter(
      kRepairsMetric,
      "Times the netguard nftables table was found deleted or altered and restored, by mode");
  const std::string_view mode_label = netguard::mode_name(desired.mode);  // static storage
  metrics.increment(kRepairsMetric, {{"mode", mode_label}},
                    0);  // the series (and the mode) from the start
  http::Metrics* counter = &metrics;
  auto reconciler = std::make_unique<netguard::Reconciler>(
      desired, std::move(*backend), std::move(feed), options.backstop_interval,
      [counter, mode_label] {
        counter->increment(kRepairsMetric, {{"mode", mode_label}});
      });
  if (absl::Status started = reconciler->start(); !started.ok())
    return with_context(started, options.mode);

  std::string description = describe(desired);
  spdlog::info("{}", description);
  return std::unique_ptr<NetguardRuntime>(
      new NetguardRuntime(options.mode, std::move(reconciler), std::move(description)));
}

NetguardRuntime::~NetguardRuntime() { stop(); }

void NetguardRuntime::stop() {
  if (reconciler_ == nullptr || stopped_) return;
  stopped_ = true;
  reconciler_->stop();
  spdlog::info(
      "netguard: stopped reconciling after {} repair(s); rules left in place (fail closed; "
      "`wims netguard remove` uninstalls them)",
      reconciler_->repairs());
}

}  // namespace wims::cli
