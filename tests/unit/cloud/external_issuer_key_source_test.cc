// The key sources of an external cluster issuer: a JWKS file, and a JWKS over HTTP from a real
// http::Server on 127.0.0.1 port 0 (direct JWKS URL and OIDC discovery), plus the chain that puts
// them next to the embedded issuer.
#include "cloud/external_issuer_key_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <cstdio>
#include <fstream>
#include <mutex>

#include "common/clock.h"
#include "http/server.h"
#include "unit/http/test_server.h"

namespace wims::cloud {
namespace {

using http::testing::run_sync;
namespace beast_http = http::beast_http;

constexpr char kExternal[] = "https://kubernetes.default.svc";

jose::SigningKey generate_key() {
  absl::StatusOr<jose::SigningKey> key = jose::SigningKey::generate(jose::Algorithm::kES256);
  EXPECT_TRUE(key.ok()) << key.status();
  return *std::move(key);
}

std::string jwks_text(std::initializer_list<const jose::SigningKey*> keys) {
  boost::json::array array;
  for (const jose::SigningKey* key : keys) array.push_back(key->public_jwk());
  return boost::json::serialize(boost::json::object{{"keys", array}});
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// Fixed keys, for the chain.
class FixedKeySource final : public IssuerKeySource {
 public:
  FixedKeySource(std::string issuer, const jose::SigningKey& key) : issuer_(std::move(issuer)) {
    jwks_ = *jose::JwkSet::parse(jwks_text({&key}));
  }
  boost::asio::awaitable<absl::StatusOr<jose::JwkSet>> keys(std::string issuer, std::string,
                                                            absl::Time) const override {
    if (issuer != issuer_) co_return absl::NotFoundError("unknown issuer");
    co_return jwks_;
  }

 private:
  std::string issuer_;
  jose::JwkSet jwks_;
};

// ---- JwksFileIssuerKeySource ----

class JwksFileIssuerKeySourceTest : public ::testing::Test {
 protected:
  void TearDown() override { std::remove(path_.c_str()); }

  // One file per test process: ctest runs the tests of this suite in parallel.
  const std::string path_ =
      ::testing::TempDir() + "/external_issuer_jwks." + std::to_string(::getpid()) + ".json";
  const jose::SigningKey key_ = generate_key();
  const jose::SigningKey rotated_ = generate_key();
  const absl::Time t0_ = absl::FromUnixSeconds(1700000000);
};

TEST_F(JwksFileIssuerKeySourceTest, OpenRefusesMissingAndMalformedFiles) {
  std::remove(path_.c_str());
  auto missing = JwksFileIssuerKeySource::open(kExternal, path_);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find(path_), absl::string_view::npos);

  for (const char* text : {"", "{", R"({"keys":"no"})", R"([1,2])"}) {
    SCOPED_TRACE(text);
    write_file(path_, text);
    auto bad = JwksFileIssuerKeySource::open(kExternal, path_);
    EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(bad.status().message().find("is not a JWKS"), absl::string_view::npos)
        << bad.status();
  }
  write_file(path_, std::string(JwksFileIssuerKeySource::kMaxFileBytes + 1, ' '));
  auto huge = JwksFileIssuerKeySource::open(kExternal, path_);
  EXPECT_EQ(huge.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(JwksFileIssuerKeySourceTest, ServesItsIssuerOnly) {
  write_file(path_, jwks_text({&key_}));
  auto source = JwksFileIssuerKeySource::open(kExternal, path_);
  ASSERT_TRUE(source.ok()) << source.status();
  auto jwks = run_sync((*source)->keys(kExternal, key_.kid(), t0_));
  ASSERT_TRUE(jwks.ok()) << jwks.status();
  EXPECT_NE(jwks->find(key_.kid()), nullptr);
  // A trailing slash is the same issuer; anything else is not this source's.
  EXPECT_TRUE(run_sync((*source)->keys(std::string(kExternal) + "/", key_.kid(), t0_)).ok());
  EXPECT_EQ(run_sync((*source)->keys("https://other", key_.kid(), t0_)).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ((*source)->reads(), 1u);  // known kids never touch the file
}

TEST_F(JwksFileIssuerKeySourceTest, UnknownKidRereadsTheFileAtMostOncePerInterval) {
  write_file(path_, jwks_text({&key_}));
  auto source = JwksFileIssuerKeySource::open(kExternal, path_, absl::Seconds(30));
  ASSERT_TRUE(source.ok()) << source.status();

  // The operator exports the rotated keys: the first token with the new kid rereads.
  write_file(path_, jwks_text({&key_, &rotated_}));
  auto jwks = run_sync((*source)->keys(kExternal, rotated_.kid(), t0_));
  ASSERT_TRUE(jwks.ok()) << jwks.status();
  EXPECT_NE(jwks->find(rotated_.kid()), nullptr);
  EXPECT_EQ((*source)->reads(), 2u);

  // Made-up kids: no reread inside the interval, one after it.
  for (int i = 0; i < 5; ++i) {
    auto again = run_sync((*source)->keys(kExternal, "made-up", t0_ + absl::Seconds(29)));
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->find("made-up"), nullptr);
  }
  EXPECT_EQ((*source)->reads(), 2u);
  EXPECT_TRUE(run_sync((*source)->keys(kExternal, "made-up", t0_ + absl::Seconds(30))).ok());
  EXPECT_EQ((*source)->reads(), 3u);

  // A broken file on reread keeps the previous keys.
  write_file(path_, "not json");
  auto kept = run_sync((*source)->keys(kExternal, "made-up", t0_ + absl::Seconds(61)));
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_NE(kept->find(rotated_.kid()), nullptr);
  EXPECT_EQ((*source)->reads(), 4u);
}

// ---- HttpJwksIssuerKeySource ----

// An issuer at http://127.0.0.1:PORT/issuer: discovery there (jwks_uri .../discovered-keys) and
// the JWKS at /keys and /issuer/discovered-keys; a switchable 500; request counters.
class FakeIssuer final : public http::Handler {
 public:
  boost::asio::awaitable<http::Response> handle(http::Request& request) override {
    std::lock_guard lock(mu_);
    if (failing) co_return respond(beast_http::status::internal_server_error, "down");
    if (request.path == "/issuer/.well-known/openid-configuration") {
      ++discovery_requests;
      co_return respond(beast_http::status::ok,
                        boost::json::serialize(boost::json::object{
                            {"issuer", base_url + "/issuer"},
                            {"jwks_uri", base_url + "/issuer/discovered-keys"}}));
    }
    if (request.path == "/keys" || request.path == "/issuer/discovered-keys") {
      ++jwks_requests;
      co_return respond(beast_http::status::ok, jwks);
    }
    co_return respond(beast_http::status::not_found, "{}");
  }
  void publish(std::string text) {
    std::lock_guard lock(mu_);
    jwks = std::move(text);
  }
  void fail(bool f) {
    std::lock_guard lock(mu_);
    failing = f;
  }

  std::mutex mu_;
  std::string base_url;
  std::string jwks;
  bool failing = false;
  std::atomic<int> discovery_requests{0};
  std::atomic<int> jwks_requests{0};

 private:
  static http::Response respond(beast_http::status status, std::string body) {
    return http::make_response(status, "application/json", std::move(body));
  }
};

class HttpJwksIssuerKeySourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    workers_.start();
    ASSERT_TRUE(server_.start().ok());
    issuer_.base_url = "http://127.0.0.1:" + std::to_string(server_.local_endpoint().port());
    issuer_.publish(jwks_text({&key_}));
  }
  void TearDown() override {
    server_.stop();
    workers_.stop();
  }

  const jose::SigningKey key_ = generate_key();
  const jose::SigningKey rotated_ = generate_key();
  FakeIssuer issuer_;
  http::Metrics metrics_;
  http::WorkerPool workers_{1};
  http::Server server_{http::testing::test_options("127.0.0.1:0"), issuer_, workers_, metrics_};
  FakeClock clock_;
  http::Client client_;
  jose::HttpJwksCache cache_{
      client_, clock_, {.cache_ttl = absl::Hours(1), .min_refetch_interval = absl::Seconds(30)}};
};

TEST_F(HttpJwksIssuerKeySourceTest, FetchesTheConfiguredJwksUrlAndCachesIt) {
  HttpJwksIssuerKeySource source(kExternal, issuer_.base_url + "/keys", cache_);
  for (int i = 0; i < 3; ++i) {
    auto jwks = run_sync(source.keys(kExternal, key_.kid(), clock_.now()));
    ASSERT_TRUE(jwks.ok()) << jwks.status();
    EXPECT_NE(jwks->find(key_.kid()), nullptr);
  }
  EXPECT_EQ(issuer_.jwks_requests.load(), 1);
  EXPECT_EQ(issuer_.discovery_requests.load(), 0);  // a JWKS URL needs no discovery
  EXPECT_EQ(run_sync(source.keys("https://other", key_.kid(), clock_.now())).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(issuer_.jwks_requests.load(), 1);
}

TEST_F(HttpJwksIssuerKeySourceTest, UnknownKidRefetchesAtMostOncePerInterval) {
  HttpJwksIssuerKeySource source(kExternal, issuer_.base_url + "/keys", cache_);
  ASSERT_TRUE(run_sync(source.keys(kExternal, key_.kid(), clock_.now())).ok());

  // Rotation inside the interval is not seen yet; after it, the first unknown kid refetches.
  issuer_.publish(jwks_text({&key_, &rotated_}));
  clock_.advance(absl::Seconds(10));
  auto early = run_sync(source.keys(kExternal, rotated_.kid(), clock_.now()));
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(early->find(rotated_.kid()), nullptr);
  EXPECT_EQ(issuer_.jwks_requests.load(), 1);
  clock_.advance(absl::Seconds(20));
  auto late = run_sync(source.keys(kExternal, rotated_.kid(), clock_.now()));
  ASSERT_TRUE(late.ok());
  EXPECT_NE(late->find(rotated_.kid()), nullptr);
  EXPECT_EQ(issuer_.jwks_requests.load(), 2);

  // A stream of made-up kids: one fetch per interval.
  clock_.advance(absl::Seconds(30));
  for (int i = 0; i < 10; ++i) {
    EXPECT_TRUE(
        run_sync(source.keys(kExternal, "made-up-" + std::to_string(i), clock_.now())).ok());
  }
  EXPECT_EQ(issuer_.jwks_requests.load(), 3);
}

TEST_F(HttpJwksIssuerKeySourceTest, UnreachableIssuerIsUnavailableUnlessKeysAreCached) {
  HttpJwksIssuerKeySource source(kExternal, issuer_.base_url + "/keys", cache_);
  issuer_.fail(true);
  auto down = run_sync(source.keys(kExternal, key_.kid(), clock_.now()));
  EXPECT_EQ(down.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(down.status().message().find("answered HTTP 500"), absl::string_view::npos)
      << down.status();

  issuer_.fail(false);
  ASSERT_TRUE(run_sync(source.keys(kExternal, key_.kid(), clock_.now())).ok());
  issuer_.fail(true);
  clock_.advance(absl::Hours(2));  // expired: refetch fails, the stale set answers
  auto stale = run_sync(source.keys(kExternal, key_.kid(), clock_.now()));
  ASSERT_TRUE(stale.ok()) << stale.status();
  EXPECT_NE(stale->find(key_.kid()), nullptr);
}

TEST_F(HttpJwksIssuerKeySourceTest, EmptyJwksUrlUsesDiscovery) {
  const std::string issuer = issuer_.base_url + "/issuer";
  HttpJwksIssuerKeySource source(issuer, "", cache_);
  auto jwks = run_sync(source.keys(issuer, key_.kid(), clock_.now()));
  ASSERT_TRUE(jwks.ok()) << jwks.status();
  EXPECT_NE(jwks->find(key_.kid()), nullptr);
  EXPECT_EQ(issuer_.discovery_requests.load(), 1);
  EXPECT_EQ(issuer_.jwks_requests.load(), 1);
}

// ---- IssuerKeySourceChain ----

TEST(IssuerKeySourceChainTest, AsksEachSourceUntilOneServesTheIssuer) {
  const jose::SigningKey local_key = generate_key();
  const jose::SigningKey external_key = generate_key();
  FixedKeySource local("http://127.0.0.1:1/oidc/c", local_key);
  FixedKeySource external(kExternal, external_key);
  IssuerKeySourceChain chain({&local, &external});
  const absl::Time now = absl::FromUnixSeconds(1700000000);

  auto a = run_sync(chain.keys("http://127.0.0.1:1/oidc/c", "", now));
  ASSERT_TRUE(a.ok());
  EXPECT_NE(a->find(local_key.kid()), nullptr);
  EXPECT_EQ(a->find(external_key.kid()), nullptr);
  auto b = run_sync(chain.keys(kExternal, "", now));
  ASSERT_TRUE(b.ok());
  EXPECT_NE(b->find(external_key.kid()), nullptr);
  EXPECT_EQ(b->find(local_key.kid()), nullptr);
  EXPECT_EQ(run_sync(chain.keys("https://other", "", now)).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace wims::cloud
