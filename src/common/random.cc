#include "common/random.h"

#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>

#include "common/encoding.h"

namespace wims {

std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    // A CSPRNG failure is a broken invariant: never fall back to weak randomness.
    std::fputs("wims: RAND_bytes failed\n", stderr);
    std::abort();
  }
  return out;
}

std::string random_token(size_t n) { return base64url_encode(random_bytes(n)); }

std::string random_uuid() {
  std::string b = random_bytes(16);
  b[6] = static_cast<char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<char>((b[8] & 0x3f) | 0x80);
  std::string h = hex_encode(b);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}

std::string random_upper_id(size_t n) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string b = random_bytes(n);
  std::string out(n, 'A');
  for (size_t i = 0; i < n; ++i) out[i] = kAlphabet[static_cast<unsigned char>(b[i]) % 32];
  return out;
}

}  // namespace wims
