#include "metadata/imds_session_token.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdint>
#include <cstdlib>
#include <utility>

#include "common/encoding.h"
#include "common/random.h"

namespace wims::metadata {
namespace {

constexpr size_t kExpiryBytes = 8;
constexpr size_t kMacBytes = 32;
// base64url without padding of 40 bytes.
constexpr size_t kTokenChars = (kExpiryBytes + kMacBytes) * 4 / 3 + 1;
constexpr std::string_view kLabel = "wims-imds-session-token-v1\n";

std::string expiry_bytes(absl::Time expiry) {
  const auto nanos = static_cast<uint64_t>(absl::ToUnixNanos(expiry));
  std::string out(kExpiryBytes, '\0');
  for (size_t i = 0; i < kExpiryBytes; ++i)
    out[i] = static_cast<char>((nanos >> (8 * (kExpiryBytes - 1 - i))) & 0xFF);
  return out;
}

absl::Time expiry_from_bytes(std::string_view bytes) {
  uint64_t nanos = 0;
  for (char c : bytes) nanos = (nanos << 8) | static_cast<unsigned char>(c);
  return absl::FromUnixNanos(static_cast<int64_t>(nanos));
}

}  // namespace

ImdsSessionTokens::ImdsSessionTokens() : key_(random_bytes(32)) {}

ImdsSessionTokens::ImdsSessionTokens(std::string key) : key_(std::move(key)) {
  if (key_.empty()) {
    fmt::print(stderr, "wims: ImdsSessionTokens needs a non-empty key\n");
    std::abort();
  }
}

std::string ImdsSessionTokens::mac(std::string_view expiry, std::string_view binding) const {
  std::string message;
  message.reserve(kLabel.size() + expiry.size() + binding.size());
  message.append(kLabel).append(expiry).append(binding);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), out,
           &length) == nullptr ||
      length != kMacBytes) {
    // HMAC-SHA256 is always in OpenSSL 3's default provider; failing here is a broken install.
    fmt::print(stderr, "wims: HMAC-SHA256 failed\n");
    std::abort();
  }
  return std::string(reinterpret_cast<const char*>(out), length);
}

std::string ImdsSessionTokens::issue(std::string_view binding, absl::Time expiry) const {
  std::string expiry_part = expiry_bytes(expiry);
  return base64url_encode(expiry_part + mac(expiry_part, binding));
}

absl::Status ImdsSessionTokens::verify(std::string_view token, std::string_view binding,
                                       absl::Time now) const {
  if (token.size() != kTokenChars)
    return absl::UnauthenticatedError("the IMDSv2 session token is malformed");
  absl::StatusOr<std::string> raw = base64url_decode(token);
  // The last base64url character carries 4 unused bits; only the canonical spelling is the token,
  // so a token has exactly one accepted form.
  if (!raw.ok() || raw->size() != kExpiryBytes + kMacBytes || base64url_encode(*raw) != token) {
    return absl::UnauthenticatedError("the IMDSv2 session token is malformed");
  }
  std::string_view expiry_part = std::string_view(*raw).substr(0, kExpiryBytes);
  std::string expected = mac(expiry_part, binding);
  if (CRYPTO_memcmp(expected.data(), raw->data() + kExpiryBytes, kMacBytes) != 0) {
    return absl::UnauthenticatedError("the IMDSv2 session token is not valid for this caller");
  }
  if (now >= expiry_from_bytes(expiry_part))
    return absl::UnauthenticatedError("the IMDSv2 session token expired");
  return absl::OkStatus();
}

}  // namespace wims::metadata
