#include "aws/iam_service.h"

#include <algorithm>
#include <cctype>

#include "absl/strings/numbers.h"
#include "aws/managed_policies.h"
#include "aws/oidc_issuer_url.h"
#include "aws/policy_document.h"
#include "aws/policy_evaluator.h"
#include "common/random.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "fmt/format.h"

namespace wims::aws {
namespace {

constexpr std::string_view kActions[] = {
    "CreateOpenIDConnectProvider",
    "GetOpenIDConnectProvider",
    "ListOpenIDConnectProviders",
    "DeleteOpenIDConnectProvider",
    "CreateRole",
    "GetRole",
    "ListRoles",
    "DeleteRole",
    "UpdateAssumeRolePolicy",
    "CreatePolicy",
    "GetPolicy",
    "GetPolicyVersion",
    "ListPolicies",
    "DeletePolicy",
    "AttachRolePolicy",
    "DetachRolePolicy",
    "ListAttachedRolePolicies",
    "SimulatePrincipalPolicy",
};

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '+' || c == '=' ||
         c == ',' || c == '.' || c == '@' || c == '-';
}

// IAM user/role/policy names: [\w+=,.@-]+ with a length bound (API reference).
absl::Status validate_name(std::string_view field, std::string_view value, size_t max) {
  if (value.empty() || value.size() > max) {
    return validation_error(field, value,
                            fmt::format("Member must have length less than or equal to {}", max));
  }
  if (!std::all_of(value.begin(), value.end(), is_name_char)) {
    return validation_error(field, value,
                            "Member must satisfy regular expression pattern: [\\w+=,.@-]+");
  }
  return absl::OkStatus();
}

absl::Status validate_path(std::string_view value) {
  bool ok = !value.empty() && value.size() <= 512 && value.front() == '/' && value.back() == '/';
  for (char c : value) ok = ok && c >= 0x21 && c <= 0x7e;
  if (!ok) {
    return validation_error("path", value,
                            "Member must satisfy regular expression pattern: "
                            "(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)");
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> parse_int(std::string_view field, std::string_view value) {
  int64_t v = 0;
  if (!absl::SimpleAtoi(to_absl(value), &v)) {
    return validation_error(field, value, "Member must be an integer");
  }
  return v;
}

bool parse_bool(const std::optional<std::string>& v) { return v.has_value() && *v == "true"; }

std::string role_xml(const RoleRecord& role) {
  std::string xml = "<Role>";
  xml += xml_element("Path", role.path);
  xml += xml_element("Arn", role.arn);
  xml += xml_element("RoleName", role.name);
  xml +=
      xml_element("AssumeRolePolicyDocument", url_encode_policy(role.assume_role_policy_document));
  xml += xml_element("CreateDate", xml_timestamp(role.create_date));
  xml += xml_element("RoleId", role.role_id);
  xml += xml_element("MaxSessionDuration", std::to_string(role.max_session_duration));
  if (!role.description.empty()) xml += xml_element("Description", role.description);
  xml += "</Role>";
  return xml;
}

std::string role_member_xml(const RoleRecord& role) {
  std::string xml = role_xml(role);
  return "<member>" + xml.substr(6, xml.size() - 6 - 7) + "</member>";
}

std::string members_xml(const std::vector<std::string>& values) {
  std::string xml;
  for (const std::string& v : values) xml += xml_element("member", v);
  return xml;
}

}  // namespace

IamService::IamService(AwsStateRepository& repository, const Clock& clock, std::string account_id)
    : repository_(repository), clock_(clock), account_id_(std::move(account_id)) {}

bool IamService::handles(std::string_view action) {
  return std::find(std::begin(kActions), std::end(kActions), action) != std::end(kActions);
}

absl::StatusOr<std::string> IamService::call(std::string_view action, const QueryParams& params,
                                             std::string_view request_id) {
  std::lock_guard lock(mu_);
  WIMS_ASSIGN_OR_RETURN(std::string result, dispatch(action, params));
  return query_response_xml(action, kIamXmlns, result, request_id);
}

absl::StatusOr<std::string> IamService::dispatch(std::string_view action,
                                                 const QueryParams& params) {
  if (action == "CreateOpenIDConnectProvider") return create_oidc_provider(params);
  if (action == "GetOpenIDConnectProvider") return get_oidc_provider(params);
  if (action == "ListOpenIDConnectProviders") return list_oidc_providers(params);
  if (action == "DeleteOpenIDConnectProvider") return delete_oidc_provider(params);
  if (action == "CreateRole") return create_role(params);
  if (action == "GetRole") return get_role(params);
  if (action == "ListRoles") return list_roles(params);
  if (action == "DeleteRole") return delete_role(params);
  if (action == "UpdateAssumeRolePolicy") return update_assume_role_policy(params);
  if (action == "CreatePolicy") return create_policy(params);
  if (action == "GetPolicy") return get_policy(params);
  if (action == "GetPolicyVersion") return get_policy_version(params);
  if (action == "ListPolicies") return list_policies(params);
  if (action == "DeletePolicy") return delete_policy(params);
  if (action == "AttachRolePolicy") return attach_role_policy(params);
  if (action == "DetachRolePolicy") return detach_role_policy(params);
  if (action == "ListAttachedRolePolicies") return list_attached_role_policies(params);
  if (action == "SimulatePrincipalPolicy") return simulate_principal_policy(params);
  return aws_error("InvalidAction",
                   fmt::format("Could not find operation {} for version 2010-05-08", action));
}

// ---- OIDC providers ----

absl::StatusOr<std::string> IamService::create_oidc_provider(const QueryParams& params) {
  WIMS_ASSIGN_OR_RETURN(std::string url, params.required("Url"));
  std::optional<std::string> provider_url = oidc_provider_url(url);
  if (url.size() > 255 || !provider_url.has_value() || provider_url->empty()) {
    return validation_error("url", url, "Member must be an https:// URL of at most 255 characters");
  }
  std::vector<std::string> client_ids = params.members("ClientIDList");
  std::vector<std::string> thumbprints = params.members("ThumbprintList");
  if (client_ids.size() > 100) {
    return aws_error("LimitExceeded",
                     "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: 100");
  }
  for (const std::string& id : client_ids) {
    if (id.empty() || id.size() > 255) {
      return validation_error("clientIDList", id, "Member must have length between 1 and 255");
    }
  }
  if (thumbprints.size() > 5) {
    return aws_error("LimitExceeded", "Thumbprint list must contain fewer than 5 entries.");
  }
  for (const std::string& t : thumbprints) {
    if (t.size() != 40 || !std::all_of(t.begin(), t.end(), [](char c) {
          return std::isxdigit(static_cast<unsigned char>(c));
        })) {
      return validation_error("thumbprintList", t,
                              "Member must have length equal to 40 hexadecimal characters");
    }
  }
  OidcProviderRecord record;
  record.url = *std::move(provider_url);
  record.arn = fmt::format("arn:aws:iam::{}:oidc-provider/{}", account_id_, record.url);
  record.client_ids = std::move(client_ids);
  record.thumbprints = std::move(thumbprints);
  record.create_date = clock_.now();
  WIMS_ASSIGN_OR_RETURN(auto existing, repository_.find_oidc_provider(record.arn));
  if (existing.has_value()) {
    return aws_error("EntityAlreadyExists",
                     fmt::format("Provider with url {} already exists.", url));
  }
  WIMS_RETURN_IF_ERROR(repository_.put_oidc_provider(record));
  return xml_element("OpenIDConnectProviderArn", record.arn);
}

absl::StatusOr<std::string> IamService::get_oidc_provider(const QueryParams& params) {
  WIMS_ASSIGN_OR_RETURN(std::string arn, params.required("OpenIDConnectProviderArn"));
  WIMS_ASSIGN_OR_RETURN(auto provider, repository_.find_oidc_provider(arn));
  if (!provider.has_value()) {
    return aws_error("NoSuchEntity",
                     fmt::format("OpenIDConnect Provider not found for arn {}", arn));
  }
  std::string xml = xml_element("Url", provider->url);
  xml += "<ClientIDList>" + members_xml(provider->client_ids) + "</ClientIDList>";
  xml += "<ThumbprintList>" + members_xml(provider->thumbprints) + "</ThumbprintList>";
  xml += xml_element("CreateDate", xml_timestamp(provider->create_date));
  xml += "<Tags/>";
  return xml;
}

absl::StatusOr<std::string> IamService::list_oidc_providers(const QueryParams&) {
  WIMS_ASSIGN_OR_RETURN(auto providers, repository_.list_oidc_providers());
  std::string xml = "<OpenIDConnectProviderList>";
  for (const OidcProviderRecord& p : providers)
    xml += "<member>" + xml_element("Arn", p.arn) + "</member>";
  xml += "</OpenIDConnectProviderList>";
  return xml;
}

absl::StatusOr<std::string> IamService::delete_oidc_provider(const QueryParams& params) {
  WIMS_ASSIGN_OR_RETURN(std::string arn, params.required("OpenIDConnectProviderArn"));
  WIMS_ASSIGN_OR_RETURN(auto provider, repository_.find_oidc_provider(arn));
  if (!provider.has_value()) {
    return aws_error("NoSuchEntity",
                     fmt::format("OpenIDConnect Provider not found for arn {}", arn));
  }
  WIMS_RETURN_IF_ERROR(repository_.erase_oidc_provider(arn));
  return std::string();
}

// ---- roles ----

absl::StatusOr<RoleRecord> IamService::require_role(std::string_view name) {
  WIMS_ASSIGN_OR_RETURN(auto role, repository_.find_role(name));
  if (!role.has_value()) {
    return aws_error("NoSuchEntity", fmt::format("The role with name {} cannot be found.", name));
  }
  return *std::move(role);
}

absl::StatusOr<std::string> IamService::create_role(const QueryParams& params) {
  WIMS_ASSIGN_OR_RETURN(std::string name, params.required("RoleName"));
  WIMS_RETURN_IF_ERROR(validate_name("roleName", name, 64));
  WIMS_ASSIGN_OR_RETURN(std::string trust, params.required("AssumeRolePolicyDocument"));
  RoleRecord role;
  role.name = name;
  role.path = params.get("Path").value_or("/");
  WIMS_RETURN_IF_ERROR(validate_path(role.path));
  role.description = params.get("Description").value_or("");
  if (role.description.size() > 1000) {
    return validation_error("description", role.description,
                            "Member must have length less than or equal to 1000");
  }
  if (std::optional<std::string> max = params.get("MaxSessionDuration")) {
    WIMS_ASSIGN_OR_RETURN(role.max_session_duration, parse_int("maxSessionDuration", *max));
    if (role.max_session_duration < kMinRoleSessionDuration) {
      return validation_error("maxSessionDuration", *max,
                              "Member must have value greater than or equal to 3600");
    }
    if (role.max_session_duration > kMaxRoleSessionDuration) {
      return validation_error("maxSessionDuration", *max,
                              "Member must have value less than or equal to 43200");
    }
  }
  WIMS_RETURN_IF_ERROR(parse_policy_document(trust, PolicyKind::kTrust).status());
  if (policy_size_without_whitespace(trust) > kMaxTrustPolicyChars) {
    return aws_error("LimitExceeded", fmt::format("Cannot exceed quota for ACLSizePerRole: {}",
                                                  kMaxTrustPolicyChars));
  }
  WIMS_ASSIGN_OR_RETURN(auto existing, repository_.find_role(name));
  if (existing.has_value()) {
    return aws_error("EntityAlreadyExists", fmt::format("Role with name {} already exists.", name));
  }
  role.assume_role_policy_document = std::move(trust);
  role.role_id = "AROA" + random_upper_id(17);
  role.arn = fmt::format("arn:aws:iam::{}:role{}{}", account_id_, role.path, role.name);
  role.create_date = clock_.now();
  WIMS_RETURN_IF_ERROR(repository_.put_role(role));
  return role_xml(role);
}

absl::StatusOr<std::string> IamService::get_role(const QueryParams& params) {
  WIMS_ASSIGN_OR_RETURN(std::string name, params.required("RoleName"));
  WIMS_ASSIGN_OR_RETURN(RoleRecord role, require_role(name));
  return role_xml(role);
}

absl::StatusOr<std::string> IamService::list_roles(const QueryParams& params) {
  std::string prefix = params.get("PathPrefix").value_or("/");
  WIMS_ASSIGN_OR_RETURN(auto roles, repository_.list_roles());
  std::string xml = "<IsTruncated>false</IsTruncated><Roles>";
  for (const RoleRecord& role : roles) {
    if (role.path.starts_with(prefix)) xml += role_member_xml(role);
  }
  xml += "</Roles>";
  return xml;
}

absl::StatusOr<std::string> IamService::delete_role(const QueryParams& params) {
  WIMS_ASSIGN_OR_RETURN(std::string name, params.required("RoleName"));
  WIMS_ASSIGN_OR_RETURN(RoleRecord role, require_role(name));
  if (!role.attached_policy_arns.empty()) {
    return aws_error("DeleteConflict", "Cannot delete entity, must detach all policies first.");
  }
  WIMS_RETURN_IF_ERROR(repository_.erase_role(name));
  return std::string();
}

absl::StatusOr<std::string> IamService::update_assume_role_policy(const QueryParams& params) {
  WIMS_ASSIGN_OR_RETURN(std::string name, params.required("RoleName"));
  WIMS_ASSIGN_OR_RETURN(std::string trust, params.required("PolicyDocument"));
  WIMS_ASSIGN_OR_RETURN(RoleRecord role, require_role(name));
  WIMS_RETURN_IF_ERROR(parse_policy_document(trust, PolicyKind::kTrust).status());
  if (policy_size_without_whitespace(trust) > kMaxTrustPolicyChars) {
    return aws_error("LimitExceeded", fmt::format("Cannot exceed quota for ACLSizePerRole: {}",
                                                  kMaxTrustPolicyChars));
  }
  role.assume_role_policy_document = std::move(trust);
  WIMS_RETURN_IF_ERROR(repository_.put_role(role));
  return std::string();
}

// ---- managed policies ----

absl::StatusOr<ManagedPolicyRecord> IamService::require_policy(std::string_view arn) {
  if (const ManagedPolicyRecord* builtin = find_aws_managed_policy(arn)) return *builtin;
  WIMS_ASSIGN_OR_RETURN(auto policy, repository_.find_policy(arn));
  if (!policy.has_value()) {
    return aws_error("NoSuchEntity",
                     fmt::format("Policy {} does not exist or is not attachable.", arn));
  }
  return *std::move(policy);
}

absl::StatusOr<size_t> IamService::attachment_count(std::string_view policy_arn) {
  WIMS_ASSIGN_OR_RETURN(auto roles, repository_.list_roles());
  size_t n = 0;
  for (const RoleRecord& role : roles) {
    n += std::count(role.attached_policy_arns.begin(), role.attached_policy_arns.end(), policy_arn);
  }
  return n;
}

absl::StatusOr<std::string> IamService::policy_xml(const ManagedPolicyRecord& p) {
  WIMS_ASSIGN_OR_RETURN(size_t attachments, attachment_count(p.arn));
  std::string xml = xml_element("PolicyName", p.name);
  xml += xml_element("DefaultVersionId", p.default_version_id);
  xml += xml_element("PolicyId", p.policy_id);
  xml += xml_element("Path", p.path);
  xml += xml_element("Arn", p.arn);
  xml += xml_element("AttachmentCount", std::to_string(attachments));
  xml += xml_element("PermissionsBoundaryUsageCount", "0");
  xml += xml_element("IsAttachable", "true");
  if (!p.description.empty()) xml += xml_element("Description", p.description);
  xml += xml_element("CreateDate", xml_timestamp(p.create_date));
  xml += xml_element("UpdateDate", xml_timestamp(p.update_date));
  return xml;
}

absl::StatusOr<std::string> IamService::create_policy(const QueryParams& params) {
  WIMS_ASSIGN_OR_RETURN(std::string name, params.required("PolicyName"));
  WIMS_RETURN_IF_ERROR(validate_name("policyName", name, 128));
  WIMS_ASSIGN_OR_RETURN(std::string document, params.required("PolicyDocument"));
  ManagedPolicyRecord policy;
  policy.name = name;
  policy.path = params.get("Path").value_or("/");
  WIMS_RETURN_IF_ERROR(validate_path(policy.path));
  policy.description = params.get("Description").value_or("");
  WIMS_RETURN_IF_ERROR(parse_policy_document(document, PolicyKind::kIdentity).status());
  if (policy_size_without_whitespace(document) > kMaxManagedPolicyChars) {
    return aws_error("LimitExceeded",
                     fmt::format("Cannot exceed quota for PolicySize: {}", kMaxManagedPolicyChars));
  }
  policy.arn = fmt::format("arn:aws:iam::{}:policy{}{}", account_id_, policy.path, policy.name);
  WIMS_ASSIGN_OR_RETURN(auto all, repository_.list_policies());
  for (const ManagedPolicyRecord& p : all) {
    if (p.name == name) {
      return aws_error(
          "EntityAlreadyExists",
          fmt::format("A policy called {} already exists. Duplicate names are not allowed.", name));
    }
  }
  policy.document = std::move(document);
  policy.policy_id = "ANPA" + random_upper_id(17);
  policy.create_date = policy.update_date = clock_.now();
  WIMS_RETURN_IF_ERROR(repository_.put_policy(policy));
  WIMS_ASSIGN_OR_RETURN(std::string xml, policy_xml(policy));
  return "<Policy>" + xml + "</Policy>";
}

absl::StatusOr<std::string> IamService::get_policy(const QueryParams& params) {
  WIMS_ASSIGN_OR_RETURN(std::string arn, params.required("PolicyArn"));
  WIMS_ASSIGN_OR_RETURN(ManagedPolicyRecord policy, require_policy(arn));
  WIMS_ASSIGN_OR_RETURN(std::string xml, policy_xml(policy));
  return "<Policy>" + xml + "</Policy>";
}

absl::StatusOr<std::string> IamService::get_policy_version(const QueryParams& params) {
  WIMS_ASSIGN_OR_RETURN(std::string arn, params.required("PolicyArn"));
  WIMS_ASSIGN_OR_RETURN(std::string version, params.required("VersionId"));
  WIMS_ASSIGN_OR_RETURN(ManagedPolicyRecord policy, require_policy(arn));
  if (version != policy.default_version_id) {
    return aws_error(
        "NoSuchEntity",
        fmt::format("Policy {} version {} does not exist or is not attachable.", arn, version));
  }
  std::string xml = "<PolicyVersion>";
  xml += xml_element("Document", url_encode_policy(policy.document));
  xml += xml_element("VersionId", policy.default_version_id);
  xml += xml_element("IsDefaultVersion", "true");
  xml += xml_element("CreateDate", xml_timestamp(policy.update_date));
  xml += "</PolicyVersion>";
  return xml;
}

absl::StatusOr<std::string> IamService::list_policies(const QueryParams& params) {
  std::string scope = params.get("Scope").value_or("All");
  if (scope != "All" && scope != "AWS" && scope != "Local") {
    return validation_error("scope", scope,
                            "Member must satisfy enum value set: [All, AWS, Local]");
  }
  bool only_attached = parse_bool(params.get("OnlyAttached"));
  std::string prefix = params.get("PathPrefix").value_or("/");
  std::vector<ManagedPolicyRecord> policies;
  if (scope != "Local") policies = aws_managed_policies();
  if (scope != "AWS") {
    WIMS_ASSIGN_OR_RETURN(auto local, repository_.list_policies());
    policies.insert(policies.end(), local.begin(), local.end());
  }
  std::string xml = "<IsTruncated>false</IsTruncated><Policies>";
  for (const ManagedPolicyRecord& p : policies) {
    if (!p.path.starts_with(prefix)) continue;
    if (only_attached) {
      WIMS_ASSIGN_OR_RETURN(size_t n, attachment_count(p.arn));
      if (n == 0) continue;
    }
    WIMS_ASSIGN_OR_RETURN(std::string member, policy_xml(p));
    xml += "<member>" + member + "</member>";
  }
  xml += "</Policies>";
  return xml;
}

absl::StatusOr<std::string> IamService::delete_policy(const QueryParams& params) {
  WIMS_ASSIGN_OR_RETURN(std::string arn, params.required("PolicyArn"));
  if (find_aws_managed_policy(arn) != nullptr) {
    return aws_error("AccessDenied", fmt::format("AWS-managed policy {} cannot be deleted.", arn));
  }
  WIMS_ASSIGN_OR_RETURN(ManagedPolicyRecord policy, require_policy(arn));
  WIMS_ASSIGN_OR_RETURN(size_t n, attachment_count(arn));
  if (n > 0) return aws_error("DeleteConflict", "Cannot delete a policy attached to entities.");
  WIMS_RETURN_IF_ERROR(repository_.erase_policy(arn));
  return std::string();
}

absl::StatusOr<std::string> IamService::attach_role_policy(const QueryParams& params) {
  WIMS_ASSIGN_OR_RETURN(std::string name, params.required("RoleName"));
  WIMS_ASSIGN_OR_RETURN(std::string arn, params.required("PolicyArn"));
  if (!arn.starts_with("arn:"))
    return aws_error("InvalidInput", fmt::format("ARN {} is not valid.", arn));
  WIMS_ASSIGN_OR_RETURN(RoleRecord role, require_role(name));
  WIMS_ASSIGN_OR_RETURN(ManagedPolicyRecord policy, require_policy(arn));
  if (std::find(role.attached_policy_arns.begin(), role.attached_policy_arns.end(), arn) ==
      role.attached_policy_arns.end()) {
    if (role.attached_policy_arns.size() >= 20) {
      return aws_error("LimitExceeded", "Cannot exceed quota for PoliciesPerRole: 20");
    }
    role.attached_policy_arns.push_back(arn);
    WIMS_RETURN_IF_ERROR(repository_.put_role(role));
  }
  return std::string();
}

absl::StatusOr<std::string> IamService::detach_role_policy(const QueryParams& params) {
  WIMS_ASSIGN_OR_RETURN(std::string name, params.required("RoleName"));
  WIMS_ASSIGN_OR_RETURN(std::string arn, params.required("PolicyArn"));
  WIMS_ASSIGN_OR_RETURN(RoleRecord role, require_role(name));
  auto it = std::find(role.attached_policy_arns.begin(), role.attached_policy_arns.end(), arn);
  if (it == role.attached_policy_arns.end()) {
    return aws_error("NoSuchEntity", fmt::format("Policy {} was not found.", arn));
  }
  role.attached_policy_arns.erase(it);
  WIMS_RETURN_IF_ERROR(repository_.put_role(role));
  return std::string();
}

absl::StatusOr<std::string> IamService::list_attached_role_policies(const QueryParams& params) {
  WIMS_ASSIGN_OR_RETURN(std::string name, params.required("RoleName"));
  std::string prefix = params.get("PathPrefix").value_or("/");
  WIMS_ASSIGN_OR_RETURN(RoleRecord role, require_role(name));
  std::string xml = "<IsTruncated>false</IsTruncated><AttachedPolicies>";
  for (const std::string& arn : role.attached_policy_arns) {
    absl::StatusOr<ManagedPolicyRecord> policy = require_policy(arn);
    if (!policy.ok() || !policy->path.starts_with(prefix))
      continue;  // deleted under us: not listed
    xml += "<member>" + xml_element("PolicyName", policy->name) + xml_element("PolicyArn", arn) +
           "</member>";
  }
  xml += "</AttachedPolicies>";
  return xml;
}

// ---- simulation ----

absl::StatusOr<std::string> IamService::simulate_principal_policy(const QueryParams& params) {
  WIMS_ASSIGN_OR_RETURN(std::string source, params.required("PolicySourceArn"));
  std::vector<std::string> actions = params.members("ActionNames");
  if (actions.empty()) {
    return aws_error(
        "ValidationError",
        "1 validation error detected: Value null at 'actionNames' failed to satisfy constraint: "
        "Member must not be null");
  }
  std::string role_prefix = fmt::format("arn:aws:iam::{}:role/", account_id_);
  if (!source.starts_with(role_prefix)) {
    return aws_error("NoSuchEntity", fmt::format("Entity {} does not exist.", source));
  }
  std::string role_name = source.substr(source.rfind('/') + 1);
  WIMS_ASSIGN_OR_RETURN(RoleRecord role, require_role(role_name));
  if (role.arn != source)
    return aws_error("NoSuchEntity", fmt::format("Entity {} does not exist.", source));

  std::vector<PolicyDocument> documents;
  std::vector<std::pair<std::string, std::string>> ids;  // (SourcePolicyId, SourcePolicyType)
  for (const std::string& arn : role.attached_policy_arns) {
    absl::StatusOr<ManagedPolicyRecord> policy = require_policy(arn);
    if (!policy.ok()) continue;
    WIMS_ASSIGN_OR_RETURN(PolicyDocument doc,
                          parse_policy_document(policy->document, PolicyKind::kIdentity));
    documents.push_back(std::move(doc));
    ids.emplace_back(policy->name, policy->aws_managed ? "aws-managed" : "user-managed");
  }
  std::vector<std::string> inputs = params.members("PolicyInputList");
  for (size_t i = 0; i < inputs.size(); ++i) {
    WIMS_ASSIGN_OR_RETURN(PolicyDocument doc,
                          parse_policy_document(inputs[i], PolicyKind::kIdentity));
    documents.push_back(std::move(doc));
    ids.emplace_back(fmt::format("PolicyInputList.{}", i + 1), "none");
  }
  std::vector<NamedPolicy> policies;
  for (size_t i = 0; i < documents.size(); ++i) policies.push_back({ids[i].first, &documents[i]});

  RequestContext base;
  for (const auto& entry : params.member_structs("ContextEntries")) {
    auto key = entry.find("ContextKeyName");
    if (key == entry.end()) continue;
    std::vector<std::string> values;
    for (int i = 1;; ++i) {
      auto v = entry.find(fmt::format("ContextKeyValues.member.{}", i));
      if (v == entry.end()) break;
      values.push_back(v->second);
    }
    base.set(key->second, std::move(values));
  }
  std::vector<std::string> resources = params.members("ResourceArns");
  if (resources.empty()) resources.push_back("*");

  std::string xml = "<IsTruncated>false</IsTruncated><EvaluationResults>";
  for (const std::string& action : actions) {
    for (const std::string& resource : resources) {
      RequestContext ctx = base;
      ctx.action = action;
      ctx.resource = resource;
      EvaluationResult result = evaluate_policies(policies, ctx);
      xml += "<member>";
      xml += xml_element("EvalActionName", action);
      xml += xml_element("EvalResourceName", resource);
      xml += xml_element("EvalDecision", eval_decision_name(result.decision));
      xml += "<MatchedStatements>";
      for (const MatchedStatement& m : result.matched) {
        std::string type = "none";
        for (const auto& [id, t] : ids) {
          if (id == m.policy_id) type = t;
        }
        xml += "<member>" + xml_element("SourcePolicyId", m.policy_id) +
               xml_element("SourcePolicyType", type) + "</member>";
      }
      xml += "</MatchedStatements><MissingContextValues/>";
      xml += "</member>";
    }
  }
  xml += "</EvaluationResults>";
  return xml;
}

}  // namespace wims::aws
