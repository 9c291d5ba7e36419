// Internal to wims::iam (IAM Conditions): the runtime values and static types of our CEL subset.
// A Value is null, bool, int, uint, double, string, timestamp, duration, list, or an error (CEL
// "errors as values": an error is a value that flows through evaluation until && / || absorb it or
// it reaches the top). Values are immutable once built; lists share their elements through
// shared_ptr<const>, so copies are cheap and thread-safe to read.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/time/time.h"

namespace wims::iam::internal {

// Static types of the checker. kRequest / kResource / kApi are the three root variables; they are
// never values of their own, only receivers (resource.matchTag(...)) or select operands
// (request.time).
enum class TypeKind {
  kDyn,
  kNull,
  kBool,
  kInt,
  kUint,
  kDouble,
  kString,
  kTimestamp,
  kDuration,
  kList,
  kError,
  kRequest,
  kResource,
  kApi,
};

struct Type {
  TypeKind kind = TypeKind::kDyn;
  TypeKind element = TypeKind::kDyn;  // kList only
  friend bool operator==(const Type&, const Type&) = default;
};

std::string type_name(Type type);
std::string type_name(TypeKind kind);

class Value;
using ListValue = std::shared_ptr<const std::vector<Value>>;
struct NullValue {
  friend bool operator==(NullValue, NullValue) { return true; }
};
struct ErrorValue {
  std::string message;
};

class Value {
 public:
  using Data = std::variant<NullValue, bool, int64_t, uint64_t, double, std::string, absl::Time,
                            absl::Duration, ListValue, ErrorValue>;

  Value() : data_(NullValue{}) {}
  Value(bool b) : data_(b) {}      // NOLINT: implicit on purpose, builtins return values
  Value(int64_t i) : data_(i) {}   // NOLINT
  Value(uint64_t u) : data_(u) {}  // NOLINT
  Value(double d) : data_(d) {}    // NOLINT
  Value(std::string s) : data_(std::move(s)) {}  // NOLINT
  Value(absl::Time t) : data_(t) {}              // NOLINT
  Value(absl::Duration d) : data_(d) {}          // NOLINT
  Value(std::vector<Value> list)                 // NOLINT
      : data_(std::make_shared<const std::vector<Value>>(std::move(list))) {}
  Value(ErrorValue e) : data_(std::move(e)) {}  // NOLINT

  static Value error(std::string message) { return Value(ErrorValue{std::move(message)}); }

  TypeKind kind() const;
  bool is_error() const { return std::holds_alternative<ErrorValue>(data_); }
  bool is_bool() const { return std::holds_alternative<bool>(data_); }

  bool as_bool() const { return std::get<bool>(data_); }
  int64_t as_int() const { return std::get<int64_t>(data_); }
  uint64_t as_uint() const { return std::get<uint64_t>(data_); }
  double as_double() const { return std::get<double>(data_); }
  const std::string& as_string() const { return std::get<std::string>(data_); }
  absl::Time as_timestamp() const { return std::get<absl::Time>(data_); }
  absl::Duration as_duration() const { return std::get<absl::Duration>(data_); }
  const std::vector<Value>& as_list() const { return *std::get<ListValue>(data_); }
  const std::string& error_message() const { return std::get<ErrorValue>(data_).message; }

  const Data& data() const { return data_; }

 private:
  Data data_;
};

// CEL equality: same-type values compare by value (lists element-wise); numbers of different types
// compare by their mathematical value (CEL heterogeneous numeric equality); other mixed types are
// unequal.
bool values_equal(const Value& a, const Value& b);

// Short debugging form for error messages: 'text', 12, 1u, timestamp(...), [..].
std::string debug_string(const Value& v);

// CEL's timestamp range: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999999Z; durations +-10000
// years.
bool timestamp_in_range(absl::Time t);
bool duration_in_range(absl::Duration d);

}  // namespace wims::iam::internal
