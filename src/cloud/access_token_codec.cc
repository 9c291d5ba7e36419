#include "cloud/access_token_codec.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "absl/strings/str_cat.h"
#include "common/encoding.h"
#include "common/random.h"
#include "common/status_macros.h"
#include "jose/jwt.h"

namespace wims::cloud {
namespace {

constexpr char kSecretKey[] = "hmac_secret";

std::string_view kind_name(AccessTokenKind kind) {
  return kind == AccessTokenKind::kFederated ? "federated" : "service_account";
}

absl::Status invalid(std::string_view why) {
  return absl::UnauthenticatedError(absl::StrCat("invalid access token: ", std::string(why)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<AccessTokenCodec>> AccessTokenCodec::open(store::StateStore& store) {
  WIMS_ASSIGN_OR_RETURN(std::optional<std::string> secret, store.get(kStoreNamespace, kSecretKey));
  if (!secret) {
    secret = random_bytes(kSecretBytes);
    WIMS_RETURN_IF_ERROR(store.put(kStoreNamespace, kSecretKey, *secret));
  } else if (secret->size() != kSecretBytes) {
    return absl::DataLossError("access token secret in the state store has the wrong size");
  }
  return std::make_unique<AccessTokenCodec>(*std::move(secret));
}

std::string AccessTokenCodec::mac(std::string_view input) const {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string AccessTokenCodec::mint(const AccessTokenClaims& claims) const {
  boost::json::object o;
  o["kind"] = kind_name(claims.kind);
  o["sub"] = claims.subject;
  if (claims.workload) {
    const iam::WorkloadIdentity& w = *claims.workload;
    o["wi"] = boost::json::object{{"project_number", w.project_number},
                                  {"pool", w.pool},
                                  {"namespace", w.namespace_name},
                                  {"service_account", w.service_account},
                                  {"service_account_uid", w.service_account_uid},
                                  {"cluster_url", w.cluster_url},
                                  {"pod_name", w.pod_name},
                                  {"pod_uid", w.pod_uid}};
  }
  boost::json::array scopes;
  for (const std::string& s : claims.scopes) scopes.emplace_back(s);
  o["scopes"] = std::move(scopes);
  o["iat"] = absl::ToUnixSeconds(claims.issued_at);
  o["exp"] = absl::ToUnixSeconds(claims.expires_at);
  std::string signed_part = absl::StrCat(kTokenPrefix, base64url_encode(boost::json::serialize(o)));
  return absl::StrCat(signed_part, ".", base64url_encode(mac(signed_part)));
}

absl::StatusOr<AccessTokenClaims> AccessTokenCodec::verify(std::string_view token,
                                                           absl::Time now) const {
  if (token.size() > kMaxTokenBytes) return invalid("too long");
  if (token.substr(0, sizeof(kTokenPrefix) - 1) != kTokenPrefix)
    return invalid("not a ya29. token");
  size_t dot = token.rfind('.');
  if (dot < sizeof(kTokenPrefix) - 1) return invalid("no signature");
  std::string_view signed_part = token.substr(0, dot);
  absl::StatusOr<std::string> signature = base64url_decode(token.substr(dot + 1));
  std::string expected = mac(signed_part);
  // Constant-time comparison: the MAC must not be guessable byte by byte.
  if (!signature.ok() || signature->size() != expected.size() ||
      CRYPTO_memcmp(signature->data(), expected.data(), expected.size()) != 0) {
    return invalid("bad signature");
  }
  absl::StatusOr<std::string> payload =
      base64url_decode(signed_part.substr(sizeof(kTokenPrefix) - 1));
  if (!payload.ok()) return invalid("payload is not base64url");
  boost::system::error_code ec;
  boost::json::value doc =
      boost::json::parse(boost::json::string_view(payload->data(), payload->size()), ec);
  if (ec || !doc.is_object()) return invalid("payload is not a JSON object");
  const boost::json::object& o = doc.get_object();

  AccessTokenClaims claims;
  absl::StatusOr<std::string> kind = jose::string_claim(o, "kind");
  absl::StatusOr<std::string> sub = jose::string_claim(o, "sub");
  absl::StatusOr<int64_t> iat = jose::int64_claim(o, "iat");
  absl::StatusOr<int64_t> exp = jose::int64_claim(o, "exp");
  if (!kind.ok() || !sub.ok() || !iat.ok() || !exp.ok()) return invalid("missing claims");
  if (*kind == "federated") {
    claims.kind = AccessTokenKind::kFederated;
  } else if (*kind == "service_account") {
    claims.kind = AccessTokenKind::kServiceAccount;
  } else {
    return invalid("unknown kind");
  }
  claims.subject = *std::move(sub);
  claims.issued_at = absl::FromUnixSeconds(*iat);
  claims.expires_at = absl::FromUnixSeconds(*exp);
  if (auto it = o.find("scopes"); it != o.end() && it->value().is_array()) {
    for (const boost::json::value& s : it->value().get_array()) {
      if (s.is_string()) claims.scopes.emplace_back(s.get_string().data(), s.get_string().size());
    }
  }
  if (auto it = o.find("wi"); it != o.end() && it->value().is_object()) {
    const boost::json::object& w = it->value().get_object();
    iam::WorkloadIdentity wi;
    wi.project_number = jose::int64_claim(w, "project_number").value_or(0);
    wi.pool = jose::string_claim(w, "pool").value_or("");
    wi.namespace_name = jose::string_claim(w, "namespace").value_or("");
    wi.service_account = jose::string_claim(w, "service_account").value_or("");
    wi.service_account_uid = jose::string_claim(w, "service_account_uid").value_or("");
    wi.cluster_url = jose::string_claim(w, "cluster_url").value_or("");
    wi.pod_name = jose::string_claim(w, "pod_name").value_or("");
    wi.pod_uid = jose::string_claim(w, "pod_uid").value_or("");
    claims.workload = std::move(wi);
  }
  if (now >= claims.expires_at) return absl::UnauthenticatedError("access token has expired");
  return claims;
}

}  // namespace wims::cloud
