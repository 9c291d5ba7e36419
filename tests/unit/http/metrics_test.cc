#include "http/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace wims::http {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(MetricsTest, RendersCountersInPrometheusTextFormat) {
  Metrics metrics;
  metrics.describe_counter("wims_token_cache_total", "Token cache lookups by result.");
  metrics.increment("wims_token_cache_total", {{"result", "hit"}});
  metrics.increment("wims_token_cache_total", {{"result", "hit"}});
  metrics.increment("wims_token_cache_total", {{"result", "miss"}}, 5);
  metrics.increment("wims_upstream_requests_total", {{"status", "200"}, {"service", "sts"}});
  metrics.increment("wims_plain_total");
  EXPECT_EQ(metrics.render(),
            "# HELP wims_plain_total wims_plain_total\n"
            "# TYPE wims_plain_total counter\n"
            "wims_plain_total 1\n"
            "# HELP wims_token_cache_total Token cache lookups by result.\n"
            "# TYPE wims_token_cache_total counter\n"
            "wims_token_cache_total{result=\"hit\"} 2\n"
            "wims_token_cache_total{result=\"miss\"} 5\n"
            "# HELP wims_upstream_requests_total wims_upstream_requests_total\n"
            "# TYPE wims_upstream_requests_total counter\n"
            "wims_upstream_requests_total{service=\"sts\",status=\"200\"} 1\n");
}

TEST(MetricsTest, LabelOrderDoesNotMatter) {
  Metrics metrics;
  metrics.increment("c", {{"a", "1"}, {"b", "2"}});
  metrics.increment("c", {{"b", "2"}, {"a", "1"}});
  EXPECT_EQ(metrics.counter_value("c", {{"a", "1"}, {"b", "2"}}), 2u);
}

TEST(MetricsTest, EscapesLabelValuesAndHelp) {
  Metrics metrics;
  metrics.describe_counter("c", "line1\nback\\slash");
  metrics.increment("c", {{"path", "a\"b\\c\nd"}});
  std::string text = metrics.render();
  EXPECT_THAT(text, HasSubstr("# HELP c line1\\nback\\\\slash\n"));
  EXPECT_THAT(text, HasSubstr("c{path=\"a\\\"b\\\\c\\nd\"} 1\n"));
}

TEST(MetricsTest, RendersHistogramsWithCumulativeBuckets) {
  Metrics metrics;
  metrics.describe_histogram("wims_http_request_duration_seconds", "Latency.", {0.1, 1});
  metrics.observe("wims_http_request_duration_seconds", {{"route", "r"}}, 0.05);
  metrics.observe("wims_http_request_duration_seconds", {{"route", "r"}}, 0.1);  // le is inclusive
  metrics.observe("wims_http_request_duration_seconds", {{"route", "r"}}, 0.5);
  metrics.observe("wims_http_request_duration_seconds", {{"route", "r"}}, 7);
  EXPECT_EQ(metrics.render(),
            "# HELP wims_http_request_duration_seconds Latency.\n"
            "# TYPE wims_http_request_duration_seconds histogram\n"
            "wims_http_request_duration_seconds_bucket{route=\"r\",le=\"0.1\"} 2\n"
            "wims_http_request_duration_seconds_bucket{route=\"r\",le=\"1\"} 3\n"
            "wims_http_request_duration_seconds_bucket{route=\"r\",le=\"+Inf\"} 4\n"
            "wims_http_request_duration_seconds_sum{route=\"r\"} 7.65\n"
            "wims_http_request_duration_seconds_count{route=\"r\"} 4\n");
  EXPECT_EQ(metrics.histogram_count("wims_http_request_duration_seconds", {{"route", "r"}}), 4u);
}

TEST(MetricsTest, TypeMismatchIsIgnored) {
  Metrics metrics;
  metrics.increment("x");
  metrics.observe("x", {}, 1.0);
  EXPECT_EQ(metrics.counter_value("x"), 1u);
  EXPECT_EQ(metrics.histogram_count("x"), 0u);
  EXPECT_THAT(metrics.render(), Not(HasSubstr("x_bucket")));
}

TEST(MetricsTest, ConcurrentIncrementsAreCounted) {
  Metrics metrics;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&metrics, t] {
      for (int i = 0; i < 10000; ++i) {
        metrics.increment("wims_concurrent_total", {{"shard", std::to_string(i % 8)}});
        metrics.observe("wims_concurrent_seconds", {{"t", std::to_string(t)}}, 0.001);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  uint64_t total = 0;
  for (int s = 0; s < 8; ++s) {
    total += metrics.counter_value("wims_concurrent_total", {{"shard", std::to_string(s)}});
  }
  EXPECT_EQ(total, 40000u);
  EXPECT_EQ(metrics.histogram_count("wims_concurrent_seconds", {{"t", "3"}}), 10000u);
}

}  // namespace
}  // namespace wims::http
