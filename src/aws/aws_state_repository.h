// AwsStateRepository: the local cloud's AWS resources (OIDC providers, roles, customer-managed
// policies, and the temporary credentials STS issued) behind a narrow interface, so the IAM and STS
// services do not know where state lives. InMemoryAwsStateRepository is the default and the test
// fake; a StateStore-backed adapter persists the same records in SQLite.
//
// Records are plain values. Implementations are thread-safe. Calls may block briefly (the in-memory
// one takes a mutex; a SQLite adapter does disk I/O), so the services call them from their own
// methods and never hold their locks across a co_await.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace wims::aws {

struct OidcProviderRecord {
  std::string arn;  // arn:aws:iam::ACCOUNT:oidc-provider/HOST/PATH
  std::string url;  // the issuer without "https://": "oidc.eks.us-west-2.amazonaws.com/id/X"
  std::vector<std::string> client_ids;
  std::vector<std::string> thumbprints;
  absl::Time create_date;
};

struct RoleRecord {
  std::string name;
  std::string path = "/";
  std::string role_id;                      // AROA...
  std::string arn;                          // arn:aws:iam::ACCOUNT:role/PATH/NAME
  std::string assume_role_policy_document;  // JSON text as given
  std::string description;
  int64_t max_session_duration = 3600;
  absl::Time create_date;
  std::vector<std::string> attached_policy_arns;  // in attachment order
};

struct ManagedPolicyRecord {
  std::string name;
  std::string path = "/";
  std::string policy_id;  // ANPA...
  std::string arn;        // arn:aws:iam::ACCOUNT:policy/PATH/NAME or arn:aws:iam::aws:policy/NAME
  std::string description;
  std::string document;  // JSON text of the default version
  std::string default_version_id = "v1";
  absl::Time create_date;
  absl::Time update_date;
  bool aws_managed = false;
};

// Temporary credentials issued by AssumeRoleWithWebIdentity.
struct SessionCredentialsRecord {
  std::string access_key_id;  // ASIA...
  std::string secret_access_key;
  std::string session_token;
  absl::Time expiration;
  std::string assumed_role_arn;  // arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION
  std::string assumed_role_id;   // AROA...:SESSION
  std::string account_id;
};

class AwsStateRepository {
 public:
  virtual ~AwsStateRepository() = default;

  virtual absl::StatusOr<std::optional<OidcProviderRecord>> find_oidc_provider(
      std::string_view arn) = 0;
  virtual absl::StatusOr<std::vector<OidcProviderRecord>>
  list_oidc_providers() = 0;  // ordered by ARN
  virtual absl::Status put_oidc_provider(const OidcProviderRecord& record) = 0;
  virtual absl::Status erase_oidc_provider(std::string_view arn) = 0;

  virtual absl::StatusOr<std::optional<RoleRecord>> find_role(std::string_view name) = 0;
  virtual absl::StatusOr<std::vector<RoleRecord>> list_roles() = 0;  // ordered by name
  virtual absl::Status put_role(const RoleRecord& record) = 0;
  virtual absl::Status erase_role(std::string_view name) = 0;

  virtual absl::StatusOr<std::optional<ManagedPolicyRecord>> find_policy(std::string_view arn) = 0;
  virtual absl::StatusOr<std::vector<ManagedPolicyRecord>> list_policies() = 0;  // ordered by ARN
  virtual absl::Status put_policy(const ManagedPolicyRecord& record) = 0;
  virtual absl::Status erase_policy(std::string_view arn) = 0;

  virtual absl::StatusOr<std::optional<SessionCredentialsRecord>> find_session(
      std::string_view access_key_id) = 0;
  virtual absl::Status put_session(const SessionCredentialsRecord& record) = 0;
  // Drops sessions that expired before `now`; returns how many.
  virtual absl::StatusOr<size_t> erase_sessions_expired_before(absl::Time now) = 0;
};

class InMemoryAwsStateRepository final : public AwsStateRepository {
 public:
  absl::StatusOr<std::optional<OidcProviderRecord>> find_oidc_provider(
      std::string_view arn) override;
  absl::StatusOr<std::vector<OidcProviderRecord>> list_oidc_providers() override;
  absl::Status put_oidc_provider(const OidcProviderRecord& record) override;
  absl::Status erase_oidc_provider(std::string_view arn) override;

  absl::StatusOr<std::optional<RoleRecord>> find_role(std::string_view name) override;
  absl::StatusOr<std::vector<RoleRecord>> list_roles() override;
  absl::Status put_role(const RoleRecord& record) override;
  absl::Status erase_role(std::string_view name) override;

  absl::StatusOr<std::optional<ManagedPolicyRecord>> find_policy(std::string_view arn) override;
  absl::StatusOr<std::vector<ManagedPolicyRecord>> list_policies() override;
  absl::Status put_policy(const ManagedPolicyRecord& record) override;
  absl::Status erase_policy(std::string_view arn) override;

  absl::StatusOr<std::optional<SessionCredentialsRecord>> find_session(
      std::string_view access_key_id) override;
  absl::Status put_session(const SessionCredentialsRecord& record) override;
  absl::StatusOr<size_t> erase_sessions_expired_before(absl::Time now) override;

  // For the persistent adapter, which must name what it erases before it erases it: the access
  // key ids of the sessions that expired before `now`, and erasing one session.
  std::vector<std::string> session_ids_expired_before(absl::Time now);
  void erase_session(std::string_view access_key_id);

 private:
  std::mutex mu_;
  std::map<std::string, OidcProviderRecord, std::less<>> providers_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, RoleRecord, std::less<>> roles_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, ManagedPolicyRecord, std::less<>> policies_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, SessionCredentialsRecord, std::less<>> sessions_ ABSL_GUARDED_BY(mu_);
};

}  // namespace wims::aws
