#include "iam/authorizer.h"

#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/encoding.h"
#include "gtest/gtest.h"
#include "unit/iam/test_support.h"

namespace wims::iam {
namespace {

using testing::at;
using testing::kClusterA;
using testing::kClusterB;

constexpr char kGsaEmail[] = "demo@wims-local.iam.gserviceaccount.com";
WorkloadIdentity workload(std::string cluster, std::string ksa = "api") {
  WorkloadIdentity id;
  id.project_number = 123;
  id.pool = "p.svc.id.goog";
  id.namespace_name = "prod";
  id.service_account = std::move(ksa);
  id.cluster_url = std::move(cluster);
  return id;
}

std::shared_ptr<const AllowPolicy> policy(const std::vector<BindingSpec>& bindings) {
  auto p = AllowPolicy::create(bindings);
  EXPECT_TRUE(p.ok()) << p.status();
  return std::make_shared<const AllowPolicy>(p.ok() ? *p : AllowPolicy());
}

class AuthorizerTest : public ::testing::Test {
 protected:
  AuthorizerTest() : clock_(at("2024-01-01T00:00:00Z")), authorizer_(clock_) {
    project_ = policy({{"roles/storage.objectViewer",
                        {std::string("serviceAccount:") + kGsaEmail},
                        "until June",
                        "",
                        "request.time < timestamp('2024-06-01T00:00:00Z')"},
                       {"roles/storage.legacyBucketReader",
                        {"serviceAccount:p.svc.id.goog[prod/api]"},
                        "objects only",
                        "",
                        "resource.name.startsWith('projects/_/buckets/b/objects/')"}});
    bucket_ = policy(
        {{"roles/storage.objectCreator",
          {"principal://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/"
           "p.svc.id.goog/subject/ns/prod/sa/api"},
          "",
          "",
          ""}});
    object_.attributes.name = "projects/_/buckets/b/objects/o";
    object_.attributes.type = "storage.googleapis.com/Object";
    object_.attributes.service = "storage.googleapis.com";
    object_.chain = {{"projects/_/buckets/b", bucket_}, {"projects/wims-local", project_}};
    bucket_ref_ = object_;
    bucket_ref_.attributes.name = "projects/_/buckets/b";
    bucket_ref_.attributes.type = "storage.googleapis.com/Bucket";
  }

