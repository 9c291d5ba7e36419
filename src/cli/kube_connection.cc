#include "cli/kube_connection.h"

#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace wims::cli {
namespace {

absl::Status with_context(std::string_view what, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(to_absl(what), ": ", status.message()));
}

}  // namespace

absl::StatusOr<KubeConnection> connect_kube(const std::string& kubeconfig,
                                            const std::string& context) {
  KubeConnection connection;
  absl::StatusOr<kube::KubeConfig> config =
      kubeconfig.empty() ? kube::load_in_cluster_config()
                         : kube::load_kubeconfig(kubeconfig, {.context = context});
  if (!config.ok()) {
    return with_context(
        kubeconfig.empty() ? "in-cluster configuration (or pass --kubeconfig)" : "kubeconfig",
        config.status());
  }
  connection.config = *std::move(config);
  absl::StatusOr<std::unique_ptr<kube::ApiClient>> api = kube::ApiClient::create(connection.config);
  if (!api.ok()) return with_context("Kubernetes API client", api.status());
  connection.api = *std::move(api);
  absl::StatusOr<kube::ServerVersion> version = run_blocking(connection.api->server_version());
  if (!version.ok())
    return with_context("Kubernetes API server " + connection.config.server, version.status());
  // Projected, bound service-account tokens (what wims relies on) need 1.24+.
  if (absl::Status supported = kube::check_server_version(*version); !supported.ok())
    return supported;
  connection.version = *std::move(version);
  return connection;
}

}  // namespace wims::cli
