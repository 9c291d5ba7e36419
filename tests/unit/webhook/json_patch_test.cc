// RFC 6902 application (examples from RFC 6902 appendix A) and the patch builder.
#include "webhook/json_patch.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace wims::webhook {
namespace {

namespace json = boost::json;

struct PatchCase {
  const char* name;
  const char* document;
  const char* patch;
  const char* expected;  // nullptr: an error
  absl::StatusCode code = absl::StatusCode::kOk;
};

TEST(JsonPatchTest, AppliesRfc6902Examples) {
  const PatchCase cases[] = {
      {"A.1 add an object member", R"({"foo":"bar"})",
       R"([{"op":"add","path":"/baz","value":"qux"}])", R"({"baz":"qux","foo":"bar"})"},
      {"A.2 add an array element", R"({"foo":["bar","baz"]})",
       R"([{"op":"add","path":"/foo/1","value":"qux"}])", R"({"foo":["bar","qux","baz"]})"},
      {"A.3 remove an object member", R"({"baz":"qux","foo":"bar"})",
       R"([{"op":"remove","path":"/baz"}])", R"({"foo":"bar"})"},
      {"A.4 remove an array element", R"({"foo":["bar","qux","baz"]})",
       R"([{"op":"remove","path":"/foo/1"}])", R"({"foo":["bar","baz"]})"},
      {"A.5 replace a value", R"({"baz":"qux","foo":"bar"})",
       R"([{"op":"replace","path":"/baz","value":"boo"}])", R"({"baz":"boo","foo":"bar"})"},
      {"A.6 move a value", R"({"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}})",
       R"([{"op":"move","from":"/foo/waldo","path":"/qux/thud"}])",
       R"({"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}})"},
      {"A.7 move an array element", R"({"foo":["all","grass","cows","eat"]})",
       R"([{"op":"move","from":"/foo/1","path":"/foo/3"}])",
       R"({"foo":["all","cows","eat","grass"]})"},
      {"A.8 test success", R"({"baz":"qux","foo":["a",2,"c"]})",
       R"([{"op":"test","path":"/baz","value":"qux"},{"op":"test","path":"/foo/1","value":2}])",
       R"({"baz":"qux","foo":["a",2,"c"]})"},
      {"A.9 test failure", R"({"baz":"qux"})", R"([{"op":"test","path":"/baz","value":"bar"}])",
       nullptr, absl::StatusCode::kFailedPrecondition},
      {"A.10 add a nested member object", R"({"foo":"bar"})",
       R"([{"op":"add","path":"/child","value":{"grandchild":{}}}])",
       R"({"foo":"bar","child":{"grandchild":{}}})"},
      {"A.12 add to a nonexistent target", R"({"foo":"bar"})",
       R"([{"op":"add","path":"/baz/bat","value":"qux"}])", nullptr,
       absl::StatusCode::kInvalidArgument},
      {"A.14 ~ escapes", R"({"/":9,"~1":10})",
       R"([{"op":"test","path":"/~01","value":10},{"op":"remove","path":"/~1"}])", R"({"~1":10})"},
      {"A.16 add an array value", R"({"foo":["bar"]})",
       R"([{"op":"add","path":"/foo/-","value":["abc","def"]}])",
       R"({"foo":["bar",["abc","def"]]})"},
      {"add replaces an existing member (the webhook's whole-array add)",
       R"({"spec":{"containers":[1]}})",
       R"([{"op":"add","path":"/spec/containers","value":[1,2]}])",
       R"({"spec":{"containers":[1,2]}})"},
      {"copy", R"({"a":{"b":1}})", R"([{"op":"copy","from":"/a","path":"/c"}])",
       R"({"a":{"b":1},"c":{"b":1}})"},
      {"index past the end", R"({"a":[1]})", R"([{"op":"add","path":"/a/2","value":0}])", nullptr,
       absl::StatusCode::kInvalidArgument},
      {"leading zero index", R"({"a":[1,2]})", R"([{"op":"remove","path":"/a/01"}])", nullptr,
       absl::StatusCode::kInvalidArgument},
      {"replace of a missing member", R"({})", R"([{"op":"replace","path":"/a","value":1}])",
       nullptr, absl::StatusCode::kInvalidArgument},
      {"unknown op", R"({})", R"([{"op":"merge","path":"/a","value":1}])", nullptr,
       absl::StatusCode::kInvalidArgument},
      {"pointer without a slash", R"({})", R"([{"op":"add","path":"a","value":1}])", nullptr,
       absl::StatusCode::kInvalidArgument},
      {"move into its own child", R"({"a":{"b":{}}})",
       R"([{"op":"move","from":"/a","path":"/a/b/c"}])", nullptr,
       absl::StatusCode::kInvalidArgument},
  };
  for (const PatchCase& c : cases) {
    SCOPED_TRACE(c.name);
    auto result = apply_json_patch(json::parse(c.document), json::parse(c.patch).as_array());
    if (c.expected == nullptr) {
      EXPECT_EQ(result.status().code(), c.code) << result.status();
    } else {
      ASSERT_TRUE(result.ok()) << result.status();
      EXPECT_EQ(*result, json::parse(c.expected)) << json::serialize(*result);
    }
  }
}

TEST(JsonPatchTest, BuilderSerialisesOperationsInOrder) {
  JsonPatch patch;
  EXPECT_TRUE(patch.empty());
  patch.add("/spec/volumes", json::array{});
  patch.replace("/metadata/labels/" + escape_pointer_token("a/b~c"), "x");
  patch.remove("/spec/x");
  EXPECT_EQ(json::parse(patch.serialize()),
            json::parse(R"([{"op":"add","path":"/spec/volumes","value":[]},
                            {"op":"replace","path":"/metadata/labels/a~1b~0c","value":"x"},
                            {"op":"remove","path":"/spec/x"}])"));
}

}  // namespace
}  // namespace wims::webhook
