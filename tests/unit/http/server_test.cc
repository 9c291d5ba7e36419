#include "http/server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "http/client.h"
#include "unit/http/test_server.h"

namespace wims::http {
namespace {

using ::testing::HasSubstr;
using testing::RawConnection;
using testing::test_options;
using testing::TestServer;

// Polls `done` every millisecond for at most 10 s (a bound for a hung test, not a timing
// assertion).
template <class Predicate>
bool eventually(Predicate done) {
  for (int i = 0; i < 10000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return done();
}

absl::StatusOr<Response> get(const std::string& url) {
  Client client;
  return client.send_blocking(ClientRequest{.url = url});
}

TEST(ServerTest, RoundTripIPv4) {
  TestServer fixture(test_options("127.0.0.1:0"));
  ASSERT_TRUE(fixture.status.ok()) << fixture.status;
  EXPECT_NE(fixture.server.local_endpoint().port(), 0);
  auto response = get(fixture.base_url() + "/echo?a=1&b=x%20y");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->result(), beast_http::status::ok);
  EXPECT_EQ(response->body(), "GET /echo?a=1&b=x%20y from 127.0.0.1");
  EXPECT_EQ((*response)[beast_http::field::content_length],
            std::to_string(response->body().size()));
  // Recorded right after the response is written, so possibly after the client has read it.
  EXPECT_TRUE(eventually([&] {
    return fixture.metrics.counter_value(
               "wims_http_requests_total",
               {{"listener", "test"}, {"route", "echo"}, {"status", "200"}}) == 1u;
  }));
  EXPECT_TRUE(eventually([&] {
    return fixture.metrics.histogram_count("wims_http_request_duration_seconds",
                                           {{"listener", "test"}, {"route", "echo"}}) == 1u;
  }));
}

TEST(ServerTest, RoundTripIPv6) {
  TestServer fixture(test_options("[::1]:0"));
  if (!fixture.status.ok()) GTEST_SKIP() << "no IPv6 loopback: " << fixture.status;
  auto response = get(fixture.base_url() + "/echo");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->body(), "GET /echo? from ::1");
}

TEST(ServerTest, DualStackListenerNormalisesIPv4Peer) {
  TestServer fixture(test_options("[::]:0"));
  if (!fixture.status.ok()) GTEST_SKIP() << "no IPv6: " << fixture.status;
  auto response =
      get("http://127.0.0.1:" + std::to_string(fixture.server.local_endpoint().port()) + "/echo");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->body(), "GET /echo? from 127.0.0.1");  // not ::ffff:127.0.0.1
}

TEST(ServerTest, BadListenAddressIsAnError) {
  TestServer fixture(test_options("nonsense"));
  EXPECT_EQ(fixture.status.code(), absl::StatusCode::kInvalidArgument);
}

TEST(ServerTest, AddressInUseIsUnavailable) {
  TestServer first(test_options("127.0.0.1:0"));
  ASSERT_TRUE(first.status.ok());
  TestServer second(
      test_options("127.0.0.1:" + std::to_string(first.server.local_endpoint().port())));
  EXPECT_EQ(second.status.code(), absl::StatusCode::kUnavailable) << second.status;
}

