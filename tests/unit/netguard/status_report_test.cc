#include "netguard/status_report.h"

#include <gtest/gtest.h>

#include <string>

#include "boost/json.hpp"

namespace wims::netguard {
namespace {

// Captured from nft 1.0.6 (`nft -j -a list table inet wims_netguard` after `sidecar-init --port
// 8000
// --exempt-uid 1501`), with counters edited to non-zero values.
constexpr const char* kSidecarJson =
    R"({"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}, {"table": {"family": "inet", "name": "wims_netguard", "handle": 2}}, {"set": {"family": "inet", "name": "imds4", "table": "wims_netguard", "type": "ipv4_addr", "handle": 2, "elem": ["169.254.169.254"]}}, {"set": {"family": "inet", "name": "imds6", "table": "wims_netguard", "type": "ipv6_addr", "handle": 3, "elem": ["fd00:ec2::254"]}}, {"chain": {"family": "inet", "table": "wims_netguard", "name": "sidecar_redirect", "handle": 1, "type": "nat", "hook": "output", "prio": -110, "policy": "accept"}}, {"rule": {"family": "inet", "table": "wims_netguard", "chain": "sidecar_redirect", "handle": 4, "comment": "sidecar uid reaches the endpoint", "expr": [{"match": {"op": "==", "left": {"meta": {"key": "skuid"}}, "right": 1501}}, {"accept": null}]}}, {"rule": {"family": "inet", "table": "wims_netguard", "chain": "sidecar_redirect", "handle": 5, "comment": "sidecar: pod to localhost IPv4", "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "daddr"}}, "right": "@imds4"}}, {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 80}}, {"counter": {"packets": 3, "bytes": 180}}, {"redirect": {"port": 8000}}]}}, {"rule": {"family": "inet", "table": "wims_netguard", "chain": "sidecar_redirect", "handle": 6, "comment": "sidecar: pod to localhost IPv6", "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "daddr"}}, "right": "@imds6"}}, {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 80}}, {"counter": {"packets": 0, "bytes": 0}}, {"redirect": {"port": 8000}}]}}]})";

constexpr const char* kSidecarHandles = R"(table inet wims_netguard { # handle 2
	comment "managed by wims netguard; mode=sidecar port=8000 exempt-uid=1501"
	set imds4 { # handle 2
		type ipv4_addr
		elements = { 169.254.169.254 }
	}

	set imds6 { # handle 3
		type ipv6_addr
		elements = { fd00:ec2::254 }
	}

	chain sidecar_redirect { # handle 1
		type nat hook output priority -110; policy accept;
		meta skuid 1501 accept comment "sidecar uid reaches the endpoint" # handle 4
		ip daddr @imds4 tcp dport 80 counter packets 3 bytes 180 redirect to :8000 comment "sidecar: pod to localhost IPv4" # handle 5
		ip6 daddr @imds6 tcp dport 80 counter packets 0 bytes 0 redirect to :8000 comment "sidecar: pod to localhost IPv6" # handle 6
	}
}
)";

TEST(StatusReportTest, ParsesSidecarListing) {
  absl::StatusOr<StatusReport> r = parse_status("wims_netguard", kSidecarJson, kSidecarHandles);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->installed);
  ASSERT_TRUE(r->mode.has_value());
  EXPECT_EQ(*r->mode, Mode::kSidecar);
  EXPECT_EQ(r->port, 8000);
  EXPECT_EQ(r->exempt_uid, 1501u);
  ASSERT_EQ(r->chains.size(), 1u);
  const ChainStatus& chain = r->chains[0];
  EXPECT_EQ(chain.name, "sidecar_redirect");
  EXPECT_EQ(chain.type, "nat");
  EXPECT_EQ(chain.hook, "output");
  EXPECT_EQ(chain.priority, -110);
  ASSERT_EQ(chain.rules.size(), 3u);
  EXPECT_EQ(chain.rules[0].handle, 4);
  EXPECT_EQ(chain.rules[0].text,
            R"(meta skuid 1501 accept comment "sidecar uid reaches the endpoint")");
  EXPECT_FALSE(chain.rules[0].packets.has_value());
  EXPECT_EQ(chain.rules[1].comment, "sidecar: pod to localhost IPv4");
  EXPECT_EQ(chain.rules[1].packets, 3u);
  EXPECT_EQ(chain.rules[1].bytes, 180u);
  EXPECT_EQ(chain.rules[2].packets, 0u);
}

