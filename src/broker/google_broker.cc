#include "broker/google_broker.h"

#include <fmt/format.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "common/encoding.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace wims::broker {
namespace {

constexpr char kSts[] = "sts";
constexpr char kIamCredentials[] = "iamcredentials";

// The service account email goes into a URL path; anything outside this set would change the
// request's meaning (the GKE metadata server enforces a stricter regex on the annotation itself).
bool plausible_email(const std::string& email) {
  if (email.empty() || email.find('@') == std::string::npos) return false;
  for (char c : email) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '@' || c == '.' || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

absl::StatusOr<int64_t> expires_in_seconds(const boost::json::object& object) {
  const auto* value = object.if_contains("expires_in");
  if (value != nullptr) {
    if (value->is_int64()) return value->get_int64();
    if (value->is_uint64()) return static_cast<int64_t>(value->get_uint64());
    if (value->is_double()) return static_cast<int64_t>(value->get_double());
    int64_t seconds = 0;
    // google-auth accepts a string too.
    if (value->is_string() && absl::SimpleAtoi(to_absl(value->get_string()), &seconds))
      return seconds;
  }
  return absl::InternalError("sts: response has no numeric \"expires_in\"");
}

// The `exp` claim of a JWT, read without verifying it: we only decide how long to cache our own
// upstream's answer.
absl::StatusOr<absl::Time> jwt_expiry(std::string_view jwt) {
  size_t first = jwt.find('.');
  size_t second = first == std::string_view::npos ? first : jwt.find('.', first + 1);
  if (second == std::string_view::npos)
    return absl::InternalError("iamcredentials: ID token is not a JWT");
  absl::StatusOr<std::string> payload = base64url_decode(jwt.substr(first + 1, second - first - 1));
  if (!payload.ok())
    return absl::InternalError("iamcredentials: ID token payload is not base64url");
  absl::StatusOr<boost::json::object> claims = parse_json_object(kIamCredentials, *payload);
  if (!claims.ok()) return claims.status();
  const auto* exp = claims->if_contains("exp");
  if (exp != nullptr && exp->is_int64()) return absl::FromUnixSeconds(exp->get_int64());
  if (exp != nullptr && exp->is_uint64())
    return absl::FromUnixSeconds(static_cast<int64_t>(exp->get_uint64()));
  if (exp != nullptr && exp->is_double())
    return absl::FromUnixSeconds(static_cast<int64_t>(exp->get_double()));
  return absl::InternalError("iamcredentials: ID token has no numeric exp");
}

}  // namespace

GoogleBroker::GoogleBroker(GoogleBrokerOptions options, KsaTokenSource& ksa_tokens,
                           HttpTransport& transport, const Clock& clock, UpstreamMetrics metrics,
                           TokenCache::RandomSource random)
    : options_(std::move(options)),
      ksa_tokens_(ksa_tokens),
      transport_(transport),
      clock_(clock),
      metrics_(std::move(metrics)),
      federated_cache_(options_.cache, clock, random),
      access_cache_(options_.cache, clock, random),
      id_cache_(options_.cache, clock, std::move(random)) {}

std::string GoogleBroker::identity_key(const Caller& caller) const {
  const std::string& ksa = caller.service_account.name.empty() ? caller.pod.service_account_name
                                                               : caller.service_account.name;
  return fmt::format("{}\n{}\n{}/{}\n{}", options_.pool, options_.cluster_url,
                     caller.pod.namespace_name, ksa, caller.service_account.uid);
}

GoogleBrokerStats GoogleBroker::stats() const {
  return GoogleBrokerStats{federated_cache_.stats(), access_cache_.stats(), id_cache_.stats()};
}

boost::asio::awaitable<absl::StatusOr<AccessToken>> GoogleBroker::access_token(
    const Caller& caller, std::vector<std::string> scopes) {
  if (scopes.empty()) scopes.push_back(options_.default_scope);
  absl::StatusOr<CachedCredential> credential = absl::UnknownError("unset");
  if (!caller.google_service_account) {
    credential = co_await federated_token(caller, std::move(scopes));
  } else {
    std::string email = *caller.google_service_account;
    if (!plausible_email(email)) {
      co_return absl::FailedPreconditionError(fmt::format(
          "invalid Google service account \"{}\" in iam.gke.io/gcp-service-account", email));
    }
    std::string key = token_cache_key("gsa\n" + identity_key(caller) + "\n" + email, scopes);
    // Named, not a temporary inside the co_await expression: GCC 12 destroys such temporaries
    // twice.
    TokenCache::Fetcher fetch = [this, caller, email, scopes] {
      return generate_access_token(caller, email, scopes);
    };
    credential = co_await access_cache_.get(std::move(key), std::move(fetch));
  }
  if (!credential.ok()) co_return credential.status();
  co_return AccessToken{std::move(credential->value), credential->expiry};
}

boost::asio::awaitable<absl::StatusOr<std::string>> GoogleBroker::id_token(const Caller& caller,
                                                                           IdTokenOptions options) {
  if (!caller.google_service_account) {
    co_return absl::NotFoundError(
        fmt::format("Kubernetes service account {}/{} is not annotated with "
                    "iam.gke.io/gcp-service-account; ID tokens need "
                    "a Google service account",
                    caller.pod.namespace_name, caller.service_account.name));
  }
  if (options.audience.empty()) co_return absl::InvalidArgumentError("audience is required");
  std::string email = *caller.google_service_account;
  if (!plausible_email(email)) {
    co_return absl::FailedPreconditionError(fmt::format(
        "invalid Google service account \"{}\" in iam.gke.io/gcp-service-account", email));
  }
  // The audience is last, so a caller-chosen audience cannot make two different keys equal.
  std::string key = fmt::format("id\n{}\n{}\n{}\n{}\n{}", identity_key(caller), email,
                                options.full_format ? "full" : "standard",
                                options.include_licenses ? "lic" : "", options.audience);
  TokenCache::Fetcher fetch = [this, caller, email, options] {
    return generate_id_token(caller, email, options);
  };
  std::string cache_key = token_cache_key(key, {});
  absl::StatusOr<CachedCredential> credential =
      co_await id_cache_.get(std::move(cache_key), std::move(fetch));
  if (!credential.ok()) co_return credential.status();
  co_return std::move(credential->value);
}

boost::asio::awaitable<absl::StatusOr<CachedCredential>> GoogleBroker::federated_token(
    Caller caller, std::vector<std::string> scopes) {
  std::string key = token_cache_key("federated\n" + identity_key(caller), scopes);
  TokenCache::Fetcher fetch = [this, caller, scopes] { return exchange(caller, scopes); };
  co_return co_await federated_cache_.get(std::move(key), std::move(fetch));
}

boost::asio::awaitable<absl::StatusOr<CachedCredential>> GoogleBroker::exchange(
    Caller caller, std::vector<std::string> scopes) {
  const bool provider = !options_.workload_identity_provider.empty();
  std::string token_audience =
      provider ? "https://iam.googleapis.com/" + options_.workload_identity_provider
               : options_.pool;
  std::string sts_audience =
      provider ? "//iam.googleapis.com/" + options_.workload_identity_provider
               : fmt::format("identitynamespace:{}:{}", options_.pool, options_.cluster_url);
  WIMS_CO_ASSIGN_OR_RETURN(std::string subject_token,
                           co_await ksa_tokens_.token(caller, std::move(token_audience)));
  TransportRequest request;
  request.url = options_.sts_url + "/v1/token";
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                     {"Accept", "application/json"}};
  request.body = form_encode({
      {"grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"},
      {"audience", std::move(sts_audience)},
      {"scope", absl::StrJoin(scopes, " ")},
      {"requested_token_type", "urn:ietf:params:oauth:token-type:access_token"},
      {"subject_token_type", "urn:ietf:params:oauth:token-type:jwt"},
      {"subject_token", std::move(subject_token)},
  });
  request.timeout = options_.request_timeout;
  request.body_limit = options_.body_limit;
  absl::Time sent = clock_.now();
  WIMS_CO_ASSIGN_OR_RETURN(std::string body,
                           co_await call_upstream(transport_, kSts, std::move(request), metrics_));
  WIMS_CO_ASSIGN_OR_RETURN(boost::json::object object, parse_json_object(kSts, body));
  WIMS_CO_ASSIGN_OR_RETURN(std::string token, json_string_member(kSts, object, "access_token"));
  WIMS_CO_ASSIGN_OR_RETURN(int64_t expires_in, expires_in_seconds(object));
  // Counted from when the request left, so the cached expiry is never later than the real one.
  co_return CachedCredential{std::move(token), sent + absl::Seconds(expires_in)};
}

