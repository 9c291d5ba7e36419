#include "metadata/aws_imds_handler.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <functional>
#include <regex>

#include "metadata/aws_imds_response.h"
#include "metadata/caller_resolver.h"
#include "unit/metadata/aws_test_support.h"

namespace wims::metadata {
namespace {

namespace bh = boost::beast::http;
using testing::header;
using testing::make_aws_request;
using testing::run;

constexpr char kCreds[] = "/latest/meta-data/iam/security-credentials/";
constexpr char kTokenPlaceholder[] = "{token}";
const std::regex kTimestamp(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)");

class ImdsFixture {
 public:
  explicit ImdsFixture(AwsImdsOptions options = {})
      : world_(testing::make_aws_world()), credentials_(clock_) {
    resolver_ = *WorldCallerResolver::create(*world_);
    handler_ = std::make_unique<AwsImdsHandler>(world_, *resolver_, credentials_, clock_, options);
  }

  http::Response send(bh::verb method, const std::string& target,
                      const std::string& peer = testing::kAwsIp,
                      std::vector<std::pair<std::string, std::string>> headers = {}) {
    for (auto& [name, value] : headers) {
      if (value == kTokenPlaceholder) value = token(peer);
    }
    http::Request request = make_aws_request(method, target, peer, headers);
    std::optional<http::Response> response = run(*handler_, request);
    EXPECT_TRUE(response.has_value()) << target << " did not complete";
    last_route_ = request.route;
    return response ? *response : http::Response();
  }
  http::Response get(const std::string& target, const std::string& peer = testing::kAwsIp,
                     std::vector<std::pair<std::string, std::string>> headers = {}) {
    return send(bh::verb::get, target, peer, std::move(headers));
  }
  std::string token(const std::string& peer = testing::kAwsIp, const std::string& ttl = "21600") {
    http::Request request =
        make_aws_request(bh::verb::put, "/latest/api/token", peer, {{kImdsTokenTtlHeader, ttl}});
    std::optional<http::Response> response = run(*handler_, request);
    EXPECT_TRUE(response && response->result_int() == 200);
    return response ? response->body() : "";
  }

