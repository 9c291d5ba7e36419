#include "iam/authorizer.h"

#include <algorithm>
#include <optional>

#include "common/strings.h"
#include "fmt/format.h"
#include "iam/roles.h"

namespace wims::iam {

Decision Authorizer::check(const Caller& caller, std::string_view permission,
                           const ResourceRef& resource) const {
  return check_at(caller, permission, resource, clock_.now());
}

Decision Authorizer::check_at(const Caller& caller, std::string_view permission,
                              const ResourceRef& resource, absl::Time request_time) const {
  Decision decision;
  if (caller.kind() == Caller::Kind::kAdmin) {
    decision.allowed = true;
    decision.reason = "caller is the wims admin";
    return decision;
  }
  // Built on the first conditional binding only: most checks never need it.
  std::optional<ConditionContext> context;
  std::vector<std::string> condition_errors;
  for (const PolicyNode& node : resource.chain) {
    if (!node.policy) continue;
    for (const Binding& binding : node.policy->bindings()) {
      if (!role_grants(binding.role, permission)) continue;
      auto member = std::find_if(binding.members.begin(), binding.members.end(),
                                 [&](const Member& m) { return matches(m, caller); });
      if (member == binding.members.end()) continue;
      if (binding.condition) {
        if (!context) {
          context.emplace();
          context->request_time = request_time;
          context->resource = resource.attributes;
          context->api_attributes = resource.api_attributes;
        }
        absl::StatusOr<bool> holds = binding.condition->compiled.evaluate(*context);
        if (!holds.ok()) {
          condition_errors.push_back(
              fmt::format("condition '{}' of {} on {} failed: {}", binding.condition->title,
                          binding.role, node.resource_name, to_std(holds.status().message())));
          continue;
        }
        if (!*holds) continue;
      }
      decision.allowed = true;
      decision.granting_resource = node.resource_name;
      decision.granting_role = binding.role;
      decision.granting_member = member->to_string();
      if (binding.condition) decision.granting_condition_title = binding.condition->title;
      decision.reason = fmt::format("granted by {} on {} to {}", binding.role, node.resource_name,
                                    decision.granting_member);
      if (binding.condition)
        decision.reason += fmt::format(" (condition '{}')", binding.condition->title);
      return decision;
    }
  }
  decision.reason = fmt::format("no binding grants {} to {} on {}", permission, caller.to_string(),
                                resource.attributes.name);
  for (const auto& e : condition_errors) decision.reason += "; " + e;
  return decision;
}

std::vector<std::string> Authorizer::test_permissions(const Caller& caller,
                                                      const std::vector<std::string>& permissions,
                                                      const ResourceRef& resource) const {
  const absl::Time now = clock_.now();
  std::vector<std::string> granted;
  for (const auto& p : permissions) {
    if (std::find(granted.begin(), granted.end(), p) != granted.end()) continue;
    if (check_at(caller, p, resource, now).allowed) granted.push_back(p);
  }
  return granted;
}

}  // namespace wims::iam
