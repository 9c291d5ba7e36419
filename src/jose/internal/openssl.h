// Private OpenSSL helpers of the jose module: error text, owning handles, and the ECDSA signature
// conversion between DER (OpenSSL) and JOSE raw r||s. Stateless and thread-safe.
#pragma once

#include <openssl/bn.h>
#include <openssl/evp.h>

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace wims::jose::internal {

// The smallest RSA modulus accepted (bits), and the size of a P-256 coordinate or scalar (bytes).
inline constexpr int kMinRsaBits = 2048;
inline constexpr int kP256FieldBytes = 32;

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct BnFree {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;

// `what` plus the drained OpenSSL error queue, as an Internal error.
absl::Status openssl_error(std::string_view what);

// Big-endian bytes of `bn`, left-padded with zeros to `width` bytes when width > 0.
std::string bn_bytes(const BIGNUM* bn, int width = 0);

// ECDSA signature conversion for a curve whose order has `field_bytes` bytes (32 for P-256).
absl::StatusOr<std::string> ecdsa_der_to_raw(std::string_view der, int field_bytes);
absl::StatusOr<std::string> ecdsa_raw_to_der(std::string_view raw, int field_bytes);

// Verifies a SHA-256 signature (RS256: PKCS#1 v1.5; ES256: `signature` already in DER).
// Unauthenticated on a bad signature.
absl::Status verify_sha256(EVP_PKEY* pkey, std::string_view input, std::string_view signature);

}  // namespace wims::jose::internal
