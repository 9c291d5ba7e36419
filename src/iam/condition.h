// Condition: a compiled IAM Conditions expression (the CEL subset Google allows in allow-policy
// bindings), with our own lexer, parser, type checker and evaluator (src/iam/internal/cel_*).
//
//   WIMS_ASSIGN_OR_RETURN(Condition c, Condition::compile(
//       "request.time < timestamp('2025-01-01T00:00:00Z') && "
//       "resource.name.startsWith('projects/_/buckets/b/')"));
//   ConditionContext ctx;
//   ctx.request_time = clock.now();
//   ctx.resource.name = "projects/_/buckets/b/objects/o";
//   absl::StatusOr<bool> granted = c.evaluate(ctx);   // an error never grants
//
// The language:
//  - literals: strings ('..', "..", '''..''', """..""", raw r'..'; escapes \n \t \\ \' \" \xHH
//    \uHHHH \UHHHHHHHH \ooo), int (decimal, 0x hex), uint (1u), double (1.5, 1e3), true, false,
//    null, lists [a, b].
//  - variables: request.time (timestamp); resource.name, resource.type, resource.service
//    (strings); resource.matchTag('123/env', 'prod'), resource.matchTagId('tagKeys/1',
//    'tagValues/2'), resource.hasTagKey('123/env'), resource.hasTagKeyId('tagKeys/1');
//    api.getAttribute(name, default).
//  - functions: timestamp(string|int); duration(string) ("3600s", "1h30m", "1.5h", "-2m");
//    int(), uint(), double(), string(); size() and .size(); s.startsWith(p), s.endsWith(p),
//    s.contains(p); s.extract('projects/{p}/') ("" when the template does not match);
//    list.hasOnly(list).
//  - timestamp getters, each with an optional zone ("UTC", IANA "Europe/Berlin", fixed "+05:30"):
//    getFullYear, getMonth (0-based), getDayOfYear (0-based), getDayOfMonth (0-based),
//    getDate (1-based), getDayOfWeek (0 = Sunday), getHours, getMinutes, getSeconds,
//    getMilliseconds. On durations: getHours, getMinutes, getSeconds, getMilliseconds (totals).
//  - operators: == != < <= > >= (same types; == across int/uint/double compares values at run
//    time), + - * / %, unary - and !, && and || (at most 12 in total), `in` over lists, ?:,
//    parentheses, list[i]; timestamp +- duration, timestamp - timestamp, duration +- duration.
//  - not supported, with a clear compile error: matches() (no RE2), the macros (has, all, exists,
//    exists_one, map, filter), map literals, bytes, IAP-only attributes (request.path, ...).
//
// Semantics are CEL's: strict types (the checker rejects `request.time < 5` and `1 == 1.0`), errors
// are values, `false && err` is false and `true || err` is true in either order, any other error is
// the result. compile() fails with INVALID_ARGUMENT "line:column: what" for syntax errors, unknown
// functions or attributes, type errors, invalid literal timestamps/durations/time zones, and the
// limits below.
//
// Thread-safety: a Condition is immutable after compile(); copies share the compiled program and
// evaluate() may run concurrently from any thread. Pure computation, no I/O (time zone data is
// loaded and cached by absl::LoadTimeZone).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace wims::iam {

namespace internal {
struct Program;
}

// The attributes of the resource a request is about (always the ORIGINAL resource, also when the
// binding is inherited from a parent).
struct ResourceAttributes {
  std::string name;     // "projects/_/buckets/B/objects/O", "projects/-/serviceAccounts/EMAIL"
  std::string type;     // "storage.googleapis.com/Object"
  std::string service;  // "storage.googleapis.com"
  std::map<std::string, std::string> tags;  // namespaced key "123/env" -> short value name "prod"
  std::map<std::string, std::string> tag_ids;  // "tagKeys/1" -> "tagValues/2"
};

// A value of api.getAttribute(name, default).
using ApiAttribute = std::variant<bool, int64_t, std::string, std::vector<std::string>>;

struct ConditionContext {
  absl::Time request_time = absl::UnixEpoch();
  ResourceAttributes resource;
  std::map<std::string, ApiAttribute>
      api_attributes;  // "iam.googleapis.com/modifiedGrantsByRole" -> [...]
};

class Condition {
 public:
  static constexpr size_t kMaxExpressionLength = 12288;
  static constexpr int kMaxLogicalOperators = 12;
  static constexpr int kMaxNestingDepth = 64;

  // Parses and type-checks `expression`. INVALID_ARGUMENT "line:col: what" on any problem.
  static absl::StatusOr<Condition> compile(std::string_view expression);

  // True when the condition holds. A CEL evaluation error (e.g. timestamp('bad') built at run time,
  // an overflow, a value of the wrong type from api.getAttribute) is returned as INVALID_ARGUMENT;
  // callers treat any non-OK result as "does not grant".
  absl::StatusOr<bool> evaluate(const ConditionContext& context) const;

  // The source text as compiled.
  const std::string& expression() const;

 private:
  explicit Condition(std::shared_ptr<const internal::Program> program)
      : program_(std::move(program)) {}
  std::shared_ptr<const internal::Program> program_;
};

}  // namespace wims::iam
