// `wims sidecar`: the AWS IMDS emulator sidecar of GKE on AWS, one per pod (the container the
// admission webhook injects, see webhook/imds_emulator_mutation.h). It runs inside the pod it
// serves, so:
//
//   callers      fixed: every connection from inside the pod's network namespace is the pod
//                (metadata/fixed_caller_resolver.h); anything else is refused with 403;
//   credentials  STS AssumeRoleWithWebIdentity for --role-arn at --sts-endpoint with the projected
//                service-account token in --token-file, re-read on every exchange (the kubelet
//                rotates it), cached and refreshed ahead of expiry by broker::AwsBroker;
//   serving      AWS IMDS v1 and v2 (metadata/aws_imds_handler.h) at /latest on every --listen
//   address
//                (127.0.0.1:P and [::1]:P, where `wims netguard sidecar-init` redirects
//                169.254.169.254:80 and fd00:ec2::254); --imds-profile emulator (default) serves
//                the token API and the credentials paths only, everything else 404; `full` the EC2
//                instance metadata too.
//
// Start order: options (ARN, listen addresses, token file readable: each refused with a clear
// message) -> broker -> one listener per --listen -> optional admin listener (/healthz /readyz
// /metrics) -> ready file; a first credentials exchange is started in the background so a bad role
// or trust policy is logged at once. Stop order is the reverse, on SIGINT/SIGTERM.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "broker/aws_broker.h"
#include "broker/aws_credentials.h"
#include "broker/caller.h"
#include "broker/file_ksa_token_source.h"
#include "broker/http_client_transport.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/lifecycle.h"
#include "cli/ready_file.h"
#include "cli/serving.h"
#include "common/clock.h"
#include "common/logging.h"
#include "config/stable_id.h"
#include "config/world.h"
#include "http/admin_handler.h"
#include "http/client.h"
#include "http/endpoint.h"
#include "http/metrics.h"
#include "http/router.h"
#include "http/server.h"
#include "http/worker_pool.h"
#include "jose/jwt.h"
#include "metadata/aws_imds_handler.h"
#include "metadata/fixed_caller_resolver.h"
#include "webhook/irsa_mutation.h"

