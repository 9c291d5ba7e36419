#include "iam/roles.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace wims::iam {
namespace {

struct GrantCase {
  std::string role;
  std::string permission;
  bool granted;
};

TEST(RolesTest, PredefinedRolesGrantTheirPermissions) {
  const std::vector<GrantCase> cases = {
      {"roles/iam.workloadIdentityUser", "iam.serviceAccounts.getAccessToken", true},
      {"roles/iam.workloadIdentityUser", "iam.serviceAccounts.getOpenIdToken", true},
      {"roles/iam.workloadIdentityUser", "iam.serviceAccounts.signBlob", false},
      {"roles/iam.serviceAccountTokenCreator", "iam.serviceAccounts.getAccessToken", true},
      {"roles/iam.serviceAccountTokenCreator", "iam.serviceAccounts.getOpenIdToken", true},
      {"roles/iam.serviceAccountTokenCreator", "iam.serviceAccounts.signBlob", true},
      {"roles/iam.serviceAccountTokenCreator", "iam.serviceAccounts.signJwt", true},
      {"roles/iam.serviceAccountTokenCreator", "iam.serviceAccounts.implicitDelegation", true},
      {"roles/iam.serviceAccountOpenIdTokenCreator", "iam.serviceAccounts.getOpenIdToken", true},
      {"roles/iam.serviceAccountOpenIdTokenCreator", "iam.serviceAccounts.getAccessToken", false},
      {"roles/storage.objectViewer", "storage.objects.get", true},
      {"roles/storage.objectViewer", "storage.objects.list", true},
      {"roles/storage.objectViewer", "storage.objects.create", false},
      {"roles/storage.objectCreator", "storage.objects.create", true},
      {"roles/storage.objectCreator", "storage.objects.get", false},
      {"roles/storage.objectAdmin", "storage.objects.delete", true},
      {"roles/storage.objectAdmin", "storage.buckets.delete", false},
      {"roles/storage.admin", "storage.buckets.setIamPolicy", true},
      {"roles/storage.admin", "storage.objects.get", true},
      {"roles/storage.legacyBucketReader", "storage.buckets.get", true},
      {"roles/storage.legacyBucketReader", "storage.objects.list", true},
      {"roles/storage.legacyBucketReader", "storage.objects.get", false},
      {"roles/owner", "iam.serviceAccounts.getAccessToken", true},
      {"roles/owner", "storage.buckets.setIamPolicy", true},
      {"roles/editor", "storage.objects.create", true},
      {"roles/editor", "storage.buckets.setIamPolicy", false},
      {"roles/editor", "iam.serviceAccounts.getAccessToken", false},
      {"roles/viewer", "storage.buckets.list", true},
      {"roles/viewer", "storage.objects.get", false},
      {"roles/viewer", "storage.objects.create", false},
      {"roles/unknown", "storage.objects.get", false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.role + " " + c.permission);
    EXPECT_EQ(role_grants(c.role, c.permission), c.granted);
  }
}

TEST(RolesTest, CatalogLookups) {
  ASSERT_NE(find_role("roles/storage.objectViewer"), nullptr);
  EXPECT_EQ(find_role("roles/storage.objectViewer")->title, "Storage Object Viewer");
  EXPECT_EQ(find_role("roles/storage.objectviewer"), nullptr);
  EXPECT_EQ(find_role("roles/custom"), nullptr);
  EXPECT_TRUE(is_basic_role("roles/owner"));
  EXPECT_TRUE(is_basic_role("roles/editor"));
  EXPECT_TRUE(is_basic_role("roles/viewer"));
  EXPECT_FALSE(is_basic_role("roles/storage.admin"));
  EXPECT_TRUE(is_known_permission("iam.serviceAccounts.getAccessToken"));
  EXPECT_FALSE(is_known_permission("iam.serviceAccounts.*"));
  EXPECT_GE(all_roles().size(), 12u);
  for (size_t i = 1; i < all_roles().size(); ++i)
    EXPECT_LT(all_roles()[i - 1].name, all_roles()[i].name);
}

}  // namespace
}  // namespace wims::iam
