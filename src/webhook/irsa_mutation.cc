#include "webhook/irsa_mutation.h"

#include <cctype>
#include <charconv>

#include "fmt/format.h"
#include "webhook/pod_edit.h"

namespace wims::webhook {

namespace json = boost::json;

namespace {

std::optional<int64_t> parse_int(std::string_view text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

bool is_windows(const json::object& pod) {
  const json::value* spec = pod.if_contains("spec");
  if (spec == nullptr || !spec->is_object()) return false;
  const json::value* selector = spec->as_object().if_contains("nodeSelector");
  if (selector == nullptr || !selector->is_object()) return false;
  for (std::string_view key : {"kubernetes.io/os", "beta.kubernetes.io/os"}) {
    const json::value* os = selector->as_object().if_contains(key);
    if (os != nullptr && os->is_string() && os->as_string() == "windows") return true;
  }
  return false;
}

std::string eks(std::string_view name) {
  return std::string(kEksAnnotationPrefix) + std::string(name);
}

}  // namespace

bool is_iam_role_arn(std::string_view arn) {
  constexpr std::string_view kArnAws = "arn:aws";
  if (arn.substr(0, kArnAws.size()) != kArnAws) return false;
  size_t i = kArnAws.size();
  while (i < arn.size() && (std::islower(static_cast<unsigned char>(arn[i])) ||
                            std::isdigit(static_cast<unsigned char>(arn[i])) || arn[i] == '-')) {
    ++i;
  }
  constexpr std::string_view kIam = ":iam::";
  if (arn.substr(i, kIam.size()) != kIam) return false;
  i += kIam.size();
  for (int digits = 0; digits < 12; ++digits, ++i) {
    if (i >= arn.size() || !std::isdigit(static_cast<unsigned char>(arn[i]))) return false;
  }
  constexpr std::string_view kRole = ":role/";
  if (arn.substr(i, kRole.size()) != kRole) return false;
  i += kRole.size();
  if (i >= arn.size()) return false;
  for (; i < arn.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(arn[i]);
    if (!std::isalnum(c) &&
        std::string_view("_-/.@+=,").find(static_cast<char>(c)) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

std::optional<bool> parse_go_bool(std::string_view text) {
  for (std::string_view t : {"1", "t", "T", "TRUE", "true", "True"}) {
    if (text == t) return true;
  }
  for (std::string_view f : {"0", "f", "F", "FALSE", "false", "False"}) {
    if (text == f) return false;
  }
  return std::nullopt;
}

bool apply_irsa(json::object& pod, const MutationInput& input, const IrsaOptions& options,
                Warnings& warnings) {
  if (!input.service_account.has_value()) return false;
  const config::ServiceAccount& sa = *input.service_account;
  const std::string role_arn = sa.annotation(eks("role-arn"));
  if (role_arn.empty()) return false;
  if (!is_iam_role_arn(role_arn)) {
    warnings.push_back(
        fmt::format("service account {}/{}: {} \"{}\" does not look like an IAM role ARN",
                    input.namespace_name, sa.name, eks("role-arn"), role_arn));
  }

  std::string audience = sa.annotation(eks("audience"));
  if (audience.empty()) audience = options.audience;

  bool regional = options.regional_sts;
  if (std::string value = sa.annotation(eks("sts-regional-endpoints")); !value.empty()) {
    if (std::optional<bool> parsed = parse_go_bool(value)) {
      regional = *parsed;
    } else {
      warnings.push_back(fmt::format("service account {}/{}: {} \"{}\" is not a boolean; ignored",
                                     input.namespace_name, sa.name, eks("sts-regional-endpoints"),
                                     value));
    }
  }

  int64_t expiration = options.token_expiration_seconds;
  auto take_expiration = [&](std::optional<std::string> value, std::string_view where) {
    if (!value.has_value() || value->empty()) return;
    if (std::optional<int64_t> seconds = parse_int(*value)) {
      expiration = std::max(*seconds, kMinTokenExpirationSeconds);
    } else {
      warnings.push_back(fmt::format("{}: {} \"{}\" is not an integer; ignored", where,
                                     eks("token-expiration"), *value));
    }
  };
  take_expiration(sa.annotation(eks("token-expiration")),
                  fmt::format("service account {}/{}", input.namespace_name, sa.name));
  take_expiration(pod_annotation(pod, eks("token-expiration")), "pod");
  expiration = std::max(expiration, kMinTokenExpirationSeconds);

  std::set<std::string> skip;
  if (auto list = pod_annotation(pod, eks("skip-containers"))) skip = split_names(*list, ',');
  const std::string token_file = is_windows(pod) ? kIrsaWindowsTokenFile : kIrsaTokenFile;

  bool changed = false;
  for_each_container(pod, skip, [&](json::object& container, bool) {
    if (regional) changed |= add_env(container, "AWS_STS_REGIONAL_ENDPOINTS", "regional");
    if (!options.region.empty() && !has_env(container, "AWS_DEFAULT_REGION") &&
        !has_env(container, "AWS_REGION")) {
      changed |= add_env(container, "AWS_DEFAULT_REGION", options.region);
      changed |= add_env(container, "AWS_REGION", options.region);
    }
    if (!has_env(container, "AWS_ROLE_ARN") && !has_env(container, "AWS_WEB_IDENTITY_TOKEN_FILE")) {
      changed |= add_env(container, "AWS_ROLE_ARN", role_arn);
      changed |= add_env(container, "AWS_WEB_IDENTITY_TOKEN_FILE", token_file);
    }
    changed |=
        add_volume_mount(container, kIrsaTokenVolume, kIrsaTokenMountPath, /*read_only=*/true);
  });
  changed |=
      add_volume(pod, projected_token_volume(kIrsaTokenVolume, audience, expiration, "token"));
  return changed;
}

}  // namespace wims::webhook
