#include "aws/policy_evaluator.h"

#include <gtest/gtest.h>

#include <optional>

namespace wims::aws {
namespace {

constexpr char kIssuer[] = "oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE";
constexpr char kProviderArn[] =
    "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE";

PolicyDocument parse_or_die(const std::string& json, PolicyKind kind) {
  absl::StatusOr<PolicyDocument> doc = parse_policy_document(json, kind);
  EXPECT_TRUE(doc.ok()) << doc.status() << "\n" << json;
  return doc.ok() ? *doc : PolicyDocument{};
}

// A single-clause condition parsed from `op` and `values_json`, evaluated against `request`
// (nullopt: the key is absent).
bool holds(const std::string& op, const std::string& values_json,
           std::optional<std::vector<std::string>> request) {
  PolicyDocument doc =
      parse_or_die(R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*",)"
                   R"("Resource":"*","Condition":{")" +
                       op + R"(":{"Test:Key":)" + values_json + "}}}}",
                   PolicyKind::kIdentity);
  if (doc.statements.empty() || doc.statements[0].conditions.size() != 1) {
    ADD_FAILURE() << "no clause";
    return false;
  }
  RequestContext ctx;
  if (request.has_value()) ctx.set("test:key", *request);
  return condition_holds(doc.statements[0].conditions[0], ctx);
}

using Values = std::vector<std::string>;
constexpr std::nullopt_t kAbsent = std::nullopt;

