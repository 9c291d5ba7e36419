// PolicyDocument: the parsed and validated form of an AWS IAM JSON policy (identity policies
// attached to roles, and role trust policies). Parsing is strict: anything IAM would refuse is a
// `MalformedPolicyDocument` error (see aws/aws_error.h) with a message naming the problem, so the
// Query-protocol front end can return it verbatim.
//
//   WIMS_ASSIGN_OR_RETURN(PolicyDocument trust,
//                         parse_policy_document(json, PolicyKind::kTrust));
//
// Grammar (IAM JSON policy reference): {"Version": "2012-10-17"|"2008-10-17", "Id"?, "Statement":
// object or array}. A statement has "Sid"?, "Effect": "Allow"|"Deny", exactly one of
// Action/NotAction, for identity policies exactly one of Resource/NotResource and no principal, for
// trust policies exactly one of Principal/NotPrincipal, and an optional "Condition": {operator:
// {key: value | [values]}}. Condition values may be strings, numbers or booleans; they are kept as
// strings ("true", "42").
//
// Values; parse_policy_document is stateless and thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace wims::aws {

enum class PolicyEffect { kAllow, kDeny };

// The base comparison of a condition operator, without its qualifier or IfExists suffix.
enum class ConditionOperator {
  kStringEquals,
  kStringNotEquals,
  kStringEqualsIgnoreCase,
  kStringNotEqualsIgnoreCase,
  kStringLike,
  kStringNotLike,
  kNumericEquals,
  kNumericNotEquals,
  kNumericLessThan,
  kNumericLessThanEquals,
  kNumericGreaterThan,
  kNumericGreaterThanEquals,
  kDateEquals,
  kDateNotEquals,
  kDateLessThan,
  kDateLessThanEquals,
  kDateGreaterThan,
  kDateGreaterThanEquals,
  kBool,
  kBinaryEquals,
  kIpAddress,
  kNotIpAddress,
  kArnEquals,
  kArnLike,
  kArnNotEquals,
  kArnNotLike,
  kNull,
};

enum class SetQualifier { kNone, kForAnyValue, kForAllValues };

// True for the operators whose per-value result is negated (StringNotEquals, ArnNotLike,
// NotIpAddress...): their policy values combine with AND and a missing key satisfies them.
bool is_negated(ConditionOperator op);

// One `key: values` entry under one operator.
struct ConditionClause {
  std::string operator_name;  // as written: "ForAnyValue:StringLikeIfExists"
  ConditionOperator op = ConditionOperator::kStringEquals;
  SetQualifier qualifier = SetQualifier::kNone;
  bool if_exists = false;
  std::string key;  // as written; matched case-insensitively
  std::vector<std::string> values;
};

// The Principal / NotPrincipal element: "*" or {"AWS"|"Federated"|"Service"|"CanonicalUser": id |
// [ids]}.
struct PrincipalBlock {
  bool any = false;                                     // "*" (or {"AWS": "*"})
  std::map<std::string, std::vector<std::string>> ids;  // principal type -> ids
};

struct PolicyStatement {
  std::string sid;
  PolicyEffect effect = PolicyEffect::kAllow;
  std::optional<PrincipalBlock> principal;
  bool not_principal = false;
  std::vector<std::string> actions;
  bool not_action = false;
  std::vector<std::string> resources;  // empty with has_resource == false in trust policies
  bool has_resource = false;
  bool not_resource = false;
  std::vector<ConditionClause> conditions;
};

struct PolicyDocument {
  std::string version;
  std::string id;
  std::vector<PolicyStatement> statements;
};

enum class PolicyKind {
  kIdentity,  // managed/inline identity policies: Resource required, Principal prohibited
  kTrust,     // role trust (assume-role) policies: Principal required, Resource prohibited
};

// Hard cap on the JSON text accepted by the parser (IAM's own quotas are checked by the services).
inline constexpr size_t kMaxPolicyDocumentBytes = 131072;

// Parses and validates `json`. Errors are `MalformedPolicyDocument` statuses.
absl::StatusOr<PolicyDocument> parse_policy_document(std::string_view json, PolicyKind kind);

// The number of non-whitespace characters in `json`: what IAM counts against its size quotas
// (6144 for managed policies, 2048 by default for trust policies).
size_t policy_size_without_whitespace(std::string_view json);

}  // namespace wims::aws
