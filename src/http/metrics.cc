#include "http/metrics.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <functional>
#include <utility>

#include "fmt/format.h"

namespace wims::http {
namespace {

void append_escaped(std::string& out, std::string_view text, bool escape_quotes) {
  for (char c : text) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '"':
        if (escape_quotes) {
          out += "\\\"";
          break;
        }
        [[fallthrough]];
      default:
        out.push_back(c);
    }
  }
}

std::string render_labels(absl::Span<const Label> labels) {
  std::vector<Label> sorted(labels.begin(), labels.end());
  std::sort(sorted.begin(), sorted.end(),
            [](const Label& a, const Label& b) { return a.name < b.name; });
  std::string out;
  for (const Label& label : sorted) {
    if (!out.empty()) out.push_back(',');
    out.append(label.name);
    out += "=\"";
    append_escaped(out, label.value, /*escape_quotes=*/true);
    out.push_back('"');
  }
  return out;
}

std::string series_key(std::string_view name, const std::string& labels) {
  std::string key(name);
  key.push_back('\0');
  key += labels;
  return key;
}

std::string format_number(double value) { return fmt::format("{}", value); }

}  // namespace

const std::vector<double>& default_latency_buckets() {
  static const std::vector<double> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                               0.25,  0.5,    1,     2.5,  5,     10,   30};
  return kBuckets;
}

Metrics::Metrics() = default;
Metrics::~Metrics() = default;

const Metrics::Family* Metrics::family(std::string_view name, Type type, std::string_view help,
                                       const std::vector<double>* buckets) {
  absl::MutexLock lock(&families_mu_);
  auto it = families_.find(name);
  if (it != families_.end()) {
    Family& existing = *it->second;
    if (existing.help.empty() && !help.empty()) existing.help = std::string(help);
    return &existing;
  }
  auto created = std::make_unique<Family>();
  created->name = std::string(name);
  created->type = type;
  created->help = std::string(help);
  if (type == Type::kHistogram) {
    created->buckets = buckets != nullptr ? *buckets : default_latency_buckets();
    std::sort(created->buckets.begin(), created->buckets.end());
  }
  const Family* result = created.get();
  families_.emplace(std::string(name), std::move(created));
  return result;
}

void Metrics::describe_counter(std::string_view name, std::string_view help) {
  const Family* f = family(name, Type::kCounter, help, nullptr);
  if (f->type != Type::kCounter) spdlog::error("metric {} is not a counter", name);
}

void Metrics::describe_histogram(std::string_view name, std::string_view help,
                                 std::vector<double> buckets) {
  const Family* f = family(name, Type::kHistogram, help, &buckets);
  if (f->type != Type::kHistogram) spdlog::error("metric {} is not a histogram", name);
}

Metrics::Series* Metrics::series(std::string_view name, absl::Span<const Label> labels, Type type) {
  std::string rendered = render_labels(labels);
  std::string key = series_key(name, rendered);
  Shard& shard = shards_[std::hash<std::string>()(key) % kShards];
  {
    absl::ReaderMutexLock lock(&shard.mu);
    auto it = shard.series.find(key);
    if (it != shard.series.end()) {
      return it->second->family->type == type ? it->second.get() : nullptr;
    }
  }
  // First use of this series: resolve the family outside the shard lock (lock order: never both).
  const Family* f = family(name, type, "", nullptr);
  if (f->type != type) return nullptr;
  absl::MutexLock lock(&shard.mu);
  auto [it, inserted] = shard.series.try_emplace(std::move(key));
  if (inserted) {
    auto created = std::make_unique<Series>();
    created->family = f;
    created->labels = std::move(rendered);
    if (type == Type::kHistogram) {
      created->bucket_counts = std::make_unique<std::atomic<uint64_t>[]>(f->buckets.size());
      for (size_t i = 0; i < f->buckets.size(); ++i) created->bucket_counts[i].store(0);
    }
    it->second = std::move(created);
  }
  return it->second.get();
}