  std::shared_ptr<config::World> world_;
  FakeClock clock_;
  testing::FakeAwsCredentials credentials_;
  std::unique_ptr<WorldCallerResolver> resolver_;
  std::unique_ptr<AwsImdsHandler> handler_;
  std::string last_route_;
};

struct ChecklistCase {
  std::string name{};
  ImdsTokenMode mode = ImdsTokenMode::kOptional;
  bh::verb method = bh::verb::get;
  std::string target{};
  std::vector<std::pair<std::string, std::string>> headers{};  // "{token}" -> a fresh valid token
  std::string peer = testing::kAwsIp;
  unsigned status = 200;
  std::string content_type{};  // "" = not checked
  std::optional<std::string> body{};
  std::vector<std::string> contains{};
  std::vector<std::pair<std::string, std::string>> response_headers{};
  std::function<void(const http::Response&)> check{};
};

void expect_keys(const std::string& body, const std::vector<std::string>& keys) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(body, ec);
  ASSERT_FALSE(ec) << body;
  ASSERT_TRUE(value.is_object());
  EXPECT_EQ(value.as_object().size(), keys.size()) << body;
  for (const std::string& key : keys) EXPECT_TRUE(value.as_object().contains(key)) << key;
}

// shared/spec/metadata-protocols.md, E. Conformance test checklist, AWS items 19-28 (29-31 are
// real-client behaviour, tested against `wims up`; 32 is in container_credentials_handler_test.cc).
std::vector<ChecklistCase> checklist_cases() {
  const std::string creds = kCreds;
  return {
      {.name = "E19 PUT token with TTL 21600",
       .method = bh::verb::put,
       .target = "/latest/api/token",
       .headers = {{kImdsTokenTtlHeader, "21600"}},
       .content_type = "text/plain",
       .response_headers = {{kImdsTokenTtlHeader, "21600"}, {"Server", "EC2ws"}},
       .check =
           [](const http::Response& r) {
             EXPECT_EQ(r.body().size(), 54u);
             EXPECT_EQ(r.body().find('\n'), std::string::npos);
           }},
      {.name = "E19 PUT token with TTL 1",
       .method = bh::verb::put,
       .target = "/latest/api/token",
       .headers = {{kImdsTokenTtlHeader, "1"}},
       .response_headers = {{kImdsTokenTtlHeader, "1"}}},
      {.name = "E20 TTL missing",
       .method = bh::verb::put,
       .target = "/latest/api/token",
       .status = 400},
      {.name = "E20 TTL 0",
       .method = bh::verb::put,
       .target = "/latest/api/token",
       .headers = {{kImdsTokenTtlHeader, "0"}},
       .status = 400},
      {.name = "E20 TTL 21601",
       .method = bh::verb::put,
       .target = "/latest/api/token",
       .headers = {{kImdsTokenTtlHeader, "21601"}},
       .status = 400},
      {.name = "E20 TTL abc",
       .method = bh::verb::put,
       .target = "/latest/api/token",
       .headers = {{kImdsTokenTtlHeader, "abc"}},
       .status = 400},
      {.name = "E20 TTL -1",
       .method = bh::verb::put,
       .target = "/latest/api/token",
       .headers = {{kImdsTokenTtlHeader, "-1"}},
       .status = 400},
      {.name = "E20 TTL +5",
       .method = bh::verb::put,
       .target = "/latest/api/token",
       .headers = {{kImdsTokenTtlHeader, "+5"}},
       .status = 400},
      {.name = "E20 TTL huge",
       .method = bh::verb::put,
       .target = "/latest/api/token",
       .headers = {{kImdsTokenTtlHeader, "99999999999999999999999"}},
       .status = 400},
      {.name = "E21 PUT with X-Forwarded-For",
       .method = bh::verb::put,
       .target = "/latest/api/token",
       .headers = {{kImdsTokenTtlHeader, "21600"}, {"X-Forwarded-For", "1.2.3.4"}},
       .status = 403},
      {.name = "E22 PUT token with trailing slash",
       .method = bh::verb::put,
       .target = "/latest/api/token/",
       .headers = {{kImdsTokenTtlHeader, "21600"}},
       .status = 403,
       .content_type = "text/plain",
       .body = "",
       .response_headers = {{"Server", "EC2ws"}}},
      {.name = "GET on the token path", .target = "/latest/api/token", .status = 405},
      {.name = "E23 role name with a valid token",
       .target = creds,
       .headers = {{kImdsTokenHeader, kTokenPlaceholder}},
       .content_type = "text/plain",
       .body = "ksa"},
      {.name = "E23 role name without the slash",
       .target = "/latest/meta-data/iam/security-credentials",
       .body = "ksa"},
      {.name = "E24 required: no token",
       .mode = ImdsTokenMode::kRequired,
       .target = creds,
       .status = 401,
       .contains = {"401 - Unauthorized"}},
      {.name = "E24 required: bogus token",
       .mode = ImdsTokenMode::kRequired,
       .target = creds,
       .headers = {{kImdsTokenHeader, "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}},
       .status = 401},
      {.name = "E24 required: valid token",
       .mode = ImdsTokenMode::kRequired,
       .target = creds,
       .headers = {{kImdsTokenHeader, kTokenPlaceholder}},
       .body = "ksa"},
      {.name = "E25 optional: tokenless GET", .target = creds, .body = "ksa"},
      {.name = "optional: bogus token still 401",
       .target = creds,
       .headers = {{kImdsTokenHeader, "garbage"}},
       .status = 401},
      {.name = "disabled: PUT refused so clients fall back",
       .mode = ImdsTokenMode::kDisabled,
       .method = bh::verb::put,
       .target = "/latest/api/token",
       .headers = {{kImdsTokenTtlHeader, "21600"}},
       .status = 403},
      {.name = "disabled: tokenless GET",
       .mode = ImdsTokenMode::kDisabled,
       .target = creds,
       .body = "ksa"},
      {.name = "E26 credentials JSON",
       .target = creds + "ksa",
       .headers = {{kImdsTokenHeader, kTokenPlaceholder}},
       .content_type = "text/plain",
       .check =
           [](const http::Response& r) {
             expect_keys(r.body(), {"Code", "LastUpdated", "Type", "AccessKeyId", "SecretAccessKey",
                                    "Token", "Expiration"});
             boost::json::object o = boost::json::parse(r.body()).as_object();
             EXPECT_EQ(o["Code"], "Success");
             EXPECT_EQ(o["Type"], "AWS-HMAC");
             EXPECT_EQ(o["SecretAccessKey"], "secret\"/+=");
             EXPECT_TRUE(std::regex_match(std::string(o["Expiration"].as_string()), kTimestamp));
             EXPECT_TRUE(std::regex_match(std::string(o["LastUpdated"].as_string()), kTimestamp));
           }},
      {.name = "E26 another role", .target = creds + "other", .status = 404},
      {.name = "E26 role with a trailing slash", .target = creds + "ksa/", .status = 404},
      {.name = "E27 iam/info",
       .target = "/latest/meta-data/iam/info",
       .check =
           [](const http::Response& r) {
             expect_keys(r.body(),
                         {"Code", "LastUpdated", "InstanceProfileArn", "InstanceProfileId"});
             boost::json::object o = boost::json::parse(r.body()).as_object();
             EXPECT_EQ(o["InstanceProfileArn"], "arn:aws:iam::111122223333:instance-profile/ksa");
             EXPECT_TRUE(std::regex_match(std::string(o["InstanceProfileId"].as_string()),
                                          std::regex("AIPA[A-Z0-9]{17}")));
           }},
      {.name = "E27 availability-zone",
       .target = "/latest/meta-data/placement/availability-zone",
       .body = "us-east-1a"},
      {.name = "E27 availability-zone/",
       .target = "/latest/meta-data/placement/availability-zone/",
       .body = "us-east-1a"},
      {.name = "region", .target = "/latest/meta-data/placement/region", .body = "us-east-1"},
      {.name = "E27 instance identity document",
       .target = "/latest/dynamic/instance-identity/document",
       .check =
           [](const http::Response& r) {
             expect_keys(r.body(),
                         {"accountId", "architecture", "availabilityZone", "billingProducts",
                          "devpayProductCodes", "marketplaceProductCodes", "imageId", "instanceId",
                          "instanceType", "kernelId", "pendingTime", "privateIp", "ramdiskId",
                          "region", "version"});
             boost::json::object o = boost::json::parse(r.body()).as_object();
             EXPECT_EQ(o["accountId"], "111122223333");
             EXPECT_EQ(o["region"], "us-east-1");
             EXPECT_EQ(o["availabilityZone"], "us-east-1a");
             EXPECT_EQ(o["version"], "2017-09-30");
             EXPECT_EQ(o["privateIp"], "10.0.0.8");
             EXPECT_TRUE(o["kernelId"].is_null());
             EXPECT_TRUE(std::regex_match(std::string(o["instanceId"].as_string()),
                                          std::regex("i-[0-9a-f]{17}")));
           }},
      {.name = "E28 unknown path",
       .target = "/latest/meta-data/nope",
       .status = 404,
       .content_type = "text/html",
       .contains = {"<title>404 - Not Found</title>"},
       .response_headers = {{"Server", "EC2ws"}}},
      {.name = "E28 outside /latest", .target = "/2009-04-04/meta-data/", .status = 404},
      {.name = "listing /latest/", .target = "/latest/", .body = "dynamic\nmeta-data"},
      {.name = "listing /latest/meta-data/",
       .target = "/latest/meta-data/",
       .body = "ami-id\niam/\ninstance-id\ninstance-type\nplacement/"},
      {.name = "listing /latest/meta-data without slash",
       .target = "/latest/meta-data",
       .body = "ami-id\niam/\ninstance-id\ninstance-type\nplacement/"},
      {.name = "listing iam/",
       .target = "/latest/meta-data/iam/",
       .body = "info\nsecurity-credentials/"},
      {.name = "POST on a metadata path",
       .method = bh::verb::post,
       .target = creds,
       .status = 405,
       .response_headers = {{"Allow", "GET, HEAD"}}},
      {.name = "pod without an AWS role: security-credentials/",
       .target = creds,
       .peer = testing::kDemoIp,
       .status = 404},
      {.name = "pod without an AWS role: no iam/ in the listing",
       .target = "/latest/meta-data/",
       .peer = testing::kDemoIp,
       .body = "ami-id\ninstance-id\ninstance-type\nplacement/"},
      {.name = "pod without an AWS role: iam/info",
       .target = "/latest/meta-data/iam/info",
       .peer = testing::kDemoIp,
       .status = 404},
      {.name = "unknown caller denied",
       .target = creds,
       .peer = testing::kUnknownIp,
       .status = 403,
       .contains = {"10.99.0.1"}},
      {.name = "unknown caller cannot get a token",
       .method = bh::verb::put,
       .target = "/latest/api/token",
       .headers = {{kImdsTokenTtlHeader, "21600"}},
       .peer = testing::kUnknownIp,
       .status = 403},
      {.name = "hostNetwork caller denied",
       .target = creds,
       .peer = testing::kNodeIp,
       .status = 403},
      {.name = "ambiguous address denied",
       .target = creds,
       .peer = testing::kAmbiguousIp,
       .status = 403},
  };
}

TEST(AwsImdsHandlerTest, ConformanceChecklist) {
  for (const ChecklistCase& c : checklist_cases()) {
    SCOPED_TRACE(c.name);
    AwsImdsOptions options;
    options.token_mode = c.mode;
    ImdsFixture fixture(options);
    http::Response r = fixture.send(c.method, c.target, c.peer, c.headers);
    EXPECT_EQ(r.result_int(), c.status) << r.body();
    EXPECT_EQ(header(r, "Server"), "EC2ws");
    if (!c.content_type.empty()) {
      EXPECT_EQ(header(r, "Content-Type"), c.content_type);
    }
    if (c.body) {
      EXPECT_EQ(r.body(), *c.body);
    }
    for (const std::string& part : c.contains)
      EXPECT_NE(r.body().find(part), std::string::npos) << r.body();
    for (const auto& [name, value] : c.response_headers) EXPECT_EQ(header(r, name), value) << name;
    if (c.check) c.check(r);
  }
}

TEST(AwsImdsHandlerTest, CredentialsJsonHasTheExactEc2Shape) {
  ImdsFixture fixture;
  http::Response r = fixture.get(std::string(kCreds) + "ksa");
  ASSERT_EQ(r.result_int(), 200u);
  // FakeClock starts at 2023-11-14T22:13:20Z; the fake's credentials last an hour.
  EXPECT_EQ(r.body(),
            "{\n"
            "  \"Code\" : \"Success\",\n"
            "  \"LastUpdated\" : \"2023-11-14T22:13:20Z\",\n"
            "  \"Type\" : \"AWS-HMAC\",\n"
            "  \"AccessKeyId\" : \"ASIAFAKEapp\",\n"
            "  \"SecretAccessKey\" : \"secret\\\"/+=\",\n"
            "  \"Token\" : \"session-token-of-app\",\n"
            "  \"Expiration\" : \"2023-11-14T23:13:20Z\"\n"
            "}");
  EXPECT_EQ(fixture.last_route_, "imds.credentials");
  ASSERT_TRUE(fixture.credentials_.last_caller.has_value());
  EXPECT_EQ(fixture.credentials_.last_caller->pod.name, "app");
}

TEST(AwsImdsHandlerTest, SessionTokensAreBoundToThePodThatCreatedThem) {
  for (ImdsTokenMode mode : {ImdsTokenMode::kOptional, ImdsTokenMode::kRequired}) {
    SCOPED_TRACE(mode == ImdsTokenMode::kOptional ? "optional" : "required");
    AwsImdsOptions options;
    options.token_mode = mode;
    ImdsFixture fixture(options);
    const std::string token = fixture.token(testing::kAwsIp);
    // Same pod: accepted.
    EXPECT_EQ(fixture.get(kCreds, testing::kAwsIp, {{kImdsTokenHeader, token}}).result_int(), 200u);
    // Another pod of the same service account and role: refused, and never served as the first pod.
    http::Response other = fixture.get(kCreds, testing::kAwsIp2, {{kImdsTokenHeader, token}});
    EXPECT_EQ(other.result_int(), 401u);
    EXPECT_NE(other.body().find("not valid for this caller"), std::string::npos) << other.body();
    EXPECT_EQ(
        fixture.get(std::string(kCreds) + "ksa", testing::kAwsIp2, {{kImdsTokenHeader, token}})
            .result_int(),
        401u);
    // The second pod's own token works for it.
    const std::string token2 = fixture.token(testing::kAwsIp2);
    EXPECT_NE(token, token2);
    EXPECT_EQ(fixture.get(kCreds, testing::kAwsIp2, {{kImdsTokenHeader, token2}}).result_int(),
              200u);
  }
}

TEST(AwsImdsHandlerTest, TokensFromAnotherServerAreRefused) {
  ImdsFixture first;
  ImdsFixture second;  // another process: another key
  const std::string token = first.token();
  EXPECT_EQ(second.get(kCreds, testing::kAwsIp, {{kImdsTokenHeader, token}}).result_int(), 401u);
}

TEST(AwsImdsHandlerTest, TokenExpiresAfterItsTtl) {
  AwsImdsOptions options;
  options.token_mode = ImdsTokenMode::kRequired;
  ImdsFixture fixture(options);
  const std::string short_token = fixture.token(testing::kAwsIp, "1");
  const std::string long_token = fixture.token(testing::kAwsIp, "21600");
  EXPECT_EQ(fixture.get(kCreds, testing::kAwsIp, {{kImdsTokenHeader, short_token}}).result_int(),
            200u);
  fixture.clock_.advance(absl::Milliseconds(999));
  EXPECT_EQ(fixture.get(kCreds, testing::kAwsIp, {{kImdsTokenHeader, short_token}}).result_int(),
            200u);
  fixture.clock_.advance(
      absl::Seconds(1));  // E24: TTL 1, used after 2 s (here 1.999 s; expiry is exact)
  http::Response expired = fixture.get(kCreds, testing::kAwsIp, {{kImdsTokenHeader, short_token}});
  EXPECT_EQ(expired.result_int(), 401u);
  EXPECT_NE(expired.body().find("expired"), std::string::npos);
  EXPECT_EQ(fixture.get(kCreds, testing::kAwsIp, {{kImdsTokenHeader, long_token}}).result_int(),
            200u);
  fixture.clock_.advance(absl::Seconds(21600));
  EXPECT_EQ(fixture.get(kCreds, testing::kAwsIp, {{kImdsTokenHeader, long_token}}).result_int(),
            401u);
}

TEST(AwsImdsHandlerTest, EmulatorProfileServesOnlyTheCredentialPaths) {
  AwsImdsOptions options;
  options.profile = ImdsProfile::kEmulator;
  ImdsFixture fixture(options);
  EXPECT_EQ(fixture.token().size(), 54u);
  EXPECT_EQ(fixture.get(kCreds).body(), "ksa");
  EXPECT_EQ(fixture.get(std::string(kCreds) + "ksa").result_int(), 200u);
  for (std::string path :
       {"/latest/", "/latest/meta-data/", "/latest/meta-data/iam/", "/latest/meta-data/iam/info",
        "/latest/meta-data/placement/availability-zone", "/latest/meta-data/instance-id",
        "/latest/dynamic/instance-identity/document"}) {
    SCOPED_TRACE(path);
    EXPECT_EQ(fixture.get(path).result_int(), 404u);
  }
  // The full profile serves the same paths.
  ImdsFixture full;
  for (std::string path : {"/latest/", "/latest/meta-data/", "/latest/meta-data/iam/info",
                           "/latest/meta-data/placement/availability-zone",
                           "/latest/dynamic/instance-identity/document"}) {
    SCOPED_TRACE(path);
    EXPECT_EQ(full.get(path).result_int(), 200u);
  }
}

TEST(AwsImdsHandlerTest, ImdsEmulatorLabelSelectsThePodRole) {
  std::shared_ptr<config::World> world = testing::make_aws_world();
  config::Pod pod = testing::make_pod("default", "emulated", "plain", {"10.0.0.20"});
  pod.labels[config::kImdsEmulatorEnabledLabel] = "True";
  pod.annotations[config::kImdsEmulatorRoleArnAnnotation] =
      "arn:aws:iam::111122223333:role/path/emulated-role";
  config::Pod lowercase = pod;
  lowercase.name = "lowercase";
  lowercase.uid = "uid-lowercase";
  lowercase.ips = {"10.0.0.21"};
  lowercase.labels[config::kImdsEmulatorEnabledLabel] = "true";  // not exactly "True": disabled
  world->pods.push_back(pod);
  world->pods.push_back(lowercase);
  FakeClock clock;
  testing::FakeAwsCredentials credentials(clock);
  auto resolver = *WorldCallerResolver::create(*world);
  AwsImdsHandler handler(world, *resolver, credentials, clock, AwsImdsOptions{});
  auto get = [&](const std::string& target, const std::string& peer) {
    http::Request request = make_aws_request(bh::verb::get, target, peer);
    return *run(handler, request);
  };
  EXPECT_EQ(get(kCreds, "10.0.0.20").body(), "emulated-role");
  EXPECT_EQ(get(std::string(kCreds) + "emulated-role", "10.0.0.20").result_int(), 200u);
  EXPECT_EQ(get(kCreds, "10.0.0.21").result_int(), 404u);
}

TEST(AwsImdsHandlerTest, NodeIdentityPolicyServesInstanceFactsWithoutCredentials) {
  AwsImdsOptions options;
  options.unknown_caller = config::UnknownCallerPolicy::kNodeIdentity;
  ImdsFixture fixture(options);
  EXPECT_EQ(
      fixture.get("/latest/meta-data/placement/availability-zone", testing::kUnknownIp).body(),
      "us-east-1a");
  EXPECT_EQ(fixture.get(kCreds, testing::kUnknownIp).result_int(), 404u);
  EXPECT_EQ(fixture.credentials_.calls, 0);
  // The ambiguous address is refused under every policy.
  EXPECT_EQ(fixture.get(kCreds, testing::kAmbiguousIp).result_int(), 403u);
  // A node token is not a pod token.
  const std::string node_token = fixture.token(testing::kUnknownIp);
  EXPECT_EQ(fixture.get(kCreds, testing::kAwsIp, {{kImdsTokenHeader, node_token}}).result_int(),
            401u);
}

TEST(AwsImdsHandlerTest, BrokerErrorsMapToClearStatuses) {
  struct Case {
    absl::Status status;
    unsigned http_status;
  };
  const std::vector<Case> cases = {
      {absl::PermissionDeniedError("sts: AccessDenied: Not authorized"), 403},
      {absl::UnauthenticatedError("sts: InvalidIdentityToken: bad"), 403},
      {absl::FailedPreconditionError("bad arn"), 403},
      {absl::NotFoundError("no role"), 404},
      {absl::ResourceExhaustedError("slow"), 429},
      {absl::UnavailableError("sts down"), 503},
      {absl::DeadlineExceededError("late"), 504},
      {absl::InternalError("bad xml"), 500},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.status.ToString());
    ImdsFixture fixture;
    fixture.credentials_.status = c.status;
    http::Response r = fixture.get(std::string(kCreds) + "ksa");
    EXPECT_EQ(r.result_int(), c.http_status);
    EXPECT_EQ(header(r, "Content-Type"), "text/html");
    EXPECT_EQ(r.body().find("AccessKeyId"), std::string::npos);
    EXPECT_NE(r.body().find(std::string(c.status.message())), std::string::npos) << r.body();
  }
}

TEST(AwsImdsHandlerTest, UpdateWorldChangesRegionAndZone) {
  ImdsFixture fixture;
  auto world = std::make_shared<config::World>(*fixture.world_);
  world->project.aws_region = "eu-west-2";
  fixture.handler_->update_world(world);
  EXPECT_EQ(fixture.get("/latest/meta-data/placement/availability-zone/").body(), "eu-west-2a");
  AwsImdsOptions options;
  options.availability_zone = "eu-west-2c";
  ImdsFixture fixed(options);
  EXPECT_EQ(fixed.get("/latest/meta-data/placement/availability-zone").body(), "eu-west-2c");
}

}  // namespace
}  // namespace wims::metadata
