#include "iam/condition.h"

#include <string>
#include <thread>
#include <vector>

#include "common/encoding.h"
#include "gtest/gtest.h"
#include "unit/iam/test_support.h"

namespace wims::iam {
namespace {

using testing::at;

ConditionContext default_context() {
  ConditionContext ctx;
  ctx.request_time = at("2024-01-01T08:30:00Z");
  ctx.resource.name = "projects/_/buckets/b/objects/o";
  ctx.resource.type = "storage.googleapis.com/Object";
  ctx.resource.service = "storage.googleapis.com";
  ctx.resource.tags = {{"123/env", "prod"}};
  ctx.resource.tag_ids = {{"tagKeys/1", "tagValues/2"}};
  ctx.api_attributes = {
      {"iam.googleapis.com/modifiedGrantsByRole", std::vector<std::string>{"roles/a"}},
      {"count", int64_t{3}},
      {"text", std::string("str")}};
  return ctx;
}

enum class Outcome { kTrue, kFalse, kError };

struct EvalCase {
  std::string expression;
  Outcome expected;
};

void run_cases(const std::vector<EvalCase>& cases, const ConditionContext& ctx) {
  for (const auto& c : cases) {
    SCOPED_TRACE(c.expression);
    auto condition = Condition::compile(c.expression);
    ASSERT_TRUE(condition.ok()) << condition.status();
    auto result = condition->evaluate(ctx);
    switch (c.expected) {
      case Outcome::kTrue:
        ASSERT_TRUE(result.ok()) << result.status();
        EXPECT_TRUE(*result);
        break;
      case Outcome::kFalse:
        ASSERT_TRUE(result.ok()) << result.status();
        EXPECT_FALSE(*result);
        break;
      case Outcome::kError:
        EXPECT_FALSE(result.ok()) << "evaluated to " << (result.ok() && *result);
        break;
    }
  }
}

// Spec section 7, CEL item 1.
TEST(ConditionTest, HoursInBerlin) {
  run_cases({{"request.time.getHours('Europe/Berlin') >= 9", Outcome::kTrue},
             {"request.time.getHours() >= 9", Outcome::kFalse},
             {"request.time.getHours('UTC') == 8", Outcome::kTrue}},
            default_context());
}

// Spec section 7, CEL item 2, plus the cel-spec example.
TEST(ConditionTest, DateGettersAreZeroOrOneBasedAsGoogleDocuments) {
  run_cases(
      {{"timestamp('2023-12-25T00:00:00Z').getDayOfMonth() == 24", Outcome::kTrue},
       {"timestamp('2023-12-25T00:00:00Z').getDate() == 25", Outcome::kTrue},
       {"timestamp('2023-12-25T00:00:00Z').getMonth() == 11", Outcome::kTrue},
       {"timestamp('2023-12-25T00:00:00Z').getDayOfWeek() == 1", Outcome::kTrue},
       {"timestamp('2023-12-24T12:00:00Z').getDayOfWeek() == 0", Outcome::kTrue},
       {"timestamp('2023-12-25T00:00:00Z').getDate('America/Los_Angeles') == 24", Outcome::kTrue},
       {"timestamp('2023-12-25T00:00:00Z').getDayOfYear() == 358", Outcome::kTrue},
       {"timestamp('2023-01-01T00:00:00Z').getDayOfYear() == 0", Outcome::kTrue},
       {"timestamp('2023-12-25T00:00:00Z').getFullYear() == 2023", Outcome::kTrue},
       {"timestamp('2024-01-01T00:30:00Z').getFullYear('-01:00') == 2023", Outcome::kTrue},
       {"timestamp('2024-01-01T00:00:00Z').getHours('+05:30') == 5", Outcome::kTrue},
       {"timestamp('2024-01-01T00:00:00Z').getMinutes('+05:30') == 30", Outcome::kTrue},
       {"timestamp('2024-01-01T10:11:12.345Z').getSeconds() == 12", Outcome::kTrue},
       {"timestamp('2024-01-01T10:11:12.345Z').getMilliseconds() == 345", Outcome::kTrue},
       {"timestamp('2024-07-01T12:00:00Z').getHours('Europe/Berlin') == 14", Outcome::kTrue}},
      default_context());
}

// Spec section 7, CEL item 3.
TEST(ConditionTest, ResourceNameFunctions) {
  ConditionContext ctx = default_context();
  run_cases({{"resource.name.startsWith('projects/_/buckets/b/')", Outcome::kTrue},
             {"resource.name.startsWith('projects/_/buckets/c/')", Outcome::kFalse},
             {"resource.name.endsWith('/objects/o')", Outcome::kTrue},
             {"resource.name.contains('buckets')", Outcome::kTrue},
             {"resource.type == 'storage.googleapis.com/Object'", Outcome::kTrue},
             {"resource.service == 'storage.googleapis.com'", Outcome::kTrue},
             {"resource.name.extract('/objects/{name}') == 'o'", Outcome::kTrue},
             {"resource.name.extract('buckets/{b}/') == 'b'", Outcome::kTrue},
             {"resource.name.extract('zones/{z}/') == ''", Outcome::kTrue}},
            ctx);
  ctx.resource.name = "projects/x/zones/z";
  run_cases({{"resource.name.extract('projects/{p}/') == 'x'", Outcome::kTrue}}, ctx);
}

// Spec section 7, CEL item 4.
TEST(ConditionTest, Tags) {
  ConditionContext ctx = default_context();
  run_cases({{"resource.matchTag('123/env', 'prod')", Outcome::kTrue},
             {"resource.matchTag('123/env', 'dev')", Outcome::kFalse},
             {"resource.matchTag('456/env', 'prod')", Outcome::kFalse},
             {"resource.hasTagKey('123/env')", Outcome::kTrue},
             {"resource.hasTagKey('123/team')", Outcome::kFalse},
             {"resource.matchTagId('tagKeys/1', 'tagValues/2')", Outcome::kTrue},
             {"resource.matchTagId('tagKeys/1', 'tagValues/3')", Outcome::kFalse},
             {"resource.hasTagKeyId('tagKeys/1')", Outcome::kTrue},
             {"resource.hasTagKeyId('tagKeys/9')", Outcome::kFalse}},
            ctx);
  ctx.resource.tags["123/env"] = "dev";
  run_cases({{"resource.matchTag('123/env', 'prod')", Outcome::kFalse}}, ctx);
}

// Spec section 7, CEL item 5: errors are absorbed by && / || only when the other side decides.
TEST(ConditionTest, ErrorsAreAbsorbedCommutativelyAndNeverGrantOtherwise) {
  const std::string err =
      "timestamp(resource.name) < request.time";  // resource.name is no timestamp
  run_cases({{"false && " + err, Outcome::kFalse},
             {err + " && false", Outcome::kFalse},
             {"true || " + err, Outcome::kTrue},
             {err + " || true", Outcome::kTrue},
             {err, Outcome::kError},
             {"true && " + err, Outcome::kError},
             {err + " && true", Outcome::kError},
             {"false || " + err, Outcome::kError},
             {"!(" + err + ")", Outcome::kError},
             {"(" + err + ") ? true : true", Outcome::kError},
             {"1 / 0 == 1", Outcome::kError},
             {"false && 1 / 0 == 1", Outcome::kFalse},
             {"9223372036854775807 + 1 > 0", Outcome::kError},
             {"-9223372036854775808 % -1 == 0", Outcome::kError},
             {"[1, 2][5] == 1", Outcome::kError},
             {"int('abc') == 1 || resource.name == 'x'", Outcome::kError},
             {"api.getAttribute('text', '') == 3", Outcome::kFalse},
             {"api.getAttribute('text', '')", Outcome::kError}},
            default_context());
}

TEST(ConditionTest, LiteralsAndOperators) {
  run_cases(
      {{"'a\\tb' == \"a\tb\"", Outcome::kTrue},
       {"r'a\\tb' == 'a\\\\tb'", Outcome::kTrue},
       {"size('\\u00e9\\U0001F600') == 2", Outcome::kTrue},
       {"'\\x41\\101' == 'AA'", Outcome::kTrue},
       {"'''multi\nline''' == 'multi\\nline'", Outcome::kTrue},
       {"\"it's\" == 'it\\'s'", Outcome::kTrue},
       {"0x10 == 16", Outcome::kTrue},
       {"1u + 2u == 3u", Outcome::kTrue},
       {"1.5 * 2.0 == 3.0", Outcome::kTrue},
       {".5 < 1.0", Outcome::kTrue},
       {"1e3 == 1000.0", Outcome::kTrue},
       {"-9223372036854775808 < 0", Outcome::kTrue},
       {"7 / 2 == 3 && 7 % 2 == 1 && -7 / 2 == -3", Outcome::kTrue},
       {"null == null", Outcome::kTrue},
       {"'a' + 'b' == 'ab'", Outcome::kTrue},
       {"[1, 2] + [3] == [1, 2, 3]", Outcome::kTrue},
       {"2 in [1, 2, 3]", Outcome::kTrue},
       {"'x' in ['a', 'b']", Outcome::kFalse},
       {"size([1, 2, 3]) == 3 && [1, 2].size() == 2 && 'abc'.size() == 3", Outcome::kTrue},
       {"[1, 2,][1] == 2", Outcome::kTrue},
       {"true ? false : true", Outcome::kFalse},
       {"!false", Outcome::kTrue},
       {"!!true", Outcome::kTrue},
       {"(1 < 2) == (2 > 1)", Outcome::kTrue},
       {"'abc' < 'abd' && 2 >= 2 && 3 <= 4 && 1 != 2", Outcome::kTrue},
       {"int('42') == 42 && uint(3) == 3u && double(2) == 2.0 && string(5) == '5'", Outcome::kTrue},
       {"int(timestamp('1970-01-01T00:01:00Z')) == 60", Outcome::kTrue},
       {"timestamp(60) == timestamp('1970-01-01T00:01:00Z')", Outcome::kTrue},
       {"string(duration('1.5s')) == '1.5s' && string(duration('1h')) == '3600s'", Outcome::kTrue},
       {"// a comment\n true", Outcome::kTrue}},
      default_context());
}

TEST(ConditionTest, TimestampsAndDurations) {
  run_cases(
      {{"request.time < timestamp('2024-01-02T00:00:00Z')", Outcome::kTrue},
       {"request.time > timestamp('2024-01-01T09:00:00+01:00')", Outcome::kTrue},
       {"duration('3600s') == duration('1h')", Outcome::kTrue},
       {"duration('1h30m') == duration('5400s')", Outcome::kTrue},
       {"duration('1.5h') == duration('90m')", Outcome::kTrue},
       {"duration('-2m') < duration('0s')", Outcome::kTrue},
       {"request.time + duration('1h') == timestamp('2024-01-01T09:30:00Z')", Outcome::kTrue},
       {"duration('1h') + request.time == timestamp('2024-01-01T09:30:00Z')", Outcome::kTrue},
       {"request.time - duration('30m') == timestamp('2024-01-01T08:00:00Z')", Outcome::kTrue},
       {"request.time - timestamp('2024-01-01T00:00:00Z') == duration('8h30m')", Outcome::kTrue},
       {"duration('90m').getHours() == 1 && duration('90m').getMinutes() == 90", Outcome::kTrue},
       {"duration('1.5s').getSeconds() == 1 && duration('1.5s').getMilliseconds() == 1500",
        Outcome::kTrue},
       {"timestamp('9999-12-31T23:00:00Z') + duration('2h') > request.time", Outcome::kError}},
      default_context());
}

TEST(ConditionTest, ApiAttributes) {
  run_cases(
      {{"api.getAttribute('iam.googleapis.com/modifiedGrantsByRole', []).hasOnly(['roles/a', "
        "'roles/b'])",
        Outcome::kTrue},
       {"api.getAttribute('iam.googleapis.com/modifiedGrantsByRole', []).hasOnly(['roles/b'])",
        Outcome::kFalse},
       {"api.getAttribute('missing', []).hasOnly(['roles/b'])", Outcome::kTrue},
       {"api.getAttribute('count', 0) == 3", Outcome::kTrue},
       {"api.getAttribute('missing', 'd') == 'd'", Outcome::kTrue}},
      default_context());
}

struct CompileErrorCase {
  std::string expression;
  std::string message_part;
};

// Spec section 7, CEL item 6 and the compile-time checks.
TEST(ConditionTest, CompileErrorsAreInvalidArgumentWithPositionAndWhat) {
  std::string thirteen = "true";
  for (int i = 0; i < 13; ++i) thirteen += (i % 2 ? " && true" : " || false");
  std::string twelve_ok = "true";
  for (int i = 0; i < 12; ++i) twelve_ok += " && true";
  ASSERT_TRUE(Condition::compile(twelve_ok).ok());

  std::string deep(70, '(');
  deep += "true" + std::string(70, ')');
  const std::vector<CompileErrorCase> cases = {
      {thirteen, "more than 12 logical operators"},
      {"resource.name.fooBar('x')", "1:14: undeclared reference to function 'fooBar'"},
      {"frobnicate(1)", "1:1: undeclared reference to function 'frobnicate'"},
      {"foo == 1", "1:1: undeclared reference to 'foo'"},
      {"request.path == '/'", "undeclared reference to 'request.path'"},
      {"resource.labels == 'x'", "undeclared reference to 'resource.labels'"},
      {"api.x == 1", "api.getAttribute"},
      {"resource == 'x'", "'resource' is not a value"},
      {"request.time < 5",
       "no matching overload for '<' applied to '(google.protobuf.Timestamp, int)'"},
      {"1 == 1.0", "no matching overload for '=='"},
      {"resource.name == 1", "no matching overload"},
      {"'a' + 1 == 'a1'", "no matching overload for '+'"},
      {"resource.name.startsWith(1)",
       "no matching overload for 'startsWith' applied to 'string.(int)'"},
      {"1 in ['a']", "no matching overload for 'in'"},
      {"resource.name", "must evaluate to bool, found string"},
      {"true && 'x'", "needs bool operands"},
      {"timestamp('2024-13-01T00:00:00Z') < request.time", "1:11: invalid timestamp"},
      {"duration('10 minutes') > duration('1s')", "invalid duration"},
      {"duration('inf') > duration('1s')", "invalid duration"},
      {"request.time.getHours('Mars/Olympus') > 1", "invalid time zone 'Mars/Olympus'"},
      {"request.time.getHours('+25:00') > 1", "invalid time zone offset"},
      {"resource.name.extract('projects/') == ''", "invalid extract template"},
      {"resource.name.matches('^p')", "'matches'"},
      {"has(resource.name)", "macro 'has'"},
      {"[1].exists(x, x > 0)", "macro 'exists'"},
      {"{'a': 1}['a'] == 1", "map and message literals"},
      {"b'abc' == b'abc'", "bytes literals"},
      {"'unterminated", "unterminated string"},
      {"'bad \\q escape' == ''", "invalid escape sequence"},
      {"'\\ud800' == ''", "not a valid Unicode code point"},
      {"resource.name = 'x'", "use '=='"},
      {"resource.name == 'x' &", "use '&&'"},
      {"(true", "expected ')'"},
      {"true true", "expected end of expression"},
      {"", "expected an expression"},
      {"1 +", "expected an expression"},
      {"99999999999999999999 > 1", "out of range"},
      {"9223372036854775808 > 1", "out of range"},
      {"if == 1", "reserved identifier 'if'"},
      {deep, "nested too deeply"},
      {std::string(Condition::kMaxExpressionLength + 1, ' ') + "true", "at most 12288"},
      {"true &&\n  foo", "2:3: undeclared reference to 'foo'"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.expression.substr(0, 80));
    auto condition = Condition::compile(c.expression);
    ASSERT_FALSE(condition.ok());
    EXPECT_EQ(condition.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(condition.status().message().find(c.message_part), std::string::npos)
        << condition.status();
  }
}

TEST(ConditionTest, LongOperatorChainsAreBoundedNotStackOverflows) {
  std::string sum = "1";
  for (int i = 0; i < 2000; ++i) sum += " + 1";
  auto condition = Condition::compile(sum + " > 0");
  ASSERT_FALSE(condition.ok());
  EXPECT_NE(condition.status().message().find("nested too deeply"), std::string::npos);
  std::string nots(5000, '!');
  EXPECT_FALSE(Condition::compile(nots + "true").ok());
}

TEST(ConditionTest, ExpressionIsKeptAndCopiesShareTheProgram) {
  auto condition = Condition::compile("request.time < timestamp('2030-01-01T00:00:00Z')");
  ASSERT_TRUE(condition.ok());
  Condition copy = *condition;
  EXPECT_EQ(copy.expression(), "request.time < timestamp('2030-01-01T00:00:00Z')");
  auto result = copy.evaluate(default_context());
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(*result);
}

TEST(ConditionTest, EvaluatesConcurrentlyFromManyThreads) {
  auto condition = Condition::compile(
      "request.time.getHours('Europe/Berlin') >= 9 && resource.name.extract('buckets/{b}/') == 'b' "
      "&& "
      "resource.matchTag('123/env', 'prod') && [1, 2, 3].size() == 3");
  ASSERT_TRUE(condition.ok()) << condition.status();
  const ConditionContext ctx = default_context();
  std::vector<int> trues(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        auto r = condition->evaluate(ctx);
        if (r.ok() && *r) ++trues[static_cast<size_t>(t)];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int n : trues) EXPECT_EQ(n, 200);
}

}  // namespace
}  // namespace wims::iam