void Metrics::increment(std::string_view name, absl::Span<const Label> labels, uint64_t by) {
  Series* s = series(name, labels, Type::kCounter);
  if (s == nullptr) {
    spdlog::error("metric {}: increment on a non-counter", name);
    return;
  }
  s->count.fetch_add(by, std::memory_order_relaxed);
}

void Metrics::observe(std::string_view name, absl::Span<const Label> labels, double value) {
  Series* s = series(name, labels, Type::kHistogram);
  if (s == nullptr) {
    spdlog::error("metric {}: observe on a non-histogram", name);
    return;
  }
  const std::vector<double>& bounds = s->family->buckets;
  size_t bucket = std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin();
  if (bucket < bounds.size()) s->bucket_counts[bucket].fetch_add(1, std::memory_order_relaxed);
  s->sum.fetch_add(value, std::memory_order_relaxed);
  s->count.fetch_add(1, std::memory_order_relaxed);
}

const Metrics::Series* Metrics::find_series(std::string_view name,
                                            absl::Span<const Label> labels) const {
  std::string key = series_key(name, render_labels(labels));
  const Shard& shard = shards_[std::hash<std::string>()(key) % kShards];
  absl::ReaderMutexLock lock(&shard.mu);
  auto it = shard.series.find(key);
  return it == shard.series.end() ? nullptr : it->second.get();
}

uint64_t Metrics::counter_value(std::string_view name, absl::Span<const Label> labels) const {
  const Series* s = find_series(name, labels);
  return s != nullptr && s->family->type == Type::kCounter ? s->count.load() : 0;
}

uint64_t Metrics::histogram_count(std::string_view name, absl::Span<const Label> labels) const {
  const Series* s = find_series(name, labels);
  return s != nullptr && s->family->type == Type::kHistogram ? s->count.load() : 0;
}

std::string Metrics::render() const {
  // Snapshot series pointers (stable: series are never removed) grouped by family.
  std::map<std::string_view, std::vector<const Series*>> by_family;
  for (const Shard& shard : shards_) {
    absl::ReaderMutexLock lock(&shard.mu);
    for (const auto& [key, s] : shard.series) by_family[s->family->name].push_back(s.get());
  }
  std::string out;
  absl::ReaderMutexLock lock(&families_mu_);
  for (const auto& [name, f] : families_) {
    out += "# HELP " + f->name + " ";
    append_escaped(out, f->help.empty() ? f->name : f->help, /*escape_quotes=*/false);
    out += "\n# TYPE " + f->name + (f->type == Type::kCounter ? " counter\n" : " histogram\n");
    auto found = by_family.find(f->name);
    if (found == by_family.end()) continue;
    std::vector<const Series*>& all = found->second;
    std::sort(all.begin(), all.end(),
              [](const Series* a, const Series* b) { return a->labels < b->labels; });
    for (const Series* s : all) {
      std::string braces = s->labels.empty() ? "" : "{" + s->labels + "}";
      if (f->type == Type::kCounter) {
        out += fmt::format("{}{} {}\n", f->name, braces, s->count.load());
        continue;
      }
      // Read the count first: concurrent observers may make buckets run ahead of it, never behind
      // in a way that breaks monotonicity of the cumulative buckets we print.
      uint64_t count = s->count.load();
      std::string prefix = s->labels.empty() ? "" : s->labels + ",";
      uint64_t cumulative = 0;
      for (size_t i = 0; i < f->buckets.size(); ++i) {
        cumulative += s->bucket_counts[i].load();
        out += fmt::format("{}_bucket{{{}le=\"{}\"}} {}\n", f->name, prefix,
                           format_number(f->buckets[i]), std::min(cumulative, count));
      }
      out += fmt::format("{}_bucket{{{}le=\"+Inf\"}} {}\n", f->name, prefix, count);
      out += fmt::format("{}_sum{} {}\n", f->name, braces, format_number(s->sum.load()));
      out += fmt::format("{}_count{} {}\n", f->name, braces, count);
    }
  }
  return out;
}

}  // namespace wims::http
