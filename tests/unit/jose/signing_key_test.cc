#include "jose/signing_key.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <boost/json/parse.hpp>

#include "common/encoding.h"
#include "jose/jwk_set.h"

namespace wims::jose {
namespace {

std::string str(const boost::json::object& o, std::string_view name) {
  auto it = o.find(name);
  return it != o.end() && it->value().is_string() ? std::string(it->value().get_string())
                                                  : std::string();
}

TEST(JwkThumbprintTest, MatchesRfc7638Example) {
  // RFC 7638 section 3.1.
  boost::json::object jwk = boost::json::parse(R"({
    "kty": "RSA",
    "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
    "e": "AQAB",
    "alg": "RS256",
    "kid": "2011-04-29"})")
                                .as_object();
  absl::StatusOr<std::string> kid = jwk_thumbprint(jwk);
  ASSERT_TRUE(kid.ok()) << kid.status();
  EXPECT_EQ(*kid, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

TEST(JwkThumbprintTest, RejectsMissingMembersAndUnknownKty) {
  EXPECT_FALSE(jwk_thumbprint(boost::json::parse(R"({"kty":"RSA","n":"AQAB"})").as_object()).ok());
  EXPECT_FALSE(jwk_thumbprint(boost::json::parse(R"({"kty":"oct","k":"AQAB"})").as_object()).ok());
  EXPECT_FALSE(
      jwk_thumbprint(boost::json::parse(R"({"kty":"EC","crv":"P-256","x":"AQ"})").as_object())
          .ok());
}

TEST(AlgorithmTest, ParsesOnlyAsymmetricAlgorithms) {
  EXPECT_EQ(*parse_algorithm("RS256"), Algorithm::kRS256);
  EXPECT_EQ(*parse_algorithm("ES256"), Algorithm::kES256);
  for (std::string_view bad : {"none", "HS256", "rs256", "RS384", ""}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(parse_algorithm(bad).ok());
  }
}

TEST(SigningKeyTest, Rs256PublicJwkHasKubernetesShape) {
  absl::StatusOr<SigningKey> key = SigningKey::generate(Algorithm::kRS256);
  ASSERT_TRUE(key.ok()) << key.status();
  boost::json::object jwk = key->public_jwk();
  EXPECT_EQ(str(jwk, "use"), "sig");
  EXPECT_EQ(str(jwk, "kty"), "RSA");
  EXPECT_EQ(str(jwk, "alg"), "RS256");
  EXPECT_EQ(str(jwk, "kid"), key->kid());
  EXPECT_EQ(str(jwk, "e"), "AQAB");
  EXPECT_EQ(base64url_decode(str(jwk, "n"))->size(), 256u);
  EXPECT_FALSE(jwk.contains("d"));
  EXPECT_EQ(*jwk_thumbprint(jwk), key->kid());
}

TEST(SigningKeyTest, Es256PublicJwkHasCurveCoordinates) {
  absl::StatusOr<SigningKey> key = SigningKey::generate(Algorithm::kES256);
  ASSERT_TRUE(key.ok()) << key.status();
  boost::json::object jwk = key->public_jwk();
  EXPECT_EQ(str(jwk, "kty"), "EC");
  EXPECT_EQ(str(jwk, "crv"), "P-256");
  EXPECT_EQ(str(jwk, "alg"), "ES256");
  EXPECT_EQ(base64url_decode(str(jwk, "x"))->size(), 32u);
  EXPECT_EQ(base64url_decode(str(jwk, "y"))->size(), 32u);
  EXPECT_FALSE(jwk.contains("d"));
}

TEST(SigningKeyTest, PemRoundTripKeepsKidAndSignsVerifiably) {
  for (Algorithm alg : {Algorithm::kRS256, Algorithm::kES256}) {
    SCOPED_TRACE(algorithm_name(alg));
    absl::StatusOr<SigningKey> key = SigningKey::generate(alg);
    ASSERT_TRUE(key.ok()) << key.status();
    std::string pem = key->to_pem();
    EXPECT_EQ(pem.rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);
    absl::StatusOr<SigningKey> again = SigningKey::from_pem(pem);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(again->kid(), key->kid());
    EXPECT_EQ(again->alg(), alg);

    absl::StatusOr<std::string> sig = again->sign("header.payload");
    ASSERT_TRUE(sig.ok()) << sig.status();
    if (alg == Algorithm::kES256) {
      EXPECT_EQ(sig->size(), 64u);  // raw r||s, not DER
    }
    absl::StatusOr<PublicJwk> pub = PublicJwk::from_json(key->public_jwk());
    ASSERT_TRUE(pub.ok()) << pub.status();
    EXPECT_TRUE(pub->verify(algorithm_name(alg), "header.payload", *sig).ok());
    EXPECT_FALSE(pub->verify(algorithm_name(alg), "header.payloaD", *sig).ok());
  }
}

TEST(SigningKeyTest, DistinctKeysHaveDistinctKids) {
  absl::StatusOr<SigningKey> a = SigningKey::generate(Algorithm::kES256);
  absl::StatusOr<SigningKey> b = SigningKey::generate(Algorithm::kES256);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->kid(), b->kid());
}

TEST(SigningKeyTest, FromPemRejectsGarbageAndUnsupportedKeys) {
  EXPECT_FALSE(SigningKey::from_pem("").ok());
  EXPECT_FALSE(
      SigningKey::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").ok());
  for (std::string_view kind : {"P-384", "RSA-1024"}) {
    SCOPED_TRACE(kind);
    EVP_PKEY* pkey = kind == "P-384" ? EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384")
                                     : EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024});
    ASSERT_NE(pkey, nullptr);
    BIO* bio = BIO_new(BIO_s_mem());
    ASSERT_EQ(PEM_write_bio_PrivateKey(bio, pkey, nullptr, nullptr, 0, nullptr, nullptr), 1);
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<size_t>(n));
    BIO_free(bio);
    EVP_PKEY_free(pkey);
    absl::StatusOr<SigningKey> key = SigningKey::from_pem(pem);
    EXPECT_EQ(key.status().code(), absl::StatusCode::kInvalidArgument) << key.status();
  }
}

TEST(SigningKeyTest, MovedKeyStillSigns) {
  absl::StatusOr<SigningKey> key = SigningKey::generate(Algorithm::kES256);
  ASSERT_TRUE(key.ok());
  SigningKey moved = *std::move(key);
  EXPECT_TRUE(moved.sign("x").ok());
}

}  // namespace
}  // namespace wims::jose
