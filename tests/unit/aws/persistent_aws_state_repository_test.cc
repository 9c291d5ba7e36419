#include "aws/persistent_aws_state_repository.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>

#include "aws/iam_service.h"
#include "common/clock.h"
#include "unit/aws/query_test_support.h"

namespace wims::aws {
namespace {

using testing::kAccount;
using testing::params;

constexpr char kRepoProviderArn[] =
    "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/ABC";
constexpr char kRepoTrust[] =
    R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/ABC"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"oidc.eks.us-west-2.amazonaws.com/id/ABC:aud":"sts.amazonaws.com"}}}]})";
constexpr char kPolicy[] =
    R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:AssignIpv6Addresses","Resource":"*"}]})";
const absl::Time kNow = absl::FromUnixSeconds(1700000000) + absl::Nanoseconds(123456789);

class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "/aws_state_XXXXXX";
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

OidcProviderRecord provider() {
  return {.arn = kRepoProviderArn,
          .url = "oidc.eks.us-west-2.amazonaws.com/id/ABC",
          .client_ids = {"sts.amazonaws.com", "other"},
          .thumbprints = {"9e99a48a9960b14926bb7f3b02e22da2b0ab7280"},
          .create_date = kNow};
}

RoleRecord role() {
  return {.name = "AmazonEKSVPCCNIRole",
          .path = "/eks/",
          .role_id = "AROAEXAMPLE",
          .arn = "arn:aws:iam::111122223333:role/eks/AmazonEKSVPCCNIRole",
          .assume_role_policy_document = kRepoTrust,
          .description = "CNI \"role\"",
          .max_session_duration = 7200,
          .create_date = kNow,
          .attached_policy_arns = {"arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
                                   "arn:aws:iam::111122223333:policy/AmazonEKS_CNI_IPv6_Policy"}};
}

ManagedPolicyRecord policy() {
  return {.name = "AmazonEKS_CNI_IPv6_Policy",
          .path = "/",
          .policy_id = "ANPAEXAMPLE",
          .arn = "arn:aws:iam::111122223333:policy/AmazonEKS_CNI_IPv6_Policy",
          .description = "ipv6",
          .document = kPolicy,
          .default_version_id = "v1",
          .create_date = kNow,
          .update_date = kNow + absl::Seconds(5),
          .aws_managed = false};
}

SessionCredentialsRecord session(std::string id, absl::Time expiration) {
  return {.access_key_id = std::move(id),
          .secret_access_key = "secret",
          .session_token = "token",
          .expiration = expiration,
          .assumed_role_arn = "arn:aws:sts::111122223333:assumed-role/AmazonEKSVPCCNIRole/s1",
          .assumed_role_id = "AROAEXAMPLE:s1",
          .account_id = kAccount};
}

class PersistentAwsStateRepositoryTest : public ::testing::Test {
 protected:
  std::unique_ptr<store::StateStore> open_store() {
    absl::StatusOr<std::unique_ptr<store::StateStore>> store = store::StateStore::open(dir_.path());
    EXPECT_TRUE(store.ok()) << store.status();
    return std::move(store).value();
  }
  std::unique_ptr<PersistentAwsStateRepository> open_repository(
      store::StateStore& store, absl::Time now = kNow,
      PersistentAwsStateRepositoryOptions options = {}) {
    auto repository = PersistentAwsStateRepository::open(store, now, options);
    EXPECT_TRUE(repository.ok()) << repository.status();
    return std::move(repository).value();
  }

