#include "jose/jwk_set.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <boost/json/parse.hpp>
#include <boost/json/string.hpp>

#include "absl/strings/str_cat.h"
#include "common/encoding.h"
#include "common/json_members.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "jose/internal/openssl.h"

namespace wims::jose {
namespace {

// A base64url member of `jwk`, decoded; InvalidArgument if absent, not a string, or not base64url.
absl::StatusOr<std::string> decoded_member(const boost::json::object& jwk, std::string_view name) {
  auto it = jwk.find(name);
  if (it == jwk.end() || !it->value().is_string()) {
    return absl::InvalidArgumentError(
        absl::StrCat("JWK: missing string member \"", to_absl(name), "\""));
  }
  const boost::json::string& s = it->value().get_string();
  absl::StatusOr<std::string> bytes = base64url_decode(std::string_view(s.data(), s.size()));
  if (!bytes.ok() || bytes->empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("JWK: member \"", to_absl(name), "\" is not base64url"));
  }
  return bytes;
}

// Builds a public EVP_PKEY of `type` ("RSA" / "EC") from OpenSSL parameters.
absl::StatusOr<internal::PkeyPtr> pkey_from_params(const char* type, OSSL_PARAM_BLD* bld) {
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* pkey = nullptr;
  bool ok = params != nullptr && ctx != nullptr && EVP_PKEY_fromdata_init(ctx) == 1 &&
            EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1;
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  if (!ok) {
    EVP_PKEY_free(pkey);
    absl::Status err = internal::openssl_error("JWK: invalid key material");
    return absl::InvalidArgumentError(err.message());
  }
  return internal::PkeyPtr(pkey);
}

absl::StatusOr<internal::PkeyPtr> rsa_key(const boost::json::object& jwk) {
  WIMS_ASSIGN_OR_RETURN(std::string n_bytes, decoded_member(jwk, "n"));
  WIMS_ASSIGN_OR_RETURN(std::string e_bytes, decoded_member(jwk, "e"));
  internal::BnPtr n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n_bytes.data()),
                              static_cast<int>(n_bytes.size()), nullptr));
  internal::BnPtr e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e_bytes.data()),
                              static_cast<int>(e_bytes.size()), nullptr));
  if (!n || !e) return internal::openssl_error("BN_bin2bn");
  if (BN_num_bits(n.get()) < internal::kMinRsaBits) {
    return absl::InvalidArgumentError(absl::StrCat("JWK: RSA modulus of ", BN_num_bits(n.get()),
                                                   " bits; at least 2048 required"));
  }
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  if (bld == nullptr) return internal::openssl_error("OSSL_PARAM_BLD_new");
  absl::StatusOr<internal::PkeyPtr> pkey = absl::InternalError("OSSL_PARAM_BLD_push_BN");
  if (OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n.get()) == 1 &&
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e.get()) == 1) {
    pkey = pkey_from_params("RSA", bld);
  }
  OSSL_PARAM_BLD_free(bld);
  return pkey;
}

absl::StatusOr<internal::PkeyPtr> ec_key(const boost::json::object& jwk) {
  std::string crv = string_member(jwk, "crv");
  if (crv != "P-256") {
    return absl::UnimplementedError(absl::StrCat("JWK: unsupported EC curve \"", crv, "\""));
  }
  WIMS_ASSIGN_OR_RETURN(std::string x, decoded_member(jwk, "x"));
  WIMS_ASSIGN_OR_RETURN(std::string y, decoded_member(jwk, "y"));
  if (x.size() != internal::kP256FieldBytes || y.size() != internal::kP256FieldBytes) {
    return absl::InvalidArgumentError("JWK: P-256 coordinates must be 32 bytes");
  }
  std::string point = "\x04" + x + y;  // SEC1 uncompressed point
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  if (bld == nullptr) return internal::openssl_error("OSSL_PARAM_BLD_new");
  absl::StatusOr<internal::PkeyPtr> pkey = absl::InternalError("OSSL_PARAM_BLD_push");
  char group[] = "prime256v1";
  if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) == 1 &&
      OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) ==
          1) {
    pkey = pkey_from_params("EC", bld);
  }
  OSSL_PARAM_BLD_free(bld);
  if (!pkey.ok()) return pkey.status();
  // EVP_PKEY_fromdata does not promise a full point check; an off-curve point is an invalid-curve
  // attack.
  EVP_PKEY_CTX* check = EVP_PKEY_CTX_new_from_pkey(nullptr, pkey->get(), nullptr);
  bool on_curve = check != nullptr && EVP_PKEY_public_check(check) == 1;
  EVP_PKEY_CTX_free(check);
  if (!on_curve) {
    ERR_clear_error();
    return absl::InvalidArgumentError("JWK: EC point is not on P-256");
  }
  return pkey;
}

}  // namespace

