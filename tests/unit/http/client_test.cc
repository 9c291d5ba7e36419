#include "http/client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/ssl/context.hpp>

#include "unit/http/test_server.h"

namespace wims::http {
namespace {

using ::testing::HasSubstr;
using testing::test_options;
using testing::TestServer;

TEST(ClientTest, ConstructsWithDefaultAndCustomTls) {
  Client with_default;
  auto context = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_client);
  Client with_custom(context);
  SUCCEED();
}

TEST(ClientTest, RejectsBadUrls) {
  Client client;
  const std::string kUrls[] = {"",
                               "not a url",
                               "ftp://x/y",
                               "http://user@127.0.0.1/",
                               "/relative",
                               "http://127.0.0.1:0/",
                               "http://127.0.0.1:70000/"};
  for (const std::string& url : kUrls) {
    SCOPED_TRACE(url);
    auto response = client.send_blocking(ClientRequest{.url = url});
    EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument) << response.status();
  }
}

TEST(ClientTest, ConnectionRefusedIsUnavailable) {
  uint16_t port;
  {
    TestServer fixture(test_options("127.0.0.1:0"));
    ASSERT_TRUE(fixture.status.ok());
    port = fixture.server.local_endpoint().port();
  }
  auto response = Client().send_blocking(
      ClientRequest{.url = "http://127.0.0.1:" + std::to_string(port) + "/echo"});
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable) << response.status();
}

TEST(ClientTest, DeadlineIsUnavailableTimedOut) {
  ServerOptions options = test_options("127.0.0.1:0");
  options.drain_timeout = absl::Milliseconds(10);  // the /hang handler is still running at stop()
  TestServer fixture(options);
  ASSERT_TRUE(fixture.status.ok());
  auto response = Client().send_blocking(
      ClientRequest{.url = fixture.base_url() + "/hang", .timeout = absl::Milliseconds(100)});
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable) << response.status();
  EXPECT_THAT(std::string(response.status().message()), HasSubstr("timed out"));
}

TEST(ClientTest, ResponseBodyLimit) {
  TestServer fixture(test_options("127.0.0.1:0"));
  ASSERT_TRUE(fixture.status.ok());
  auto response =
      Client().send_blocking(ClientRequest{.url = fixture.base_url() + "/echo", .body_limit = 4});
  EXPECT_EQ(response.status().code(), absl::StatusCode::kResourceExhausted) << response.status();
}

TEST(ClientTest, SendsMethodHeadersAndBody) {
  TestServer fixture(test_options("127.0.0.1:0"));
  ASSERT_TRUE(fixture.status.ok());
  auto response = Client().send_blocking(ClientRequest{.method = beast_http::verb::put,
                                                       .url = fixture.base_url() + "/echo?q=1#frag",
                                                       .headers = {{"X-Test", "1"}},
                                                       .body = "payload"});
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->body(), "PUT /echo?q=1 from 127.0.0.1");
}

TEST(ClientTest, HttpErrorStatusIsNotAnError) {
  TestServer fixture(test_options("127.0.0.1:0"));
  ASSERT_TRUE(fixture.status.ok());
  auto response = Client().send_blocking(ClientRequest{.url = fixture.base_url() + "/missing"});
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->result(), beast_http::status::not_found);
}

TEST(ClientTest, InvalidHeaderValueIsInvalidArgument) {
  TestServer fixture(test_options("127.0.0.1:0"));
  ASSERT_TRUE(fixture.status.ok());
  auto response = Client().send_blocking(ClientRequest{
      .url = fixture.base_url() + "/echo", .headers = {{"X-Bad", "a\r\nInjected: yes"}}});
  // Regression: Beast writes values verbatim, so CR/LF used to inject a header line upstream.
  EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument) << response.status();
  auto bad_name = Client().send_blocking(
      ClientRequest{.url = fixture.base_url() + "/echo", .headers = {{"X Bad", "v"}}});
  EXPECT_EQ(bad_name.status().code(), absl::StatusCode::kInvalidArgument) << bad_name.status();
}

}  // namespace
}  // namespace wims::http
