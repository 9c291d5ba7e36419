// `wims webhook`: the mutating admission webhook (IRSA, Azure workload identity, the GKE-on-AWS
// IMDS emulator sidecar) over HTTPS at POST /mutate, plus the admin listener (/healthz /readyz
// /metrics).
//
//   wims webhook --addr [::]:8443 --tls-cert /tls/tls.crt --tls-key /tls/tls.key [--kubeconfig
//   FILE]
//
// Start: TLS files -> Kubernetes API (kubeconfig or in-cluster; 1.24+ required) -> HTTPS listener
// -> admin listener (ready). Stop on SIGINT/SIGTERM: not ready, then the listeners drain.
#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/kube_connection.h"
#include "cli/serving.h"
#include "common/logging.h"
#include "common/strings.h"
#include "http/admin_handler.h"
#include "http/metrics.h"
#include "http/server.h"
#include "http/tls_credentials.h"
#include "http/worker_pool.h"
#include "kube/api_client.h"
#include "kube/kube_config.h"
#include "webhook/admission_handler.h"
#include "webhook/service_account_lookup.h"

namespace wims::cli {
namespace {

struct WebhookOptions {
  std::string addr = "[::]:8443";
  std::string tls_cert;
  std::string tls_key;
  double tls_reload_seconds = 10;
  std::string kubeconfig;
  std::string context;
  std::string admin_addr = "[::]:8081";
  std::string log_level = "info";
  size_t workers = 2;
  bool access_log = true;
  webhook::MutatorOptions mutator;
  int sidecar_port = 8180;
};

int run_webhook(WebhookOptions o) {
  if (absl::Status s = init_logging(o.log_level); !s.ok()) {
    std::cerr << "wims webhook: " << s.message() << "\n";
    return kExitUsage;
  }
  auto fail = [](std::string_view what, const absl::Status& status) {
    std::cerr << "wims webhook: " << what << (what.empty() ? "" : ": ") << to_std(status.message())
              << "\n";
    return kExitFailure;
  };
  o.mutator.imds_emulator.port = static_cast<uint16_t>(o.sidecar_port);

  auto tls =
      http::ServerTlsCredentials::load(o.tls_cert, o.tls_key, absl::Seconds(o.tls_reload_seconds));
  if (!tls.ok()) return fail("TLS certificate", tls.status());

  absl::StatusOr<KubeConnection> cluster = connect_kube(o.kubeconfig, o.context);
  if (!cluster.ok()) return fail("", cluster.status());
  spdlog::info("wims webhook: Kubernetes {} at {} ({})", cluster->version.git_version,
               cluster->config.server, cluster->config.source);

  webhook::KubeServiceAccountLookup lookup(*cluster->api);
  webhook::AdmissionHandler handler(o.mutator, lookup);
  http::Metrics metrics;
  http::WorkerPool workers(o.workers == 0 ? 2 : o.workers);
  workers.start();
  // The API server's webhook timeout is at most 30 s (deploy/ sets 10 s); answer well within it.
  http::Server server({.name = "webhook",
                       .listen = o.addr,
                       .body_limit_bytes = 3 << 20,
                       .handler_timeout = absl::Seconds(8),
                       .access_log = o.access_log,
                       .tls = *tls},
                      handler, workers, metrics);
  if (absl::Status s = server.start(); !s.ok()) {
    workers.stop();
    return fail("", s);
  }
  std::atomic<bool> ready{true};
  http::AdminHandler admin(metrics, [&ready] { return ready.load(); });
  http::Server admin_server({.name = "admin", .listen = o.admin_addr, .access_log = false}, admin,
                            workers, metrics);
  if (absl::Status s = admin_server.start(); !s.ok()) {
    server.stop();
    workers.stop();
    return fail("", s);
  }
  std::cout << "wims webhook: https://" << reachable(server.local_endpoint())
            << "/mutate (admin http://" << reachable(admin_server.local_endpoint()) << ")"
            << std::endl;

  const int received = wait_for_stop_signal();
  spdlog::info("wims webhook: signal {}, shutting down", received);
  ready = false;
  server.stop();
  admin_server.stop();
  workers.stop();
  return kExitOk;
}

}  // namespace

void register_webhook_command(CLI::App& app, CommandRegistry& registry) {
  auto o = std::make_shared<WebhookOptions>();
  CLI::App* cmd = app.add_subcommand("webhook",
                                     "Mutating admission webhook (IRSA, Azure workload identity, "
                                     "IMDS emulator sidecar) at POST /mutate");
  cmd->add_option("--addr", o->addr, "HTTPS listen HOST:PORT")->capture_default_str();
  cmd->add_option("--tls-cert", o->tls_cert, "PEM certificate chain (reloaded when it changes)")
      ->required();
  cmd->add_option("--tls-key", o->tls_key, "PEM private key (reloaded when it changes)")
      ->required();
  cmd->add_option("--tls-reload-interval", o->tls_reload_seconds,
                  "seconds between checks of the TLS files")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 3600.0));
  cmd->add_option("--kubeconfig", o->kubeconfig,
                  "kubeconfig file (default: the in-cluster configuration)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--context", o->context, "kubeconfig context (default: current-context)");
  cmd->add_option("--admin-addr", o->admin_addr, "Admin (/healthz /readyz /metrics) HOST:PORT")
      ->capture_default_str();
  cmd->add_option("--log-level", o->log_level, "trace|debug|info|warn|error|off")
      ->capture_default_str();
  cmd->add_option("--workers", o->workers, "I/O worker threads")->capture_default_str();
  cmd->add_flag("--access-log,!--no-access-log", o->access_log,
                "one JSON line per request (default on)");
  // IRSA (the EKS pod identity webhook's flags).
  cmd->add_option("--token-audience", o->mutator.irsa.audience, "IRSA: default token audience")
      ->capture_default_str();
  cmd->add_option("--token-expiration", o->mutator.irsa.token_expiration_seconds,
                  "IRSA: default token lifetime (s)")
      ->capture_default_str()
      ->check(CLI::Range(600, 1 << 30));
  cmd->add_flag("--sts-regional-endpoint", o->mutator.irsa.regional_sts,
                "IRSA: inject AWS_STS_REGIONAL_ENDPOINTS=regional by default");
  cmd->add_option("--aws-default-region", o->mutator.irsa.region,
                  "IRSA: inject AWS_DEFAULT_REGION/AWS_REGION");
  // Azure workload identity.
  cmd->add_option("--azure-tenant-id", o->mutator.azure.tenant_id,
                  "Azure: tenant for SAs without tenant-id");
  cmd->add_option("--azure-authority-host", o->mutator.azure.authority_host,
                  "Azure: AZURE_AUTHORITY_HOST")
      ->capture_default_str();
  // The IMDS emulator sidecar.
  auto& e = o->mutator.imds_emulator;
  cmd->add_option("--sidecar-image", e.image,
                  "IMDS emulator: image of the init container and sidecar")
      ->capture_default_str();
  cmd->add_option("--sidecar-image-pull-policy", e.image_pull_policy,
                  "IMDS emulator: imagePullPolicy")
      ->capture_default_str()
      ->check(CLI::IsMember({"Always", "IfNotPresent", "Never"}));
  cmd->add_option("--sidecar-port", o->sidecar_port, "IMDS emulator: sidecar port on localhost")
      ->capture_default_str()
      ->check(CLI::Range(1, 65535));
  cmd->add_option("--sidecar-uid", e.sidecar_uid,
                  "IMDS emulator: sidecar uid (exempt from the redirect)")
      ->capture_default_str();
  cmd->add_option("--sidecar-sts-endpoint", e.sts_endpoint,
                  "IMDS emulator: STS endpoint the sidecar calls");
  cmd->add_option("--sidecar-region", e.region, "IMDS emulator: AWS region of the sidecar");
  cmd->add_option("--sidecar-token-audience", e.token_audience,
                  "IMDS emulator: projected token audience")
      ->capture_default_str();
  cmd->add_flag(
      "--native-sidecar", e.native_sidecar,
      "IMDS emulator: run the sidecar as a native sidecar init container (Kubernetes 1.29+)");
  registry.add(cmd, [o] { return run_webhook(*o); });
}

}  // namespace wims::cli
