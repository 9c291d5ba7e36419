#include "jose/jwt.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "common/encoding.h"

namespace wims::jose {
namespace {

struct Keys {
  SigningKey key;
  JwkSet jwks;
};

Keys make_keys(Algorithm alg) {
  absl::StatusOr<SigningKey> key = SigningKey::generate(alg);
  EXPECT_TRUE(key.ok()) << key.status();
  JwkSet jwks;
  jwks.add(*PublicJwk::from_json(key->public_jwk()));
  return Keys{*std::move(key), std::move(jwks)};
}

boost::json::object sample_claims() {
  return boost::json::object{{"iss", "https://issuer"},
                             {"sub", "system:serviceaccount:ns:sa"},
                             {"aud", boost::json::array{"a", "b"}},
                             {"exp", 1700003600},
                             {"iat", 1700000000}};
}

std::string b64json(std::string_view json) { return base64url_encode(json); }

TEST(JwtTest, SignsAndVerifiesBothAlgorithms) {
  for (Algorithm alg : {Algorithm::kRS256, Algorithm::kES256}) {
    SCOPED_TRACE(algorithm_name(alg));
    Keys keys = make_keys(alg);
    std::string token = sign_jwt(keys.key, sample_claims());
    absl::StatusOr<DecodedJwt> jwt = decode_jwt(token);
    ASSERT_TRUE(jwt.ok()) << jwt.status();
    EXPECT_EQ(*string_claim(jwt->header, "alg"), algorithm_name(alg));
    EXPECT_EQ(*string_claim(jwt->header, "kid"), keys.key.kid());
    EXPECT_EQ(*string_claim(jwt->header, "typ"), "JWT");
    EXPECT_EQ(jwt->claims, sample_claims());
    EXPECT_TRUE(verify_jwt(*jwt, keys.jwks).ok());
  }
}

TEST(JwtTest, TamperedPayloadIsRejected) {
  for (Algorithm alg : {Algorithm::kRS256, Algorithm::kES256}) {
    SCOPED_TRACE(algorithm_name(alg));
    Keys keys = make_keys(alg);
    std::string token = sign_jwt(keys.key, sample_claims());
    size_t dot1 = token.find('.');
    size_t dot2 = token.find('.', dot1 + 1);
    boost::json::object evil = sample_claims();
    evil["sub"] = "system:serviceaccount:kube-system:admin";
    std::string forged =
        token.substr(0, dot1 + 1) + b64json(boost::json::serialize(evil)) + token.substr(dot2);
    absl::StatusOr<DecodedJwt> jwt = decode_jwt(forged);
    ASSERT_TRUE(jwt.ok());
    EXPECT_EQ(verify_jwt(*jwt, keys.jwks).code(), absl::StatusCode::kUnauthenticated);
  }
}

TEST(JwtTest, TamperedSignatureIsRejected) {
  for (Algorithm alg : {Algorithm::kRS256, Algorithm::kES256}) {
    SCOPED_TRACE(algorithm_name(alg));
    Keys keys = make_keys(alg);
    absl::StatusOr<DecodedJwt> jwt = decode_jwt(sign_jwt(keys.key, sample_claims()));
    ASSERT_TRUE(jwt.ok());
    jwt->signature[5] ^= 0x01;
    EXPECT_EQ(verify_jwt(*jwt, keys.jwks).code(), absl::StatusCode::kUnauthenticated);
  }
}

TEST(JwtTest, KeyFromAnotherSetIsRejected) {
  Keys signer = make_keys(Algorithm::kRS256);
  Keys other = make_keys(Algorithm::kRS256);
  absl::StatusOr<DecodedJwt> jwt = decode_jwt(sign_jwt(signer.key, sample_claims()));
  ASSERT_TRUE(jwt.ok());
  absl::Status status = verify_jwt(*jwt, other.jwks);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(status.message().find("unknown kid"), std::string::npos) << status;

  // The right kid on a different key: a kid collision must still fail on the signature.
  jwt->header["kid"] = other.key.kid();
  EXPECT_EQ(verify_jwt(*jwt, other.jwks).code(), absl::StatusCode::kUnauthenticated);
}

TEST(JwtTest, UnsafeAlgorithmsAreRejected) {
  Keys keys = make_keys(Algorithm::kRS256);
  std::string payload = b64json(boost::json::serialize(sample_claims()));
  for (std::string_view alg : {"none", "HS256", "RS512", "ES256"}) {
    SCOPED_TRACE(alg);
    boost::json::object header{{"alg", alg}, {"kid", keys.key.kid()}, {"typ", "JWT"}};
    std::string input = b64json(boost::json::serialize(header)) + "." + payload;
    // A real RS256 signature over this input, so only the alg choice can cause the rejection.
    std::string token = input + "." + base64url_encode(*keys.key.sign(input));
    absl::StatusOr<DecodedJwt> jwt = decode_jwt(token);
    ASSERT_TRUE(jwt.ok()) << jwt.status();
    EXPECT_EQ(verify_jwt(*jwt, keys.jwks).code(), absl::StatusCode::kUnauthenticated);
  }
  // alg none with an empty signature part decodes but never verifies.
  boost::json::object none{{"alg", "none"}};
  absl::StatusOr<DecodedJwt> unsigned_jwt =
      decode_jwt(b64json(boost::json::serialize(none)) + "." + payload + ".");
  ASSERT_TRUE(unsigned_jwt.ok()) << unsigned_jwt.status();
  EXPECT_FALSE(verify_jwt(*unsigned_jwt, keys.jwks).ok());
}

TEST(JwtTest, MalformedTokensAreRejected) {
  std::string header = b64json(R"({"alg":"RS256","kid":"k"})");
  std::string payload = b64json(R"({"sub":"x"})");
  std::string sig = base64url_encode("signature");
  struct Case {
    std::string name;
    std::string token;
  };
  std::vector<Case> cases = {
      {"empty", ""},
      {"one part", header},
      {"two parts", header + "." + payload},
      {"four parts", header + "." + payload + "." + sig + "." + sig},
      {"empty header", "." + payload + "." + sig},
      {"empty payload", header + ".." + sig},
      {"padding", header + "=." + payload + "." + sig},
      {"standard base64 chars", header + "." + payload + "+/." + sig},
      {"whitespace", header + " ." + payload + "." + sig},
      {"header not json", b64json("{nope") + "." + payload + "." + sig},
      {"header is array", b64json("[1]") + "." + payload + "." + sig},
      {"payload is string", header + "." + b64json("\"x\"") + "." + sig},
      {"payload is number", header + "." + b64json("42") + "." + sig},
      {"no alg", b64json(R"({"kid":"k"})") + "." + payload + "." + sig},
      {"alg not string", b64json(R"({"alg":1})") + "." + payload + "." + sig},
      {"bad base64 length", header + "." + payload + ".A"},
      {"too long",
       header + "." + b64json("{\"x\":\"" + std::string(kMaxJwtBytes, 'a') + "\"}") + "." + sig},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<DecodedJwt> jwt = decode_jwt(c.token);
    EXPECT_EQ(jwt.status().code(), absl::StatusCode::kInvalidArgument) << jwt.status();
  }
  EXPECT_TRUE(decode_jwt(header + "." + payload + "." + sig).ok());
}

TEST(JwtClaimsTest, ReadsTypedClaims) {
  boost::json::object claims =
      boost::json::parse(
          R"({"s":"v","n":5,"big":18446744073709551615,"d":1.7e9,"frac":1.5,"aud1":"x","aud":["a","b"],
          "bad":[1]})")
          .as_object();
  EXPECT_EQ(*string_claim(claims, "s"), "v");
  EXPECT_EQ(string_claim(claims, "n").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(string_claim(claims, "missing").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(*int64_claim(claims, "n"), 5);
  EXPECT_EQ(*int64_claim(claims, "d"), 1700000000);
  EXPECT_EQ(int64_claim(claims, "big").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(int64_claim(claims, "frac").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(int64_claim(claims, "s").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*audience_claim(claims), (std::vector<std::string>{"a", "b"}));
  boost::json::object single{{"aud", "x"}};
  EXPECT_EQ(*audience_claim(single), (std::vector<std::string>{"x"}));
  boost::json::object bad{{"aud", boost::json::array{1}}};
  EXPECT_EQ(audience_claim(bad).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(audience_claim(boost::json::object{}).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace wims::jose
