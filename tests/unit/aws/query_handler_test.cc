#include "aws/query_handler.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include "jose/jwt.h"
#include "jose/signing_key.h"
#include "unit/aws/query_test_support.h"

namespace wims::aws {
namespace {

using testing::element;
using testing::kAccount;

namespace beast_http = boost::beast::http;

constexpr char kAdminKey[] = "AKIAWIMSADMINEXAMPLE";
constexpr char kAdminSecret[] = "admin/secret+key";
constexpr char kHandlerIssuer[] = "https://issuer.example.com";

std::string form_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

std::string form(std::initializer_list<std::pair<std::string, std::string>> fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out += '&';
    out += form_encode(k) + "=" + form_encode(v);
  }
  return out;
}

class AwsQueryHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<jose::SigningKey> key = jose::SigningKey::generate(jose::Algorithm::kES256);
    ASSERT_TRUE(key.ok());
    key_.emplace(*std::move(key));
    jose::JwkSet jwks;
    jwks.add(*jose::PublicJwk::from_json(key_->public_jwk()));
    verifier_.set_jwks(kHandlerIssuer, jwks);
  }

  // A POST of `body` to `target`, SigV4-signed with `creds` for `service` unless `creds` is null.
  http::Request post(std::string body, const SigV4Credentials* creds, std::string_view service,
                     std::string target = "/") {
    SigV4Request sig;
    sig.method = "POST";
    sig.raw_path = target;
    sig.body = body;
    sig.headers = {{"Host", "127.0.0.1:4566"},
                   {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
    if (creds != nullptr) {
      EXPECT_TRUE(sign_sigv4(sig, *creds, "us-east-1", service, clock_.now()).ok());
    }
    http::Request request;
    request.message.method(beast_http::verb::post);
    request.message.target(target);
    request.message.version(11);
    for (const auto& [k, v] : sig.headers) request.message.insert(k, v);
    request.message.body() = body;
    request.message.prepare_payload();
    request.path = target;
    return request;
  }

  http::Response handle(http::Request request) {
    boost::asio::io_context io;
    std::optional<http::Response> out;
    boost::asio::co_spawn(io, handler_.handle(request),
                          [&](std::exception_ptr e, http::Response r) {
                            if (e) std::rethrow_exception(e);
                            out = std::move(r);
                          });
    io.run();
    return std::move(*out);
  }

  void expect_error(const http::Response& r, int status, const std::string& code,
                    std::string_view xmlns) {
    EXPECT_EQ(r.result_int(), status) << r.body();
    EXPECT_EQ(r[beast_http::field::content_type], "text/xml");
    EXPECT_TRUE(r.body().starts_with("<ErrorResponse xmlns=\"" + std::string(xmlns) +
                                     "\"><Error><Type>Sender</Type><Code>" + code +
                                     "</Code><Message>"))
        << r.body();
    EXPECT_NE(r.body().find("</Message></Error><RequestId>"), std::string::npos);
  }

  std::string sign_token(const std::string& sub) {
    int64_t now = absl::ToUnixSeconds(clock_.now());
    return jose::sign_jwt(*key_, boost::json::object{{"iss", kHandlerIssuer},
                                                     {"sub", sub},
                                                     {"aud", "sts.amazonaws.com"},
                                                     {"iat", now},
                                                     {"exp", now + 600}});
  }

  FakeClock clock_;
  InMemoryAwsStateRepository repository_;
  StaticJwksTokenVerifier verifier_;
  IamService iam_{repository_, clock_, kAccount};
  StsService sts_{repository_, verifier_, clock_, kAccount};
  AwsQueryHandler handler_{iam_, sts_, clock_, {kAdminKey, kAdminSecret}};
  SigV4Credentials admin_{kAdminKey, kAdminSecret, ""};
  std::optional<jose::SigningKey> key_;
};

TEST_F(AwsQueryHandlerTest, IamRequiresTheAdminSignature) {
  const std::string body = form({{"Action", "ListRoles"}, {"Version", "2010-05-08"}});
  http::Response ok = handle(post(body, &admin_, "iam"));
  EXPECT_EQ(ok.result_int(), 200) << ok.body();
  EXPECT_TRUE(ok.body().starts_with(
      "<ListRolesResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"));

  SigV4Credentials wrong_secret{kAdminKey, "nope", ""};
  expect_error(handle(post(body, &wrong_secret, "iam")), 403, "SignatureDoesNotMatch", kIamXmlns);
  SigV4Credentials unknown{"AKIAUNKNOWN", kAdminSecret, ""};
  expect_error(handle(post(body, &unknown, "iam")), 403, "InvalidClientTokenId", kIamXmlns);
  expect_error(handle(post(body, nullptr, "iam")), 403, "MissingAuthenticationToken", kIamXmlns);
  expect_error(handle(post(body, &admin_, "sts")), 403, "SignatureDoesNotMatch", kIamXmlns);

  http::Request tampered = post(body, &admin_, "iam");
  tampered.message.body() =
      form({{"Action", "ListRoles"}, {"Version", "2010-05-08"}, {"PathPrefix", "/x/"}});
  expect_error(handle(std::move(tampered)), 403, "SignatureDoesNotMatch", kIamXmlns);

  // Mounted under a path prefix: the canonical URI is the target as sent.
  EXPECT_EQ(handle(post(body, &admin_, "iam", "/aws/")).result_int(), 200);
}

TEST_F(AwsQueryHandlerTest, ProtocolErrors) {
  expect_error(handle(post(form({{"Version", "2010-05-08"}}), &admin_, "iam")), 400,
               "MissingAction", kIamXmlns);
  expect_error(handle(post(form({{"Action", "CreateUser"}}), &admin_, "iam")), 400, "InvalidAction",
               kIamXmlns);
  http::Response malformed = handle(post(
      form({{"Action", "CreateRole"}, {"RoleName", "r"}, {"AssumeRolePolicyDocument", "{bad"}}),
      &admin_, "iam"));
  expect_error(malformed, 400, "MalformedPolicyDocument", kIamXmlns);
  EXPECT_NE(malformed.body().find("<Message>Syntax errors in policy.</Message>"),
            std::string::npos);
}

// The IRSA flow end to end through the handler: register the issuer, create the role, exchange a
// token (unsigned), then GetCallerIdentity signed with the issued credentials.
TEST_F(AwsQueryHandlerTest, WebIdentityFlowAndCallerIdentity) {
  ASSERT_EQ(handle(post(form({{"Action", "CreateOpenIDConnectProvider"},
                              {"Url", kHandlerIssuer},
                              {"ClientIDList.member.1", "sts.amazonaws.com"}}),
                        &admin_, "iam"))
                .result_int(),
            200);
  const std::string trust =
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/issuer.example.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"issuer.example.com:sub":"system:serviceaccount:kube-system:aws-node","issuer.example.com:aud":"sts.amazonaws.com"}}}]})";
  http::Response role = handle(post(form({{"Action", "CreateRole"},
                                          {"RoleName", "AmazonEKSVPCCNIRole"},
                                          {"AssumeRolePolicyDocument", trust}}),
                                    &admin_, "iam"));
  ASSERT_EQ(role.result_int(), 200) << role.body();

  http::Response denied =
      handle(post(form({{"Action", "AssumeRoleWithWebIdentity"},
                        {"Version", "2011-06-15"},
                        {"RoleArn", "arn:aws:iam::111122223333:role/AmazonEKSVPCCNIRole"},
                        {"RoleSessionName", "s1"},
                        {"WebIdentityToken", sign_token("system:serviceaccount:default:x")}}),
                  nullptr, "sts"));
  expect_error(denied, 403, "AccessDenied", kStsXmlns);

  http::Response assumed = handle(
      post(form({{"Action", "AssumeRoleWithWebIdentity"},
                 {"Version", "2011-06-15"},
                 {"RoleArn", "arn:aws:iam::111122223333:role/AmazonEKSVPCCNIRole"},
                 {"RoleSessionName", "botocore-session-1"},
                 {"WebIdentityToken", sign_token("system:serviceaccount:kube-system:aws-node")}}),
           nullptr, "sts"));
  ASSERT_EQ(assumed.result_int(), 200) << assumed.body();
  SigV4Credentials temp{element(assumed.body(), "AccessKeyId"),
                        element(assumed.body(), "SecretAccessKey"),
                        element(assumed.body(), "SessionToken")};

  const std::string who_body = form({{"Action", "GetCallerIdentity"}, {"Version", "2011-06-15"}});
  http::Response who = handle(post(who_body, &temp, "sts"));
  ASSERT_EQ(who.result_int(), 200) << who.body();
  EXPECT_TRUE(who.body().starts_with(
      "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
      "<GetCallerIdentityResult><Arn>arn:aws:sts::111122223333:assumed-role/"
      "AmazonEKSVPCCNIRole/botocore-session-1</Arn>"))
      << who.body();
  EXPECT_EQ(element(who.body(), "Account"), kAccount);

  // Temporary credentials are not admin credentials for IAM.
  expect_error(handle(post(form({{"Action", "ListRoles"}}), &temp, "iam")), 403,
               "InvalidClientTokenId", kIamXmlns);

  SigV4Credentials tampered = temp;
  tampered.secret_access_key += "x";
  expect_error(handle(post(who_body, &tampered, "sts")), 403, "SignatureDoesNotMatch", kStsXmlns);
  SigV4Credentials forged_token = temp;
  forged_token.session_token = "forged";
  expect_error(handle(post(who_body, &forged_token, "sts")), 403, "InvalidClientTokenId",
               kStsXmlns);

  clock_.advance(absl::Seconds(3601));
  expect_error(handle(post(who_body, &temp, "sts")), 400, "ExpiredToken", kStsXmlns);
}

}  // namespace
}  // namespace wims::aws
