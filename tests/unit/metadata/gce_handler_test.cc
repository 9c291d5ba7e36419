#include "metadata/gce_handler.h"

#include <gtest/gtest.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <functional>
#include <regex>

#include "absl/strings/str_split.h"
#include "metadata/caller_resolver.h"
#include "unit/metadata/test_support.h"

namespace wims::metadata {
namespace {

using testing::header;
using testing::make_request;
using testing::make_world;
using testing::run;

constexpr char kHtml[] = "text/html; charset=UTF-8";
constexpr char kText[] = "application/text";
constexpr char kJson[] = "application/json";
constexpr char kSa[] = "/computeMetadata/v1/instance/service-accounts/default/";

class GceHandlerTest : public ::testing::Test {
 protected:
  explicit GceHandlerTest(GceMetadataOptions options = {})
      : world_(make_world()), credentials_(clock_) {
    resolver_ = *WorldCallerResolver::create(*world_);
    handler_ =
        std::make_unique<GceMetadataHandler>(world_, *resolver_, credentials_, clock_, options);
  }

  http::Response get(const std::string& target, const std::string& peer = testing::kDemoIp) {
    http::Request request = make_request(target, peer);
    std::optional<http::Response> response = run(*handler_, request);
    EXPECT_TRUE(response.has_value()) << target << " did not complete";
    return response ? *response : http::Response();
  }

