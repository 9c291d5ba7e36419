// Random identifiers from the OpenSSL CSPRNG: opaque tokens, UUIDv4 strings, AWS-style key ids.
// Thread-safe (OpenSSL's RAND is). Values are unpredictable, so tests assert on shape, not value.
#pragma once

#include <string>

namespace wims {

// `n` random bytes.
std::string random_bytes(size_t n);
// URL-safe base64 of `n` random bytes, no padding.
std::string random_token(size_t n = 32);
// RFC 4122 version 4 UUID, lower-case.
std::string random_uuid();
// Upper-case base32-like id of `n` characters from [A-Z2-7] (the alphabet of AWS key ids).
std::string random_upper_id(size_t n);

}  // namespace wims
