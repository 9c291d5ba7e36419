#include "iam/internal/cel_functions.h"

#include <charconv>
#include <cmath>
#include <compare>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/time/civil_time.h"
#include "common/encoding.h"
#include "common/strings.h"
#include "fmt/format.h"

namespace wims::iam::internal {
namespace {

using K = TypeKind;

Value err(std::string message) { return Value::error(std::move(message)); }
Value overflow() { return err("integer overflow"); }

// ---- arithmetic
// -------------------------------------------------------------------------------------------

Value add_int(const Value* a, const ConditionContext&) {
  int64_t r;
  if (__builtin_add_overflow(a[0].as_int(), a[1].as_int(), &r)) return overflow();
  return Value(r);
}
Value sub_int(const Value* a, const ConditionContext&) {
  int64_t r;
  if (__builtin_sub_overflow(a[0].as_int(), a[1].as_int(), &r)) return overflow();
  return Value(r);
}
Value mul_int(const Value* a, const ConditionContext&) {
  int64_t r;
  if (__builtin_mul_overflow(a[0].as_int(), a[1].as_int(), &r)) return overflow();
  return Value(r);
}
Value div_int(const Value* a, const ConditionContext&) {
  int64_t x = a[0].as_int(), y = a[1].as_int();
  if (y == 0) return err("division by zero");
  if (x == INT64_MIN && y == -1) return overflow();
  return Value(x / y);
}
Value mod_int(const Value* a, const ConditionContext&) {
  int64_t x = a[0].as_int(), y = a[1].as_int();
  if (y == 0) return err("modulus by zero");
  if (x == INT64_MIN && y == -1) return overflow();
  return Value(x % y);
}
Value neg_int(const Value* a, const ConditionContext&) {
  if (a[0].as_int() == INT64_MIN) return overflow();
  return Value(-a[0].as_int());
}
Value add_uint(const Value* a, const ConditionContext&) {
  uint64_t r;
  if (__builtin_add_overflow(a[0].as_uint(), a[1].as_uint(), &r)) return overflow();
  return Value(r);
}
Value sub_uint(const Value* a, const ConditionContext&) {
  uint64_t r;
  if (__builtin_sub_overflow(a[0].as_uint(), a[1].as_uint(), &r)) return overflow();
  return Value(r);
}
Value mul_uint(const Value* a, const ConditionContext&) {
  uint64_t r;
  if (__builtin_mul_overflow(a[0].as_uint(), a[1].as_uint(), &r)) return overflow();
  return Value(r);
}
Value div_uint(const Value* a, const ConditionContext&) {
  if (a[1].as_uint() == 0) return err("division by zero");
  return Value(a[0].as_uint() / a[1].as_uint());
}
Value mod_uint(const Value* a, const ConditionContext&) {
  if (a[1].as_uint() == 0) return err("modulus by zero");
  return Value(a[0].as_uint() % a[1].as_uint());
}
Value add_double(const Value* a, const ConditionContext&) {
  return Value(a[0].as_double() + a[1].as_double());
}
Value sub_double(const Value* a, const ConditionContext&) {
  return Value(a[0].as_double() - a[1].as_double());
}
Value mul_double(const Value* a, const ConditionContext&) {
  return Value(a[0].as_double() * a[1].as_double());
}
Value div_double(const Value* a, const ConditionContext&) {
  return Value(a[0].as_double() / a[1].as_double());
}
Value neg_double(const Value* a, const ConditionContext&) { return Value(-a[0].as_double()); }
Value add_string(const Value* a, const ConditionContext&) {
  return Value(a[0].as_string() + a[1].as_string());
}
Value add_list(const Value* a, const ConditionContext&) {
  std::vector<Value> out = a[0].as_list();
  out.insert(out.end(), a[1].as_list().begin(), a[1].as_list().end());
  return Value(std::move(out));
}

Value checked_time(absl::Time t) {
  if (!timestamp_in_range(t)) return err("timestamp out of range");
  return Value(t);
}
Value checked_duration(absl::Duration d) {
  if (!duration_in_range(d)) return err("duration out of range");
  return Value(d);
}
Value add_time_duration(const Value* a, const ConditionContext&) {
  return checked_time(a[0].as_timestamp() + a[1].as_duration());
}
Value add_duration_time(const Value* a, const ConditionContext&) {
  return checked_time(a[1].as_timestamp() + a[0].as_duration());
}
Value sub_time_duration(const Value* a, const ConditionContext&) {
  return checked_time(a[0].as_timestamp() - a[1].as_duration());
}
Value sub_time_time(const Value* a, const ConditionContext&) {
  return checked_duration(a[0].as_timestamp() - a[1].as_timestamp());
}
Value add_duration(const Value* a, const ConditionContext&) {
  return checked_duration(a[0].as_duration() + a[1].as_duration());
}
Value sub_duration(const Value* a, const ConditionContext&) {
  return checked_duration(a[0].as_duration() - a[1].as_duration());
}

// ---- comparison
// -------------------------------------------------------------------------------------------

std::partial_ordering order(const Value& a, const Value& b) {
  switch (a.kind()) {
    case K::kInt:
      return a.as_int() <=> b.as_int();
    case K::kUint:
      return a.as_uint() <=> b.as_uint();
    case K::kDouble:
      return a.as_double() <=> b.as_double();
    case K::kString:
      return a.as_string() <=> b.as_string();
    case K::kBool:
      return a.as_bool() <=> b.as_bool();
    case K::kTimestamp:
      if (a.as_timestamp() < b.as_timestamp()) return std::partial_ordering::less;
      if (a.as_timestamp() > b.as_timestamp()) return std::partial_ordering::greater;
      return std::partial_ordering::equivalent;
    case K::kDuration:
      if (a.as_duration() < b.as_duration()) return std::partial_ordering::less;
      if (a.as_duration() > b.as_duration()) return std::partial_ordering::greater;
      return std::partial_ordering::equivalent;
    default:
      return std::partial_ordering::unordered;
  }
}
Value less(const Value* a, const ConditionContext&) { return Value(order(a[0], a[1]) < 0); }
Value less_equal(const Value* a, const ConditionContext&) { return Value(order(a[0], a[1]) <= 0); }
Value greater(const Value* a, const ConditionContext&) { return Value(order(a[0], a[1]) > 0); }
Value greater_equal(const Value* a, const ConditionContext&) {
  return Value(order(a[0], a[1]) >= 0);
}
Value equal(const Value* a, const ConditionContext&) { return Value(values_equal(a[0], a[1])); }
Value not_equal(const Value* a, const ConditionContext&) {
  return Value(!values_equal(a[0], a[1]));
}
Value in_list(const Value* a, const ConditionContext&) {
  for (const auto& e : a[1].as_list()) {
    if (values_equal(a[0], e)) return Value(true);
  }
  return Value(false);
}
Value index_list_int(const Value* a, const ConditionContext&) {
  int64_t i = a[1].as_int();
  const auto& list = a[0].as_list();
  if (i < 0 || static_cast<uint64_t>(i) >= list.size())
    return err(fmt::format("index out of range: {}", i));
  return list[static_cast<size_t>(i)];
}
Value index_list_uint(const Value* a, const ConditionContext&) {
  uint64_t i = a[1].as_uint();
  const auto& list = a[0].as_list();
  if (i >= list.size()) return err(fmt::format("index out of range: {}", i));
  return list[static_cast<size_t>(i)];
}

// ---- conversions
// ------------------------------------------------------------------------------------------

Value identity(const Value* a, const ConditionContext&) { return a[0]; }

Value timestamp_from_string(const Value* a, const ConditionContext&) {
  auto t = parse_timestamp(a[0].as_string());
  if (!t.ok()) return err(std::string(t.status().message()));
  return Value(*t);
}
Value timestamp_from_int(const Value* a, const ConditionContext&) {
  if (a[0].as_int() < -62135596800 || a[0].as_int() > 253402300799)
    return err("timestamp out of range");
  return Value(absl::FromUnixSeconds(a[0].as_int()));
}
Value duration_from_string(const Value* a, const ConditionContext&) {
  auto d = parse_duration(a[0].as_string());
  if (!d.ok()) return err(std::string(d.status().message()));
  return Value(*d);
}

// Doubles in [-2^63, 2^63) convert to int64 without UB; CEL reports anything else as a range error.
Value int_from_double(const Value* a, const ConditionContext&) {
  double d = a[0].as_double();
  if (std::isnan(d) || d < -9223372036854775808.0 || d >= 9223372036854775808.0) {
    return err("double out of int range");
  }
  return Value(static_cast<int64_t>(d));
}
Value int_from_uint(const Value* a, const ConditionContext&) {
  if (a[0].as_uint() > static_cast<uint64_t>(INT64_MAX)) return err("uint out of int range");
  return Value(static_cast<int64_t>(a[0].as_uint()));
}
Value int_from_string(const Value* a, const ConditionContext&) {
  const std::string& s = a[0].as_string();
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) {
    return err(fmt::format("cannot convert '{}' to int", s));
  }
  return Value(v);
}
Value int_from_timestamp(const Value* a, const ConditionContext&) {
  return Value(absl::ToUnixSeconds(a[0].as_timestamp()));
}
Value uint_from_int(const Value* a, const ConditionContext&) {
  if (a[0].as_int() < 0) return err("int out of uint range");
  return Value(static_cast<uint64_t>(a[0].as_int()));
}
Value uint_from_double(const Value* a, const ConditionContext&) {
  double d = a[0].as_double();
  if (std::isnan(d) || d < 0 || d >= 18446744073709551616.0) return err("double out of uint range");
  return Value(static_cast<uint64_t>(d));
}
Value uint_from_string(const Value* a, const ConditionContext&) {
  const std::string& s = a[0].as_string();
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) {
    return err(fmt::format("cannot convert '{}' to uint", s));
  }
  return Value(v);
}
Value double_from_int(const Value* a, const ConditionContext&) {
  return Value(static_cast<double>(a[0].as_int()));
}
Value double_from_uint(const Value* a, const ConditionContext&) {
  return Value(static_cast<double>(a[0].as_uint()));
}
Value double_from_string(const Value* a, const ConditionContext&) {
  const std::string& s = a[0].as_string();
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) {
    return err(fmt::format("cannot convert '{}' to double", s));
  }
  return Value(v);
}
Value string_from_int(const Value* a, const ConditionContext&) {
  return Value(fmt::format("{}", a[0].as_int()));
}
Value string_from_uint(const Value* a, const ConditionContext&) {
  return Value(fmt::format("{}", a[0].as_uint()));
}
Value string_from_double(const Value* a, const ConditionContext&) {
  return Value(fmt::format("{}", a[0].as_double()));
}
Value string_from_bool(const Value* a, const ConditionContext&) {
  return Value(std::string(a[0].as_bool() ? "true" : "false"));
}
Value string_from_timestamp(const Value* a, const ConditionContext&) {
  return Value(format_rfc3339(a[0].as_timestamp()));
}
// google.protobuf.Duration JSON form: seconds with an optional fraction, "3600s", "1.5s".
Value string_from_duration(const Value* a, const ConditionContext&) {
  absl::Duration d = a[0].as_duration();
  int64_t nanos = absl::ToInt64Nanoseconds(d % absl::Seconds(1));
  int64_t seconds = absl::ToInt64Seconds(d);
  if (nanos == 0) return Value(fmt::format("{}s", seconds));
  std::string frac = fmt::format("{:09d}", nanos < 0 ? -nanos : nanos);
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  bool negative = d < absl::ZeroDuration();
  return Value(
      fmt::format("{}{}.{}s", negative ? "-" : "", seconds < 0 ? -seconds : seconds, frac));
}

