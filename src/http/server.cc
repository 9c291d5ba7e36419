#include "http/server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/url/parse_query.hpp>
#include <chrono>
#include <exception>
#include <type_traits>
#include <utility>
#include <variant>

#include "absl/container/flat_hash_set.h"
#include "absl/time/clock.h"
#include "fmt/format.h"
#include "http/canonical_path.h"
#include "http/endpoint.h"

namespace wims::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
// After an error answer the connection is half-closed and unread input is drained for at most this
// long (or this many bytes), so that closing with unread data does not reset the connection before
// the client has read the answer (RFC 9112 section 9.6, "lingering close").
constexpr auto kLingerTime = std::chrono::seconds(1);
constexpr size_t kLingerBytes = 256 * 1024;

constexpr std::string_view kBusyBody = "server busy, retry later\n";

std::chrono::steady_clock::duration to_chrono(absl::Duration d) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      absl::ToChronoNanoseconds(d));
}

Response plain(beast_http::status status, std::string body) {
  return make_response(status, "text/plain; charset=utf-8", std::move(body));
}

bool is_parse_error(const beast::error_code& ec) {
  return ec.category() == beast_http::make_error_code(beast_http::error::bad_target).category() &&
         ec != beast_http::error::end_of_stream && ec != beast_http::error::partial_message;
}

// Framing that Beast's parser accepts but RFC 9112 forbids, checked once the head is read; ""
// when the request may be served. Beast treats a Transfer-Encoding whose final coding is not
// "chunked" (identity, gzip, xchunked, "chunked, identity") as an empty body, so the body would be
// parsed as the next request (request smuggling): RFC 9112 section 6.3 says 400 and close. Codings
// other than a lone "chunked" are refused too, since nothing here decodes them; so is
// Transfer-Encoding in HTTP/1.0 (section 6.1). Section 3.2: exactly one Host in HTTP/1.1, at most
// one in HTTP/1.0.
std::string framing_error(const beast_http::request_parser<beast_http::string_body>& parser) {
  const RawRequest& head = parser.get();
  const size_t codings = head.count(beast_http::field::transfer_encoding);
  if (codings > 0) {
    if (head.version() < 11) return "Transfer-Encoding in an HTTP/1.0 request";
    if (!parser.chunked()) return "the final transfer coding is not chunked";
    std::string_view value = head[beast_http::field::transfer_encoding];
    if (codings != 1 || !beast::iequals(value, "chunked")) return "unsupported transfer coding";
  }
  const size_t hosts = head.count(beast_http::field::host);
  if (hosts > 1) return "more than one Host header";
  if (hosts == 0 && head.version() >= 11) return "missing Host header";
  return "";
}

// Half-closes and drains unread input so the peer reads our final answer before the close.
asio::awaitable<void> linger_close(beast::tcp_stream& stream) {
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (!ec) {
    stream.expires_after(kLingerTime);
    std::array<char, 4096> discard;
    size_t drained = 0;
    while (drained < kLingerBytes) {
      auto [read_ec, n] = co_await stream.async_read_some(asio::buffer(discard), kNoThrow);
      if (read_ec) break;
      drained += n;
    }
  }
  stream.socket().close(ec);
}

}  // namespace

struct Server::Connection {
  beast::tcp_stream* stream = nullptr;
  Phase phase = Phase::kIdle;
  asio::steady_timer* handler_timer = nullptr;  // set while the handler runs
  bool force_closed = false;
};

struct Server::WorkerState {
  absl::flat_hash_set<Connection*> connections;
};

Server::Server(ServerOptions options, Handler& handler, WorkerPool& workers, Metrics& metrics)
    : options_(std::move(options)),
      handler_(handler),
      workers_(workers),
      metrics_(metrics),
      acceptor_(asio::any_io_executor(workers.executor(0))) {
  for (size_t i = 0; i < workers_.size(); ++i)
    worker_states_.push_back(std::make_unique<WorkerState>());
  metrics_.describe_counter("wims_http_requests_total",
                            "HTTP requests by listener, route and status.");
  metrics_.describe_histogram("wims_http_request_duration_seconds",
                              "HTTP request latency from first byte to response written.");
  metrics_.describe_counter("wims_http_connections_rejected_total",
                            "Connections answered 503 because max_connections were open.");
  if (options_.tls != nullptr) {
    metrics_.describe_counter("wims_http_tls_handshake_failures_total",
                              "TLS handshakes that failed.");
  }
}

