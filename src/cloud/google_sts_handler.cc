#include "cloud/google_sts_handler.h"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/params_encoded_view.hpp>
#include <boost/url/parse_query.hpp>
#include <optional>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/json_members.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "iam/principal.h"
#include "jose/jwt.h"

namespace wims::cloud {
namespace {

namespace bhttp = boost::beast::http;

constexpr char kRoute[] = "google.sts.token";
constexpr char kIdentityNamespacePrefix[] = "identitynamespace:";
constexpr char kProviderPrefix[] = "//iam.googleapis.com/";
constexpr char kServiceAccountSubjectPrefix[] = "system:serviceaccount:";
constexpr char kKubernetesClaims[] = "kubernetes.io";
constexpr char kJsonContentType[] = "application/json; charset=utf-8";

// The STS error vocabulary, carried in absl::Status codes so that one function (sts_error) maps
// them to the wire:
//   InvalidArgument    400 invalid_request
//   Unauthenticated    400 invalid_grant
//   PermissionDenied   400 unauthorized_client
//   ResourceExhausted  429 (google.rpc shape, see below)
absl::Status invalid_request(std::string_view message) {
  return absl::InvalidArgumentError(to_absl(message));
}
absl::Status invalid_grant(std::string_view message) {
  return absl::UnauthenticatedError(to_absl(message));
}

http::Response token_endpoint_json(bhttp::status status, const boost::json::value& body) {
  http::Response response =
      http::make_response(status, kJsonContentType, boost::json::serialize(body));
  // RFC 6749 section 5.1: token responses must not be cached.
  response.set(bhttp::field::cache_control, "no-store");
  response.set(bhttp::field::pragma, "no-cache");
  return response;
}

http::Response sts_error(const absl::Status& status) {
  std::string description(status.message());
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return token_endpoint_json(bhttp::status::bad_request, {{"error", "invalid_request"},
                                                              {"error_description", description}});
    case absl::StatusCode::kUnauthenticated:
      return token_endpoint_json(bhttp::status::bad_request,
                                 {{"error", "invalid_grant"}, {"error_description", description}});
    case absl::StatusCode::kPermissionDenied:
      return token_endpoint_json(bhttp::status::bad_request, {{"error", "unauthorized_client"},
                                                              {"error_description", description}});
    case absl::StatusCode::kResourceExhausted:
      // Only the message of the real 429 is observed (google-github-actions/auth#427); its JSON
      // body is not. Quota errors of Google front ends are google.rpc.Status JSON, so that is the
      // shape used here; clients (google-auth) only look at the status code and print the body.
      return token_endpoint_json(
          bhttp::status::too_many_requests,
          {{"error", {{"code", 429}, {"message", description}, {"status", "RESOURCE_EXHAUSTED"}}}});
    case absl::StatusCode::kNotFound:
      return token_endpoint_json(
          bhttp::status::not_found,
          {{"error", {{"code", 404}, {"message", description}, {"status", "NOT_FOUND"}}}});
    default:
      return token_endpoint_json(bhttp::status::internal_server_error,
                                 {{"error", "server_error"}, {"error_description", description}});
  }
}

// The request parameters, by their form (snake_case) names.
using Params = std::map<std::string, std::string>;

absl::StatusOr<Params> parse_form(const std::string& body) {
  Params params;
  auto query = boost::urls::parse_query(boost::urls::string_view(body.data(), body.size()));
  if (!query)
    return invalid_request("The request body is not valid application/x-www-form-urlencoded.");
  boost::urls::encoding_opts opts;
  opts.space_as_plus = true;
  for (const boost::urls::param_pct_view& p : *query) {
    if (p.key.empty() && !p.has_value) continue;  // "a=1&&b=2"
    std::string key = p.key.decode(opts);
    std::string value = p.has_value ? p.value.decode(opts) : std::string();
    if (!params.emplace(key, std::move(value)).second) {
      return invalid_request(absl::StrCat("Duplicate parameter \"", key, "\"."));
    }
  }
  return params;
}

// The REST API also takes a JSON body (proto3 JSON: camelCase names, the original snake_case
// accepted).
absl::StatusOr<Params> parse_json(const std::string& body) {
  boost::system::error_code ec;
  boost::json::value doc =
      boost::json::parse(boost::json::string_view(body.data(), body.size()), ec);
  if (ec || !doc.is_object()) return invalid_request("The request body is not a JSON object.");
  static const std::pair<const char*, const char*> kNames[] = {
      {"grantType", "grant_type"},
      {"requestedTokenType", "requested_token_type"},
      {"subjectTokenType", "subject_token_type"},
      {"subjectToken", "subject_token"},
      {"audience", "audience"},
      {"scope", "scope"},
      {"options", "options"},
  };
  Params params;
  for (const auto& [member, value] : doc.get_object()) {
    std::string key(member.data(), member.size());
    for (const auto& [camel, snake] : kNames) {
      if (key == camel) key = snake;
    }
    if (!value.is_string()) {
      return invalid_request(
          absl::StrCat("Invalid JSON payload: \"", std::string(member), "\" must be a string."));
    }
    if (!params.emplace(key, std::string(value.get_string())).second) {
      return invalid_request(absl::StrCat("Duplicate parameter \"", key, "\"."));
    }
  }
  return params;
}

std::string param(const Params& params, const std::string& name) {
  auto it = params.find(name);
  return it == params.end() ? std::string() : it->second;
}

// What an accepted audience means.
struct Audience {
  // The values of which the subject token's aud must contain one.
  std::vector<std::string> token_audiences;
};

absl::StatusOr<Audience> parse_audience(std::string_view audience, const config::World& world,
                                        const std::string& provider_id) {
  std::string pool = world.workload_identity_pool();
  if (audience.empty()) return invalid_request("Missing required parameter \"audience\".");
  if (absl::StartsWith(to_absl(audience), kIdentityNamespacePrefix)) {
    // identitynamespace:POOL:CLUSTER_URL; the URL itself contains ':'.
    std::string_view rest = audience.substr(sizeof(kIdentityNamespacePrefix) - 1);
    size_t colon = rest.find(':');
    if (colon == std::string_view::npos || rest.substr(0, colon) != pool ||
        rest.substr(colon + 1) != world.cluster_resource_url()) {
      return invalid_request(GoogleStsHandler::kInvalidAudienceMessage);
    }
    return Audience{{pool}};
  }
  std::string provider =
      absl::StrCat(kProviderPrefix, "projects/", world.project.number,
                   "/locations/global/workloadIdentityPools/", pool, "/providers/", provider_id);
  if (audience != provider) return invalid_request(GoogleStsHandler::kInvalidAudienceMessage);
  return Audience{{provider, absl::StrCat("https:", provider)}};
}

std::string quoted(const std::vector<std::string>& values) {
  return absl::StrCat("[", absl::StrJoin(values, ", "), "]");
}

// Time rules of the subject token at `now`.
absl::Status check_times(const boost::json::object& claims, absl::Time now) {
  absl::StatusOr<int64_t> iat = jose::int64_claim(claims, "iat");
  if (!iat.ok()) return invalid_grant("The subject token must contain an integer \"iat\" claim.");
  absl::StatusOr<int64_t> exp = jose::int64_claim(claims, "exp");
  if (!exp.ok()) return invalid_grant("The subject token must contain an integer \"exp\" claim.");
  int64_t now_s = absl::ToUnixSeconds(now);
  if (absl::FromUnixSeconds(*exp) <= now) {
    return invalid_grant(absl::StrCat("The subject token has expired: exp ", *exp,
                                      " is not after the current time ", now_s, "."));
  }
  if (absl::FromUnixSeconds(*iat) > now + GoogleStsHandler::kClockSkew) {
    return invalid_grant(absl::StrCat("The subject token was issued in the future: iat ", *iat,
                                      " is after the current time ", now_s, "."));
  }
  if (absl::StatusOr<int64_t> nbf = jose::int64_claim(claims, "nbf");
      nbf.ok() && absl::FromUnixSeconds(*nbf) > now + GoogleStsHandler::kClockSkew) {
    return invalid_grant(absl::StrCat("The subject token is not valid yet: nbf ", *nbf,
                                      " is after the current time ", now_s, "."));
  }
  // Google's rule is "under 48 hours", so a token of exactly 48 h is rejected as well.
  int64_t max_lifetime = absl::ToInt64Seconds(GoogleStsHandler::kMaxSubjectLifetime);
  if (*exp - *iat >= max_lifetime) {
    return invalid_grant(absl::StrCat("The subject token's lifetime is too long: exp - iat is ",
                                      *exp - *iat, " seconds; it must be less than ", max_lifetime,
                                      " seconds (48 hours)."));
  }
  return absl::OkStatus();
}

}  // namespace

