#include "broker/http_client_transport.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <thread>

namespace wims::broker {
namespace {

namespace asio = boost::asio;
namespace beast_http = boost::beast::http;
using tcp = asio::ip::tcp;

absl::StatusOr<http::Response> send_on(asio::io_context& io, HttpTransport& transport,
                                       TransportRequest request) {
  auto future = asio::co_spawn(io, transport.send(std::move(request)), asio::use_future);
  io.run();
  return future.get();
}

TEST(HttpClientTransportTest, ForwardsRequestAndReturnsResponse) {
  asio::io_context server_io;
  tcp::acceptor acceptor(server_io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  uint16_t port = acceptor.local_endpoint().port();
  http::RawRequest received;
  std::thread server([&] {
    tcp::socket socket(server_io);
    acceptor.accept(socket);
    boost::beast::flat_buffer buffer;
    beast_http::read(socket, buffer, received);
    http::Response response(beast_http::status::forbidden, 11);
    response.set(beast_http::field::content_type, "application/json");
    response.body() = R"({"error":{"message":"denied"}})";
    response.prepare_payload();
    beast_http::write(socket, response);
  });

  http::Client client;
  HttpClientTransport transport(client);
  TransportRequest request;
  request.method = beast_http::verb::post;
  request.url = "http://127.0.0.1:" + std::to_string(port) + "/v1/token";
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  request.body = "grant_type=x";
  asio::io_context io;
  absl::StatusOr<http::Response> response = send_on(io, transport, std::move(request));
  server.join();

  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->result_int(), 403u);  // an HTTP error is a response, not a Status
  EXPECT_EQ(response->body(), R"({"error":{"message":"denied"}})");
  EXPECT_EQ(received.method(), beast_http::verb::post);
  EXPECT_EQ(received.target(), "/v1/token");
  EXPECT_EQ(received[beast_http::field::content_type], "application/x-www-form-urlencoded");
  EXPECT_EQ(received.body(), "grant_type=x");
}

TEST(HttpClientTransportTest, ConnectionRefusedIsUnavailable) {
  uint16_t port = 0;
  {
    // A port that was just free: bind, learn it, close.
    asio::io_context io;
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = acceptor.local_endpoint().port();
  }
  http::Client client;
  HttpClientTransport transport(client);
  TransportRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(port) + "/";
  request.timeout = absl::Seconds(5);
  asio::io_context io;
  absl::StatusOr<http::Response> response = send_on(io, transport, std::move(request));
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable) << response.status();
}

}  // namespace
}  // namespace wims::broker
