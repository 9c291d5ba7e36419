#include "iam/roles.h"

#include <algorithm>
#include <set>

namespace wims::iam {
namespace {

constexpr std::string_view kOwner = "roles/owner";
constexpr std::string_view kEditor = "roles/editor";
constexpr std::string_view kViewer = "roles/viewer";

const std::vector<std::string> kServiceAccountTokenPermissions = {
    "iam.serviceAccounts.getAccessToken", "iam.serviceAccounts.getOpenIdToken",
    "iam.serviceAccounts.signBlob", "iam.serviceAccounts.signJwt",
    "iam.serviceAccounts.implicitDelegation"};

std::vector<std::string> with_prefix(std::string_view prefix,
                                     std::initializer_list<std::string_view> verbs) {
  std::vector<std::string> out;
  for (auto v : verbs) out.push_back(std::string(prefix) + std::string(v));
  return out;
}

std::vector<std::string> concat(std::vector<std::vector<std::string>> parts) {
  std::set<std::string> all;
  for (auto& p : parts) all.insert(p.begin(), p.end());
  return {all.begin(), all.end()};
}

std::vector<Role> build_roles() {
  const auto sa_admin = with_prefix(
      "iam.serviceAccounts.",
      {"actAs", "create", "delete", "get", "list", "update", "getIamPolicy", "setIamPolicy"});
  const auto buckets = with_prefix("storage.buckets.", {"create", "delete", "get", "list", "update",
                                                        "getIamPolicy", "setIamPolicy"});
  const auto objects = with_prefix("storage.objects.", {"create", "delete", "get", "list", "update",
                                                        "getIamPolicy", "setIamPolicy"});
  const auto projects =
      with_prefix("resourcemanager.projects.", {"get", "getIamPolicy", "setIamPolicy"});
  const auto everything =
      concat({sa_admin, kServiceAccountTokenPermissions, buckets, objects, projects});

  std::vector<std::string> editor;
  for (const auto& p : everything) {
    bool excluded =
        p.ends_with(".setIamPolicy") ||
        std::find(kServiceAccountTokenPermissions.begin(), kServiceAccountTokenPermissions.end(),
                  p) != kServiceAccountTokenPermissions.end();
    if (!excluded) editor.push_back(p);
  }

  std::vector<Role> roles = {
      {std::string(kOwner), "Owner", everything},
      {std::string(kEditor), "Editor", editor},
      {std::string(kViewer), "Viewer",
       concat({{"resourcemanager.projects.get", "resourcemanager.projects.getIamPolicy"},
               {"iam.serviceAccounts.get", "iam.serviceAccounts.list",
                "iam.serviceAccounts.getIamPolicy"},
               {"storage.buckets.get", "storage.buckets.list", "storage.buckets.getIamPolicy"}})},
      {"roles/iam.workloadIdentityUser", "Workload Identity User",
       concat({{"iam.serviceAccounts.getAccessToken", "iam.serviceAccounts.getOpenIdToken"}})},
      {"roles/iam.serviceAccountTokenCreator", "Service Account Token Creator",
       concat({kServiceAccountTokenPermissions})},
      {"roles/iam.serviceAccountOpenIdTokenCreator",
       "Service Account OpenID Connect Identity Token Creator",
       {"iam.serviceAccounts.getOpenIdToken"}},
      {"roles/iam.serviceAccountUser", "Service Account User",
       concat(
           {{"iam.serviceAccounts.actAs", "iam.serviceAccounts.get", "iam.serviceAccounts.list"}})},
      {"roles/storage.objectViewer", "Storage Object Viewer",
       concat({{"storage.objects.get", "storage.objects.list"}})},
      {"roles/storage.objectCreator", "Storage Object Creator", {"storage.objects.create"}},
      {"roles/storage.objectAdmin", "Storage Object Admin", objects},
      {"roles/storage.admin", "Storage Admin", concat({buckets, objects})},
      {"roles/storage.legacyBucketReader", "Storage Legacy Bucket Reader",
       concat({{"storage.buckets.get", "storage.objects.list"}})},
  };
  std::sort(roles.begin(), roles.end(),
            [](const Role& a, const Role& b) { return a.name < b.name; });
  return roles;
}

}  // namespace

const std::vector<Role>& all_roles() {
  static const std::vector<Role>* roles = new std::vector<Role>(build_roles());
  return *roles;
}

const std::vector<std::string>& all_permissions() {
  static const std::vector<std::string>* permissions = [] {
    std::set<std::string> all;
    for (const auto& r : all_roles()) all.insert(r.permissions.begin(), r.permissions.end());
    return new std::vector<std::string>(all.begin(), all.end());
  }();
  return *permissions;
}

const Role* find_role(std::string_view name) {
  const auto& roles = all_roles();
  auto it = std::lower_bound(roles.begin(), roles.end(), name,
                             [](const Role& r, std::string_view n) { return r.name < n; });
  if (it == roles.end() || it->name != name) return nullptr;
  return &*it;
}

bool is_basic_role(std::string_view name) {
  return name == kOwner || name == kEditor || name == kViewer;
}

bool role_grants(std::string_view role, std::string_view permission) {
  const Role* r = find_role(role);
  return r != nullptr &&
         std::binary_search(r->permissions.begin(), r->permissions.end(), permission);
}

bool is_known_permission(std::string_view permission) {
  const auto& all = all_permissions();
  return std::binary_search(all.begin(), all.end(), permission);
}

}  // namespace wims::iam
