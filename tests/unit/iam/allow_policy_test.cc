#include "iam/allow_policy.h"

#include <string>
#include <vector>

#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "gtest/gtest.h"

namespace wims::iam {
namespace {

constexpr char kGsa[] = "serviceAccount:demo@wims-local.iam.gserviceaccount.com";
constexpr char kWorkload[] =
    "principal://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/"
    "p.svc.id.goog/subject/"
    "ns/prod/sa/api";

std::string policy_json(const std::string& bindings, int version = 3) {
  return R"({"version":)" + std::to_string(version) + R"(,"bindings":[)" + bindings + "]}";
}

TEST(AllowPolicyTest, JsonRoundTrip) {
  const std::string json =
      R"({"version":3,"etag":"BwX3ZyR8d2A=","bindings":[)"
      R"({"role":"roles/storage.objectViewer","members":[")" +
      std::string(kGsa) + R"(",")" + kWorkload +
      R"("],"condition":{"title":"before 2030","description":"expires",)"
      R"j("expression":"request.time < timestamp('2030-01-01T00:00:00Z')"}},)j"
      R"({"role":"roles/iam.workloadIdentityUser","members":["serviceAccount:p.svc.id.goog[prod/api]"]}]})";
  auto policy = AllowPolicy::from_json(json);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->version(), 3);
  EXPECT_EQ(policy->request_etag(), "BwX3ZyR8d2A=");
  EXPECT_TRUE(policy->has_conditions());
  ASSERT_EQ(policy->bindings().size(), 2u);
  const Binding& b = policy->bindings()[0];
  EXPECT_EQ(b.role, "roles/storage.objectViewer");
  ASSERT_EQ(b.members.size(), 2u);
  EXPECT_EQ(b.members[1].kind, MemberKind::kWorkloadSubject);
  ASSERT_TRUE(b.condition.has_value());
  EXPECT_EQ(b.condition->title, "before 2030");
  EXPECT_EQ(b.condition->description, "expires");
  EXPECT_FALSE(policy->bindings()[1].condition.has_value());

  // The etag is derived from the content, not echoed from the request.
  EXPECT_NE(policy->etag(), "BwX3ZyR8d2A=");
  EXPECT_EQ(policy->etag().size(), 12u);

  auto reparsed = AllowPolicy::from_json(policy->to_json());
  ASSERT_TRUE(reparsed.ok()) << reparsed.status();
  EXPECT_EQ(reparsed->to_json(), policy->to_json());
  EXPECT_EQ(reparsed->etag(), policy->etag());
  EXPECT_EQ(reparsed->request_etag(), policy->etag());

  boost::json::value v = boost::json::parse(policy->to_json());
  EXPECT_EQ(v.at("version").as_int64(), 3);
  EXPECT_EQ(v.at("bindings").at(0).at("condition").at("expression").as_string(),
            "request.time < timestamp('2030-01-01T00:00:00Z')");
}

TEST(AllowPolicyTest, EtagChangesWithContentOnly) {
  auto a = AllowPolicy::from_json(policy_json(
      R"({"role":"roles/storage.objectViewer","members":[")" + std::string(kGsa) + R"("]})", 1));
  auto b = AllowPolicy::from_json(
      R"({"etag":"AAAA","bindings":[{"role":"roles/storage.objectViewer","members":[")" +
      std::string(kGsa) + R"("]}]})");
  auto c = AllowPolicy::from_json(policy_json(
      R"({"role":"roles/storage.objectAdmin","members":[")" + std::string(kGsa) + R"("]})", 1));
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->etag(), b->etag());
  EXPECT_NE(a->etag(), c->etag());
  EXPECT_EQ(AllowPolicy().etag(), "ACAB");
  EXPECT_EQ(AllowPolicy().to_json(), R"({"version":1,"etag":"ACAB"})");
  auto empty = AllowPolicy::from_json("{}");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->etag(), "ACAB");
  EXPECT_EQ(empty->version(), 1);
}

TEST(AllowPolicyTest, MergesDuplicatesAndDropsEmptyBindings) {
  auto p = AllowPolicy::from_json(policy_json(
      R"({"role":"roles/storage.objectViewer","members":[")" + std::string(kGsa) + R"(",")" + kGsa +
          R"("]},)"
          R"({"role":"roles/storage.objectViewer","members":["serviceAccount:b@x.iam.gserviceaccount.com",")" +
          kGsa +
          R"("]},)"
          R"({"role":"roles/storage.admin","members":[]})",
      1));
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->bindings().size(), 1u);
  EXPECT_EQ(p->bindings()[0].members.size(), 2u);
}

TEST(AllowPolicyTest, DowngradesConditionalBindingsForOldClients) {
  auto p = AllowPolicy::from_json(policy_json(
      R"({"role":"roles/storage.objectViewer","members":[")" + std::string(kGsa) +
      R"j("],"condition":{"title":"t","expression":"request.time < timestamp('2030-01-01T00:00:00Z')"}})j"));
  ASSERT_TRUE(p.ok()) << p.status();
  boost::json::value v = boost::json::parse(p->to_json(1));
  EXPECT_EQ(v.at("version").as_int64(), 1);
  const auto& binding = v.at("bindings").at(0).as_object();
  EXPECT_FALSE(binding.contains("condition"));
  std::string role(binding.at("role").as_string());
  EXPECT_EQ(role.rfind("roles/storage.objectViewer_withcond_", 0), 0u) << role;
}

