#include "webhook/imds_emulator_mutation.h"

#include "config/world.h"
#include "fmt/format.h"
#include "webhook/irsa_mutation.h"
#include "webhook/pod_edit.h"

namespace wims::webhook {

namespace json = boost::json;

namespace {

json::array strings(std::initializer_list<std::string_view> values) {
  json::array out;
  for (std::string_view v : values) out.emplace_back(v);
  return out;
}

json::object init_container(const ImdsEmulatorOptions& options) {
  json::object security{
      {"runAsUser", 0},
      {"runAsNonRoot", false},
      {"allowPrivilegeEscalation", false},
      {"capabilities",
       json::object{{"add", strings({"NET_ADMIN", "NET_RAW"})}, {"drop", strings({"ALL"})}}},
  };
  return json::object{
      {"name", kImdsEmulatorInitContainer},
      {"image", options.image},
      {"imagePullPolicy", options.image_pull_policy},
      {"command", strings({"wims"})},
      {"args", strings({"netguard", "sidecar-init", "--port", std::to_string(options.port),
                        "--exempt-uid", std::to_string(options.sidecar_uid)})},
      {"securityContext", std::move(security)},
      {"resources", json::object{{"requests", json::object{{"cpu", "10m"}, {"memory", "16Mi"}}},
                                 {"limits", json::object{{"memory", "64Mi"}}}}},
  };
}

json::object sidecar_container(const ImdsEmulatorOptions& options, const std::string& role_arn) {
  const std::string token_file = std::string(kImdsEmulatorTokenMountPath) + "/token";
  const std::string port = std::to_string(options.port);
  json::array args =
      strings({"sidecar", "--imds-profile", "emulator", "--listen", "127.0.0.1:" + port, "--listen",
               "[::1]:" + port, "--role-arn", role_arn, "--token-file", token_file});
  json::array env;
  env.push_back(json::object{{"name", "AWS_ROLE_ARN"}, {"value", role_arn}});
  env.push_back(json::object{{"name", "AWS_WEB_IDENTITY_TOKEN_FILE"}, {"value", token_file}});
  if (!options.sts_endpoint.empty()) {
    args.emplace_back("--sts-endpoint");
    args.emplace_back(options.sts_endpoint);
  }
  if (!options.region.empty()) {
    args.emplace_back("--region");
    args.emplace_back(options.region);
    env.push_back(json::object{{"name", "AWS_REGION"}, {"value", options.region}});
  }
  env.push_back(json::object{
      {"name", "POD_NAME"},
      {"valueFrom", json::object{{"fieldRef", json::object{{"fieldPath", "metadata.name"}}}}}});
  json::object security{
      {"runAsUser", options.sidecar_uid},
      {"runAsGroup", options.sidecar_uid},
      {"runAsNonRoot", true},
      {"allowPrivilegeEscalation", false},
      {"readOnlyRootFilesystem", true},
      {"capabilities", json::object{{"drop", strings({"ALL"})}}},
  };
  json::array mounts;
  mounts.push_back(json::object{{"name", kImdsEmulatorTokenVolume},
                                {"mountPath", kImdsEmulatorTokenMountPath},
                                {"readOnly", true}});
  json::object container{
      {"name", kImdsEmulatorSidecar},
      {"image", options.image},
      {"imagePullPolicy", options.image_pull_policy},
      {"command", strings({"wims"})},
      {"args", std::move(args)},
      {"env", std::move(env)},
      {"securityContext", std::move(security)},
      {"volumeMounts", std::move(mounts)},
      {"resources", json::object{{"requests", json::object{{"cpu", "10m"}, {"memory", "32Mi"}}},
                                 {"limits", json::object{{"memory", "128Mi"}}}}},
  };
  if (options.native_sidecar) container["restartPolicy"] = "Always";
  return container;
}

json::array& containers(json::object& pod, std::string_view name) {
  json::value& v = pod_spec(pod)[name];
  if (!v.is_array()) v = json::array();
  return v.as_array();
}

}  // namespace

absl::StatusOr<bool> apply_imds_emulator(json::object& pod, const MutationInput&,
                                         const ImdsEmulatorOptions& options) {
  if (pod_label(pod, config::kImdsEmulatorEnabledLabel) != "True") return false;
  std::optional<std::string> role_arn = pod_annotation(pod, config::kImdsEmulatorRoleArnAnnotation);
  if (!role_arn.has_value() || role_arn->empty()) {
    return absl::InvalidArgumentError(
        fmt::format("pod has label {}=True but no annotation {}: set it to the ARN of the IAM role "
                    "the IMDS emulator "
                    "assumes (arn:aws:iam::ACCOUNT:role/NAME)",
                    config::kImdsEmulatorEnabledLabel, config::kImdsEmulatorRoleArnAnnotation));
  }
  if (!is_iam_role_arn(*role_arn)) {
    return absl::InvalidArgumentError(
        fmt::format("annotation {}=\"{}\" is not an IAM role ARN (expected "
                    "arn:aws:iam::ACCOUNT:role/NAME, ACCOUNT 12 "
                    "digits)",
                    config::kImdsEmulatorRoleArnAnnotation, *role_arn));
  }
  if (const json::value* spec = pod.if_contains("spec"); spec != nullptr && spec->is_object()) {
    const json::value* host_network = spec->as_object().if_contains("hostNetwork");
    if (host_network != nullptr && host_network->is_bool() && host_network->as_bool()) {
      return absl::InvalidArgumentError(
          fmt::format("pod has label {}=True but hostNetwork: true; the IMDS emulator sidecar "
                      "needs the pod's own "
                      "network namespace (its redirect would apply to the whole node)",
                      config::kImdsEmulatorEnabledLabel));
    }
  }

  bool changed = false;
  json::array& init = containers(pod, "initContainers");
  size_t position = 0;
  if (!has_container(pod, "initContainers", kImdsEmulatorInitContainer)) {
    init.insert(init.begin(), init_container(options));
    changed = true;
  }
  // Right after our init container (wherever an earlier run or the user put it).
  for (size_t i = 0; i < init.size(); ++i) {
    const json::object* c = init[i].if_object();
    if (c != nullptr && c->if_contains("name") != nullptr &&
        c->at("name") == kImdsEmulatorInitContainer) {
      position = i + 1;
    }
  }
  const bool have_sidecar = has_container(pod, "initContainers", kImdsEmulatorSidecar) ||
                            has_container(pod, "containers", kImdsEmulatorSidecar);
  if (!have_sidecar) {
    if (options.native_sidecar) {
      json::array& init_again = containers(pod, "initContainers");
      init_again.insert(init_again.begin() + static_cast<std::ptrdiff_t>(position),
                        sidecar_container(options, *role_arn));
    } else {
      containers(pod, "containers").push_back(sidecar_container(options, *role_arn));
    }
    changed = true;
  }
  changed |=
      add_volume(pod, projected_token_volume(kImdsEmulatorTokenVolume, options.token_audience,
                                             options.token_expiration_seconds, "token"));
  return changed;
}

}  // namespace wims::webhook
