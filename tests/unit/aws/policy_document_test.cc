#include "aws/policy_document.h"

#include <gtest/gtest.h>

#include "aws/aws_error.h"

namespace wims::aws {
namespace {

constexpr char kEksTrust[] = R"({
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Allow",
    "Principal": {"Federated": "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE"},
    "Action": "sts:AssumeRoleWithWebIdentity",
    "Condition": {
      "StringEquals": {
        "oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE:aud": "sts.amazonaws.com",
        "oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE:sub": "system:serviceaccount:kube-system:aws-node"
      },
      "ForAnyValue:StringLikeIfExists": {"x:amr": ["a*", true, 42]}
    }
  }]
})";

TEST(PolicyDocumentTest, ParsesEksTrustPolicy) {
  absl::StatusOr<PolicyDocument> doc = parse_policy_document(kEksTrust, PolicyKind::kTrust);
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->version, "2012-10-17");
  ASSERT_EQ(doc->statements.size(), 1u);
  const PolicyStatement& st = doc->statements[0];
  EXPECT_EQ(st.effect, PolicyEffect::kAllow);
  ASSERT_TRUE(st.principal.has_value());
  EXPECT_FALSE(st.principal->any);
  EXPECT_EQ(st.principal->ids.at("Federated").at(0),
            "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE");
  EXPECT_EQ(st.actions, std::vector<std::string>{"sts:AssumeRoleWithWebIdentity"});
  EXPECT_FALSE(st.has_resource);
  ASSERT_EQ(st.conditions.size(), 3u);
  const ConditionClause& amr = st.conditions[2];
  EXPECT_EQ(amr.operator_name, "ForAnyValue:StringLikeIfExists");
  EXPECT_EQ(amr.op, ConditionOperator::kStringLike);
  EXPECT_EQ(amr.qualifier, SetQualifier::kForAnyValue);
  EXPECT_TRUE(amr.if_exists);
  EXPECT_EQ(amr.values, (std::vector<std::string>{"a*", "true", "42"}));
}

TEST(PolicyDocumentTest, StatementObjectAndDefaultVersion) {
  absl::StatusOr<PolicyDocument> doc = parse_policy_document(
      R"({"Statement": {"Sid": "S1", "Effect": "Deny", "NotAction": ["s3:*"], "NotResource": "*"}})",
      PolicyKind::kIdentity);
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->version, "2008-10-17");
  ASSERT_EQ(doc->statements.size(), 1u);
  EXPECT_EQ(doc->statements[0].sid, "S1");
  EXPECT_EQ(doc->statements[0].effect, PolicyEffect::kDeny);
  EXPECT_TRUE(doc->statements[0].not_action);
  EXPECT_TRUE(doc->statements[0].not_resource);
  EXPECT_TRUE(doc->statements[0].has_resource);
}

TEST(PolicyDocumentTest, PrincipalForms) {
  struct Case {
    const char* principal;
    bool any;
  };
  for (const Case& c : {Case{R"("*")", true}, Case{R"({"AWS": "*"})", true},
                        Case{R"({"AWS": ["111122223333", "arn:aws:iam::1:root"]})", false},
                        Case{R"({"Service": "ec2.amazonaws.com"})", false}}) {
    SCOPED_TRACE(c.principal);
    std::string json =
        std::string(R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":)") +
        c.principal + R"(,"Action":"sts:AssumeRole"}})";
    absl::StatusOr<PolicyDocument> doc = parse_policy_document(json, PolicyKind::kTrust);
    ASSERT_TRUE(doc.ok()) << doc.status();
    EXPECT_EQ(doc->statements[0].principal->any, c.any);
  }
}

