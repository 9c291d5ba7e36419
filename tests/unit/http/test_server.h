// Test support for the http unit tests: a scripted Handler, a Server on a private WorkerPool, and a
// raw connection whose every operation is bounded by a deadline.
#pragma once

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "http/handler.h"
#include "http/metrics.h"
#include "http/server.h"
#include "http/worker_pool.h"

namespace wims::http::testing {

// Runs `awaitable` to completion on a private io_context (for handler unit tests).
template <class T>
T run_sync(boost::asio::awaitable<T> awaitable) {
  boost::asio::io_context context;
  std::optional<T> result;
  boost::asio::co_spawn(context, std::move(awaitable), [&](std::exception_ptr error, T value) {
    if (error) std::rethrow_exception(error);
    result = std::move(value);
  });
  context.run();
  return *std::move(result);
}

// /echo: 200 "METHOD PATH?QUERY from PEER" (route "echo"); /slow: waits until `release` (route
// "slow"); /hang: waits an hour, cancellably; /throw: throws; anything else: 404.
class TestHandler final : public Handler {
 public:
  std::atomic<int> slow_entered{0};
  std::atomic<bool> release{false};
  std::atomic<int> hang_entered{0};

  boost::asio::awaitable<Response> handle(Request& request) override {
    auto executor = co_await boost::asio::this_coro::executor;
    if (request.path == "/echo") {
      request.route = "echo";
      co_return make_response(beast_http::status::ok, "text/plain",
                              std::string(beast_http::to_string(request.method())) + " " +
                                  request.path + "?" + request.query + " from " +
                                  request.peer.to_string());
    }
    if (request.path == "/slow") {
      request.route = "slow";
      slow_entered.fetch_add(1);
      boost::asio::steady_timer timer(executor);
      while (!release.load()) {
        timer.expires_after(std::chrono::milliseconds(2));
        co_await timer.async_wait(boost::asio::use_awaitable);
      }
      co_return make_response(beast_http::status::ok, "text/plain", "slow done");
    }
    if (request.path == "/hang") {
      hang_entered.fetch_add(1);
      boost::asio::steady_timer timer(executor, std::chrono::hours(1));
      co_await timer.async_wait(boost::asio::use_awaitable);  // throws operation_aborted on cancel
      co_return make_response(beast_http::status::ok, "text/plain", "woke up");
    }
    if (request.path == "/throw") throw std::runtime_error("handler bug");
    co_return make_response(beast_http::status::not_found, "text/plain", "no");
  }
};

inline ServerOptions test_options(std::string listen) {
  ServerOptions options;
  options.name = "test";
  options.listen = std::move(listen);
  options.access_log = false;
  options.drain_timeout = absl::Seconds(10);
  return options;
}

// A Server with its own two workers. start() failing is reported through `status`.
struct TestServer {
  explicit TestServer(ServerOptions options)
      : workers(2), server(std::move(options), handler, workers, metrics) {
    workers.start();
    status = server.start();
  }
  ~TestServer() {
    server.stop();
    workers.stop();
  }
  std::string base_url() const {
    auto ep = server.local_endpoint();
    std::string host = ep.address().to_string();
    if (ep.address().is_v6()) host = "[" + host + "]";
    return "http://" + host + ":" + std::to_string(ep.port());
  }

  TestHandler handler;
  Metrics metrics;
  WorkerPool workers;
  Server server;
  absl::Status status;
};

// A client connection driven step by step from the test thread; every step is bounded by
// kStepDeadline.
class RawConnection {
 public:
  static constexpr auto kStepDeadline = std::chrono::seconds(10);

  bool connect(const boost::asio::ip::tcp::endpoint& endpoint) {
    bool ok = false;
    stream_.expires_after(kStepDeadline);
    stream_.async_connect(endpoint, [&](boost::beast::error_code ec) { ok = !ec; });
    run();
    return ok;
  }
  bool write(std::string data) {
    bool ok = false;
    stream_.expires_after(kStepDeadline);
    boost::asio::async_write(stream_, boost::asio::buffer(data),
                             [&](boost::beast::error_code ec, size_t) { ok = !ec; });
    run();
    return ok;
  }
  // The next response; an error status when the connection closed or the step deadline passed.
  // `head`: the answer to a HEAD request (headers only).
  absl::StatusOr<Response> read_response(bool head = false) {
    boost::beast::http::response_parser<boost::beast::http::string_body> parser;
    parser.body_limit(16 << 20);
    if (head) parser.skip(true);
    boost::beast::error_code result;
    stream_.expires_after(kStepDeadline);
    boost::beast::http::async_read(stream_, buffer_, parser,
                                   [&](boost::beast::error_code ec, size_t) { result = ec; });
    run();
    if (result) return absl::UnavailableError(result.message());
    return parser.release();
  }
  // True when the server closes the connection (EOF or reset) before the step deadline, discarding
  // any bytes it still sends; false on our own deadline.
  bool closed_by_server() {
    boost::beast::error_code result;
    for (;;) {
      stream_.expires_after(kStepDeadline);
      char byte[512];
      stream_.async_read_some(boost::asio::buffer(byte),
                              [&](boost::beast::error_code ec, size_t) { result = ec; });
      run();
      if (result) break;
    }
    return result != boost::beast::error::timeout;
  }

 private:
  void run() {
    context_.restart();
    context_.run();
  }

  boost::asio::io_context context_;
  boost::beast::tcp_stream stream_{context_};
  boost::beast::flat_buffer buffer_;
};

}  // namespace wims::http::testing
