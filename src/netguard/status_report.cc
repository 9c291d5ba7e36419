#include "netguard/status_report.h"

#include <charconv>
#include <map>
#include <string>

#include "boost/json.hpp"
#include "fmt/format.h"

namespace wims::netguard {
namespace {

namespace json = boost::json;

// Rule lines of `nft -a list table`: "\t\t<rule text> # handle N". Table, set and chain headers end
// with
// "{ # handle N" and are skipped.
std::map<int64_t, std::string> rule_texts(std::string_view listing) {
  std::map<int64_t, std::string> out;
  constexpr std::string_view kMarker = " # handle ";
  while (!listing.empty()) {
    size_t eol = listing.find('\n');
    std::string_view line = listing.substr(0, eol);
    listing = eol == std::string_view::npos ? std::string_view() : listing.substr(eol + 1);
    size_t pos = line.rfind(kMarker);
    if (pos == std::string_view::npos) continue;
    std::string_view text = line.substr(0, pos);
    while (!text.empty() && (text.front() == '\t' || text.front() == ' ')) text.remove_prefix(1);
    if (text.empty() || text.back() == '{') continue;
    std::string_view number = line.substr(pos + kMarker.size());
    int64_t handle = 0;
    auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), handle);
    if (ec != std::errc() || ptr != number.data() + number.size()) continue;
    out[handle] = std::string(text);
  }
  return out;
}

std::optional<uint64_t> as_u64(const json::value* v) {
  if (v == nullptr) return std::nullopt;
  if (v->is_uint64()) return v->as_uint64();
  if (v->is_int64() && v->as_int64() >= 0) return static_cast<uint64_t>(v->as_int64());
  return std::nullopt;
}

std::string as_string(const json::value* v) {
  if (v == nullptr || !v->is_string()) return "";
  return std::string(v->as_string());
}

void inspect_expression(const json::object& expr, RuleStatus& rule, StatusReport& report) {
  if (const json::value* counter = expr.if_contains("counter"); counter && counter->is_object()) {
    rule.packets = as_u64(counter->as_object().if_contains("packets"));
    rule.bytes = as_u64(counter->as_object().if_contains("bytes"));
  }
  if (const json::value* redirect = expr.if_contains("redirect");
      redirect && redirect->is_object()) {
    if (auto port = as_u64(redirect->as_object().if_contains("port")); port && *port <= 65535) {
      report.port = static_cast<uint16_t>(*port);
    }
  }
  if (const json::value* match = expr.if_contains("match"); match && match->is_object()) {
    const json::value* left = match->as_object().if_contains("left");
    const json::value* right = match->as_object().if_contains("right");
    if (left && left->is_object()) {
      const json::value* meta = left->as_object().if_contains("meta");
      if (meta && meta->is_object() && as_string(meta->as_object().if_contains("key")) == "skuid") {
        if (auto uid = as_u64(right); uid && *uid <= UINT32_MAX) {
          report.exempt_uid = static_cast<uint32_t>(*uid);
        }
      }
    }
  }
}

}  // namespace

StatusReport not_installed(std::string_view table) {
  StatusReport report;
  report.table = std::string(table);
  return report;
}

