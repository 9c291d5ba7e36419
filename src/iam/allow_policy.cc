#include "iam/allow_policy.h"

#include <openssl/evp.h>

#include <map>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "common/encoding.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "fmt/format.h"
#include "iam/roles.h"

namespace wims::iam {
namespace {

absl::Status invalid(std::string message) { return absl::InvalidArgumentError(std::move(message)); }

std::string sha256(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(md), len);
}

// Google-style message for a JSON value of the wrong type.
absl::Status wrong_type(std::string_view path, std::string_view proto_type,
                        const boost::json::value& v) {
  return invalid(
      fmt::format("Invalid value at '{}' ({}), {}", path, proto_type, boost::json::serialize(v)));
}

absl::Status unknown_field(std::string_view name, std::string_view path) {
  return invalid(
      fmt::format("Invalid JSON payload received. Unknown name \"{}\" at '{}': Cannot find field.",
                  name, path));
}

absl::StatusOr<std::string> get_string(const boost::json::value& v, std::string_view path) {
  if (!v.is_string()) return wrong_type(path, "TYPE_STRING", v);
  return std::string(v.as_string().data(), v.as_string().size());
}

// proto3 JSON: an int32 may be a number or a decimal string.
absl::StatusOr<int> get_int32(const boost::json::value& v, std::string_view path) {
  if (v.is_int64() && v.as_int64() >= INT32_MIN && v.as_int64() <= INT32_MAX)
    return static_cast<int>(v.as_int64());
  if (v.is_uint64() && v.as_uint64() <= INT32_MAX) return static_cast<int>(v.as_uint64());
  if (v.is_double() && v.as_double() == static_cast<double>(static_cast<int>(v.as_double()))) {
    return static_cast<int>(v.as_double());
  }
  if (v.is_string()) {
    std::string s(v.as_string().data(), v.as_string().size());
    if (!s.empty() && s.size() < 10 && s.find_first_not_of("0123456789") == std::string::npos)
      return std::stoi(s);
  }
  return wrong_type(path, "TYPE_INT32", v);
}

absl::StatusOr<BindingSpec> binding_from_json(const boost::json::value& v, std::string_view path) {
  if (!v.is_object()) return wrong_type(path, "TYPE_MESSAGE", v);
  BindingSpec spec;
  for (const auto& [key, value] : v.as_object()) {
    std::string_view k(key.data(), key.size());
    std::string field_path = fmt::format("{}.{}", path, k);
    if (k == "role") {
      WIMS_ASSIGN_OR_RETURN(spec.role, get_string(value, field_path));
    } else if (k == "members") {
      if (!value.is_array()) return wrong_type(field_path, "TYPE_STRING", value);
      size_t j = 0;
      for (const auto& m : value.as_array()) {
        WIMS_ASSIGN_OR_RETURN(std::string member,
                              get_string(m, fmt::format("{}[{}]", field_path, j++)));
        spec.members.push_back(std::move(member));
      }
    } else if (k == "condition") {
      if (value.is_null()) continue;
      if (!value.is_object()) return wrong_type(field_path, "TYPE_MESSAGE", value);
      for (const auto& [ckey, cvalue] : value.as_object()) {
        std::string_view ck(ckey.data(), ckey.size());
        std::string cpath = fmt::format("{}.{}", field_path, ck);
        if (ck == "title") {
          WIMS_ASSIGN_OR_RETURN(spec.condition_title, get_string(cvalue, cpath));
        } else if (ck == "description") {
          WIMS_ASSIGN_OR_RETURN(spec.condition_description, get_string(cvalue, cpath));
        } else if (ck == "expression") {
          WIMS_ASSIGN_OR_RETURN(spec.condition_expression, get_string(cvalue, cpath));
        } else if (ck == "location") {
          WIMS_RETURN_IF_ERROR(get_string(cvalue, cpath).status());  // informational only
        } else {
          return unknown_field(ck, field_path);
        }
      }
      // A condition object without an expression is a client error, not "no condition".
      if (spec.condition_expression.empty()) {
        return invalid(
            fmt::format("{}.expression: a condition must have an expression", field_path));
      }
    } else {
      return unknown_field(k, path);
    }
  }
  return spec;
}

}  // namespace

AllowPolicy::AllowPolicy() : etag_(kEmptyEtag) {}

bool AllowPolicy::has_conditions() const {
  for (const auto& b : bindings_) {
    if (b.condition) return true;
  }
  return false;
}

