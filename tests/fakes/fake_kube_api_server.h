// FakeKubeApiServer: an in-process Kubernetes API server for tests, speaking the real wire format
// on 127.0.0.1 or ::1 (port 0): JSON PodList / ServiceAccountList with metadata.resourceVersion
// (and limit/continue paging), the chunked newline-delimited watch stream (synthetic ADDED for an
// unset or "0" resourceVersion, ADDED/MODIFIED/DELETED relative to fieldSelector spec.nodeName,
// BOOKMARKs carrying only metadata.resourceVersion when allowWatchBookmarks=true, and for a
// compacted resourceVersion HTTP 200 then
// {"type":"ERROR","object":{"kind":"Status",...,"reason":"Expired","code":410}}), GET of one
// service account, the TokenRequest API with the API server's validation errors (expirationSeconds
// < 600 -> 422, > 2^32 -> 422, a bound kind other than Pod/Secret/Node -> 400, a pod of another
// service account -> 400, a UID mismatch -> 409, unknown service account or pod -> 404; 201 on
// success), the TokenReview API for the tokens it minted (signature-free: the claims travel in the
// token; expiry, audience, and that the service account and bound pod still exist with the same
// uid) and GET /version.
//
// Not built on http::Server: its Handler returns whole responses and cannot stream a watch, so this
// fake runs its own Beast listener on one io_context thread.
//
// Test controls (thread-safe, callable from the test thread while clients run): upsert/delete pods
// and service accounts (each write bumps the resourceVersion and feeds open watches), bookmark(),
// compact() (forget history: older resourceVersions get 410), set_outage() (close every open
// connection and close new ones at accept until lifted), end_watches() (end open streams cleanly,
// as the server does at timeoutSeconds).
//
// tests/fakes/fake_kube_api_server_main.cc wraps it as a standalone process for end-to-end tests of
// the `wims` binary (kubeconfig file out, objects in as JSON lines on stdin).
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"

namespace wims::fakes {

struct FakeKubeApiServerOptions {
  std::string listen_host = "127.0.0.1";  // or "::1"
  // Non-empty: every request must carry "Authorization: Bearer <required_token>" (else 401).
  std::string required_token = {};
  std::string major = "1";
  std::string minor = "30";
  std::string git_version = "v1.30.2";
  // The reason of the 410 ERROR event: "Expired" (current servers) or "Gone" (older ones).
  std::string expired_reason = "Expired";
  // Answer a too-old watch with a plain HTTP 410 instead of 200 + ERROR event.
  bool expired_as_http_410 = false;
  const Clock* clock = nullptr;  // default: SystemClock
  // Set: a TokenRequest that passed the fake's validation is answered by this function (status code
  // and body) instead of the fake's own unsigned token, e.g. forwarded to an issuer that a cloud
  // trusts. Called on the server thread with the namespace, service account and request body; it
  // may block (tests only).
  std::function<std::pair<int, boost::json::object>(
      const std::string& ns, const std::string& service_account, const std::string& body)>
      token_minter = {};
  // Set: a TokenReview (its request body) is answered by this function instead of the fake's own
  // review of the tokens it minted. Called on the server thread; it may block (tests only).
  std::function<std::pair<int, boost::json::object>(const std::string& body)> token_reviewer = {};
};

struct FakePodSpec {
  std::string namespace_name = "default";
  std::string name = {};
  std::string uid = {};
  std::string node_name = {};
  std::string service_account = "default";
  std::vector<std::string> ips = {};
  bool host_network = false;
  std::string phase = "Running";
  bool terminating = false;
  std::map<std::string, std::string> labels = {};
  std::map<std::string, std::string> annotations = {};
};

class FakeKubeApiServer {
 public:
  using Options = FakeKubeApiServerOptions;

  explicit FakeKubeApiServer(Options options = {});
  ~FakeKubeApiServer();
  FakeKubeApiServer(const FakeKubeApiServer&) = delete;
  FakeKubeApiServer& operator=(const FakeKubeApiServer&) = delete;

  // Binds listen_host:0 and starts the serving thread.
  absl::Status start();
  void stop();
  // "http://127.0.0.1:PORT" or "http://[::1]:PORT".
  std::string url() const;

  // Pod and ServiceAccount JSON as the API server returns them.
  static boost::json::object make_pod(const FakePodSpec& spec);
  static boost::json::object make_service_account(
      const std::string& ns, const std::string& name, const std::string& uid,
      const std::map<std::string, std::string>& annotations = {});

  // Creates or replaces the object (keyed by metadata.namespace/name), sets
  // metadata.resourceVersion and returns it. A replacement with a different metadata.uid is a
  // delete + create, as in a real cluster.
  int64_t upsert_pod(boost::json::object pod);
  int64_t upsert_pod(const FakePodSpec& spec) { return upsert_pod(make_pod(spec)); }
  int64_t upsert_service_account(boost::json::object service_account);
  // Returns false when absent.
  bool delete_pod(const std::string& ns, const std::string& name);
  bool delete_service_account(const std::string& ns, const std::string& name);

  // Sends a BOOKMARK (the current resourceVersion) to every watcher that allowed bookmarks.
  void bookmark();
  // Forgets the history: a watch from any resourceVersion before the current one gets 410.
  void compact();
  // While on: open connections are closed and new ones are closed at accept.
  void set_outage(bool on);
  // Ends every open watch cleanly (last chunk), as the server does at timeoutSeconds.
  void end_watches();

  int64_t resource_version() const;
  size_t list_requests() const { return list_requests_.load(); }
  size_t watch_requests() const { return watch_requests_.load(); }
  size_t token_requests() const { return token_requests_.load(); }
  size_t token_reviews() const { return token_reviews_.load(); }
  // Watches currently streaming (for tests waiting until a client is attached).
  size_t open_watches() const { return open_watches_.load(); }

 private:
  struct Event {
    int64_t rv = 0;
    std::string resource;  // "pods", "serviceaccounts", "" for a bookmark
    std::string type;      // ADDED / MODIFIED / DELETED / BOOKMARK
    std::optional<boost::json::object> before;
    std::optional<boost::json::object> after;
  };
  struct Session;
  struct Watcher;
  class Impl;

  int64_t write_object(const std::string& resource, boost::json::object object);
  bool delete_object(const std::string& resource, const std::string& ns, const std::string& name);
  void notify();

  const Options options_;
  const Clock& clock_;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
  std::atomic<size_t> list_requests_{0}, watch_requests_{0}, token_requests_{0}, token_reviews_{0},
      open_watches_{0};

  mutable absl::Mutex mu_;
  int64_t rv_ ABSL_GUARDED_BY(mu_) = 1000;
  int64_t compacted_rv_ ABSL_GUARDED_BY(mu_) = 0;
  bool outage_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t end_generation_ ABSL_GUARDED_BY(mu_) = 0;
  // resource -> "ns/name" -> object.
  std::map<std::string, std::map<std::string, boost::json::object>> objects_ ABSL_GUARDED_BY(mu_);
  std::vector<Event> history_ ABSL_GUARDED_BY(mu_);
  friend class Impl;
};

}  // namespace wims::fakes