  std::shared_ptr<config::World> world_;
  FakeClock clock_;
  testing::FakeGoogleCredentials credentials_;
  std::unique_ptr<WorldCallerResolver> resolver_;
  std::unique_ptr<GceMetadataHandler> handler_;
};

// Every GCE response carries these, errors and redirects included (spec A3).
void expect_gce_headers(const http::Response& response) {
  EXPECT_EQ(header(response, "Metadata-Flavor"), "Google");
  EXPECT_EQ(header(response, "Server"), "Metadata Server for VM");
  EXPECT_EQ(header(response, "X-XSS-Protection"), "0");
  EXPECT_EQ(header(response, "X-Frame-Options"), "SAMEORIGIN");
}

boost::json::object payload_of(const std::string& jwt) {
  std::vector<std::string> parts = absl::StrSplit(jwt, '.');
  EXPECT_EQ(parts.size(), 3u);
  if (parts.size() != 3) return {};
  absl::StatusOr<std::string> json = base64url_decode(parts[1]);
  EXPECT_TRUE(json.ok());
  return boost::json::parse(*json).as_object();
}

struct ConformanceCase {
  std::string name{};
  std::string target{};
  bool flavor = true;
  std::vector<std::pair<std::string, std::string>> extra_headers{};
  unsigned status = 200;
  std::string content_type{};                                  // "" = not checked
  std::optional<std::string> body{};                           // exact body
  std::vector<std::string> contains{};                         // substrings of the body
  std::string body_regex{};                                    // full match
  std::vector<std::pair<std::string, std::string>> headers{};  // expected response headers
  std::function<void(const http::Response&, const testing::FakeGoogleCredentials&)> check{};
};

// shared/spec/metadata-protocols.md, E. Conformance test checklist, GCE items 1-17 (16: the
// stale-ETag half here; the waiting halves in the WaitForChange tests below).
std::vector<ConformanceCase> conformance_cases() {
  const std::string v1 = "/computeMetadata/v1/";
  return {
      {.name = "E1 root without header",
       .target = "/",
       .flavor = false,
       .content_type = kText,
       .body = "0.1/\ncomputeMetadata/\n"},
      {.name = "E2 missing Metadata-Flavor",
       .target = v1 + "project/project-id",
       .flavor = false,
       .status = 403,
       .content_type = kHtml,
       .contains = {"Missing Metadata-Flavor:Google header", "Error 403 (Forbidden)!!1",
                    "<code>/computeMetadata/v1/project/project-id</code>"}},
      {.name = "E2 wrong Metadata-Flavor value",
       .target = v1 + "project/project-id",
       .flavor = false,
       .extra_headers = {{"Metadata-Flavor", "Not Google"}},
       .status = 403,
       .content_type = kHtml},
      {.name = "E3 X-Forwarded-For",
       .target = v1 + "project/project-id",
       .extra_headers = {{"X-Forwarded-For", "1.2.3.4"}},
       .status = 403,
       .content_type = kHtml},
      {.name = "E4 directory without slash",
       .target = v1 + "instance",
       .status = 301,
       .body = "/computeMetadata/v1/instance/\n",
       .headers = {{"Location", "http://metadata.google.internal/computeMetadata/v1/instance/"}}},
      {.name = "E5 v1 without slash keeps the query",
       .target = "/computeMetadata/v1?recursive=true",
       .status = 301,
       .body = "/computeMetadata/v1/\n",
       .headers = {{"Location",
                    "http://metadata.google.internal/computeMetadata/v1/?recursive=true"}}},
      {.name = "E6 v1 listing",
       .target = v1,
       .content_type = kText,
       .body = "instance/\nproject/\nuniverse/\n",
       .check =
           [](const http::Response& r, const auto&) {
             EXPECT_TRUE(std::regex_match(header(r, "ETag"), std::regex("[0-9a-f]{16}")));
           }},
      {.name = "E7 numeric-project-id",
       .target = v1 + "project/numeric-project-id",
       .content_type = kText,
       .body_regex = "\\d+"},
      {.name = "E8 zone",
       .target = v1 + "instance/zone",
       .content_type = kText,
       .body_regex = "projects/\\d+/zones/[a-z]+-[a-z]+\\d-[a-z]"},
      {.name = "E9 service account recursive",
       .target = std::string(kSa) + "?recursive=true",
       .content_type = kJson,
       .check =
           [](const http::Response& r, const auto&) {
             boost::json::object sa = boost::json::parse(r.body()).as_object();
             EXPECT_EQ(sa.at("email"), testing::kDemoGsa);
             EXPECT_EQ(sa.at("aliases"), boost::json::array({"default"}));
             EXPECT_TRUE(sa.at("scopes").is_array());
             EXPECT_FALSE(sa.contains("token"));
             EXPECT_FALSE(sa.contains("identity"));
           }},
      {.name = "E10 token",
       .target = std::string(kSa) + "token",
       .content_type = kJson,
       .check =
           [](const http::Response& r, const auto& credentials) {
             boost::json::object token = boost::json::parse(r.body()).as_object();
             ASSERT_TRUE(token.at("expires_in").is_int64());
             EXPECT_GT(token.at("expires_in").as_int64(), 0);
             EXPECT_EQ(token.at("expires_in").as_int64(), 3599);
             EXPECT_EQ(token.at("token_type"), "Bearer");
             EXPECT_EQ(token.at("access_token"), "ya29.fake-demo");
             EXPECT_TRUE(credentials.last_scopes.empty());
           }},
      {.name = "E11 token with scopes",
       .target = std::string(kSa) + "token?scopes=a,b",
       .content_type = kJson,
       .check =
           [](const http::Response&, const auto& credentials) {
             EXPECT_EQ(credentials.last_scopes, (std::vector<std::string>{"a", "b"}));
           }},
      {.name = "E11 token with slash",
       .target = std::string(kSa) + "token/",
       .status = 404,
       .content_type = kHtml},
      {.name = "E12 identity without audience",
       .target = std::string(kSa) + "identity",
       .status = 400,
       .content_type = kHtml,
       .contains = {"audience"}},
      {.name = "E12 identity full with licenses",
       .target = std::string(kSa) + "identity?audience=https://x&format=full&licenses=TRUE",
       .content_type = kText,
       .check =
           [](const http::Response& r, const auto& credentials) {
             EXPECT_EQ(credentials.last_id_options.audience, "https://x");
             EXPECT_TRUE(credentials.last_id_options.full_format);
             EXPECT_TRUE(credentials.last_id_options.include_licenses);
             boost::json::object claims = payload_of(r.body());
             EXPECT_EQ(claims.at("aud"), "https://x");
             EXPECT_TRUE(claims.at("exp").is_int64());
             const auto& gce = claims.at("google").at("compute_engine");
             EXPECT_TRUE(gce.at("project_number").is_int64());
             EXPECT_TRUE(gce.as_object().contains("license_id"));
           }},
      {.name = "E13 missing attribute",
       .target = v1 + "instance/attributes/missing",
       .status = 404,
       .content_type = kHtml,
       .contains = {"Error 404 (Not Found)!!1",
                    "The requested URL "
                    "<code>/computeMetadata/v1/instance/attributes/missing</code> was not "
                    "found on this server."}},
      {.name = "E14 leaf with slash",
       .target = std::string(kSa) + "email/",
       .status = 404,
       .content_type = kHtml},
      {.name = "E15 attribute alt=json",
       .target = v1 + "instance/attributes/cluster-name?alt=json",
       .content_type = kJson,
       .body = "\"wims\""},
      {.name = "E15 non-recursive directory alt=text",
       .target = v1 + "instance/?alt=text",
       .status = 400,
       .content_type = kHtml},
      {.name = "E16 stale etag answers at once",
       .target =
           v1 + "instance/attributes/cluster-name?wait_for_change=true&last_etag=0000000000000000",
       .content_type = kText,
       .body = "wims"},
      {.name = "E17 universe domain",
       .target = v1 + "universe/universe-domain",
       .content_type = kText,
       .body = "googleapis.com"},
  };
}

TEST_F(GceHandlerTest, ConformanceChecklist) {
  for (const ConformanceCase& c : conformance_cases()) {
    SCOPED_TRACE(c.name + ": " + c.target);
    http::Request request = make_request(c.target, testing::kDemoIp, c.flavor);
    for (const auto& [name, value] : c.extra_headers) request.message.set(name, value);
    std::optional<http::Response> response = run(*handler_, request);
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->result_int(), c.status) << response->body();
    expect_gce_headers(*response);
    if (!c.content_type.empty()) {
      EXPECT_EQ(header(*response, "Content-Type"), c.content_type);
    }
    if (c.body) {
      EXPECT_EQ(response->body(), *c.body);
    }
    for (const std::string& part : c.contains)
      EXPECT_NE(response->body().find(part), std::string::npos) << part;
    if (!c.body_regex.empty()) {
      EXPECT_TRUE(std::regex_match(response->body(), std::regex(c.body_regex))) << response->body();
    }
    for (const auto& [name, value] : c.headers) EXPECT_EQ(header(*response, name), value);
    if (c.status == 200) {
      EXPECT_TRUE(std::regex_match(header(*response, "ETag"), std::regex("[0-9a-f]{16}")));
    }
    if (c.check) c.check(*response, credentials_);
  }
}

// The rest of the tree, value by value (A1, A4, A5).
TEST_F(GceHandlerTest, TreeValuesAndListings) {
  struct Case {
    std::string target;
    unsigned status;
    std::string content_type;
    std::string body;
  };
  const std::string v1 = "/computeMetadata/v1/";
  const std::string sa = kSa;
  const Case cases[] = {
      {"/computeMetadata/", 200, kText, "v1/\nv1beta1/\n"},
      {v1 + "instance/", 200, kText,
       "attributes/\nhostname\nid\nmachine-type\nservice-accounts/\nzone\n"},
      {v1 + "instance/hostname", 200, kText, "wims-node-1.c.wims-local.internal"},
      {v1 + "instance/id", 200, kText, "4242424242424242"},
      {v1 + "instance/machine-type", 200, kText,
       "projects/123456789012/machineTypes/e2-standard-4"},
      {v1 + "instance/zone", 200, kText, "projects/123456789012/zones/us-central1-a"},
      {v1 + "instance/attributes/", 200, kText, "cluster-location\ncluster-name\ncluster-uid\n"},
      {v1 + "instance/attributes/cluster-location", 200, kText, "us-central1-a"},
      {v1 + "instance/attributes/cluster-uid", 200, kText, "cluster-uid-1"},
      {v1 + "instance/attributes/kube-env", 404, kHtml, ""},
      {v1 + "instance/service-accounts/", 200, kText,
       std::string("default/\n") + testing::kDemoGsa + "/\n"},
      {sa, 200, kText, "aliases\nemail\nidentity\nscopes\ntoken\n"},
      {sa + "email", 200, kText, testing::kDemoGsa},
      {sa + "aliases", 200, kText, "default\n"},
      {sa + "scopes", 200, kText,
       "https://www.googleapis.com/auth/cloud-platform\nhttps://www.googleapis.com/auth/"
       "userinfo.email\n"},
      {v1 + "instance/service-accounts/" + testing::kDemoGsa + "/email", 200, kText,
       testing::kDemoGsa},
      {v1 + "instance/service-accounts/other@x.iam.gserviceaccount.com/email", 404, kHtml, ""},
      {v1 + "project/", 200, kText, "numeric-project-id\nproject-id\n"},
      {v1 + "project/project-id", 200, kText, "wims-local"},
      {v1 + "project/numeric-project-id", 200, kText, "123456789012"},
      {v1 + "project/numeric-project-id?alt=json", 200, kJson, "123456789012"},
      {sa + "aliases?alt=json", 200, kJson, "[\"default\"]"},
      {v1 + "project/?alt=json", 200, kJson, "[\"numeric-project-id\",\"project-id\"]"},
      {v1 + "project/?recursive=true", 200, kJson,
       "{\"numericProjectId\":123456789012,\"projectId\":\"wims-local\"}"},
      {v1 + "project/?recursive=true&alt=text", 200, kText,
       "numeric-project-id 123456789012\nproject-id wims-local\n"},
      {v1 + "project/project-id?recursive=true", 200, kText, "wims-local"},
      {v1 + "universe/", 200, kText, "universe-domain\n"},
      {v1 + "project/project-id?alt=xml", 400, kHtml, ""},
      {v1 + "project/project-id/", 404, kHtml, ""},
      {v1 + "project//project-id", 404, kHtml, ""},
      {v1 + "project/project-id/deeper", 404, kHtml, ""},
      {v1 + "project", 301, "text/html", "/computeMetadata/v1/project/\n"},
      {"/computeMetadata", 301, "text/html", "/computeMetadata/\n"},
      {"/0.1/meta-data/project-id", 404, kHtml, ""},
      {"/computeMetadata/v1beta1/project/project-id", 404, kHtml, ""},
      {"/computeMetadata/v2/", 404, kHtml, ""},
      {"/other", 404, kHtml, ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.target);
    http::Response response = get(c.target);
    EXPECT_EQ(response.result_int(), c.status) << response.body();
    expect_gce_headers(response);
    EXPECT_EQ(header(response, "Content-Type"), c.content_type);
    if (c.status == 200 || c.status == 301) {
      EXPECT_EQ(response.body(), c.body);
    }
  }
}

TEST_F(GceHandlerTest, RecursiveInstanceUsesCamelCaseFixedKeysAndVerbatimEmails) {
  http::Response response = get("/computeMetadata/v1/?recursive=true");
  ASSERT_EQ(response.result_int(), 200u);
  EXPECT_EQ(header(response, "Content-Type"), kJson);
  boost::json::object root = boost::json::parse(response.body()).as_object();
  EXPECT_EQ(root.at("project").at("numericProjectId"), 123456789012);
  EXPECT_EQ(root.at("project").at("projectId"), "wims-local");
  EXPECT_EQ(root.at("universe").at("universeDomain"), "googleapis.com");
  const boost::json::object& instance = root.at("instance").as_object();
  EXPECT_EQ(instance.at("id"), 4242424242424242ull);
  EXPECT_EQ(instance.at("machineType"), "projects/123456789012/machineTypes/e2-standard-4");
  EXPECT_EQ(instance.at("attributes").at("cluster-name"), "wims");
  const boost::json::object& accounts = instance.at("serviceAccounts").as_object();
  EXPECT_TRUE(accounts.contains("default"));
  ASSERT_TRUE(accounts.contains(testing::kDemoGsa));
  EXPECT_FALSE(accounts.at(testing::kDemoGsa).as_object().contains("token"));
}

TEST_F(GceHandlerTest, RecursiveAltTextListsPathValueLines) {
  http::Response response = get(std::string(kSa) + "?recursive=true&alt=text");
  ASSERT_EQ(response.result_int(), 200u);
  EXPECT_EQ(response.body(), std::string("aliases default\nemail ") + testing::kDemoGsa +
                                 "\nscopes https://www.googleapis.com/auth/cloud-platform\n"
                                 "scopes https://www.googleapis.com/auth/userinfo.email\n");
}

TEST_F(GceHandlerTest, OnlyGetAndHeadAreAllowed) {
  http::Request request = make_request("/computeMetadata/v1/project/project-id");
  request.message.method(http::beast_http::verb::post);
  std::optional<http::Response> response = run(*handler_, request);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result_int(), 405u);
  EXPECT_EQ(header(*response, "Allow"), "GET, HEAD");
  expect_gce_headers(*response);
}

