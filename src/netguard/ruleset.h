// The netguard ruleset model: which mode wims enforces on the metadata endpoint and the nftables
// text that implements it. Everything wims installs lives in ONE table it owns (`inet
// wims_netguard` by default); other tables and chains are never touched, because nftables base
// chains of every table see every packet and a `drop` anywhere is final (see docs/netguard.md and
// shared/spec/imds-netfilter.md).
//
//   Options opts{.mode = Mode::kRedirect, .port = 8181};
//   WIMS_RETURN_IF_ERROR(validate(opts));
//   std::string script = render_apply_script(opts);  // one nft transaction: flush + recreate our
//   table
//
// Pure functions over values; thread-safe; no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace wims::netguard {

enum class Mode {
  // Pods (traffic arriving on any interface but lo) cannot reach the endpoint at all; node
  // processes and
  // hostNetwork pods (output hook) keep access.
  kRestrict,
  // Pod TCP traffic to endpoint port 80 is redirected to wims on the node (source address
  // preserved);
  // anything else still aimed at the endpoint is dropped (fail closed).
  kRedirect,
  // Inside a pod's own netns: locally generated traffic to endpoint port 80 goes to the sidecar on
  // localhost, except packets of the sidecar's uid.
  kSidecar,
};

std::string_view mode_name(Mode mode);
absl::StatusOr<Mode> parse_mode(std::string_view name);

// Which address families the rules cover. IPv6 may be missing from a kernel or a netns
// (ipv6.disable=1).
enum class Families { kBoth, kIpv4, kIpv6 };
std::string_view families_name(Families families);
absl::StatusOr<Families> parse_families(std::string_view name);

inline constexpr std::string_view kDefaultTable = "wims_netguard";
inline constexpr std::string_view kImdsIpv4 = "169.254.169.254";
inline constexpr std::string_view kImdsIpv6 = "fd00:ec2::254";
// The Azure WireServer (node bootstrap and extension secrets; the 2024 "WireServing" attack).
inline constexpr std::string_view kWireServerIpv4 = "168.63.129.16";

struct Options {
  Mode mode = Mode::kRestrict;
  // Redirect target port (redirect: wims on the node; sidecar: the sidecar on localhost). Required
  // for redirect and sidecar, must be 0 for restrict.
  uint16_t port = 0;
  // Sidecar mode only: packets of this uid are not redirected (the sidecar itself reaches the
  // endpoint).
  uint32_t exempt_uid = 0;
  Families families = Families::kBoth;
  // Name of the `inet` table wims owns. Tests may use another name; production uses the default.
  std::string table = std::string(kDefaultTable);
  // The metadata endpoint addresses (AWS/GCE/Azure share the IPv4 one; fd00:ec2::254 is AWS Nitro
  // IPv6).
  std::string imds_ipv4 = std::string(kImdsIpv4);
  std::string imds_ipv6 = std::string(kImdsIpv6);
  // Restrict and redirect modes: pods (not lo) are also cut off from the Azure WireServer on TCP 80
  // and 32526, as AKS's block_wireserver.sh does; its DNS on 53 stays reachable. IPv4 only (the
  // WireServer has no IPv6 address), so it needs a family that includes IPv4.
  bool block_wireserver = false;
  std::string wireserver_ipv4 = std::string(kWireServerIpv4);
};

// InvalidArgument with a specific message for a port/uid/table/address that does not fit the mode.
absl::Status validate(const Options& options);

// The table definition alone: `table inet <name> { ... }` as nft accepts it. The text is stable
// (golden tested) and every rule carries a comment naming its purpose.
std::string render_table(const Options& options);

// The atomic replace script: `table inet T` + `delete table inet T` + the definition. Run as one
// nft_run_cmd_from_buffer call it is a single transaction (one ruleset generation): either the old
// table or the new one is live, never a half-built one, and nothing outside table T changes.
std::string render_apply_script(const Options& options);

// Deletes exactly table T; succeeds whether or not it exists (the empty `table` declaration makes
// the delete idempotent without needing `destroy`, which requires nft >= 1.0.8 and kernel >= 6.3).
std::string render_remove_script(std::string_view table);

}  // namespace wims::netguard
