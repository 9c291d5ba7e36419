#include "cloud/caller_auth.h"

#include <gtest/gtest.h>

#include "cloud/google_error.h"
#include "unit/cloud/google_cloud_env.h"

namespace wims::cloud {
namespace {

using namespace testing;  // NOLINT: test helpers

http::Request with_authorization(std::optional<std::string> value) {
  http::Request request = make_request(bhttp::verb::get, "/x");
  if (value) request.message.set(bhttp::field::authorization, *value);
  return request;
}

TEST(CallerAuthTest, TurnsBearerTokensIntoCallers) {
  GoogleCloudEnv env;
  const std::string federated = env.federated_token(workload());
  const std::string gsa = env.gsa_token(kAppGsa);
  std::string tampered = gsa;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  struct Case {
    std::string name;
    std::optional<std::string> header;
    std::optional<iam::Caller::Kind> kind;  // nullopt: Unauthenticated
  } cases[] = {
      {"no header", std::nullopt, std::nullopt},
      {"empty", "", std::nullopt},
      {"basic scheme", "Basic YWxhZGRpbjpvcGVuc2VzYW1l", std::nullopt},
      {"bearer without token", "Bearer ", std::nullopt},
      {"admin", std::string("Bearer ") + kAdminToken, iam::Caller::Kind::kAdmin},
      {"admin, lower-case scheme", std::string("bearer ") + kAdminToken, iam::Caller::Kind::kAdmin},
      {"admin prefix only", std::string("Bearer ") + std::string(kAdminToken).substr(1),
       std::nullopt},
      {"federated", "Bearer " + federated, iam::Caller::Kind::kWorkload},
      {"service account", "Bearer " + gsa, iam::Caller::Kind::kServiceAccount},
      {"tampered", "Bearer " + tampered, std::nullopt},
      {"garbage", "Bearer ya29.not-a-token", std::nullopt},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    http::Request request = with_authorization(c.header);
    absl::StatusOr<iam::Caller> caller = env.auth.authenticate(request);
    if (!c.kind) {
      ASSERT_FALSE(caller.ok());
      EXPECT_EQ(caller.status().code(), absl::StatusCode::kUnauthenticated);
      EXPECT_EQ(caller.status().message(), kInvalidCredentialsMessage);
      continue;
    }
    ASSERT_TRUE(caller.ok()) << caller.status();
    EXPECT_EQ(caller->kind(), *c.kind);
  }
}

TEST(CallerAuthTest, CarriesTheIdentityOfTheToken) {
  GoogleCloudEnv env;
  auto workload_caller = env.auth.caller_of_token(env.federated_token(workload("prod", "api")));
  ASSERT_TRUE(workload_caller.ok());
  EXPECT_EQ(workload_caller->workload_identity().namespace_name, "prod");
  EXPECT_EQ(workload_caller->workload_identity().service_account, "api");
  EXPECT_EQ(caller_display_name(*workload_caller), kApiPrincipal);
  auto gsa_caller = env.auth.caller_of_token(env.gsa_token(kAppGsa));
  ASSERT_TRUE(gsa_caller.ok());
  EXPECT_EQ(gsa_caller->email(), kAppGsa);
  EXPECT_EQ(caller_display_name(*gsa_caller), kAppGsa);
  EXPECT_EQ(caller_display_name(iam::Caller::anonymous()), "Anonymous caller");
}

TEST(CallerAuthTest, ExpiredTokensAreRejected) {
  GoogleCloudEnv env;
  std::string token = env.gsa_token(kAppGsa, absl::Minutes(10));
  EXPECT_TRUE(env.auth.caller_of_token(token).ok());
  env.clock.advance(absl::Minutes(10));
  EXPECT_EQ(env.auth.caller_of_token(token).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST(CallerAuthTest, AnonymousOnlyWithoutAnAuthorizationHeader) {
  GoogleCloudEnv env;
  http::Request none = with_authorization(std::nullopt);
  auto anonymous = env.auth.authenticate_or_anonymous(none);
  ASSERT_TRUE(anonymous.ok());
  EXPECT_EQ(anonymous->kind(), iam::Caller::Kind::kAnonymous);
  http::Request bad = with_authorization("Bearer nope");
  EXPECT_EQ(env.auth.authenticate_or_anonymous(bad).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(CallerAuthTest, UnauthenticatedErrorHasGooglesShape) {
  http::Response response = unauthenticated_error();
  EXPECT_EQ(response.result_int(), 401);
  EXPECT_EQ(json_of(response),
            boost::json::parse(std::string(R"({"error":{"code":401,"message":")") +
                               kInvalidCredentialsMessage + R"(","status":"UNAUTHENTICATED"}})"));
  EXPECT_EQ(response[bhttp::field::www_authenticate],
            "Bearer realm=\"https://accounts.google.com/\"");
}

}  // namespace
}  // namespace wims::cloud
