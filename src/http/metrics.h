// Metrics: the process-wide Prometheus registry. Every module records into one Metrics instance
// (owned by the CLI wiring, passed by reference); the admin listener renders it at /metrics.
//
//   metrics.describe_counter("wims_token_cache_total", "Token cache lookups by result.");
//   metrics.increment("wims_token_cache_total", {{"result", "hit"}});
//   metrics.increment("wims_upstream_requests_total", {{"service", "sts"}, {"status", "200"}});
//   metrics.observe("wims_upstream_request_duration_seconds", {{"service", "sts"}}, 0.042);
//
// A metric family is created on first use (or by describe_*), and its type is fixed then:
// incrementing a histogram or observing a counter is a programming error, logged and ignored. Label
// order does not matter (series are keyed by labels sorted by name). Keep label values
// low-cardinality.
//
// Thread-safe and lock-light: series live in 16 shards, each behind its own absl::Mutex taken in
// reader mode for the lookup of an existing series; values are atomics. No lock is ever held across
// co_await (no method here suspends). Series are never removed.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"

namespace wims::http {

struct Label {
  std::string_view name;
  std::string_view value;
};

// Buckets (seconds) for request latencies: 1 ms .. 30 s.
const std::vector<double>& default_latency_buckets();

class Metrics {
 public:
  Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;
  ~Metrics();

  // Declares a counter family with its HELP text. Optional; repeated calls keep the first text.
  void describe_counter(std::string_view name, std::string_view help);
  // Declares a histogram family with HELP text and upper bucket bounds (ascending; +Inf is
  // implicit). Without this, a histogram uses default_latency_buckets().
  void describe_histogram(std::string_view name, std::string_view help,
                          std::vector<double> buckets = default_latency_buckets());

  // Adds `by` to the counter series `name{labels}`.
  void increment(std::string_view name, absl::Span<const Label> labels = {}, uint64_t by = 1);
  // Records `value` in the histogram series `name{labels}`.
  void observe(std::string_view name, absl::Span<const Label> labels, double value);

  // The value of a counter series (0 when absent); for tests and self-checks.
  uint64_t counter_value(std::string_view name, absl::Span<const Label> labels = {}) const;
  // The observation count of a histogram series (0 when absent).
  uint64_t histogram_count(std::string_view name, absl::Span<const Label> labels = {}) const;

  // Prometheus text exposition format 0.0.4: per family "# HELP" and "# TYPE" lines, then its
  // series, families and series sorted by name for stable output.
  std::string render() const;

 private:
  enum class Type { kCounter, kHistogram };
  struct Family {
    std::string name;
    Type type;
    std::string help;
    std::vector<double> buckets;  // histograms only
  };
  struct Series {
    const Family* family;
    std::string labels;              // rendered `a="x",b="y"` (sorted, escaped), may be empty
    std::atomic<uint64_t> count{0};  // counter value, or histogram observation count
    std::atomic<double> sum{0};
    std::unique_ptr<std::atomic<uint64_t>[]> bucket_counts;  // non-cumulative, histograms only
  };
  struct Shard {
    mutable absl::Mutex mu;
    absl::flat_hash_map<std::string, std::unique_ptr<Series>> series ABSL_GUARDED_BY(mu);
  };
  static constexpr size_t kShards = 16;

  const Family* family(std::string_view name, Type type, std::string_view help,
                       const std::vector<double>* buckets);
  Series* series(std::string_view name, absl::Span<const Label> labels, Type type);
  const Series* find_series(std::string_view name, absl::Span<const Label> labels) const;

  mutable absl::Mutex families_mu_;
  std::map<std::string, std::unique_ptr<Family>, std::less<>> families_
      ABSL_GUARDED_BY(families_mu_);
  std::array<Shard, kShards> shards_;
};

}  // namespace wims::http