GoogleStsHandler::GoogleStsHandler(GoogleStsHandlerOptions options, WorldProvider world,
                                   const IssuerKeySource& keys, const AccessTokenCodec& codec,
                                   const Clock& clock)
    : options_(std::move(options)),
      world_(std::move(world)),
      keys_(keys),
      codec_(codec),
      clock_(clock) {}

bool GoogleStsHandler::acquire_quota(int64_t project_number, int limit, absl::Time now) {
  std::lock_guard<std::mutex> lock(quota_mu_);
  QuotaWindow& window = quota_[project_number];
  // A fixed window that opens with the first exchange after the previous one closed. A clock that
  // went backwards also opens a new window.
  if (now >= window.start + absl::Minutes(1) || now < window.start) {
    window.start = now;
    window.count = 0;
  }
  if (window.count >= limit) return false;
  ++window.count;
  return true;
}

boost::asio::awaitable<http::Response> GoogleStsHandler::handle(http::Request& request) {
  request.route = kRoute;
  if (request.path != kPath) {
    co_return sts_error(
        absl::NotFoundError(absl::StrCat("The requested URL ", request.path, " was not found.")));
  }
  if (request.method() != bhttp::verb::post) {
    http::Response response = token_endpoint_json(
        bhttp::status::method_not_allowed,
        {{"error",
          {{"code", 405},
           {"message", absl::StrCat("Method ", std::string(request.message.method_string()),
                                    " is not allowed on ", kPath, "; use POST.")},
           {"status", "INVALID_ARGUMENT"}}}});
    response.set(bhttp::field::allow, "POST");
    co_return response;
  }

  // Everything up to the key fetch is synchronous; the quota lock is taken and released in there.
  std::shared_ptr<const config::World> world = world_();
  absl::Time now = clock_.now();

  struct Validated {
    jose::DecodedJwt jwt;
    Audience audience;
    std::vector<std::string> scopes;
    std::string issuer;
    std::string kid;
  };
  auto validate = [&]() -> absl::StatusOr<Validated> {
    std::string_view content_type;
    if (auto ct = request.header("Content-Type")) content_type = *ct;
    absl::StatusOr<Params> parsed;
    if (absl::StartsWithIgnoreCase(to_absl(content_type), "application/json")) {
      parsed = parse_json(request.message.body());
    } else if (content_type.empty() ||
               absl::StartsWithIgnoreCase(to_absl(content_type),
                                          "application/x-www-form-urlencoded")) {
      parsed = parse_form(request.message.body());
    } else {
      return invalid_request(
          absl::StrCat("Unsupported Content-Type \"", std::string(content_type),
                       "\": use application/x-www-form-urlencoded or application/json."));
    }
    WIMS_RETURN_IF_ERROR(parsed.status());
    const Params& params = *parsed;

    std::string grant_type = param(params, "grant_type");
    if (grant_type.empty()) return invalid_request("Missing required parameter \"grant_type\".");
    if (grant_type != kTokenExchangeGrant) {
      return invalid_request(absl::StrCat("Invalid value for \"grant_type\": \"", grant_type,
                                          "\". The only supported value is ", kTokenExchangeGrant,
                                          "."));
    }
    std::string requested = param(params, "requested_token_type");
    if (requested.empty())
      return invalid_request("Missing required parameter \"requested_token_type\".");
    if (requested != kAccessTokenType) {
      return invalid_request(absl::StrCat("Invalid value for \"requested_token_type\": \"",
                                          requested, "\". The only supported value is ",
                                          kAccessTokenType, "."));
    }
    std::string subject_type = param(params, "subject_token_type");
    if (subject_type.empty())
      return invalid_request("Missing required parameter \"subject_token_type\".");
    if (subject_type != kJwtTokenType && subject_type != kIdTokenType) {
      return invalid_request(absl::StrCat(
          "Invalid value for \"subject_token_type\": \"", subject_type,
          "\". An OIDC identity provider accepts only ", kJwtTokenType, " or ", kIdTokenType, "."));
    }
    std::string subject_token = param(params, "subject_token");
    if (subject_token.empty())
      return invalid_request("Missing required parameter \"subject_token\".");

    WIMS_ASSIGN_OR_RETURN(
        Audience audience,
        parse_audience(param(params, "audience"), *world,
                       options_.provider_id.empty() ? world->cluster.name : options_.provider_id));

    std::vector<std::string> scopes =
        absl::StrSplit(param(params, "scope"), absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (scopes.empty()) scopes.push_back(kCloudPlatformScope);

    if (std::string options = param(params, "options"); !options.empty()) {
      // google-auth percent-encodes the JSON and then form-encodes the whole body, so after form
      // decoding the value may still be percent-encoded: accept both.
      boost::system::error_code ec;
      boost::json::value doc = boost::json::parse(options, ec);
      if (ec) {
        auto pct = boost::urls::make_pct_string_view(options);
        if (pct) doc = boost::json::parse(pct->decode(), ec);
      }
      if (ec || !doc.is_object()) {
        return invalid_request(
            "Invalid value for \"options\": it must be a URL-encoded JSON object.");
      }
    }

    // Request-level checks passed: the project is known, and every exchange from here on counts.
    if (!acquire_quota(world->project.number, world->google.sts_exchanges_per_minute, now)) {
      return absl::ResourceExhaustedError(kThrottledMessage);
    }

    absl::StatusOr<jose::DecodedJwt> jwt = jose::decode_jwt(subject_token);
    if (!jwt.ok()) {
      return invalid_grant(
          absl::StrCat("The subject token is not a valid JWT: ", jwt.status().message()));
    }
    std::string alg = string_member(jwt->header, "alg");
    if (alg != "RS256" && alg != "ES256") {
      return invalid_grant(absl::StrCat("The subject token is signed with unsupported algorithm \"",
                                        alg, "\"; use RS256 or ES256."));
    }
    std::string kid = string_member(jwt->header, "kid");
    if (kid.empty()) return invalid_grant("The subject token header must contain a \"kid\".");
    std::string expected_issuer =
        world->cluster.issuer_url.empty() ? options_.issuer_url : world->cluster.issuer_url;
    // With an external cluster issuer, the embedded issuer (options_.issuer_url) is trusted too:
    // its tokens are the ones `wims up`'s own metadata server exchanges.
    const bool external = world->cluster.has_external_issuer() && !options_.issuer_url.empty() &&
                          options_.issuer_url != expected_issuer;
    std::string issuer = string_member(jwt->claims, "iss");
    if (issuer != expected_issuer && !(external && issuer == options_.issuer_url)) {
      return invalid_grant(
          absl::StrCat("The issuer in the subject token \"", issuer,
                       "\" does not match the expected issuer \"", expected_issuer, "\"",
                       external ? absl::StrCat(" or \"", options_.issuer_url, "\"") : "", "."));
    }
    return Validated{*std::move(jwt), std::move(audience), std::move(scopes), std::move(issuer),
                     std::move(kid)};
  };
  absl::StatusOr<Validated> v = validate();
  if (!v.ok()) co_return sts_error(v.status());

  absl::StatusOr<jose::JwkSet> jwks = co_await keys_.keys(v->issuer, v->kid, now);

  auto exchange = [&]() -> absl::StatusOr<http::Response> {
    if (!jwks.ok()) {
      return invalid_grant(absl::StrCat("Unable to get the keys of issuer \"", v->issuer,
                                        "\": ", jwks.status().message()));
    }
    if (jwks->find(v->kid) == nullptr) {
      return invalid_grant(absl::StrCat("The subject token is signed by an unknown key: kid \"",
                                        v->kid, "\" is not among the keys published by ", v->issuer,
                                        "."));
    }
    if (absl::Status status = jose::verify_jwt(v->jwt, *jwks); !status.ok()) {
      return invalid_grant("The subject token signature is invalid.");
    }
    const boost::json::object& claims = v->jwt.claims;
    WIMS_RETURN_IF_ERROR(check_times(claims, now));

    absl::StatusOr<std::vector<std::string>> aud = jose::audience_claim(claims);
    if (!aud.ok()) return invalid_grant("The subject token must contain an \"aud\" claim.");
    bool audience_ok = std::any_of(aud->begin(), aud->end(), [&](const std::string& a) {
      return std::find(v->audience.token_audiences.begin(), v->audience.token_audiences.end(), a) !=
             v->audience.token_audiences.end();
    });
    if (!audience_ok) {
      return invalid_grant(absl::StrCat("The audience in the subject token ", quoted(*aud),
                                        " does not match the expected audience ",
                                        v->audience.token_audiences.front(), "."));
    }

    std::string sub = string_member(claims, "sub");
    if (sub.size() > kMaxSubjectLength) {
      return invalid_grant(absl::StrCat("The mapped google.subject is ", sub.size(),
                                        " characters long; it must be at most ", kMaxSubjectLength,
                                        "."));
    }
    std::vector<std::string> parts;
    if (absl::StartsWith(sub, kServiceAccountSubjectPrefix)) {
      parts = absl::StrSplit(sub.substr(sizeof(kServiceAccountSubjectPrefix) - 1), ':');
    }
    if (parts.size() != 2 || parts[0].empty() || parts[1].empty()) {
      return invalid_grant(absl::StrCat("The subject token's \"sub\" \"", sub,
                                        "\" is not a Kubernetes service account "
                                        "(system:serviceaccount:NAMESPACE:NAME)."));
    }
    const std::string& ns = parts[0];
    const std::string& ksa = parts[1];
    iam::WorkloadIdentity identity;
    identity.project_number = world->project.number;
    identity.pool = world->workload_identity_pool();
    identity.namespace_name = ns;
    identity.service_account = ksa;
    identity.cluster_url = world->cluster_resource_url();
    if (const boost::json::object* kube = object_member(claims, kKubernetesClaims);
        kube != nullptr) {
      if (std::string claimed_ns = string_member(*kube, "namespace");
          !claimed_ns.empty() && claimed_ns != ns) {
        return invalid_grant(
            "The subject token's kubernetes.io namespace does not match its \"sub\".");
      }
      if (const boost::json::object* sa_ref = object_member(*kube, "serviceaccount");
          sa_ref != nullptr) {
        identity.service_account_uid = string_member(*sa_ref, "uid");
      }
      if (const boost::json::object* pod_ref = object_member(*kube, "pod"); pod_ref != nullptr) {
        identity.pod_name = string_member(*pod_ref, "name");
        identity.pod_uid = string_member(*pod_ref, "uid");
      }
    }
    // The KSA must still exist (with the same uid when the token names one). The real STS knows
    // nothing of the cluster; this is where a provider's attribute condition would reject the
    // credential.
    // A token of an external cluster issuer is mapped as sts.googleapis.com maps it: the World
    // does not hold that cluster's service accounts, so the token's own claims are the truth.
    const bool from_external_issuer =
        world->cluster.has_external_issuer() && v->issuer == world->cluster.issuer_url;
    if (!from_external_issuer) {
      const config::ServiceAccount* account = world->find_service_account(ns, ksa);
      if (account == nullptr ||
          (!identity.service_account_uid.empty() && identity.service_account_uid != account->uid)) {
        return absl::PermissionDeniedError(kAttributeConditionMessage);
      }
      identity.service_account_uid = account->uid;
    }

    AccessTokenClaims token;
    token.kind = AccessTokenKind::kFederated;
    token.subject = iam::principal_id(identity);
    token.workload = std::move(identity);
    token.scopes = v->scopes;
    token.issued_at = absl::FromUnixSeconds(absl::ToUnixSeconds(now));
    token.expires_at = token.issued_at + options_.token_lifetime;
    // As sts.googleapis.com, which answers 3599 for a one-hour token.
    int64_t expires_in = std::max<int64_t>(absl::ToInt64Seconds(options_.token_lifetime) - 1, 1);
    return token_endpoint_json(bhttp::status::ok, {{"access_token", codec_.mint(token)},
                                                   {"issued_token_type", kAccessTokenType},
                                                   {"token_type", "Bearer"},
                                                   {"expires_in", expires_in}});
  };
  absl::StatusOr<http::Response> response = exchange();
  if (!response.ok()) co_return sts_error(response.status());
  co_return *std::move(response);
}

}  // namespace wims::cloud
