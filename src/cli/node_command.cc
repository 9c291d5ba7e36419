// `wims node`: the DaemonSet process. The node metadata server for the pods of one Kubernetes node,
// whose callers come from the Kubernetes API (list + watch of the node's pods and their service
// accounts) and whose credentials come from a cloud reached over HTTP (--cloud-url: a wims local
// cloud, e.g. the one `wims up` serves), with service-account tokens minted by the cluster's
// TokenRequest API.
//
// Start order: kube config -> API client -> server version (1.24+ for bound service-account tokens)
// -> pod index + reflector, waiting (bounded) for the first complete list -> caller resolver (new
// pods: a request waits, bounded, for the watch) -> TokenRequest token source + brokers -> metadata
// listener -> netguard -> admin listener (/readyz follows the index's sync) -> ready file. Stop
// order is the reverse, on SIGINT/SIGTERM.
//
// Without --cloud-url the identity facts that need no token exchange (the email of an annotated
// service account, the AWS role name, the instance facts) are served; token paths answer
// Unavailable in each protocol's error shape (GCE 503, IMDS and container credentials their 5xx).
#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/object.hpp>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <regex>
#include <string>

#include "absl/strings/str_cat.h"
#include "broker/aws_broker.h"
#include "broker/google_broker.h"
#include "broker/http_client_transport.h"
#include "broker/ksa_token_source.h"
#include "cli/commands.h"
#include "cli/defaults.h"
#include "cli/exit_codes.h"
#include "cli/kube_connection.h"
#include "cli/netguard_runtime.h"
#include "cli/ready_file.h"
#include "cli/serving.h"
#include "common/clock.h"
#include "common/logging.h"
#include "config/default_world.h"
#include "config/world_loader.h"
#include "http/admin_handler.h"
#include "http/client.h"
#include "http/endpoint.h"
#include "http/metrics.h"
#include "http/server.h"
#include "http/worker_pool.h"
#include "kube/api_client.h"
#include "kube/kube_caller_resolver.h"
#include "kube/kube_config.h"
#include "kube/kube_token_reviewer.h"
#include "kube/pod_index.h"
#include "kube/reflector.h"