boost::asio::awaitable<absl::StatusOr<CachedCredential>> GoogleBroker::generate_access_token(
    Caller caller, std::string email, std::vector<std::string> scopes) {
  // GKE exchanges for cloud-platform and narrows the scopes at impersonation.
  std::vector<std::string> federated_scopes{std::string(kCloudPlatformScope)};
  WIMS_CO_ASSIGN_OR_RETURN(CachedCredential federated,
                           co_await federated_token(caller, std::move(federated_scopes)));
  boost::json::array scope_array;
  for (const std::string& scope : scopes) scope_array.emplace_back(scope);
  boost::json::object body{
      {"scope", std::move(scope_array)},
      {"lifetime", fmt::format("{}s", absl::ToInt64Seconds(options_.access_token_lifetime))}};
  TransportRequest request;
  request.url = fmt::format("{}/v1/projects/-/serviceAccounts/{}:generateAccessToken",
                            options_.iam_credentials_url, email);
  request.headers = {{"Content-Type", "application/json"},
                     {"Accept", "application/json"},
                     {"Authorization", "Bearer " + federated.value}};
  request.body = boost::json::serialize(body);
  request.timeout = options_.request_timeout;
  request.body_limit = options_.body_limit;
  WIMS_CO_ASSIGN_OR_RETURN(
      std::string response,
      co_await call_upstream(transport_, kIamCredentials, std::move(request), metrics_));
  WIMS_CO_ASSIGN_OR_RETURN(boost::json::object object,
                           parse_json_object(kIamCredentials, response));
  WIMS_CO_ASSIGN_OR_RETURN(std::string token,
                           json_string_member(kIamCredentials, object, "accessToken"));
  WIMS_CO_ASSIGN_OR_RETURN(std::string expire_time,
                           json_string_member(kIamCredentials, object, "expireTime"));
  absl::StatusOr<absl::Time> expiry = parse_rfc3339(expire_time);
  if (!expiry.ok()) {
    co_return absl::InternalError(
        fmt::format("iamcredentials: bad expireTime \"{}\"", expire_time));
  }
  co_return CachedCredential{std::move(token), *expiry};
}

