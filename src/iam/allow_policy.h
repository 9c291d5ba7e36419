// AllowPolicy: a Google IAM allow policy (the `Policy` of setIamPolicy / getIamPolicy) in its
// REST shape:
//
//   {"version":3,"etag":"BwX...","bindings":[{"role":"roles/storage.objectViewer",
//     "members":["serviceAccount:a@p.iam.gserviceaccount.com"],
//     "condition":{"title":"t","description":"d",
//                  "expression":"request.time < timestamp('2030-01-01T00:00:00Z')"}}]}
//
// A policy is validated completely when it is built (from JSON or from BindingSpecs), so a stored
// AllowPolicy is always valid: every role is known (iam/roles.h), every member parses
// (iam/principal.h), every condition has a title and compiles (iam/condition.h; a failure is
// INVALID_ARGUMENT "Condition expression could not be parsed (PATH): DETAIL"), no condition sits
// on a basic role or on a binding with allUsers / allAuthenticatedUsers, at most 1,500 members,
// at most 20 conditional bindings per role and member, and version 3 when there are conditions
// (0 / absent means 1; 1 and 3 are accepted, anything else is rejected). Bindings with the same
// role and condition are merged, duplicate members dropped, bindings without members dropped.
//
// The etag is derived from the content (base64 of 8 bytes of SHA-256 over the canonical JSON;
// "ACAB" for a policy without bindings, as Google returns), so equal policies have equal etags. The
// etag a client sent is kept apart as request_etag() for the read-modify-write check of
// setIamPolicy (the caller compares it with the stored policy's etag and answers 409 ABORTED on
// mismatch).
//
// An immutable value after construction; thread-safe to read and evaluate concurrently. No I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "boost/json/object.hpp"
#include "boost/json/value.hpp"
#include "iam/condition.h"
#include "iam/principal.h"

namespace wims::iam {

struct BindingCondition {
  std::string title;
  std::string description;
  std::string expression;
  Condition compiled;
};

struct Binding {
  std::string role;             // a role find_role() knows
  std::vector<Member> members;  // non-empty, no duplicates
  std::optional<BindingCondition> condition;
};

// One binding as given by code (e.g. the World's seed bindings): member strings and an optional
// condition (empty expression = no condition).
struct BindingSpec {
  std::string role;
  std::vector<std::string> members;
  std::string condition_title;
  std::string condition_description;
  std::string condition_expression;
};

class AllowPolicy {
 public:
  static constexpr size_t kMaxMembers = 1500;
  static constexpr size_t kMaxConditionalBindingsPerRoleAndMember = 20;
  static constexpr size_t kMaxConditionTitleLength = 100;
  static constexpr size_t kMaxConditionDescriptionLength = 256;
  // The etag of a policy without bindings (what Google returns for a resource that never had a
  // policy).
  static constexpr std::string_view kEmptyEtag = "ACAB";

  // The empty policy: version 1, no bindings, etag "ACAB".
  AllowPolicy();

  // Parses and validates a Policy JSON object. INVALID_ARGUMENT with the JSON path and the reason
  // ("Invalid JSON payload received. Unknown name \"x\" at 'policy'", "bindings[0].role: ...",
  // ...).
  static absl::StatusOr<AllowPolicy> from_json(std::string_view json);
  static absl::StatusOr<AllowPolicy> from_json_value(const boost::json::value& value);

  // Validates bindings given by code. `version` 0 picks 3 when any binding has a condition, else 1.
  static absl::StatusOr<AllowPolicy> create(const std::vector<BindingSpec>& bindings,
                                            int version = 0);

  int version() const { return version_; }
  const std::string& etag() const { return etag_; }
  // The "etag" field of the JSON this policy was parsed from ("" when absent or built by create()).
  const std::string& request_etag() const { return request_etag_; }
  const std::vector<Binding>& bindings() const { return bindings_; }
  bool has_conditions() const;

  // The REST shape, with the content etag. With requested_policy_version < 3 and conditional
  // bindings, Google's downgrade is applied: version 1, conditions dropped and each conditional
  // role renamed "ROLE_withcond_<20 hex>" so that it cannot be mistaken for an unconditional grant.
  boost::json::object to_json_value(int requested_policy_version = 3) const;
  std::string to_json(int requested_policy_version = 3) const;

 private:
  static absl::StatusOr<AllowPolicy> build(const std::vector<BindingSpec>& specs, int version,
                                           std::string request_etag, bool json_paths);

  int version_ = 1;
  std::string etag_;
  std::string request_etag_;
  std::vector<Binding> bindings_;
};

}  // namespace wims::iam
