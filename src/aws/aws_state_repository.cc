#include "aws/aws_state_repository.h"

namespace wims::aws {
namespace {

// Lookups over the keyed record maps; the caller holds the lock.
template <typename Map>
std::optional<typename Map::mapped_type> find_in(const Map& map, std::string_view key) {
  auto it = map.find(key);
  if (it == map.end()) return std::nullopt;
  return it->second;
}

template <typename Map>
std::vector<typename Map::mapped_type> values_of(const Map& map) {
  std::vector<typename Map::mapped_type> out;
  out.reserve(map.size());
  for (const auto& [_, v] : map) out.push_back(v);
  return out;
}

template <typename Map>
void erase_from(Map& map, std::string_view key) {
  auto it = map.find(key);
  if (it != map.end()) map.erase(it);
}

}  // namespace

absl::StatusOr<std::optional<OidcProviderRecord>> InMemoryAwsStateRepository::find_oidc_provider(
    std::string_view arn) {
  std::lock_guard lock(mu_);
  return find_in(providers_, arn);
}
absl::StatusOr<std::vector<OidcProviderRecord>> InMemoryAwsStateRepository::list_oidc_providers() {
  std::lock_guard lock(mu_);
  return values_of(providers_);
}
absl::Status InMemoryAwsStateRepository::put_oidc_provider(const OidcProviderRecord& record) {
  std::lock_guard lock(mu_);
  providers_[record.arn] = record;
  return absl::OkStatus();
}
absl::Status InMemoryAwsStateRepository::erase_oidc_provider(std::string_view arn) {
  std::lock_guard lock(mu_);
  erase_from(providers_, arn);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<RoleRecord>> InMemoryAwsStateRepository::find_role(
    std::string_view name) {
  std::lock_guard lock(mu_);
  return find_in(roles_, name);
}
absl::StatusOr<std::vector<RoleRecord>> InMemoryAwsStateRepository::list_roles() {
  std::lock_guard lock(mu_);
  return values_of(roles_);
}
absl::Status InMemoryAwsStateRepository::put_role(const RoleRecord& record) {
  std::lock_guard lock(mu_);
  roles_[record.name] = record;
  return absl::OkStatus();
}
absl::Status InMemoryAwsStateRepository::erase_role(std::string_view name) {
  std::lock_guard lock(mu_);
  erase_from(roles_, name);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<ManagedPolicyRecord>> InMemoryAwsStateRepository::find_policy(
    std::string_view arn) {
  std::lock_guard lock(mu_);
  return find_in(policies_, arn);
}
absl::StatusOr<std::vector<ManagedPolicyRecord>> InMemoryAwsStateRepository::list_policies() {
  std::lock_guard lock(mu_);
  return values_of(policies_);
}
absl::Status InMemoryAwsStateRepository::put_policy(const ManagedPolicyRecord& record) {
  std::lock_guard lock(mu_);
  policies_[record.arn] = record;
  return absl::OkStatus();
}
absl::Status InMemoryAwsStateRepository::erase_policy(std::string_view arn) {
  std::lock_guard lock(mu_);
  erase_from(policies_, arn);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<SessionCredentialsRecord>> InMemoryAwsStateRepository::find_session(
    std::string_view access_key_id) {
  std::lock_guard lock(mu_);
  return find_in(sessions_, access_key_id);
}
absl::Status InMemoryAwsStateRepository::put_session(const SessionCredentialsRecord& record) {
  std::lock_guard lock(mu_);
  sessions_[record.access_key_id] = record;
  return absl::OkStatus();
}
absl::StatusOr<size_t> InMemoryAwsStateRepository::erase_sessions_expired_before(absl::Time now) {
  std::lock_guard lock(mu_);
  return std::erase_if(sessions_,
                       [now](const auto& entry) { return entry.second.expiration < now; });
}
std::vector<std::string> InMemoryAwsStateRepository::session_ids_expired_before(absl::Time now) {
  std::lock_guard lock(mu_);
  std::vector<std::string> ids;
  for (const auto& [id, session] : sessions_) {
    if (session.expiration < now) ids.push_back(id);
  }
  return ids;
}
void InMemoryAwsStateRepository::erase_session(std::string_view access_key_id) {
  std::lock_guard lock(mu_);
  erase_from(sessions_, access_key_id);
}

}  // namespace wims::aws