Server::~Server() { stop(); }

absl::Status Server::start() {
  if (started_) return absl::FailedPreconditionError("server already started");
  auto endpoint = parse_endpoint(options_.listen);
  if (!endpoint.ok()) return endpoint.status();
  auto fail = [&](std::string_view what, const beast::error_code& ec) {
    beast::error_code ignored;
    acceptor_.close(ignored);
    return absl::UnavailableError(
        fmt::format("{}: cannot {} {}: {}", options_.name, what, options_.listen, ec.message()));
  };
  beast::error_code ec;
  acceptor_.open(endpoint->protocol(), ec);
  if (ec) return fail("open a socket for", ec);
  if (endpoint->address().is_v6()) {
    // Dual-stack: "[::]" also accepts IPv4 (as v4-mapped addresses, normalised in Request).
    acceptor_.set_option(asio::ip::v6_only(false), ec);
    if (ec) return fail("enable dual-stack on", ec);
  }
  acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) return fail("set SO_REUSEADDR on", ec);
  acceptor_.bind(*endpoint, ec);
  if (ec) return fail("bind", ec);
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen on", ec);
  local_endpoint_ = acceptor_.local_endpoint(ec);
  if (ec) return fail("read the local address of", ec);
  started_ = true;
  {
    absl::MutexLock lock(&mu_);
    ++outstanding_;
  }
  asio::co_spawn(acceptor_.get_executor(), accept_loop(), asio::detached);
  spdlog::info("{}: listening on {}", options_.name, format_endpoint(local_endpoint_));
  return absl::OkStatus();
}

asio::awaitable<void> Server::accept_loop() {
  for (;;) {
    size_t worker = next_worker_++ % workers_.size();
    auto [ec, socket] =
        co_await acceptor_.async_accept(asio::any_io_executor(workers_.executor(worker)), kNoThrow);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) break;
      spdlog::warn("{}: accept failed: {}", options_.name, ec.message());
      // Out of descriptors or similar: back off instead of spinning on the error.
      asio::steady_timer backoff(acceptor_.get_executor(), std::chrono::milliseconds(50));
      co_await backoff.async_wait(kNoThrow);
      continue;
    }
    if (draining_.load()) {
      beast::error_code ignored;
      socket.close(ignored);
      continue;
    }
    enum { kServe, kReject, kDrop } decision = kDrop;
    {
      absl::MutexLock lock(&mu_);
      if (active_connections_ < options_.max_connections) {
        ++active_connections_;
        ++outstanding_;
        decision = kServe;
      } else if (rejecting_ < kMaxRejecting) {
        ++rejecting_;
        ++outstanding_;
        decision = kReject;
      }
    }
    auto executor = socket.get_executor();
    switch (decision) {
      case kServe:
        asio::co_spawn(executor, run_session(std::move(socket), worker), asio::detached);
        break;
      case kReject:
        metrics_.increment("wims_http_connections_rejected_total", {{"listener", options_.name}});
        asio::co_spawn(executor, reject_connection(std::move(socket)), asio::detached);
        break;
      case kDrop: {
        metrics_.increment("wims_http_connections_rejected_total", {{"listener", options_.name}});
        beast::error_code ignored;
        socket.close(ignored);
        break;
      }
    }
  }
  absl::MutexLock lock(&mu_);
  --outstanding_;
}

void Server::session_ended(bool counted_connection) {
  absl::MutexLock lock(&mu_);
  if (counted_connection) {
    --active_connections_;
  } else {
    --rejecting_;
  }
  --outstanding_;
}