TEST(AllowPolicyTest, CreateFromBindingSpecsPicksTheVersion) {
  auto plain = AllowPolicy::create({{"roles/iam.workloadIdentityUser", {kWorkload}, "", "", ""}});
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->version(), 1);
  auto conditional = AllowPolicy::create({{"roles/storage.objectViewer",
                                           {kGsa},
                                           "prod only",
                                           "",
                                           "resource.matchTag('123/env', 'prod')"}});
  ASSERT_TRUE(conditional.ok()) << conditional.status();
  EXPECT_EQ(conditional->version(), 3);
  auto bad = AllowPolicy::create({{"roles/storage.objectViewer", {kGsa}, "t", "", "foo("}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bindings[0].condition.expression"), std::string::npos)
      << bad.status();
}

struct PolicyErrorCase {
  std::string name;
  std::string json;
  std::string message_part;
};

TEST(AllowPolicyTest, ValidationErrors) {
  const std::string gsa = kGsa;
  auto cond = [](const std::string& expression, const std::string& title = "t") {
    return R"(,"condition":{"title":")" + title + R"(","expression":")" + expression + R"("})";
  };
  std::string many_members;
  for (int i = 0; i < 1501; ++i) {
    if (i) many_members += ",";
    many_members += "\"serviceAccount:sa" + std::to_string(i) + "@p.iam.gserviceaccount.com\"";
  }
  std::string thirteen = "true";
  for (int i = 0; i < 13; ++i) thirteen += " && true";
  std::string twenty_one;
  for (int i = 0; i < 21; ++i) {
    if (i) twenty_one += ",";
    twenty_one += R"({"role":"roles/storage.objectViewer","members":[")" + gsa + R"("])" +
                  cond("true", "t" + std::to_string(i)) + "}";
  }
  const std::vector<PolicyErrorCase> cases = {
      {"not json", "{", "Invalid JSON payload received"},
      {"not an object", "[]", "Invalid value at 'policy'"},
      {"unknown top field", R"({"versions":3})", "Unknown name \"versions\" at 'policy'"},
      {"version string", R"({"version":"x"})", "Invalid value at 'policy.version' (TYPE_INT32)"},
      {"version 2", R"({"version":2})", "Invalid policy version 2"},
      {"bad etag", R"({"etag":"not base64!"})", "policy.etag"},
      {"audit configs", R"({"auditConfigs":[]})", "auditConfigs"},
      {"bindings not array", R"({"bindings":{}})", "policy.bindings"},
      {"role not string", policy_json(R"({"role":5,"members":[]})"),
       "policy.bindings[0].role' (TYPE_STRING), 5"},
      {"missing role", policy_json(R"({"members":[")" + gsa + R"("]})"),
       "policy.bindings[0].role: a role must be"},
      {"unknown role", policy_json(R"({"role":"roles/storage.nope","members":[")" + gsa + R"("]})"),
       "Role (roles/storage.nope) does not exist"},
      {"unknown binding field", policy_json(R"({"role":"roles/owner","member":[]})"),
       "Unknown name \"member\" at 'policy.bindings[0]'"},
      {"bad member", policy_json(R"({"role":"roles/owner","members":["user:nobody"]})"),
       "policy.bindings[0].members[0]: Invalid member 'user:nobody'"},
      {"member not string", policy_json(R"({"role":"roles/owner","members":[1]})"), "members[0]"},
      {"missing title",
       policy_json(R"({"role":"roles/storage.objectViewer","members":[")" + gsa + R"("])" +
                   cond("true", "") + "}"),
       "a condition title is required"},
      {"missing expression",
       policy_json(R"({"role":"roles/storage.objectViewer","members":[")" + gsa +
                   R"("],"condition":{"title":"t"}})"),
       "a condition must have an expression"},
      {"unknown condition field",
       policy_json(R"({"role":"roles/storage.objectViewer","members":[")" + gsa +
                   R"("],"condition":{"title":"t","expression":"true","expr":"x"}})"),
       "Unknown name \"expr\""},
      {"condition on basic role",
       policy_json(R"({"role":"roles/viewer","members":[")" + gsa + R"("])" + cond("true") + "}"),
       "not supported on basic roles"},
      {"condition with allUsers",
       policy_json(R"({"role":"roles/storage.objectViewer","members":["allUsers"])" + cond("true") +
                   "}"),
       "not supported on bindings with allUsers"},
      {"condition with allAuthenticatedUsers",
       policy_json(R"({"role":"roles/storage.objectViewer","members":["allAuthenticatedUsers"])" +
                   cond("true") + "}"),
       "allAuthenticatedUsers"},
      {"condition syntax error",
       policy_json(R"({"role":"roles/storage.objectViewer","members":[")" + gsa + R"("])" +
                   cond("request.time <") + "}"),
       "Condition expression could not be parsed"},
      // Spec section 7, CEL item 6: 13 logical operators or an unknown function at setIamPolicy.
      {"13 logical operators",
       policy_json(R"({"role":"roles/storage.objectViewer","members":[")" + gsa + R"("])" +
                   cond(thirteen) + "}"),
       "more than 12 logical operators"},
      {"unknown function",
       policy_json(R"({"role":"roles/storage.objectViewer","members":[")" + gsa + R"("])" +
                   cond("resource.name.frob('x')") + "}"),
       "undeclared reference to function 'frob'"},
      {"conditions need version 3",
       policy_json(R"({"role":"roles/storage.objectViewer","members":[")" + gsa + R"("])" +
                       cond("true") + "}",
                   1),
       "version must be 3"},
      {"too many members",
       policy_json(R"({"role":"roles/storage.objectViewer","members":[)" + many_members + "]}"),
       "(1501) is larger than the maximum allowed size 1500"},
      {"21 conditional bindings for one role and member", policy_json(twenty_one),
       "more than 20 conditional"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto p = AllowPolicy::from_json(c.json);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(p.status().message().find(c.message_part), std::string::npos) << p.status();
  }
}

}  // namespace
}  // namespace wims::iam