TEST_F(GceHandlerTest, ErrorPageEscapesThePath) {
  http::Response response = get("/computeMetadata/v1/instance/attributes/<script>");
  EXPECT_EQ(response.result_int(), 404u);
  EXPECT_EQ(response.body().find("<script>"), std::string::npos);
  EXPECT_NE(response.body().find("&lt;script&gt;"), std::string::npos);
}

TEST_F(GceHandlerTest, SetsRouteLabels) {
  struct Case {
    std::string target;
    std::string route;
  };
  const Case cases[] = {
      {"/", "gce.root"},
      {"/computeMetadata/v1/instance", "gce.redirect"},
      {"/computeMetadata/v1/instance/", "gce.listing"},
      {"/computeMetadata/v1/?recursive=true", "gce.recursive"},
      {"/computeMetadata/v1/project/project-id", "gce.value"},
      {std::string(kSa) + "token", "gce.token"},
      {std::string(kSa) + "identity?audience=a", "gce.identity"},
      {"/computeMetadata/v1/nope", "gce.not_found"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.target);
    http::Request request = make_request(c.target);
    ASSERT_TRUE(run(*handler_, request));
    EXPECT_EQ(request.route, c.route);
  }
  http::Request denied = make_request("/computeMetadata/v1/project/project-id", "10.9.9.9");
  ASSERT_TRUE(run(*handler_, denied));
  EXPECT_EQ(denied.route, "gce.denied");
}