absl::StatusOr<StatusReport> parse_status(std::string_view table, std::string_view json_listing,
                                          std::string_view handles_listing) {
  boost::system::error_code ec;
  json::value root = json::parse(json::string_view(json_listing.data(), json_listing.size()), ec);
  if (ec) {
    return absl::InvalidArgumentError(
        fmt::format("netguard: cannot parse nft JSON listing: {}", ec.message()));
  }
  const json::value* items = root.is_object() ? root.as_object().if_contains("nftables") : nullptr;
  if (items == nullptr || !items->is_array()) {
    return absl::InvalidArgumentError("netguard: nft JSON listing has no \"nftables\" array");
  }
  StatusReport report = not_installed(table);
  const std::map<int64_t, std::string> texts = rule_texts(handles_listing);
  for (const json::value& item : items->as_array()) {
    if (!item.is_object()) continue;
    const json::object& obj = item.as_object();
    if (const json::value* t = obj.if_contains("table"); t && t->is_object()) {
      if (as_string(t->as_object().if_contains("name")) == table) report.installed = true;
    } else if (const json::value* c = obj.if_contains("chain"); c && c->is_object()) {
      const json::object& chain = c->as_object();
      if (as_string(chain.if_contains("table")) != table) continue;
      ChainStatus status;
      status.name = as_string(chain.if_contains("name"));
      status.type = as_string(chain.if_contains("type"));
      status.hook = as_string(chain.if_contains("hook"));
      if (const json::value* prio = chain.if_contains("prio"); prio && prio->is_int64()) {
        status.priority = static_cast<int>(prio->as_int64());
      }
      report.chains.push_back(std::move(status));
    } else if (const json::value* r = obj.if_contains("rule"); r && r->is_object()) {
      const json::object& rule_obj = r->as_object();
      if (as_string(rule_obj.if_contains("table")) != table) continue;
      const std::string chain_name = as_string(rule_obj.if_contains("chain"));
      RuleStatus rule;
      if (const json::value* h = rule_obj.if_contains("handle"); h && h->is_int64()) {
        rule.handle = h->as_int64();
      }
      rule.comment = as_string(rule_obj.if_contains("comment"));
      if (auto it = texts.find(rule.handle); it != texts.end()) rule.text = it->second;
      if (const json::value* exprs = rule_obj.if_contains("expr"); exprs && exprs->is_array()) {
        for (const json::value& e : exprs->as_array()) {
          if (e.is_object()) inspect_expression(e.as_object(), rule, report);
        }
      }
      for (ChainStatus& chain : report.chains) {
        if (chain.name == chain_name) {
          chain.rules.push_back(std::move(rule));
          break;
        }
      }
    }
  }
  // The mode is recognised from the chains render_table() creates.
  bool block = false, redirect = false, fail_closed = false, sidecar = false;
  for (const ChainStatus& chain : report.chains) {
    block |= chain.name == "pod_block";
    redirect |= chain.name == "pod_redirect";
    fail_closed |= chain.name == "pod_fail_closed";
    sidecar |= chain.name == "sidecar_redirect";
  }
  if (block && !redirect && !sidecar) report.mode = Mode::kRestrict;
  if (redirect && fail_closed && !block && !sidecar) report.mode = Mode::kRedirect;
  if (sidecar && !block && !redirect) report.mode = Mode::kSidecar;
  if (report.mode != Mode::kSidecar) report.exempt_uid.reset();
  if (report.mode == Mode::kRestrict) report.port.reset();
  return report;
}

std::string format_status_text(const StatusReport& report) {
  if (!report.installed) {
    return fmt::format("netguard: not installed (no table inet {})\n", report.table);
  }
  std::string out = fmt::format("netguard: installed (table inet {})\n", report.table);
  out +=
      fmt::format("mode: {}\n", report.mode ? mode_name(*report.mode) : "unrecognised (altered?)");
  if (report.port) out += fmt::format("port: {}\n", *report.port);
  if (report.exempt_uid) out += fmt::format("exempt uid: {}\n", *report.exempt_uid);
  for (const ChainStatus& chain : report.chains) {
    out += fmt::format("chain {} ({} hook {} priority {}):\n", chain.name, chain.type, chain.hook,
                       chain.priority);
    for (const RuleStatus& rule : chain.rules) {
      std::string counters;
      if (rule.packets && rule.text.empty())
        counters = fmt::format(" [{} packets, {} bytes]", *rule.packets, rule.bytes.value_or(0));
      out += fmt::format("  #{} {}{}\n", rule.handle, rule.text.empty() ? rule.comment : rule.text,
                         counters);
    }
  }
  return out;
}

std::string format_status_json(const StatusReport& report) {
  json::object root;
  root["installed"] = report.installed;
  root["table"] = report.table;
  root["mode"] = report.mode ? json::value(json::string(std::string(mode_name(*report.mode))))
                             : json::value(nullptr);
  root["port"] = report.port ? json::value(*report.port) : json::value(nullptr);
  root["exempt_uid"] = report.exempt_uid ? json::value(*report.exempt_uid) : json::value(nullptr);
  json::array chains;
  for (const ChainStatus& chain : report.chains) {
    json::object c;
    c["name"] = chain.name;
    c["type"] = chain.type;
    c["hook"] = chain.hook;
    c["priority"] = chain.priority;
    json::array rules;
    for (const RuleStatus& rule : chain.rules) {
      json::object r;
      r["handle"] = rule.handle;
      r["text"] = rule.text;
      r["comment"] = rule.comment;
      r["packets"] = rule.packets ? json::value(*rule.packets) : json::value(nullptr);
      r["bytes"] = rule.bytes ? json::value(*rule.bytes) : json::value(nullptr);
      rules.push_back(std::move(r));
    }
    c["rules"] = std::move(rules);
    chains.push_back(std::move(c));
  }
  root["chains"] = std::move(chains);
  return json::serialize(root) + "\n";
}

}  // namespace wims::netguard
