// ApiClient: typed calls to the Kubernetes API server over http::Client (list, get, version,
// TokenRequest, TokenReview) plus the watch stream, which http::Client cannot express (it reads
// whole bodies), so WatchStream opens its own connection with the same TLS context and reads the
// chunked, newline-delimited JSON events incrementally, one bounded line at a time.
//
//   auto client = ApiClient::create(*load_in_cluster_config(), {});
//   absl::StatusOr<ObjectList> pods =
//       co_await (*client)->list("/api/v1/pods", {.field_selector = "spec.nodeName=node-1"});
//   auto watch = co_await (*client)->watch("/api/v1/pods", {.field_selector = ...,
//   .resource_version =
//                                          pods->resource_version, .allow_bookmarks = true});
//   while (true) { absl::StatusOr<std::optional<WatchEvent>> event = co_await (*watch)->next(); ...
//   }
//
// Errors: an HTTP error answer maps by its code (401 Unauthenticated, 403 PermissionDenied, 404
// NotFound, 409 AlreadyExists, 400/422 InvalidArgument, 410 OutOfRange == "resource version
// expired", 429 ResourceExhausted, 5xx Unavailable) with the Status object's message; transport
// failures are Unavailable; malformed JSON is Internal. is_expired() recognises both the HTTP 410
// and the watch ERROR 410 event.
//
// Thread-safe: calls may run concurrently on any executor and resume there (http::Client's rules).
// A WatchStream belongs to one coroutine. The ApiClient must outlive its calls and streams.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "http/client.h"
#include "kube/kube_config.h"

namespace wims::kube {

struct ApiClientOptions {
  absl::Duration request_timeout = absl::Seconds(30);
  // A list answer (one page) may be this large.
  size_t list_body_limit = 64 << 20;
  // One watch event (one JSON line) may be this large.
  size_t max_event_bytes = 4 << 20;
};

struct ServerVersion {
  int major = 0;
  int minor = 0;
  std::string git_version = {};  // "v1.30.2-gke.1587003"
};

struct ObjectList {
  std::string resource_version = {};  // metadata.resourceVersion of the list
  std::string continue_token = {};    // metadata.continue ("" on the last page)
  std::vector<boost::json::object> items = {};
};

struct ListOptions {
  std::string field_selector = {};
  std::string label_selector = {};
  std::string resource_version = {};  // "" = most recent (a quorum read)
  int64_t limit = 0;                  // 0 = no paging
  std::string continue_token = {};
};

struct WatchOptions {
  std::string field_selector = {};
  std::string label_selector = {};
  std::string resource_version = {};
  bool allow_bookmarks = true;
  // Asked of the server (it ends the stream after about this long); the client read deadline is
  // this plus `idle_grace`.
  absl::Duration server_timeout = absl::Minutes(5);
  absl::Duration idle_grace = absl::Seconds(30);
};

enum class WatchEventType { kAdded, kModified, kDeleted, kBookmark, kError };

struct WatchEvent {
  WatchEventType type = WatchEventType::kAdded;
  // The object (for kError the Status object).
  boost::json::object object;
  // object.metadata.resourceVersion ("" when absent).
  std::string resource_version = {};
};

// The Status for an ERROR event's Status object (410 -> OutOfRange, recognised by is_expired()).
absl::Status status_from_kube_status(const boost::json::object& status_object, int http_status);
// True for "resource version too old" (HTTP 410 or a watch ERROR event with code 410 Expired/Gone).
bool is_expired(const absl::Status& status);
// FailedPrecondition unless the server is Kubernetes 1.24 or newer (bound service-account tokens).
absl::Status check_server_version(const ServerVersion& version);

class WatchStream {
 public:
  virtual ~WatchStream() = default;
  // The next event; nullopt when the server ended the stream cleanly (the caller re-watches from
  // the last resourceVersion it saw). Unavailable on a broken connection or a read deadline;
  // ResourceExhausted for an event over max_event_bytes; Internal for malformed JSON.
  virtual boost::asio::awaitable<absl::StatusOr<std::optional<WatchEvent>>> next() = 0;
  // Closes the connection (a pending next() completes with an error). Call on the stream's
  // executor.
  virtual void close() = 0;
};

struct TokenRequestSpec {
  std::vector<std::string> audiences = {};
  int64_t expiration_seconds = 3600;
  std::string pod_name = {};  // boundObjectRef (kind Pod); empty: an unbound token
  std::string pod_uid = {};
};

struct IssuedToken {
  std::string token = {};
  absl::Time expiration;
};

// The status of an authentication.k8s.io/v1 TokenReview.
struct TokenReviewStatus {
  bool authenticated = false;
  std::string username = {};  // "system:serviceaccount:NS:NAME"
  // user.extra: authentication.kubernetes.io/pod-name, pod-uid, ...
  std::map<std::string, std::vector<std::string>> extra = {};
  std::vector<std::string> audiences = {};
  std::string error = {};  // why not authenticated
};

class ApiClient {
 public:
  // InvalidArgument for bad TLS material; Unimplemented for options http::Client cannot honour yet
  // (insecure-skip-tls-verify, tls-server-name).
  static absl::StatusOr<std::unique_ptr<ApiClient>> create(KubeConfig config,
                                                           ApiClientOptions options = {});

  // GET /version.
  boost::asio::awaitable<absl::StatusOr<ServerVersion>> server_version();
  // GET `path` (a collection: "/api/v1/pods", "/api/v1/namespaces/NS/serviceaccounts").
  boost::asio::awaitable<absl::StatusOr<ObjectList>> list(std::string path, ListOptions options);
  // GET `path` (one object).
  boost::asio::awaitable<absl::StatusOr<boost::json::object>> get(std::string path);
  // GET `path`?watch=1&...: the open stream once the server answered 200.
  boost::asio::awaitable<absl::StatusOr<std::unique_ptr<WatchStream>>> watch(std::string path,
                                                                             WatchOptions options);
  // POST /api/v1/namespaces/NS/serviceaccounts/NAME/token (authentication.k8s.io/v1 TokenRequest).
  boost::asio::awaitable<absl::StatusOr<IssuedToken>> request_token(std::string ns,
                                                                    std::string service_account,
                                                                    TokenRequestSpec spec);

  // POST /apis/authentication.k8s.io/v1/tokenreviews: whether `token` is valid for one of
  // `audiences` (empty: the API server's). A token that is not authenticated is a successful review
  // with authenticated=false.
  boost::asio::awaitable<absl::StatusOr<TokenReviewStatus>> review_token(
      std::string token, std::vector<std::string> audiences);

  // The Authorization header value ("" when none): the static token or the token file's current
  // content.
  absl::StatusOr<std::string> bearer_token() const;
  const KubeConfig& config() const { return config_; }
  // The TLS context (for building other clients, e.g. broker::TokenRequestKsaTokenSource's
  // transport).
  std::shared_ptr<boost::asio::ssl::context> tls_context() const { return tls_; }
  http::Client& http_client() { return http_; }

 private:
  ApiClient(KubeConfig config, ApiClientOptions options,
            std::shared_ptr<boost::asio::ssl::context> tls);
  boost::asio::awaitable<absl::StatusOr<http::Response>> call(http::beast_http::verb method,
                                                              std::string target, std::string body,
                                                              size_t body_limit);

  const KubeConfig config_;
  const ApiClientOptions options_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  std::unique_ptr<BearerTokenFile> token_file_;
  http::Client http_;
};

}  // namespace wims::kube