asio::awaitable<void> Server::reject_connection(tcp::socket socket) {
  try {
    beast::tcp_stream stream(std::move(socket));
    static const std::string kAnswer = fmt::format(
        "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: text/plain; "
        "charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        kBusyBody.size(), kBusyBody);
    stream.expires_after(kLingerTime);
    auto [ec, n] = co_await asio::async_write(stream, asio::buffer(kAnswer), kNoThrow);
    if (!ec) co_await linger_close(stream);
  } catch (const std::exception& e) {
    spdlog::error("{}: rejecting a connection failed: {}", options_.name, e.what());
  }
  session_ended(/*counted_connection=*/false);
}

asio::awaitable<void> Server::run_session(tcp::socket socket, size_t worker) {
  try {
    co_await serve(std::move(socket), worker);
  } catch (const std::exception& e) {
    // Only a bug (or bad_alloc) gets here: handler exceptions are caught in call_handler.
    spdlog::error("{}: session failed: {}", options_.name, e.what());
  }
  session_ended(/*counted_connection=*/true);
}

asio::awaitable<Response> Server::call_handler(Request* request) {
  try {
    co_return co_await handler_.handle(*request);
  } catch (const boost::system::system_error& e) {
    // operation_aborted is how a handler sees handler_timeout or stop(): not a bug.
    if (e.code() == asio::error::operation_aborted) {
      spdlog::debug("{}: handler for {} cancelled", options_.name, request->path);
    } else {
      spdlog::error("{}: handler for {} {} threw: {}", options_.name,
                    std::string(beast_http::to_string(request->method())), request->path, e.what());
    }
  } catch (const std::exception& e) {
    spdlog::error("{}: handler for {} {} threw: {}", options_.name,
                  std::string(beast_http::to_string(request->method())), request->path, e.what());
  } catch (...) {
    spdlog::error("{}: handler for {} threw a non-exception", options_.name, request->path);
  }
  co_return plain(beast_http::status::internal_server_error, "internal server error\n");
}

absl::StatusOr<std::string> Server::canonical_path(std::string_view raw_path) const {
  return canonicalize_path(raw_path, path_options_);
}

struct Server::Peer {
  tcp::endpoint remote;
  tcp::endpoint local;
  asio::ip::address address;        // normalised remote address
  asio::ip::address local_address;  // normalised local address
  std::string text;
};

asio::awaitable<void> Server::serve(tcp::socket socket, size_t worker) {
  beast::error_code ec;
  // Responses are written as header + body; without TCP_NODELAY the second segment can wait for the
  // peer's delayed ACK (~40 ms).
  socket.set_option(tcp::no_delay(true), ec);
  Peer peer;
  peer.remote = socket.remote_endpoint(ec);
  peer.local = socket.local_endpoint(ec);
  peer.address = normalize_address(peer.remote.address());
  peer.local_address = normalize_address(peer.local.address());
  peer.text = peer.address.to_string();
  if (options_.tls == nullptr) {
    beast::tcp_stream stream(std::move(socket));
    co_await serve_stream(stream, peer, worker);
  } else {
    // The connection keeps its context alive for its lifetime, whatever reloads happen meanwhile.
    std::shared_ptr<asio::ssl::context> context = options_.tls->context();
    beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), *context);
    co_await serve_stream(stream, peer, worker);
  }
}

