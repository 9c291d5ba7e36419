#include "aws/sts_service.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <functional>

#include "aws/aws_error.h"
#include "aws/iam_service.h"
#include "jose/jwt.h"
#include "jose/signing_key.h"
#include "unit/aws/query_test_support.h"

namespace wims::aws {
namespace {

using testing::element;
using testing::kAccount;
using testing::params;

constexpr char kStsIssuer[] = "https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE";
constexpr char kIssuerHost[] = "oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE";
constexpr char kStsProviderArn[] =
    "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE";
constexpr char kRoleArn[] = "arn:aws:iam::111122223333:role/team/app-role";

template <typename T>
T run(boost::asio::awaitable<T> awaitable) {
  boost::asio::io_context io;
  std::optional<T> out;
  boost::asio::co_spawn(io, std::move(awaitable), [&](std::exception_ptr e, T value) {
    if (e) std::rethrow_exception(e);
    out = std::move(value);
  });
  io.run();
  return std::move(*out);
}

class StsServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<jose::SigningKey> key = jose::SigningKey::generate(jose::Algorithm::kES256);
    ASSERT_TRUE(key.ok());
    key_.emplace(*std::move(key));
    absl::StatusOr<jose::SigningKey> other = jose::SigningKey::generate(jose::Algorithm::kES256);
    ASSERT_TRUE(other.ok());
    other_key_.emplace(*std::move(other));
    jose::JwkSet jwks;
    absl::StatusOr<jose::PublicJwk> jwk = jose::PublicJwk::from_json(key_->public_jwk());
    ASSERT_TRUE(jwk.ok());
    jwks.add(*jwk);
    verifier_.set_jwks(kStsIssuer, jwks);

    ASSERT_TRUE(
        iam_.call("CreateOpenIDConnectProvider",
                  params({{"Url", kStsIssuer}, {"ClientIDList.member.1", "sts.amazonaws.com"}}),
                  "r")
            .ok());
    const std::string trust =
        std::string(
            R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":")") +
        kStsProviderArn +
        R"("},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{")" +
        kIssuerHost + R"(:sub":"system:serviceaccount:default:app",")" + kIssuerHost +
        R"(:aud":"sts.amazonaws.com"}}}]})";
    absl::StatusOr<std::string> role = iam_.call(
        "CreateRole",
        params({{"RoleName", "app-role"}, {"Path", "/team/"}, {"AssumeRolePolicyDocument", trust}}),
        "r");
    ASSERT_TRUE(role.ok()) << role.status();
    role_id_ = element(*role, "RoleId");
    const std::string like =
        std::string(
            R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":")") +
        kStsProviderArn +
        R"("},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{")" +
        kIssuerHost + R"(:sub":"system:serviceaccount:default:*"}}}]})";
    ASSERT_TRUE(iam_.call("CreateRole",
                          params({{"RoleName", "like-role"}, {"AssumeRolePolicyDocument", like}}),
                          "r")
                    .ok());
  }

  boost::json::object claims() {
    int64_t now = absl::ToUnixSeconds(clock_.now());
    return boost::json::object{{"iss", kStsIssuer},
                               {"sub", "system:serviceaccount:default:app"},
                               {"aud", boost::json::array{"sts.amazonaws.com"}},
                               {"iat", now},
                               {"exp", now + 3600}};
  }

  std::string token(const boost::json::object& c, bool other_key = false) {
    return jose::sign_jwt(other_key ? *other_key_ : *key_, c);
  }

  QueryParams assume(std::string tok, std::string role_arn = kRoleArn, std::string session = "s1") {
    return params({{"Action", "AssumeRoleWithWebIdentity"},
                   {"Version", "2011-06-15"},
                   {"RoleArn", role_arn},
                   {"RoleSessionName", session},
                   {"WebIdentityToken", tok}});
  }

  absl::StatusOr<std::string> call(QueryParams p) {
    return run(sts_.assume_role_with_web_identity(std::move(p), "req-1"));
  }

  FakeClock clock_;
  InMemoryAwsStateRepository repository_;
  StaticJwksTokenVerifier verifier_;
  IamService iam_{repository_, clock_, kAccount};
  StsService sts_{repository_, verifier_, clock_, kAccount};
  std::optional<jose::SigningKey> key_, other_key_;
  std::string role_id_;
};