namespace wims::cli {
namespace {

struct NodeOptions : ServeOptions {
  std::string kubeconfig;
  std::string context;
  std::string node_name;
  std::string cloud_url;
  bool real_cloud = false;
  std::string google_provider;
  std::string config;
  std::string netguard = "off";  // off|restrict|redirect (checked by CLI11)
  double sync_timeout_seconds = 60;
  int pod_wait_ms = 500;
};

// The credential sources when no cloud is configured: every token path answers Unavailable with the
// reason.
class NoCloudCredentials final : public broker::GoogleCredentials,
                                 public broker::AwsCredentialSource {
 public:
  boost::asio::awaitable<absl::StatusOr<broker::AccessToken>> access_token(
      const broker::Caller&, std::vector<std::string>) override {
    co_return unavailable();
  }
  boost::asio::awaitable<absl::StatusOr<std::string>> id_token(const broker::Caller&,
                                                               broker::IdTokenOptions) override {
    co_return unavailable();
  }
  boost::asio::awaitable<absl::StatusOr<broker::AwsCredentials>> credentials(
      const broker::Caller&) override {
    co_return unavailable();
  }

 private:
  static absl::Status unavailable() {
    return absl::UnavailableError(
        "wims node has no cloud configured (--cloud-url): identities are served, tokens cannot be "
        "minted");
  }
};

// The project/cluster/node facts Kubernetes does not have; pods and service accounts come from the
// API.
absl::StatusOr<config::World> node_world(const NodeOptions& o, const std::string& node_name) {
  absl::StatusOr<config::World> loaded =
      o.config.empty() ? absl::StatusOr<config::World>(config::default_world())
                       : config::load_world_file(o.config);
  if (!loaded.ok()) return loaded.status();
  if (!o.config.empty() && !loaded->pods.empty()) {
    spdlog::info(
        "wims node: the {} pods of {} are ignored: pods and service accounts come from Kubernetes",
        loaded->pods.size(), o.config);
  }
  loaded->pods.clear();
  loaded->service_accounts.clear();
  loaded->node.name = node_name;
  return loaded;
}

int fail(std::string_view what, const absl::Status& status) {
  std::cerr << "wims node: " << what << (what.empty() ? "" : ": ") << status.message() << "\n";
  return kExitFailure;
}

int run_node(const NodeOptions& o) {
  if (auto s = init_logging(o.log_level); !s.ok()) {
    std::cerr << "wims node: " << s.message() << "\n";
    return kExitUsage;
  }
  std::string node_name = o.node_name;
  if (node_name.empty()) {
    const char* env = std::getenv("NODE_NAME");
    node_name = env ? env : "";
  }
  if (node_name.empty()) {
    std::cerr << "wims node: the node name is required: pass --node-name NAME or set NODE_NAME "
                 "(the DaemonSet "
                 "sets it from spec.nodeName through the downward API)\n";
    return kExitUsage;
  }
  absl::StatusOr<config::World> loaded = node_world(o, node_name);
  if (!loaded.ok()) {
    std::cerr << "wims node: invalid configuration:\n" << loaded.status().message() << "\n";
    return kExitFailure;
  }
  auto world = std::make_shared<const config::World>(*std::move(loaded));
  const std::string state_dir = o.state_dir.empty() ? default_state_dir() : o.state_dir;
  std::error_code mkdir_error;
  std::filesystem::create_directories(state_dir, mkdir_error);
  if (mkdir_error)
    return fail("state directory " + state_dir, absl::UnavailableError(mkdir_error.message()));

  // The Kubernetes API.
  absl::StatusOr<KubeConnection> cluster = connect_kube(o.kubeconfig, o.context);
  if (!cluster.ok()) return fail("", cluster.status());
  spdlog::info("wims node: Kubernetes {} at {} ({}), node {}", cluster->version.git_version,
               cluster->config.server, cluster->config.source, node_name);

  kube::PodIndex index(*world);
  kube::Reflector reflector(*cluster->api, index, {.node_name = node_name});
  reflector.start();
  if (!reflector.wait_synced(absl::Seconds(o.sync_timeout_seconds))) {
    const std::string last_error = reflector.stats().last_error;
    reflector.stop();
    return fail("", absl::DeadlineExceededError(
                        absl::StrCat("the pods of node ", node_name, " could not be listed within ",
                                     o.sync_timeout_seconds, " s (--sync-timeout)",
                                     last_error.empty() ? "" : ": ", last_error)));
  }
  kube::KubeCallerResolver resolver(index, absl::Milliseconds(o.pod_wait_ms));

  Clock& clock = SystemClock::instance();
  http::Metrics metrics;
  describe_metrics(metrics);
  http::WorkerPool workers(o.workers);
  workers.start();

  // Credentials: TokenRequest at the API server (bearer and TLS from the kube config), exchanged at
  // the cloud.
  broker::HttpClientTransport api_transport(cluster->api->http_client());
  http::Client cloud_client;
  broker::HttpClientTransport cloud_transport(cloud_client);
  kube::ApiClient* api_client = cluster->api.get();
  broker::TokenRequestKsaTokenSource ksa_tokens(
      {.api_url = cluster->config.server}, api_transport,
      [api_client]() -> absl::StatusOr<std::string> { return api_client->bearer_token(); }, clock,
      upstream_metrics(metrics));
  NoCloudCredentials no_cloud;
  std::unique_ptr<broker::GoogleBroker> google;
  std::unique_ptr<broker::AwsBroker> aws;
  std::string cloud_url = o.cloud_url;
  while (!cloud_url.empty() && cloud_url.back() == '/') cloud_url.pop_back();
  if (o.real_cloud) {
    // The real services: Google's STS and IAM Credentials (the broker's defaults, without the
    // embedded cloud's wimsComputeEngine extension) and the AWS STS of the world's region.
    broker::GoogleBrokerOptions google_options;
    google_options.project_number = world->project.number;
    google_options.pool = world->workload_identity_pool();
    google_options.cluster_url = world->cluster_resource_url();
    google_options.workload_identity_provider = o.google_provider;
    google = std::make_unique<broker::GoogleBroker>(
        std::move(google_options), ksa_tokens, cloud_transport, clock, upstream_metrics(metrics));
    broker::AwsBrokerOptions aws_options;
    if (!world->project.aws_region.empty())
      aws_options.sts_url = broker::aws_regional_sts_url(world->project.aws_region);
    aws = std::make_unique<broker::AwsBroker>(std::move(aws_options), ksa_tokens, cloud_transport,
                                              clock, upstream_metrics(metrics));
  } else if (!cloud_url.empty()) {
    google = std::make_unique<broker::GoogleBroker>(
        broker::GoogleBrokerOptions{.sts_url = cloud_url,
                                    .iam_credentials_url = cloud_url,
                                    .project_number = world->project.number,
                                    .pool = world->workload_identity_pool(),
                                    .cluster_url = world->cluster_resource_url(),
                                    .workload_identity_provider = o.google_provider,
                                    .compute_engine = compute_engine_facts(*world, clock.now())},
        ksa_tokens, cloud_transport, clock, upstream_metrics(metrics));
    aws = std::make_unique<broker::AwsBroker>(
        broker::AwsBrokerOptions{.sts_url = cloud_url + "/aws/"}, ksa_tokens, cloud_transport,
        clock, upstream_metrics(metrics));
  } else {
    spdlog::warn("wims node: no --cloud-url: identities are served, token paths answer 503");
  }
  broker::GoogleCredentials& google_credentials =
      google ? static_cast<broker::GoogleCredentials&>(*google) : no_cloud;
  broker::AwsCredentialSource& aws_credentials =
      aws ? static_cast<broker::AwsCredentialSource&>(*aws) : no_cloud;

  // Container credentials: the Authorization token must be the calling pod's, checked by
  // TokenReview.
  kube::KubeTokenReviewer reviewer(*cluster->api);
  MetadataFrontEnds front_ends(world, resolver, google_credentials, aws_credentials, &reviewer,
                               imds_options(*world, o.imds_tokens, o.imds_profile), clock);
  http::Server metadata_server(
      {.name = "metadata", .listen = o.metadata_addr, .access_log = o.access_log},
      front_ends.router(), workers, metrics);
  if (auto s = metadata_server.start(); !s.ok()) {
    reflector.stop();
    return fail("metadata listener " + o.metadata_addr, s);
  }

  // netguard after the metadata listener: redirect targets its bound port (see
  // cli/netguard_runtime.h).
  auto netguard = NetguardRuntime::start({.mode = *parse_netguard_mode(o.netguard),
                                          .metadata_listener = metadata_server.local_endpoint()},
                                         metrics);
  if (!netguard.ok()) {
    metadata_server.stop();
    reflector.stop();
    return fail("", netguard.status());
  }

  std::atomic<bool> serving{false};
  http::AdminHandler admin(
      metrics, [&serving, &index] { return serving.load() && index.snapshot()->synced(); });
  http::Server admin_server({.name = "admin", .listen = o.admin_addr, .access_log = false}, admin,
                            workers, metrics);
  if (auto s = admin_server.start(); !s.ok()) {
    (*netguard)->stop();
    metadata_server.stop();
    reflector.stop();
    return fail("admin listener " + o.admin_addr, s);
  }

  const std::string metadata_hostport = reachable(metadata_server.local_endpoint());
  const std::string admin_hostport = reachable(admin_server.local_endpoint());
  serving = true;
  if (!o.ready_file.empty()) {
    boost::json::object ready{
        {"metadata", metadata_hostport},
        {"metadata_bound", http::format_endpoint(metadata_server.local_endpoint())},
        {"admin", admin_hostport},
        {"node_name", node_name},
        {"api_server", cluster->config.server},
        {"cloud_url", o.real_cloud ? std::string("real") : cloud_url},
        {"state_dir", state_dir},
        {"pods", index.snapshot()->pod_count()}};
    if (auto s = write_ready_file(o.ready_file, ready); !s.ok())
      spdlog::error("{}", std::string(s.message()));
  }
  std::cout << "wims node " << node_name << ": metadata http://" << metadata_hostport
            << "  admin http://" << admin_hostport << "  Kubernetes " << cluster->config.server
            << "  cloud "
            << (o.real_cloud        ? std::string("real (Google, AWS)")
                : cloud_url.empty() ? std::string("(none: identities only)")
                                    : cloud_url)
            << "\n"
            << std::flush;
  spdlog::info("wims node: metadata={} admin={} pods={} workers={}", metadata_hostport,
               admin_hostport, index.snapshot()->pod_count(), workers.size());

  const int received = wait_for_stop_signal();
  spdlog::info("wims node: signal {}, shutting down", received);
  serving = false;
  (*netguard)->stop();  // the rules stay (fail closed)
  front_ends.stop();
  metadata_server.stop();
  admin_server.stop();
  workers.stop();
  reflector.stop();
  if (!o.ready_file.empty()) std::remove(o.ready_file.c_str());
  return kExitOk;
}

}  // namespace

void register_node_command(CLI::App& app, CommandRegistry& registry) {
  auto opts = std::make_shared<NodeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "node",
      "Run the node metadata server of one Kubernetes node (the DaemonSet process): pods from the "
      "Kubernetes API, credentials from --cloud-url or --real-cloud");
  cmd->add_option("--kubeconfig", opts->kubeconfig,
                  "kubeconfig file (default: the in-cluster configuration)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--context", opts->context, "kubeconfig context (default: current-context)");
  cmd->add_option("--node-name", opts->node_name, "This node's name (default: $NODE_NAME)");
  cmd->add_option(
      "--cloud-url", opts->cloud_url,
      "Base URL of a wims local cloud (e.g. the cloud endpoint of `wims up`); without it only "
      "identities are served");
  cmd->add_flag(
         "--real-cloud", opts->real_cloud,
         "Exchange at the real Google STS / IAM Credentials and the AWS STS of the --config region")
      ->excludes("--cloud-url");
  cmd->add_option("--google-workload-identity-provider", opts->google_provider,
                  "projects/NUM/locations/global/workloadIdentityPools/POOL/providers/PROVIDER: "
                  "exchange pod "
                  "tokens through this provider instead of GKE's PROJECT.svc.id.goog pool")
      ->check(
          [](const std::string& value) -> std::string {
            static const std::regex kProvider(
                "projects/[0-9]+/locations/global/workloadIdentityPools/[a-z0-9-]+/providers/"
                "[a-z0-9-]+");
            return std::regex_match(value, kProvider)
                       ? std::string()
                       : "must be "
                         "projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/"
                         "PROVIDER";
          },
          "PROVIDER");
  cmd->add_option("--config", opts->config,
                  "World YAML for the facts Kubernetes does not hold: project id/number, cluster, "
                  "AWS account "
                  "and region, metadata policy (its pods and service accounts are ignored)")
      ->check(CLI::ExistingFile);
  add_serve_options(*cmd, *opts);
  add_netguard_option(*cmd, opts->netguard);
  cmd->add_option("--sync-timeout", opts->sync_timeout_seconds,
                  "Seconds to wait for the first list of the node's pods before giving up")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option(
         "--pod-wait-ms", opts->pod_wait_ms,
         "How long a request from an address the pod index does not know yet waits for the watch")
      ->check(CLI::Range(0, 10000))
      ->capture_default_str();
  registry.add(cmd, [opts] { return run_node(*opts); });
}

}  // namespace wims::cli
