#include "http/router.h"

#include <gtest/gtest.h>

#include <string>

#include "http/admin_handler.h"
#include "unit/http/test_server.h"

namespace wims::http {
namespace {

using testing::run_sync;

class NamedHandler final : public Handler {
 public:
  explicit NamedHandler(std::string name) : name_(std::move(name)) {}
  boost::asio::awaitable<Response> handle(Request& request) override {
    request.route = name_;
    co_return make_response(beast_http::status::ok, "text/plain", name_);
  }

 private:
  std::string name_;
};

Response call(Handler& handler, std::string path, beast_http::verb method = beast_http::verb::get) {
  Request request;
  request.message.method(method);
  request.path = std::move(path);
  return run_sync(handler.handle(request));
}

TEST(RouterTest, LongestSegmentPrefixWins) {
  NamedHandler root("root"), metadata("metadata"), v1("v1"), latest("latest");
  Router router;
  router.add("/", root);
  router.add("/computeMetadata", metadata);
  router.add("/computeMetadata/v1/", v1);
  router.add("/latest", latest);
  struct Case {
    std::string path;
    std::string body;
  };
  const Case kCases[] = {
      {"/", "root"},
      {"/other", "root"},
      {"/computeMetadata", "metadata"},
      {"/computeMetadata/", "metadata"},
      {"/computeMetadata/v1", "metadata"},  // "/computeMetadata/v1/" needs the slash
      {"/computeMetadata/v1/", "v1"},
      {"/computeMetadata/v1/instance/id", "v1"},
      {"/computeMetadataX", "root"},  // segment-aware
      {"/latest/meta-data/", "latest"},
      {"/latestx", "root"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.path);
    Response response = call(router, c.path);
    EXPECT_EQ(response.result(), beast_http::status::ok);
    EXPECT_EQ(response.body(), c.body);
  }
}

TEST(RouterTest, UnmatchedIs404UnlessFallbackSet) {
  NamedHandler api("api"), fallback("fallback");
  Router router;
  router.add("/api", api);
  Response response = call(router, "/nope");
  EXPECT_EQ(response.result(), beast_http::status::not_found);
  router.set_fallback(fallback);
  EXPECT_EQ(call(router, "/nope").body(), "fallback");
  EXPECT_EQ(call(router, "/api/x").body(), "api");
}

TEST(RouterTest, AddingTheSamePrefixReplaces) {
  NamedHandler a("a"), b("b");
  Router router;
  router.add("/x", a);
  router.add("/x", b);
  EXPECT_EQ(call(router, "/x").body(), "b");
}

TEST(AdminHandlerTest, HealthReadinessAndMetrics) {
  Metrics metrics;
  metrics.increment("wims_token_cache_total", {{"result", "hit"}});
  bool ready = false;
  AdminHandler admin(metrics, [&ready] { return ready; });

  Response health = call(admin, "/healthz");
  EXPECT_EQ(health.result(), beast_http::status::ok);
  EXPECT_EQ(health.body(), "ok");

  EXPECT_EQ(call(admin, "/readyz").result(), beast_http::status::service_unavailable);
  ready = true;
  EXPECT_EQ(call(admin, "/readyz").result(), beast_http::status::ok);

  Response text = call(admin, "/metrics");
  EXPECT_EQ(text.result(), beast_http::status::ok);
  EXPECT_EQ(text[beast_http::field::content_type], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(text.body().find("wims_token_cache_total{result=\"hit\"} 1\n"), std::string::npos);

  EXPECT_EQ(call(admin, "/nope").result(), beast_http::status::not_found);
  EXPECT_EQ(call(admin, "/healthz", beast_http::verb::post).result(),
            beast_http::status::method_not_allowed);
}

TEST(AdminHandlerTest, NoPredicateMeansReady) {
  Metrics metrics;
  AdminHandler admin(metrics, nullptr);
  EXPECT_EQ(call(admin, "/readyz").result(), beast_http::status::ok);
}

}  // namespace
}  // namespace wims::http