// email rules (GKE docs): the GSA if annotated, the principal identifier when asked for, else the
// pool.
TEST_F(GceHandlerTest, EmailFollowsGkeRules) {
  struct Case {
    const char* peer;
    std::string email;
    std::string listing;
  };
  const std::string principal =
      "principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/"
      "wims-local.svc.id.goog/subject/ns/default/sa/principal";
  const Case cases[] = {
      {testing::kDemoIp, testing::kDemoGsa, std::string("default/\n") + testing::kDemoGsa + "/\n"},
      {testing::kDemoIpv6, testing::kDemoGsa,
       std::string("default/\n") + testing::kDemoGsa + "/\n"},
      {testing::kPlainIp, "wims-local.svc.id.goog", "default/\nwims-local.svc.id.goog/\n"},
      {testing::kPrincipalIp, principal, "default/\n"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.peer);
    http::Response email = get(std::string(kSa) + "email", c.peer);
    EXPECT_EQ(email.result_int(), 200u);
    EXPECT_EQ(email.body(), c.email);
    EXPECT_EQ(get("/computeMetadata/v1/instance/service-accounts/", c.peer).body(), c.listing);
  }
}

TEST_F(GceHandlerTest, TwoPodsGetTheirOwnTokens) {
  EXPECT_EQ(boost::json::parse(get(std::string(kSa) + "token", testing::kDemoIp).body())
                .at("access_token"),
            "ya29.fake-demo");
  EXPECT_EQ(credentials_.last_caller->workload.service_account, "demo");
  EXPECT_EQ(boost::json::parse(get(std::string(kSa) + "token", testing::kPlainIp).body())
                .at("access_token"),
            "ya29.fake-plain");
  EXPECT_EQ(credentials_.last_caller->workload.service_account, "plain");
}

