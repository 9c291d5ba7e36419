// http::Server with ServerOptions::tls and http::ServerTlsCredentials: HTTPS round trips on
// 127.0.0.1:0, handshake failures, and reloading the certificate files when they change.
#include <gtest/gtest.h>

#include <boost/asio/ssl/context.hpp>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "http/client.h"
#include "http/tls_credentials.h"
#include "unit/http/test_certificates.h"
#include "unit/http/test_server.h"

namespace wims::http {
namespace {

using testing::make_self_signed_certificate;
using testing::TestCertificate;
using testing::write_text_file;

// Polls `condition` every 5 ms for at most 20 s.
bool eventually(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return condition();
}

std::shared_ptr<boost::asio::ssl::context> trusting(const TestCertificate& cert) {
  auto context = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_client);
  context->add_certificate_authority(boost::asio::buffer(cert.cert_pem));
  context->set_verify_mode(boost::asio::ssl::verify_peer);
  return context;
}

class TlsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/wims-tls-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    cert_file_ = dir_ + "/tls.crt";
    key_file_ = dir_ + "/tls.key";
    first_ = make_self_signed_certificate("first");
    second_ = make_self_signed_certificate("second");
    write_pair(first_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void write_pair(const TestCertificate& cert) {
    write_text_file(cert_file_, cert.cert_pem);
    write_text_file(key_file_, cert.key_pem);
  }

  std::unique_ptr<testing::TestServer> start_server(std::shared_ptr<ServerTlsCredentials> tls) {
    ServerOptions options = testing::test_options("127.0.0.1:0");
    options.tls = std::move(tls);
    auto server = std::make_unique<testing::TestServer>(std::move(options));
    EXPECT_TRUE(server->status.ok()) << server->status;
    return server;
  }

  static std::string https_url(const testing::TestServer& server, const std::string& path) {
    return "https://127.0.0.1:" + std::to_string(server.server.local_endpoint().port()) + path;
  }

  static absl::StatusOr<Response> get(const TestCertificate& trusted, const std::string& url) {
    Client client(trusting(trusted));
    return client.send_blocking({.url = url, .timeout = absl::Seconds(10)});
  }

  std::string dir_, cert_file_, key_file_;
  TestCertificate first_, second_;
};

TEST_F(TlsServerTest, ServesHttpsToAClientTrustingTheCertificate) {
  auto tls = ServerTlsCredentials::load(cert_file_, key_file_);
  ASSERT_TRUE(tls.ok()) << tls.status();
  auto server = start_server(*tls);
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<Response> response = get(first_, https_url(*server, "/echo?x=1"));
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->result_int(), 200);
    EXPECT_EQ(response->body(), "GET /echo?x=1 from 127.0.0.1");
  }
}

TEST_F(TlsServerTest, UntrustedClientFailsTheHandshakeAndIsCounted) {
  auto tls = ServerTlsCredentials::load(cert_file_, key_file_);
  ASSERT_TRUE(tls.ok()) << tls.status();
  auto server = start_server(*tls);
  absl::StatusOr<Response> response = get(second_, https_url(*server, "/echo"));
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable) << response.status();
  // The server counts the failed handshake (the client aborts it with an alert).
  EXPECT_TRUE(eventually([&] {
    return server->metrics.render().find(
               "wims_http_tls_handshake_failures_total{listener=\"test\"} 1") != std::string::npos;
  })) << server->metrics.render();
}

