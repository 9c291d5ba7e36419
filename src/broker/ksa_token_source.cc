#include "broker/ksa_token_source.h"

#include <fmt/format.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <utility>

#include "common/encoding.h"
#include "common/status_macros.h"

namespace wims::broker {
namespace {

constexpr char kKubernetesService[] = "kubernetes";

std::string path_segment(const std::string& s) {
  return boost::urls::encode(s, boost::urls::unreserved_chars);
}

}  // namespace

TokenRequestKsaTokenSource::TokenRequestKsaTokenSource(Options options, HttpTransport& transport,
                                                       BearerTokenProvider bearer,
                                                       const Clock& clock, UpstreamMetrics metrics,
                                                       TokenCache::RandomSource random)
    : options_(std::move(options)),
      transport_(transport),
      bearer_(std::move(bearer)),
      metrics_(std::move(metrics)),
      cache_(options_.cache, clock, std::move(random)) {}

boost::asio::awaitable<absl::StatusOr<std::string>> TokenRequestKsaTokenSource::token(
    const Caller& caller, std::string audience) {
  const std::string& service_account = caller.service_account.name.empty()
                                           ? caller.pod.service_account_name
                                           : caller.service_account.name;
  if (caller.pod.namespace_name.empty() || caller.pod.name.empty() || service_account.empty()) {
    co_return absl::InvalidArgumentError("caller has no pod namespace, name or service account");
  }
  // The pod uid is in the key: a re-created pod of the same name must not get the old pod's bound
  // token.
  std::string identity =
      fmt::format("ksa\n{}\n{}/{}/{}\n{}", caller.pod.uid, caller.pod.namespace_name,
                  caller.pod.name, service_account, audience);
  // Named, not a temporary inside the co_await expression: GCC 12 destroys such temporaries twice.
  TokenCache::Fetcher fetch = [this, caller, audience] { return request_token(caller, audience); };
  std::string key = token_cache_key(identity, {});
  absl::StatusOr<CachedCredential> credential =
      co_await cache_.get(std::move(key), std::move(fetch));
  if (!credential.ok()) co_return credential.status();
  co_return std::move(credential->value);
}

boost::asio::awaitable<absl::StatusOr<CachedCredential>> TokenRequestKsaTokenSource::request_token(
    Caller caller, std::string audience) {
  std::string service_account = caller.service_account.name.empty()
                                    ? caller.pod.service_account_name
                                    : caller.service_account.name;
  boost::json::object bound{{"kind", "Pod"}, {"apiVersion", "v1"}, {"name", caller.pod.name}};
  if (!caller.pod.uid.empty()) bound["uid"] = caller.pod.uid;
  boost::json::value body = {{"apiVersion", "authentication.k8s.io/v1"},
                             {"kind", "TokenRequest"},
                             {"spec",
                              {{"audiences", boost::json::array{boost::json::string(audience)}},
                               {"expirationSeconds", absl::ToInt64Seconds(options_.expiration)},
                               {"boundObjectRef", std::move(bound)}}}};

  TransportRequest request;
  request.url = fmt::format("{}/api/v1/namespaces/{}/serviceaccounts/{}/token", options_.api_url,
                            path_segment(caller.pod.namespace_name), path_segment(service_account));
  request.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
  if (bearer_) {
    absl::StatusOr<std::string> bearer = bearer_();
    if (!bearer.ok()) co_return bearer.status();
    if (!bearer->empty()) request.headers.emplace_back("Authorization", "Bearer " + *bearer);
  }
  request.body = boost::json::serialize(body);
  request.timeout = options_.request_timeout;
  request.body_limit = options_.body_limit;

  WIMS_CO_ASSIGN_OR_RETURN(
      std::string response,
      co_await call_upstream(transport_, kKubernetesService, std::move(request), metrics_));
  WIMS_CO_ASSIGN_OR_RETURN(boost::json::object object,
                           parse_json_object(kKubernetesService, response));
  const auto* status = object.if_contains("status");
  if (status == nullptr || !status->is_object()) {
    co_return absl::InternalError("kubernetes: TokenRequest response has no status");
  }
  WIMS_CO_ASSIGN_OR_RETURN(std::string token,
                           json_string_member(kKubernetesService, status->get_object(), "token"));
  WIMS_CO_ASSIGN_OR_RETURN(
      std::string expiration,
      json_string_member(kKubernetesService, status->get_object(), "expirationTimestamp"));
  absl::StatusOr<absl::Time> expiry = parse_rfc3339(expiration);
  if (!expiry.ok()) {
    co_return absl::InternalError(
        fmt::format("kubernetes: bad status.expirationTimestamp \"{}\"", expiration));
  }
  co_return CachedCredential{std::move(token), *expiry};
}

}  // namespace wims::broker
