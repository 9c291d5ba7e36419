// jose::HttpJwksCache against a real http::Server on 127.0.0.1 port 0. Discovery, TTL, unknown-kid
// refetch bounds, stale keys and eviction are also covered through its two users
// (tests/unit/aws/token_verifiers_test.cc, tests/unit/cloud/external_issuer_key_source_test.cc);
// here: the URL helpers, the direct JWKS URL mode and its errors.
#include "jose/http_jwks_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>

#include "http/server.h"
#include "unit/http/test_server.h"

namespace wims::jose {
namespace {

using http::testing::run_sync;
namespace beast_http = http::beast_http;

TEST(HttpJwksCacheHelpersTest, UrlHelpers) {
  EXPECT_EQ(without_trailing_slash("https://a/b//"), "https://a/b");
  EXPECT_EQ(without_trailing_slash("https://a/b"), "https://a/b");
  struct Case {
    const char* url;
    bool http;
  } cases[] = {{"https://a/keys", true},   {"http://127.0.0.1:1/k", true}, {"ftp://a/keys", false},
               {"/openid/v1/jwks", false}, {"https:///nohost", false},     {"", false}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.url);
    EXPECT_EQ(is_http_url(c.url), c.http);
  }
}

// /a and /b serve different key sets; /broken is not a JWKS.
class TwoJwks final : public http::Handler {
 public:
  boost::asio::awaitable<http::Response> handle(http::Request& request) override {
    ++requests;
    std::string body;
    if (request.path == "/a")
      body = a;
    else if (request.path == "/b")
      body = b;
    else if (request.path == "/broken")
      body = R"({"keys":"no"})";
    else
      co_return http::make_response(beast_http::status::not_found, "application/json", "{}");
    co_return http::make_response(beast_http::status::ok, "application/json", body);
  }
  std::string a, b;
  std::atomic<int> requests{0};
};

std::string jwks_of(const SigningKey& key) {
  return boost::json::serialize(
      boost::json::object{{"keys", boost::json::array{key.public_jwk()}}});
}

class HttpJwksCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    handler_.a = jwks_of(key_a_);
    handler_.b = jwks_of(key_b_);
    workers_.start();
    ASSERT_TRUE(server_.start().ok());
    base_ = "http://127.0.0.1:" + std::to_string(server_.local_endpoint().port());
  }
  void TearDown() override {
    server_.stop();
    workers_.stop();
  }

  const SigningKey key_a_ = *SigningKey::generate(Algorithm::kES256);
  const SigningKey key_b_ = *SigningKey::generate(Algorithm::kES256);
  TwoJwks handler_;
  http::Metrics metrics_;
  http::WorkerPool workers_{1};
  http::Server server_{http::testing::test_options("127.0.0.1:0"), handler_, workers_, metrics_};
  std::string base_;
  FakeClock clock_;
  http::Client client_;
  HttpJwksCache cache_{client_, clock_};
};

TEST_F(HttpJwksCacheTest, EachJwksUrlIsItsOwnEntry) {
  auto a = run_sync(cache_.keys("https://issuer", key_a_.kid(), base_ + "/a"));
  auto b = run_sync(cache_.keys("https://issuer", key_b_.kid(), base_ + "/b"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE((*a)->find(key_a_.kid()), nullptr);
  EXPECT_EQ((*a)->find(key_b_.kid()), nullptr);
  EXPECT_NE((*b)->find(key_b_.kid()), nullptr);
  EXPECT_TRUE(run_sync(cache_.keys("https://issuer/", key_a_.kid(), base_ + "/a")).ok());
  EXPECT_EQ(handler_.requests.load(), 2);
  EXPECT_EQ(cache_.fetches(), 2u);
}

TEST_F(HttpJwksCacheTest, BadJwksUrlsAreUnavailable) {
  for (const std::string path : {"/broken", "/missing"}) {
    SCOPED_TRACE(path);
    auto keys = run_sync(cache_.keys("https://issuer", "k", base_ + path));
    EXPECT_EQ(keys.status().code(), absl::StatusCode::kUnavailable) << keys.status();
  }
}

}  // namespace
}  // namespace wims::jose