TEST_F(GceHandlerTest, BrokerErrorsMapToGceStatuses) {
  struct Case {
    absl::Status status;
    unsigned http_status;
  };
  const Case cases[] = {
      {absl::PermissionDeniedError("IAM says no to demo@"), 403},
      {absl::UnavailableError("STS is down"), 503},
      {absl::ResourceExhaustedError("slow down"), 429},
      {absl::DeadlineExceededError("STS timed out"), 504},
      {absl::InternalError("bug"), 500},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.status.ToString());
    credentials_.access_status = c.status;
    http::Response response = get(std::string(kSa) + "token");
    EXPECT_EQ(response.result_int(), c.http_status);
    EXPECT_EQ(header(response, "Content-Type"), kHtml);
    expect_gce_headers(response);
    EXPECT_NE(response.body().find(std::string(c.status.message())), std::string::npos);
    EXPECT_EQ(header(response, "ETag"), "<absent>");
  }
}

TEST_F(GceHandlerTest, IdentityNotFoundIs404) {
  credentials_.id_status = absl::NotFoundError("no Google service account for default/plain");
  http::Response response =
      get(std::string(kSa) + "identity?audience=https://x", testing::kPlainIp);
  EXPECT_EQ(response.result_int(), 404u);
  EXPECT_NE(response.body().find("no Google service account"), std::string::npos);
}