TEST(PolicyDocumentTest, RejectsMalformedDocuments) {
  struct Case {
    const char* name;
    std::string json;
    PolicyKind kind;
    const char* message_part;
  };
  const std::string v = R"("Version":"2012-10-17",)";
  const Case cases[] = {
      {"bad json", "{bad", PolicyKind::kIdentity, "Syntax errors in policy"},
      {"not an object", "[]", PolicyKind::kIdentity, "Syntax errors in policy"},
      {"unknown version", R"({"Version":"2020-01-01","Statement":[]})", PolicyKind::kIdentity,
       "Version"},
      {"version not string", R"({"Version":1,"Statement":[]})", PolicyKind::kIdentity, "Version"},
      {"unknown top field", "{" + v + R"("Statements":[]})", PolicyKind::kIdentity,
       "unknown field Statements"},
      {"missing statement", "{" + v.substr(0, v.size() - 1) + "}", PolicyKind::kIdentity,
       "Missing required field Statement"},
      {"empty statement", "{" + v + R"("Statement":[]})", PolicyKind::kIdentity,
       "must not be empty"},
      {"statement not object", "{" + v + R"("Statement":["x"]})", PolicyKind::kIdentity,
       "Statement must be"},
      {"bad effect", "{" + v + R"("Statement":{"Effect":"allow","Action":"s3:*","Resource":"*"}})",
       PolicyKind::kIdentity, "Invalid effect: allow"},
      {"missing effect", "{" + v + R"("Statement":{"Action":"s3:*","Resource":"*"}})",
       PolicyKind::kIdentity, "Missing required field Effect"},
      {"missing action", "{" + v + R"("Statement":{"Effect":"Allow","Resource":"*"}})",
       PolicyKind::kIdentity, "Missing required field Action"},
      {"action and notaction",
       "{" + v +
           R"("Statement":{"Effect":"Allow","Action":"s3:*","NotAction":"s3:x","Resource":"*"}})",
       PolicyKind::kIdentity, "both Action and NotAction"},
      {"action without vendor",
       "{" + v + R"("Statement":{"Effect":"Allow","Action":"GetObject","Resource":"*"}})",
       PolicyKind::kIdentity, "prefaced by a vendor"},
      {"empty action list",
       "{" + v + R"("Statement":{"Effect":"Allow","Action":[],"Resource":"*"}})",
       PolicyKind::kIdentity, "Action must not be empty"},
      {"action number", "{" + v + R"("Statement":{"Effect":"Allow","Action":[1],"Resource":"*"}})",
       PolicyKind::kIdentity, "only strings"},
      {"missing resource", "{" + v + R"("Statement":{"Effect":"Allow","Action":"s3:*"}})",
       PolicyKind::kIdentity, "must contain resources"},
      {"resource not arn",
       "{" + v + R"("Statement":{"Effect":"Allow","Action":"s3:*","Resource":"bucket"}})",
       PolicyKind::kIdentity, "ARN format"},
      {"wildcard service",
       "{" + v + R"("Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s*:::b"}})",
       PolicyKind::kIdentity, "service segment"},
      {"principal in identity policy",
       "{" + v +
           R"("Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}})",
       PolicyKind::kIdentity, "should not specify a principal"},
      {"trust without principal",
       "{" + v + R"("Statement":{"Effect":"Allow","Action":"sts:AssumeRole"}})", PolicyKind::kTrust,
       "Missing required field Principal"},
      {"trust with resource",
       "{" + v +
           R"("Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Resource":"*"}})",
       PolicyKind::kTrust, "prohibited field Resource"},
      {"bad principal type",
       "{" + v +
           R"("Statement":{"Effect":"Allow","Principal":{"Bogus":"x"},"Action":"sts:AssumeRole"}})",
       PolicyKind::kTrust, "unknown principal type"},
      {"principal string not star",
       "{" + v + R"("Statement":{"Effect":"Allow","Principal":"arn:x","Action":"sts:AssumeRole"}})",
       PolicyKind::kTrust, "Invalid principal"},
      {"unknown operator",
       "{" + v +
           R"("Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEqualz":{"k":"v"}}}})",
       PolicyKind::kIdentity, "Invalid Condition type : StringEqualz"},
      {"null if exists",
       "{" + v +
           R"("Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"NullIfExists":{"k":"true"}}}})",
       PolicyKind::kIdentity, "Invalid Condition type"},
      {"condition not object",
       "{" + v +
           R"("Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":"v"}}})",
       PolicyKind::kIdentity, "must map condition keys"},
      {"condition nested object",
       "{" + v +
           R"("Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"k":{"a":1}}}}})",
       PolicyKind::kIdentity, "must be a string, number or boolean"},
      {"null value not bool",
       "{" + v +
           R"("Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"Null":{"k":"yes"}}}})",
       PolicyKind::kIdentity, "must be true or false"},
      {"unknown statement field",
       "{" + v + R"("Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Actions":"x"}})",
       PolicyKind::kIdentity, "unknown field Actions"},
      {"sid not alphanumeric",
       "{" + v + R"("Statement":{"Sid":"a b","Effect":"Allow","Action":"s3:*","Resource":"*"}})",
       PolicyKind::kIdentity, "alpha-numeric"},
      {"too large", std::string(kMaxPolicyDocumentBytes + 1, ' '), PolicyKind::kIdentity,
       "larger than"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<PolicyDocument> doc = parse_policy_document(c.json, c.kind);
    ASSERT_FALSE(doc.ok());
    AwsErrorInfo info = aws_error_info(doc.status());
    EXPECT_EQ(info.code, "MalformedPolicyDocument");
    EXPECT_EQ(info.http_status, 400);
    EXPECT_NE(info.message.find(c.message_part), std::string::npos) << info.message;
  }
}

TEST(PolicyDocumentTest, SizeIgnoresWhitespace) {
  EXPECT_EQ(policy_size_without_whitespace("{ \"a\" :\n\t1 }"), 7u);
}

}  // namespace
}  // namespace wims::aws