// ---- strings and lists
// ------------------------------------------------------------------------------------

Value size_string(const Value* a, const ConditionContext&) {
  int64_t n = 0;
  for (char c : a[0].as_string()) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return Value(n);
}
Value size_list(const Value* a, const ConditionContext&) {
  return Value(static_cast<int64_t>(a[0].as_list().size()));
}
Value starts_with(const Value* a, const ConditionContext&) {
  return Value(absl::StartsWith(a[0].as_string(), a[1].as_string()));
}
Value ends_with(const Value* a, const ConditionContext&) {
  return Value(absl::EndsWith(a[0].as_string(), a[1].as_string()));
}
Value contains(const Value* a, const ConditionContext&) {
  return Value(absl::StrContains(a[0].as_string(), a[1].as_string()));
}

// IAM's extract(): the text between the first occurrence of the template's prefix and the next
// occurrence of its suffix (or the end of the string when the suffix is empty); "" when the
// template does not match.
Value extract(const Value* a, const ConditionContext&) {
  const std::string& s = a[0].as_string();
  const std::string& tmpl = a[1].as_string();
  if (auto st = validate_extract_template(tmpl); !st.ok()) return err(std::string(st.message()));
  size_t open = tmpl.find('{');
  size_t close = tmpl.find('}');
  std::string_view prefix = std::string_view(tmpl).substr(0, open);
  std::string_view suffix = std::string_view(tmpl).substr(close + 1);
  size_t p = s.find(prefix);
  if (p == std::string::npos) return Value(std::string());
  size_t start = p + prefix.size();
  if (suffix.empty()) return Value(s.substr(start));
  size_t e = s.find(suffix, start);
  if (e == std::string::npos) return Value(std::string());
  return Value(s.substr(start, e - start));
}

