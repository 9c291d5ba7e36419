// Server: one HTTP/1.x listener (the node metadata server, the embedded local cloud, the admin
// endpoints each run one). Beast listener -> session shape on C++20 coroutines, running on the
// share-nothing WorkerPool:
//
//   Acceptance: ONE acceptor (on worker 0) hands each accepted connection round-robin to a worker
//   (`async_accept(worker_executor)` creates the socket on that worker's io_context); the
//   connection then lives on that worker for life. Chosen over SO_REUSEPORT acceptors per worker
//   because it gives port 0 a single well-defined port, counts max_connections at one place,
//   distributes evenly even with few connections (the kernel's REUSEPORT hash does not), and makes
//   stop() close exactly one socket without resetting connections queued in other acceptors'
//   backlogs. Accepting is cheap next to serving.
//
//   A listener on "[::]:PORT" is dual-stack (IPV6_V6ONLY off) and serves IPv4 too; IPv4-mapped
//   peers
//   (::ffff:a.b.c.d) are normalised to IPv4 in Request::peer/local, because callers are identified
//   by IP.
//
//   Per request: a deadline on every read (read_timeout for a request once its first byte arrived
//   or for the first request of a connection, idle_timeout between keep-alive requests) and every
//   write (write_timeout); header limit -> 431, body limit -> 413, malformed -> 400, all with
//   Connection: close. Framing Beast accepts but RFC 9112 forbids is answered 400 and the
//   connection closed before any body byte is read (no request smuggling): a Transfer-Encoding
//   other than a lone "chunked" (identity, gzip, "chunked, identity"...), Transfer-Encoding in
//   HTTP/1.0, two Host headers, no Host in HTTP/1.1. "Expect: 100-continue" is answered. The target
//   must be origin-form; its path is canonicalised (http/canonical_path.h) and a failure is
//   answered 400 in plain text with the reason; the query must be valid RFC 3986 (else 400). Then
//   Request is filled and the Handler called.
//
//   Handler errors: an exception escaping Handler::handle is a bug; it is caught here, logged at
//   error and answered 500. A handler running longer than handler_timeout is cancelled (Asio
//   terminal cancellation of its pending operation) and answered 504 Gateway Timeout: handlers
//   mostly wait on upstreams (STS, IAM, the API server), so a gateway timeout is the honest status;
//   the connection stays usable. Handlers that ignore cancellation delay stop().
//
//   Bounded connections: when max_connections are open, a new connection is answered
//   "503 Service Unavailable" with "Retry-After: 1" and closed (never a silent hang); at most
//   kMaxRejecting such answers are in flight, beyond that new connections are closed at once.
//
//   Keep-alive for HTTP/1.1 (unless "Connection: close") and HTTP/1.0 with "Connection:
//   keep-alive". Responses get Content-Length and Connection set here; HEAD responses carry the
//   headers only.
//
//   TLS (optional): with ServerOptions::tls set the listener speaks HTTPS only. Each connection
//   takes the credentials' current context (http/tls_credentials.h: cert + key files, reloaded when
//   they change) and does the server handshake within read_timeout before its first request; a
//   failed handshake is logged at debug, counted in
//   `wims_http_tls_handshake_failures_total{listener}` and closed. Everything after the handshake
//   (limits, deadlines, keep-alive, drain) is the same code as for plain HTTP. Connections are
//   closed without a TLS close_notify (responses are delimited by Content-Length).
//
//   Observability: `wims_http_requests_total{listener,route,status}`,
//   `wims_http_request_duration_seconds{listener,route}` (first byte to response written),
//   `wims_http_connections_rejected_total{listener}`; with access_log, one JSON line per request at
//   info:
//   {"access":listener,"method","path","route","status","peer","latency_ms","bytes"}. `route` is
//   what the handler set in Request::route, "none" when empty or when the request never reached the
//   handler.
//
// Lifecycle: start() binds synchronously (so errors such as "address in use" are returned and
// local_endpoint() is valid at once) and may be called before or after WorkerPool::start(). stop()
// stops accepting, closes idle keep-alive connections, lets requests already being read or handled
// finish within drain_timeout (their responses carry Connection: close), then closes whatever
// remains and waits for every session to end. stop() blocks: call it from a controlling thread,
// never from a worker, and before WorkerPool::stop(). The destructor calls stop(). Handler,
// WorkerPool and Metrics must outlive the Server. start/stop are not thread-safe against each
// other; local_endpoint() is.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "http/canonical_path.h"
#include "http/handler.h"
#include "http/metrics.h"
#include "http/tls_credentials.h"
#include "http/worker_pool.h"

