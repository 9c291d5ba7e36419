#include "broker/xml_reader.h"

#include <gtest/gtest.h>

#include <string>

namespace wims::broker {
namespace {

// The STS success answer as the local cloud and real STS write it (shared/spec
// cloud-kubernetes-semantics 1).
constexpr char kStsSuccess[] = R"(<?xml version="1.0" encoding="UTF-8"?>
<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
 <AssumeRoleWithWebIdentityResult>
  <SubjectFromWebIdentityToken>system:serviceaccount:ns:sa</SubjectFromWebIdentityToken>
  <Audience>sts.amazonaws.com</Audience>
  <AssumedRoleUser><Arn>arn:aws:sts::111122223333:assumed-role/ROLE/SESSION</Arn>
   <AssumedRoleId>AROAEXAMPLE:SESSION</AssumedRoleId></AssumedRoleUser>
  <Credentials><AccessKeyId>ASIAEXAMPLE</AccessKeyId><SecretAccessKey>s3cr/t+</SecretAccessKey>
   <SessionToken>FwoGZX&amp;&#65;&#x42;</SessionToken><Expiration>2024-01-01T00:00:00Z</Expiration></Credentials>
  <Provider>arn:aws:iam::111122223333:oidc-provider/oidc.example.com/id/X</Provider>
 </AssumeRoleWithWebIdentityResult>
 <ResponseMetadata><RequestId>uuid</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>
)";

TEST(XmlReaderTest, ReadsTheStsSuccessShape) {
  absl::StatusOr<XmlElement> root = parse_xml(kStsSuccess);
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(root->name, "AssumeRoleWithWebIdentityResponse");
  const XmlElement* key =
      root->find({"AssumeRoleWithWebIdentityResult", "Credentials", "AccessKeyId"});
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(key->text, "ASIAEXAMPLE");
  const XmlElement* token =
      root->find({"AssumeRoleWithWebIdentityResult", "Credentials", "SessionToken"});
  ASSERT_NE(token, nullptr);
  EXPECT_EQ(token->text, "FwoGZX&AB");
  const XmlElement* arn = root->find({"AssumeRoleWithWebIdentityResult", "AssumedRoleUser", "Arn"});
  ASSERT_NE(arn, nullptr);
  EXPECT_EQ(arn->text, "arn:aws:sts::111122223333:assumed-role/ROLE/SESSION");
  EXPECT_EQ(root->find({"AssumeRoleWithWebIdentityResult", "Nope"}), nullptr);
}

TEST(XmlReaderTest, ReadsTheErrorShape) {
  absl::StatusOr<XmlElement> root = parse_xml(
      R"(<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>)"
      R"(<Code>AccessDenied</Code><Message>Not authorized to perform sts:AssumeRoleWithWebIdentity</Message>)"
      R"(</Error><RequestId>r-1</RequestId></ErrorResponse>)");
  ASSERT_TRUE(root.ok()) << root.status();
  ASSERT_NE(root->find({"Error", "Code"}), nullptr);
  EXPECT_EQ(root->find({"Error", "Code"})->text, "AccessDenied");
  EXPECT_EQ(root->find({"Error", "Message"})->text,
            "Not authorized to perform sts:AssumeRoleWithWebIdentity");
}

TEST(XmlReaderTest, AcceptedForms) {
  struct Case {
    std::string name;
    std::string xml;
    std::string root_name;
    std::string root_text;
  };
  const std::vector<Case> cases = {
      {"self-closing root", "<a/>", "a", ""},
      {"attributes in both quotes", "<a x='1' y = \"2>\">t</a>", "a", "t"},
      {"prefix stripped", "<s:a xmlns:s='u'>t</s:a>", "a", "t"},
      {"comment and PI skipped",
       "<?xml version='1.0'?><!-- c --><a><!-- x -->t<?pi?></a><!-- d -->", "a", "t"},
      {"CDATA kept verbatim", "<a><![CDATA[<&>]]></a>", "a", "<&>"},
      {"UTF-8 reference", "<a>&#xE9;&#8364;&#x1F600;</a>", "a",
       "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"},
      {"BOM", "\xEF\xBB\xBF<a>t</a>", "a", "t"},
      {"end tag with space", "<a>t</a >", "a", "t"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<XmlElement> root = parse_xml(c.xml);
    ASSERT_TRUE(root.ok()) << root.status();
    EXPECT_EQ(root->name, c.root_name);
    EXPECT_EQ(root->text, c.root_text);
  }
}

TEST(XmlReaderTest, RefusesMalformedInput) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"empty", ""},
      {"text only", "hello"},
      {"unclosed", "<a><b></b>"},
      {"mismatched", "<a><b></a></b>"},
      {"two roots", "<a/><b/>"},
      {"text after root", "<a/>x"},
      {"doctype", "<!DOCTYPE a [<!ENTITY x 'y'>]><a>&x;</a>"},
      {"doctype inside", "<a><!DOCTYPE a></a>"},
      {"undefined entity", "<a>&x;</a>"},
      {"unterminated entity", "<a>&amp</a>"},
      {"bad char reference", "<a>&#xZZ;</a>"},
      {"NUL reference", "<a>&#0;</a>"},
      {"surrogate reference", "<a>&#xD800;</a>"},
      {"reference out of range", "<a>&#x110000;</a>"},
      {"unquoted attribute", "<a x=1/>"},
      {"attribute without space", "<a x='1'y='2'/>"},
      {"unterminated attribute", "<a x='1/>"},
      {"lt in attribute", "<a x='<'/>"},
      {"unterminated comment", "<a><!-- </a>"},
      {"unterminated CDATA", "<a><![CDATA[ </a>"},
      {"no name", "< a/>"},
      {"unterminated start tag", "<a x='1'"},
  };
  for (const auto& [name, xml] : cases) {
    SCOPED_TRACE(name);
    absl::StatusOr<XmlElement> root = parse_xml(xml);
    EXPECT_EQ(root.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(XmlReaderTest, EnforcesLimits) {
  XmlLimits limits;
  limits.max_bytes = 100;
  std::string big = "<a>" + std::string(200, 'x') + "</a>";
  EXPECT_EQ(parse_xml(big, limits).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(parse_xml(big).ok());

  // Depth: 10,000 nested elements must be refused without deep recursion.
  std::string deep;
  for (int i = 0; i < 10000; ++i) deep += "<a>";
  for (int i = 0; i < 10000; ++i) deep += "</a>";
  XmlLimits roomy;
  roomy.max_bytes = deep.size();
  absl::StatusOr<XmlElement> nested = parse_xml(deep, roomy);
  EXPECT_EQ(nested.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(nested.status().message().find("deeply"), absl::string_view::npos);

  std::string exact_depth = "<a><a><a></a></a></a>";
  limits.max_depth = 3;
  EXPECT_TRUE(parse_xml(exact_depth, limits).ok());
  limits.max_depth = 2;
  EXPECT_FALSE(parse_xml(exact_depth, limits).ok());

  std::string wide = "<r>";
  for (int i = 0; i < 600; ++i) wide += "<e/>";
  wide += "</r>";
  EXPECT_EQ(parse_xml(wide).status().code(),
            absl::StatusCode::kInvalidArgument);  // 601 > 512 elements
}

}  // namespace
}  // namespace wims::broker
