#include "aws/iam_service.h"

#include <gtest/gtest.h>

#include <boost/url/decode_view.hpp>

#include "aws/aws_error.h"
#include "aws/managed_policies.h"
#include "aws/policy_document.h"
#include "unit/aws/query_test_support.h"

namespace wims::aws {
namespace {

using testing::element;
using testing::kAccount;
using testing::params;

constexpr char kTrust[] =
    R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/oidc.example.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"oidc.example.com:aud":"sts.amazonaws.com"}}}]})";
constexpr char kS3Policy[] =
    R"({"Version":"2012-10-17","Statement":[{"Sid":"AllowS3","Effect":"Allow","Action":"s3:*","Resource":"*"},{"Sid":"NoDelete","Effect":"Deny","Action":"s3:DeleteObject","Resource":"*"}]})";

std::string url_decode(const std::string& s) {
  boost::urls::decode_view view(boost::urls::string_view(s.data(), s.size()));
  return std::string(view.begin(), view.end());
}

class IamServiceTest : public ::testing::Test {
 protected:
  absl::StatusOr<std::string> call(std::string_view action, const QueryParams& p) {
    return iam_.call(action, p, "req-1");
  }
  std::string ok(std::string_view action, const QueryParams& p) {
    absl::StatusOr<std::string> r = call(action, p);
    EXPECT_TRUE(r.ok()) << action << ": " << r.status();
    return r.value_or("");
  }
  void create_role(const std::string& name) {
    ok("CreateRole", params({{"RoleName", name}, {"AssumeRolePolicyDocument", kTrust}}));
  }

  FakeClock clock_;
  InMemoryAwsStateRepository repository_;
  IamService iam_{repository_, clock_, kAccount};
};

TEST_F(IamServiceTest, CreateAndGetRole) {
  std::string xml = ok("CreateRole", params({{"RoleName", "app-role"},
                                             {"Path", "/team/"},
                                             {"AssumeRolePolicyDocument", kTrust},
                                             {"MaxSessionDuration", "7200"},
                                             {"Description", "a <role>"}}));
  EXPECT_TRUE(xml.starts_with(
      "<CreateRoleResponse "
      "xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><CreateRoleResult><Role>"));
  EXPECT_NE(
      xml.find(
          "<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></CreateRoleResponse>"),
      std::string::npos);
  EXPECT_EQ(element(xml, "Arn"), "arn:aws:iam::111122223333:role/team/app-role");
  EXPECT_EQ(element(xml, "Path"), "/team/");
  EXPECT_EQ(element(xml, "MaxSessionDuration"), "7200");
  EXPECT_EQ(element(xml, "Description"), "a &lt;role&gt;");
  EXPECT_EQ(element(xml, "CreateDate"), "2023-11-14T22:13:20Z");
  EXPECT_TRUE(element(xml, "RoleId").starts_with("AROA"));
  EXPECT_EQ(url_decode(element(xml, "AssumeRolePolicyDocument")), kTrust);

  std::string got = ok("GetRole", params({{"RoleName", "app-role"}}));
  EXPECT_EQ(element(got, "RoleId"), element(xml, "RoleId"));
  std::string list = ok("ListRoles", params({}));
  EXPECT_NE(list.find("<Roles><member><Path>/team/</Path>"), std::string::npos) << list;
  EXPECT_EQ(ok("ListRoles", params({{"PathPrefix", "/other/"}})).find("<member>"),
            std::string::npos);
}

