// PersistentAwsStateRepository: the AwsStateRepository that survives restarts. All records live in
// an InMemoryAwsStateRepository (every read is a map lookup, never disk I/O) and every mutation is
// written through to the shared StateStore (SQLite) before it changes memory and before it is
// acknowledged, as the Google side (GooglePolicyStore) does: a mutation that returned OK is on
// disk and survives a SIGKILL; one whose store write failed returns Unavailable and leaves memory
// unchanged, so memory and disk never diverge.
//
//   WIMS_ASSIGN_OR_RETURN(auto aws_state,
//                         aws::PersistentAwsStateRepository::open(*store, clock.now()));
//   aws::IamService iam(*aws_state, clock, account_id);
//   ...
//   aws_state->stop();  // at shutdown, after the servers stopped
//
// Layout in the store (one JSON object per record, namespace / key):
//   aws_oidc_providers / provider ARN, aws_roles / role name (attachments are part of the role),
//   aws_policies / policy ARN (customer-managed only; AWS-managed ones are built in),
//   aws_sessions / access key id (temporary credentials, so GetCallerIdentity keeps working for
//   credentials pods already hold across a restart; expired ones are dropped at open).
//
// Mutations are serialised by one mutex held across the store write and the memory update
// (reads do not take it). A mutation blocks for one SQLite commit, like every StateStore call.
//
// Ownership: the wiring owns it; the StateStore must outlive it. Thread-safe. open() blocks (it
// reads the whole store).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "aws/aws_state_repository.h"
#include "store/state_store.h"

namespace wims::aws {

struct PersistentAwsStateRepositoryOptions {
  // Whether temporary credentials are persisted (else they live in memory only).
  bool persist_sessions = true;
};

class PersistentAwsStateRepository final : public AwsStateRepository {
 public:
  static constexpr char kProvidersNamespace[] = "aws_oidc_providers";
  static constexpr char kRolesNamespace[] = "aws_roles";
  static constexpr char kPoliciesNamespace[] = "aws_policies";
  static constexpr char kSessionsNamespace[] = "aws_sessions";

  // Loads every record from `store` (sessions expired before `now` are dropped and erased).
  // Blocking. A record that does not parse is DataLoss naming it.
  static absl::StatusOr<std::unique_ptr<PersistentAwsStateRepository>> open(
      store::StateStore& store, absl::Time now, PersistentAwsStateRepositoryOptions options = {});

  PersistentAwsStateRepository(const PersistentAwsStateRepository&) = delete;
  PersistentAwsStateRepository& operator=(const PersistentAwsStateRepository&) = delete;
  ~PersistentAwsStateRepository() override;

  // Later mutations fail with FailedPrecondition. Idempotent.
  void stop();
  // Store writes that failed since open.
  uint64_t write_errors() const;

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

 private:
  // (namespace, key).
  using WriteKey = std::pair<std::string, std::string>;

  PersistentAwsStateRepository(store::StateStore& store,
                               PersistentAwsStateRepositoryOptions options);
  absl::Status load(absl::Time now);
  // Puts `value` at `key` (or erases it when nullopt) in the store; Unavailable if the store
  // write failed, FailedPrecondition after stop(). Call with mu_ held, before changing memory.
  absl::Status write(const WriteKey& key, const std::optional<std::string>& value)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  store::StateStore& store_;
  const PersistentAwsStateRepositoryOptions options_;

  // The records. Changed only with mu_ held, after the store write succeeded; read without it.
  InMemoryAwsStateRepository memory_;

  mutable std::mutex mu_;
  uint64_t write_errors_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace wims::aws
