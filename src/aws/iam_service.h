// IamService: the local cloud's IAM API (Query protocol, version 2010-05-08) over an
// AwsStateRepository: OIDC providers, roles with trust policies, customer-managed policies, role
// attachments and SimulatePrincipalPolicy. AWS-managed policies (aws/managed_policies.h) are built
// in and read-only.
//
//   IamService iam(repository, clock, "111122223333");
//   absl::StatusOr<std::string> xml = iam.call("CreateRole", params, request_id);
//
// `call` takes the decoded Query parameters of an already-authenticated request (the front end
// verifies SigV4, aws/query_handler.h) and returns the complete response XML, or an AWS-coded error
// status (ValidationError, MalformedPolicyDocument, EntityAlreadyExists, NoSuchEntity,
// DeleteConflict, LimitExceeded, ...). Thread-safe: mutations are serialised by an internal mutex;
// no I/O besides the repository; runs on the caller's thread.
#pragma once

#include <mutex>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "aws/aws_state_repository.h"
#include "aws/query_protocol.h"
#include "common/clock.h"

namespace wims::aws {

inline constexpr int64_t kMinRoleSessionDuration = 3600;
inline constexpr int64_t kMaxRoleSessionDuration = 43200;
// IAM quotas (non-whitespace characters): managed policy documents and role trust policies.
inline constexpr size_t kMaxManagedPolicyChars = 6144;
inline constexpr size_t kMaxTrustPolicyChars = 2048;

class IamService {
 public:
  // `repository` and `clock` are not owned and must outlive the service.
  IamService(AwsStateRepository& repository, const Clock& clock, std::string account_id);

  // Whether `action` is an IAM action this service implements.
  static bool handles(std::string_view action);

  // Executes `action`; the result is the response document (see the header comment).
  absl::StatusOr<std::string> call(std::string_view action, const QueryParams& params,
                                   std::string_view request_id);

  const std::string& account_id() const { return account_id_; }

 private:
  absl::StatusOr<std::string> dispatch(std::string_view action, const QueryParams& params);
  absl::StatusOr<std::string> create_oidc_provider(const QueryParams& params);
  absl::StatusOr<std::string> get_oidc_provider(const QueryParams& params);
  absl::StatusOr<std::string> list_oidc_providers(const QueryParams& params);
  absl::StatusOr<std::string> delete_oidc_provider(const QueryParams& params);
  absl::StatusOr<std::string> create_role(const QueryParams& params);
  absl::StatusOr<std::string> get_role(const QueryParams& params);
  absl::StatusOr<std::string> list_roles(const QueryParams& params);
  absl::StatusOr<std::string> delete_role(const QueryParams& params);
  absl::StatusOr<std::string> update_assume_role_policy(const QueryParams& params);
  absl::StatusOr<std::string> create_policy(const QueryParams& params);
  absl::StatusOr<std::string> get_policy(const QueryParams& params);
  absl::StatusOr<std::string> get_policy_version(const QueryParams& params);
  absl::StatusOr<std::string> list_policies(const QueryParams& params);
  absl::StatusOr<std::string> delete_policy(const QueryParams& params);
  absl::StatusOr<std::string> attach_role_policy(const QueryParams& params);
  absl::StatusOr<std::string> detach_role_policy(const QueryParams& params);
  absl::StatusOr<std::string> list_attached_role_policies(const QueryParams& params);
  absl::StatusOr<std::string> simulate_principal_policy(const QueryParams& params);

  absl::StatusOr<RoleRecord> require_role(std::string_view name);
  absl::StatusOr<ManagedPolicyRecord> require_policy(std::string_view arn);
  absl::StatusOr<size_t> attachment_count(std::string_view policy_arn);
  absl::StatusOr<std::string> policy_xml(const ManagedPolicyRecord& policy);

  AwsStateRepository& repository_;
  const Clock& clock_;
  std::string account_id_;
  std::mutex mu_;  // serialises read-modify-write sequences on the repository
};

}  // namespace wims::aws
