// PublicJwk and JwkSet: the verification side of JOSE. A JwkSet is parsed from a JWKS document (RFC
// 7517 section 5, as served at an issuer's jwks_uri) and looked up by `kid`; a PublicJwk verifies
// RS256 and ES256 signatures.
//
//   WIMS_ASSIGN_OR_RETURN(jose::JwkSet jwks, jose::JwkSet::parse(body));
//   const jose::PublicJwk* key = jwks.find(kid);
//   if (key != nullptr) WIMS_RETURN_IF_ERROR(key->verify("RS256", signing_input, signature));
//
// Plain values (the OpenSSL key inside is shared and immutable): cheap to copy, and const methods
// are thread-safe, so a JwkSet can sit inside an immutable snapshot read by every worker.
#pragma once

#include <openssl/types.h>

#include <boost/json/object.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "jose/signing_key.h"

namespace wims::jose {

class PublicJwk {
 public:
  // A JWK object: kty "RSA" (n, e; modulus >= 2048 bits) or "EC" with crv "P-256" (x, y on the
  // curve). Errors: Unimplemented for a kty, crv or use this module does not verify (callers
  // building a set skip those), InvalidArgument for a malformed key.
  static absl::StatusOr<PublicJwk> from_json(const boost::json::object& jwk);

  // "" when the JWK has no kid.
  const std::string& kid() const { return kid_; }
  // The algorithm the key material implies (RSA -> RS256, EC P-256 -> ES256).
  Algorithm algorithm() const { return algorithm_; }
  // The JWK as given (all members, including unknown ones).
  const boost::json::object& json() const { return json_; }

  // Verifies a JWS signature (raw bytes, ES256 in r||s form) over `signing_input` with algorithm
  // `alg`. Unauthenticated when `alg` is not RS256/ES256, does not fit this key (kty, or the JWK's
  // own "alg"), or the signature does not verify.
  absl::Status verify(std::string_view alg, std::string_view signing_input,
                      std::string_view signature) const;

 private:
  PublicJwk() = default;

  std::shared_ptr<EVP_PKEY> pkey_;
  Algorithm algorithm_ = Algorithm::kRS256;
  std::string kid_;
  boost::json::object json_;
};

class JwkSet {
 public:
  JwkSet() = default;

  // Parses JWKS JSON text `{"keys":[...]}`. Keys of an unknown kty (or unsupported curve, or use
  // other than "sig") are skipped; anything malformed (not JSON, no "keys" array, a key that is not
  // an object, has no kty, or has broken key material) is InvalidArgument.
  static absl::StatusOr<JwkSet> parse(std::string_view json_text);
  static absl::StatusOr<JwkSet> from_json(const boost::json::object& jwks);

  void add(PublicJwk key) { keys_.push_back(std::move(key)); }

  // The first key with this kid, or nullptr.
  const PublicJwk* find(std::string_view kid) const;
  const std::vector<PublicJwk>& keys() const { return keys_; }
  bool empty() const { return keys_.empty(); }

  // {"keys":[...]} with each key's JSON as given.
  boost::json::object to_json() const;

 private:
  std::vector<PublicJwk> keys_;
};

}  // namespace wims::jose
