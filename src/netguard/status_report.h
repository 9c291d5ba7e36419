// StatusReport: what `wims netguard status` shows: whether our table is installed, the mode it
// enforces (with port / exempt uid), and every chain and rule with its counters. Built from `nft
// -j` (structure and counters) plus `nft -a` (each rule's text, matched by handle).
//
// Plain values; parsing and formatting are pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "netguard/ruleset.h"

namespace wims::netguard {

struct RuleStatus {
  int64_t handle = 0;
  std::string text;     // as nft prints it (counter values included), without the `# handle` suffix
  std::string comment;  // our rule comment, empty if none
  std::optional<uint64_t> packets;  // present when the rule has a counter
  std::optional<uint64_t> bytes;
};

struct ChainStatus {
  std::string name;
  std::string type;  // filter | nat
  std::string hook;  // prerouting | output | ...
  int priority = 0;
  std::vector<RuleStatus> rules;
};

struct StatusReport {
  bool installed = false;
  std::string table;
  // Derived from the chains we render; nullopt if the table exists but is not recognisable
  // (tampered).
  std::optional<Mode> mode;
  std::optional<uint16_t> port;        // redirect target port (redirect and sidecar)
  std::optional<uint32_t> exempt_uid;  // sidecar
  std::vector<ChainStatus> chains;
};

// Parses `nft -j -a list table inet <table>` output; `handles_listing` is `nft -a list table ...`
// text (may be empty, then rule texts stay empty). InvalidArgument on malformed JSON.
absl::StatusOr<StatusReport> parse_status(std::string_view table, std::string_view json_listing,
                                          std::string_view handles_listing);

// The report for a table that does not exist.
StatusReport not_installed(std::string_view table);

// Human-readable, several lines.
std::string format_status_text(const StatusReport& report);
// One JSON object:
// {"installed":..,"table":..,"mode":..,"port":..,"exempt_uid":..,"chains":[{"name",
// "type","hook","priority","rules":[{"handle","text","comment","packets","bytes"}]}]}
std::string format_status_json(const StatusReport& report);

}  // namespace wims::netguard
