#include "jose/signing_key.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include "absl/strings/str_cat.h"
#include "common/encoding.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "jose/internal/openssl.h"

namespace wims::jose {
namespace {

// The public members of `pkey` as a JWK without use/kid/alg.
absl::StatusOr<boost::json::object> public_members(const EVP_PKEY* pkey, Algorithm alg) {
  boost::json::object jwk;
  if (alg == Algorithm::kRS256) {
    BIGNUM* n = nullptr;
    BIGNUM* e = nullptr;
    if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
        EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
      BN_free(n);
      BN_free(e);
      return internal::openssl_error("reading RSA public key");
    }
    jwk["kty"] = "RSA";
    jwk["n"] = base64url_encode(internal::bn_bytes(n));
    jwk["e"] = base64url_encode(internal::bn_bytes(e));
    BN_free(n);
    BN_free(e);
    return jwk;
  }
  BIGNUM* x = nullptr;
  BIGNUM* y = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x) != 1 ||
      EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y) != 1) {
    BN_free(x);
    BN_free(y);
    return internal::openssl_error("reading EC public key");
  }
  jwk["kty"] = "EC";
  jwk["crv"] = "P-256";
  jwk["x"] = base64url_encode(internal::bn_bytes(x, internal::kP256FieldBytes));
  jwk["y"] = base64url_encode(internal::bn_bytes(y, internal::kP256FieldBytes));
  BN_free(x);
  BN_free(y);
  return jwk;
}

// Which algorithm `pkey` can sign with, or an error for unsupported key types and sizes.
absl::StatusOr<Algorithm> algorithm_of(const EVP_PKEY* pkey) {
  switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_RSA:
      if (EVP_PKEY_get_bits(pkey) < internal::kMinRsaBits) {
        return absl::InvalidArgumentError(
            absl::StrCat("RSA key of ", EVP_PKEY_get_bits(pkey), " bits; at least 2048 required"));
      }
      return Algorithm::kRS256;
    case EVP_PKEY_EC: {
      char name[64];
      size_t len = 0;
      if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof name,
                                         &len) != 1) {
        return internal::openssl_error("reading EC group");
      }
      int nid = OBJ_sn2nid(name);
      if (nid == NID_undef) nid = EC_curve_nist2nid(name);
      if (nid != NID_X9_62_prime256v1) {
        return absl::InvalidArgumentError(
            absl::StrCat("EC curve ", name, " is not supported; use P-256"));
      }
      return Algorithm::kES256;
    }
    default:
      return absl::InvalidArgumentError("unsupported key type; use RSA-2048 or EC P-256");
  }
}

std::string_view member(const boost::json::object& jwk, std::string_view name) {
  auto it = jwk.find(name);
  if (it == jwk.end() || !it->value().is_string()) return {};
  const boost::json::string& s = it->value().get_string();
  return std::string_view(s.data(), s.size());
}

}  // namespace

std::string_view algorithm_name(Algorithm alg) {
  switch (alg) {
    case Algorithm::kRS256:
      return "RS256";
    case Algorithm::kES256:
      return "ES256";
  }
  return "";
}

absl::StatusOr<Algorithm> parse_algorithm(std::string_view name) {
  if (name == "RS256") return Algorithm::kRS256;
  if (name == "ES256") return Algorithm::kES256;
  return absl::InvalidArgumentError(
      absl::StrCat("unsupported JWS algorithm \"", to_absl(name), "\""));
}

absl::StatusOr<std::string> jwk_thumbprint(const boost::json::object& jwk) {
  std::string_view kty = member(jwk, "kty");
  // RFC 7638 section 3.2: required members only, lexicographic order, no whitespace. Building the
  // object in that order and serializing it gives exactly that, since Boost.JSON keeps insertion
  // order.
  boost::json::object canonical;
  std::vector<std::string_view> names;
  if (kty == "RSA") {
    names = {"e", "kty", "n"};
  } else if (kty == "EC") {
    names = {"crv", "kty", "x", "y"};
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("JWK thumbprint: unsupported kty \"", to_absl(kty), "\""));
  }
  for (std::string_view name : names) {
    std::string_view value = member(jwk, name);
    if (value.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("JWK thumbprint: missing member ", to_absl(name)));
    }
    canonical[name] = value;
  }
  std::string text = boost::json::serialize(canonical);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  return base64url_encode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

void SigningKey::PkeyDeleter::operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }

SigningKey::SigningKey(EVP_PKEY* pkey, Algorithm alg) : pkey_(pkey), alg_(alg) {}

absl::StatusOr<SigningKey> SigningKey::generate(Algorithm alg) {
  EVP_PKEY* pkey = alg == Algorithm::kRS256
                       ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048})
                       : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (pkey == nullptr) return internal::openssl_error("key generation");
  SigningKey key(pkey, alg);
  WIMS_ASSIGN_OR_RETURN(boost::json::object members, public_members(pkey, alg));
  WIMS_ASSIGN_OR_RETURN(key.kid_, jwk_thumbprint(members));
  return key;
}

absl::StatusOr<SigningKey> SigningKey::from_pem(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return internal::openssl_error("BIO_new_mem_buf");
  // An empty passphrase callback result: encrypted keys fail instead of prompting on the terminal.
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(
      bio, nullptr, [](char*, int, int, void*) { return 0; }, nullptr);
  BIO_free(bio);
  if (pkey == nullptr) {
    absl::Status err = internal::openssl_error("not a PEM private key");
    return absl::InvalidArgumentError(err.message());
  }
  internal::PkeyPtr owned(pkey);
  WIMS_ASSIGN_OR_RETURN(Algorithm alg, algorithm_of(pkey));
  SigningKey key(owned.release(), alg);
  WIMS_ASSIGN_OR_RETURN(boost::json::object members, public_members(key.pkey_.get(), alg));
  WIMS_ASSIGN_OR_RETURN(key.kid_, jwk_thumbprint(members));
  return key;
}

std::string SigningKey::to_pem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  std::string out;
  if (bio != nullptr &&
      PEM_write_bio_PrivateKey(bio, pkey_.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1) {
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    out.assign(data, static_cast<size_t>(n));
  }
  BIO_free(bio);
  return out;  // empty only on allocation failure
}

boost::json::object SigningKey::public_jwk() const {
  // Member order as kube-apiserver serves it: use, kty, kid, alg, then the key material.
  boost::json::object jwk;
  jwk["use"] = "sig";
  absl::StatusOr<boost::json::object> members = public_members(pkey_.get(), alg_);
  jwk["kty"] = members.ok() ? (*members)["kty"] : boost::json::value("");
  jwk["kid"] = kid_;
  jwk["alg"] = algorithm_name(alg_);
  if (members.ok()) {
    for (auto& kv : *members) {
      if (kv.key() != "kty") jwk[kv.key()] = kv.value();
    }
  }
  return jwk;
}

absl::StatusOr<std::string> SigningKey::sign(std::string_view input) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return internal::openssl_error("EVP_MD_CTX_new");
  std::string signature;
  size_t len = 0;
  bool ok = EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, pkey_.get()) == 1 &&
            EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                           input.size()) == 1;
  if (ok) {
    signature.resize(len);
    ok = EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(signature.data()), &len,
                        reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
    signature.resize(len);
  }
  EVP_MD_CTX_free(ctx);
  if (!ok) return internal::openssl_error("signing");
  if (alg_ == Algorithm::kES256)
    return internal::ecdsa_der_to_raw(signature, internal::kP256FieldBytes);
  return signature;
}

}  // namespace wims::jose