Value has_only(const Value* a, const ConditionContext&) {
  for (const auto& x : a[0].as_list()) {
    bool found = false;
    for (const auto& y : a[1].as_list()) {
      if (values_equal(x, y)) {
        found = true;
        break;
      }
    }
    if (!found) return Value(false);
  }
  return Value(true);
}

// ---- time getters
// -----------------------------------------------------------------------------------------

enum class Part {
  kFullYear,
  kMonth,
  kDayOfYear,
  kDayOfMonth,
  kDate,
  kDayOfWeek,
  kHours,
  kMinutes,
  kSeconds,
  kMilliseconds
};

Value time_part(absl::Time t, const absl::TimeZone& tz, Part part) {
  absl::TimeZone::CivilInfo info = tz.At(t);
  const absl::CivilSecond& cs = info.cs;
  absl::CivilDay day(cs);
  switch (part) {
    case Part::kFullYear:
      return Value(static_cast<int64_t>(cs.year()));
    case Part::kMonth:
      return Value(static_cast<int64_t>(cs.month() - 1));
    case Part::kDayOfYear:
      return Value(static_cast<int64_t>(absl::GetYearDay(day) - 1));
    case Part::kDayOfMonth:
      return Value(static_cast<int64_t>(cs.day() - 1));
    case Part::kDate:
      return Value(static_cast<int64_t>(cs.day()));
    case Part::kDayOfWeek: {
      // absl::Weekday counts from Monday = 0; CEL counts from Sunday = 0.
      int monday_based = static_cast<int>(absl::GetWeekday(day));
      return Value(static_cast<int64_t>((monday_based + 1) % 7));
    }
    case Part::kHours:
      return Value(static_cast<int64_t>(cs.hour()));
    case Part::kMinutes:
      return Value(static_cast<int64_t>(cs.minute()));
    case Part::kSeconds:
      return Value(static_cast<int64_t>(cs.second()));
    case Part::kMilliseconds:
      return Value(absl::ToInt64Milliseconds(info.subsecond));
  }
  return err("unknown time part");
}

