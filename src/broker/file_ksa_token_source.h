// FileKsaTokenSource: a KsaTokenSource that reads the service-account token from a file, the way an
// AWS SDK reads AWS_WEB_IDENTITY_TOKEN_FILE: the projected token volume the kubelet keeps fresh (it
// rewrites the file at 80 % of the token's lifetime, by an atomic symlink swap). For processes that
// ARE the pod, such as the IMDS emulator sidecar (`wims sidecar`), where the caller is fixed and no
// TokenRequest API is reachable.
//
//   FileKsaTokenSource tokens("/var/run/secrets/wims/imds-emulator/token");
//   AwsBroker aws(options, tokens, transport, clock);   // AwsBroker caches the exchanged
//   credentials
//
// The file is re-read on EVERY token() call (no caching here: the broker's credential cache already
// bounds how often a token is exchanged, and a rotated token must be used at once). The caller and
// the audience are ignored: the file holds one token, minted for the audience the volume asked for.
//
// A read is bounded (`max_bytes`, default 64 KiB; projected tokens are 1-2 KiB). Surrounding
// whitespace (a trailing newline from `kubectl create token > f`) is trimmed. Errors, each naming
// the file:
//   Unavailable         the file cannot be opened or read (missing, permission, I/O): a volume not
//   mounted
//                       yet is a condition to retry, so IMDS answers 503, which SDKs retry;
//   FailedPrecondition  empty (only whitespace), larger than max_bytes, or holding a byte that
//   cannot be in
//                       a JWT (control characters, interior whitespace, non-ASCII).
// Garbage that looks like a token is passed on: the STS decides (InvalidIdentityToken).
//
// Thread-safe (no mutable state). token() does a small synchronous read of a local file (tmpfs for
// projected volumes) on the calling executor: a few KiB, at most once per credential refresh, so it
// is not handed to a blocking pool.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "broker/caller.h"
#include "broker/ksa_token_source.h"

namespace wims::broker {

inline constexpr size_t kDefaultTokenFileMaxBytes = 64 * 1024;

// The token in `path` (rules and errors in the header comment). Synchronous; usable at start-up to
// check a
// --token-file before serving.
absl::StatusOr<std::string> read_token_file(const std::string& path,
                                            size_t max_bytes = kDefaultTokenFileMaxBytes);

class FileKsaTokenSource final : public KsaTokenSource {
 public:
  explicit FileKsaTokenSource(std::string path, size_t max_bytes = kDefaultTokenFileMaxBytes)
      : path_(std::move(path)), max_bytes_(max_bytes) {}

  // read_token_file(path); `caller` and `audience` are ignored (see the header comment).
  boost::asio::awaitable<absl::StatusOr<std::string>> token(const Caller& caller,
                                                            std::string audience) override;

  const std::string& path() const { return path_; }

 private:
  const std::string path_;
  const size_t max_bytes_;
};

}  // namespace wims::broker
