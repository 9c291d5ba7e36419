#include "cloud/iam_credentials_handler.h"

#include <openssl/sha.h>

#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "cloud/google_error.h"
#include "cloud/google_json.h"
#include "common/encoding.h"
#include "common/strings.h"
#include "fmt/format.h"
#include "jose/jwt.h"

namespace wims::cloud {
namespace {

namespace bhttp = boost::beast::http;

constexpr std::string_view kServiceAccountsPrefix = "/v1/projects/";
constexpr std::string_view kDelegatePrefix = "projects/-/serviceAccounts/";
constexpr char kGetAccessToken[] = "iam.serviceAccounts.getAccessToken";
constexpr char kGetOpenIdToken[] = "iam.serviceAccounts.getOpenIdToken";

// The real API's answer for an email it does not know.
http::Response unknown_service_account(std::string_view email) {
  return google_error(
      absl::NotFoundError(fmt::format("Not found; Gaia id not found for email {}", email)));
}

struct ParsedPath {
  std::string project;
  std::string email;
  std::string method;
};

std::optional<ParsedPath> parse_path(std::string_view path) {
  if (!path.starts_with(kServiceAccountsPrefix)) return std::nullopt;
  std::string_view rest = path.substr(kServiceAccountsPrefix.size());
  size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::vector<absl::string_view> parts = absl::StrSplit(to_absl(rest.substr(0, colon)), '/');
  if (parts.size() != 3 || parts[0].empty() || parts[1] != "serviceAccounts" || parts[2].empty()) {
    return std::nullopt;
  }
  return ParsedPath{std::string(parts[0]), std::string(parts[2]),
                    std::string(rest.substr(colon + 1))};
}

// The GCE claims of the wims extension, checked against the World.
absl::StatusOr<boost::json::object> compute_engine_claims(const boost::json::object& requested,
                                                          bool licenses,
                                                          const config::World& world) {
  boost::json::object out;
  for (const auto& member : requested) {
    std::string_view key(member.key().data(), member.key().size());
    const boost::json::value& v = member.value();
    auto invalid = [&](std::string_view why) {
      return absl::InvalidArgumentError(
          fmt::format("Invalid value at 'wimsComputeEngine.{}': {}", key, why));
    };
    auto want_string = [&](std::string_view expected) -> absl::Status {
      if (!v.is_string()) return invalid("must be a string");
      if (!expected.empty() && v.get_string() != expected) {
        return invalid(fmt::format("must be \"{}\"", expected));
      }
      return absl::OkStatus();
    };
    absl::Status status;
    if (key == "project_id") {
      status = want_string(world.project.id);
    } else if (key == "zone") {
      status = want_string(world.node.zone);
    } else if (key == "instance_name") {
      status = want_string(world.node.name);
    } else if (key == "instance_id") {
      status = want_string(std::to_string(world.node.id));
    } else if (key == "project_number") {
      if (!v.is_int64() || v.get_int64() != world.project.number) {
        status = invalid(fmt::format("must be the integer {}", world.project.number));
      }
    } else if (key == "instance_creation_timestamp") {
      if (!v.is_int64() && !v.is_uint64()) status = invalid("must be an integer");
    } else if (key == "license_id") {
      bool ok = v.is_array();
      if (ok) {
        for (const boost::json::value& id : v.get_array()) ok = ok && id.is_string();
      }
      if (!ok) return invalid("must be an array of strings");
      if (!licenses) continue;
    } else {
      status = absl::InvalidArgumentError(fmt::format(
          "Invalid JSON payload received. Unknown name \"{}\" at 'wimsComputeEngine': Cannot find "
          "field.",
          key));
    }
    if (!status.ok()) return status;
    out[key] = v;
  }
  if (licenses && !out.contains("license_id")) out["license_id"] = boost::json::array();
  return out;
}

}  // namespace

std::string service_account_unique_id(std::string_view email) {
  std::string input = "wims/gsa/" + absl::AsciiStrToLower(to_absl(email));
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  uint64_t high = 0;
  uint64_t low = 0;
  std::memcpy(&high, digest, sizeof(high));
  std::memcpy(&low, digest + sizeof(high), sizeof(low));
  // Google's unique ids are 21 digits starting with 1: "1" + 19 digits + 1 digit.
  return fmt::format("1{:019}{}", high % 10000000000000000000ULL, low % 10);
}

IamCredentialsHandler::IamCredentialsHandler(const GooglePolicyStore& policies,
                                             const CallerAuth& auth, const SigningKeyRing& ring,
                                             const Clock& clock)
    : policies_(policies), auth_(auth), ring_(ring), clock_(clock), authorizer_(clock) {}

bool IamCredentialsHandler::is_credentials_path(std::string_view path) {
  std::optional<ParsedPath> parsed = parse_path(path);
  return parsed &&
         (parsed->method == "generateAccessToken" || parsed->method == "generateIdToken" ||
          parsed->method == "signBlob" || parsed->method == "signJwt");
}

boost::asio::awaitable<http::Response> IamCredentialsHandler::handle(http::Request& request) {
  std::optional<ParsedPath> path = parse_path(request.path);
  bool access = path && path->method == "generateAccessToken";
  bool id = path && path->method == "generateIdToken";
  if (!access && !id) {
    request.route = "iamcredentials.not_found";
    if (path && (path->method == "signBlob" || path->method == "signJwt")) {
      co_return google_error(absl::UnimplementedError(
          fmt::format("Method {} is not implemented by the wims local cloud.", path->method)));
    }
    co_return google_error(absl::NotFoundError("Method not found."));
  }
  request.route = access ? "iamcredentials.generateAccessToken" : "iamcredentials.generateIdToken";
  if (request.method() != bhttp::verb::post) {
    http::Response response =
        google_error(absl::InvalidArgumentError("HTTP method not allowed here; use POST."));
    response.result(bhttp::status::method_not_allowed);
    response.set(bhttp::field::allow, "POST");
    co_return response;
  }
  absl::StatusOr<iam::Caller> caller = auth_.authenticate(request);
  if (!caller.ok()) co_return unauthenticated_error();
  if (path->project != "-") {
    co_return google_error(absl::InvalidArgumentError(
        fmt::format("The project in the resource name must be the wildcard \"-\", got \"{}\": "
                    "projects/-/serviceAccounts/{}",
                    path->project, path->email)));
  }
  const config::GoogleServiceAccount* gsa = policies_.find_service_account(path->email);
  if (gsa == nullptr) co_return unknown_service_account(path->email);
  co_return access ? generate_access_token(request, *caller, *gsa)
                   : generate_id_token(request, *caller, *gsa);
}

std::optional<http::Response> IamCredentialsHandler::authorize(
    const iam::Caller& caller, const std::vector<std::string>& delegates,
    const config::GoogleServiceAccount& gsa, std::string_view permission) const {
  // caller -> delegates[0] -> ... -> delegates[n-1] -> gsa: each link needs the permission on the
  // next account.
  iam::Caller principal = caller;
  std::vector<const config::GoogleServiceAccount*> chain;
  for (const std::string& delegate : delegates) {
    if (!delegate.starts_with(kDelegatePrefix)) {
      return google_error(absl::InvalidArgumentError(fmt::format(
          "Invalid delegate \"{}\": expected projects/-/serviceAccounts/EMAIL", delegate)));
    }
    std::string email = delegate.substr(kDelegatePrefix.size());
    const config::GoogleServiceAccount* d = policies_.find_service_account(email);
    if (d == nullptr) return unknown_service_account(email);
    chain.push_back(d);
  }
  chain.push_back(&gsa);
  absl::Time now = clock_.now();
  for (const config::GoogleServiceAccount* next : chain) {
    std::optional<iam::ResourceRef> ref = policies_.service_account_ref(next->email);
    if (!ref || !authorizer_.check_at(principal, permission, *ref, now).allowed) {
      return iam_permission_denied(permission);
    }
    principal = iam::Caller::service_account(next->email);
  }
  return std::nullopt;
}

http::Response IamCredentialsHandler::generate_access_token(
    const http::Request& request, const iam::Caller& caller,
    const config::GoogleServiceAccount& gsa) const {
  absl::StatusOr<boost::json::object> body = parse_json_body(request);
  if (!body.ok()) return google_error(body.status());
  if (absl::Status s = check_known_fields(*body, {"delegates", "scope", "lifetime"}); !s.ok()) {
    return google_error(s);
  }
  absl::StatusOr<std::vector<std::string>> delegates = string_list_field(*body, "delegates");
  if (!delegates.ok()) return google_error(delegates.status());
  absl::StatusOr<std::vector<std::string>> scopes = string_list_field(*body, "scope");
  if (!scopes.ok()) return google_error(scopes.status());
  absl::StatusOr<std::optional<std::string>> lifetime_text =
      optional_string_field(*body, "lifetime");
  if (!lifetime_text.ok()) return google_error(lifetime_text.status());
  if (scopes->empty()) return google_error(absl::InvalidArgumentError("Scope required."));
  absl::Duration lifetime = kDefaultLifetime;
  if (*lifetime_text) {
    absl::StatusOr<absl::Duration> parsed = parse_proto_duration(**lifetime_text);
    if (!parsed.ok()) return google_error(parsed.status());
    lifetime = *parsed;
    if (lifetime <= absl::ZeroDuration()) {
      return google_error(absl::InvalidArgumentError(
          fmt::format("Invalid lifetime \"{}\": the lifetime must be positive.", **lifetime_text)));
    }
    if (lifetime > kMaxLifetime) {
      return google_error(absl::InvalidArgumentError(fmt::format(
          "The lifetime requested ({}) exceeds the maximum allowed lifetime of 3600s; longer "
          "lifetimes need the organization policy "
          "constraints/iam.allowServiceAccountCredentialLifetimeExtension.",
          **lifetime_text)));
    }
  }
  if (std::optional<http::Response> denial = authorize(caller, *delegates, gsa, kGetAccessToken)) {
    return *std::move(denial);
  }
  absl::Time now = clock_.now();
  AccessTokenClaims claims;
  claims.kind = AccessTokenKind::kServiceAccount;
  claims.subject = gsa.email;
  claims.scopes = *scopes;
  claims.issued_at = now;
  claims.expires_at = now + lifetime;
  std::string token = auth_.codec().mint(claims);
  return json_response(boost::json::object{{"accessToken", token},
                                           {"expireTime", format_rfc3339(claims.expires_at)}});
}

http::Response IamCredentialsHandler::generate_id_token(
    const http::Request& request, const iam::Caller& caller,
    const config::GoogleServiceAccount& gsa) const {
  absl::StatusOr<boost::json::object> body = parse_json_body(request);
  if (!body.ok()) return google_error(body.status());
  if (absl::Status s = check_known_fields(
          *body, {"delegates", "audience", "includeEmail", "wimsComputeEngine", "wimsLicenses"});
      !s.ok()) {
    return google_error(s);
  }
  absl::StatusOr<std::vector<std::string>> delegates = string_list_field(*body, "delegates");
  if (!delegates.ok()) return google_error(delegates.status());
  absl::StatusOr<std::optional<std::string>> audience = optional_string_field(*body, "audience");
  if (!audience.ok()) return google_error(audience.status());
  absl::StatusOr<std::optional<bool>> include_email = optional_bool_field(*body, "includeEmail");
  if (!include_email.ok()) return google_error(include_email.status());
  absl::StatusOr<std::optional<bool>> licenses = optional_bool_field(*body, "wimsLicenses");
  if (!licenses.ok()) return google_error(licenses.status());
  if (!*audience || (*audience)->empty()) {
    return google_error(absl::InvalidArgumentError("Audience required."));
  }
  std::optional<boost::json::object> compute_engine;
  if (auto it = body->find("wimsComputeEngine"); it != body->end() && !it->value().is_null()) {
    if (!it->value().is_object()) {
      return google_error(
          absl::InvalidArgumentError("Invalid value at 'wimsComputeEngine': must be an object"));
    }
    absl::StatusOr<boost::json::object> claims = compute_engine_claims(
        it->value().get_object(), licenses->value_or(false), policies_.world());
    if (!claims.ok()) return google_error(claims.status());
    compute_engine = *std::move(claims);
  }
  if (std::optional<http::Response> denial = authorize(caller, *delegates, gsa, kGetOpenIdToken)) {
    return *std::move(denial);
  }
  absl::Time now = clock_.now();
  int64_t iat = absl::ToUnixSeconds(now);
  std::string unique_id = service_account_unique_id(gsa.email);
  boost::json::object claims{{"iss", kGoogleIdTokenIssuer},
                             {"aud", **audience},
                             {"azp", unique_id},
                             {"sub", unique_id},
                             {"iat", iat},
                             {"exp", iat + absl::ToInt64Seconds(kIdTokenLifetime)}};
  if (include_email->value_or(false)) {
    claims["email"] = gsa.email;
    claims["email_verified"] = true;
  }
  if (compute_engine) {
    claims["google"] = boost::json::object{{"compute_engine", std::move(*compute_engine)}};
  }
  return json_response(boost::json::object{{"token", jose::sign_jwt(*ring_.current(), claims)}});
}

}  // namespace wims::cloud