namespace wims::cli {
namespace {

constexpr char kSidecarPort[] = "8180";  // webhook::ImdsEmulatorOptions::port

struct SidecarOptions {
  std::vector<std::string> listen = {std::string("127.0.0.1:") + kSidecarPort,
                                     std::string("[::1]:") + kSidecarPort};
  std::string role_arn;
  std::string token_file;
  std::string sts_endpoint;
  std::string region;
  std::string pod_name;
  std::string pod_namespace;
  std::string credential_duration = "1h";
  std::string refresh_ahead = "20m";
  std::string admin_addr;
  std::string ready_file;
  std::string log_level = "info";
  size_t workers = 1;
  bool access_log = true;
  std::string imds_tokens = "optional";
  std::string imds_profile = "emulator";
};

int usage(const std::string& message) {
  std::cerr << "wims sidecar: " << message << "\n";
  return kExitUsage;
}

int fail(const std::string& message) {
  std::cerr << "wims sidecar: " << message << "\n";
  return kExitFailure;
}

std::string env_or(const char* name, std::string fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::string(value) : std::move(fallback);
}

// A pod's hostname is its name unless spec.hostname says otherwise: the fallback when POD_NAME is
// not set.
std::string host_name() {
  char buffer[HOST_NAME_MAX + 1] = {};
  if (::gethostname(buffer, sizeof buffer - 1) != 0) return "pod";
  return buffer;
}

// The pod a projected token is bound to, from its claims ("kubernetes.io": {"namespace", "pod":
// {"name", "uid"}, "serviceaccount": {"name"}}), read WITHOUT verifying: only to name the STS
// session and the logs when --pod-name/--pod-namespace and the env are not set. STS verifies the
// token.
broker::Caller token_pod(const std::string& token) {
  broker::Caller out;
  absl::StatusOr<jose::DecodedJwt> jwt = jose::decode_jwt(token);
  if (!jwt.ok()) return out;
  const boost::json::value* kubernetes = jwt->claims.if_contains("kubernetes.io");
  if (kubernetes == nullptr || !kubernetes->is_object()) return out;
  const boost::json::object& k = kubernetes->get_object();
  auto text = [](const boost::json::object& object, std::string_view key) {
    const boost::json::value* v = object.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
  };
  out.pod.namespace_name = text(k, "namespace");
  if (const boost::json::value* pod = k.if_contains("pod"); pod != nullptr && pod->is_object()) {
    out.pod.name = text(pod->get_object(), "name");
    out.pod.uid = text(pod->get_object(), "uid");
  }
  if (const boost::json::value* sa = k.if_contains("serviceaccount");
      sa != nullptr && sa->is_object()) {
    out.pod.service_account_name = text(sa->get_object(), "name");
  }
  return out;
}

// True when this network namespace can bind [::1] (IPv6 may be disabled in a pod: then the [::1]
// listener is skipped with a warning instead of failing the whole sidecar, since no IPv6 client can
// exist either).
bool ipv6_loopback_usable() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor(io);
  boost::system::error_code ec;
  acceptor.open(boost::asio::ip::tcp::v6(), ec);
  if (!ec) acceptor.bind({boost::asio::ip::address_v6::loopback(), 0}, ec);
  return !ec;
}

// The first exchange, started at start-up on a worker so misconfiguration (trust policy, role, STS
// reachability) shows in the log at once and the first SDK request finds the cache warm.
boost::asio::awaitable<void> first_exchange(broker::AwsCredentialSource& aws,
                                            broker::Caller caller) {
  absl::StatusOr<broker::AwsCredentials> credentials = co_await aws.credentials(caller);
  if (!credentials.ok()) {
    spdlog::error("wims sidecar: first credentials exchange failed: {}",
                  std::string(credentials.status().message()));
  } else {
    spdlog::info(
        "wims sidecar: credentials for {} valid until {}", credentials->assumed_role_arn,
        absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", credentials->expiration, absl::UTCTimeZone()));
  }
}

int run_sidecar(const SidecarOptions& o) {
  if (auto s = init_logging(o.log_level); !s.ok()) return usage(std::string(s.message()));

  // Options, each refused with the reason before anything is bound.
  if (!webhook::is_iam_role_arn(o.role_arn)) {
    return usage(absl::StrCat(
        "--role-arn \"", o.role_arn,
        "\" is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME, ACCOUNT 12 digits)"));
  }
  absl::Duration duration;
  if (!absl::ParseDuration(o.credential_duration, &duration) || duration < absl::Minutes(15) ||
      duration > absl::Hours(12)) {
    return usage(
        absl::StrCat("--credential-duration '", o.credential_duration,
                     "' must be a duration from 15m to 12h (STS DurationSeconds 900..43200)"));
  }
  absl::Duration refresh_ahead;
  if (!absl::ParseDuration(o.refresh_ahead, &refresh_ahead) ||
      refresh_ahead <= absl::ZeroDuration() || refresh_ahead >= duration) {
    return usage(absl::StrCat("--refresh-ahead '", o.refresh_ahead,
                              "' must be a positive duration shorter than --credential-duration"));
  }
  std::vector<std::string> listen;
  const bool ipv6 = ipv6_loopback_usable();
  for (const std::string& address : o.listen) {
    absl::StatusOr<boost::asio::ip::tcp::endpoint> endpoint = http::parse_endpoint(address);
    if (!endpoint.ok()) return usage(absl::StrCat("--listen: ", endpoint.status().message()));
    if (!endpoint->address().is_loopback()) {
      spdlog::warn(
          "wims sidecar: --listen {} is not a loopback address; callers from outside the pod are "
          "refused (403)",
          address);
    }
    if (endpoint->address().is_v6() && endpoint->address().is_loopback() && !ipv6) {
      spdlog::warn(
          "wims sidecar: IPv6 is not available in this network namespace; --listen {} skipped",
          address);
      continue;
    }
    listen.push_back(address);
  }
  if (listen.empty()) return usage("no usable --listen address");
  absl::StatusOr<std::string> token = broker::read_token_file(o.token_file);
  if (!token.ok()) return fail(absl::StrCat("--token-file: ", token.status().message()));
  std::string sts_url = o.sts_endpoint;
  if (sts_url.empty()) sts_url = broker::aws_regional_sts_url(o.region);
  if (sts_url.rfind("https://", 0) != 0 && sts_url.rfind("http://", 0) != 0) {
    return usage(
        absl::StrCat("--sts-endpoint \"", sts_url, "\" is not an http:// or https:// URL"));
  }

  // The one caller: this pod (flags, else the downward-API env, else the token's claims, else the
  // host name).
  broker::Caller caller = token_pod(*token);
  caller.pod.name = !o.pod_name.empty()        ? o.pod_name
                    : !caller.pod.name.empty() ? env_or("POD_NAME", caller.pod.name)
                                               : env_or("POD_NAME", host_name());
  caller.pod.namespace_name = !o.pod_namespace.empty()
                                  ? o.pod_namespace
                                  : env_or("POD_NAMESPACE", caller.pod.namespace_name);
  caller.aws_role_arn = o.role_arn;
  metadata::FixedCallerResolver resolver(caller);

  // The instance facts of the full profile: the role's account, --region, the pod as the
  // "instance".
  config::World facts;
  facts.project.aws_account_id = std::string(broker::aws_arn_account(o.role_arn));
  facts.project.aws_region = o.region;
  facts.node.name = caller.pod.name;
  // The same name-based id a world file's defaults use, so an id is derived one way everywhere.
  facts.node.id = config::name_based_instance_id(
      absl::StrCat("pod/", caller.pod.namespace_name, "/", caller.pod.name));
  auto world = std::make_shared<const config::World>(std::move(facts));

  Clock& clock = SystemClock::instance();
  http::Metrics metrics;
  describe_metrics(metrics);
  http::WorkerPool workers(o.workers);
  // Start order: workers -> one IMDS listener per --listen -> admin; stopped in reverse.
  Lifecycle lifecycle;
  lifecycle.add(service(
      "workers",
      [&workers] {
        workers.start();
        return absl::OkStatus();
      },
      [&workers] { workers.stop(); }));

  http::Client client;
  broker::HttpClientTransport transport(client);
  broker::FileKsaTokenSource tokens(o.token_file);
  broker::AwsBrokerOptions broker_options{.sts_url = sts_url, .duration = duration};
  broker_options.cache.refresh_ahead = refresh_ahead;
  broker::AwsBroker aws(std::move(broker_options), tokens, transport, clock,
                        upstream_metrics(metrics));

  metadata::AwsImdsHandler imds(world, resolver, aws, clock,
                                imds_options(*world, o.imds_tokens, o.imds_profile));
  http::Router router;  // /latest -> IMDS; every other path the router's plain 404
  router.add("/latest", imds);

  std::vector<std::unique_ptr<http::Server>> servers;
  for (const std::string& address : listen) {
    http::Server& server = *servers.emplace_back(std::make_unique<http::Server>(
        http::ServerOptions{.name = "imds", .listen = address, .access_log = o.access_log}, router,
        workers, metrics));
    lifecycle.add(service(
        absl::StrCat("--listen ", address), [&server] { return server.start(); },
        [&server] { server.stop(); }));
  }

  std::atomic<bool> serving{false};
  http::AdminHandler admin(metrics, [&serving] { return serving.load(); });
  std::unique_ptr<http::Server> admin_server;
  if (!o.admin_addr.empty()) {
    admin_server = std::make_unique<http::Server>(
        http::ServerOptions{.name = "admin", .listen = o.admin_addr, .access_log = false}, admin,
        workers, metrics);
    lifecycle.add(service(
        absl::StrCat("--admin-addr ", o.admin_addr),
        [&admin_server] { return admin_server->start(); },
        [&admin_server] { admin_server->stop(); }));
  }
  if (auto s = lifecycle.start(); !s.ok()) return fail(std::string(s.message()));
  std::vector<std::string> bound;
  for (const auto& server : servers) bound.push_back(reachable(server->local_endpoint()));

  boost::asio::co_spawn(workers.executor(0), first_exchange(aws, caller), boost::asio::detached);
  serving = true;
  const std::string admin_hostport =
      admin_server ? reachable(admin_server->local_endpoint()) : std::string();
  if (!o.ready_file.empty()) {
    boost::json::array listeners;
    for (const std::string& b : bound) listeners.emplace_back(b);
    boost::json::object ready{
        {"imds", bound.front()},
        {"listen", std::move(listeners)},
        {"admin", admin_hostport},
        {"role_arn", o.role_arn},
        {"sts_endpoint", sts_url},
        {"token_file", o.token_file},
        {"imds_profile", o.imds_profile},
        {"pod", absl::StrCat(caller.pod.namespace_name, "/", caller.pod.name)}};
    if (auto s = write_ready_file(o.ready_file, ready); !s.ok())
      spdlog::error("{}", std::string(s.message()));
  }
  std::string listeners_text;
  for (const std::string& b : bound)
    absl::StrAppend(&listeners_text, listeners_text.empty() ? "" : " ", b);
  spdlog::info("wims sidecar: IMDS ({} profile) on {}{}{}; role {} via {}", o.imds_profile,
               listeners_text, admin_hostport.empty() ? "" : "; admin ", admin_hostport, o.role_arn,
               sts_url);

  const int received = wait_for_stop_signal();
  spdlog::info("wims sidecar: signal {}, shutting down", received);
  serving = false;
  const absl::Status stopped = lifecycle.stop(kDefaultStopBound);
  if (!o.ready_file.empty()) std::remove(o.ready_file.c_str());
  if (!stopped.ok()) {
    // A stop hung: the stopping thread still uses the services, so exit without destroying them.
    spdlog::error("wims sidecar: {}", std::string(stopped.message()));
    std::_Exit(kExitFailure);
  }
  return kExitOk;
}

}  // namespace

void register_sidecar_command(CLI::App& app, CommandRegistry& registry) {
  auto opts = std::make_shared<SidecarOptions>();
  CLI::App* cmd = app.add_subcommand(
      "sidecar",
      "Run the AWS IMDS emulator sidecar (GKE on AWS) inside one pod: IMDS on localhost with the "
      "credentials of --role-arn, from AssumeRoleWithWebIdentity with the pod's projected token");
  cmd->add_option("--listen", opts->listen,
                  "IMDS listen HOST:PORT (repeatable); [::1] is skipped when the pod has no IPv6")
      ->capture_default_str();
  cmd->add_option("--role-arn", opts->role_arn,
                  "The IAM role to assume (arn:aws:iam::ACCOUNT:role/NAME)")
      ->required();
  cmd->add_option("--token-file", opts->token_file,
                  "The projected service-account token (audience sts.amazonaws.com), re-read on "
                  "every exchange")
      ->required();
  cmd->add_option("--sts-endpoint", opts->sts_endpoint,
                  "STS URL (default https://sts.REGION.amazonaws.com/ with --region, else "
                  "https://sts.amazonaws.com/)");
  cmd->add_option("--region", opts->region,
                  "AWS region (the regional STS endpoint, placement/region)");
  cmd->add_option("--pod-name", opts->pod_name,
                  "This pod's name (default $POD_NAME, else the token's pod, else the host name)");
  cmd->add_option("--pod-namespace", opts->pod_namespace,
                  "This pod's namespace (default $POD_NAMESPACE, else the token's)");
  cmd->add_option(
         "--credential-duration", opts->credential_duration,
         "Session length asked of STS (DurationSeconds), 15m..12h and at most the role's maximum")
      ->capture_default_str();
  cmd->add_option("--refresh-ahead", opts->refresh_ahead,
                  "Refresh credentials in the background this long before they expire")
      ->capture_default_str();
  cmd->add_option("--admin-addr", opts->admin_addr,
                  "Admin (/healthz /readyz /metrics) HOST:PORT (default: none)");
  cmd->add_option("--ready-file", opts->ready_file,
                  "Once every listener is bound, write the bound addresses as JSON here");
  cmd->add_option("--log-level", opts->log_level, "trace|debug|info|warn|error|off")
      ->capture_default_str();
  cmd->add_option("--workers", opts->workers, "I/O worker threads")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_flag("--access-log,!--no-access-log", opts->access_log,
                "One JSON line per request (default on)");
  add_imds_options(*cmd, opts->imds_tokens, opts->imds_profile);
  registry.add(cmd, [opts] { return run_sidecar(*opts); });
}

}  // namespace wims::cli