  TempDir dir_;
};

TEST_F(PersistentAwsStateRepositoryTest, ReopenKeepsEveryFieldOfProvidersRolesPoliciesAndSessions) {
  {
    auto store = open_store();
    auto repository = open_repository(*store);
    ASSERT_TRUE(repository->put_oidc_provider(provider()).ok());
    ASSERT_TRUE(repository->put_role(role()).ok());
    ASSERT_TRUE(repository->put_policy(policy()).ok());
    ASSERT_TRUE(repository->put_session(session("ASIALIVE", kNow + absl::Hours(1))).ok());
    repository->stop();
    EXPECT_EQ(repository->write_errors(), 0u);
  }
  auto store = open_store();
  auto repository = open_repository(*store);

  auto p = repository->find_oidc_provider(kRepoProviderArn);
  ASSERT_TRUE(p.ok() && p->has_value());
  EXPECT_EQ((*p)->url, provider().url);
  EXPECT_EQ((*p)->client_ids, provider().client_ids);
  EXPECT_EQ((*p)->thumbprints, provider().thumbprints);
  EXPECT_EQ((*p)->create_date, kNow);  // nanoseconds survive

  auto r = repository->find_role("AmazonEKSVPCCNIRole");
  ASSERT_TRUE(r.ok() && r->has_value());
  const RoleRecord want = role();
  EXPECT_EQ((*r)->path, want.path);
  EXPECT_EQ((*r)->role_id, want.role_id);
  EXPECT_EQ((*r)->arn, want.arn);
  EXPECT_EQ((*r)->assume_role_policy_document, want.assume_role_policy_document);
  EXPECT_EQ((*r)->description, want.description);
  EXPECT_EQ((*r)->max_session_duration, 7200);
  EXPECT_EQ((*r)->create_date, kNow);
  EXPECT_EQ((*r)->attached_policy_arns, want.attached_policy_arns);

  auto m = repository->find_policy(policy().arn);
  ASSERT_TRUE(m.ok() && m->has_value());
  EXPECT_EQ((*m)->name, policy().name);
  EXPECT_EQ((*m)->policy_id, policy().policy_id);
  EXPECT_EQ((*m)->description, policy().description);
  EXPECT_EQ((*m)->document, kPolicy);
  EXPECT_EQ((*m)->default_version_id, "v1");
  EXPECT_EQ((*m)->update_date, kNow + absl::Seconds(5));
  EXPECT_FALSE((*m)->aws_managed);

  auto s = repository->find_session("ASIALIVE");
  ASSERT_TRUE(s.ok() && s->has_value());
  EXPECT_EQ((*s)->secret_access_key, "secret");
  EXPECT_EQ((*s)->session_token, "token");
  EXPECT_EQ((*s)->expiration, kNow + absl::Hours(1));
  EXPECT_EQ((*s)->assumed_role_arn, session("x", kNow).assumed_role_arn);
  EXPECT_EQ((*s)->assumed_role_id, "AROAEXAMPLE:s1");
  EXPECT_EQ((*s)->account_id, kAccount);
}

TEST_F(PersistentAwsStateRepositoryTest,
       ReopenAfterIamCallsKeepsRolesProvidersPoliciesAttachments) {
  FakeClock clock;
  {
    auto store = open_store();
    auto repository = open_repository(*store);
    IamService iam(*repository, clock, kAccount);
    ASSERT_TRUE(iam.call("CreateOpenIDConnectProvider",
                         params({{"Url", "https://oidc.eks.us-west-2.amazonaws.com/id/ABC"},
                                 {"ClientIDList.member.1", "sts.amazonaws.com"}}),
                         "r")
                    .ok());
    ASSERT_TRUE(iam.call("CreateRole",
                         params({{"RoleName", "cni"}, {"AssumeRolePolicyDocument", kRepoTrust}}),
                         "r")
                    .ok());
    ASSERT_TRUE(
        iam.call("CreatePolicy", params({{"PolicyName", "ipv6"}, {"PolicyDocument", kPolicy}}), "r")
            .ok());
    for (const char* arn : {"arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
                            "arn:aws:iam::111122223333:policy/ipv6"}) {
      ASSERT_TRUE(
          iam.call("AttachRolePolicy", params({{"RoleName", "cni"}, {"PolicyArn", arn}}), "r")
              .ok());
    }
    ASSERT_TRUE(iam.call("DetachRolePolicy",
                         params({{"RoleName", "cni"},
                                 {"PolicyArn", "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"}}),
                         "r")
                    .ok());
  }  // the destructor flushes
  auto store = open_store();
  auto repository = open_repository(*store);
  IamService iam(*repository, clock, kAccount);
  auto attached = iam.call("ListAttachedRolePolicies", params({{"RoleName", "cni"}}), "r");
  ASSERT_TRUE(attached.ok()) << attached.status();
  EXPECT_NE(attached->find("arn:aws:iam::111122223333:policy/ipv6"), std::string::npos);
  EXPECT_EQ(attached->find("AmazonEKS_CNI_Policy"), std::string::npos);
  auto providers = iam.call("ListOpenIDConnectProviders", params({}), "r");
  ASSERT_TRUE(providers.ok());
  EXPECT_NE(providers->find(kRepoProviderArn), std::string::npos);
  auto got =
      iam.call("GetPolicy", params({{"PolicyArn", "arn:aws:iam::111122223333:policy/ipv6"}}), "r");
  EXPECT_TRUE(got.ok()) << got.status();
}

TEST_F(PersistentAwsStateRepositoryTest, ErasesAreWrittenThrough) {
  {
    auto store = open_store();
    auto repository = open_repository(*store);
    ASSERT_TRUE(repository->put_oidc_provider(provider()).ok());
    ASSERT_TRUE(repository->put_role(role()).ok());
    ASSERT_TRUE(repository->put_policy(policy()).ok());
    ASSERT_TRUE(repository->erase_oidc_provider(kRepoProviderArn).ok());
    ASSERT_TRUE(repository->erase_role(role().name).ok());
    ASSERT_TRUE(repository->erase_policy(policy().arn).ok());
  }
  auto store = open_store();
  auto repository = open_repository(*store);
  EXPECT_TRUE(repository->list_oidc_providers()->empty());
  EXPECT_TRUE(repository->list_roles()->empty());
  EXPECT_TRUE(repository->list_policies()->empty());
}

TEST_F(PersistentAwsStateRepositoryTest, LatestWriteIsTheOneInTheStore) {
  auto store = open_store();
  auto repository = open_repository(*store);
  ASSERT_TRUE(repository->put_role(role()).ok());
  RoleRecord changed = role();
  changed.description = "second";
  ASSERT_TRUE(repository->put_role(changed).ok());
  auto stored = store->get(PersistentAwsStateRepository::kRolesNamespace, role().name);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_NE((*stored)->find("\"second\""), std::string::npos) << **stored;
}

TEST_F(PersistentAwsStateRepositoryTest, ExpiredSessionsAreDroppedAtOpenAndByEraseExpired) {
  {
    auto store = open_store();
    auto repository = open_repository(*store);
    ASSERT_TRUE(repository->put_session(session("ASIAOLD", kNow + absl::Minutes(10))).ok());
    ASSERT_TRUE(repository->put_session(session("ASIAMID", kNow + absl::Minutes(30))).ok());
    ASSERT_TRUE(repository->put_session(session("ASIANEW", kNow + absl::Hours(2))).ok());
  }
  {
    auto store = open_store();
    auto repository = open_repository(*store, kNow + absl::Minutes(20));
    EXPECT_FALSE(repository->find_session("ASIAOLD")->has_value());
    EXPECT_TRUE(repository->find_session("ASIAMID")->has_value());
    auto erased = repository->erase_sessions_expired_before(kNow + absl::Hours(1));
    ASSERT_TRUE(erased.ok());
    EXPECT_EQ(*erased, 1u);
    EXPECT_FALSE(repository->find_session("ASIAMID")->has_value());
  }
  auto store = open_store();
  EXPECT_EQ(store->list(PersistentAwsStateRepository::kSessionsNamespace)->size(), 1u);
}

TEST_F(PersistentAwsStateRepositoryTest, SessionsStayInMemoryWhenNotPersisted) {
  {
    auto store = open_store();
    auto repository = open_repository(*store, kNow, {.persist_sessions = false});
    ASSERT_TRUE(repository->put_session(session("ASIAMEM", kNow + absl::Hours(1))).ok());
    EXPECT_TRUE(repository->find_session("ASIAMEM")->has_value());
  }
  auto store = open_store();
  EXPECT_TRUE(store->list(PersistentAwsStateRepository::kSessionsNamespace)->empty());
}

// Regression (issue 12, defect 4): a mutation was acknowledged before its record reached the
// store, so a failed write (or a SIGKILL before the writer ran) lost an acknowledged role.
TEST_F(PersistentAwsStateRepositoryTest, WriteIsInTheStoreWhenAcknowledged) {
  auto store = open_store();
  auto repository = open_repository(*store);
  ASSERT_TRUE(repository->put_role(role()).ok());
  // No flush, no stop: what was acknowledged is already on disk for another reader.
  auto other = open_store();
  EXPECT_TRUE(other->get(PersistentAwsStateRepository::kRolesNamespace, role().name)->has_value());
}

TEST_F(PersistentAwsStateRepositoryTest, FailedStoreWriteIsAnErrorAndLeavesMemoryUnchanged) {
  auto store = open_store();
  auto repository = open_repository(*store);
  ASSERT_TRUE(repository->put_policy(policy()).ok());
  // Make every later write fail inside SQLite, from a second connection.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_.path() + "/state.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TRIGGER refuse_insert BEFORE INSERT ON kv BEGIN "
                         "SELECT RAISE(ABORT, 'refused'); END;"
                         "CREATE TRIGGER refuse_update BEFORE UPDATE ON kv BEGIN "
                         "SELECT RAISE(ABORT, 'refused'); END;"
                         "CREATE TRIGGER refuse_delete BEFORE DELETE ON kv BEGIN "
                         "SELECT RAISE(ABORT, 'refused'); END;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);

  absl::Status put = repository->put_role(role());
  EXPECT_EQ(put.code(), absl::StatusCode::kUnavailable) << put;
  EXPECT_FALSE(repository->find_role(role().name)->has_value());
  absl::Status erase = repository->erase_policy(policy().arn);
  EXPECT_EQ(erase.code(), absl::StatusCode::kUnavailable) << erase;
  EXPECT_TRUE(repository->find_policy(policy().arn)->has_value());
  EXPECT_EQ(repository->write_errors(), 2u);
}

TEST_F(PersistentAwsStateRepositoryTest, MutationsAfterStopAreRefused) {
  auto store = open_store();
  auto repository = open_repository(*store);
  repository->stop();
  repository->stop();  // idempotent
  EXPECT_EQ(repository->put_role(role()).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(repository->list_roles()->empty());
}

TEST_F(PersistentAwsStateRepositoryTest, UnreadableRecordFailsOpenNamingIt) {
  auto store = open_store();
  struct Case {
    const char* name;
    const char* value;
  };
  for (const Case& c : {Case{"not json", "{"}, Case{"not an object", "[1]"},
                        Case{"missing field", R"({"name":"x"})"},
                        Case{"wrong type",
                             R"({"name":"x","path":"/","role_id":"r","arn":"a",
                                 "assume_role_policy_document":"{}","description":"",
                                 "max_session_duration":"3600","create_date":"2023-01-01T00:00:00Z",
                                 "attached_policy_arns":[]})"},
                        Case{"bad time",
                             R"({"name":"x","path":"/","role_id":"r","arn":"a",
                                 "assume_role_policy_document":"{}","description":"",
                                 "max_session_duration":3600,"create_date":"yesterday",
                                 "attached_policy_arns":[]})"},
                        // Readable, but stored under another role's name: which one is meant?
                        Case{"key mismatch",
                             R"({"name":"x","path":"/","role_id":"r","arn":"a",
                                 "assume_role_policy_document":"{}","description":"",
                                 "max_session_duration":3600,"create_date":"2023-01-01T00:00:00Z",
                                 "attached_policy_arns":[]})"}}) {
    SCOPED_TRACE(c.name);
    ASSERT_TRUE(store->put(PersistentAwsStateRepository::kRolesNamespace, "broken", c.value).ok());
    auto repository = PersistentAwsStateRepository::open(*store, kNow);
    ASSERT_FALSE(repository.ok());
    EXPECT_EQ(repository.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_NE(repository.status().message().find("aws_roles/broken"), absl::string_view::npos)
        << repository.status();
  }
}

}  // namespace
}  // namespace wims::aws
