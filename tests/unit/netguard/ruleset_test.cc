#include "netguard/ruleset.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace wims::netguard {
namespace {

TEST(RulesetTest, RestrictGoldenBothFamilies) {
  Options o;
  o.mode = Mode::kRestrict;
  EXPECT_EQ(render_table(o), R"(table inet wims_netguard {
	comment "managed by wims netguard; mode=restrict"
	set imds4 {
		type ipv4_addr
		elements = { 169.254.169.254 }
	}
	set imds6 {
		type ipv6_addr
		elements = { fd00:ec2::254 }
	}
	chain pod_block {
		type filter hook prerouting priority raw; policy accept;
		iif "lo" return comment "node-local traffic keeps access"
		ip daddr @imds4 counter drop comment "restrict: pods to IMDS IPv4"
		ip6 daddr @imds6 counter drop comment "restrict: pods to IMDS IPv6"
	}
}
)");
}

TEST(RulesetTest, RedirectGoldenIpv4Only) {
  Options o;
  o.mode = Mode::kRedirect;
  o.port = 8181;
  o.families = Families::kIpv4;
  EXPECT_EQ(render_table(o), R"(table inet wims_netguard {
	comment "managed by wims netguard; mode=redirect port=8181"
	set imds4 {
		type ipv4_addr
		elements = { 169.254.169.254 }
	}
	chain pod_redirect {
		type nat hook prerouting priority dstnat - 10; policy accept;
		iif "lo" return comment "node-local traffic keeps access"
		ip daddr @imds4 tcp dport 80 counter redirect to :8181 comment "redirect: pods to wims IPv4"
	}
	chain pod_fail_closed {
		type filter hook prerouting priority dstnat + 10; policy accept;
		iif "lo" return comment "node-local traffic keeps access"
		ip daddr @imds4 counter drop comment "fail closed: pods to IMDS IPv4"
	}
}
)");
}

TEST(RulesetTest, RestrictGoldenBlockWireServerIpv4) {
  Options o;
  o.mode = Mode::kRestrict;
  o.families = Families::kIpv4;
  o.block_wireserver = true;
  EXPECT_EQ(render_table(o), R"(table inet wims_netguard {
	comment "managed by wims netguard; mode=restrict block-wireserver"
	set imds4 {
		type ipv4_addr
		elements = { 169.254.169.254 }
	}
	chain pod_block {
		type filter hook prerouting priority raw; policy accept;
		iif "lo" return comment "node-local traffic keeps access"
		ip daddr @imds4 counter drop comment "restrict: pods to IMDS IPv4"
	}
	chain pod_wireserver_block {
		type filter hook prerouting priority raw; policy accept;
		iif "lo" return comment "node-local traffic keeps access"
		ip daddr 168.63.129.16 tcp dport { 80, 32526 } counter drop comment "block-wireserver: pods to WireServer"
	}
}
)");
}

TEST(RulesetTest, SidecarGoldenIpv6Only) {
  Options o;
  o.mode = Mode::kSidecar;
  o.port = 8000;
  o.exempt_uid = 1501;
  o.families = Families::kIpv6;
  o.table = "test_guard";
  EXPECT_EQ(render_table(o), R"(table inet test_guard {
	comment "managed by wims netguard; mode=sidecar port=8000 exempt-uid=1501"
	set imds6 {
		type ipv6_addr
		elements = { fd00:ec2::254 }
	}
	chain sidecar_redirect {
		type nat hook output priority -110; policy accept;
		meta skuid 1501 accept comment "sidecar uid reaches the endpoint"
		ip6 daddr @imds6 tcp dport 80 counter redirect to :8000 comment "sidecar: pod to localhost IPv6"
	}
}
)");
}

TEST(RulesetTest, ApplyScriptReplacesOnlyOurTableInOneBatch) {
  Options o;
  const std::string script = render_apply_script(o);
  EXPECT_EQ(
      script.rfind(
          "table inet wims_netguard\ndelete table inet wims_netguard\ntable inet wims_netguard {\n",
          0),
      0u);
  // Nothing outside our table: no flush ruleset, no other table names.
  EXPECT_EQ(script.find("flush"), std::string::npos);
  EXPECT_EQ(render_remove_script("wims_netguard"),
            "table inet wims_netguard\ndelete table inet wims_netguard\n");
}

