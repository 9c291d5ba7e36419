// PersistentAwsStateRepository: the AwsStateRepository that survives restarts. All records live in
// an InMemoryAwsStateRepository (every read is a map lookup under a short mutex, never disk I/O)
// and every mutation is written through to the shared StateStore (SQLite) by a dedicated writer
// thread, so an IAM or STS call on an I/O worker never waits for the disk.
//
//   WIMS_ASSIGN_OR_RETURN(auto aws_state,
//                         aws::PersistentAwsStateRepository::open(*store, clock.now()));  //
//                         blocking
//   aws::IamService iam(*aws_state, clock, account_id);
//   ...
//   aws_state->stop();  // at shutdown, after the servers stopped: flushes what is queued
//
// Layout in the store (one JSON object per record, namespace / key):
//   aws_oidc_providers / provider ARN, aws_roles / role name (attachments are part of the role),
//   aws_policies / policy ARN (customer-managed only; AWS-managed ones are built in),
//   aws_sessions / access key id (temporary credentials, so GetCallerIdentity keeps working for
//   credentials pods already hold across a restart; expired ones are dropped at open).
//
// Write path: under the queue's lock, a mutation reserves its queue slots, updates memory, then
// queues (namespace, key) -> value-or-erase (reads go to memory without that lock). Queued
// writes to the same key coalesce (the newest value wins), so the queue holds at most one entry
// per record. The queue is bounded (max_pending_writes distinct keys): a mutation that would
// exceed it is refused with Unavailable before memory changes, so memory and disk never diverge
// on purpose. A failed store write is logged and counted (write_errors()); the record stays
// correct in memory and is written again by its next mutation.
//
// Ownership: the wiring owns it; the StateStore must outlive it. Thread-safe. open() and stop()
// block (disk I/O, joining the writer): call them from the controlling thread, never a worker.
// The destructor calls stop().
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
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
  // Distinct records that may wait for the writer; beyond this, mutations fail with Unavailable.
  size_t max_pending_writes = 4096;
  // Whether temporary credentials are persisted (else they live in memory only).
  bool persist_sessions = true;
};

class PersistentAwsStateRepository final : public AwsStateRepository {
 public:
  static constexpr char kProvidersNamespace[] = "aws_oidc_providers";
  static constexpr char kRolesNamespace[] = "aws_roles";
  static constexpr char kPoliciesNamespace[] = "aws_policies";
  static constexpr char kSessionsNamespace[] = "aws_sessions";

  // Loads every record from `store` (sessions expired before `now` are dropped and erased) and
  // starts the writer thread. Blocking. A record that does not parse is DataLoss naming it.
  static absl::StatusOr<std::unique_ptr<PersistentAwsStateRepository>> open(
      store::StateStore& store, absl::Time now, PersistentAwsStateRepositoryOptions options = {});

  PersistentAwsStateRepository(const PersistentAwsStateRepository&) = delete;
  PersistentAwsStateRepository& operator=(const PersistentAwsStateRepository&) = delete;
  ~PersistentAwsStateRepository() override;

  // Blocks until every write queued before the call reached the store (or failed).
  void flush();
  // Flushes and stops the writer; later mutations fail with FailedPrecondition. Idempotent.
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
  // (namespace, key) -> the value to put, or nullopt to erase.
  using WriteKey = std::pair<std::string, std::string>;
  using PendingWrites = std::map<WriteKey, std::optional<std::string>>;

  PersistentAwsStateRepository(store::StateStore& store,
                               PersistentAwsStateRepositoryOptions options);
  absl::Status load(absl::Time now);
  // Checks that `keys` fit in the queue; call with mu_ held, before changing memory.
  absl::Status reserve(const std::vector<WriteKey>& keys) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues a write; call with mu_ held, after reserve() succeeded.
  void enqueue(WriteKey key, std::optional<std::string> value) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void run_writer();

  store::StateStore& store_;
  const PersistentAwsStateRepositoryOptions options_;

  // The records. Changed only with mu_ held (so that a change and its queue entry are one step);
  // read without it.
  InMemoryAwsStateRepository memory_;

  mutable std::mutex mu_;
  PendingWrites pending_ ABSL_GUARDED_BY(mu_);
  uint64_t enqueued_ ABSL_GUARDED_BY(mu_) = 0;  // writes queued since open
  uint64_t written_ ABSL_GUARDED_BY(mu_) = 0;   // writes the writer finished (ok or failed)
  uint64_t write_errors_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::condition_variable work_ready_;
  std::condition_variable work_done_;
  std::thread writer_;
};

}  // namespace wims::aws