// Spec section 7, AWS item 1.
TEST_F(StsServiceTest, AssumeRoleWithWebIdentitySucceeds) {
  absl::StatusOr<std::string> xml = call(assume(token(claims())));
  ASSERT_TRUE(xml.ok()) << xml.status();
  EXPECT_TRUE(xml->starts_with(
      "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
      "<AssumeRoleWithWebIdentityResult><SubjectFromWebIdentityToken>"
      "system:serviceaccount:default:app</SubjectFromWebIdentityToken>"
      "<Audience>sts.amazonaws.com</Audience>"));
  EXPECT_EQ(element(*xml, "Arn"), "arn:aws:sts::111122223333:assumed-role/app-role/s1");
  EXPECT_EQ(element(*xml, "AssumedRoleId"), role_id_ + ":s1");
  EXPECT_TRUE(element(*xml, "AccessKeyId").starts_with("ASIA"));
  EXPECT_EQ(element(*xml, "AccessKeyId").size(), 20u);
  EXPECT_FALSE(element(*xml, "SecretAccessKey").empty());
  EXPECT_FALSE(element(*xml, "SessionToken").empty());
  EXPECT_EQ(element(*xml, "Expiration"), "2023-11-14T23:13:20Z");  // now + 3600
  EXPECT_EQ(element(*xml, "Provider"), kStsProviderArn);
  EXPECT_NE(xml->find("<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>"),
            std::string::npos);

  // The issued credentials are known to the verifier with their expiry, and identify the assumed
  // role.
  std::optional<SigV4Secret> secret = sts_.signing_secret(element(*xml, "AccessKeyId"));
  ASSERT_TRUE(secret.has_value());
  EXPECT_EQ(secret->secret_access_key, element(*xml, "SecretAccessKey"));
  EXPECT_EQ(secret->session_token, element(*xml, "SessionToken"));
  EXPECT_EQ(secret->expiration, clock_.now() + absl::Hours(1));
  absl::StatusOr<std::string> who =
      sts_.get_caller_identity({element(*xml, "AccessKeyId"), "us-east-1"}, "", "r2");
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(element(*who, "Arn"), "arn:aws:sts::111122223333:assumed-role/app-role/s1");
  EXPECT_EQ(element(*who, "UserId"), role_id_ + ":s1");
  EXPECT_EQ(element(*who, "Account"), kAccount);

  QueryParams longer = assume(token(claims()), "arn:aws:iam::111122223333:role/like-role", "s2");
  longer.set("DurationSeconds", "900");
  absl::StatusOr<std::string> short_session = call(longer);
  ASSERT_TRUE(short_session.ok()) << short_session.status();
  EXPECT_EQ(element(*short_session, "Expiration"), "2023-11-14T22:28:20Z");
}