namespace wims::http {

struct ServerOptions {
  // Listener name: the `listener` label in metrics and the access log ("gce", "cloud", "admin").
  std::string name;
  // "HOST:PORT" (http/endpoint.h); port 0 picks a free port, see Server::local_endpoint().
  std::string listen;
  size_t max_connections = 4096;
  // Request line + headers.
  size_t header_limit_bytes = 16384;
  size_t body_limit_bytes = 1 << 20;
  // Reading one request, from its first byte (and the first request of a new connection from
  // accept).
  absl::Duration read_timeout = absl::Seconds(10);
  // Waiting for the next request on a keep-alive connection.
  absl::Duration idle_timeout = absl::Seconds(60);
  absl::Duration handler_timeout = absl::Seconds(30);
  // How long stop() lets in-flight requests finish before closing their connections.
  absl::Duration drain_timeout = absl::Seconds(5);
  bool access_log = true;
  // Writing one response (added beyond the original contract: every write has a deadline too).
  absl::Duration write_timeout = absl::Seconds(10);
  // Accept "%2F" in paths, kept encoded in Request::path (http/canonical_path.h); for APIs with '/'
  // in resource names (the local cloud's Cloud Storage). Never on the metadata listener.
  bool keep_encoded_slash = false;
  // HTTPS with these credentials; nullptr: plain HTTP.
  std::shared_ptr<ServerTlsCredentials> tls = nullptr;
};

class Server {
 public:
  // Connections beyond max_connections that may be receiving their 503 at the same time.
  static constexpr size_t kMaxRejecting = 64;

  Server(ServerOptions options, Handler& handler, WorkerPool& workers, Metrics& metrics);
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server();

  // Binds and listens on options.listen and starts accepting. InvalidArgument for a bad listen
  // address, Unavailable when the socket cannot be bound (address in use, permission). Call once.
  absl::Status start();
  // The bound address (with the real port when options.listen used port 0). Valid after start()
  // succeeded.
  boost::asio::ip::tcp::endpoint local_endpoint() const { return local_endpoint_; }
  // Graceful shutdown (see above). Idempotent; blocks for at most about drain_timeout plus the time
  // handlers take to honour cancellation.
  void stop();

 private:
  struct Connection;
  struct WorkerState;
  enum class Phase { kIdle, kReading, kHandling, kWriting };

  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> run_session(boost::asio::ip::tcp::socket socket, size_t worker);
  struct Peer;
  boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket, size_t worker);
  // The request loop on a plain (beast::tcp_stream) or TLS (beast::ssl_stream<tcp_stream>) stream.
  template <class Stream>
  boost::asio::awaitable<void> serve_stream(Stream& stream, const Peer& peer, size_t worker);
  boost::asio::awaitable<void> reject_connection(boost::asio::ip::tcp::socket socket);
  boost::asio::awaitable<Response> call_handler(Request* request);
  void session_ended(bool counted_connection);

  const ServerOptions options_;
  // Built once here: GCC 12 crashes (ICE) on a CanonicalPathOptions constructed inside the request
  // coroutine.
  const CanonicalPathOptions path_options_{.keep_encoded_slash = options_.keep_encoded_slash};
  // canonicalize_path with path_options_ (a plain function, called from the request coroutine).
  absl::StatusOr<std::string> canonical_path(std::string_view raw_path) const;
  Handler& handler_;
  WorkerPool& workers_;
  Metrics& metrics_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::ip::tcp::endpoint local_endpoint_;
  // One per worker; touched only on that worker's thread (sessions register, stop() posts tasks
  // there).
  std::vector<std::unique_ptr<WorkerState>> worker_states_;
  size_t next_worker_ = 0;  // accept loop only
  std::atomic<bool> draining_{false};
  bool started_ = false;
  bool stopped_ = false;

  absl::Mutex mu_;
  size_t active_connections_ ABSL_GUARDED_BY(mu_) = 0;
  size_t rejecting_ ABSL_GUARDED_BY(mu_) = 0;
  // Coroutines that reference *this: the accept loop, sessions and 503 answers.
  size_t outstanding_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace wims::http
