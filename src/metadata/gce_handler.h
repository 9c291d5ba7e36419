// GceMetadataHandler: the node metadata server's GCE front end, the GKE metadata server subset of
// shared/spec/metadata-protocols.md section A, served to pods identified by their peer address.
//
//   auto resolver = WorldCallerResolver::create(*world).value();
//   GceMetadataHandler gce(world, *resolver, broker, SystemClock::instance(),
//                          GceMetadataOptions::from_world(*world));
//   // hand `gce` (an http::Handler) to the metadata listener; gce.stop() before its io_contexts
//   stop
//
// Tree (`/computeMetadata/v1/`):
//   instance/ attributes/{cluster-location,cluster-name,cluster-uid} hostname id machine-type
//             service-accounts/{default,EMAIL}/{aliases,email,identity,scopes,token} zone
//   project/  numeric-project-id project-id
//   universe/ universe-domain
// plus `/` (no header needed) and `/computeMetadata/` (`v1/\nv1beta1/\n`); `/0.1/...` and `v1beta1`
// are 404.
//
// Protocol rules (A2-A5): `Metadata-Flavor: Google` is required except on `/` (403 HTML page
// otherwise); `X-Forwarded-For` -> 403; GET and HEAD only (405); a directory without its slash ->
// 301 to `http://HOST/PATH/?QUERY` with body `PATH/\n`; a leaf with a slash -> 404;
// `recursive=true` on a directory -> JSON with camelCase fixed keys (numericProjectId and id as
// numbers; attribute keys and service-account emails verbatim; token and identity omitted), or
// `relative/path value` lines with `alt=text`; `alt=json` on a leaf -> a JSON string (number,
// array); `alt=text` on a non-recursive directory -> 400; `ETag` on every 200;
// `wait_for_change=true` (not on a non-recursive directory, token or identity: 400) answers at once
// when `last_etag` differs from the current ETag, else waits for update_world() or `timeout_sec`
// (default and cap: options.max_wait), bounded to options.max_waiters concurrent waits (429
// beyond).
//
// Callers: request.peer -> CallerResolver. When resolution says NotFound (unknown address) or
// FailedPrecondition (hostNetwork pod / node address), options.unknown_caller decides:
//   kDeny          every /computeMetadata/v1 request gets 403 (Google's page, with the resolver's
//   reason); kNodeIdentity  the node's facts are served with the node's Google service account
//                  (options.node_service_account) as the only identity: the broker is called with a
//                  Caller whose pod is {name: node name, host_network: true}, with empty namespace
//                  and KSA, and google_service_account = the node service account.
// Any other resolver error (an ambiguous address, a pod without its service account) -> 403 under
// every policy. A caller never gets another pod's identity.
//
// `email` (GKE rules): the KSA's `iam.gke.io/gcp-service-account` if set; else the principal
// identifier
// `principal://iam.googleapis.com/projects/NUM/locations/global/workloadIdentityPools/POOL/subject/ns/NS/sa/KSA`
// when `iam.gke.io/return-principal-id-as-email` is "true"; else `PROJECT_ID.svc.id.goog`. The
// service-accounts/ listing is `default/` plus `EMAIL/` when the email is addressable (contains no
// '/'). `token[?scopes=a,b]` -> {"access_token","expires_in" (whole seconds left, >
// 0),"token_type":"Bearer"}; `identity?audience=A[&format=standard|full][&licenses=TRUE]` -> the
// JWT as application/text; no audience
// -> 400. Broker errors go through gce_error() (gce_response.h): PermissionDenied 403, NotFound
// 404, ResourceExhausted 429, Unavailable 503, ...
//
// Route labels (request.route): gce.root, gce.listing, gce.redirect, gce.value, gce.recursive,
// gce.token, gce.identity, gce.rejected (header/method checks), gce.denied (caller refused),
// gce.not_found.
//
// Owned by the CLI wiring, which keeps the resolver, credentials and clock alive longer than the
// handler. Thread-safe: handle() runs concurrently on every worker executor; the World snapshot is
// swapped atomically by update_world(); waits use a steady_timer on the request's executor. stop()
// before the io_contexts stop.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "broker/caller.h"
#include "broker/google_credentials.h"
#include "common/clock.h"
#include "config/world.h"
#include "http/handler.h"
#include "metadata/caller_resolver.h"
#include "metadata/change_notifier.h"

namespace wims::metadata {

namespace gce_internal {
struct Query;
struct Identity;
}  // namespace gce_internal

struct GceMetadataOptions {
  config::UnknownCallerPolicy unknown_caller = config::UnknownCallerPolicy::kDeny;
  // The node's Google service account, served under kNodeIdentity. Empty: the Compute Engine
  // default service account `PROJECT_NUMBER-compute@developer.gserviceaccount.com`.
  std::string node_service_account;
  // What `service-accounts/*/scopes` lists (GKE nodes' defaults).
  std::vector<std::string> scopes = {"https://www.googleapis.com/auth/cloud-platform",
                                     "https://www.googleapis.com/auth/userinfo.email"};
  std::string universe_domain = "googleapis.com";
  // wait_for_change: the wait when `timeout_sec` is absent, and the cap on `timeout_sec`.
  absl::Duration max_wait = absl::Hours(1);
  // wait_for_change: concurrent waits across all workers; beyond it 429.
  size_t max_waiters = 4096;

  // The options World.metadata asks for (policy and node service account), other fields default.
  static GceMetadataOptions from_world(const config::World& world);
};

// The `email` a GCE client sees for `caller` (rules in the header comment).
std::string gce_service_account_email(const broker::Caller& caller);

// The Caller that stands for the node itself under kNodeIdentity.
broker::Caller node_caller(const config::World& world, const std::string& node_service_account);

class GceMetadataHandler final : public http::Handler {
 public:
  GceMetadataHandler(std::shared_ptr<const config::World> world, const CallerResolver& resolver,
                     broker::GoogleCredentials& credentials, const Clock& clock,
                     GceMetadataOptions options);

  boost::asio::awaitable<http::Response> handle(http::Request& request) override;

  // Serves `world` from now on (project, node and cluster facts) and wakes wait_for_change
  // requests, which answer at once if their value changed. The caller resolver is not touched (it
  // is the wiring's).
  void update_world(std::shared_ptr<const config::World> world);

  // Wakes every wait_for_change request (they answer with the current value) and stops new waits.
  void stop();

  // wait_for_change requests in progress.
  size_t waiters() const { return notifier_.waiters(); }

 private:
  using Query = gce_internal::Query;
  using Identity = gce_internal::Identity;

  // The identity for the resolver's answer about the caller (see the header comment for the
  // policies).
  absl::StatusOr<Identity> identify(absl::StatusOr<broker::Caller> resolved,
                                    const config::World& world) const;
  boost::asio::awaitable<http::Response> serve_v1(http::Request& request, const Query& query);
  boost::asio::awaitable<http::Response> serve_token(http::Request& request, const Query& query,
                                                     const broker::Caller& caller);
  boost::asio::awaitable<http::Response> serve_identity(http::Request& request, const Query& query,
                                                        const broker::Caller& caller);

  std::atomic<std::shared_ptr<const config::World>> world_;
  const CallerResolver& resolver_;
  broker::GoogleCredentials& credentials_;
  const Clock& clock_;
  const GceMetadataOptions options_;
  ChangeNotifier notifier_;
};

}  // namespace wims::metadata
