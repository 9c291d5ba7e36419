#include "aws/persistent_aws_state_repository.h"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include "common/encoding.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "fmt/format.h"

namespace wims::aws {
namespace {

namespace json = boost::json;

json::array to_array(const std::vector<std::string>& values) {
  json::array out;
  for (const std::string& v : values) out.emplace_back(v);
  return out;
}

std::string serialize(const json::object& object) { return json::serialize(object); }

// Field readers for one parsed record; the first problem wins and names the field.
class FieldReader {
 public:
  explicit FieldReader(const json::object& object) : object_(object) {}

  std::string string(std::string_view name) {
    const json::value* v = object_.if_contains(name);
    if (v == nullptr || !v->is_string()) {
      fail(name);
      return {};
    }
    return std::string(v->get_string());
  }
  int64_t int64(std::string_view name) {
    const json::value* v = object_.if_contains(name);
    if (v == nullptr || !v->is_int64()) {
      fail(name);
      return 0;
    }
    return v->get_int64();
  }
  bool boolean(std::string_view name) {
    const json::value* v = object_.if_contains(name);
    if (v == nullptr || !v->is_bool()) {
      fail(name);
      return false;
    }
    return v->get_bool();
  }
  absl::Time time(std::string_view name) {
    std::string text = string(name);
    if (!error_.empty()) return absl::InfinitePast();
    absl::StatusOr<absl::Time> t = parse_rfc3339(text);
    if (!t.ok()) {
      fail(name);
      return absl::InfinitePast();
    }
    return *t;
  }
  std::vector<std::string> strings(std::string_view name) {
    std::vector<std::string> out;
    const json::value* v = object_.if_contains(name);
    if (v == nullptr || !v->is_array()) {
      fail(name);
      return out;
    }
    for (const json::value& item : v->get_array()) {
      if (!item.is_string()) {
        fail(name);
        return {};
      }
      out.emplace_back(item.get_string());
    }
    return out;
  }
  const std::string& error() const { return error_; }