absl::StatusOr<AllowPolicy> AllowPolicy::from_json(std::string_view json) {
  boost::system::error_code ec;
  boost::json::value value;
  try {
    value = boost::json::parse(boost::json::string_view(json.data(), json.size()), ec);
  } catch (const std::exception& e) {
    return invalid(fmt::format("Invalid JSON payload received. {}", e.what()));
  }
  if (ec) return invalid(fmt::format("Invalid JSON payload received. {}", ec.message()));
  return from_json_value(value);
}

absl::StatusOr<AllowPolicy> AllowPolicy::from_json_value(const boost::json::value& value) {
  if (!value.is_object()) return wrong_type("policy", "TYPE_MESSAGE", value);
  int version = 1;
  std::string request_etag;
  std::vector<BindingSpec> specs;
  for (const auto& [key, v] : value.as_object()) {
    std::string_view k(key.data(), key.size());
    if (k == "version") {
      WIMS_ASSIGN_OR_RETURN(version, get_int32(v, "policy.version"));
      if (version == 0) version = 1;
    } else if (k == "etag") {
      WIMS_ASSIGN_OR_RETURN(request_etag, get_string(v, "policy.etag"));
      if (!base64_decode(request_etag).ok()) {
        return invalid(
            fmt::format("Invalid value at 'policy.etag' (TYPE_BYTES), \"{}\"", request_etag));
      }
    } else if (k == "bindings") {
      if (!v.is_array()) return wrong_type("policy.bindings", "TYPE_MESSAGE", v);
      size_t i = 0;
      for (const auto& b : v.as_array()) {
        WIMS_ASSIGN_OR_RETURN(BindingSpec spec,
                              binding_from_json(b, fmt::format("policy.bindings[{}]", i++)));
        specs.push_back(std::move(spec));
      }
    } else if (k == "auditConfigs") {
      return invalid("policy.auditConfigs: audit configurations are not supported by wims");
    } else {
      return unknown_field(k, "policy");
    }
  }
  return build(specs, version, std::move(request_etag), true);
}

absl::StatusOr<AllowPolicy> AllowPolicy::create(const std::vector<BindingSpec>& bindings,
                                                int version) {
  return build(bindings, version, "", false);
}

