#include "aws/http_jwks_token_verifier.h"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include "aws/aws_error.h"
#include "common/strings.h"
#include "fmt/format.h"

namespace wims::aws {
namespace {

std::string without_trailing_slash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

absl::Status idp_error(std::string_view issuer_url, std::string_view detail) {
  return aws_error(
      "IDPCommunicationError",
      fmt::format("Couldn't retrieve verification key from your identity provider {}: {}",
                  issuer_url, detail));
}

bool is_http_url(std::string_view url) {
  auto parsed = boost::urls::parse_absolute_uri(boost::urls::string_view(url.data(), url.size()));
  return parsed &&
         (parsed->scheme_id() == boost::urls::scheme::https ||
          parsed->scheme_id() == boost::urls::scheme::http) &&
         !parsed->encoded_host().empty();
}

}  // namespace

HttpJwksTokenVerifier::HttpJwksTokenVerifier(http::Client& client, const Clock& clock,
                                             HttpJwksTokenVerifierOptions options)
    : client_(client), clock_(clock), options_(options) {}

size_t HttpJwksTokenVerifier::fetches() const {
  std::lock_guard lock(mu_);
  return fetches_;
}

boost::asio::awaitable<absl::Status> HttpJwksTokenVerifier::verify_signature(
    jose::DecodedJwt jwt, std::string issuer_url) {
  issuer_url = without_trailing_slash(std::move(issuer_url));
  std::string kid;
  if (const boost::json::value* v = jwt.header.if_contains("kid"); v && v->is_string()) {
    kid = std::string(v->get_string());
  }
  const absl::Time now = clock_.now();
  std::shared_ptr<const jose::JwkSet> cached;
  bool refetch = true;
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(issuer_url);
    if (it != cache_.end()) {
      cached = it->second.jwks;
      const absl::Duration age = now - it->second.fetched_at;
      const bool fresh = age < options_.cache_ttl;
      const bool knows_kid = cached->find(kid) != nullptr;
      refetch = !fresh || (!knows_kid && age >= options_.min_refetch_interval);
    }
  }
  if (refetch) {
    absl::StatusOr<jose::JwkSet> fetched = co_await fetch(issuer_url);
    if (fetched.ok()) {
      cached = std::make_shared<const jose::JwkSet>(*std::move(fetched));
      store(issuer_url, {.jwks = cached, .fetched_at = now});
    } else if (cached == nullptr) {
      co_return fetched.status();
    }
    // else: the issuer is unreachable right now; the stale set still verifies what it can.
  }
  co_return verify_with_jwks(jwt, *cached);
}

void HttpJwksTokenVerifier::store(const std::string& issuer_url, CachedJwks entry) {
  std::lock_guard lock(mu_);
  if (!cache_.contains(issuer_url) && cache_.size() >= options_.max_issuers) {
    auto oldest = cache_.begin();
    for (auto it = cache_.begin(); it != cache_.end(); ++it) {
      if (it->second.fetched_at < oldest->second.fetched_at) oldest = it;
    }
    cache_.erase(oldest);
  }
  cache_[issuer_url] = std::move(entry);
}

boost::asio::awaitable<absl::StatusOr<std::string>> HttpJwksTokenVerifier::get(std::string url,
                                                                               std::string what) {
  http::ClientRequest request{.method = http::beast_http::verb::get,
                              .url = url,
                              .headers = {{"Accept", "application/json"}},
                              .timeout = options_.request_timeout,
                              .body_limit = options_.max_document_bytes};
  absl::StatusOr<http::Response> response = co_await client_.send(std::move(request));
  if (!response.ok()) {
    co_return absl::UnavailableError(
        fmt::format("{} {}: {}", what, url, to_std(response.status().message())));
  }
  if (response->result() != http::beast_http::status::ok) {
    co_return absl::UnavailableError(
        fmt::format("{} {} answered HTTP {}", what, url, response->result_int()));
  }
  co_return std::move(response->body());
}

boost::asio::awaitable<absl::StatusOr<jose::JwkSet>> HttpJwksTokenVerifier::fetch(
    std::string issuer_url) {
  {
    std::lock_guard lock(mu_);
    ++fetches_;
  }
  absl::StatusOr<std::string> discovery =
      co_await get(issuer_url + "/.well-known/openid-configuration", "discovery");
  if (!discovery.ok()) co_return idp_error(issuer_url, to_std(discovery.status().message()));
  boost::system::error_code ec;
  boost::json::value document = boost::json::parse(*discovery, ec);
  if (ec || !document.is_object()) {
    co_return idp_error(issuer_url, "the discovery document is not a JSON object");
  }
  const boost::json::object& object = document.get_object();
  const boost::json::value* issuer = object.if_contains("issuer");
  if (issuer == nullptr || !issuer->is_string() ||
      without_trailing_slash(std::string(issuer->get_string())) != issuer_url) {
    co_return idp_error(issuer_url, "the discovery document names a different issuer");
  }
  const boost::json::value* jwks_uri = object.if_contains("jwks_uri");
  if (jwks_uri == nullptr || !jwks_uri->is_string() ||
      !is_http_url(std::string_view(jwks_uri->get_string()))) {
    co_return idp_error(issuer_url, "the discovery document has no http(s) jwks_uri");
  }
  absl::StatusOr<std::string> jwks_text = co_await get(std::string(jwks_uri->get_string()), "JWKS");
  if (!jwks_text.ok()) co_return idp_error(issuer_url, to_std(jwks_text.status().message()));
  absl::StatusOr<jose::JwkSet> jwks = jose::JwkSet::parse(*jwks_text);
  if (!jwks.ok()) co_return idp_error(issuer_url, to_std(jwks.status().message()));
  co_return jwks;
}

}  // namespace wims::aws