 private:
  void fail(std::string_view name) {
    if (error_.empty()) error_ = fmt::format("field \"{}\" missing or of the wrong type", name);
  }
  const json::object& object_;
  std::string error_;
};

std::string provider_json(const OidcProviderRecord& r) {
  return serialize({{"arn", r.arn},
                    {"url", r.url},
                    {"client_ids", to_array(r.client_ids)},
                    {"thumbprints", to_array(r.thumbprints)},
                    {"create_date", format_rfc3339(r.create_date)}});
}
OidcProviderRecord provider_from(FieldReader& f) {
  return {.arn = f.string("arn"),
          .url = f.string("url"),
          .client_ids = f.strings("client_ids"),
          .thumbprints = f.strings("thumbprints"),
          .create_date = f.time("create_date")};
}

std::string role_json(const RoleRecord& r) {
  return serialize({{"name", r.name},
                    {"path", r.path},
                    {"role_id", r.role_id},
                    {"arn", r.arn},
                    {"assume_role_policy_document", r.assume_role_policy_document},
                    {"description", r.description},
                    {"max_session_duration", r.max_session_duration},
                    {"create_date", format_rfc3339(r.create_date)},
                    {"attached_policy_arns", to_array(r.attached_policy_arns)}});
}
RoleRecord role_from(FieldReader& f) {
  return {.name = f.string("name"),
          .path = f.string("path"),
          .role_id = f.string("role_id"),
          .arn = f.string("arn"),
          .assume_role_policy_document = f.string("assume_role_policy_document"),
          .description = f.string("description"),
          .max_session_duration = f.int64("max_session_duration"),
          .create_date = f.time("create_date"),
          .attached_policy_arns = f.strings("attached_policy_arns")};
}

std::string policy_json(const ManagedPolicyRecord& r) {
  return serialize({{"name", r.name},
                    {"path", r.path},
                    {"policy_id", r.policy_id},
                    {"arn", r.arn},
                    {"description", r.description},
                    {"document", r.document},
                    {"default_version_id", r.default_version_id},
                    {"create_date", format_rfc3339(r.create_date)},
                    {"update_date", format_rfc3339(r.update_date)},
                    {"aws_managed", r.aws_managed}});
}
ManagedPolicyRecord policy_from(FieldReader& f) {
  return {.name = f.string("name"),
          .path = f.string("path"),
          .policy_id = f.string("policy_id"),
          .arn = f.string("arn"),
          .description = f.string("description"),
          .document = f.string("document"),
          .default_version_id = f.string("default_version_id"),
          .create_date = f.time("create_date"),
          .update_date = f.time("update_date"),
          .aws_managed = f.boolean("aws_managed")};
}

std::string session_json(const SessionCredentialsRecord& r) {
  return serialize({{"access_key_id", r.access_key_id},
                    {"secret_access_key", r.secret_access_key},
                    {"session_token", r.session_token},
                    {"expiration", format_rfc3339(r.expiration)},
                    {"assumed_role_arn", r.assumed_role_arn},
                    {"assumed_role_id", r.assumed_role_id},
                    {"account_id", r.account_id}});
}
SessionCredentialsRecord session_from(FieldReader& f) {
  return {.access_key_id = f.string("access_key_id"),
          .secret_access_key = f.string("secret_access_key"),
          .session_token = f.string("session_token"),
          .expiration = f.time("expiration"),
          .assumed_role_arn = f.string("assumed_role_arn"),
          .assumed_role_id = f.string("assumed_role_id"),
          .account_id = f.string("account_id")};
}

// Loads every record of namespace `ns` of `store` and hands it to `put`. A record whose own key
// (`key_of`) is not its store key is DataLoss like an unreadable one.
template <typename Parse, typename KeyOf, typename Put>
absl::Status load_namespace(store::StateStore& store, std::string_view ns, Parse parse,
                            KeyOf key_of, Put put) {
  WIMS_ASSIGN_OR_RETURN(auto entries, store.list(ns));
  for (auto& [key, value] : entries) {
    boost::system::error_code ec;
    json::value parsed = json::parse(value, ec);
    std::string error;
    if (ec) {
      error = ec.message();
    } else if (!parsed.is_object()) {
      error = "not a JSON object";
    } else {
      FieldReader reader(parsed.get_object());
      auto record = parse(reader);
      error = reader.error();
      if (error.empty() && key_of(record) != key) error = "its key is not the record's";
      if (error.empty()) WIMS_RETURN_IF_ERROR(put(std::move(record)));
    }
    if (!error.empty()) {
      return absl::DataLossError(
          fmt::format("state store record {}/{} is unreadable: {}", ns, key, error));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<PersistentAwsStateRepository>> PersistentAwsStateRepository::open(
    store::StateStore& store, absl::Time now, PersistentAwsStateRepositoryOptions options) {
  std::unique_ptr<PersistentAwsStateRepository> repository(
      new PersistentAwsStateRepository(store, options));
  WIMS_RETURN_IF_ERROR(repository->load(now));
  return repository;
}

PersistentAwsStateRepository::PersistentAwsStateRepository(
    store::StateStore& store, PersistentAwsStateRepositoryOptions options)
    : store_(store), options_(options) {}

PersistentAwsStateRepository::~PersistentAwsStateRepository() { stop(); }

absl::Status PersistentAwsStateRepository::load(absl::Time now) {
  std::lock_guard lock(mu_);
  WIMS_RETURN_IF_ERROR(load_namespace(
      store_, kProvidersNamespace, provider_from, [](const OidcProviderRecord& r) { return r.arn; },
      [this](const OidcProviderRecord& r) { return memory_.put_oidc_provider(r); }));
  WIMS_RETURN_IF_ERROR(load_namespace(
      store_, kRolesNamespace, role_from, [](const RoleRecord& r) { return r.name; },
      [this](const RoleRecord& r) { return memory_.put_role(r); }));
  WIMS_RETURN_IF_ERROR(load_namespace(
      store_, kPoliciesNamespace, policy_from, [](const ManagedPolicyRecord& r) { return r.arn; },
      [this](const ManagedPolicyRecord& r) { return memory_.put_policy(r); }));
  if (!options_.persist_sessions) return absl::OkStatus();
  WIMS_RETURN_IF_ERROR(load_namespace(
      store_, kSessionsNamespace, session_from,
      [](const SessionCredentialsRecord& r) { return r.access_key_id; },
      [this](const SessionCredentialsRecord& r) { return memory_.put_session(r); }));
  // Expired credentials can never verify again; drop them here rather than carry them forever.
  for (const std::string& id : memory_.session_ids_expired_before(now)) {
    WIMS_RETURN_IF_ERROR(store_.erase(kSessionsNamespace, id));
    memory_.erase_session(id);
  }
  return absl::OkStatus();
}

void PersistentAwsStateRepository::stop() {
  std::lock_guard lock(mu_);
  stopping_ = true;
}

uint64_t PersistentAwsStateRepository::write_errors() const {
  std::lock_guard lock(mu_);
  return write_errors_;
}

absl::Status PersistentAwsStateRepository::write(const WriteKey& key,
                                                 const std::optional<std::string>& value) {
  if (stopping_) {
    return absl::FailedPreconditionError("the AWS state repository is stopped");
  }
  absl::Status status = value.has_value() ? store_.put(key.first, key.second, *value)
                                          : store_.erase(key.first, key.second);
  if (!status.ok()) {
    ++write_errors_;
    spdlog::error("aws state: writing {}/{} to the state store failed: {}", key.first, key.second,
                  to_std(status.message()));
    return absl::UnavailableError(
        fmt::format("the AWS state could not be saved: {}", to_std(status.message())));
  }
  return absl::OkStatus();
}

// ---- OIDC providers ----

absl::StatusOr<std::optional<OidcProviderRecord>> PersistentAwsStateRepository::find_oidc_provider(
    std::string_view arn) {
  return memory_.find_oidc_provider(arn);
}
absl::StatusOr<std::vector<OidcProviderRecord>>
PersistentAwsStateRepository::list_oidc_providers() {
  return memory_.list_oidc_providers();
}
absl::Status PersistentAwsStateRepository::put_oidc_provider(const OidcProviderRecord& record) {
  WriteKey key{kProvidersNamespace, record.arn};
  std::lock_guard lock(mu_);
  WIMS_RETURN_IF_ERROR(write(key, provider_json(record)));
  WIMS_RETURN_IF_ERROR(memory_.put_oidc_provider(record));
  return absl::OkStatus();
}
absl::Status PersistentAwsStateRepository::erase_oidc_provider(std::string_view arn) {
  WriteKey key{kProvidersNamespace, std::string(arn)};
  std::lock_guard lock(mu_);
  WIMS_RETURN_IF_ERROR(write(key, std::nullopt));
  WIMS_RETURN_IF_ERROR(memory_.erase_oidc_provider(arn));
  return absl::OkStatus();
}

// ---- roles ----

absl::StatusOr<std::optional<RoleRecord>> PersistentAwsStateRepository::find_role(
    std::string_view name) {
  return memory_.find_role(name);
}
absl::StatusOr<std::vector<RoleRecord>> PersistentAwsStateRepository::list_roles() {
  return memory_.list_roles();
}
absl::Status PersistentAwsStateRepository::put_role(const RoleRecord& record) {
  WriteKey key{kRolesNamespace, record.name};
  std::lock_guard lock(mu_);
  WIMS_RETURN_IF_ERROR(write(key, role_json(record)));
  WIMS_RETURN_IF_ERROR(memory_.put_role(record));
  return absl::OkStatus();
}
absl::Status PersistentAwsStateRepository::erase_role(std::string_view name) {
  WriteKey key{kRolesNamespace, std::string(name)};
  std::lock_guard lock(mu_);
  WIMS_RETURN_IF_ERROR(write(key, std::nullopt));
  WIMS_RETURN_IF_ERROR(memory_.erase_role(name));
  return absl::OkStatus();
}

// ---- customer-managed policies ----

absl::StatusOr<std::optional<ManagedPolicyRecord>> PersistentAwsStateRepository::find_policy(
    std::string_view arn) {
  return memory_.find_policy(arn);
}
absl::StatusOr<std::vector<ManagedPolicyRecord>> PersistentAwsStateRepository::list_policies() {
  return memory_.list_policies();
}
absl::Status PersistentAwsStateRepository::put_policy(const ManagedPolicyRecord& record) {
  WriteKey key{kPoliciesNamespace, record.arn};
  std::lock_guard lock(mu_);
  WIMS_RETURN_IF_ERROR(write(key, policy_json(record)));
  WIMS_RETURN_IF_ERROR(memory_.put_policy(record));
  return absl::OkStatus();
}
absl::Status PersistentAwsStateRepository::erase_policy(std::string_view arn) {
  WriteKey key{kPoliciesNamespace, std::string(arn)};
  std::lock_guard lock(mu_);
  WIMS_RETURN_IF_ERROR(write(key, std::nullopt));
  WIMS_RETURN_IF_ERROR(memory_.erase_policy(arn));
  return absl::OkStatus();
}

// ---- temporary credentials ----

absl::StatusOr<std::optional<SessionCredentialsRecord>> PersistentAwsStateRepository::find_session(
    std::string_view access_key_id) {
  return memory_.find_session(access_key_id);
}
absl::Status PersistentAwsStateRepository::put_session(const SessionCredentialsRecord& record) {
  WriteKey key{kSessionsNamespace, record.access_key_id};
  std::lock_guard lock(mu_);
  if (stopping_) {
    return absl::FailedPreconditionError("the AWS state repository is stopped");
  }
  if (options_.persist_sessions) WIMS_RETURN_IF_ERROR(write(key, session_json(record)));
  WIMS_RETURN_IF_ERROR(memory_.put_session(record));
  return absl::OkStatus();
}
absl::StatusOr<size_t> PersistentAwsStateRepository::erase_sessions_expired_before(absl::Time now) {
  std::lock_guard lock(mu_);
  std::vector<WriteKey> keys;
  for (std::string& id : memory_.session_ids_expired_before(now)) {
    keys.emplace_back(kSessionsNamespace, std::move(id));
  }
  for (const WriteKey& key : keys) {
    if (options_.persist_sessions) WIMS_RETURN_IF_ERROR(write(key, std::nullopt));
    memory_.erase_session(key.second);
  }
  return keys.size();
}

}  // namespace wims::aws