TEST_F(GceHandlerTest, IdentityRejectsBadFormatAndDefaultsToStandard) {
  EXPECT_EQ(get(std::string(kSa) + "identity?audience=a&format=weird").result_int(), 400u);
  EXPECT_EQ(get(std::string(kSa) + "identity?audience=").result_int(), 400u);
  http::Response response = get(std::string(kSa) + "identity?audience=https%3A%2F%2Fy");
  EXPECT_EQ(response.result_int(), 200u);
  EXPECT_EQ(credentials_.last_id_options.audience, "https://y");
  EXPECT_FALSE(credentials_.last_id_options.full_format);
  EXPECT_FALSE(credentials_.last_id_options.include_licenses);
}

TEST_F(GceHandlerTest, ExpiresInCountsWholeSecondsLeftAndExpiredTokensAreNotServed) {
  credentials_.expiry = clock_.now() + absl::Seconds(1200) + absl::Milliseconds(900);
  EXPECT_EQ(boost::json::parse(get(std::string(kSa) + "token").body()).at("expires_in"), 1200);
  credentials_.expiry = clock_.now() - absl::Seconds(1);
  http::Response expired = get(std::string(kSa) + "token");
  EXPECT_EQ(expired.result_int(), 503u);
  EXPECT_NE(expired.body().find("expired"), std::string::npos);
}

TEST_F(GceHandlerTest, UnknownCallerIsDeniedUnderDenyPolicy) {
  for (const char* peer : {"10.9.9.9", testing::kNodeIp, "::1"}) {
    SCOPED_TRACE(peer);
    for (const char* path : {"/computeMetadata/v1/project/project-id", kSa}) {
      http::Response response = get(std::string(path) + "email", peer);
      EXPECT_EQ(response.result_int(), 403u);
      EXPECT_NE(response.body().find("unknown-caller policy: deny"), std::string::npos);
    }
  }
  EXPECT_EQ(credentials_.access_calls, 0);
  // `/` is answered to anyone: it only says that a metadata server is here.
  EXPECT_EQ(get("/", "10.9.9.9").result_int(), 200u);
}

TEST_F(GceHandlerTest, AmbiguousAddressIsRefused) {
  http::Response response = get(std::string(kSa) + "token", testing::kAmbiguousIp);
  EXPECT_EQ(response.result_int(), 403u);
  EXPECT_EQ(credentials_.access_calls, 0);
}

class GceHandlerNodeIdentityTest : public GceHandlerTest {
 protected:
  static GceMetadataOptions node_options() {
    GceMetadataOptions options;
    options.unknown_caller = config::UnknownCallerPolicy::kNodeIdentity;
    options.node_service_account = "node-sa@wims-local.iam.gserviceaccount.com";
    return options;
  }
  GceHandlerNodeIdentityTest() : GceHandlerTest(node_options()) {}
};