TEST(ServerTest, KeepAliveServesTwoRequestsOnOneConnection) {
  TestServer fixture(test_options("127.0.0.1:0"));
  ASSERT_TRUE(fixture.status.ok());
  RawConnection connection;
  ASSERT_TRUE(connection.connect(fixture.server.local_endpoint()));
  // Both requests in one write: pipelined input must be served in order.
  ASSERT_TRUE(
      connection.write("GET /echo?n=1 HTTP/1.1\r\nHost: x\r\n\r\n"
                       "GET /echo?n=2 HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto first = connection.read_response();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->body(), "GET /echo?n=1 from 127.0.0.1");
  EXPECT_TRUE(first->keep_alive());
  auto second = connection.read_response();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->body(), "GET /echo?n=2 from 127.0.0.1");
  ASSERT_TRUE(connection.write("GET /echo?n=3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  auto third = connection.read_response();
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_FALSE(third->keep_alive());
  EXPECT_TRUE(connection.closed_by_server());
}

TEST(ServerTest, Http10ClosesUnlessKeepAlive) {
  TestServer fixture(test_options("127.0.0.1:0"));
  ASSERT_TRUE(fixture.status.ok());
  {
    RawConnection connection;
    ASSERT_TRUE(connection.connect(fixture.server.local_endpoint()));
    ASSERT_TRUE(connection.write("GET /echo HTTP/1.0\r\n\r\n"));
    auto response = connection.read_response();
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->version(), 10);
    EXPECT_EQ(response->body(), "GET /echo? from 127.0.0.1");
    EXPECT_TRUE(connection.closed_by_server());
  }
  {
    RawConnection connection;
    ASSERT_TRUE(connection.connect(fixture.server.local_endpoint()));
    ASSERT_TRUE(connection.write("GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    auto first = connection.read_response();
    ASSERT_TRUE(first.ok()) << first.status();
    EXPECT_EQ(first->version(), 10);
    EXPECT_TRUE(first->keep_alive());
    ASSERT_TRUE(connection.write("GET /echo?again HTTP/1.0\r\n\r\n"));
    auto second = connection.read_response();
    ASSERT_TRUE(second.ok()) << second.status();
    EXPECT_EQ(second->body(), "GET /echo?again from 127.0.0.1");
  }
}

TEST(ServerTest, HeadAnswersHeadersOnly) {
  TestServer fixture(test_options("127.0.0.1:0"));
  ASSERT_TRUE(fixture.status.ok());
  RawConnection connection;
  ASSERT_TRUE(connection.connect(fixture.server.local_endpoint()));
  ASSERT_TRUE(
      connection.write("HEAD /echo HTTP/1.1\r\nHost: x\r\n\r\n"
                       "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto head = connection.read_response(/*head=*/true);
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(head->result(), beast_http::status::ok);
  // The Content-Length of the GET answer, but no body bytes: the next answer parses cleanly.
  EXPECT_EQ((*head)[beast_http::field::content_length],
            std::to_string(std::string("HEAD /echo? from 127.0.0.1").size()));
  auto get = connection.read_response();
  ASSERT_TRUE(get.ok()) << get.status();
  EXPECT_EQ(get->body(), "GET /echo? from 127.0.0.1");
}

TEST(ServerTest, HeaderTooLargeIs431) {
  ServerOptions options = test_options("127.0.0.1:0");
  options.header_limit_bytes = 1024;
  TestServer fixture(options);
  ASSERT_TRUE(fixture.status.ok());
  RawConnection connection;
  ASSERT_TRUE(connection.connect(fixture.server.local_endpoint()));
  ASSERT_TRUE(connection.write("GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(2000, 'a') +
                               "\r\n\r\n"));
  auto response = connection.read_response();
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->result(), beast_http::status::request_header_fields_too_large);
  EXPECT_FALSE(response->keep_alive());
  EXPECT_TRUE(connection.closed_by_server());
}

TEST(ServerTest, BodyTooLargeIs413) {
  ServerOptions options = test_options("127.0.0.1:0");
  options.body_limit_bytes = 100;
  TestServer fixture(options);
  ASSERT_TRUE(fixture.status.ok());
  RawConnection connection;
  ASSERT_TRUE(connection.connect(fixture.server.local_endpoint()));
  ASSERT_TRUE(connection.write("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" +
                               std::string(1000, 'b')));
  auto response = connection.read_response();
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->result(), beast_http::status::payload_too_large);
  EXPECT_TRUE(connection.closed_by_server());

  // A body within the limit is served.
  auto ok = Client().send_blocking(ClientRequest{
      .method = beast_http::verb::post, .url = fixture.base_url() + "/echo", .body = "small"});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->result(), beast_http::status::ok);
}

// Issue 12 section 4 defect 2: a Transfer-Encoding whose final coding is not chunked was read as an
// empty body, and the body was served as a second request on the connection. Now each of these
// heads is answered 400 and the connection closed, so the request smuggled in the body is never
// served; a missing or repeated Host is refused the same way (RFC 9112 sections 3.2, 6.1, 6.3).
TEST(ServerTest, RegressionTransferEncodingIdentityIsRefusedNotSmuggled) {
  struct Case {
    std::string name;
    std::string head;  // request line and headers, without the final CRLF
  };
  const std::string kPost = "POST /echo HTTP/1.1\r\nHost: x\r\n";
  const std::vector<Case> cases = {
      {"identity", kPost + "Transfer-Encoding: identity\r\n"},
      {"gzip", kPost + "Transfer-Encoding: gzip\r\n"},
      {"xchunked", kPost + "Transfer-Encoding: xchunked\r\n"},
      {"chunked, identity", kPost + "Transfer-Encoding: chunked, identity\r\n"},
      {"gzip, chunked", kPost + "Transfer-Encoding: gzip, chunked\r\n"},
      {"identity then chunked",
       kPost + "Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n"},
      {"identity with Content-Length",
       kPost + "Transfer-Encoding: identity\r\nContent-Length: 0\r\n"},
      {"HTTP/1.0 chunked", "POST /echo HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"},
      {"two Host headers", "GET /echo HTTP/1.1\r\nHost: x\r\nHost: y\r\n"},
      {"no Host in HTTP/1.1", "GET /echo HTTP/1.1\r\n"},
  };
  TestServer fixture(test_options("127.0.0.1:0"));
  ASSERT_TRUE(fixture.status.ok());
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    RawConnection connection;
    ASSERT_TRUE(connection.connect(fixture.server.local_endpoint()));
    ASSERT_TRUE(connection.write(c.head + "\r\nGET /echo?smuggled HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto response = connection.read_response();
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->result(), beast_http::status::bad_request);
    EXPECT_THAT(response->body(), HasSubstr("malformed HTTP request"));
    EXPECT_FALSE(response->keep_alive());
    // The smuggled request is never answered: the next read ends with the connection.
    EXPECT_FALSE(connection.read_response().ok());
  }

  // A lone "chunked" is still served, and HTTP/1.0 without Host too.
  RawConnection chunked;
  ASSERT_TRUE(chunked.connect(fixture.server.local_endpoint()));
  ASSERT_TRUE(chunked.write(kPost + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"));
  auto ok = chunked.read_response();
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->result(), beast_http::status::ok);
  RawConnection http10;
  ASSERT_TRUE(http10.connect(fixture.server.local_endpoint()));
  ASSERT_TRUE(http10.write("GET /echo HTTP/1.0\r\n\r\n"));
  auto ok10 = http10.read_response();
  ASSERT_TRUE(ok10.ok()) << ok10.status();
  EXPECT_EQ(ok10->result(), beast_http::status::ok);
}

TEST(ServerTest, ExpectContinueIsAnswered) {
  TestServer fixture(test_options("127.0.0.1:0"));
  ASSERT_TRUE(fixture.status.ok());
  RawConnection connection;
  ASSERT_TRUE(connection.connect(fixture.server.local_endpoint()));
  ASSERT_TRUE(connection.write(
      "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"));
  auto interim = connection.read_response();
  ASSERT_TRUE(interim.ok()) << interim.status();
  EXPECT_EQ(interim->result(), beast_http::status::continue_);
  ASSERT_TRUE(connection.write("body"));
  auto response = connection.read_response();
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->result(), beast_http::status::ok);
}

TEST(ServerTest, ReadDeadlineClosesStalledClient) {
  ServerOptions options = test_options("127.0.0.1:0");
  options.read_timeout = absl::Milliseconds(100);
  TestServer fixture(options);
  ASSERT_TRUE(fixture.status.ok());
  {
    // Half a request, then silence.
    RawConnection connection;
    ASSERT_TRUE(connection.connect(fixture.server.local_endpoint()));
    ASSERT_TRUE(connection.write("GET /echo HTTP/1.1\r\nHost: x\r\n"));
    EXPECT_TRUE(connection.closed_by_server());
  }
  {
    // Nothing at all.
    RawConnection connection;
    ASSERT_TRUE(connection.connect(fixture.server.local_endpoint()));
    EXPECT_TRUE(connection.closed_by_server());
  }
}

TEST(ServerTest, IdleKeepAliveConnectionIsClosedAfterIdleTimeout) {
  ServerOptions options = test_options("127.0.0.1:0");
  options.idle_timeout = absl::Milliseconds(100);
  TestServer fixture(options);
  ASSERT_TRUE(fixture.status.ok());
  RawConnection connection;
  ASSERT_TRUE(connection.connect(fixture.server.local_endpoint()));
  ASSERT_TRUE(connection.write("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(connection.read_response().ok());
  EXPECT_TRUE(connection.closed_by_server());
}

TEST(ServerTest, OverMaxConnectionsAnswers503WithRetryAfter) {
  ServerOptions options = test_options("127.0.0.1:0");
  options.max_connections = 1;
  TestServer fixture(options);
  ASSERT_TRUE(fixture.status.ok());
  RawConnection first;
  ASSERT_TRUE(first.connect(fixture.server.local_endpoint()));
  ASSERT_TRUE(first.write("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(first.read_response().ok());  // `first` is accepted and held open (keep-alive)

  RawConnection second;
  ASSERT_TRUE(second.connect(fixture.server.local_endpoint()));
  auto response = second.read_response();
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->result(), beast_http::status::service_unavailable);
  EXPECT_EQ((*response)[beast_http::field::retry_after], "1");
  EXPECT_TRUE(second.closed_by_server());
  EXPECT_EQ(
      fixture.metrics.counter_value("wims_http_connections_rejected_total", {{"listener", "test"}}),
      1u);

  // The first connection still works.
  ASSERT_TRUE(first.write("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto again = first.read_response();
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->result(), beast_http::status::ok);
}

TEST(ServerTest, NonCanonicalPathIs400) {
  TestServer fixture(test_options("127.0.0.1:0"));
  ASSERT_TRUE(fixture.status.ok());
  const std::string kTargets[] = {"/a/../echo", "/echo/%2e%2e/x",   "//echo",     "/a%2Fb", "/a%00",
                                  "/a\\b",      "http://evil/echo", "/echo?a=%zz"};
  for (const std::string& target : kTargets) {
    SCOPED_TRACE(target);
    RawConnection connection;
    ASSERT_TRUE(connection.connect(fixture.server.local_endpoint()));
    ASSERT_TRUE(connection.write("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto response = connection.read_response();
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->result(), beast_http::status::bad_request);
    EXPECT_THAT(std::string((*response)[beast_http::field::content_type]), HasSubstr("text/plain"));
  }
  // Recorded right after each response is written, so possibly after the client has read it.
  EXPECT_TRUE(eventually([&] {
    return fixture.metrics.counter_value(
               "wims_http_requests_total",
               {{"listener", "test"}, {"route", "none"}, {"status", "400"}}) == std::size(kTargets);
  }));
}

TEST(ServerTest, MalformedRequestIs400) {
  TestServer fixture(test_options("127.0.0.1:0"));
  ASSERT_TRUE(fixture.status.ok());
  RawConnection connection;
  ASSERT_TRUE(connection.connect(fixture.server.local_endpoint()));
  ASSERT_TRUE(connection.write("NOT HTTP AT ALL\r\n\r\n"));
  auto response = connection.read_response();
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->result(), beast_http::status::bad_request);
  EXPECT_TRUE(connection.closed_by_server());
}

TEST(ServerTest, HandlerExceptionIs500) {
  TestServer fixture(test_options("127.0.0.1:0"));
  ASSERT_TRUE(fixture.status.ok());
  auto response = get(fixture.base_url() + "/throw");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->result(), beast_http::status::internal_server_error);
  // The server is still serving.
  auto after = get(fixture.base_url() + "/echo");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->result(), beast_http::status::ok);
}

TEST(ServerTest, HandlerTimeoutIs504) {
  ServerOptions options = test_options("127.0.0.1:0");
  options.handler_timeout = absl::Milliseconds(50);
  TestServer fixture(options);
  ASSERT_TRUE(fixture.status.ok());
  auto response = get(fixture.base_url() + "/hang");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->result(), beast_http::status::gateway_timeout);
}

TEST(ServerTest, StopDrainsInFlightRequestAndClosesIdleConnections) {
  TestServer fixture(test_options("127.0.0.1:0"));
  ASSERT_TRUE(fixture.status.ok());
  const auto endpoint = fixture.server.local_endpoint();

  RawConnection idle;
  ASSERT_TRUE(idle.connect(endpoint));
  ASSERT_TRUE(idle.write("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(idle.read_response().ok());

  RawConnection busy;
  ASSERT_TRUE(busy.connect(endpoint));
  ASSERT_TRUE(busy.write("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(eventually([&] { return fixture.handler.slow_entered.load() == 1; }));

  std::thread stopper([&] { fixture.server.stop(); });
  // The idle keep-alive connection is closed by stop() while the slow request is still running.
  EXPECT_TRUE(idle.closed_by_server());
  EXPECT_FALSE(fixture.handler.release.load());
  fixture.handler.release.store(true);
  auto response = busy.read_response();
  stopper.join();
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->result(), beast_http::status::ok);
  EXPECT_EQ(response->body(), "slow done");
  EXPECT_FALSE(response->keep_alive());  // "Connection: close" while draining
  EXPECT_TRUE(busy.closed_by_server());

  // No longer accepting.
  RawConnection late;
  EXPECT_FALSE(late.connect(endpoint) && late.write("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n") &&
               late.read_response().ok());
}

TEST(ServerTest, StopClosesRequestsThatOutlastTheDrainTimeout) {
  ServerOptions options = test_options("127.0.0.1:0");
  options.drain_timeout = absl::Milliseconds(50);
  TestServer fixture(options);
  ASSERT_TRUE(fixture.status.ok());
  RawConnection busy;
  ASSERT_TRUE(busy.connect(fixture.server.local_endpoint()));
  ASSERT_TRUE(busy.write("GET /hang HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(eventually([&] { return fixture.handler.hang_entered.load() == 1; }));
  fixture.server.stop();  // returns: the hanging handler is cancelled after the drain timeout
  EXPECT_TRUE(busy.closed_by_server());
}

}  // namespace
}  // namespace wims::http
