#include "config/stable_id.h"

#include <openssl/evp.h>

#include <array>
#include <cstdio>
#include <cstdlib>

#include "common/encoding.h"

namespace wims::config {
namespace {

// wims's UUIDv5 namespace (a fixed random UUID): 6f1d9c2e-4b8a-4e0f-9a55-3c7d2e81b6a4.
constexpr std::array<unsigned char, 16> kWimsNamespace = {
    0x6f, 0x1d, 0x9c, 0x2e, 0x4b, 0x8a, 0x4e, 0x0f, 0x9a, 0x55, 0x3c, 0x7d, 0x2e, 0x81, 0xb6, 0xa4};

std::string digest(const EVP_MD* md, std::string_view prefix, std::string_view name) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  // EVP digests of in-memory data only fail on allocation failure; treat that as a broken
  // invariant.
  if (ctx == nullptr || EVP_DigestInit_ex(ctx, md, nullptr) != 1 ||
      EVP_DigestUpdate(ctx, prefix.data(), prefix.size()) != 1 ||
      EVP_DigestUpdate(ctx, name.data(), name.size()) != 1 ||
      EVP_DigestFinal_ex(ctx, out, &len) != 1) {
    std::fprintf(stderr, "wims: OpenSSL digest failed\n");
    std::abort();
  }
  EVP_MD_CTX_free(ctx);
  return std::string(reinterpret_cast<const char*>(out), len);
}

}  // namespace

std::string name_based_uid(std::string_view name) {
  std::string hash = digest(
      EVP_sha1(),
      std::string_view(reinterpret_cast<const char*>(kWimsNamespace.data()), kWimsNamespace.size()),
      name);
  hash.resize(16);
  hash[6] = static_cast<char>((hash[6] & 0x0f) | 0x50);  // version 5
  hash[8] = static_cast<char>((hash[8] & 0x3f) | 0x80);  // RFC 4122 variant
  const std::string hex = hex_encode(hash);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

std::string name_based_cluster_uid(std::string_view name) {
  return hex_encode(digest(EVP_sha256(), "wims-cluster/", name));
}

uint64_t name_based_instance_id(std::string_view name) {
  const std::string hash = digest(EVP_sha256(), "wims-instance/", name);
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | static_cast<unsigned char>(hash[i]);
  constexpr uint64_t kLow = 1'000'000'000'000'000'000ULL;
  return kLow + value % (8 * kLow);
}

}  // namespace wims::config
