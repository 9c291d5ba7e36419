// Policy evaluation: decides whether parsed IAM policies (aws/policy_document.h) allow a request,
// with the IAM evaluation logic: an explicit Deny anywhere wins, otherwise any Allow, otherwise
// implicit deny. Used for role trust policies (Principal.Federated + sts:AssumeRoleWithWebIdentity)
// and for SimulatePrincipalPolicy (identity policies, per-action decisions).
//
//   RequestContext ctx;
//   ctx.principal = RequestPrincipal{"Federated", provider_arn};
//   ctx.action = "sts:AssumeRoleWithWebIdentity";
//   ctx.set("oidc.example.com:sub", {"system:serviceaccount:default:app"});
//   EvaluationResult r = evaluate_policies({{"trust", &trust}}, ctx);
//   if (r.decision != EvalDecision::kAllowed) ... AccessDenied
//
// Matching rules (IAM user guide, shared/spec section 1):
//  * Action: case-insensitive, `*` and `?` wildcards anywhere. NotAction matches every other
//  action.
//  * Resource: case-sensitive; `*`/`?` inside ARN segments, `*` spans `/` in the resource segment.
//  * Conditions: every clause (operator x key) must hold (AND). Keys are case-insensitive, values
//    case-sensitive except for the IgnoreCase operators. A clause's policy values are ORed for
//    positive operators and ANDed for negated ones. Missing key: positive -> false, negated ->
//    true, ...IfExists -> true, Null:"true" -> true. ForAnyValue: some request value satisfies the
//    clause (false for an empty or missing set); ForAllValues: every request value does (true for
//    an empty or missing set).
//
// Stateless free functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "aws/policy_document.h"

namespace wims::aws {

struct RequestPrincipal {
  std::string type;  // "AWS", "Federated", "Service"
  std::string id;    // an ARN, account id, provider ARN or service name
};

// What a request is: who, which action, on what, and the condition-key values of its context.
struct RequestContext {
  std::optional<RequestPrincipal> principal;  // set for resource-based (trust) policies
  std::string action;                         // "sts:AssumeRoleWithWebIdentity", "s3:GetObject"
  std::string resource;  // an ARN, or "" when the policy has no Resource element
  // Lower-cased key -> values; a key present with an empty list is an empty set.
  absl::flat_hash_map<std::string, std::vector<std::string>> keys;

  // Sets key `key` (any case) to `values`.
  void set(std::string_view key, std::vector<std::string> values);
  // The values of `key` (any case), or nullptr when the key is absent.
  const std::vector<std::string>* find(std::string_view key) const;
};

enum class EvalDecision { kAllowed, kExplicitDeny, kImplicitDeny };

// "allowed", "explicitDeny", "implicitDeny": the SimulatePrincipalPolicy EvalDecision strings.
std::string_view eval_decision_name(EvalDecision decision);

// A policy under evaluation, named for reporting matched statements.
struct NamedPolicy {
  std::string id;                  // the policy ARN or a caller-chosen label ("PolicyInputList.1")
  const PolicyDocument* document;  // not owned; must outlive the call
};

struct MatchedStatement {
  std::string policy_id;
  size_t statement_index = 0;  // position in the document's Statement list
  std::string sid;
  PolicyEffect effect = PolicyEffect::kAllow;
};

struct EvaluationResult {
  EvalDecision decision = EvalDecision::kImplicitDeny;
  // For explicitDeny the Deny statements that matched, for allowed the Allow statements, else
  // empty.
  std::vector<MatchedStatement> matched;
};

// Evaluates `policies` together against `context`.
EvaluationResult evaluate_policies(const std::vector<NamedPolicy>& policies,
                                   const RequestContext& context);

// Whether one statement applies to `context` (principal, action, resource and all conditions
// match), regardless of its effect.
bool statement_matches(const PolicyStatement& statement, const RequestContext& context);

// Whether one condition clause holds for `context`.
bool condition_holds(const ConditionClause& clause, const RequestContext& context);

// Glob matching with `*` (any run, including empty and `/`) and `?` (one character).
bool wildcard_match(std::string_view pattern, std::string_view text, bool ignore_case = false);

// ArnLike/ArnEquals and Resource matching: the first five colon-separated segments
// (arn:partition:service:region:account) are matched separately, the rest (the resource, which may
// contain colons) as one, so `*` never spans segment colons; a pattern of "*" matches anything, an
// ARN pattern with fewer than six segments nothing. Non-ARN patterns against non-ARN texts match by
// plain globbing.
bool arn_match(std::string_view pattern, std::string_view arn);

}  // namespace wims::aws