template <Part P>
Value time_get(const Value* a, const ConditionContext&) {
  return time_part(a[0].as_timestamp(), absl::UTCTimeZone(), P);
}
template <Part P>
Value time_get_tz(const Value* a, const ConditionContext&) {
  auto tz = parse_time_zone(a[1].as_string());
  if (!tz.ok()) return err(std::string(tz.status().message()));
  return time_part(a[0].as_timestamp(), *tz, P);
}
template <Part P>
Value duration_get(const Value* a, const ConditionContext&) {
  absl::Duration d = a[0].as_duration();
  switch (P) {
    case Part::kHours:
      return Value(absl::ToInt64Hours(d));
    case Part::kMinutes:
      return Value(absl::ToInt64Minutes(d));
    case Part::kSeconds:
      return Value(absl::ToInt64Seconds(d));
    default:
      return Value(absl::ToInt64Milliseconds(d));
  }
}

// ---- resource tags and api attributes
// ---------------------------------------------------------------------

Value match_tag(const Value* a, const ConditionContext& ctx) {
  auto it = ctx.resource.tags.find(a[1].as_string());
  return Value(it != ctx.resource.tags.end() && it->second == a[2].as_string());
}
Value match_tag_id(const Value* a, const ConditionContext& ctx) {
  auto it = ctx.resource.tag_ids.find(a[1].as_string());
  return Value(it != ctx.resource.tag_ids.end() && it->second == a[2].as_string());
}
Value has_tag_key(const Value* a, const ConditionContext& ctx) {
  return Value(ctx.resource.tags.count(a[1].as_string()) > 0);
}
Value has_tag_key_id(const Value* a, const ConditionContext& ctx) {
  return Value(ctx.resource.tag_ids.count(a[1].as_string()) > 0);
}
Value get_attribute(const Value* a, const ConditionContext& ctx) {
  auto it = ctx.api_attributes.find(a[1].as_string());
  if (it == ctx.api_attributes.end()) return a[2];
  struct ToValue {
    Value operator()(bool b) const { return Value(b); }
    Value operator()(int64_t i) const { return Value(i); }
    Value operator()(const std::string& s) const { return Value(s); }
    Value operator()(const std::vector<std::string>& list) const {
      std::vector<Value> out;
      out.reserve(list.size());
      for (const auto& s : list) out.emplace_back(s);
      return Value(std::move(out));
    }
  };
  return std::visit(ToValue{}, it->second);
}

