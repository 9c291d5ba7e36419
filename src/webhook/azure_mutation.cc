#include "webhook/azure_mutation.h"

#include <charconv>

#include "fmt/format.h"
#include "webhook/pod_edit.h"

namespace wims::webhook {

namespace json = boost::json;

namespace {

std::string azure(std::string_view name) {
  return std::string(kAzureAnnotationPrefix) + std::string(name);
}

absl::StatusOr<int64_t> parse_expiration(std::string_view text, std::string_view where) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return absl::InvalidArgumentError(
        fmt::format("{}: {} \"{}\" is not an integer number of seconds", where,
                    azure("service-account-token-expiration"), text));
  }
  if (value < kAzureMinTokenExpiration || value > kAzureMaxTokenExpiration) {
    return absl::InvalidArgumentError(
        fmt::format("token expiration {} not valid. Expected value to be between {} and {}", value,
                    kAzureMinTokenExpiration, kAzureMaxTokenExpiration));
  }
  return value;
}

}  // namespace

absl::StatusOr<bool> apply_azure_workload_identity(json::object& pod, const MutationInput& input,
                                                   const AzureOptions& options) {
  if (pod_label(pod, kAzureUseLabel) != "true") return false;
  config::ServiceAccount sa;
  if (input.service_account.has_value()) sa = *input.service_account;

  // The pod's annotation takes precedence; the SA's is consulted only without it (upstream
  // getServiceAccountTokenExpiration), and only the value in effect is validated.
  int64_t expiration = options.token_expiration_seconds;
  std::optional<std::string> pod_value =
      pod_annotation(pod, azure("service-account-token-expiration"));
  const std::string sa_value = sa.annotation(azure("service-account-token-expiration"));
  if (pod_value.has_value() && !pod_value->empty()) {
    auto parsed = parse_expiration(*pod_value, "pod annotation");
    if (!parsed.ok()) return parsed.status();
    expiration = *parsed;
  } else if (!sa_value.empty()) {
    auto parsed = parse_expiration(
        sa_value, fmt::format("service account {}/{}", input.namespace_name, sa.name));
    if (!parsed.ok()) return parsed.status();
    expiration = *parsed;
  }

  const std::string client_id = sa.annotation(azure("client-id"));
  std::string tenant_id = sa.annotation(azure("tenant-id"));
  if (tenant_id.empty()) tenant_id = options.tenant_id;
  std::set<std::string> skip;
  if (auto list = pod_annotation(pod, azure("skip-containers"))) skip = split_names(*list, ';');

  const std::pair<std::string_view, std::string_view> env[] = {
      {"AZURE_CLIENT_ID", client_id},
      {"AZURE_TENANT_ID", tenant_id},
      {"AZURE_FEDERATED_TOKEN_FILE", kAzureTokenFile},
      {"AZURE_AUTHORITY_HOST", options.authority_host},
  };
  bool changed = false;
  for_each_container(pod, skip, [&](json::object& container, bool) {
    for (const auto& [name, value] : env) {
      if (!value.empty()) changed |= add_env(container, name, value);
    }
    changed |=
        add_volume_mount(container, kAzureTokenVolume, kAzureTokenMountPath, /*read_only=*/true);
  });
  changed |= add_volume(pod, projected_token_volume(kAzureTokenVolume, kAzureTokenAudience,
                                                    expiration, kAzureTokenVolume));
  return changed;
}

}  // namespace wims::webhook