TEST_F(IamServiceTest, Errors) {
  create_role("existing");
  ok("CreatePolicy", params({{"PolicyName", "p"}, {"PolicyDocument", kS3Policy}}));
  ok("AttachRolePolicy",
     params({{"RoleName", "existing"}, {"PolicyArn", "arn:aws:iam::111122223333:policy/p"}}));
  struct Case {
    const char* name;
    std::string action;
    QueryParams params;
    const char* code;
    int http_status;
    const char* message_part;
  };
  const std::string big_trust = std::string(R"({"Version":"2012-10-17","Statement":[)") + [] {
    std::string s;
    for (int i = 0; i < 30; ++i) {
      if (i) s += ",";
      s +=
          R"({"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"})";
    }
    return s;
  }() + "]}";
  const Case cases[] = {
      {"missing role name", "CreateRole", params({{"AssumeRolePolicyDocument", kTrust}}),
       "ValidationError", 400, "Value null at 'roleName'"},
      {"bad role name", "CreateRole",
       params({{"RoleName", "a b"}, {"AssumeRolePolicyDocument", kTrust}}), "ValidationError", 400,
       "regular expression"},
      {"bad path", "CreateRole",
       params({{"RoleName", "r"}, {"Path", "team"}, {"AssumeRolePolicyDocument", kTrust}}),
       "ValidationError", 400, "'path'"},
      {"max session too small", "CreateRole",
       params({{"RoleName", "r"},
               {"AssumeRolePolicyDocument", kTrust},
               {"MaxSessionDuration", "3599"}}),
       "ValidationError", 400, "greater than or equal to 3600"},
      {"max session too large", "CreateRole",
       params({{"RoleName", "r"},
               {"AssumeRolePolicyDocument", kTrust},
               {"MaxSessionDuration", "43201"}}),
       "ValidationError", 400, "less than or equal to 43200"},
      {"bad trust json", "CreateRole",
       params({{"RoleName", "r"}, {"AssumeRolePolicyDocument", "{bad"}}), "MalformedPolicyDocument",
       400, "Syntax errors"},
      {"trust without principal", "CreateRole",
       params(
           {{"RoleName", "r"},
            {"AssumeRolePolicyDocument",
             R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole"}})"}}),
       "MalformedPolicyDocument", 400, "Principal"},
      {"trust too large", "CreateRole",
       params({{"RoleName", "r"}, {"AssumeRolePolicyDocument", big_trust}}), "LimitExceeded", 409,
       "ACLSizePerRole: 2048"},
      {"duplicate role", "CreateRole",
       params({{"RoleName", "existing"}, {"AssumeRolePolicyDocument", kTrust}}),
       "EntityAlreadyExists", 409, "Role with name existing already exists."},
      {"get missing role", "GetRole", params({{"RoleName", "nope"}}), "NoSuchEntity", 404,
       "The role with name nope cannot be found."},
      {"delete attached role", "DeleteRole", params({{"RoleName", "existing"}}), "DeleteConflict",
       409, "must detach all policies first"},
      {"delete attached policy", "DeletePolicy",
       params({{"PolicyArn", "arn:aws:iam::111122223333:policy/p"}}), "DeleteConflict", 409,
       "attached to entities"},
      {"delete aws managed policy", "DeletePolicy",
       params({{"PolicyArn", "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"}}), "AccessDenied", 403,
       "cannot"},
      {"unknown version policy", "CreatePolicy",
       params(
           {{"PolicyName", "q"}, {"PolicyDocument", R"({"Version":"2020-01-01","Statement":[]})"}}),
       "MalformedPolicyDocument", 400, "Version"},
      {"bad effect policy", "CreatePolicy",
       params(
           {{"PolicyName", "q"},
            {"PolicyDocument",
             R"({"Version":"2012-10-17","Statement":{"Effect":"Maybe","Action":"s3:*","Resource":"*"}})"}}),
       "MalformedPolicyDocument", 400, "Invalid effect: Maybe"},
      {"policy with principal", "CreatePolicy",
       params({{"PolicyName", "q"}, {"PolicyDocument", kTrust}}), "MalformedPolicyDocument", 400,
       "should not specify a principal"},
      {"duplicate policy", "CreatePolicy",
       params({{"PolicyName", "p"}, {"PolicyDocument", kS3Policy}}), "EntityAlreadyExists", 409,
       "A policy called p already exists"},
      {"get missing policy", "GetPolicy",
       params({{"PolicyArn", "arn:aws:iam::111122223333:policy/nope"}}), "NoSuchEntity", 404,
       "does not exist"},
      {"missing policy version", "GetPolicyVersion",
       params({{"PolicyArn", "arn:aws:iam::111122223333:policy/p"}, {"VersionId", "v2"}}),
       "NoSuchEntity", 404, "version v2"},
      {"attach missing policy", "AttachRolePolicy",
       params({{"RoleName", "existing"}, {"PolicyArn", "arn:aws:iam::111122223333:policy/nope"}}),
       "NoSuchEntity", 404, "does not exist"},
      {"attach to missing role", "AttachRolePolicy",
       params(
           {{"RoleName", "nope"}, {"PolicyArn", "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"}}),
       "NoSuchEntity", 404, "cannot be found"},
      {"attach bad arn", "AttachRolePolicy", params({{"RoleName", "existing"}, {"PolicyArn", "p"}}),
       "InvalidInput", 400, "not valid"},
      {"detach not attached", "DetachRolePolicy",
       params({{"RoleName", "existing"},
               {"PolicyArn", "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"}}),
       "NoSuchEntity", 404, "was not found"},
      {"provider without https", "CreateOpenIDConnectProvider", params({{"Url", "http://x"}}),
       "ValidationError", 400, "https://"},
      {"provider bad thumbprint", "CreateOpenIDConnectProvider",
       params({{"Url", "https://x"}, {"ThumbprintList.member.1", "abc"}}), "ValidationError", 400,
       "40"},
      {"get missing provider", "GetOpenIDConnectProvider",
       params({{"OpenIDConnectProviderArn", "arn:aws:iam::111122223333:oidc-provider/none"}}),
       "NoSuchEntity", 404, "OpenIDConnect Provider not found"},
      {"list policies bad scope", "ListPolicies", params({{"Scope", "Mine"}}), "ValidationError",
       400, "enum"},
      {"unknown action", "CreateUser", params({}), "InvalidAction", 400, "CreateUser"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<std::string> r = call(c.action, c.params);
    ASSERT_FALSE(r.ok()) << *r;
    AwsErrorInfo info = aws_error_info(r.status());
    EXPECT_EQ(info.code, c.code);
    EXPECT_EQ(info.http_status, c.http_status);
    EXPECT_NE(info.message.find(c.message_part), std::string::npos) << info.message;
  }
}

TEST_F(IamServiceTest, OidcProviderLifecycle) {
  std::string xml =
      ok("CreateOpenIDConnectProvider",
         params({{"Url", "https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE"},
                 {"ClientIDList.member.1", "sts.amazonaws.com"},
                 {"ClientIDList.member.2", "other"},
                 {"ThumbprintList.member.1", "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"}}));
  const std::string arn =
      "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE";
  EXPECT_EQ(element(xml, "OpenIDConnectProviderArn"), arn);
  absl::StatusOr<std::string> dup =
      call("CreateOpenIDConnectProvider",
           params({{"Url", "https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE"}}));
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(aws_error_info(dup.status()).code, "EntityAlreadyExists");

  std::string got = ok("GetOpenIDConnectProvider", params({{"OpenIDConnectProviderArn", arn}}));
  EXPECT_EQ(element(got, "Url"), "oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE");
  EXPECT_NE(
      got.find(
          "<ClientIDList><member>sts.amazonaws.com</member><member>other</member></ClientIDList>"),
      std::string::npos);
  EXPECT_NE(got.find("<ThumbprintList><member>9e99a48a9960b14926bb7f3b02e22da2b0ab7280</member></"
                     "ThumbprintList>"),
            std::string::npos);
  EXPECT_NE(
      ok("ListOpenIDConnectProviders", params({})).find("<member><Arn>" + arn + "</Arn></member>"),
      std::string::npos);
  ok("DeleteOpenIDConnectProvider", params({{"OpenIDConnectProviderArn", arn}}));
  EXPECT_EQ(ok("ListOpenIDConnectProviders", params({})).find("<member>"), std::string::npos);
}

// The EKS "IAM roles for service accounts" guide: attach the AWS-managed CNI policy, create a
// customer policy, detach, delete.
TEST_F(IamServiceTest, EksGuidePolicyFlow) {
  create_role("AmazonEKSVPCCNIRole");
  const std::string cni = "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy";
  std::string policy = ok("GetPolicy", params({{"PolicyArn", cni}}));
  EXPECT_EQ(element(policy, "PolicyName"), "AmazonEKS_CNI_Policy");
  EXPECT_EQ(element(policy, "DefaultVersionId"), "v5");
  EXPECT_EQ(element(policy, "AttachmentCount"), "0");
  std::string version = ok("GetPolicyVersion", params({{"PolicyArn", cni}, {"VersionId", "v5"}}));
  std::string document = url_decode(element(version, "Document"));
  EXPECT_NE(document.find("ec2:AssignPrivateIpAddresses"), std::string::npos);
  EXPECT_TRUE(parse_policy_document(document, PolicyKind::kIdentity).ok());

  ok("AttachRolePolicy", params({{"RoleName", "AmazonEKSVPCCNIRole"}, {"PolicyArn", cni}}));
  ok("AttachRolePolicy",
     params({{"RoleName", "AmazonEKSVPCCNIRole"}, {"PolicyArn", cni}}));  // idempotent
  EXPECT_EQ(element(ok("GetPolicy", params({{"PolicyArn", cni}})), "AttachmentCount"), "1");
  std::string attached =
      ok("ListAttachedRolePolicies", params({{"RoleName", "AmazonEKSVPCCNIRole"}}));
  EXPECT_NE(
      attached.find(
          "<AttachedPolicies><member><PolicyName>AmazonEKS_CNI_Policy</PolicyName><PolicyArn>" +
          cni + "</PolicyArn></member></AttachedPolicies>"),
      std::string::npos)
      << attached;

  const std::string ipv6 =
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:AssignIpv6Addresses","ec2:DescribeInstances","ec2:DescribeTags","ec2:DescribeNetworkInterfaces","ec2:DescribeInstanceTypes"],"Resource":"*"},{"Effect":"Allow","Action":["ec2:CreateTags"],"Resource":["arn:aws:ec2:*:*:network-interface/*"]}]})";
  std::string created =
      ok("CreatePolicy",
         params({{"PolicyName", "AmazonEKS_CNI_IPv6_Policy"}, {"PolicyDocument", ipv6}}));
  EXPECT_EQ(element(created, "Arn"), "arn:aws:iam::111122223333:policy/AmazonEKS_CNI_IPv6_Policy");
  EXPECT_TRUE(element(created, "PolicyId").starts_with("ANPA"));
  std::string local = ok("ListPolicies", params({{"Scope", "Local"}}));
  EXPECT_NE(local.find("AmazonEKS_CNI_IPv6_Policy"), std::string::npos);
  EXPECT_EQ(local.find("AmazonEKS_CNI_Policy<"), std::string::npos);
  EXPECT_NE(ok("ListPolicies", params({{"Scope", "AWS"}}))
                .find("<PolicyName>AmazonEKS_CNI_Policy</PolicyName>"),
            std::string::npos);
  std::string attached_only = ok("ListPolicies", params({{"OnlyAttached", "true"}}));
  EXPECT_NE(attached_only.find("AmazonEKS_CNI_Policy<"), std::string::npos);
  EXPECT_EQ(attached_only.find("IPv6"), std::string::npos);

  ok("DetachRolePolicy", params({{"RoleName", "AmazonEKSVPCCNIRole"}, {"PolicyArn", cni}}));
  EXPECT_EQ(ok("ListAttachedRolePolicies", params({{"RoleName", "AmazonEKSVPCCNIRole"}}))
                .find("<member>"),
            std::string::npos);
  ok("DeletePolicy",
     params({{"PolicyArn", "arn:aws:iam::111122223333:policy/AmazonEKS_CNI_IPv6_Policy"}}));
  ok("DeleteRole", params({{"RoleName", "AmazonEKSVPCCNIRole"}}));
  EXPECT_FALSE(call("GetRole", params({{"RoleName", "AmazonEKSVPCCNIRole"}})).ok());
}

TEST_F(IamServiceTest, UpdateAssumeRolePolicy) {
  create_role("r");
  const std::string updated =
      R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}})";
  ok("UpdateAssumeRolePolicy", params({{"RoleName", "r"}, {"PolicyDocument", updated}}));
  EXPECT_EQ(
      url_decode(element(ok("GetRole", params({{"RoleName", "r"}})), "AssumeRolePolicyDocument")),
      updated);
  absl::StatusOr<std::string> bad =
      call("UpdateAssumeRolePolicy", params({{"RoleName", "r"}, {"PolicyDocument", "[]"}}));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(aws_error_info(bad.status()).code, "MalformedPolicyDocument");
}

// Spec section 7, AWS item 10, through the API.
TEST_F(IamServiceTest, SimulatePrincipalPolicy) {
  create_role("sim");
  ok("CreatePolicy", params({{"PolicyName", "s3"}, {"PolicyDocument", kS3Policy}}));
  ok("AttachRolePolicy",
     params({{"RoleName", "sim"}, {"PolicyArn", "arn:aws:iam::111122223333:policy/s3"}}));
  std::string xml = ok("SimulatePrincipalPolicy",
                       params({{"PolicySourceArn", "arn:aws:iam::111122223333:role/sim"},
                               {"ActionNames.member.1", "s3:DeleteObject"},
                               {"ActionNames.member.2", "S3:GetObject"},
                               {"ActionNames.member.3", "ec2:RunInstances"}}));
  EXPECT_NE(
      xml.find(
          "<EvalActionName>s3:DeleteObject</EvalActionName><EvalResourceName>*</EvalResourceName>"
          "<EvalDecision>explicitDeny</EvalDecision><MatchedStatements><member><SourcePolicyId>s3"
          "</SourcePolicyId><SourcePolicyType>user-managed</SourcePolicyType></member>"),
      std::string::npos)
      << xml;
  EXPECT_NE(
      xml.find("<EvalActionName>S3:GetObject</EvalActionName><EvalResourceName>*</EvalResourceName>"
               "<EvalDecision>allowed</EvalDecision>"),
      std::string::npos);
  EXPECT_NE(
      xml.find(
          "<EvalActionName>ec2:RunInstances</EvalActionName><EvalResourceName>*</EvalResourceName>"
          "<EvalDecision>implicitDeny</EvalDecision><MatchedStatements></MatchedStatements>"),
      std::string::npos);

  std::string with_input = ok(
      "SimulatePrincipalPolicy",
      params(
          {{"PolicySourceArn", "arn:aws:iam::111122223333:role/sim"},
           {"ActionNames.member.1", "ec2:RunInstances"},
           {"ResourceArns.member.1", "arn:aws:ec2:us-east-1:111122223333:instance/i-1"},
           {"PolicyInputList.member.1",
            R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:*","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}}})"},
           {"ContextEntries.member.1.ContextKeyName", "aws:RequestedRegion"},
           {"ContextEntries.member.1.ContextKeyValues.member.1", "us-east-1"},
           {"ContextEntries.member.1.ContextKeyType", "string"}}));
  EXPECT_NE(with_input.find(
                "<EvalDecision>allowed</EvalDecision><MatchedStatements><member><SourcePolicyId>"
                "PolicyInputList.1</SourcePolicyId>"),
            std::string::npos)
      << with_input;

  absl::StatusOr<std::string> missing = call(
      "SimulatePrincipalPolicy", params({{"PolicySourceArn", "arn:aws:iam::111122223333:role/nope"},
                                         {"ActionNames.member.1", "s3:GetObject"}}));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(aws_error_info(missing.status()).code, "NoSuchEntity");
}

}  // namespace
}  // namespace wims::aws