TEST_F(GceHandlerNodeIdentityTest, UnknownAndHostNetworkCallersGetTheNodeIdentity) {
  for (const char* peer : {"10.9.9.9", testing::kNodeIp}) {
    SCOPED_TRACE(peer);
    EXPECT_EQ(get(std::string(kSa) + "email", peer).body(),
              "node-sa@wims-local.iam.gserviceaccount.com");
    EXPECT_EQ(get(std::string(kSa) + "token", peer).result_int(), 200u);
    ASSERT_TRUE(credentials_.last_caller);
    EXPECT_TRUE(credentials_.last_caller->pod.host_network);
    EXPECT_EQ(credentials_.last_caller->pod.name, "wims-node-1");
    EXPECT_TRUE(credentials_.last_caller->workload.service_account.empty());
    EXPECT_EQ(credentials_.last_caller->google_service_account,
              "node-sa@wims-local.iam.gserviceaccount.com");
  }
  // Pods still get their own identity, and an ambiguous address is still refused.
  EXPECT_EQ(get(std::string(kSa) + "email", testing::kDemoIp).body(), testing::kDemoGsa);
  EXPECT_EQ(get(std::string(kSa) + "email", testing::kAmbiguousIp).result_int(), 403u);
}

TEST(GceServiceAccountEmailTest, NodeCallerDefaultsToComputeServiceAccount) {
  auto world = make_world();
  EXPECT_EQ(gce_service_account_email(node_caller(*world, "")),
            "123456789012-compute@developer.gserviceaccount.com");
}

TEST(GceMetadataOptionsTest, FromWorldCopiesThePolicy) {
  auto world = make_world();
  world->metadata.unknown_caller = config::UnknownCallerPolicy::kNodeIdentity;
  world->metadata.node_service_account = "n@x";
  GceMetadataOptions options = GceMetadataOptions::from_world(*world);
  EXPECT_EQ(options.unknown_caller, config::UnknownCallerPolicy::kNodeIdentity);
  EXPECT_EQ(options.node_service_account, "n@x");
}

// --- wait_for_change (E16) ---

constexpr char kClusterName[] = "/computeMetadata/v1/instance/attributes/cluster-name";

TEST_F(GceHandlerTest, WaitForChangeWithCurrentEtagReturnsAtTimeout) {
  const std::string etag = header(get(kClusterName), "ETag");
  http::Response response =
      get(std::string(kClusterName) + "?wait_for_change=true&timeout_sec=1&last_etag=" + etag);
  EXPECT_EQ(response.result_int(), 200u);
  EXPECT_EQ(response.body(), "wims");
  EXPECT_EQ(header(response, "ETag"), etag);
  EXPECT_EQ(handler_->waiters(), 0u);
}

TEST_F(GceHandlerTest, WaitForChangeWithTimeoutZeroAnswersAtOnce) {
  http::Response response = get(std::string(kClusterName) + "?wait_for_change=true&timeout_sec=0");
  EXPECT_EQ(response.result_int(), 200u);
}

TEST_F(GceHandlerTest, WaitForChangeRejectsBadRequests) {
  const std::string v1 = "/computeMetadata/v1/";
  for (const std::string& target :
       {v1 + "instance/?wait_for_change=true", std::string(kSa) + "token?wait_for_change=true",
        std::string(kSa) + "identity?audience=a&wait_for_change=true",
        std::string(kClusterName) + "?wait_for_change=true&timeout_sec=abc",
        std::string(kClusterName) + "?wait_for_change=true&timeout_sec=-1"}) {
    SCOPED_TRACE(target);
    EXPECT_EQ(get(target).result_int(), 400u);
  }
}

boost::asio::awaitable<void> update_when_waiting(GceMetadataHandler& handler,
                                                 std::shared_ptr<const config::World> world) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  for (int i = 0; i < 1000 && handler.waiters() == 0; ++i) {
    timer.expires_after(std::chrono::milliseconds(5));
    co_await timer.async_wait(boost::asio::use_awaitable);
  }
  handler.update_world(std::move(world));
}

boost::asio::awaitable<void> stop_when_waiting(GceMetadataHandler& handler) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  for (int i = 0; i < 1000 && handler.waiters() == 0; ++i) {
    timer.expires_after(std::chrono::milliseconds(5));
    co_await timer.async_wait(boost::asio::use_awaitable);
  }
  handler.stop();
}

