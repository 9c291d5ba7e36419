// ServerTlsCredentials: the certificate chain and private key of an HTTPS listener (http::Server
// with ServerOptions::tls), read from PEM files and reloaded when they change, so a rotated Secret
// (cert-manager, the kubelet's atomic ..data symlink swap) takes effect without a restart:
//
//   auto tls = ServerTlsCredentials::load("/tls/tls.crt", "/tls/tls.key");   // InvalidArgument /
//   NotFound ServerOptions options{.name = "webhook", .listen = "[::]:8443", .tls = *tls};
//
// context() is called once per accepted connection. At most every `check_interval` it stat()s both
// files (following symlinks) and, when either's device, inode, size or mtime changed, loads the
// pair into a new TLS context (TLS 1.2+, the key must match the certificate). A failed reload (a
// half-written file, a key that does not match yet) keeps serving the previous pair, logs a warning
// and is retried at the next check. Connections keep the context they started with (shared
// ownership).
//
// Thread-safe: context() may be called from every worker; the file checks are serialised by a mutex
// that is never held across I/O other than the stat() and the PEM reads.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace wims::http {

class ServerTlsCredentials {
 public:
  // Loads the pair once; NotFound for a missing file, InvalidArgument for bad PEM or a key that
  // does not match the certificate.
  static absl::StatusOr<std::shared_ptr<ServerTlsCredentials>> load(
      std::string cert_file, std::string key_file,
      absl::Duration check_interval = absl::Seconds(1));

  // The current server context (reloaded first when due and the files changed).
  std::shared_ptr<boost::asio::ssl::context> context();
  // Successful loads so far (1 after load()).
  uint64_t generation() const;

 private:
  struct FileStamp {
    // (No member initialisers: GCC 12 rejects them in a nested struct used by the enclosing class.)
    uint64_t device, inode, size;
    int64_t mtime_ns;
    bool operator==(const FileStamp&) const = default;
  };
  ServerTlsCredentials(std::string cert_file, std::string key_file, absl::Duration check_interval);
  absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> build() const;
  std::pair<FileStamp, FileStamp> stamps() const;

  const std::string cert_file_;
  const std::string key_file_;
  const std::chrono::steady_clock::duration check_interval_;

  mutable absl::Mutex mu_;
  std::shared_ptr<boost::asio::ssl::context> context_ ABSL_GUARDED_BY(mu_);
  std::pair<FileStamp, FileStamp> loaded_stamps_ ABSL_GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point last_check_ ABSL_GUARDED_BY(mu_);
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace wims::http