template <class Stream>
asio::awaitable<void> Server::serve_stream(Stream& stream, const Peer& peer, size_t worker) {
  using asio::experimental::awaitable_operators::operator||;
  constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;
  beast::error_code ec;
  beast::tcp_stream& lowest = beast::get_lowest_layer(stream);
  const tcp::endpoint& remote = peer.remote;
  const tcp::endpoint& local = peer.local;
  const std::string& peer_text = peer.text;

  Connection connection;
  connection.stream = &lowest;
  WorkerState& state = *worker_states_[worker];
  state.connections.insert(&connection);
  struct Unregister {
    WorkerState& state;
    Connection* connection;
    ~Unregister() { state.connections.erase(connection); }
  } unregister{state, &connection};

  if constexpr (kTls) {
    // Phase kIdle: stop() cancels a handshake in progress like an idle connection.
    lowest.expires_after(to_chrono(options_.read_timeout));
    auto [handshake_ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, kNoThrow);
    if (handshake_ec) {
      spdlog::debug("{}: TLS handshake with {} failed: {}", options_.name, peer_text,
                    handshake_ec.message());
      metrics_.increment("wims_http_tls_handshake_failures_total", {{"listener", options_.name}});
      lowest.socket().close(ec);
      co_return;
    }
  }

  beast::flat_buffer buffer;
  bool first_request = true;
  bool linger = false;  // close with a lingering close after an error answer
  for (;;) {
    if (draining_.load()) break;
    if (buffer.size() == 0) {
      // Wait for the first byte of the next request; stop() cancels connections waiting here.
      connection.phase = Phase::kIdle;
      lowest.expires_after(
          to_chrono(first_request ? options_.read_timeout : options_.idle_timeout));
      auto [read_ec, n] = co_await stream.async_read_some(buffer.prepare(4096), kNoThrow);
      if (read_ec) break;  // timeout, peer closed, or stop()
      buffer.commit(n);
    }
    first_request = false;
    connection.phase = Phase::kReading;
    const auto started = std::chrono::steady_clock::now();
    lowest.expires_after(to_chrono(options_.read_timeout));

    beast_http::request_parser<beast_http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options_.header_limit_bytes));
    parser.body_limit(options_.body_limit_bytes);
    auto [header_ec, header_n] =
        co_await beast_http::async_read_header(stream, buffer, parser, kNoThrow);
    beast::error_code read_ec = header_ec;
    std::string framing = read_ec ? std::string() : framing_error(parser);
    if (!framing.empty()) {
      // Answered before any body byte is read, and the connection closed: what follows the head
      // cannot be delimited.
      spdlog::debug("{}: refused request from {}: {}", options_.name, peer_text, framing);
    } else if (!read_ec && !parser.is_done()) {
      auto expect = parser.get()[beast_http::field::expect];
      if (parser.get().version() >= 11 && beast::iequals(expect, "100-continue")) {
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        lowest.expires_after(to_chrono(options_.write_timeout));
        auto [write_ec, wn] = co_await asio::async_write(stream, asio::buffer(kContinue), kNoThrow);
        if (write_ec) break;
        lowest.expires_after(to_chrono(options_.read_timeout));
      }
      auto [body_ec, body_n] = co_await beast_http::async_read(stream, buffer, parser, kNoThrow);
      read_ec = body_ec;
    }

    Request request;
    request.peer = peer.address;
    request.peer_port = remote.port();
    request.local = peer.local_address;
    request.local_port = local.port();
    Response response;
    bool keep_alive = false;
    std::string log_path;
    if (!framing.empty()) {
      response = plain(beast_http::status::bad_request,
                       fmt::format("malformed HTTP request: {}\n", framing));
      linger = true;
    } else if (read_ec == beast_http::error::header_limit) {
      response = plain(beast_http::status::request_header_fields_too_large,
                       "request header fields too large\n");
      linger = true;
    } else if (read_ec == beast_http::error::body_limit) {
      response = plain(beast_http::status::payload_too_large, "request body too large\n");
      linger = true;
    } else if (read_ec && is_parse_error(read_ec)) {
      response = plain(beast_http::status::bad_request,
                       fmt::format("malformed HTTP request: {}\n", read_ec.message()));
      linger = true;
    } else if (read_ec) {
      break;  // read deadline, reset, or EOF in the middle of a request: nothing to answer
    } else {
      request.message = parser.release();
      keep_alive = request.message.keep_alive();
      std::string_view target = request.message.target();
      size_t question = target.find('?');
      std::string_view raw_path = target.substr(0, question);
      std::string_view raw_query =
          question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
      log_path = std::string(raw_path);
      absl::StatusOr<std::string> path = canonical_path(raw_path);
      if (!path.ok()) {
        response =
            plain(beast_http::status::bad_request, std::string(path.status().message()) + "\n");
      } else if (!raw_query.empty() && !boost::urls::parse_query(std::string(raw_query))) {
        // (The copy is NUL-terminated: Boost.URL 1.81's compiled parse_query reads its input with
        // strlen, past the end of a view into Beast's target buffer; found by ASan in
        // ServerTest.RoundTripIPv4.)
        response = plain(beast_http::status::bad_request, "invalid request query\n");
      } else {
        request.path = *std::move(path);
        request.query = std::string(raw_query);
        log_path = request.path;
        connection.phase = Phase::kHandling;
        asio::steady_timer handler_timer(co_await asio::this_coro::executor);
        handler_timer.expires_after(to_chrono(options_.handler_timeout));
        connection.handler_timer = &handler_timer;
        auto outcome = co_await (call_handler(&request) || handler_timer.async_wait(kNoThrow));
        connection.handler_timer = nullptr;
        if (connection.force_closed) break;
        if (outcome.index() == 0) {
          response = std::get<0>(std::move(outcome));
        } else {
          spdlog::warn("{}: handler for {} exceeded {}", options_.name, request.path,
                       absl::FormatDuration(options_.handler_timeout));
          response = plain(beast_http::status::gateway_timeout, "handler timed out\n");
        }
      }
    }

    // Finalise: version, keep-alive, Content-Length; HEAD gets the headers only.
    connection.phase = Phase::kWriting;
    if (linger || draining_.load() || !response.keep_alive()) keep_alive = false;
    response.version(request.message.version() == 10 ? 10 : 11);
    response.keep_alive(keep_alive);
    const unsigned status_code = response.result_int();
    const size_t body_bytes = response.body().size();
    if (status_code < 200 || status_code == 204 || status_code == 304) {
      response.body().clear();
      response.prepare_payload();
    } else {
      response.content_length(body_bytes);
    }
    if (request.message.method() == beast_http::verb::head) response.body().clear();
    lowest.expires_after(to_chrono(options_.write_timeout));
    auto [write_ec, written] = co_await beast_http::async_write(stream, response, kNoThrow);

    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const std::string route = request.route.empty() ? "none" : request.route;
    const std::string status_text = std::to_string(status_code);
    metrics_.increment("wims_http_requests_total",
                       {{"listener", options_.name}, {"route", route}, {"status", status_text}});
    metrics_.observe("wims_http_request_duration_seconds",
                     {{"listener", options_.name}, {"route", route}}, seconds);
    if (options_.access_log) {
      boost::json::object line;
      line["access"] = options_.name;
      line["method"] = std::string(beast_http::to_string(request.message.method()));
      line["path"] = log_path;
      line["route"] = route;
      line["status"] = status_code;
      line["peer"] = peer_text;
      line["latency_ms"] = seconds * 1000.0;
      line["bytes"] = body_bytes;
      spdlog::info("{}", boost::json::serialize(line));
    }
    if (write_ec || !keep_alive) break;
  }
  if (linger && !connection.force_closed) {
    co_await linger_close(lowest);
  } else {
    lowest.socket().shutdown(tcp::socket::shutdown_both, ec);
    lowest.socket().close(ec);
  }
}

