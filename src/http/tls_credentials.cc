#include "http/tls_credentials.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "fmt/format.h"

namespace wims::http {

namespace asio = boost::asio;

namespace {

absl::StatusOr<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(fmt::format("cannot read {}", path));
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

}  // namespace

ServerTlsCredentials::ServerTlsCredentials(std::string cert_file, std::string key_file,
                                           absl::Duration check_interval)
    : cert_file_(std::move(cert_file)),
      key_file_(std::move(key_file)),
      check_interval_(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          absl::ToChronoNanoseconds(check_interval))) {}

absl::StatusOr<std::shared_ptr<ServerTlsCredentials>> ServerTlsCredentials::load(
    std::string cert_file, std::string key_file, absl::Duration check_interval) {
  std::shared_ptr<ServerTlsCredentials> credentials(
      new ServerTlsCredentials(std::move(cert_file), std::move(key_file), check_interval));
  auto stamps = credentials->stamps();
  auto context = credentials->build();
  if (!context.ok()) return context.status();
  absl::MutexLock lock(&credentials->mu_);
  credentials->context_ = *std::move(context);
  credentials->loaded_stamps_ = stamps;
  credentials->last_check_ = std::chrono::steady_clock::now();
  credentials->generation_ = 1;
  return credentials;
}

std::pair<ServerTlsCredentials::FileStamp, ServerTlsCredentials::FileStamp>
ServerTlsCredentials::stamps() const {
  auto stamp = [](const std::string& path) {
    FileStamp s{};
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) {
      s.device = st.st_dev;
      s.inode = st.st_ino;
      s.size = static_cast<uint64_t>(st.st_size);
      s.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    }
    return s;
  };
  return {stamp(cert_file_), stamp(key_file_)};
}

absl::StatusOr<std::shared_ptr<asio::ssl::context>> ServerTlsCredentials::build() const {
  auto cert = read_file(cert_file_);
  if (!cert.ok()) return cert.status();
  auto key = read_file(key_file_);
  if (!key.ok()) return key.status();
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
  boost::system::error_code ec;
  context->use_certificate_chain(asio::buffer(*cert), ec);
  if (ec)
    return absl::InvalidArgumentError(
        fmt::format("{}: not a PEM certificate chain: {}", cert_file_, ec.message()));
  context->use_private_key(asio::buffer(*key), asio::ssl::context::pem, ec);
  if (ec)
    return absl::InvalidArgumentError(
        fmt::format("{}: not a PEM private key: {}", key_file_, ec.message()));
  if (SSL_CTX_check_private_key(context->native_handle()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        fmt::format("{} does not match the certificate in {}", key_file_, cert_file_));
  }
  return context;
}

std::shared_ptr<asio::ssl::context> ServerTlsCredentials::context() {
  absl::MutexLock lock(&mu_);
  const auto now = std::chrono::steady_clock::now();
  if (now - last_check_ < check_interval_) return context_;
  last_check_ = now;
  auto current = stamps();
  if (current == loaded_stamps_) return context_;
  auto rebuilt = build();
  if (!rebuilt.ok()) {
    spdlog::warn("tls: keeping the previous certificate: reloading {} / {} failed: {}", cert_file_,
                 key_file_, rebuilt.status().ToString());
    return context_;
  }
  context_ = *std::move(rebuilt);
  loaded_stamps_ = current;
  ++generation_;
  spdlog::info("tls: reloaded certificate {} and key {}", cert_file_, key_file_);
  return context_;
}

uint64_t ServerTlsCredentials::generation() const {
  absl::MutexLock lock(&mu_);
  return generation_;
}

}  // namespace wims::http
