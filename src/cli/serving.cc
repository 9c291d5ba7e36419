#include "cli/serving.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <string_view>

#include "http/endpoint.h"

namespace wims::cli {

void add_serve_options(CLI::App& cmd, ServeOptions& o) {
  cmd.add_option("--metadata-addr", o.metadata_addr,
                 "Metadata server listen HOST:PORT (port 0: any)")
      ->capture_default_str();
  cmd.add_option("--admin-addr", o.admin_addr, "Admin (/healthz /readyz /metrics) HOST:PORT")
      ->capture_default_str();
  cmd.add_option(
      "--ready-file", o.ready_file,
      "Once every listener is bound, write the bound addresses and endpoints here as JSON");
  cmd.add_option("--state-dir", o.state_dir, "State directory (default $XDG_STATE_HOME/wims)");
  cmd.add_option("--log-level", o.log_level, "trace|debug|info|warn|error|off")
      ->capture_default_str();
  cmd.add_option("--workers", o.workers, "I/O worker threads (0: one per core)")
      ->capture_default_str();
  cmd.add_flag("--access-log,!--no-access-log", o.access_log,
               "One JSON line per request (default on)");
  add_imds_options(cmd, o.imds_tokens, o.imds_profile);
}

void add_imds_options(CLI::App& cmd, std::string& tokens, std::string& profile) {
  cmd.add_option("--imds-tokens", tokens,
                 "AWS IMDSv2 session tokens: optional (v1 and v2), required (a tokenless GET -> "
                 "401), disabled (the token PUT -> 403, so clients fall back to v1)")
      ->check(CLI::IsMember({"optional", "required", "disabled"}))
      ->capture_default_str();
  cmd.add_option("--imds-profile", profile,
                 "AWS IMDS paths: full (EC2 instance metadata) or emulator (GKE-on-AWS: the token "
                 "API and the credentials paths only, everything else 404)")
      ->check(CLI::IsMember({"full", "emulator"}))
      ->capture_default_str();
}

std::string reachable(const boost::asio::ip::tcp::endpoint& bound) {
  boost::asio::ip::tcp::endpoint e = bound;
  if (e.address().is_unspecified()) {
    e.address(e.address().is_v4()
                  ? boost::asio::ip::address(boost::asio::ip::address_v4::loopback())
                  : boost::asio::ip::address(boost::asio::ip::address_v6::loopback()));
  }
  return http::format_endpoint(e);
}

void describe_metrics(http::Metrics& metrics) {
  metrics.describe_counter("wims_upstream_requests_total",
                           "Upstream calls by service and HTTP status");
  metrics.describe_counter("wims_token_cache_total",
                           "Credential cache lookups by cache and result");
}

broker::UpstreamMetrics upstream_metrics(http::Metrics& metrics) {
  return [&metrics](std::string_view service, int status) {
    std::string code = std::to_string(status);
    metrics.increment("wims_upstream_requests_total", {{"service", service}, {"status", code}});
  };
}

broker::ComputeEngineFacts compute_engine_facts(const config::World& world, absl::Time started) {
  return {.project_id = world.project.id,
          .project_number = world.project.number,
          .zone = world.node.zone,
          .instance_id = std::to_string(world.node.id),
          .instance_name = world.node.name,
          .instance_creation_timestamp = absl::ToUnixSeconds(started),
          .license_ids = {}};
}

metadata::AwsImdsOptions imds_options(const config::World& world, std::string_view tokens,
                                      std::string_view profile) {
  metadata::AwsImdsOptions options = metadata::AwsImdsOptions::from_world(world);
  if (tokens == "required") {
    options.token_mode = metadata::ImdsTokenMode::kRequired;
  } else if (tokens == "disabled") {
    options.token_mode = metadata::ImdsTokenMode::kDisabled;
  } else {
    options.token_mode = metadata::ImdsTokenMode::kOptional;
  }
  options.profile =
      profile == "emulator" ? metadata::ImdsProfile::kEmulator : metadata::ImdsProfile::kFull;
  return options;
}

MetadataFrontEnds::MetadataFrontEnds(std::shared_ptr<const config::World> world,
                                     const metadata::CallerResolver& resolver,
                                     broker::GoogleCredentials& google,
                                     broker::AwsCredentialSource& aws,
                                     metadata::ServiceAccountTokenReviewer* reviewer,
                                     metadata::AwsImdsOptions imds, const Clock& clock)
    : gce_(world, resolver, google, clock, metadata::GceMetadataOptions::from_world(*world)),
      imds_(world, resolver, aws, clock, std::move(imds)),
      container_credentials_(resolver, aws, reviewer) {
  router_.add("/latest", imds_);
  router_.add(metadata::kContainerCredentialsPath, container_credentials_);
  router_.set_fallback(gce_);
}

int wait_for_stop_signal() {
  boost::asio::io_context signals_context;
  boost::asio::signal_set signals(signals_context, SIGINT, SIGTERM);
  int received = 0;
  signals.async_wait([&](const boost::system::error_code&, int signo) { received = signo; });
  signals_context.run();
  return received;
}

}  // namespace wims::cli
