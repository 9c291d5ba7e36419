#include "jose/internal/openssl.h"

#include <openssl/ecdsa.h>
#include <openssl/err.h>

#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace wims::jose::internal {

absl::Status openssl_error(std::string_view what) {
  std::string text(what);
  unsigned long code;
  while ((code = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    text += ": ";
    text += buf;
  }
  return absl::InternalError(text);
}

std::string bn_bytes(const BIGNUM* bn, int width) {
  int n = width > 0 ? width : BN_num_bytes(bn);
  std::string out(static_cast<size_t>(n), '\0');
  if (n == 0) return out;
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), n);
  return out;
}

absl::StatusOr<std::string> ecdsa_der_to_raw(std::string_view der, int field_bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  if (sig == nullptr) return openssl_error("ECDSA signature is not DER");
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig, &r, &s);
  std::string out;
  if (BN_num_bytes(r) <= field_bytes && BN_num_bytes(s) <= field_bytes) {
    out = bn_bytes(r, field_bytes) + bn_bytes(s, field_bytes);
  }
  ECDSA_SIG_free(sig);
  if (out.empty()) return absl::InternalError("ECDSA signature component too large");
  return out;
}

absl::StatusOr<std::string> ecdsa_raw_to_der(std::string_view raw, int field_bytes) {
  if (raw.size() != static_cast<size_t>(2 * field_bytes)) {
    return absl::UnauthenticatedError(
        absl::StrCat("ES256 signature must be ", 2 * field_bytes, " bytes, got ", raw.size()));
  }
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  BIGNUM* r = BN_bin2bn(bytes, field_bytes, nullptr);
  BIGNUM* s = BN_bin2bn(bytes + field_bytes, field_bytes, nullptr);
  ECDSA_SIG* sig = ECDSA_SIG_new();
  if (r == nullptr || s == nullptr || sig == nullptr) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return openssl_error("ECDSA_SIG allocation");
  }
  ECDSA_SIG_set0(sig, r, s);  // takes ownership of r and s
  unsigned char* der = nullptr;
  int n = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  if (n <= 0) return openssl_error("i2d_ECDSA_SIG");
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
  return out;
}

absl::Status verify_sha256(EVP_PKEY* pkey, std::string_view input, std::string_view signature) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return openssl_error("EVP_MD_CTX_new");
  int rc = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, pkey);
  if (rc == 1) {
    rc = EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(input.data()),
                          input.size());
  }
  EVP_MD_CTX_free(ctx);
  // Verification failures leave entries on the thread's error queue; clear them so they do not leak
  // into an unrelated later error message.
  ERR_clear_error();
  if (rc != 1) return absl::UnauthenticatedError("signature verification failed");
  return absl::OkStatus();
}

}  // namespace wims::jose::internal