std::vector<Overload> build_table() {
  std::vector<Overload> t;
  auto global = [&](std::string_view name, std::vector<K> params, K result, Builtin impl) {
    t.push_back(Overload{name, false, std::move(params), result, impl});
  };
  auto member = [&](std::string_view name, std::vector<K> params, K result, Builtin impl) {
    t.push_back(Overload{name, true, std::move(params), result, impl});
  };
  // Operators.
  global("_+_", {K::kInt, K::kInt}, K::kInt, add_int);
  global("_+_", {K::kUint, K::kUint}, K::kUint, add_uint);
  global("_+_", {K::kDouble, K::kDouble}, K::kDouble, add_double);
  global("_+_", {K::kString, K::kString}, K::kString, add_string);
  global("_+_", {K::kList, K::kList}, K::kList, add_list);
  global("_+_", {K::kTimestamp, K::kDuration}, K::kTimestamp, add_time_duration);
  global("_+_", {K::kDuration, K::kTimestamp}, K::kTimestamp, add_duration_time);
  global("_+_", {K::kDuration, K::kDuration}, K::kDuration, add_duration);
  global("_-_", {K::kInt, K::kInt}, K::kInt, sub_int);
  global("_-_", {K::kUint, K::kUint}, K::kUint, sub_uint);
  global("_-_", {K::kDouble, K::kDouble}, K::kDouble, sub_double);
  global("_-_", {K::kTimestamp, K::kTimestamp}, K::kDuration, sub_time_time);
  global("_-_", {K::kTimestamp, K::kDuration}, K::kTimestamp, sub_time_duration);
  global("_-_", {K::kDuration, K::kDuration}, K::kDuration, sub_duration);
  global("_*_", {K::kInt, K::kInt}, K::kInt, mul_int);
  global("_*_", {K::kUint, K::kUint}, K::kUint, mul_uint);
  global("_*_", {K::kDouble, K::kDouble}, K::kDouble, mul_double);
  global("_/_", {K::kInt, K::kInt}, K::kInt, div_int);
  global("_/_", {K::kUint, K::kUint}, K::kUint, div_uint);
  global("_/_", {K::kDouble, K::kDouble}, K::kDouble, div_double);
  global("_%_", {K::kInt, K::kInt}, K::kInt, mod_int);
  global("_%_", {K::kUint, K::kUint}, K::kUint, mod_uint);
  global("-_", {K::kInt}, K::kInt, neg_int);
  global("-_", {K::kDouble}, K::kDouble, neg_double);
  for (K k : {K::kInt, K::kUint, K::kDouble, K::kString, K::kBool, K::kTimestamp, K::kDuration}) {
    global("_<_", {k, k}, K::kBool, less);
    global("_<=_", {k, k}, K::kBool, less_equal);
    global("_>_", {k, k}, K::kBool, greater);
    global("_>=_", {k, k}, K::kBool, greater_equal);
  }
  global("_==_", {K::kDyn, K::kDyn}, K::kBool, equal);
  global("_!=_", {K::kDyn, K::kDyn}, K::kBool, not_equal);
  global("_in_", {K::kDyn, K::kList}, K::kBool, in_list);
  global("_[_]", {K::kList, K::kInt}, K::kDyn, index_list_int);
  global("_[_]", {K::kList, K::kUint}, K::kDyn, index_list_uint);
  // Conversions.
  global("timestamp", {K::kString}, K::kTimestamp, timestamp_from_string);
  global("timestamp", {K::kTimestamp}, K::kTimestamp, identity);
  global("timestamp", {K::kInt}, K::kTimestamp, timestamp_from_int);
  global("duration", {K::kString}, K::kDuration, duration_from_string);
  global("duration", {K::kDuration}, K::kDuration, identity);
  global("int", {K::kInt}, K::kInt, identity);
  global("int", {K::kUint}, K::kInt, int_from_uint);
  global("int", {K::kDouble}, K::kInt, int_from_double);
  global("int", {K::kString}, K::kInt, int_from_string);
  global("int", {K::kTimestamp}, K::kInt, int_from_timestamp);
  global("uint", {K::kUint}, K::kUint, identity);
  global("uint", {K::kInt}, K::kUint, uint_from_int);
  global("uint", {K::kDouble}, K::kUint, uint_from_double);
  global("uint", {K::kString}, K::kUint, uint_from_string);
  global("double", {K::kDouble}, K::kDouble, identity);
  global("double", {K::kInt}, K::kDouble, double_from_int);
  global("double", {K::kUint}, K::kDouble, double_from_uint);
  global("double", {K::kString}, K::kDouble, double_from_string);
  global("string", {K::kString}, K::kString, identity);
  global("string", {K::kInt}, K::kString, string_from_int);
  global("string", {K::kUint}, K::kString, string_from_uint);
  global("string", {K::kDouble}, K::kString, string_from_double);
  global("string", {K::kBool}, K::kString, string_from_bool);
  global("string", {K::kTimestamp}, K::kString, string_from_timestamp);
  global("string", {K::kDuration}, K::kString, string_from_duration);
  // Strings and lists.
  global("size", {K::kString}, K::kInt, size_string);
  global("size", {K::kList}, K::kInt, size_list);
  member("size", {K::kString}, K::kInt, size_string);
  member("size", {K::kList}, K::kInt, size_list);
  member("startsWith", {K::kString, K::kString}, K::kBool, starts_with);
  member("endsWith", {K::kString, K::kString}, K::kBool, ends_with);
  member("contains", {K::kString, K::kString}, K::kBool, contains);
  member("extract", {K::kString, K::kString}, K::kString, extract);
  member("hasOnly", {K::kList, K::kList}, K::kBool, has_only);
  // Time.
#define WIMS_TIME_GETTER(name, part)                      \
  member(name, {K::kTimestamp}, K::kInt, time_get<part>); \
  member(name, {K::kTimestamp, K::kString}, K::kInt, time_get_tz<part>);
  WIMS_TIME_GETTER("getFullYear", Part::kFullYear)
  WIMS_TIME_GETTER("getMonth", Part::kMonth)
  WIMS_TIME_GETTER("getDayOfYear", Part::kDayOfYear)
  WIMS_TIME_GETTER("getDayOfMonth", Part::kDayOfMonth)
  WIMS_TIME_GETTER("getDate", Part::kDate)
  WIMS_TIME_GETTER("getDayOfWeek", Part::kDayOfWeek)
  WIMS_TIME_GETTER("getHours", Part::kHours)
  WIMS_TIME_GETTER("getMinutes", Part::kMinutes)
  WIMS_TIME_GETTER("getSeconds", Part::kSeconds)
  WIMS_TIME_GETTER("getMilliseconds", Part::kMilliseconds)
#undef WIMS_TIME_GETTER
  member("getHours", {K::kDuration}, K::kInt, duration_get<Part::kHours>);
  member("getMinutes", {K::kDuration}, K::kInt, duration_get<Part::kMinutes>);
  member("getSeconds", {K::kDuration}, K::kInt, duration_get<Part::kSeconds>);
  member("getMilliseconds", {K::kDuration}, K::kInt, duration_get<Part::kMilliseconds>);
  // IAM resource and API attributes.
  member("matchTag", {K::kResource, K::kString, K::kString}, K::kBool, match_tag);
  member("matchTagId", {K::kResource, K::kString, K::kString}, K::kBool, match_tag_id);
  member("hasTagKey", {K::kResource, K::kString}, K::kBool, has_tag_key);
  member("hasTagKeyId", {K::kResource, K::kString}, K::kBool, has_tag_key_id);
  member("getAttribute", {K::kApi, K::kString, K::kDyn}, K::kDyn, get_attribute);
  return t;
}

}  // namespace

