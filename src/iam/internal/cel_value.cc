#include "iam/internal/cel_value.h"

#include <cmath>

#include "common/encoding.h"
#include "fmt/format.h"

namespace wims::iam::internal {
namespace {

// google.protobuf.Timestamp / Duration ranges, which CEL adopts.
const absl::Time kMinTimestamp = absl::FromUnixSeconds(-62135596800);  // 0001-01-01T00:00:00Z
const absl::Time kMaxTimestamp =
    absl::FromUnixSeconds(253402300800) - absl::Nanoseconds(1);  // 9999-12-31
const absl::Duration kMaxDuration = absl::Seconds(315576000000) + absl::Nanoseconds(999999999);

template <typename A, typename B>
bool int_equals_uint(A i, B u) {
  return i >= 0 && static_cast<uint64_t>(i) == u;
}

// Numeric value of an int/uint/double as a comparable triple; only used for cross-type equality.
bool numeric_equal(const Value& a, const Value& b) {
  auto ka = a.kind(), kb = b.kind();
  if (ka == TypeKind::kInt && kb == TypeKind::kUint)
    return int_equals_uint(a.as_int(), b.as_uint());
  if (ka == TypeKind::kUint && kb == TypeKind::kInt)
    return int_equals_uint(b.as_int(), a.as_uint());
  if (ka == TypeKind::kDouble || kb == TypeKind::kDouble) {
    double d = ka == TypeKind::kDouble ? a.as_double() : b.as_double();
    const Value& other = ka == TypeKind::kDouble ? b : a;
    if (std::isnan(d) || std::trunc(d) != d) return false;
    // Doubles beyond +-2^63 / 2^64 cannot equal an int64 / uint64.
    if (other.kind() == TypeKind::kInt) {
      if (d < -9223372036854775808.0 || d >= 9223372036854775808.0) return false;
      return static_cast<int64_t>(d) == other.as_int();
    }
    if (d < 0 || d >= 18446744073709551616.0) return false;
    return static_cast<uint64_t>(d) == other.as_uint();
  }
  return false;
}

bool is_numeric(TypeKind k) {
  return k == TypeKind::kInt || k == TypeKind::kUint || k == TypeKind::kDouble;
}

}  // namespace

std::string type_name(TypeKind kind) {
  switch (kind) {
    case TypeKind::kDyn:
      return "dyn";
    case TypeKind::kNull:
      return "null_type";
    case TypeKind::kBool:
      return "bool";
    case TypeKind::kInt:
      return "int";
    case TypeKind::kUint:
      return "uint";
    case TypeKind::kDouble:
      return "double";
    case TypeKind::kString:
      return "string";
    case TypeKind::kTimestamp:
      return "google.protobuf.Timestamp";
    case TypeKind::kDuration:
      return "google.protobuf.Duration";
    case TypeKind::kList:
      return "list";
    case TypeKind::kError:
      return "error";
    case TypeKind::kRequest:
      return "request";
    case TypeKind::kResource:
      return "resource";
    case TypeKind::kApi:
      return "api";
  }
  return "?";
}

std::string type_name(Type type) {
  if (type.kind == TypeKind::kList) return "list(" + type_name(type.element) + ")";
  return type_name(type.kind);
}

TypeKind Value::kind() const {
  switch (data_.index()) {
    case 0:
      return TypeKind::kNull;
    case 1:
      return TypeKind::kBool;
    case 2:
      return TypeKind::kInt;
    case 3:
      return TypeKind::kUint;
    case 4:
      return TypeKind::kDouble;
    case 5:
      return TypeKind::kString;
    case 6:
      return TypeKind::kTimestamp;
    case 7:
      return TypeKind::kDuration;
    case 8:
      return TypeKind::kList;
    default:
      return TypeKind::kError;
  }
}

bool values_equal(const Value& a, const Value& b) {
  if (a.kind() != b.kind()) {
    return is_numeric(a.kind()) && is_numeric(b.kind()) && numeric_equal(a, b);
  }
  switch (a.kind()) {
    case TypeKind::kList: {
      const auto& x = a.as_list();
      const auto& y = b.as_list();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!values_equal(x[i], y[i])) return false;
      }
      return true;
    }
    case TypeKind::kError:
      return false;
    case TypeKind::kDouble:
      return a.as_double() == b.as_double();  // NaN != NaN
    case TypeKind::kNull:
      return true;
    case TypeKind::kBool:
      return a.as_bool() == b.as_bool();
    case TypeKind::kInt:
      return a.as_int() == b.as_int();
    case TypeKind::kUint:
      return a.as_uint() == b.as_uint();
    case TypeKind::kString:
      return a.as_string() == b.as_string();
    case TypeKind::kTimestamp:
      return a.as_timestamp() == b.as_timestamp();
    case TypeKind::kDuration:
      return a.as_duration() == b.as_duration();
    default:
      return false;
  }
}

std::string debug_string(const Value& v) {
  switch (v.kind()) {
    case TypeKind::kNull:
      return "null";
    case TypeKind::kBool:
      return v.as_bool() ? "true" : "false";
    case TypeKind::kInt:
      return fmt::format("{}", v.as_int());
    case TypeKind::kUint:
      return fmt::format("{}u", v.as_uint());
    case TypeKind::kDouble:
      return fmt::format("{}", v.as_double());
    case TypeKind::kString:
      return fmt::format("'{}'", v.as_string());
    case TypeKind::kTimestamp:
      return fmt::format("timestamp('{}')", format_rfc3339(v.as_timestamp()));
    case TypeKind::kDuration:
      return fmt::format("duration('{}')", absl::FormatDuration(v.as_duration()));
    case TypeKind::kList: {
      std::string out = "[";
      for (const auto& e : v.as_list()) {
        if (out.size() > 1) out += ", ";
        out += debug_string(e);
      }
      return out + "]";
    }
    case TypeKind::kError:
      return "error(" + v.error_message() + ")";
    default:
      return "?";
  }
}

bool timestamp_in_range(absl::Time t) { return t >= kMinTimestamp && t <= kMaxTimestamp; }
bool duration_in_range(absl::Duration d) { return d >= -kMaxDuration && d <= kMaxDuration; }

}  // namespace wims::iam::internal