TEST(StatusReportTest, WithoutHandlesListingRuleTextsAreEmpty) {
  absl::StatusOr<StatusReport> r = parse_status("wims_netguard", kSidecarJson, "");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->chains.size(), 1u);
  EXPECT_EQ(r->chains[0].rules[1].text, "");
  EXPECT_EQ(r->chains[0].rules[1].packets, 3u);
}

TEST(StatusReportTest, RecognisesModesFromChains) {
  struct Case {
    const char* name;
    std::string chains;
    std::optional<Mode> mode;
  };
  auto chain = [](const char* name) {
    return std::string(R"({"chain": {"family": "inet", "table": "t", "name": ")") + name +
           R"(", "type": "filter", "hook": "prerouting", "prio": -300, "policy": "accept"}},)";
  };
  const Case cases[] = {
      {"restrict", chain("pod_block"), Mode::kRestrict},
      {"redirect", chain("pod_redirect") + chain("pod_fail_closed"), Mode::kRedirect},
      {"redirect without fail-closed chain (tampered)", chain("pod_redirect"), std::nullopt},
      {"restrict plus foreign chain is still restrict", chain("pod_block") + chain("extra"),
       Mode::kRestrict},
      {"mixed", chain("pod_block") + chain("sidecar_redirect"), std::nullopt},
      {"empty table", "", std::nullopt},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string json =
        R"({"nftables": [{"table": {"family": "inet", "name": "t", "handle": 1}},)" + c.chains +
        R"({"metainfo": {}}]})";
    absl::StatusOr<StatusReport> r = parse_status("t", json, "");
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE(r->installed);
    EXPECT_EQ(r->mode, c.mode);
  }
}

TEST(StatusReportTest, IgnoresOtherTables) {
  const std::string json =
      R"({"nftables": [{"table": {"family": "inet", "name": "other", "handle": 1}},
      {"chain": {"family": "inet", "table": "other", "name": "pod_block", "type": "filter", "hook": "prerouting", "prio": 0}}]})";
  absl::StatusOr<StatusReport> r = parse_status("wims_netguard", json, "");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->installed);
  EXPECT_TRUE(r->chains.empty());
}

TEST(StatusReportTest, RejectsMalformedJson) {
  const char* inputs[] = {"", "{", "[]", R"({"nftables": 3})", "not json"};
  for (const char* input : inputs) {
    SCOPED_TRACE(input);
    EXPECT_EQ(parse_status("t", input, "").status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(StatusReportTest, FormatsText) {
  EXPECT_EQ(format_status_text(not_installed("wims_netguard")),
            "netguard: not installed (no table inet wims_netguard)\n");
  absl::StatusOr<StatusReport> r = parse_status("wims_netguard", kSidecarJson, kSidecarHandles);
  ASSERT_TRUE(r.ok());
  const std::string text = format_status_text(*r);
  EXPECT_NE(text.find("mode: sidecar\n"), std::string::npos) << text;
  EXPECT_NE(text.find("exempt uid: 1501\n"), std::string::npos) << text;
  EXPECT_NE(text.find("chain sidecar_redirect (nat hook output priority -110):\n"),
            std::string::npos);
  EXPECT_NE(
      text.find("  #5 ip daddr @imds4 tcp dport 80 counter packets 3 bytes 180 redirect to :8000"),
      std::string::npos)
      << text;
}

TEST(StatusReportTest, FormatsJson) {
  absl::StatusOr<StatusReport> r = parse_status("wims_netguard", kSidecarJson, kSidecarHandles);
  ASSERT_TRUE(r.ok());
  boost::json::value v = boost::json::parse(format_status_json(*r));
  const boost::json::object& o = v.as_object();
  EXPECT_EQ(o.at("installed").as_bool(), true);
  EXPECT_EQ(o.at("mode").as_string(), "sidecar");
  EXPECT_EQ(o.at("port").to_number<int>(), 8000);
  EXPECT_EQ(o.at("exempt_uid").to_number<int>(), 1501);
  const boost::json::object& rule =
      o.at("chains").as_array()[0].as_object().at("rules").as_array()[1].as_object();
  EXPECT_EQ(rule.at("handle").to_number<int>(), 5);
  EXPECT_EQ(rule.at("packets").to_number<int>(), 3);
  EXPECT_EQ(rule.at("bytes").to_number<int>(), 180);

  boost::json::value none = boost::json::parse(format_status_json(not_installed("t")));
  EXPECT_EQ(none.as_object().at("installed").as_bool(), false);
  EXPECT_TRUE(none.as_object().at("mode").is_null());
}

}  // namespace
}  // namespace wims::netguard