void Server::stop() {
  if (!started_ || stopped_) return;
  stopped_ = true;
  draining_.store(true);
  const absl::Time begin = absl::Now();
  asio::post(acceptor_.get_executor(), [this] {
    beast::error_code ignored;
    acceptor_.close(ignored);
  });
  // Close connections idling between requests; the others see draining_ after their response.
  for (size_t i = 0; i < workers_.size(); ++i) {
    asio::post(workers_.executor(i), [this, i] {
      for (Connection* c : worker_states_[i]->connections) {
        if (c->phase == Phase::kIdle) c->stream->cancel();
      }
    });
  }
  {
    absl::MutexLock lock(&mu_);
    auto drained = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return active_connections_ == 0; };
    mu_.AwaitWithTimeout(absl::Condition(&drained), options_.drain_timeout);
  }
  // Whatever is left did not finish in time: close it and cancel its handler.
  for (size_t i = 0; i < workers_.size(); ++i) {
    asio::post(workers_.executor(i), [this, i] {
      for (Connection* c : worker_states_[i]->connections) {
        c->force_closed = true;
        beast::error_code ignored;
        c->stream->socket().close(ignored);
        if (c->handler_timer != nullptr) c->handler_timer->cancel();
      }
    });
  }
  absl::MutexLock lock(&mu_);
  auto finished = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return outstanding_ == 0; };
  while (!mu_.AwaitWithTimeout(absl::Condition(&finished), absl::Seconds(5))) {
    spdlog::warn("{}: stop() still waiting for {} sessions (a handler ignoring cancellation?)",
                 options_.name, outstanding_);
  }
  spdlog::info("{}: stopped in {}", options_.name, absl::FormatDuration(absl::Now() - begin));
}

}  // namespace wims::http
