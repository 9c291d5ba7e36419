// Reflector: keeps a PodIndex in sync with the Kubernetes API server, the way client-go's reflector
// does.
//
//   Pods: list `/api/v1/pods?fieldSelector=spec.nodeName=NODE` (paged), then watch from the list's
//   resourceVersion with allowWatchBookmarks=true, applying ADDED / MODIFIED / DELETED and
//   advancing the resourceVersion on BOOKMARKs. A stream the server ends cleanly is resumed from
//   the last resourceVersion; an ERROR 410 Expired/Gone event (or an HTTP 410) relists; a broken
//   connection or an error reconnects after an exponential backoff with jitter (kube/backoff.h).
//   The index keeps serving meanwhile.
//
//   Service accounts: list all service accounts in pages (`limit`), keeping only those the node's
//   pods reference, and watch them cluster-wide, applying changes to referenced ones only; a pod
//   whose service account is not known yet triggers a GET of that one account. So memory grows with
//   the pods on this node, never with the service accounts in the cluster (the price: every
//   service-account change in the cluster crosses the watch, and is dropped unless referenced).
//
// Every applied event publishes a new snapshot (waking resolve_or_wait waiters).
//
// Lifecycle: start() runs everything on an io_context of its own, on one thread; stop() stops it
// and joins (pending API calls are abandoned). The ApiClient and PodIndex must outlive the
// Reflector. start/stop are called from one controlling thread; wait_synced() and stats() are
// thread-safe.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "kube/api_client.h"
#include "kube/backoff.h"
#include "kube/pod_index.h"

namespace wims::kube {

struct ReflectorOptions {
  // spec.nodeName of the pods to index (required).
  std::string node_name = {};
  BackoffOptions backoff = {};
  // Jitter source for the backoff (uniform [0, 1)); null: a process-wide generator.
  Backoff::Random random = {};
  // Items per list page.
  int64_t page_size = 500;
  // timeoutSeconds asked of the server for each watch.
  absl::Duration watch_timeout = absl::Minutes(5);
};

struct ReflectorStats {
  uint64_t pod_lists = 0;
  uint64_t service_account_lists = 0;
  uint64_t pod_watches = 0;
  uint64_t service_account_watches = 0;
  uint64_t relists_after_expiry = 0;  // 410 Expired / Gone
  uint64_t reconnects_after_error = 0;
  uint64_t events_applied = 0;
  uint64_t bookmarks = 0;
  std::string last_error = {};
};

class Reflector {
 public:
  Reflector(ApiClient& client, PodIndex& index, ReflectorOptions options);
  ~Reflector();
  Reflector(const Reflector&) = delete;
  Reflector& operator=(const Reflector&) = delete;

  // Starts the thread: initial list (retried with backoff until it succeeds), then the watches.
  void start();
  // Stops and joins. Idempotent.
  void stop();
  // Blocks until the initial lists are published (true) or `timeout` passes (false).
  bool wait_synced(absl::Duration timeout) const;
  ReflectorStats stats() const;

 private:
  // The two resources the reflector follows: the node's pods, and every service account (filtered
  // to those the pods reference).
  enum class Resource { kPods, kServiceAccounts };

  boost::asio::awaitable<void> run();
  // Watches `resource` from `resource_version` forever: reconnects after a clean end, relists after
  // 410 Expired, backs off after other errors.
  boost::asio::awaitable<void> watch(Resource resource, std::string resource_version);
  // Applies one ADDED/MODIFIED/DELETED event to the index; false when it was not for the index.
  boost::asio::awaitable<bool> apply_pod_event(const WatchEvent& event);
  bool apply_service_account_event(const WatchEvent& event);
  // Paged lists; return the list's resourceVersion.
  boost::asio::awaitable<absl::StatusOr<std::string>> list_pods();
  boost::asio::awaitable<absl::StatusOr<std::string>> list_service_accounts();
  // Every page of `path` (following continue tokens), each item to `on_item`; the resourceVersion
  // of the first page.
  boost::asio::awaitable<absl::StatusOr<std::string>> list_pages(
      std::string path, ListOptions options,
      std::function<void(const boost::json::object&)> on_item);
  // GETs the referenced service accounts not known yet.
  boost::asio::awaitable<absl::Status> fetch_unknown_service_accounts();
  // Repeats `list` with backoff until it succeeds; then publishes.
  boost::asio::awaitable<std::string> relist(bool pods);
  boost::asio::awaitable<void> sleep(absl::Duration duration);
  void record_error(const absl::Status& status, bool expired);

  ApiClient& client_;
  PodIndex& index_;
  const ReflectorOptions options_;
  std::unique_ptr<boost::asio::io_context> io_;
  std::thread thread_;

  mutable absl::Mutex mu_;
  bool synced_ ABSL_GUARDED_BY(mu_) = false;
  ReflectorStats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace wims::kube