boost::asio::awaitable<absl::StatusOr<CachedCredential>> GoogleBroker::generate_id_token(
    Caller caller, std::string email, IdTokenOptions options) {
  // GKE exchanges for cloud-platform and narrows the scopes at impersonation.
  std::vector<std::string> federated_scopes{std::string(kCloudPlatformScope)};
  WIMS_CO_ASSIGN_OR_RETURN(CachedCredential federated,
                           co_await federated_token(caller, std::move(federated_scopes)));
  boost::json::object body{{"audience", options.audience}, {"includeEmail", options.full_format}};
  if (options.full_format && options_.compute_engine) {
    const ComputeEngineFacts& facts = *options_.compute_engine;
    boost::json::object claims{{"project_id", facts.project_id},
                               {"project_number", facts.project_number},
                               {"zone", facts.zone},
                               {"instance_id", facts.instance_id},
                               {"instance_name", facts.instance_name},
                               {"instance_creation_timestamp", facts.instance_creation_timestamp}};
    if (options.include_licenses) {
      boost::json::array ids;
      for (const std::string& id : facts.license_ids) ids.emplace_back(id);
      claims["license_id"] = std::move(ids);
      body["wimsLicenses"] = true;
    }
    body["wimsComputeEngine"] = std::move(claims);
  }
  TransportRequest request;
  request.url = fmt::format("{}/v1/projects/-/serviceAccounts/{}:generateIdToken",
                            options_.iam_credentials_url, email);
  request.headers = {{"Content-Type", "application/json"},
                     {"Accept", "application/json"},
                     {"Authorization", "Bearer " + federated.value}};
  request.body = boost::json::serialize(body);
  request.timeout = options_.request_timeout;
  request.body_limit = options_.body_limit;
  WIMS_CO_ASSIGN_OR_RETURN(
      std::string response,
      co_await call_upstream(transport_, kIamCredentials, std::move(request), metrics_));
  WIMS_CO_ASSIGN_OR_RETURN(boost::json::object object,
                           parse_json_object(kIamCredentials, response));
  WIMS_CO_ASSIGN_OR_RETURN(std::string token, json_string_member(kIamCredentials, object, "token"));
  WIMS_CO_ASSIGN_OR_RETURN(absl::Time expiry, jwt_expiry(token));
  co_return CachedCredential{std::move(token), expiry};
}

}  // namespace wims::broker
