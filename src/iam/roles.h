// The predefined IAM roles wims knows and the permissions each grants: the basic roles
// (roles/owner, roles/editor, roles/viewer), the IAM service-account roles
// (roles/iam.workloadIdentityUser, roles/iam.serviceAccountTokenCreator,
// roles/iam.serviceAccountOpenIdTokenCreator, roles/iam.serviceAccountUser) and the Cloud Storage
// roles (roles/storage.objectViewer, objectCreator, objectAdmin, admin, legacyBucketReader). A
// policy naming any other role is rejected when it is set.
//
// The permission sets of the predefined roles follow Google's role reference for the permissions
// wims implements; the basic roles are approximations (owner: everything; editor: everything except
// *.setIamPolicy and token minting; viewer: get/list/getIamPolicy, no object data).
//
// A static, immutable catalog; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace wims::iam {

struct Role {
  std::string name;                      // "roles/storage.objectViewer"
  std::string title;                     // "Storage Object Viewer"
  std::vector<std::string> permissions;  // sorted
};

// The role, or nullptr when wims does not know it.
const Role* find_role(std::string_view name);

// roles/owner, roles/editor, roles/viewer (no IAM Conditions allowed on these).
bool is_basic_role(std::string_view name);

// Whether `role` (a known role name) grants `permission`. False for unknown roles.
bool role_grants(std::string_view role, std::string_view permission);

// Every role wims knows, sorted by name.
const std::vector<Role>& all_roles();

// Every permission some role grants, sorted ("iam.serviceAccounts.getAccessToken", ...).
const std::vector<std::string>& all_permissions();
bool is_known_permission(std::string_view permission);

}  // namespace wims::iam