absl::StatusOr<AllowPolicy> AllowPolicy::build(const std::vector<BindingSpec>& specs, int version,
                                               std::string request_etag, bool json_paths) {
  const std::string prefix = json_paths ? "policy.bindings" : "bindings";
  bool any_condition = false;
  for (const auto& s : specs) {
    if (!s.condition_expression.empty() || !s.condition_title.empty()) any_condition = true;
  }
  if (version == 0) version = any_condition ? 3 : 1;
  if (version != 1 && version != 3) {
    return invalid(fmt::format("Invalid policy version {}: valid values are 0, 1 and 3", version));
  }
  if (any_condition && version < 3) {
    return invalid(fmt::format(
        "The policy has conditional role bindings, so its version must be 3 (got {})", version));
  }

  AllowPolicy policy;
  policy.version_ = version;
  policy.request_etag_ = std::move(request_etag);
  std::map<std::string, size_t> index_by_key;  // role + condition -> binding index
  std::map<std::string, size_t>
      conditional_counts;  // role + member -> number of conditional bindings
  std::vector<std::set<std::string>> seen_members;
  size_t total_members = 0;
  for (size_t i = 0; i < specs.size(); ++i) {
    const BindingSpec& spec = specs[i];
    const std::string path = fmt::format("{}[{}]", prefix, i);
    if (spec.role.empty()) return invalid(fmt::format("{}.role: a role must be specified", path));
    if (find_role(spec.role) == nullptr) {
      return invalid(fmt::format("{}.role: Role ({}) does not exist or is not supported by wims",
                                 path, spec.role));
    }
    Binding binding;
    binding.role = spec.role;
    for (size_t j = 0; j < spec.members.size(); ++j) {
      auto member = Member::parse(spec.members[j]);
      if (!member.ok()) {
        return invalid(
            fmt::format("{}.members[{}]: {}", path, j, to_std(member.status().message())));
      }
      binding.members.push_back(std::move(*member));
    }
    bool has_condition = !spec.condition_expression.empty() || !spec.condition_title.empty() ||
                         !spec.condition_description.empty();
    if (has_condition) {
      const std::string cpath = path + ".condition";
      if (spec.condition_expression.empty()) {
        return invalid(fmt::format("{}.expression: a condition must have an expression", cpath));
      }
      if (spec.condition_title.empty())
        return invalid(fmt::format("{}.title: a condition title is required", cpath));
      if (spec.condition_title.size() > kMaxConditionTitleLength) {
        return invalid(fmt::format("{}.title: the title is longer than {} characters", cpath,
                                   kMaxConditionTitleLength));
      }
      if (spec.condition_description.size() > kMaxConditionDescriptionLength) {
        return invalid(fmt::format("{}.description: the description is longer than {} characters",
                                   cpath, kMaxConditionDescriptionLength));
      }
      if (is_basic_role(spec.role)) {
        return invalid(fmt::format(
            "{}: Conditions are not supported on basic roles ({}); use a predefined role", path,
            spec.role));
      }
      for (const auto& m : binding.members) {
        if (m.is_public()) {
          return invalid(fmt::format("{}: Conditions are not supported on bindings with {}", path,
                                     m.to_string()));
        }
      }
      auto compiled = Condition::compile(spec.condition_expression);
      if (!compiled.ok()) {
        return invalid(fmt::format("Condition expression could not be parsed ({}.expression): {}",
                                   cpath, to_std(compiled.status().message())));
      }
      binding.condition = BindingCondition{spec.condition_title, spec.condition_description,
                                           spec.condition_expression, std::move(*compiled)};
    }
    std::string key = spec.role;
    if (has_condition) {
      key += '\0' + spec.condition_title + '\0' + spec.condition_description + '\0' +
             spec.condition_expression;
    }
    auto [it, inserted] = index_by_key.emplace(key, policy.bindings_.size());
    if (inserted) {
      Binding fresh = binding;
      fresh.members.clear();
      policy.bindings_.push_back(std::move(fresh));
      seen_members.emplace_back();
    }
    Binding& target = policy.bindings_[it->second];
    for (auto& m : binding.members) {
      std::string text = m.to_string();
      if (!seen_members[it->second].insert(text).second) continue;
      if (has_condition &&
          ++conditional_counts[spec.role + '\0' + text] > kMaxConditionalBindingsPerRoleAndMember) {
        return invalid(
            fmt::format("{}: more than {} conditional bindings for role {} and member {}", path,
                        kMaxConditionalBindingsPerRoleAndMember, spec.role, text));
      }
      target.members.push_back(std::move(m));
      ++total_members;
    }
  }
  if (total_members > kMaxMembers) {
    return invalid(fmt::format(
        "The number of members in the policy ({}) is larger than the maximum allowed size {}.",
        total_members, kMaxMembers));
  }
  std::erase_if(policy.bindings_, [](const Binding& b) { return b.members.empty(); });

  if (policy.bindings_.empty()) {
    policy.etag_ = std::string(kEmptyEtag);
  } else {
    boost::json::object content = policy.to_json_value(3);
    content.erase("etag");
    policy.etag_ = base64_encode(sha256(boost::json::serialize(content)).substr(0, 8));
  }
  return policy;
}

boost::json::object AllowPolicy::to_json_value(int requested_policy_version) const {
  const bool downgrade = requested_policy_version < 3 && has_conditions();
  boost::json::object out;
  out["version"] = downgrade ? 1 : version_;
  out["etag"] = etag_;
  if (bindings_.empty()) return out;
  boost::json::array bindings;
  for (const auto& b : bindings_) {
    boost::json::object o;
    std::string role = b.role;
    if (downgrade && b.condition) {
      // Google renames conditional roles for clients that cannot see conditions.
      std::string digest =
          hex_encode(sha256(b.condition->title + '\0' + b.condition->expression)).substr(0, 20);
      role += "_withcond_" + digest;
    }
    o["role"] = role;
    boost::json::array members;
    for (const auto& m : b.members) members.emplace_back(m.to_string());
    o["members"] = std::move(members);
    if (b.condition && !downgrade) {
      boost::json::object c;
      c["title"] = b.condition->title;
      if (!b.condition->description.empty()) c["description"] = b.condition->description;
      c["expression"] = b.condition->expression;
      o["condition"] = std::move(c);
    }
    bindings.emplace_back(std::move(o));
  }
  out["bindings"] = std::move(bindings);
  return out;
}

std::string AllowPolicy::to_json(int requested_policy_version) const {
  return boost::json::serialize(to_json_value(requested_policy_version));
}

}  // namespace wims::iam
