#include "cloud/token_info_handler.h"

#include <boost/json/serialize.hpp>

#include "absl/strings/str_join.h"
#include "cloud/google_json.h"
#include "cloud/iam_credentials_handler.h"
#include "common/strings.h"
#include "iam/principal.h"
#include "jose/jwt.h"

namespace wims::cloud {
namespace {

namespace bhttp = boost::beast::http;

constexpr std::string_view kTokenInfoPath = "/oauth2/v3/tokeninfo";
constexpr std::string_view kCertsPath = "/oauth2/v3/certs";

http::Response oauth_error(std::string_view error, std::string_view description) {
  return json_response(boost::json::object{{"error", error}, {"error_description", description}},
                       400);
}

http::Response invalid_token() { return oauth_error("invalid_token", "Invalid Value"); }

// tokeninfo renders every scalar claim as a string ("exp":"1700003600", "email_verified":"true").
boost::json::value stringified(const boost::json::value& v) {
  if (v.is_string() || v.is_array() || v.is_object()) return v;
  if (v.is_bool()) return v.get_bool() ? "true" : "false";
  return boost::json::value(boost::json::serialize(v));
}

}  // namespace

TokenInfoHandler::TokenInfoHandler(const AccessTokenCodec& codec, const SigningKeyRing& ring,
                                   const Clock& clock)
    : codec_(codec), ring_(ring), clock_(clock) {}

boost::asio::awaitable<http::Response> TokenInfoHandler::handle(http::Request& request) {
  bool get = request.method() == bhttp::verb::get || request.method() == bhttp::verb::head;
  bool post = request.method() == bhttp::verb::post;
  if (request.path == kCertsPath) {
    request.route = "oauth2.certs";
    if (!get) {
      http::Response r = oauth_error("invalid_request", "Method not allowed; use GET.");
      r.result(bhttp::status::method_not_allowed);
      r.set(bhttp::field::allow, "GET, HEAD");
      co_return r;
    }
    http::Response response = http::make_response(
        bhttp::status::ok, "application/json; charset=UTF-8", ring_.jwks_json(clock_.now()));
    // Google's certs endpoint is cacheable; keys rotate with the ring's overlap window.
    response.set(bhttp::field::cache_control, "public, max-age=300");
    co_return response;
  }
  if (request.path != kTokenInfoPath) {
    request.route = "oauth2.not_found";
    http::Response r = oauth_error("invalid_request", "Not Found");
    r.result(bhttp::status::not_found);
    co_return r;
  }
  request.route = "oauth2.tokeninfo";
  if (!get && !post) {
    http::Response r = oauth_error("invalid_request", "Method not allowed; use GET or POST.");
    r.result(bhttp::status::method_not_allowed);
    r.set(bhttp::field::allow, "GET, HEAD, POST");
    co_return r;
  }
  std::vector<std::string> access = query_values(request.query, "access_token");
  std::vector<std::string> id = query_values(request.query, "id_token");
  if (post) {
    for (std::string& v : query_values(request.message.body(), "access_token")) access.push_back(v);
    for (std::string& v : query_values(request.message.body(), "id_token")) id.push_back(v);
  }
  if (access.size() + id.size() > 1) {
    co_return oauth_error("invalid_request", "Exactly one of access_token and id_token is allowed");
  }
  if (!access.empty()) co_return access_token_info(access.front());
  if (!id.empty()) co_return id_token_info(id.front());
  co_return oauth_error("invalid_request",
                        "Either access_token, id_token, or token_handle required");
}

http::Response TokenInfoHandler::access_token_info(std::string_view token) const {
  absl::Time now = clock_.now();
  absl::StatusOr<AccessTokenClaims> claims = codec_.verify(token, now);
  if (!claims.ok()) return invalid_token();
  boost::json::object out;
  std::string subject;
  if (claims->kind == AccessTokenKind::kServiceAccount) {
    subject = service_account_unique_id(claims->subject);
  } else {
    subject = claims->workload ? iam::principal_id(*claims->workload) : claims->subject;
  }
  out["azp"] = subject;
  out["aud"] = subject;
  out["sub"] = subject;
  out["scope"] = absl::StrJoin(claims->scopes, " ");
  out["exp"] = std::to_string(absl::ToUnixSeconds(claims->expires_at));
  out["expires_in"] =
      std::to_string(std::max<int64_t>(0, absl::ToInt64Seconds(claims->expires_at - now)));
  if (claims->kind == AccessTokenKind::kServiceAccount) {
    out["email"] = claims->subject;
    out["email_verified"] = "true";
  }
  out["access_type"] = "online";
  return json_response(out);
}

http::Response TokenInfoHandler::id_token_info(std::string_view token) const {
  absl::Time now = clock_.now();
  absl::StatusOr<jose::DecodedJwt> jwt = jose::decode_jwt(token);
  if (!jwt.ok() || !jose::verify_jwt(*jwt, ring_.verification_keys(now)).ok()) {
    return invalid_token();
  }
  absl::StatusOr<std::string> iss = jose::string_claim(jwt->claims, "iss");
  absl::StatusOr<int64_t> exp = jose::int64_claim(jwt->claims, "exp");
  if (!iss.ok() || *iss != kGoogleIdTokenIssuer || !exp.ok() || *exp <= absl::ToUnixSeconds(now)) {
    return invalid_token();
  }
  boost::json::object out;
  for (const auto& member : jwt->claims) out[member.key()] = stringified(member.value());
  for (const char* name : {"alg", "kid", "typ"}) {
    if (auto it = jwt->header.find(name); it != jwt->header.end()) out[name] = it->value();
  }
  return json_response(out);
}

}  // namespace wims::cloud