const std::vector<Overload>& all_overloads() {
  static const std::vector<Overload>* table = new std::vector<Overload>(build_table());
  return *table;
}

bool is_known_function(std::string_view name) {
  for (const auto& o : all_overloads()) {
    if (o.name == name) return true;
  }
  return false;
}

absl::StatusOr<absl::TimeZone> parse_time_zone(std::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("invalid time zone ''");
  if (name == "UTC" || name == "Z") return absl::UTCTimeZone();
  // Fixed offsets: [+-]HH:MM.
  std::string_view s = name;
  int sign = 1;
  if (s.front() == '+' || s.front() == '-') {
    sign = s.front() == '-' ? -1 : 1;
    s.remove_prefix(1);
  }
  if (s.size() == 5 && s[2] == ':') {
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    if (digit(s[0]) && digit(s[1]) && digit(s[3]) && digit(s[4])) {
      int hours = (s[0] - '0') * 10 + (s[1] - '0');
      int minutes = (s[3] - '0') * 10 + (s[4] - '0');
      if (hours <= 23 && minutes <= 59)
        return absl::FixedTimeZone(sign * (hours * 3600 + minutes * 60));
    }
    return absl::InvalidArgumentError(fmt::format("invalid time zone offset '{}'", name));
  }
  // "localtime" would make results depend on the host.
  absl::TimeZone tz;
  if (name == "localtime" || !absl::LoadTimeZone(std::string(name), &tz)) {
    return absl::InvalidArgumentError(fmt::format("invalid time zone '{}'", name));
  }
  return tz;
}