  FakeClock clock_;
  Authorizer authorizer_;
  std::shared_ptr<const AllowPolicy> project_, bucket_;
  ResourceRef object_, bucket_ref_;
};

TEST_F(AuthorizerTest, ProjectBindingIsInheritedByBucketObjects) {
  Decision d =
      authorizer_.check(Caller::service_account(kGsaEmail), "storage.objects.get", object_);
  EXPECT_TRUE(d.allowed) << d.reason;
  EXPECT_EQ(d.granting_resource, "projects/wims-local");
  EXPECT_EQ(d.granting_role, "roles/storage.objectViewer");
  EXPECT_EQ(d.granting_member, std::string("serviceAccount:") + kGsaEmail);
  EXPECT_EQ(d.granting_condition_title, "until June");
  EXPECT_NE(d.reason.find("granted by roles/storage.objectViewer on projects/wims-local"),
            std::string::npos);
  EXPECT_FALSE(
      authorizer_.check(Caller::service_account(kGsaEmail), "storage.objects.create", object_)
          .allowed);
}

TEST_F(AuthorizerTest, TimeConditionBeforeAndAfter) {
  clock_.set(at("2024-05-31T23:59:59Z"));
  EXPECT_TRUE(authorizer_.check(Caller::service_account(kGsaEmail), "storage.objects.get", object_)
                  .allowed);
  clock_.set(at("2024-06-01T00:00:00Z"));
  Decision d =
      authorizer_.check(Caller::service_account(kGsaEmail), "storage.objects.get", object_);
  EXPECT_FALSE(d.allowed);
  EXPECT_NE(d.reason.find("no binding grants storage.objects.get to serviceAccount:demo@"),
            std::string::npos)
      << d.reason;
  EXPECT_TRUE(authorizer_
                  .check_at(Caller::service_account(kGsaEmail), "storage.objects.get", object_,
                            at("2024-02-01T00:00:00Z"))
                  .allowed);
}

TEST_F(AuthorizerTest, BucketBindingGrantsOnlyItsRoleAndMember) {
  Caller a = Caller::workload(workload(kClusterA));
  Decision d = authorizer_.check(a, "storage.objects.create", object_);
  EXPECT_TRUE(d.allowed) << d.reason;
  EXPECT_EQ(d.granting_resource, "projects/_/buckets/b");
  EXPECT_EQ(d.granting_condition_title, "");
  EXPECT_FALSE(authorizer_.check(a, "storage.objects.get", object_).allowed);
  EXPECT_FALSE(
      authorizer_
          .check(Caller::workload(workload(kClusterA, "web")), "storage.objects.create", object_)
          .allowed);
  EXPECT_FALSE(
      authorizer_.check(Caller::service_account(kGsaEmail), "storage.objects.create", object_)
          .allowed);
}

TEST_F(AuthorizerTest, ConditionsSeeTheOriginalResourceEvenWhenInherited) {
  Caller a = Caller::workload(workload(kClusterA));
  // The project binding's condition matches the object's name, not the project's.
  Decision d = authorizer_.check(a, "storage.objects.list", object_);
  EXPECT_TRUE(d.allowed) << d.reason;
  EXPECT_EQ(d.granting_resource, "projects/wims-local");
  EXPECT_FALSE(authorizer_.check(a, "storage.objects.list", bucket_ref_).allowed);
}

TEST_F(AuthorizerTest, ConditionErrorsNeverGrantAndAreReported) {
  ResourceRef ref = object_;
  ref.chain = {{"projects/wims-local", policy({{"roles/storage.objectViewer",
                                                {std::string("serviceAccount:") + kGsaEmail},
                                                "broken",
                                                "",
                                                "timestamp(resource.name) < request.time"}})}};
  Decision d = authorizer_.check(Caller::service_account(kGsaEmail), "storage.objects.get", ref);
  EXPECT_FALSE(d.allowed);
  EXPECT_NE(d.reason.find(
                "condition 'broken' of roles/storage.objectViewer on projects/wims-local failed"),
            std::string::npos)
      << d.reason;
}

TEST_F(AuthorizerTest, WorkloadIdentityUserOnServiceAccountAcrossClusters) {
  ResourceRef gsa;
  gsa.attributes.name = std::string("projects/-/serviceAccounts/") + kGsaEmail;
  gsa.attributes.type = "iam.googleapis.com/ServiceAccount";
  gsa.attributes.service = "iam.googleapis.com";
  gsa.chain = {{gsa.attributes.name, policy({{"roles/iam.workloadIdentityUser",
                                              {"serviceAccount:p.svc.id.goog[prod/api]"},
                                              "",
                                              "",
                                              ""}})}};
  // Identity sameness: one principal in both clusters.
  EXPECT_TRUE(
      authorizer_
          .check(Caller::workload(workload(kClusterA)), "iam.serviceAccounts.getAccessToken", gsa)
          .allowed);
  EXPECT_TRUE(
      authorizer_
          .check(Caller::workload(workload(kClusterB)), "iam.serviceAccounts.getAccessToken", gsa)
          .allowed);
  EXPECT_FALSE(
      authorizer_.check(Caller::workload(workload(kClusterA)), "iam.serviceAccounts.signBlob", gsa)
          .allowed);

  // A cluster-restricting principalSet tells the clusters apart.
  gsa.chain = {
      {gsa.attributes.name,
       policy({{"roles/iam.workloadIdentityUser",
                {std::string("principalSet://iam.googleapis.com/projects/123/locations/global/"
                             "workloadIdentityPools/p.svc.id.goog/kubernetes.cluster/") +
                 kClusterA},
                "",
                "",
                ""}})}};
  EXPECT_TRUE(
      authorizer_
          .check(Caller::workload(workload(kClusterA)), "iam.serviceAccounts.getAccessToken", gsa)
          .allowed);
  EXPECT_FALSE(
      authorizer_
          .check(Caller::workload(workload(kClusterB)), "iam.serviceAccounts.getAccessToken", gsa)
          .allowed);
}

TEST_F(AuthorizerTest, AdminIsAlwaysAllowedAndAnonymousOnlyThroughAllUsers) {
  EXPECT_TRUE(authorizer_.check(Caller::admin(), "storage.buckets.setIamPolicy", object_).allowed);
  EXPECT_FALSE(authorizer_.check(Caller::anonymous(), "storage.objects.get", object_).allowed);
  ResourceRef ref = object_;
  ref.chain.push_back({"projects/_/buckets/public",
                       policy({{"roles/storage.objectViewer", {"allUsers"}, "", "", ""}})});
  EXPECT_TRUE(authorizer_.check(Caller::anonymous(), "storage.objects.get", ref).allowed);
}

TEST_F(AuthorizerTest, MissingPoliciesAndEmptyChainDeny) {
  ResourceRef ref = object_;
  ref.chain = {{"projects/_/buckets/b", nullptr}};
  EXPECT_FALSE(
      authorizer_.check(Caller::service_account(kGsaEmail), "storage.objects.get", ref).allowed);
  ref.chain.clear();
  EXPECT_FALSE(
      authorizer_.check(Caller::service_account(kGsaEmail), "storage.objects.get", ref).allowed);
}

TEST_F(AuthorizerTest, TestPermissionsReturnsTheGrantedSubsetInRequestOrder) {
  Caller a = Caller::workload(workload(kClusterA));
  std::vector<std::string> granted = authorizer_.test_permissions(
      a,
      {"storage.objects.get", "storage.objects.list", "storage.objects.create",
       "storage.objects.list", "storage.nonsense.perm"},
      object_);
  EXPECT_EQ(granted, (std::vector<std::string>{"storage.objects.list", "storage.objects.create"}));
  EXPECT_TRUE(
      authorizer_.test_permissions(Caller::anonymous(), {"storage.objects.get"}, object_).empty());
}

}  // namespace
}  // namespace wims::iam
