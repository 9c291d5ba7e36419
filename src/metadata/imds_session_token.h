// ImdsSessionTokens: mints and checks IMDSv2 session tokens (`PUT /latest/api/token`). A token is
// opaque to clients: base64url of its expiry (8 bytes, Unix nanoseconds, big-endian) and an
// HMAC-SHA256 over a domain-separation label, the expiry and the BINDING, keyed by a per-process
// random key. The binding names the identity that created the token (for a pod: its uid, namespace
// and name), so a token from one pod is refused for another; it is not carried in the token, only
// covered by the MAC. Tokens do not survive a restart (a new key), which is what real IMDS does
// across instance stop/start, and clients fetch a new one after any 401.
//
// Immutable after construction; thread-safe; no I/O.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace wims::metadata {

class ImdsSessionTokens {
 public:
  // A fresh 32-byte key from the OpenSSL CSPRNG.
  ImdsSessionTokens();
  // A given key (tests, or tokens shared between processes that share the key). Must not be empty.
  explicit ImdsSessionTokens(std::string key);

  // A token for `binding` that is valid until `expiry`.
  std::string issue(std::string_view binding, absl::Time expiry) const;

  // OK when `token` was issued by this key for `binding` and `now` is before its expiry; otherwise
  // Unauthenticated with the reason (malformed, not valid for this caller, expired).
  absl::Status verify(std::string_view token, std::string_view binding, absl::Time now) const;

 private:
  std::string mac(std::string_view expiry_bytes, std::string_view binding) const;

  const std::string key_;
};

}  // namespace wims::metadata
