#include "jose/http_jwks_cache.h"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include "common/strings.h"
#include "fmt/format.h"

namespace wims::jose {

std::string without_trailing_slash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

bool is_http_url(std::string_view url) {
  // Boost.URL 1.81 parses with strlen in places: give it a NUL-terminated copy.
  const std::string text(url);
  auto parsed = boost::urls::parse_absolute_uri(boost::urls::string_view(text.data(), text.size()));
  return parsed &&
         (parsed->scheme_id() == boost::urls::scheme::https ||
          parsed->scheme_id() == boost::urls::scheme::http) &&
         !parsed->encoded_host().empty();
}

HttpJwksCache::HttpJwksCache(http::Client& client, const Clock& clock, HttpJwksCacheOptions options)
    : client_(client), clock_(clock), options_(options) {}

size_t HttpJwksCache::fetches() const {
  std::lock_guard lock(mu_);
  return fetches_;
}

boost::asio::awaitable<absl::StatusOr<std::shared_ptr<const JwkSet>>> HttpJwksCache::keys(
    std::string issuer_url, std::string kid, std::string jwks_url) {
  issuer_url = without_trailing_slash(std::move(issuer_url));
  const Key key{issuer_url, jwks_url};
  const absl::Time now = clock_.now();
  std::shared_ptr<const JwkSet> cached;
  bool refetch = true;
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      cached = it->second.jwks;
      const absl::Duration age = now - it->second.fetched_at;
      const bool fresh = age < options_.cache_ttl;
      const bool knows_kid = cached->find(kid) != nullptr;
      refetch = !fresh || (!knows_kid && age >= options_.min_refetch_interval);
    }
  }
  if (refetch) {
    absl::StatusOr<JwkSet> fetched = co_await fetch(issuer_url, jwks_url);
    if (fetched.ok()) {
      cached = std::make_shared<const JwkSet>(*std::move(fetched));
      store(key, {.jwks = cached, .fetched_at = now});
    } else if (cached == nullptr) {
      co_return fetched.status();
    }
    // else: the issuer is unreachable right now; the stale set still verifies what it can.
  }
  co_return cached;
}

void HttpJwksCache::store(const Key& key, CachedJwks entry) {
  std::lock_guard lock(mu_);
  if (!cache_.contains(key) && cache_.size() >= options_.max_issuers) {
    auto oldest = cache_.begin();
    for (auto it = cache_.begin(); it != cache_.end(); ++it) {
      if (it->second.fetched_at < oldest->second.fetched_at) oldest = it;
    }
    cache_.erase(oldest);
  }
  cache_[key] = std::move(entry);
}

boost::asio::awaitable<absl::StatusOr<std::string>> HttpJwksCache::get(std::string url,
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

boost::asio::awaitable<absl::StatusOr<JwkSet>> HttpJwksCache::fetch(std::string issuer_url,
                                                                    std::string jwks_url) {
  {
    std::lock_guard lock(mu_);
    ++fetches_;
  }
  if (jwks_url.empty()) {
    absl::StatusOr<std::string> discovery =
        co_await get(issuer_url + "/.well-known/openid-configuration", "discovery");
    if (!discovery.ok()) co_return discovery.status();
    boost::system::error_code ec;
    boost::json::value document = boost::json::parse(*discovery, ec);
    if (ec || !document.is_object()) {
      co_return absl::UnavailableError("the discovery document is not a JSON object");
    }
    const boost::json::object& object = document.get_object();
    const boost::json::value* issuer = object.if_contains("issuer");
    if (issuer == nullptr || !issuer->is_string() ||
        without_trailing_slash(std::string(issuer->get_string())) != issuer_url) {
      co_return absl::UnavailableError("the discovery document names a different issuer");
    }
    const boost::json::value* jwks_uri = object.if_contains("jwks_uri");
    if (jwks_uri == nullptr || !jwks_uri->is_string() ||
        !is_http_url(std::string_view(jwks_uri->get_string()))) {
      co_return absl::UnavailableError("the discovery document has no http(s) jwks_uri");
    }
    jwks_url = std::string(jwks_uri->get_string());
  }
  absl::StatusOr<std::string> jwks_text = co_await get(jwks_url, "JWKS");
  if (!jwks_text.ok()) co_return jwks_text.status();
  absl::StatusOr<JwkSet> jwks = JwkSet::parse(*jwks_text);
  if (!jwks.ok()) co_return absl::UnavailableError(jwks.status().message());
  co_return jwks;
}

}  // namespace wims::jose