TEST(PolicyEvaluatorTest, ConditionOperators) {
  struct Case {
    std::string op;
    std::string policy;
    std::optional<Values> request;
    bool expected;
  };
  const Case cases[] = {
      // String operators: case-sensitive values, values of one key ORed (negated: ANDed).
      {"StringEquals", R"("abc")", Values{"abc"}, true},
      {"StringEquals", R"("abc")", Values{"ABC"}, false},
      {"StringEquals", R"(["x","abc"])", Values{"abc"}, true},
      {"StringNotEquals", R"("abc")", Values{"abd"}, true},
      {"StringNotEquals", R"("abc")", Values{"abc"}, false},
      {"StringNotEquals", R"(["x","abc"])", Values{"abc"}, false},
      {"StringNotEquals", R"(["x","y"])", Values{"abc"}, true},
      {"StringEqualsIgnoreCase", R"("AbC")", Values{"aBc"}, true},
      {"StringEqualsIgnoreCase", R"("AbC")", Values{"aBd"}, false},
      {"StringNotEqualsIgnoreCase", R"("AbC")", Values{"abc"}, false},
      {"StringNotEqualsIgnoreCase", R"("AbC")", Values{"abd"}, true},
      {"StringLike", R"("d?fault")", Values{"default"}, true},
      {"StringLike", R"("system:serviceaccount:default:*")",
       Values{"system:serviceaccount:default:app"}, true},
      {"StringLike", R"("system:serviceaccount:default:*")",
       Values{"system:serviceaccount:prod:app"}, false},
      {"StringLike", R"("a*c")", Values{"AbC"}, false},
      {"StringLike", R"("*")", Values{""}, true},
      {"StringNotLike", R"("a*")", Values{"abc"}, false},
      {"StringNotLike", R"("a*")", Values{"bcd"}, true},
      // Numeric.
      {"NumericEquals", R"("10")", Values{"10"}, true},
      {"NumericEquals", R"(10)", Values{"10.0"}, true},
      {"NumericEquals", R"("10")", Values{"11"}, false},
      {"NumericEquals", R"("10")", Values{"ten"}, false},
      {"NumericNotEquals", R"("10")", Values{"11"}, true},
      {"NumericNotEquals", R"("10")", Values{"10"}, false},
      {"NumericLessThan", R"("10")", Values{"9"}, true},
      {"NumericLessThan", R"("10")", Values{"10"}, false},
      {"NumericLessThanEquals", R"("10")", Values{"10"}, true},
      {"NumericLessThanEquals", R"("10")", Values{"11"}, false},
      {"NumericGreaterThan", R"("10")", Values{"11"}, true},
      {"NumericGreaterThan", R"("10")", Values{"10"}, false},
      {"NumericGreaterThanEquals", R"("10")", Values{"10"}, true},
      {"NumericGreaterThanEquals", R"("10")", Values{"9"}, false},
      // Dates: ISO 8601 and epoch seconds.
      {"DateEquals", R"("2024-01-01T00:00:00Z")", Values{"1704067200"}, true},
      {"DateNotEquals", R"("2024-01-01T00:00:00Z")", Values{"1704067200"}, false},
      {"DateLessThan", R"("2024-01-01T00:00:00Z")", Values{"2023-12-31T23:59:59Z"}, true},
      {"DateLessThan", R"("2024-01-01T00:00:00Z")", Values{"2024-01-01T00:00:00Z"}, false},
      {"DateLessThanEquals", R"("2024-01-01")", Values{"2024-01-01T00:00:00Z"}, true},
      {"DateGreaterThan", R"("2024-01-01T00:00:00Z")", Values{"2024-01-02T00:00:00Z"}, true},
      {"DateGreaterThan", R"("2024-01-01T00:00:00Z")", Values{"2023-01-02T00:00:00Z"}, false},
      {"DateGreaterThanEquals", R"("2024-01-01T00:00:00Z")", Values{"2024-01-01T00:00:00Z"}, true},
      {"DateGreaterThan", R"("2024-01-01T00:00:00Z")", Values{"not a date"}, false},
      // Bool, binary, IP.
      {"Bool", R"(true)", Values{"true"}, true},
      {"Bool", R"("true")", Values{"false"}, false},
      {"BinaryEquals", R"("QmluYXJ5")", Values{"QmluYXJ5"}, true},
      {"IpAddress", R"("203.0.113.0/24")", Values{"203.0.113.7"}, true},
      {"IpAddress", R"("203.0.113.0/24")", Values{"203.0.114.7"}, false},
      {"IpAddress", R"("2001:db8::/32")", Values{"2001:db8::1"}, true},
      {"NotIpAddress", R"("203.0.113.0/24")", Values{"198.51.100.1"}, true},
      {"NotIpAddress", R"("203.0.113.0/24")", Values{"203.0.113.1"}, false},
      // ARNs: segment-wise.
      {"ArnEquals", R"("arn:aws:iam::111122223333:role/r")",
       Values{"arn:aws:iam::111122223333:role/r"}, true},
      {"ArnLike", R"("arn:aws:iam::*:role/*")", Values{"arn:aws:iam::111122223333:role/a/b"}, true},
      {"ArnLike", R"("arn:aws:iam::*:role/*")", Values{"arn:aws:sts::111122223333:role/a"}, false},
      {"ArnLike", R"("arn:aws:*:role/x")", Values{"arn:aws:iam::1:role/x"}, false},
      {"ArnNotLike", R"("arn:aws:iam::*:role/*")", Values{"arn:aws:iam::1:user/u"}, true},
      {"ArnNotEquals", R"("arn:aws:iam::1:role/r")", Values{"arn:aws:iam::1:role/r"}, false},
      // Missing keys: positive -> false, negated -> true, IfExists -> true, Null:true -> true.
      {"StringEquals", R"("abc")", kAbsent, false},
      {"StringLike", R"("*")", kAbsent, false},
      {"NumericLessThan", R"("1")", kAbsent, false},
      {"DateLessThan", R"("2024-01-01")", kAbsent, false},
      {"Bool", R"("true")", kAbsent, false},
      {"ArnLike", R"("*")", kAbsent, false},
      {"IpAddress", R"("0.0.0.0/0")", kAbsent, false},
      {"StringNotEquals", R"("abc")", kAbsent, true},
      {"StringNotLike", R"("abc")", kAbsent, true},
      {"StringNotEqualsIgnoreCase", R"("abc")", kAbsent, true},
      {"ArnNotLike", R"("abc")", kAbsent, true},
      {"StringEqualsIfExists", R"("abc")", kAbsent, true},
      {"StringEqualsIfExists", R"("abc")", Values{"abd"}, false},
      {"StringEqualsIfExists", R"("abc")", Values{"abc"}, true},
      {"NumericLessThanIfExists", R"("5")", kAbsent, true},
      {"StringNotEqualsIfExists", R"("abc")", Values{"abc"}, false},
      {"Null", R"("true")", kAbsent, true},
      {"Null", R"("true")", Values{"x"}, false},
      {"Null", R"("false")", Values{"x"}, true},
      {"Null", R"("false")", kAbsent, false},
      {"Null", R"(true)", Values{}, true},
      // Set qualifiers.
      {"ForAllValues:StringEquals", R"(["a","b"])", kAbsent, true},
      {"ForAllValues:StringEquals", R"(["a","b"])", Values{}, true},
      {"ForAllValues:StringEquals", R"(["a","b"])", Values{"a", "b"}, true},
      {"ForAllValues:StringEquals", R"(["a","b"])", Values{"a", "c"}, false},
      {"ForAnyValue:StringEquals", R"(["a","b"])", kAbsent, false},
      {"ForAnyValue:StringEquals", R"(["a","b"])", Values{}, false},
      {"ForAnyValue:StringEquals", R"(["a","b"])", Values{"c", "b"}, true},
      {"ForAnyValue:StringEquals", R"(["a","b"])", Values{"c", "d"}, false},
      {"ForAnyValue:StringLike", R"("ph*")", Values{"mfa", "phr"}, true},
      {"ForAnyValue:StringNotEquals", R"(["a"])", Values{"a", "z"}, true},
      {"ForAnyValue:StringNotEquals", R"(["a"])", Values{"a"}, false},
      {"ForAllValues:StringNotEquals", R"(["a"])", Values{"b", "c"}, true},
      {"ForAllValues:StringNotEquals", R"(["a"])", Values{"b", "a"}, false},
      {"ForAnyValue:StringEqualsIfExists", R"("a")", kAbsent, true},
      // A multi-valued key without a qualifier: positive needs one match, negated needs none.
      {"StringEquals", R"("a")", Values{"b", "a"}, true},
      {"StringNotEquals", R"("a")", Values{"b", "a"}, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.op + " " + c.policy + (c.request ? " present" : " absent"));
    EXPECT_EQ(holds(c.op, c.policy, c.request), c.expected);
  }
}

TEST(PolicyEvaluatorTest, ConditionKeysAreCaseInsensitive) {
  RequestContext ctx;
  ctx.set("OIDC.Example.com:SUB", {"x"});
  ASSERT_NE(ctx.find("oidc.example.com:sub"), nullptr);
  EXPECT_EQ(ctx.find("oidc.example.com:sub")->at(0), "x");
  EXPECT_EQ(ctx.find("other"), nullptr);
}

TEST(PolicyEvaluatorTest, WildcardMatch) {
  struct Case {
    const char* pattern;
    const char* text;
    bool ignore_case;
    bool expected;
  };
  const Case cases[] = {
      {"*", "", false, true},
      {"a*", "a", false, true},
      {"a?c", "abc", false, true},
      {"a?c", "ac", false, false},
      {"*b*", "abc", false, true},
      {"iam:*AccessKey*", "iam:CreateAccessKey", true, true},
      {"a*b*c", "axxbyyc", false, true},
      {"a*b*c", "axxbyy", false, false},
      {"ABC", "abc", true, true},
      {"ABC", "abc", false, false},
      {"**", "x", false, true},
      {"a", "ab", false, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.pattern) + " vs " + c.text);
    EXPECT_EQ(wildcard_match(c.pattern, c.text, c.ignore_case), c.expected);
  }
}

std::string eks_trust(const std::string& conditions) {
  return std::string(
             R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":")") +
         kProviderArn + R"("},"Action":"sts:AssumeRoleWithWebIdentity","Condition":)" + conditions +
         "}]}";
}

RequestContext web_identity(const std::string& sub, std::optional<Values> amr = std::nullopt) {
  RequestContext ctx;
  ctx.principal = RequestPrincipal{"Federated", kProviderArn};
  ctx.action = "sts:AssumeRoleWithWebIdentity";
  ctx.set(std::string(kIssuer) + ":sub", {sub});
  ctx.set(std::string(kIssuer) + ":aud", {"sts.amazonaws.com"});
  if (amr.has_value()) ctx.set(std::string(kIssuer) + ":amr", *amr);
  return ctx;
}

// Spec section 7, AWS items 1, 7 and 8: trust policies.
TEST(PolicyEvaluatorTest, TrustPolicyChecklist) {
  const std::string iss = kIssuer;
  struct Case {
    const char* name;
    std::string conditions;
    RequestContext ctx;
    EvalDecision expected;
  };
  const Case cases[] = {
      {"7.1 StringEquals sub and aud",
       R"({"StringEquals":{")" + iss + R"(:sub":"system:serviceaccount:default:app",")" + iss +
           R"(:aud":"sts.amazonaws.com"}})",
       web_identity("system:serviceaccount:default:app"), EvalDecision::kAllowed},
      {"7.1 StringEquals sub wrong",
       R"({"StringEquals":{")" + iss + R"(:sub":"system:serviceaccount:default:app",")" + iss +
           R"(:aud":"sts.amazonaws.com"}})",
       web_identity("system:serviceaccount:default:other"), EvalDecision::kImplicitDeny},
      {"7.7 StringLike other namespace",
       R"({"StringLike":{")" + iss + R"(:sub":"system:serviceaccount:default:*"}})",
       web_identity("system:serviceaccount:prod:app"), EvalDecision::kImplicitDeny},
      {"7.7 StringLike same namespace",
       R"({"StringLike":{")" + iss + R"(:sub":"system:serviceaccount:default:*"}})",
       web_identity("system:serviceaccount:default:app"), EvalDecision::kAllowed},
      {"7.8 StringLike d?fault",
       R"({"StringLike":{")" + iss + R"(:sub":"system:serviceaccount:d?fault:app"}})",
       web_identity("system:serviceaccount:default:app"), EvalDecision::kAllowed},
      {"7.8 ForAllValues on missing amr",
       R"({"ForAllValues:StringEquals":{")" + iss + R"(:amr":"authenticated"}})",
       web_identity("system:serviceaccount:default:app"), EvalDecision::kAllowed},
      {"7.8 ForAnyValue on missing amr",
       R"({"ForAnyValue:StringEquals":{")" + iss + R"(:amr":"authenticated"}})",
       web_identity("system:serviceaccount:default:app"), EvalDecision::kImplicitDeny},
      {"ForAnyValue on present amr",
       R"({"ForAnyValue:StringEquals":{")" + iss + R"(:amr":"authenticated"}})",
       web_identity("system:serviceaccount:default:app",
                    Values{"unauthenticated", "authenticated"}),
       EvalDecision::kAllowed},
      {"condition keys are case-insensitive",
       R"({"StringEquals":{")" + std::string("OIDC.EKS.us-west-2.amazonaws.com/id/EXAMPLE") +
           R"(:SUB":"system:serviceaccount:default:app"}})",
       web_identity("system:serviceaccount:default:app"), EvalDecision::kAllowed},
      {"StringNotEquals on a missing key", R"({"StringNotEquals":{")" + iss + R"(:azp":"evil"}})",
       web_identity("system:serviceaccount:default:app"), EvalDecision::kAllowed},
      {"Null azp true", R"({"Null":{")" + iss + R"(:azp":"true"}})",
       web_identity("system:serviceaccount:default:app"), EvalDecision::kAllowed},
      {"operators ANDed",
       R"({"StringLike":{")" + iss + R"(:sub":"*"},"StringEquals":{")" + iss + R"(:aud":"other"}})",
       web_identity("system:serviceaccount:default:app"), EvalDecision::kImplicitDeny},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    PolicyDocument doc = parse_or_die(eks_trust(c.conditions), PolicyKind::kTrust);
    EvaluationResult r = evaluate_policies({{"trust", &doc}}, c.ctx);
    EXPECT_EQ(r.decision, c.expected);
  }
}

TEST(PolicyEvaluatorTest, TrustPolicyPrincipalAndAction) {
  PolicyDocument doc = parse_or_die(eks_trust("{}"), PolicyKind::kTrust);
  RequestContext ctx = web_identity("system:serviceaccount:default:app");
  EXPECT_EQ(evaluate_policies({{"trust", &doc}}, ctx).decision, EvalDecision::kAllowed);

  RequestContext other_provider = ctx;
  other_provider.principal->id = "arn:aws:iam::111122223333:oidc-provider/other.example.com";
  EXPECT_EQ(evaluate_policies({{"trust", &doc}}, other_provider).decision,
            EvalDecision::kImplicitDeny);

  RequestContext other_action = ctx;
  other_action.action = "sts:AssumeRole";
  EXPECT_EQ(evaluate_policies({{"trust", &doc}}, other_action).decision,
            EvalDecision::kImplicitDeny);

  RequestContext no_principal = ctx;
  no_principal.principal.reset();
  EXPECT_EQ(evaluate_policies({{"trust", &doc}}, no_principal).decision,
            EvalDecision::kImplicitDeny);

  PolicyDocument account = parse_or_die(
      R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"}})",
      PolicyKind::kTrust);
  RequestContext root;
  root.principal = RequestPrincipal{"AWS", "arn:aws:iam::111122223333:root"};
  root.action = "sts:AssumeRole";
  EXPECT_EQ(evaluate_policies({{"trust", &account}}, root).decision, EvalDecision::kAllowed);

  PolicyDocument not_principal = parse_or_die(
      R"({"Version":"2012-10-17","Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"111122223333"},"Action":"sts:*"}})",
      PolicyKind::kTrust);
  EXPECT_EQ(evaluate_policies({{"np", &not_principal}}, root).decision,
            EvalDecision::kImplicitDeny);
  RequestContext stranger = root;
  stranger.principal->id = "arn:aws:iam::999999999999:root";
  EXPECT_EQ(evaluate_policies({{"np", &not_principal}}, stranger).decision,
            EvalDecision::kExplicitDeny);
}

// Spec section 7, AWS item 10: SimulatePrincipalPolicy semantics.
TEST(PolicyEvaluatorTest, SimulateChecklist) {
  PolicyDocument allow = parse_or_die(
      R"({"Version":"2012-10-17","Statement":[{"Sid":"AllowS3","Effect":"Allow","Action":"s3:*","Resource":"*"}]})",
      PolicyKind::kIdentity);
  PolicyDocument deny = parse_or_die(
      R"({"Version":"2012-10-17","Statement":[{"Sid":"NoDelete","Effect":"Deny","Action":"s3:DeleteObject","Resource":"*"}]})",
      PolicyKind::kIdentity);
  PolicyDocument bucket = parse_or_die(
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"S3:GetObject","Resource":"arn:aws:s3:::b/*"},
          {"Effect":"Allow","NotAction":"iam:*","NotResource":"arn:aws:ec2:*:*:instance/secret"}]})",
      PolicyKind::kIdentity);
  std::vector<NamedPolicy> both = {{"allow", &allow}, {"deny", &deny}};
  struct Case {
    const char* name;
    const std::vector<NamedPolicy>* policies;
    std::string action;
    std::string resource;
    EvalDecision expected;
  };
  std::vector<NamedPolicy> bucket_only = {{"bucket", &bucket}};
  const Case cases[] = {
      {"deny wins", &both, "s3:DeleteObject", "*", EvalDecision::kExplicitDeny},
      {"allow s3:*", &both, "s3:GetObject", "*", EvalDecision::kAllowed},
      {"other service", &both, "ec2:RunInstances", "*", EvalDecision::kImplicitDeny},
      {"action case-insensitive", &bucket_only, "s3:getobject", "arn:aws:s3:::b/x/y",
       EvalDecision::kAllowed},
      {"resource star spans slash", &bucket_only, "s3:GetObject", "arn:aws:s3:::b/x/y",
       EvalDecision::kAllowed},
      {"resource other bucket", &bucket_only, "s3:PutObject", "arn:aws:s3:::c/x",
       EvalDecision::kAllowed /* NotAction iam:* statement */},
      {"NotAction excludes iam", &bucket_only, "iam:CreateRole", "arn:aws:s3:::c/x",
       EvalDecision::kImplicitDeny},
      {"NotResource excludes", &bucket_only, "ec2:StartInstances",
       "arn:aws:ec2:us-east-1:1:instance/secret", EvalDecision::kImplicitDeny},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    RequestContext ctx;
    ctx.action = c.action;
    ctx.resource = c.resource;
    EXPECT_EQ(evaluate_policies(*c.policies, ctx).decision, c.expected);
  }
  PolicyDocument get_only = parse_or_die(
      R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/?"}})",
      PolicyKind::kIdentity);
  RequestContext upper;
  upper.action = "s3:GetObject";
  upper.resource = "arn:aws:s3:::B/x";
  EXPECT_EQ(evaluate_policies({{"g", &get_only}}, upper).decision, EvalDecision::kImplicitDeny);
  upper.resource = "arn:aws:s3:::b/x";
  EXPECT_EQ(evaluate_policies({{"g", &get_only}}, upper).decision, EvalDecision::kAllowed);

  RequestContext del;
  del.action = "s3:DeleteObject";
  del.resource = "*";
  EvaluationResult r = evaluate_policies(both, del);
  ASSERT_EQ(r.matched.size(), 1u);
  EXPECT_EQ(r.matched[0].policy_id, "deny");
  EXPECT_EQ(r.matched[0].sid, "NoDelete");
  EXPECT_EQ(eval_decision_name(r.decision), "explicitDeny");
  EXPECT_EQ(eval_decision_name(EvalDecision::kAllowed), "allowed");
  EXPECT_EQ(eval_decision_name(EvalDecision::kImplicitDeny), "implicitDeny");
}

}  // namespace
}  // namespace wims::aws
