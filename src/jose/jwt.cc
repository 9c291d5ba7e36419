#include "jose/jwt.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "common/encoding.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace wims::jose {
namespace {

bool is_base64url(std::string_view part) {
  for (char c : part) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

absl::StatusOr<boost::json::object> decode_json_part(std::string_view part, std::string_view what) {
  absl::StatusOr<std::string> text = base64url_decode(part);
  if (!text.ok())
    return absl::InvalidArgumentError(absl::StrCat("JWT: ", to_absl(what), " is not base64url"));
  boost::system::error_code ec;
  boost::json::value value =
      boost::json::parse(boost::json::string_view(text->data(), text->size()), ec);
  if (ec || !value.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("JWT: ", to_absl(what), " is not a JSON object"));
  }
  return std::move(value.get_object());
}

}  // namespace

std::string sign_jwt(const SigningKey& key, const boost::json::object& claims) {
  boost::json::object header;
  header["alg"] = algorithm_name(key.alg());
  header["kid"] = key.kid();
  header["typ"] = "JWT";
  std::string input = base64url_encode(boost::json::serialize(header)) + "." +
                      base64url_encode(boost::json::serialize(claims));
  absl::StatusOr<std::string> signature = key.sign(input);
  if (!signature.ok()) {
    // A broken invariant (the key is valid and in memory), not something input can cause.
    std::fprintf(stderr, "wims: JWT signing failed: %s\n",
                 std::string(signature.status().message()).c_str());
    std::abort();
  }
  return input + "." + base64url_encode(*signature);
}

absl::StatusOr<DecodedJwt> decode_jwt(std::string_view token) {
  if (token.size() > kMaxJwtBytes) {
    return absl::InvalidArgumentError(absl::StrCat("JWT: longer than ", kMaxJwtBytes, " bytes"));
  }
  size_t first = token.find('.');
  size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return absl::InvalidArgumentError("JWT: expected three dot-separated parts");
  }
  std::string_view header_part = token.substr(0, first);
  std::string_view payload_part = token.substr(first + 1, second - first - 1);
  std::string_view signature_part = token.substr(second + 1);
  if (header_part.empty() || payload_part.empty()) {
    return absl::InvalidArgumentError("JWT: empty header or payload");
  }
  if (!is_base64url(header_part) || !is_base64url(payload_part) || !is_base64url(signature_part)) {
    return absl::InvalidArgumentError("JWT: parts must be unpadded base64url");
  }
  DecodedJwt jwt;
  WIMS_ASSIGN_OR_RETURN(jwt.header, decode_json_part(header_part, "header"));
  WIMS_ASSIGN_OR_RETURN(jwt.claims, decode_json_part(payload_part, "payload"));
  auto alg = jwt.header.find("alg");
  if (alg == jwt.header.end() || !alg->value().is_string()) {
    return absl::InvalidArgumentError("JWT: header has no \"alg\"");
  }
  absl::StatusOr<std::string> signature = base64url_decode(signature_part);
  if (!signature.ok()) return absl::InvalidArgumentError("JWT: signature is not base64url");
  jwt.signature = *std::move(signature);
  jwt.signing_input = std::string(token.substr(0, second));
  return jwt;
}

absl::Status verify_jwt(const DecodedJwt& jwt, const JwkSet& jwks) {
  absl::StatusOr<std::string> alg = string_claim(jwt.header, "alg");
  if (!alg.ok()) return absl::UnauthenticatedError("JWT: header has no \"alg\"");
  absl::StatusOr<Algorithm> parsed = parse_algorithm(*alg);
  if (!parsed.ok())
    return absl::UnauthenticatedError(absl::StrCat("JWT: ", parsed.status().message()));
  absl::StatusOr<std::string> kid = string_claim(jwt.header, "kid");
  if (!kid.ok()) return absl::UnauthenticatedError("JWT: header has no \"kid\"");
  const PublicJwk* key = jwks.find(*kid);
  if (key == nullptr)
    return absl::UnauthenticatedError(absl::StrCat("JWT: unknown kid \"", *kid, "\""));
  return key->verify(*alg, jwt.signing_input, jwt.signature);
}

absl::StatusOr<std::string> string_claim(const boost::json::object& claims, std::string_view name) {
  auto it = claims.find(name);
  if (it == claims.end())
    return absl::NotFoundError(absl::StrCat("claim \"", to_absl(name), "\" is missing"));
  if (!it->value().is_string()) {
    return absl::InvalidArgumentError(
        absl::StrCat("claim \"", to_absl(name), "\" is not a string"));
  }
  const boost::json::string& s = it->value().get_string();
  return std::string(s.data(), s.size());
}

absl::StatusOr<int64_t> int64_claim(const boost::json::object& claims, std::string_view name) {
  auto it = claims.find(name);
  if (it == claims.end())
    return absl::NotFoundError(absl::StrCat("claim \"", to_absl(name), "\" is missing"));
  const boost::json::value& v = it->value();
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64() && v.get_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    return static_cast<int64_t>(v.get_uint64());
  }
  // 9.2e18 bounds the doubles that convert to int64 without overflow (UB otherwise).
  if (v.is_double() && std::isfinite(v.get_double()) &&
      std::trunc(v.get_double()) == v.get_double() && std::fabs(v.get_double()) < 9.2e18) {
    return static_cast<int64_t>(v.get_double());
  }
  return absl::InvalidArgumentError(
      absl::StrCat("claim \"", to_absl(name), "\" is not an integer"));
}

absl::StatusOr<std::vector<std::string>> audience_claim(const boost::json::object& claims) {
  auto it = claims.find("aud");
  if (it == claims.end()) return absl::NotFoundError("claim \"aud\" is missing");
  const boost::json::value& v = it->value();
  if (v.is_string())
    return std::vector<std::string>{std::string(v.get_string().data(), v.get_string().size())};
  if (v.is_array()) {
    std::vector<std::string> out;
    for (const boost::json::value& a : v.get_array()) {
      if (!a.is_string())
        return absl::InvalidArgumentError("claim \"aud\" has a non-string element");
      out.emplace_back(a.get_string().data(), a.get_string().size());
    }
    return out;
  }
  return absl::InvalidArgumentError("claim \"aud\" is neither a string nor an array");
}

}  // namespace wims::jose
