#include "iam/principal.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "unit/iam/test_support.h"

namespace wims::iam {
namespace {

using testing::kClusterA;
using testing::kClusterB;

constexpr char kPoolPrefix[] =
    "principal://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/"
    "p.svc.id.goog/";
constexpr char kSetPrefix[] =
    "principalSet://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/"
    "p.svc.id.goog/";
WorkloadIdentity prod_api(std::string cluster_url = kClusterA) {
  WorkloadIdentity id;
  id.project_number = 123;
  id.pool = "p.svc.id.goog";
  id.namespace_name = "prod";
  id.service_account = "api";
  id.service_account_uid = "uid-1";
  id.cluster_url = std::move(cluster_url);
  return id;
}

// Spec section 7, Google item 7.
TEST(PrincipalTest, FormatsWorkloadIdentityAsPrincipalAndLegacyMember) {
  WorkloadIdentity id = prod_api();
  EXPECT_EQ(principal_id(id),
            "principal://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/"
            "p.svc.id.goog/subject/ns/prod/sa/api");
  EXPECT_EQ(legacy_member(id), "serviceAccount:p.svc.id.goog[prod/api]");
  EXPECT_EQ(cluster_principal_set(id), std::string(kSetPrefix) + "kubernetes.cluster/" + kClusterA);
  EXPECT_EQ(namespace_principal_set(id), std::string(kSetPrefix) + "namespace/prod");
  EXPECT_EQ(Caller::workload(id).to_string(), principal_id(id));
}

TEST(PrincipalTest, SelfManagedPoolUsesKubernetesSubject) {
  WorkloadIdentity id = prod_api();
  id.pool = "my-pool";
  EXPECT_EQ(workload_subject(id), "system:serviceaccount:prod:api");
  auto m = Member::parse(
      "principal://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/my-pool/"
      "subject/"
      "system:serviceaccount:prod:api");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_TRUE(matches(*m, Caller::workload(id)));
}

struct ParseCase {
  std::string text;
  MemberKind kind;
};

TEST(PrincipalTest, ParsesAndFormatsEveryMemberForm) {
  const std::vector<ParseCase> cases = {
      {"user:alice@example.com", MemberKind::kUser},
      {"serviceAccount:demo@wims-local.iam.gserviceaccount.com", MemberKind::kServiceAccount},
      {"group:admins@example.com", MemberKind::kGroup},
      {"domain:example.com", MemberKind::kDomain},
      {"allUsers", MemberKind::kAllUsers},
      {"allAuthenticatedUsers", MemberKind::kAllAuthenticatedUsers},
      {"serviceAccount:p.svc.id.goog[prod/api]", MemberKind::kLegacyWorkloadIdentity},
      {std::string(kPoolPrefix) + "subject/ns/prod/sa/api", MemberKind::kWorkloadSubject},
      {std::string(kPoolPrefix) + "kubernetes.serviceaccount.uid/uid-1",
       MemberKind::kWorkloadServiceAccountUid},
      {std::string(kSetPrefix) + "namespace/prod", MemberKind::kWorkloadNamespace},
      {std::string(kSetPrefix) + "kubernetes.cluster/" + kClusterA, MemberKind::kWorkloadCluster},
      {std::string(kSetPrefix) + "*", MemberKind::kWorkloadPool},
      {std::string(kSetPrefix) + "group/eng", MemberKind::kWorkloadGroup},
      {std::string(kSetPrefix) + "attribute.team/blue", MemberKind::kWorkloadAttribute},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    auto m = Member::parse(c.text);
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(m->kind, c.kind);
    EXPECT_EQ(m->to_string(), c.text);
    auto again = Member::parse(m->to_string());
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *m);
  }
}

TEST(PrincipalTest, ParsedFieldsOfWorkloadForms) {
  auto legacy = Member::parse("serviceAccount:p.svc.id.goog[prod/api]");
  ASSERT_TRUE(legacy.ok());
  EXPECT_EQ(legacy->pool, "p.svc.id.goog");
  EXPECT_EQ(legacy->namespace_name, "prod");
  EXPECT_EQ(legacy->service_account, "api");
  auto cluster = Member::parse(std::string(kSetPrefix) + "kubernetes.cluster/" + kClusterA);
  ASSERT_TRUE(cluster.ok());
  EXPECT_EQ(cluster->project_number, 123);
  EXPECT_EQ(cluster->pool, "p.svc.id.goog");
  EXPECT_EQ(cluster->cluster_url, kClusterA);
}

struct PrincipalErrorCase {
  std::string text;
  std::string message_part;
};

TEST(PrincipalTest, RejectsMalformedMembersWithClearErrors) {
  const std::vector<PrincipalErrorCase> cases = {
      {"", "empty"},
      {"alice@example.com", "expected TYPE:VALUE"},
      {"robot:alice@example.com", "unknown member type 'robot'"},
      {"user:alice", "not a valid email"},
      {"user:", "not a valid email"},
      {"serviceAccount:a@b@c.com", "not a valid email"},
      {"domain:", "not a valid domain"},
      {"allusers", "expected TYPE:VALUE"},
      {"deleted:serviceAccount:x@y.com?uid=1", "deleted principals"},
      {"serviceAccount:p.svc.id.goog[prod]", "NAMESPACE/KSA"},
      {"serviceAccount:p.svc.id.goog[prod/api", "NAMESPACE/KSA"},
      {"serviceAccount:other-pool[prod/api]", "PROJECT_ID.svc.id.goog"},
      {"serviceAccount:p.svc.id.goog[Prod/api]", "not a valid namespace"},
      {"serviceAccount:p.svc.id.goog[prod/]", "not a valid service account"},
      {"principal://iam.example.com/projects/123/locations/global/workloadIdentityPools/p/subject/"
       "x",
       "iam.googleapis.com"},
      {"principal://iam.googleapis.com/projects/p/locations/global/workloadIdentityPools/p/subject/"
       "x",
       "project must be given by its number"},
      {"principal://iam.googleapis.com/projects/123/locations/us/workloadIdentityPools/p/subject/x",
       "locations/global/workloadIdentityPools"},
      {"principal://iam.googleapis.com/locations/global/workforcePools/w/subject/x", "workforce"},
      {std::string(kPoolPrefix) + "subject/", "empty subject"},
      {std::string(kPoolPrefix) + "subject/" + std::string(128, 'x'), "127"},
      {std::string(kPoolPrefix) + "namespace/prod", "subject/SUBJECT"},
      {std::string(kSetPrefix) + "subject/ns/prod/sa/api", "namespace/NS"},
      {std::string(kSetPrefix) + "namespace/Bad_NS", "not a valid namespace"},
      {std::string(kSetPrefix) + "kubernetes.cluster/https://example.com/c",
       "container.googleapis.com"},
      {std::string(kSetPrefix) +
           "kubernetes.cluster/https://container.googleapis.com/v1/projects/p/clusters/c",
       "LOCATION"},
      {std::string(kSetPrefix) + "attribute.team", "attribute.NAME/VALUE"},
      {"principal://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/"
       "p.svc.id.goog",
       "missing the identity"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    auto m = Member::parse(c.text);
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(m.status().message().find(c.message_part), std::string::npos) << m.status();
  }
}

struct MatchCase {
  std::string member;
  bool gsa;         // serviceAccount:demo@wims-local.iam.gserviceaccount.com
  bool workload_a;  // prod/api in cluster a
  bool workload_b;  // prod/api in cluster b (same pool)
  bool other_ksa;   // prod/web in cluster a
  bool admin;
  bool anonymous;
};

TEST(PrincipalTest, MatchesCallersIncludingIdentitySamenessAcrossClusters) {
  const std::string gsa = "demo@wims-local.iam.gserviceaccount.com";
  const std::vector<MatchCase> cases = {
      {"allUsers", true, true, true, true, true, true},
      {"allAuthenticatedUsers", true, true, true, true, true, false},
      {"serviceAccount:demo@wims-local.iam.gserviceaccount.com", true, false, false, false, false,
       false},
      {"serviceAccount:DEMO@wims-local.iam.gserviceaccount.com", true, false, false, false, false,
       false},
      {"serviceAccount:other@wims-local.iam.gserviceaccount.com", false, false, false, false, false,
       false},
      {"user:demo@wims-local.iam.gserviceaccount.com", false, false, false, false, false, false},
      {"group:g@example.com", false, false, false, false, false, false},
      {"domain:wims-local.iam.gserviceaccount.com", false, false, false, false, false, false},
      // The same namespace/KSA in two clusters of one pool is one principal.
      {"serviceAccount:p.svc.id.goog[prod/api]", false, true, true, false, false, false},
      {std::string(kPoolPrefix) + "subject/ns/prod/sa/api", false, true, true, false, false, false},
      {std::string(kPoolPrefix) + "subject/ns/prod/sa/web", false, false, false, true, false,
       false},
      {std::string(kPoolPrefix) + "kubernetes.serviceaccount.uid/uid-1", false, true, true, false,
       false, false},
      {std::string(kSetPrefix) + "namespace/prod", false, true, true, true, false, false},
      {std::string(kSetPrefix) + "namespace/dev", false, false, false, false, false, false},
      // Only the cluster principalSet tells the two clusters apart.
      {std::string(kSetPrefix) + "kubernetes.cluster/" + kClusterA, false, true, false, true, false,
       false},
      {std::string(kSetPrefix) + "kubernetes.cluster/" + kClusterB, false, false, true, false,
       false, false},
      {std::string(kSetPrefix) + "*", false, true, true, true, false, false},
      {"principalSet://iam.googleapis.com/projects/999/locations/global/workloadIdentityPools/"
       "p.svc.id.goog/*",
       false, false, false, false, false, false},
      {"principalSet://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/"
       "q.svc.id.goog/*",
       false, false, false, false, false, false},
      {std::string(kSetPrefix) + "group/eng", false, false, false, false, false, false},
  };
  WorkloadIdentity other = prod_api();
  other.service_account = "web";
  other.service_account_uid = "uid-2";
  for (const auto& c : cases) {
    SCOPED_TRACE(c.member);
    auto m = Member::parse(c.member);
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(matches(*m, Caller::service_account(gsa)), c.gsa);
    EXPECT_EQ(matches(*m, Caller::workload(prod_api(kClusterA))), c.workload_a);
    EXPECT_EQ(matches(*m, Caller::workload(prod_api(kClusterB))), c.workload_b);
    EXPECT_EQ(matches(*m, Caller::workload(other)), c.other_ksa);
    EXPECT_EQ(matches(*m, Caller::admin()), c.admin);
    EXPECT_EQ(matches(*m, Caller::anonymous()), c.anonymous);
  }
}

TEST(PrincipalTest, PrincipalIdOfIdentityMatchesItsOwnParsedForm) {
  WorkloadIdentity id = prod_api();
  for (const std::string& text : {principal_id(id), legacy_member(id), cluster_principal_set(id),
                                  namespace_principal_set(id)}) {
    SCOPED_TRACE(text);
    auto m = Member::parse(text);
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_TRUE(matches(*m, Caller::workload(id)));
  }
}

}  // namespace
}  // namespace wims::iam
