// Authorizer: decides whether a caller holds a permission on a resource under Google IAM
// allow-policy semantics, the check behind every local Google API (iamcredentials
// generateAccessToken, storage reads, testIamPermissions).
//
//   ResourceRef ref;
//   ref.attributes.name = "projects/_/buckets/b/objects/o";
//   ref.attributes.type = "storage.googleapis.com/Object";
//   ref.attributes.service = "storage.googleapis.com";
//   ref.chain = {{"projects/_/buckets/b", bucket_policy}, {"projects/wims-local", project_policy}};
//   Decision d = authorizer.check(Caller::workload(id), "storage.objects.get", ref);
//   if (!d.allowed) ... 403 with d.reason
//
// A permission is granted iff some binding in some policy of the chain (the resource itself, then
// its parents up to the project; inheritance is a union, there is no deny) has a role that grants
// the permission, a member that matches the caller (iam/principal.h), and either no condition or a
// condition that evaluates to true. Conditions always see the request time and the attributes of
// the ORIGINAL resource, also for bindings inherited from a parent. A condition that fails to
// evaluate does not grant (its error is reported in the denial reason). The admin caller is always
// allowed.
//
// Holds only a Clock reference (the Clock must outlive it); stateless otherwise, so check() may run
// concurrently on any executor. Pure computation, no I/O.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "common/clock.h"
#include "iam/allow_policy.h"
#include "iam/condition.h"
#include "iam/principal.h"

namespace wims::iam {

// One policy-bearing resource: "projects/_/buckets/b", "projects/-/serviceAccounts/EMAIL",
// "projects/P". A null policy means the resource has none (the same as an empty policy).
struct PolicyNode {
  std::string resource_name;
  std::shared_ptr<const AllowPolicy> policy;
};

struct ResourceRef {
  ResourceAttributes
      attributes;  // of the resource the request is about (name, type, service, tags)
  std::vector<PolicyNode>
      chain;  // the resource (if it bears a policy), then its ancestors up to the project
  std::map<std::string, ApiAttribute> api_attributes;  // for api.getAttribute() in conditions
};

struct Decision {
  bool allowed = false;
  // Human-readable: "granted by roles/storage.objectViewer on projects/_/buckets/b to
  // serviceAccount:... "
  // "(condition 'before 2030')", "caller is the wims admin", or "no binding grants
  // storage.objects.get to
  // ... on projects/_/buckets/b/objects/o" plus any condition evaluation errors.
  std::string reason;
  // When allowed by a binding: where and which.
  std::string granting_resource;
  std::string granting_role;
  std::string granting_member;
  std::string granting_condition_title;  // "" for an unconditional binding
};

class Authorizer {
 public:
  explicit Authorizer(const Clock& clock) : clock_(clock) {}

  // Uses clock.now() as request.time.
  Decision check(const Caller& caller, std::string_view permission,
                 const ResourceRef& resource) const;
  Decision check_at(const Caller& caller, std::string_view permission, const ResourceRef& resource,
                    absl::Time request_time) const;

  // testIamPermissions: the subset of `permissions` the caller holds on the resource, in request
  // order, without duplicates. Unknown permission names are simply not granted (the API layer
  // validates names).
  std::vector<std::string> test_permissions(const Caller& caller,
                                            const std::vector<std::string>& permissions,
                                            const ResourceRef& resource) const;

 private:
  const Clock& clock_;
};

}  // namespace wims::iam
