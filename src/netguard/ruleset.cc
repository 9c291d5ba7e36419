#include "netguard/ruleset.h"

#include <arpa/inet.h>

#include <string>

#include "fmt/format.h"

namespace wims::netguard {
namespace {

bool is_ipv4(const std::string& text) {
  in_addr addr{};
  return inet_pton(AF_INET, text.c_str(), &addr) == 1;
}

bool is_ipv6(const std::string& text) {
  in6_addr addr{};
  return inet_pton(AF_INET6, text.c_str(), &addr) == 1;
}

bool has_v4(Families f) { return f != Families::kIpv6; }
bool has_v6(Families f) { return f != Families::kIpv4; }

// nft identifiers: letters, digits, underscore; we also keep them short for `nft list` readability.
bool is_identifier(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z'))) return false;
  for (char c : name) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string table_comment(const Options& o) {
  const std::string_view wireserver = o.block_wireserver ? " block-wireserver" : "";
  switch (o.mode) {
    case Mode::kRestrict:
      return fmt::format("managed by wims netguard; mode=restrict{}", wireserver);
    case Mode::kRedirect:
      return fmt::format("managed by wims netguard; mode=redirect port={}{}", o.port, wireserver);
    case Mode::kSidecar:
      return fmt::format("managed by wims netguard; mode=sidecar port={} exempt-uid={}", o.port,
                         o.exempt_uid);
  }
  return "";
}

}  // namespace

std::string_view mode_name(Mode mode) {
  switch (mode) {
    case Mode::kRestrict:
      return "restrict";
    case Mode::kRedirect:
      return "redirect";
    case Mode::kSidecar:
      return "sidecar";
  }
  return "unknown";
}

absl::StatusOr<Mode> parse_mode(std::string_view name) {
  if (name == "restrict") return Mode::kRestrict;
  if (name == "redirect") return Mode::kRedirect;
  if (name == "sidecar") return Mode::kSidecar;
  return absl::InvalidArgumentError(
      fmt::format("unknown netguard mode \"{}\" (expected restrict, redirect or sidecar)", name));
}

std::string_view families_name(Families families) {
  switch (families) {
    case Families::kBoth:
      return "both";
    case Families::kIpv4:
      return "ipv4";
    case Families::kIpv6:
      return "ipv6";
  }
  return "unknown";
}

absl::StatusOr<Families> parse_families(std::string_view name) {
  if (name == "both") return Families::kBoth;
  if (name == "ipv4") return Families::kIpv4;
  if (name == "ipv6") return Families::kIpv6;
  return absl::InvalidArgumentError(
      fmt::format("unknown address family selection \"{}\" (expected both, ipv4 or ipv6)", name));
}

absl::Status validate(const Options& o) {
  if (!is_identifier(o.table)) {
    return absl::InvalidArgumentError(
        fmt::format("netguard table name \"{}\" must be 1-64 letters, digits or underscores, "
                    "starting with a letter",
                    o.table));
  }
  if (has_v4(o.families) && !is_ipv4(o.imds_ipv4)) {
    return absl::InvalidArgumentError(
        fmt::format("metadata IPv4 address \"{}\" is not an IPv4 address", o.imds_ipv4));
  }
  if (has_v6(o.families) && !is_ipv6(o.imds_ipv6)) {
    return absl::InvalidArgumentError(
        fmt::format("metadata IPv6 address \"{}\" is not an IPv6 address", o.imds_ipv6));
  }
  switch (o.mode) {
    case Mode::kRestrict:
      if (o.port != 0) {
        return absl::InvalidArgumentError(
            "--port applies to the redirect and sidecar modes, not restrict");
      }
      break;
    case Mode::kRedirect:
    case Mode::kSidecar:
      if (o.port == 0) {
        return absl::InvalidArgumentError(
            fmt::format("netguard mode {} needs a target port (1-65535)", mode_name(o.mode)));
      }
      break;
  }
  if (o.mode != Mode::kSidecar && o.exempt_uid != 0) {
    return absl::InvalidArgumentError("--exempt-uid applies to the sidecar mode only");
  }
  if (o.block_wireserver) {
    if (o.mode == Mode::kSidecar) {
      return absl::InvalidArgumentError(
          "--block-wireserver applies to the restrict and redirect modes (on the node), not "
          "sidecar");
    }
    if (!has_v4(o.families)) {
      return absl::InvalidArgumentError(
          "--block-wireserver needs IPv4 (the WireServer has no IPv6 address); use --family both "
          "or ipv4");
    }
    if (!is_ipv4(o.wireserver_ipv4)) {
      return absl::InvalidArgumentError(
          fmt::format("WireServer address \"{}\" is not an IPv4 address", o.wireserver_ipv4));
    }
  }
  return absl::OkStatus();
}

std::string render_table(const Options& o) {
  const bool v4 = has_v4(o.families);
  const bool v6 = has_v6(o.families);
  std::string out = fmt::format("table inet {} {{\n", o.table);
  out += fmt::format("\tcomment \"{}\"\n", table_comment(o));
  if (v4) {
    out += fmt::format("\tset imds4 {{\n\t\ttype ipv4_addr\n\t\telements = {{ {} }}\n\t}}\n",
                       o.imds_ipv4);
  }
  if (v6) {
    out += fmt::format("\tset imds6 {{\n\t\ttype ipv6_addr\n\t\telements = {{ {} }}\n\t}}\n",
                       o.imds_ipv6);
  }
  switch (o.mode) {
    case Mode::kRestrict:
      // priority raw (-300): before conntrack, so blocked pod packets never create conntrack
      // entries, and before every iptables chain (iptables-nft and legacy); a drop is final
      // whatever runs later.
      out += "\tchain pod_block {\n";
      out += "\t\ttype filter hook prerouting priority raw; policy accept;\n";
      out += "\t\tiif \"lo\" return comment \"node-local traffic keeps access\"\n";
      if (v4) out += "\t\tip daddr @imds4 counter drop comment \"restrict: pods to IMDS IPv4\"\n";
      if (v6) out += "\t\tip6 daddr @imds6 counter drop comment \"restrict: pods to IMDS IPv6\"\n";
      out += "\t}\n";
      break;
    case Mode::kRedirect:
      // dstnat - 10: the first NAT binding wins, so we must run before kube-proxy/CNI DNAT at -100.
      // `redirect` (not DNAT to 127.0.0.1) needs no route_localnet (CVE-2020-8558) and works for
      // IPv6.
      out += "\tchain pod_redirect {\n";
      out += "\t\ttype nat hook prerouting priority dstnat - 10; policy accept;\n";
      out += "\t\tiif \"lo\" return comment \"node-local traffic keeps access\"\n";
      if (v4) {
        out += fmt::format(
            "\t\tip daddr @imds4 tcp dport 80 counter redirect to :{} comment \"redirect: pods to "
            "wims "
            "IPv4\"\n",
            o.port);
      }
      if (v6) {
        out += fmt::format(
            "\t\tip6 daddr @imds6 tcp dport 80 counter redirect to :{} comment \"redirect: pods to "
            "wims "
            "IPv6\"\n",
            o.port);
      }
      out += "\t}\n";
      // After NAT: whatever is still aimed at the endpoint (other ports and protocols, and packets
      // of connections established before the redirect) is dropped.
      out += "\tchain pod_fail_closed {\n";
      out += "\t\ttype filter hook prerouting priority dstnat + 10; policy accept;\n";
      out += "\t\tiif \"lo\" return comment \"node-local traffic keeps access\"\n";
      if (v4)
        out += "\t\tip daddr @imds4 counter drop comment \"fail closed: pods to IMDS IPv4\"\n";
      if (v6)
        out += "\t\tip6 daddr @imds6 counter drop comment \"fail closed: pods to IMDS IPv6\"\n";
      out += "\t}\n";
      break;
    case Mode::kSidecar:
      // nft 1.0.6 has no `dstnat` keyword for the output hook, hence the number (-100 - 10).
      out += "\tchain sidecar_redirect {\n";
      out += "\t\ttype nat hook output priority -110; policy accept;\n";
      out += fmt::format("\t\tmeta skuid {} accept comment \"sidecar uid reaches the endpoint\"\n",
                         o.exempt_uid);
      if (v4) {
        out += fmt::format(
            "\t\tip daddr @imds4 tcp dport 80 counter redirect to :{} comment \"sidecar: pod to "
            "localhost IPv4\"\n",
            o.port);
      }
      if (v6) {
        out += fmt::format(
            "\t\tip6 daddr @imds6 tcp dport 80 counter redirect to :{} comment \"sidecar: pod to "
            "localhost IPv6\"\n",
            o.port);
      }
      out += "\t}\n";
      break;
  }
  if (o.block_wireserver) {
    // Same hook and priority as restrict: before conntrack and every iptables chain.
    out += "\tchain pod_wireserver_block {\n";
    out += "\t\ttype filter hook prerouting priority raw; policy accept;\n";
    out += "\t\tiif \"lo\" return comment \"node-local traffic keeps access\"\n";
    out += fmt::format(
        "\t\tip daddr {} tcp dport {{ 80, 32526 }} counter drop comment \"block-wireserver: pods "
        "to WireServer\"\n",
        o.wireserver_ipv4);
    out += "\t}\n";
  }
  out += "}\n";
  return out;
}

std::string render_apply_script(const Options& o) {
  return fmt::format("table inet {0}\ndelete table inet {0}\n{1}", o.table, render_table(o));
}

std::string render_remove_script(std::string_view table) {
  return fmt::format("table inet {0}\ndelete table inet {0}\n", table);
}

}  // namespace wims::netguard
