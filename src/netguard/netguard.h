// netguard: keeps pods away from the node's instance metadata endpoint (169.254.169.254,
// fd00:ec2::254), or sends them to wims instead, with one nftables table that wims owns. These are
// the operations behind `wims netguard apply|remove|status|sidecar-init`; command.h parses those
// subcommands and reconciler.h keeps the rules in place while wims runs.
//
//   Options opts{.mode = Mode::kRedirect, .port = 8181};
//   WIMS_RETURN_IF_ERROR(netguard::apply(opts));      // atomic replace of table inet wims_netguard
//   WIMS_ASSIGN_OR_RETURN(StatusReport report, netguard::status());
//   WIMS_RETURN_IF_ERROR(netguard::remove());         // deletes exactly our table
//
// All functions block on netlink (never call them on an I/O thread) and act on the calling thread's
// network namespace. They are thread-safe (each call uses its own libnftables context).
#pragma once

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "netguard/rule_backend.h"
#include "netguard/ruleset.h"
#include "netguard/status_report.h"

namespace wims::netguard {

// Checks CAP_NET_ADMIN and the address families, validates `options`, replaces our table in one
// transaction and, in redirect mode, deletes conntrack entries to the real endpoint so that
// connections opened before the redirect are cut (a failure there is logged, not returned: the
// fail-closed chain drops those connections' packets anyway). Applying the same options twice
// equals applying them once.
absl::Status apply(const Options& options);
// The same without preflight and conntrack, on a given backend (tests, the Reconciler).
absl::Status apply(const Options& options, RuleBackend& backend);

// Deletes table inet <table> and nothing else; OK if it does not exist.
absl::Status remove(std::string_view table = kDefaultTable);
absl::Status remove(std::string_view table, RuleBackend& backend);

// The installed mode, rules and counters; `installed == false` if the table does not exist.
absl::StatusOr<StatusReport> status(std::string_view table = kDefaultTable);
absl::StatusOr<StatusReport> status(std::string_view table, RuleBackend& backend);

// For the sidecar's init container, inside the pod's network namespace: apply(Mode::kSidecar).
absl::Status sidecar_init(uint16_t port, uint32_t exempt_uid, Families families = Families::kBoth);

}  // namespace wims::netguard