TEST(RulesetTest, RenderingIsDeterministic) {
  Options o;
  o.mode = Mode::kRedirect;
  o.port = 80;
  EXPECT_EQ(render_apply_script(o), render_apply_script(o));
}

TEST(RulesetTest, Validate) {
  struct Case {
    const char* name;
    Options options;
    bool ok;
    const char* message_part;
  };
  auto with = [](auto fn) {
    Options o;
    fn(o);
    return o;
  };
  const std::vector<Case> cases = {
      {"restrict default", Options{}, true, ""},
      {"restrict with port", with([](Options& o) { o.port = 80; }), false, "--port"},
      {"redirect without port", with([](Options& o) { o.mode = Mode::kRedirect; }), false,
       "target port"},
      {"redirect ok", with([](Options& o) {
         o.mode = Mode::kRedirect;
         o.port = 8181;
       }),
       true, ""},
      {"sidecar without port", with([](Options& o) { o.mode = Mode::kSidecar; }), false,
       "target port"},
      {"sidecar uid 0 ok", with([](Options& o) {
         o.mode = Mode::kSidecar;
         o.port = 1;
       }),
       true, ""},
      {"uid outside sidecar", with([](Options& o) {
         o.mode = Mode::kRedirect;
         o.port = 1;
         o.exempt_uid = 5;
       }),
       false, "--exempt-uid"},
      {"bad table", with([](Options& o) { o.table = "x; flush ruleset"; }), false, "table name"},
      {"empty table", with([](Options& o) { o.table = ""; }), false, "table name"},
      {"table starts with digit", with([](Options& o) { o.table = "1abc"; }), false, "table name"},
      {"bad v4", with([](Options& o) { o.imds_ipv4 = "169.254.169"; }), false, "IPv4"},
      {"v6 given as v4", with([](Options& o) { o.imds_ipv4 = "fd00:ec2::254"; }), false, "IPv4"},
      {"bad v6", with([](Options& o) { o.imds_ipv6 = "fd00:ec2::254::1"; }), false, "IPv6"},
      {"bad v6 ignored for ipv4 only", with([](Options& o) {
         o.imds_ipv6 = "nope";
         o.families = Families::kIpv4;
       }),
       true, ""},
      {"block-wireserver redirect ok", with([](Options& o) {
         o.mode = Mode::kRedirect;
         o.port = 8181;
         o.block_wireserver = true;
       }),
       true, ""},
      {"block-wireserver in sidecar", with([](Options& o) {
         o.mode = Mode::kSidecar;
         o.port = 1;
         o.block_wireserver = true;
       }),
       false, "--block-wireserver"},
      {"block-wireserver ipv6 only", with([](Options& o) {
         o.families = Families::kIpv6;
         o.block_wireserver = true;
       }),
       false, "needs IPv4"},
      {"bad wireserver address", with([](Options& o) {
         o.block_wireserver = true;
         o.wireserver_ipv4 = "168.63.129";
       }),
       false, "WireServer address"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::Status s = validate(c.options);
    EXPECT_EQ(s.ok(), c.ok) << s;
    if (!c.ok) {
      EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
      EXPECT_NE(std::string(s.message()).find(c.message_part), std::string::npos) << s;
    }
  }
}

TEST(RulesetTest, ParseModeAndFamilies) {
  for (Mode m : {Mode::kRestrict, Mode::kRedirect, Mode::kSidecar}) {
    SCOPED_TRACE(mode_name(m));
    ASSERT_TRUE(parse_mode(mode_name(m)).ok());
    EXPECT_EQ(*parse_mode(mode_name(m)), m);
  }
  for (Families f : {Families::kBoth, Families::kIpv4, Families::kIpv6}) {
    SCOPED_TRACE(families_name(f));
    EXPECT_EQ(*parse_families(families_name(f)), f);
  }
  EXPECT_EQ(parse_mode("off").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(parse_mode("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(parse_families("ipv5").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace wims::netguard
