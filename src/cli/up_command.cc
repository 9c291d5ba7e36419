// `wims up`: the node metadata server, the embedded local cloud and the admin endpoints in one
// process, on the built-in default world or a YAML world (--config). This file is the wiring: it is
// the one place that knows the concrete types of every module.
//
// Start order: state store -> cloud listener (bound first, since the issuer URL contains its
// address) -> cloud handlers -> broker (which talks to the cloud over HTTP, exactly as it would to
// the real clouds) -> metadata listener -> admin listener -> ready file. Stop order is the reverse,
// on SIGINT/SIGTERM.
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "broker/aws_broker.h"
#include "broker/google_broker.h"
#include "broker/http_client_transport.h"
#include "broker/ksa_token_source.h"
#include "cli/aws_stack.h"
#include "cli/commands.h"
#include "cli/defaults.h"
#include "cli/exit_codes.h"
#include "cli/netguard_runtime.h"
#include "cli/ready_file.h"
#include "cli/serving.h"
#include "cloud/access_token_codec.h"
#include "cloud/caller_auth.h"
#include "cloud/external_issuer_key_source.h"
#include "cloud/google_apis_handler.h"
#include "cloud/google_policy_store.h"
#include "cloud/google_sts_handler.h"
#include "cloud/iam_credentials_handler.h"
#include "cloud/iam_policy_handler.h"
#include "cloud/issuer_key_source.h"
#include "cloud/oidc_handler.h"
#include "cloud/service_account_token_issuer.h"
#include "cloud/signing_key_ring.h"
#include "cloud/storage_handler.h"
#include "cloud/token_info_handler.h"
#include "common/clock.h"
#include "common/logging.h"
#include "common/random.h"
#include "common/status_macros.h"
#include "config/default_world.h"
#include "config/world_loader.h"
#include "http/admin_handler.h"
#include "http/client.h"
#include "http/endpoint.h"
#include "http/metrics.h"
#include "http/router.h"
#include "http/server.h"
#include "http/worker_pool.h"
#include "jose/http_jwks_cache.h"
#include "metadata/aws_imds_handler.h"
#include "metadata/caller_resolver.h"
#include "metadata/container_credentials_handler.h"
#include "metadata/gce_handler.h"
#include "store/state_store.h"