absl::StatusOr<PublicJwk> PublicJwk::from_json(const boost::json::object& jwk) {
  auto kty_it = jwk.find("kty");
  if (kty_it == jwk.end() || !kty_it->value().is_string()) {
    return absl::InvalidArgumentError("JWK: missing \"kty\"");
  }
  std::string kty(kty_it->value().get_string().data(), kty_it->value().get_string().size());
  if (jwk.contains("use") && string_member(jwk, "use") != "sig") {
    return absl::UnimplementedError("JWK: not a signature key (use is not \"sig\")");
  }
  PublicJwk key;
  if (kty == "RSA") {
    WIMS_ASSIGN_OR_RETURN(internal::PkeyPtr pkey, rsa_key(jwk));
    key.pkey_ = std::shared_ptr<EVP_PKEY>(pkey.release(), internal::PkeyFree());
    key.algorithm_ = Algorithm::kRS256;
  } else if (kty == "EC") {
    WIMS_ASSIGN_OR_RETURN(internal::PkeyPtr pkey, ec_key(jwk));
    key.pkey_ = std::shared_ptr<EVP_PKEY>(pkey.release(), internal::PkeyFree());
    key.algorithm_ = Algorithm::kES256;
  } else {
    return absl::UnimplementedError(absl::StrCat("JWK: unsupported kty \"", kty, "\""));
  }
  if (jwk.contains("alg")) {
    std::string alg = string_member(jwk, "alg");
    if (alg != algorithm_name(key.algorithm_)) {
      return absl::UnimplementedError(
          absl::StrCat("JWK: alg \"", alg, "\" is not supported for kty ", kty));
    }
  }
  key.kid_ = string_member(jwk, "kid");
  key.json_ = jwk;
  return key;
}

absl::Status PublicJwk::verify(std::string_view alg, std::string_view signing_input,
                               std::string_view signature) const {
  absl::StatusOr<Algorithm> parsed = parse_algorithm(alg);
  if (!parsed.ok()) return absl::UnauthenticatedError(parsed.status().message());
  if (*parsed != algorithm_) {
    return absl::UnauthenticatedError(absl::StrCat("JWS alg ", to_absl(alg),
                                                   " does not match key \"", kid_, "\" (",
                                                   to_absl(algorithm_name(algorithm_)), ")"));
  }
  if (algorithm_ == Algorithm::kES256) {
    WIMS_ASSIGN_OR_RETURN(std::string der,
                          internal::ecdsa_raw_to_der(signature, internal::kP256FieldBytes));
    return internal::verify_sha256(pkey_.get(), signing_input, der);
  }
  return internal::verify_sha256(pkey_.get(), signing_input, signature);
}

absl::StatusOr<JwkSet> JwkSet::parse(std::string_view json_text) {
  boost::system::error_code ec;
  boost::json::value doc =
      boost::json::parse(boost::json::string_view(json_text.data(), json_text.size()), ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("JWKS: not JSON: ", ec.message()));
  if (!doc.is_object()) return absl::InvalidArgumentError("JWKS: not a JSON object");
  return from_json(doc.get_object());
}

absl::StatusOr<JwkSet> JwkSet::from_json(const boost::json::object& jwks) {
  auto it = jwks.find("keys");
  if (it == jwks.end() || !it->value().is_array()) {
    return absl::InvalidArgumentError("JWKS: missing \"keys\" array");
  }
  JwkSet set;
  for (const boost::json::value& v : it->value().get_array()) {
    if (!v.is_object()) return absl::InvalidArgumentError("JWKS: a key is not a JSON object");
    absl::StatusOr<PublicJwk> key = PublicJwk::from_json(v.get_object());
    if (absl::IsUnimplemented(key.status()))
      continue;  // RFC 7517 section 5: ignore what we do not know
    if (!key.ok()) return key.status();
    set.add(*std::move(key));
  }
  return set;
}

const PublicJwk* JwkSet::find(std::string_view kid) const {
  for (const PublicJwk& key : keys_) {
    if (key.kid() == kid) return &key;
  }
  return nullptr;
}

boost::json::object JwkSet::to_json() const {
  boost::json::array keys;
  for (const PublicJwk& key : keys_) keys.push_back(key.json());
  boost::json::object out;
  out["keys"] = std::move(keys);
  return out;
}

}  // namespace wims::jose