TEST_F(StsServiceTest, Errors) {
  struct Case {
    const char* name;
    std::function<QueryParams()> make;
    const char* code;
    int http_status;
    const char* message_part;
  };
  auto with = [&](std::function<void(boost::json::object&)> edit, bool other_key = false) {
    boost::json::object c = claims();
    edit(c);
    return token(c, other_key);
  };
  auto set_param = [](QueryParams p, std::string k, std::string v) {
    p.set(std::move(k), std::move(v));
    return p;
  };
  const Case cases[] = {
      // Item 2.
      {"duration 899", [&] { return set_param(assume(token(claims())), "DurationSeconds", "899"); },
       "ValidationError", 400, "greater than or equal to 900"},
      {"duration 43201",
       [&] { return set_param(assume(token(claims())), "DurationSeconds", "43201"); },
       "ValidationError", 400, "less than or equal to 43200"},
      {"duration above role max",
       [&] { return set_param(assume(token(claims())), "DurationSeconds", "7200"); },
       "ValidationError", 400,
       "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."},
      {"duration not a number",
       [&] { return set_param(assume(token(claims())), "DurationSeconds", "1h"); },
       "ValidationError", 400, "integer"},
      // Item 3.
      {"session name with space", [&] { return assume(token(claims()), kRoleArn, "a b"); },
       "ValidationError", 400,
       "Value 'a b' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular "
       "expression "
       "pattern: [\\w+=,.@-]*"},
      {"session name too short", [&] { return assume(token(claims()), kRoleArn, "a"); },
       "ValidationError", 400, "greater than or equal to 2"},
      {"session name too long",
       [&] { return assume(token(claims()), kRoleArn, std::string(65, 'a')); }, "ValidationError",
       400, "less than or equal to 64"},
      {"missing role arn",
       [&] {
         return params({{"RoleSessionName", "s"}, {"WebIdentityToken", token(claims())}});
       },
       "ValidationError", 400, "Value null at 'roleArn'"},
      {"missing token",
       [&] {
         return params({{"RoleArn", kRoleArn}, {"RoleSessionName", "s1"}});
       },
       "ValidationError", 400, "Value null at 'webIdentityToken'"},
      // Item 4.
      {"wrong audience", [&] { return assume(with([](auto& c) { c["aud"] = "foo"; })); },
       "InvalidIdentityToken", 400, "Incorrect token audience"},
      // Item 5.
      {"unregistered issuer",
       [&] { return assume(with([](auto& c) { c["iss"] = "https://evil.example.com"; })); },
       "InvalidIdentityToken", 400,
       "No OpenIDConnect provider found in your account for https://evil.example.com"},
      // Item 6.
      {"expired token",
       [&] {
         return assume(with([&](auto& c) { c["exp"] = absl::ToUnixSeconds(clock_.now()) - 10; }));
       },
       "ExpiredTokenException", 400,
       "Token expired: current date/time 1700000000 must be before the expiration date/time "
       "1699999990"},
      {"signed by another key", [&] { return assume(with([](auto&) {}, /*other_key=*/true)); },
       "InvalidIdentityToken", 400, "verification key"},
      {"not a jwt", [&] { return assume("not.a.jwt"); }, "InvalidIdentityToken", 400,
       "not a valid JWT"},
      {"tampered payload",
       [&] {
         std::string t = token(claims());
         size_t dot = t.find('.');
         t[dot + 5] = t[dot + 5] == 'A' ? 'B' : 'A';
         return assume(t);
       },
       "InvalidIdentityToken", 400, ""},
      // Item 7 and trust failures.
      {"sub in another namespace (StringLike)",
       [&] {
         return assume(with([](auto& c) { c["sub"] = "system:serviceaccount:prod:app"; }),
                       "arn:aws:iam::111122223333:role/like-role");
       },
       "AccessDenied", 403, "Not authorized to perform sts:AssumeRoleWithWebIdentity"},
      {"sub mismatch (StringEquals)",
       [&] {
         return assume(with([](auto& c) { c["sub"] = "system:serviceaccount:default:other"; }));
       },
       "AccessDenied", 403, "Not authorized to perform sts:AssumeRoleWithWebIdentity"},
      {"unknown role",
       [&] { return assume(token(claims()), "arn:aws:iam::111122223333:role/nope"); },
       "AccessDenied", 403, "Not authorized"},
      {"role in another account",
       [&] { return assume(token(claims()), "arn:aws:iam::999999999999:role/team/app-role"); },
       "AccessDenied", 403, "Not authorized"},
      {"role path mismatch",
       [&] { return assume(token(claims()), "arn:aws:iam::111122223333:role/app-role"); },
       "AccessDenied", 403, "Not authorized"},
      // Item 9.
      {"bad session policy", [&] { return set_param(assume(token(claims())), "Policy", "{bad"); },
       "MalformedPolicyDocument", 400, "Syntax errors"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<std::string> r = call(c.make());
    ASSERT_FALSE(r.ok()) << *r;
    AwsErrorInfo info = aws_error_info(r.status());
    EXPECT_EQ(info.code, c.code);
    EXPECT_EQ(info.http_status, c.http_status);
    EXPECT_NE(info.message.find(c.message_part), std::string::npos) << info.message;
  }
}

TEST_F(StsServiceTest, UnknownSessionIsNotAnIdentity) {
  EXPECT_FALSE(sts_.signing_secret("ASIANOPE").has_value());
  absl::StatusOr<std::string> who = sts_.get_caller_identity({"ASIANOPE", "us-east-1"}, "", "r");
  ASSERT_FALSE(who.ok());
  EXPECT_EQ(aws_error_info(who.status()).code, "InvalidClientTokenId");
  absl::StatusOr<std::string> admin =
      sts_.get_caller_identity({"AKIAADMIN", "us-east-1"}, "AKIAADMIN", "r");
  ASSERT_TRUE(admin.ok());
  EXPECT_EQ(element(*admin, "Arn"), "arn:aws:iam::111122223333:root");
}

}  // namespace
}  // namespace wims::aws
