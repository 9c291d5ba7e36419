// Serving pieces shared by `wims up` and `wims node`: the listener/logging/IMDS flags both commands
// take, the metadata front ends (GCE, AWS IMDS, container credentials) behind one router, the
// upstream metrics, and the shutdown-signal wait. The commands differ in where callers and
// credentials come from (a World file and the embedded cloud for `up`; the Kubernetes watch and
// TokenRequest for `node`), not in how they are served.
//
//   MetadataFrontEnds front_ends(world, resolver, google, aws, &reviewer,
//                                imds_options(*world, o.imds_tokens, o.imds_profile), clock);
//   http::Server metadata({.name = "metadata", .listen = o.metadata_addr}, front_ends.router(),
//                         workers, metrics);
//   ...
//   int signo = wait_for_stop_signal();
//   front_ends.stop();
//
// Used only from the cli wiring, on the main thread; the front ends themselves are thread-safe
// handlers (see their headers). The resolver, credential sources, reviewer and clock must outlive
// MetadataFrontEnds.
#pragma once

#include <CLI/CLI.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "broker/aws_credentials.h"
#include "broker/google_broker.h"
#include "broker/google_credentials.h"
#include "broker/upstream.h"
#include "cli/defaults.h"
#include "common/clock.h"
#include "config/world.h"
#include "http/metrics.h"
#include "http/router.h"
#include "metadata/aws_imds_handler.h"
#include "metadata/caller_resolver.h"
#include "metadata/container_credentials_handler.h"
#include "metadata/gce_handler.h"
#include "metadata/service_account_token_reviewer.h"

namespace wims::cli {

// The flags of a command that serves the node metadata endpoint.
struct ServeOptions {
  std::string metadata_addr = kDefaultMetadataAddr;
  std::string admin_addr = kDefaultAdminAddr;
  std::string ready_file;
  std::string state_dir;
  std::string log_level = "info";
  size_t workers = 0;
  bool access_log = true;
  std::string imds_tokens = "optional";  // optional|required|disabled (checked by CLI11)
  std::string imds_profile = "full";     // full|emulator
};

// Registers --metadata-addr --admin-addr --ready-file --state-dir --log-level --workers
// --access-log
// --imds-tokens --imds-profile on `cmd`, bound to `options` (which must outlive parsing).
void add_serve_options(CLI::App& cmd, ServeOptions& options);
// Just --imds-tokens and --imds-profile (for `wims sidecar`, which has no other serve option in
// common).
void add_imds_options(CLI::App& cmd, std::string& tokens, std::string& profile);

// The URL host:port for a bound endpoint: an unspecified address (0.0.0.0, ::) is reached on
// loopback.
std::string reachable(const boost::asio::ip::tcp::endpoint& bound);

// Describes the counters the brokers report, and the reporter that feeds them.
void describe_metrics(http::Metrics& metrics);
broker::UpstreamMetrics upstream_metrics(http::Metrics& metrics);

// The node as a Compute Engine instance, for `identity?format=full` ID tokens minted by the
// embedded cloud.
broker::ComputeEngineFacts compute_engine_facts(const config::World& world, absl::Time started);

// AwsImdsOptions::from_world plus the --imds-tokens / --imds-profile choices (values already
// checked by add_imds_options).
metadata::AwsImdsOptions imds_options(const config::World& world, std::string_view tokens,
                                      std::string_view profile);

// The node metadata endpoint: AWS IMDS at /latest, container credentials at /v1/credentials, GCE
// elsewhere.
class MetadataFrontEnds {
 public:
  MetadataFrontEnds(std::shared_ptr<const config::World> world,
                    const metadata::CallerResolver& resolver, broker::GoogleCredentials& google,
                    broker::AwsCredentialSource& aws,
                    metadata::ServiceAccountTokenReviewer* reviewer, metadata::AwsImdsOptions imds,
                    const Clock& clock);
  MetadataFrontEnds(const MetadataFrontEnds&) = delete;
  MetadataFrontEnds& operator=(const MetadataFrontEnds&) = delete;

  http::Handler& router() { return router_; }
  // Ends pending GCE wait_for_change requests; call before the listener stops.
  void stop() { gce_.stop(); }

 private:
  metadata::GceMetadataHandler gce_;
  metadata::AwsImdsHandler imds_;
  metadata::ContainerCredentialsHandler container_credentials_;
  http::Router router_;
};

// Blocks the calling thread until SIGINT or SIGTERM arrives; returns the signal number.
int wait_for_stop_signal();

}  // namespace wims::cli