TEST_F(GceHandlerTest, WaitForChangeReturnsOnUpdateWithNewEtag) {
  for (const std::string query :
       {"?wait_for_change=true&timeout_sec=3600&last_etag=", "?wait_for_change=true"}) {
    SCOPED_TRACE(query);
    auto world = std::make_shared<config::World>(*world_);
    handler_->update_world(world);
    const std::string etag = header(get(kClusterName), "ETag");
    auto changed = std::make_shared<config::World>(*world);
    changed->cluster.name = "renamed";
    http::Request request =
        make_request(std::string(kClusterName) + query + (query.ends_with("=") ? etag : ""));
    boost::asio::io_context io;
    std::optional<http::Response> response;
    boost::asio::co_spawn(io, testing::call_handler(*handler_, request, response),
                          boost::asio::detached);
    boost::asio::co_spawn(io, update_when_waiting(*handler_, changed), boost::asio::detached);
    io.run_for(std::chrono::seconds(60));  // a generous bound; the timeout_sec is an hour
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->result_int(), 200u);
    EXPECT_EQ(response->body(), "renamed");
    EXPECT_NE(header(*response, "ETag"), etag);
  }
}

TEST_F(GceHandlerTest, WaitForChangeIgnoresUpdatesThatDoNotChangeTheValue) {
  const std::string etag = header(get(kClusterName), "ETag");
  auto same_name = std::make_shared<config::World>(*world_);
  same_name->project.id = "other-project";  // a change elsewhere in the tree
  http::Request request = make_request(std::string(kClusterName) +
                                       "?wait_for_change=true&timeout_sec=1&last_etag=" + etag);
  boost::asio::io_context io;
  std::optional<http::Response> response;
  boost::asio::co_spawn(io, testing::call_handler(*handler_, request, response),
                        boost::asio::detached);
  boost::asio::co_spawn(io, update_when_waiting(*handler_, same_name), boost::asio::detached);
  io.run_for(std::chrono::seconds(60));
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->result_int(), 200u);
  EXPECT_EQ(header(*response, "ETag"), etag);  // answered at the timeout, unchanged
}

TEST_F(GceHandlerTest, StopWakesWaiters) {
  http::Request request =
      make_request(std::string(kClusterName) + "?wait_for_change=true&timeout_sec=3600");
  boost::asio::io_context io;
  std::optional<http::Response> response;
  boost::asio::co_spawn(io, testing::call_handler(*handler_, request, response),
                        boost::asio::detached);
  boost::asio::co_spawn(io, stop_when_waiting(*handler_), boost::asio::detached);
  io.run_for(std::chrono::seconds(60));
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->result_int(), 200u);
  EXPECT_EQ(response->body(), "wims");
}

class GceHandlerOneWaiterTest : public GceHandlerTest {
 protected:
  static GceMetadataOptions one_waiter() {
    GceMetadataOptions options;
    options.max_waiters = 1;
    return options;
  }
  GceHandlerOneWaiterTest() : GceHandlerTest(one_waiter()) {}
};

boost::asio::awaitable<void> call_when_waiting(GceMetadataHandler& handler, http::Request& request,
                                               std::optional<http::Response>& out) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  for (int i = 0; i < 1000 && handler.waiters() == 0; ++i) {
    timer.expires_after(std::chrono::milliseconds(5));
    co_await timer.async_wait(boost::asio::use_awaitable);
  }
  out = co_await handler.handle(request);
  handler.stop();
}

TEST_F(GceHandlerOneWaiterTest, WaitsBeyondTheBoundGet429) {
  http::Request first =
      make_request(std::string(kClusterName) + "?wait_for_change=true&timeout_sec=3600");
  http::Request second =
      make_request(std::string(kClusterName) + "?wait_for_change=true&timeout_sec=3600");
  boost::asio::io_context io;
  std::optional<http::Response> first_response, second_response;
  boost::asio::co_spawn(io, testing::call_handler(*handler_, first, first_response),
                        boost::asio::detached);
  boost::asio::co_spawn(io, call_when_waiting(*handler_, second, second_response),
                        boost::asio::detached);
  io.run_for(std::chrono::seconds(60));
  ASSERT_TRUE(second_response.has_value());
  EXPECT_EQ(second_response->result_int(), 429u);
  ASSERT_TRUE(first_response.has_value());
  EXPECT_EQ(first_response->result_int(), 200u);
}

}  // namespace
}  // namespace wims::metadata
