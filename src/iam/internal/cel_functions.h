// Internal to wims::iam (IAM Conditions): the function and operator overloads of our CEL subset,
// and the literal parsers they share with the checker (timestamps, durations, time zones, extract
// templates). The table is built once and never changes; thread-safe.
#pragma once

#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "iam/condition.h"
#include "iam/internal/cel_value.h"

namespace wims::iam::internal {

using Builtin = Value (*)(const Value* args, const ConditionContext& context);

struct Overload {
  std::string_view name;         // "startsWith", "_+_", ...
  bool receiver = false;         // s.startsWith(p): params[0] is the receiver
  std::vector<TypeKind> params;  // kDyn matches anything, kList any list
  TypeKind result = TypeKind::kDyn;
  Builtin impl = nullptr;
};

// Every overload, in dispatch order.
const std::vector<Overload>& all_overloads();

// Whether any overload (receiver-style or global) has this name.
bool is_known_function(std::string_view name);

// "UTC", an IANA name, or a fixed offset "+05:30" / "-08:00" / "05:30".
absl::StatusOr<absl::TimeZone> parse_time_zone(std::string_view name);
// RFC 3339 with a zone, within CEL's range.
absl::StatusOr<absl::Time> parse_timestamp(std::string_view text);
// Go-style duration: "3600s", "1h30m", "1.5h", "-2m", "100ms", "0".
absl::StatusOr<absl::Duration> parse_duration(std::string_view text);
// "prefix{name}suffix" with exactly one variable.
absl::Status validate_extract_template(std::string_view tmpl);

}  // namespace wims::iam::internal
