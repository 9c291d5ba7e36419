#include "aws/policy_evaluator.h"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>
#include <cctype>
#include <cstdlib>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/time/time.h"
#include "common/encoding.h"
#include "common/strings.h"

namespace wims::aws {
namespace {

bool equals_ignore_case(std::string_view a, std::string_view b) {
  return absl::EqualsIgnoreCase(to_absl(a), to_absl(b));
}

std::optional<double> parse_number(std::string_view s) {
  double d = 0;
  if (!absl::SimpleAtod(to_absl(s), &d)) return std::nullopt;
  return d;
}

// IAM accepts ISO 8601 dates and times and epoch seconds (condition operators reference).
std::optional<absl::Time> parse_date(std::string_view s) {
  int64_t epoch = 0;
  if (absl::SimpleAtoi(to_absl(s), &epoch)) return absl::FromUnixSeconds(epoch);
  if (absl::StatusOr<absl::Time> t = parse_rfc3339(s); t.ok()) return *t;
  absl::Time t;
  std::string err;
  if (absl::ParseTime("%Y-%m-%d", to_absl(s), absl::UTCTimeZone(), &t, &err)) return t;
  if (absl::ParseTime("%Y-%m-%dT%H:%M:%S", to_absl(s), absl::UTCTimeZone(), &t, &err)) return t;
  return std::nullopt;
}

bool ip_in(std::string_view cidr, std::string_view ip_text) {
  boost::system::error_code ec;
  boost::asio::ip::address ip = boost::asio::ip::make_address(std::string(ip_text), ec);
  if (ec) return false;
  std::string block(cidr);
  if (block.find('/') == std::string::npos) block += ip.is_v4() ? "/32" : "/128";
  if (ip.is_v4()) {
    auto net = boost::asio::ip::make_network_v4(block, ec);
    if (ec) return false;
    auto host = boost::asio::ip::network_v4(ip.to_v4(), net.prefix_length()).canonical();
    return host == net.canonical();
  }
  auto net = boost::asio::ip::make_network_v6(block, ec);
  if (ec) return false;
  auto host = boost::asio::ip::network_v6(ip.to_v6(), net.prefix_length()).canonical();
  return host == net.canonical();
}

template <typename T, typename Cmp>
bool compare_parsed(const std::optional<T>& a, const std::optional<T>& b, Cmp cmp) {
  return a.has_value() && b.has_value() && cmp(*b, *a);
}

// The positive comparison of `op` between a policy value and one request value.
bool compare(ConditionOperator op, std::string_view policy, std::string_view request) {
  switch (op) {
    case ConditionOperator::kStringEquals:
    case ConditionOperator::kStringNotEquals:
    case ConditionOperator::kBinaryEquals:
      return policy == request;
    case ConditionOperator::kStringEqualsIgnoreCase:
    case ConditionOperator::kStringNotEqualsIgnoreCase:
      return equals_ignore_case(policy, request);
    case ConditionOperator::kStringLike:
    case ConditionOperator::kStringNotLike:
      return wildcard_match(policy, request);
    case ConditionOperator::kNumericEquals:
    case ConditionOperator::kNumericNotEquals:
      return compare_parsed(parse_number(policy), parse_number(request), std::equal_to<>());
    case ConditionOperator::kNumericLessThan:
      return compare_parsed(parse_number(policy), parse_number(request), std::less<>());
    case ConditionOperator::kNumericLessThanEquals:
      return compare_parsed(parse_number(policy), parse_number(request), std::less_equal<>());
    case ConditionOperator::kNumericGreaterThan:
      return compare_parsed(parse_number(policy), parse_number(request), std::greater<>());
    case ConditionOperator::kNumericGreaterThanEquals:
      return compare_parsed(parse_number(policy), parse_number(request), std::greater_equal<>());
    case ConditionOperator::kDateEquals:
    case ConditionOperator::kDateNotEquals:
      return compare_parsed(parse_date(policy), parse_date(request), std::equal_to<>());
    case ConditionOperator::kDateLessThan:
      return compare_parsed(parse_date(policy), parse_date(request), std::less<>());
    case ConditionOperator::kDateLessThanEquals:
      return compare_parsed(parse_date(policy), parse_date(request), std::less_equal<>());
    case ConditionOperator::kDateGreaterThan:
      return compare_parsed(parse_date(policy), parse_date(request), std::greater<>());
    case ConditionOperator::kDateGreaterThanEquals:
      return compare_parsed(parse_date(policy), parse_date(request), std::greater_equal<>());
    case ConditionOperator::kBool:
      return equals_ignore_case(policy, request);
    case ConditionOperator::kIpAddress:
    case ConditionOperator::kNotIpAddress:
      return ip_in(policy, request);
    case ConditionOperator::kArnEquals:
    case ConditionOperator::kArnLike:
    case ConditionOperator::kArnNotEquals:
    case ConditionOperator::kArnNotLike:
      return arn_match(policy, request);
    case ConditionOperator::kNull:
      return false;  // handled by condition_holds
  }
  return false;
}

// The clause evaluated against one request value: policy values ORed for positive operators; for
// negated operators the value must match none of them (the values act as AND).
bool holds_for_value(const ConditionClause& clause, std::string_view request) {
  bool any = false;
  for (const std::string& v : clause.values) {
    if (compare(clause.op, v, request)) {
      any = true;
      break;
    }
  }
  return is_negated(clause.op) ? !any : any;
}

bool principal_matches(const PolicyStatement& st, const RequestContext& ctx) {
  if (!st.principal.has_value()) return true;
  bool match = false;
  if (ctx.principal.has_value()) {
    match = st.principal->any;
    auto it = st.principal->ids.find(ctx.principal->type);
    if (!match && it != st.principal->ids.end()) {
      for (const std::string& id : it->second) {
        if (id == "*" || id == ctx.principal->id) {
          match = true;
          break;
        }
        // An account id names the account's root principal ("123456789012" ==
        // "arn:aws:iam::123456789012:root").
        if (ctx.principal->type == "AWS" && ctx.principal->id == "arn:aws:iam::" + id + ":root") {
          match = true;
          break;
        }
      }
    }
  }
  return st.not_principal ? !match : match;
}

bool action_matches(const PolicyStatement& st, const RequestContext& ctx) {
  bool match = false;
  for (const std::string& pattern : st.actions) {
    if (wildcard_match(pattern, ctx.action, /*ignore_case=*/true)) {
      match = true;
      break;
    }
  }
  return st.not_action ? !match : match;
}

bool resource_matches(const PolicyStatement& st, const RequestContext& ctx) {
  if (!st.has_resource) return true;
  bool match = false;
  for (const std::string& pattern : st.resources) {
    if (arn_match(pattern, ctx.resource)) {
      match = true;
      break;
    }
  }
  return st.not_resource ? !match : match;
}

// Splits an ARN into its five fixed segments and the resource remainder; false if it is not an ARN.
bool split_arn(std::string_view arn, std::string_view (&parts)[6]) {
  for (int i = 0; i < 5; ++i) {
    size_t colon = arn.find(':');
    if (colon == std::string_view::npos) return false;
    parts[i] = arn.substr(0, colon);
    arn.remove_prefix(colon + 1);
  }
  parts[5] = arn;
  return true;
}

}  // namespace

void RequestContext::set(std::string_view key, std::vector<std::string> values) {
  keys[absl::AsciiStrToLower(to_absl(key))] = std::move(values);
}

const std::vector<std::string>* RequestContext::find(std::string_view key) const {
  auto it = keys.find(absl::AsciiStrToLower(to_absl(key)));
  return it == keys.end() ? nullptr : &it->second;
}

std::string_view eval_decision_name(EvalDecision decision) {
  switch (decision) {
    case EvalDecision::kAllowed:
      return "allowed";
    case EvalDecision::kExplicitDeny:
      return "explicitDeny";
    case EvalDecision::kImplicitDeny:
      return "implicitDeny";
  }
  return "implicitDeny";
}

bool wildcard_match(std::string_view pattern, std::string_view text, bool ignore_case) {
  auto eq = [ignore_case](char a, char b) {
    if (!ignore_case) return a == b;
    return std::tolower(static_cast<unsigned char>(a)) ==
           std::tolower(static_cast<unsigned char>(b));
  };
  size_t p = 0, t = 0;
  size_t star = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_t = t;
    } else if (p < pattern.size() && (pattern[p] == '?' || eq(pattern[p], text[t]))) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++star_t;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool arn_match(std::string_view pattern, std::string_view arn) {
  if (pattern == "*") return true;
  std::string_view want[6], have[6];
  const bool pattern_is_arn = split_arn(pattern, want);
  const bool text_is_arn = split_arn(arn, have);
  if (!pattern_is_arn && !text_is_arn && !pattern.starts_with("arn:"))
    return wildcard_match(pattern, arn);
  // A pattern that is an ARN of the wrong shape never matches: `*` does not span segments.
  if (!pattern_is_arn || !text_is_arn) return false;
  for (int i = 0; i < 6; ++i) {
    if (!wildcard_match(want[i], have[i])) return false;
  }
  return true;
}

bool condition_holds(const ConditionClause& clause, const RequestContext& ctx) {
  const std::vector<std::string>* values = ctx.find(clause.key);
  const bool absent = values == nullptr;
  const bool empty = absent || values->empty();
  if (clause.op == ConditionOperator::kNull) {
    for (const std::string& v : clause.values) {
      if ((v == "true") == empty) return true;
    }
    return false;
  }
  switch (clause.qualifier) {
    case SetQualifier::kForAllValues:
      if (empty) return true;
      for (const std::string& r : *values) {
        if (!holds_for_value(clause, r)) return false;
      }
      return true;
    case SetQualifier::kForAnyValue:
      if (absent) return clause.if_exists;
      for (const std::string& r : *values) {
        if (holds_for_value(clause, r)) return true;
      }
      return false;
    case SetQualifier::kNone:
      break;
  }
  if (empty) return clause.if_exists || is_negated(clause.op);
  // A multi-valued key without a set qualifier: a positive operator needs some value to match, a
  // negated one needs every value to avoid all policy values.
  if (is_negated(clause.op)) {
    for (const std::string& r : *values) {
      if (!holds_for_value(clause, r)) return false;
    }
    return true;
  }
  for (const std::string& r : *values) {
    if (holds_for_value(clause, r)) return true;
  }
  return false;
}

bool statement_matches(const PolicyStatement& st, const RequestContext& ctx) {
  if (!principal_matches(st, ctx) || !action_matches(st, ctx) || !resource_matches(st, ctx))
    return false;
  for (const ConditionClause& clause : st.conditions) {
    if (!condition_holds(clause, ctx)) return false;
  }
  return true;
}

EvaluationResult evaluate_policies(const std::vector<NamedPolicy>& policies,
                                   const RequestContext& ctx) {
  std::vector<MatchedStatement> allows, denies;
  for (const NamedPolicy& policy : policies) {
    const std::vector<PolicyStatement>& statements = policy.document->statements;
    for (size_t i = 0; i < statements.size(); ++i) {
      const PolicyStatement& st = statements[i];
      if (!statement_matches(st, ctx)) continue;
      MatchedStatement m{policy.id, i, st.sid, st.effect};
      (st.effect == PolicyEffect::kDeny ? denies : allows).push_back(std::move(m));
    }
  }
  EvaluationResult result;
  if (!denies.empty()) {
    result.decision = EvalDecision::kExplicitDeny;
    result.matched = std::move(denies);
  } else if (!allows.empty()) {
    result.decision = EvalDecision::kAllowed;
    result.matched = std::move(allows);
  }
  return result;
}

}  // namespace wims::aws