TEST_F(TlsServerTest, PlainHttpOnTheTlsPortGetsNoHttpAnswer) {
  auto tls = ServerTlsCredentials::load(cert_file_, key_file_);
  ASSERT_TRUE(tls.ok()) << tls.status();
  auto server = start_server(*tls);
  testing::RawConnection raw;
  ASSERT_TRUE(raw.connect(server->server.local_endpoint()));
  ASSERT_TRUE(raw.write("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_FALSE(raw.read_response().ok());
}

TEST_F(TlsServerTest, ReloadsTheCertificateWhenTheFilesChange) {
  auto tls = ServerTlsCredentials::load(cert_file_, key_file_, absl::ZeroDuration());
  ASSERT_TRUE(tls.ok()) << tls.status();
  auto server = start_server(*tls);
  ASSERT_TRUE(get(first_, https_url(*server, "/echo")).ok());
  ASSERT_FALSE(get(second_, https_url(*server, "/echo")).ok());
  EXPECT_EQ((*tls)->generation(), 1u);

  write_pair(second_);
  absl::StatusOr<Response> response = get(second_, https_url(*server, "/echo"));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->result_int(), 200);
  EXPECT_FALSE(get(first_, https_url(*server, "/echo")).ok());
  EXPECT_EQ((*tls)->generation(), 2u);
}

TEST_F(TlsServerTest, ReloadsWhenASymlinkIsSwappedAsTheKubeletDoes) {
  // Secret volumes: tls.crt -> ..data/tls.crt, ..data -> ..2024_01_01; an update swaps ..data
  // atomically.
  const std::string v1 = dir_ + "/v1", v2 = dir_ + "/v2";
  std::filesystem::create_directory(v1);
  std::filesystem::create_directory(v2);
  write_text_file(v1 + "/tls.crt", first_.cert_pem);
  write_text_file(v1 + "/tls.key", first_.key_pem);
  write_text_file(v2 + "/tls.crt", second_.cert_pem);
  write_text_file(v2 + "/tls.key", second_.key_pem);
  std::filesystem::create_directory_symlink("v1", dir_ + "/..data");
  std::filesystem::create_symlink("..data/tls.crt", dir_ + "/link.crt");
  std::filesystem::create_symlink("..data/tls.key", dir_ + "/link.key");
  auto tls =
      ServerTlsCredentials::load(dir_ + "/link.crt", dir_ + "/link.key", absl::ZeroDuration());
  ASSERT_TRUE(tls.ok()) << tls.status();
  auto server = start_server(*tls);
  ASSERT_TRUE(get(first_, https_url(*server, "/echo")).ok());

  std::filesystem::create_directory_symlink("v2", dir_ + "/..data_tmp");
  std::filesystem::rename(dir_ + "/..data_tmp", dir_ + "/..data");
  EXPECT_TRUE(get(second_, https_url(*server, "/echo")).ok());
}

TEST_F(TlsServerTest, KeepsTheOldCertificateWhenTheNewFilesAreBroken) {
  auto tls = ServerTlsCredentials::load(cert_file_, key_file_, absl::ZeroDuration());
  ASSERT_TRUE(tls.ok()) << tls.status();
  auto server = start_server(*tls);
  // A new certificate with the old key (a rotation caught half-way): refused, the old pair keeps
  // serving.
  write_text_file(cert_file_, second_.cert_pem);
  EXPECT_TRUE(get(first_, https_url(*server, "/echo")).ok());
  write_text_file(key_file_, "not a key\n");
  EXPECT_TRUE(get(first_, https_url(*server, "/echo")).ok());
  EXPECT_EQ((*tls)->generation(), 1u);
  // Completing the rotation is picked up.
  write_text_file(key_file_, second_.key_pem);
  EXPECT_TRUE(get(second_, https_url(*server, "/echo")).ok());
  EXPECT_EQ((*tls)->generation(), 2u);
}

TEST_F(TlsServerTest, LoadReportsMissingAndMismatchedFiles) {
  struct Case {
    std::string name;
    std::string cert, key;
    absl::StatusCode code;
  };
  write_text_file(dir_ + "/other.key", second_.key_pem);
  write_text_file(dir_ + "/garbage", "garbage\n");
  const Case cases[] = {
      {"missing cert", dir_ + "/absent.crt", key_file_, absl::StatusCode::kNotFound},
      {"missing key", cert_file_, dir_ + "/absent.key", absl::StatusCode::kNotFound},
      {"key of another cert", cert_file_, dir_ + "/other.key", absl::StatusCode::kInvalidArgument},
      {"garbage cert", dir_ + "/garbage", key_file_, absl::StatusCode::kInvalidArgument},
      {"garbage key", cert_file_, dir_ + "/garbage", absl::StatusCode::kInvalidArgument},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto tls = ServerTlsCredentials::load(c.cert, c.key);
    EXPECT_EQ(tls.status().code(), c.code) << tls.status();
  }
}

}  // namespace
}  // namespace wims::http