absl::StatusOr<absl::Time> parse_timestamp(std::string_view text) {
  auto t = parse_rfc3339(text);
  if (!t.ok()) {
    return absl::InvalidArgumentError(fmt::format(
        "invalid timestamp '{}': expected RFC 3339 such as 2024-01-01T00:00:00Z", text));
  }
  if (!timestamp_in_range(*t))
    return absl::InvalidArgumentError(fmt::format("timestamp '{}' out of range", text));
  return *t;
}

absl::StatusOr<absl::Duration> parse_duration(std::string_view text) {
  absl::Duration d;
  if (text.empty() || absl::StrContains(to_absl(text), "inf") ||
      !absl::ParseDuration(std::string(text), &d)) {
    return absl::InvalidArgumentError(fmt::format(
        "invalid duration '{}': expected a number with a unit such as 3600s, 1h30m or 1.5h", text));
  }
  if (!duration_in_range(d))
    return absl::InvalidArgumentError(fmt::format("duration '{}' out of range", text));
  return d;
}

absl::Status validate_extract_template(std::string_view tmpl) {
  size_t open = tmpl.find('{');
  size_t close = tmpl.find('}');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open + 2 ||
      tmpl.find('{', open + 1) != std::string_view::npos ||
      tmpl.find('}', close + 1) != std::string_view::npos) {
    return absl::InvalidArgumentError(
        fmt::format("invalid extract template '{}': expected exactly one {{variable}}, e.g. "
                    "'projects/{{project}}/'",
                    tmpl));
  }
  return absl::OkStatus();
}

}  // namespace wims::iam::internal
