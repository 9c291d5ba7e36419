// JWT (RFC 7519) in JWS compact serialization: signing with a SigningKey, strict unverified
// decoding, and verification against a JwkSet. Only RS256 and ES256 are accepted; "none" and HMAC
// algorithms are always rejected, so a token can never choose to be verified with a weaker scheme.
//
//   std::string token = jose::sign_jwt(key, claims);
//   WIMS_ASSIGN_OR_RETURN(jose::DecodedJwt jwt, jose::decode_jwt(token));
//   WIMS_RETURN_IF_ERROR(jose::verify_jwt(jwt, jwks));
//   WIMS_ASSIGN_OR_RETURN(std::string sub, jose::string_claim(jwt.claims, "sub"));
//
// verify_jwt checks the signature only; time (exp, nbf, iat), issuer and audience are the caller's
// policy. Free functions; stateless and thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "jose/jwk_set.h"
#include "jose/signing_key.h"

namespace wims::jose {

// Upper bound on the compact serialization accepted by decode_jwt.
inline constexpr size_t kMaxJwtBytes = 16 * 1024;

// The compact JWS of `claims` with header {"alg","kid","typ":"JWT"}. Signing with a valid in-memory
// key cannot fail short of memory exhaustion, which aborts.
std::string sign_jwt(const SigningKey& key, const boost::json::object& claims);

struct DecodedJwt {
  boost::json::object header;
  boost::json::object claims;
  std::string signing_input;  // "BASE64URL(header).BASE64URL(payload)", exactly as received
  std::string signature;      // raw bytes (ES256: r||s)
};

// Parses without verifying. Strict: at most kMaxJwtBytes, exactly three dot-separated parts,
// unpadded base64url ([A-Za-z0-9_-]) in each, header and payload JSON objects, header "alg" a
// string. InvalidArgument otherwise.
absl::StatusOr<DecodedJwt> decode_jwt(std::string_view token);

// Verifies the signature: the header's alg must be RS256 or ES256 (Unauthenticated for "none", HS*,
// others), its kid must name a key of `jwks` (Unauthenticated "unknown kid"), the alg must fit that
// key, and the signature must verify.
absl::Status verify_jwt(const DecodedJwt& jwt, const JwkSet& jwks);

// Claim readers. NotFound when the claim is absent, InvalidArgument when it has the wrong type.
absl::StatusOr<std::string> string_claim(const boost::json::object& claims, std::string_view name);
// A JSON integer (or an integral JSON number, as some issuers emit `1.7e9`) within int64 range.
absl::StatusOr<int64_t> int64_claim(const boost::json::object& claims, std::string_view name);
// "aud": a string (one audience) or an array of strings (RFC 7519 section 4.1.3).
absl::StatusOr<std::vector<std::string>> audience_claim(const boost::json::object& claims);

}  // namespace wims::jose