namespace wims::cli {
namespace {

struct UpOptions : ServeOptions {
  std::string config;
  std::string cloud_addr = kDefaultCloudAddr;
  std::string netguard = "off";  // off|restrict|redirect (checked by CLI11)
};

// The admin token of the local cloud: created once, kept in the state store, mirrored to a 0600
// file so that `wims token` and scripts can read it.
absl::StatusOr<std::string> load_admin_token(store::StateStore& store, const std::string& file) {
  WIMS_ASSIGN_OR_RETURN(std::optional<std::string> token, store.get("admin", "token"));
  if (!token) {
    token = random_token(32);
    WIMS_RETURN_IF_ERROR(store.put("admin", "token", *token));
  }
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return absl::UnavailableError(absl::StrCat("cannot write ", file, ": ", std::strerror(errno)));
  std::string line = *token + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ::close(fd);
  if (!ok) return absl::UnavailableError(absl::StrCat("cannot write ", file));
  return *token;
}

int run_up(const UpOptions& o) {
  if (auto s = init_logging(o.log_level); !s.ok()) {
    std::cerr << "wims up: " << s.message() << "\n";
    return kExitUsage;
  }
  // The world.
  absl::StatusOr<config::World> loaded =
      o.config.empty() ? absl::StatusOr<config::World>(config::default_world())
                       : config::load_world_file(o.config);
  if (!loaded.ok()) {
    std::cerr << "wims up: invalid configuration:\n" << loaded.status().message() << "\n";
    return kExitFailure;
  }
  const std::string state_dir = o.state_dir.empty() ? default_state_dir() : o.state_dir;
  auto store = store::StateStore::open(state_dir);
  if (!store.ok()) {
    std::cerr << "wims up: state directory " << state_dir << ": " << store.status().message()
              << "\n";
    return kExitFailure;
  }
  const std::string admin_token_file = state_dir + "/" + kAdminTokenFileName;
  auto admin_token = load_admin_token(**store, admin_token_file);
  if (!admin_token.ok()) {
    std::cerr << "wims up: " << admin_token.status().message() << "\n";
    return kExitFailure;
  }

  Clock& clock = SystemClock::instance();
  http::Metrics metrics;
  describe_metrics(metrics);
  http::WorkerPool workers(o.workers);
  boost::asio::thread_pool blocking(2);
  workers.start();

  // The cloud listener first: the issuer URL contains its bound address.
  http::Router cloud_router;
  http::Server cloud_server({.name = "cloud",
                             .listen = o.cloud_addr,
                             .access_log = o.access_log,
                             .keep_encoded_slash = true},
                            cloud_router, workers, metrics);
  if (auto s = cloud_server.start(); !s.ok()) {
    std::cerr << "wims up: cloud listener " << o.cloud_addr << ": " << s.message() << "\n";
    return kExitFailure;
  }
  const std::string cloud_hostport = reachable(cloud_server.local_endpoint());
  const std::string cloud_url = "http://" + cloud_hostport;
  config::World world_value = std::move(*loaded);
  const std::string local_issuer_url = cloud_url + "/oidc/" + world_value.cluster.name;
  if (world_value.cluster.issuer_url.empty()) {
    world_value.cluster.issuer_url = local_issuer_url;
  }
  auto world = std::make_shared<const config::World>(std::move(world_value));
  // The embedded issuer's URL: the cluster's, unless the cluster's issuer is an external one (then
  // both are trusted; docs/configuration.md "Trusting an external cluster issuer").
  const bool external_issuer = world->cluster.has_external_issuer();
  const std::string issuer_url = external_issuer ? local_issuer_url : world->cluster.issuer_url;

  auto ring = cloud::SigningKeyRing::open(**store, clock.now());
  if (!ring.ok()) {
    std::cerr << "wims up: signing keys: " << ring.status().message() << "\n";
    return kExitFailure;
  }
  cloud::ServiceAccountTokenIssuer issuer(
      {.issuer_url = issuer_url}, **ring, [world] { return world; }, clock);
  cloud::OidcHandler oidc({.issuer_url = issuer_url, .admin_token = *admin_token}, **ring, issuer,
                          clock, blocking.get_executor());
  cloud_router.add("/oidc/", oidc);
  cloud_router.add("/api/", oidc);
  cloud_router.add("/apis/", oidc);
  cloud_router.add("/wims/", oidc);

  // Google side: STS, IAM Credentials, IAM policies, Cloud Storage, token info.
  auto codec = cloud::AccessTokenCodec::open(**store);
  auto policies = cloud::GooglePolicyStore::open(**store, world);
  if (!codec.ok() || !policies.ok()) {
    std::cerr << "wims up: local cloud state: "
              << (codec.ok() ? policies.status().message() : codec.status().message()) << "\n";
    return kExitFailure;
  }
  cloud::LocalIssuerKeySource local_issuer_keys(issuer_url, **ring);
  http::Client jwks_client;
  jose::HttpJwksCache jwks_cache(jwks_client, clock);
  std::unique_ptr<cloud::IssuerKeySource> external_issuer_keys;
  if (external_issuer) {
    const config::Cluster& cluster = world->cluster;
    if (!cluster.jwks_file.empty()) {
      auto file_keys = cloud::JwksFileIssuerKeySource::open(cluster.issuer_url, cluster.jwks_file);
      if (!file_keys.ok()) {
        std::cerr << "wims up: cluster.jwksFile: " << file_keys.status().message() << "\n";
        return kExitFailure;
      }
      external_issuer_keys = *std::move(file_keys);
    } else {
      external_issuer_keys = std::make_unique<cloud::HttpJwksIssuerKeySource>(
          cluster.issuer_url, cluster.jwks_url, jwks_cache);
    }
    spdlog::info(
        "wims up: trusting the external cluster issuer {} (keys from {}) and the embedded issuer "
        "{}",
        cluster.issuer_url, cluster.jwks_file.empty() ? cluster.jwks_url : cluster.jwks_file,
        issuer_url);
  }
  std::vector<const cloud::IssuerKeySource*> key_sources{&local_issuer_keys};
  if (external_issuer_keys) key_sources.push_back(external_issuer_keys.get());
  cloud::IssuerKeySourceChain issuer_keys(std::move(key_sources));
  cloud::GoogleStsHandler sts(
      {.issuer_url = issuer_url}, [world] { return world; }, issuer_keys, **codec, clock);
  cloud::CallerAuth caller_auth(*admin_token, **codec, clock);
  cloud::IamCredentialsHandler iam_credentials(**policies, caller_auth, **ring, clock);
  cloud::IamPolicyHandler iam_policies(**policies, caller_auth, clock, blocking.get_executor());
  cloud::StorageHandler storage(**policies, caller_auth, clock);
  cloud::TokenInfoHandler token_info(**codec, **ring, clock);
  cloud::GoogleApisHandler google_apis(iam_credentials, iam_policies, storage, token_info);
  cloud_router.add(cloud::GoogleStsHandler::kPath, sts);
  for (const char* prefix : cloud::GoogleApisHandler::kPrefixes)
    cloud_router.add(prefix, google_apis);

  // AWS side: IAM and STS over the Query protocol at /aws/ (both `aws iam` and `aws sts`).
  auto aws_stack =
      open_aws_stack(**store, *world, **ring, clock, issuer_url, external_issuer_keys.get());
  if (!aws_stack.ok()) {
    std::cerr << "wims up: local AWS: " << aws_stack.status().message() << "\n";
    return kExitFailure;
  }
  cloud_router.add("/aws/", *(*aws_stack)->handler);

  // The broker reaches the cloud over HTTP, as it would reach the real clouds.
  http::Client client;
  broker::HttpClientTransport transport(client);
  const broker::UpstreamMetrics upstream_metrics = cli::upstream_metrics(metrics);
  const std::string bearer = *admin_token;
  broker::TokenRequestKsaTokenSource ksa_tokens(
      {.api_url = cloud_url}, transport,
      [bearer]() -> absl::StatusOr<std::string> { return bearer; }, clock, upstream_metrics);
  broker::GoogleBroker google({.sts_url = cloud_url,
                               .iam_credentials_url = cloud_url,
                               .project_number = world->project.number,
                               .pool = world->workload_identity_pool(),
                               .cluster_url = world->cluster_resource_url(),
                               .compute_engine = compute_engine_facts(*world, clock.now())},
                              ksa_tokens, transport, clock, upstream_metrics);

  broker::AwsBroker aws({.sts_url = cloud_url + "/aws/"}, ksa_tokens, transport, clock,
                        upstream_metrics);

  auto resolver = metadata::WorldCallerResolver::create(*world);
  if (!resolver.ok()) {
    std::cerr << "wims up: " << resolver.status().message() << "\n";
    return kExitFailure;
  }
  IssuerTokenReviewer reviewer(issuer);
  MetadataFrontEnds front_ends(world, **resolver, google, aws, &reviewer,
                               imds_options(*world, o.imds_tokens, o.imds_profile), clock);
  http::Server metadata_server(
      {.name = "metadata", .listen = o.metadata_addr, .access_log = o.access_log},
      front_ends.router(), workers, metrics);
  if (auto s = metadata_server.start(); !s.ok()) {
    std::cerr << "wims up: metadata listener " << o.metadata_addr << ": " << s.message() << "\n";
    cloud_server.stop();
    return kExitFailure;
  }
  // netguard after the metadata listener: redirect targets its bound port (see
  // cli/netguard_runtime.h).
  auto netguard = NetguardRuntime::start({.mode = *parse_netguard_mode(o.netguard),
                                          .metadata_listener = metadata_server.local_endpoint()},
                                         metrics);
  if (!netguard.ok()) {
    std::cerr << "wims up: " << netguard.status().message() << "\n";
    metadata_server.stop();
    cloud_server.stop();
    return kExitFailure;
  }

  std::atomic<bool> ready{false};
  http::AdminHandler admin(metrics, [&ready] { return ready.load(); });
  http::Server admin_server({.name = "admin", .listen = o.admin_addr, .access_log = false}, admin,
                            workers, metrics);
  if (auto s = admin_server.start(); !s.ok()) {
    std::cerr << "wims up: admin listener " << o.admin_addr << ": " << s.message() << "\n";
    metadata_server.stop();
    cloud_server.stop();
    return kExitFailure;
  }

  ReadyInfo info{.addresses = {.metadata = reachable(metadata_server.local_endpoint()),
                               .cloud = cloud_hostport,
                               .admin = reachable(admin_server.local_endpoint())},
                 .issuer_url = issuer_url,
                 .admin_token = *admin_token,
                 .admin_token_file = admin_token_file,
                 .state_dir = state_dir,
                 .aws_admin_access_key_id = (*aws_stack)->admin_access_key_id,
                 .aws_admin_secret_access_key = (*aws_stack)->admin_secret_access_key};
  ready = true;
  if (!o.ready_file.empty()) {
    if (auto s = write_ready_file(o.ready_file, ready_json(info)); !s.ok()) {
      spdlog::error("{}", std::string(s.message()));
    }
  }
  std::cout << endpoints_banner(info) << std::flush;
  spdlog::info("wims up: metadata={} cloud={} admin={} workers={}", info.addresses.metadata,
               cloud_hostport, info.addresses.admin, workers.size());

  // Wait for SIGINT/SIGTERM on this thread, then stop in reverse order.
  const int received = wait_for_stop_signal();
  spdlog::info("wims up: signal {}, shutting down", received);
  ready = false;
  (*netguard)->stop();  // the rules stay (fail closed)
  front_ends.stop();
  metadata_server.stop();
  admin_server.stop();
  cloud_server.stop();
  workers.stop();
  (*aws_stack)->stop();
  blocking.join();
  if (!o.ready_file.empty()) std::remove(o.ready_file.c_str());
  return kExitOk;
}

}  // namespace

void register_up_command(CLI::App& app, CommandRegistry& registry) {
  auto opts = std::make_shared<UpOptions>();
  CLI::App* cmd = app.add_subcommand(
      "up",
      "Run the node metadata server with the embedded local cloud (default world unless --config)");
  cmd->add_option("--config", opts->config, "World YAML file (see docs/configuration.md)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--cloud-addr", opts->cloud_addr, "Local cloud listen HOST:PORT")
      ->capture_default_str();
  add_serve_options(*cmd, *opts);
  add_netguard_option(*cmd, opts->netguard);
  registry.add(cmd, [opts] { return run_up(*opts); });
}

}  // namespace wims::cli
