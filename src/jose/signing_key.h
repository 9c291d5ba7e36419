// SigningKey: a private key that signs JWTs for wims's own issuers (the cluster's service-account
// token issuer, and the local cloud's ID tokens). RSA-2048 keys sign RS256, EC P-256 keys sign
// ES256.
//
//   WIMS_ASSIGN_OR_RETURN(jose::SigningKey key,
//   jose::SigningKey::generate(jose::Algorithm::kRS256)); WIMS_ASSIGN_OR_RETURN(std::string
//   signature, key.sign(signing_input));
//
// Owns its OpenSSL EVP_PKEY (RAII, move-only). Const methods are thread-safe: OpenSSL 3 keys are
// immutable once built and may be used by many threads at once. Generation is blocking CPU work
// (tens of ms for RSA): never call `generate` on an I/O thread.
#pragma once

#include <openssl/types.h>

#include <boost/json/object.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace wims::jose {

enum class Algorithm { kRS256, kES256 };

// "RS256" / "ES256".
std::string_view algorithm_name(Algorithm alg);
// The inverse of algorithm_name; InvalidArgument for anything else (including "none" and HS*).
absl::StatusOr<Algorithm> parse_algorithm(std::string_view name);

// RFC 7638 JWK thumbprint (SHA-256, base64url) of a public JWK: the required members only (RSA: e,
// kty, n; EC: crv, kty, x, y), in lexicographic order, without whitespace. InvalidArgument when a
// member is missing or the kty is unsupported.
absl::StatusOr<std::string> jwk_thumbprint(const boost::json::object& jwk);

class SigningKey {
 public:
  // A fresh key: RSA-2048 for kRS256, P-256 for kES256. Blocking.
  static absl::StatusOr<SigningKey> generate(Algorithm alg);
  // A PEM private key (PKCS#8 "PRIVATE KEY", or traditional RSA/EC). Only RSA >= 2048 bits and EC
  // P-256 are accepted.
  static absl::StatusOr<SigningKey> from_pem(std::string_view pem);

  SigningKey(SigningKey&&) noexcept = default;
  SigningKey& operator=(SigningKey&&) noexcept = default;
  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;
  ~SigningKey() = default;

  // The unencrypted PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"). Secret: store it with care.
  std::string to_pem() const;
  // The RFC 7638 thumbprint of the public key; stable across to_pem/from_pem.
  const std::string& kid() const { return kid_; }
  Algorithm alg() const { return alg_; }
  // The public key as a JWK: {kty, n, e} or {kty, crv, x, y}, plus use:"sig", kid and alg.
  boost::json::object public_jwk() const;
  // The JWS signature of `input` (the ASCII "header.payload"): PKCS#1 v1.5 SHA-256 for RS256, and
  // for ES256 the 64-byte raw r||s form of RFC 7518 section 3.4 (not DER). Raw bytes, not
  // base64url.
  absl::StatusOr<std::string> sign(std::string_view input) const;

  // The underlying key, for verification helpers in this module.
  const EVP_PKEY* pkey() const { return pkey_.get(); }

 private:
  struct PkeyDeleter {
    void operator()(EVP_PKEY* p) const;
  };
  SigningKey(EVP_PKEY* pkey, Algorithm alg);

  std::unique_ptr<EVP_PKEY, PkeyDeleter> pkey_;
  Algorithm alg_;
  std::string kid_;
};

}  // namespace wims::jose
