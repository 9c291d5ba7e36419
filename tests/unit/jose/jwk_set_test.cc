#include "jose/jwk_set.h"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

namespace wims::jose {
namespace {

TEST(JwkSetTest, ParsesKeysAndFindsByKid) {
  absl::StatusOr<SigningKey> rsa = SigningKey::generate(Algorithm::kRS256);
  absl::StatusOr<SigningKey> ec = SigningKey::generate(Algorithm::kES256);
  ASSERT_TRUE(rsa.ok() && ec.ok());
  boost::json::object doc;
  doc["keys"] =
      boost::json::array{rsa->public_jwk(), ec->public_jwk(),
                         boost::json::object{{"kty", "oct"}, {"k", "c2VjcmV0"}, {"kid", "sym"}}};
  absl::StatusOr<JwkSet> set = JwkSet::parse(boost::json::serialize(doc));
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->keys().size(), 2u);  // the oct key is ignored
  ASSERT_NE(set->find(rsa->kid()), nullptr);
  EXPECT_EQ(set->find(rsa->kid())->algorithm(), Algorithm::kRS256);
  ASSERT_NE(set->find(ec->kid()), nullptr);
  EXPECT_EQ(set->find(ec->kid())->algorithm(), Algorithm::kES256);
  EXPECT_EQ(set->find("sym"), nullptr);
  EXPECT_EQ(set->find("nope"), nullptr);
}

TEST(JwkSetTest, SkipsUnsupportedCurvesAndEncryptionKeys) {
  absl::StatusOr<JwkSet> set = JwkSet::parse(R"({"keys":[
      {"kty":"EC","crv":"P-384","x":"AQ","y":"AQ"},
      {"kty":"OKP","crv":"Ed25519","x":"AQ"},
      {"kty":"RSA","use":"enc","n":"AQ","e":"AQAB"}]})");
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_TRUE(set->empty());
}

TEST(JwkSetTest, RejectsMalformedDocuments) {
  const char* cases[] = {
      "",
      "not json",
      "[]",
      "{}",
      R"({"keys":{}})",
      R"({"keys":[1]})",
      R"({"keys":[{"n":"AQ"}]})",
      R"({"keys":[{"kty":"RSA","e":"AQAB"}]})",
      R"({"keys":[{"kty":"RSA","n":"!!!","e":"AQAB"}]})",
      R"({"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]})",  // 17-bit modulus
      R"({"keys":[{"kty":"EC","crv":"P-256","x":"AQ","y":"AQ"}]})",
      // 32-byte coordinates that are not a point on P-256.
      R"({"keys":[{"kty":"EC","crv":"P-256","x":"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE","y":"AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI"}]})",
  };
  for (const char* text : cases) {
    SCOPED_TRACE(text);
    absl::StatusOr<JwkSet> set = JwkSet::parse(text);
    EXPECT_EQ(set.status().code(), absl::StatusCode::kInvalidArgument) << set.status();
  }
}

TEST(PublicJwkTest, RejectsAlgorithmThatDoesNotFitTheKey) {
  absl::StatusOr<SigningKey> ec = SigningKey::generate(Algorithm::kES256);
  ASSERT_TRUE(ec.ok());
  absl::StatusOr<PublicJwk> pub = PublicJwk::from_json(ec->public_jwk());
  ASSERT_TRUE(pub.ok());
  std::string sig = *ec->sign("input");
  EXPECT_TRUE(pub->verify("ES256", "input", sig).ok());
  EXPECT_EQ(pub->verify("RS256", "input", sig).code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(pub->verify("none", "input", "").code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(pub->verify("ES256", "input", sig.substr(1)).code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(JwkSetTest, ToJsonRoundTrips) {
  absl::StatusOr<SigningKey> rsa = SigningKey::generate(Algorithm::kRS256);
  ASSERT_TRUE(rsa.ok());
  JwkSet set;
  set.add(*PublicJwk::from_json(rsa->public_jwk()));
  absl::StatusOr<JwkSet> again = JwkSet::from_json(set.to_json());
  ASSERT_TRUE(again.ok());
  ASSERT_NE(again->find(rsa->kid()), nullptr);
  EXPECT_EQ(again->find(rsa->kid())->json(), rsa->public_jwk());
}

}  // namespace
}  // namespace wims::jose
