#include "cloud/external_issuer_key_source.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/strings.h"
#include "fmt/format.h"
#include "spdlog/spdlog.h"

namespace wims::cloud {
namespace {

absl::Status unknown_issuer(const std::string& issuer) {
  return absl::NotFoundError(absl::StrCat("unknown issuer \"", issuer, "\""));
}

}  // namespace

absl::StatusOr<jose::JwkSet> read_jwks_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    return absl::Status(absl::ErrnoToStatusCode(err),
                        fmt::format("cannot read JWKS file {}: {}", path, std::strerror(err)));
  }
  std::string text;
  char buffer[16 * 1024];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<size_t>(in.gcount()));
    if (text.size() > JwksFileIssuerKeySource::kMaxFileBytes) {
      return absl::InvalidArgumentError(fmt::format("JWKS file {} is larger than {} bytes", path,
                                                    JwksFileIssuerKeySource::kMaxFileBytes));
    }
  }
  if (in.bad()) return absl::DataLossError(fmt::format("error reading JWKS file {}", path));
  absl::StatusOr<jose::JwkSet> jwks = jose::JwkSet::parse(text);
  if (!jwks.ok()) {
    return absl::InvalidArgumentError(
        fmt::format("JWKS file {} is not a JWKS: {}", path, to_std(jwks.status().message())));
  }
  return jwks;
}

// ---- HttpJwksIssuerKeySource ----

HttpJwksIssuerKeySource::HttpJwksIssuerKeySource(std::string issuer_url, std::string jwks_url,
                                                 jose::HttpJwksCache& cache)
    : issuer_url_(jose::without_trailing_slash(std::move(issuer_url))),
      jwks_url_(std::move(jwks_url)),
      cache_(cache) {}

boost::asio::awaitable<absl::StatusOr<jose::JwkSet>> HttpJwksIssuerKeySource::keys(
    std::string issuer, std::string kid, absl::Time /*now: the cache has its clock*/) const {
  if (jose::without_trailing_slash(issuer) != issuer_url_) co_return unknown_issuer(issuer);
  absl::StatusOr<std::shared_ptr<const jose::JwkSet>> jwks =
      co_await cache_.keys(issuer_url_, std::move(kid), jwks_url_);
  if (!jwks.ok()) co_return jwks.status();
  co_return **jwks;
}

// ---- JwksFileIssuerKeySource ----

JwksFileIssuerKeySource::JwksFileIssuerKeySource(std::string issuer_url, std::string path,
                                                 absl::Duration interval, jose::JwkSet jwks)
    : issuer_url_(jose::without_trailing_slash(std::move(issuer_url))),
      path_(std::move(path)),
      min_reload_interval_(interval),
      jwks_(std::make_shared<const jose::JwkSet>(std::move(jwks))) {}

absl::StatusOr<std::unique_ptr<JwksFileIssuerKeySource>> JwksFileIssuerKeySource::open(
    std::string issuer_url, std::string path, absl::Duration min_reload_interval) {
  absl::StatusOr<jose::JwkSet> jwks = read_jwks_file(path);
  if (!jwks.ok()) return jwks.status();
  return std::unique_ptr<JwksFileIssuerKeySource>(new JwksFileIssuerKeySource(
      std::move(issuer_url), std::move(path), min_reload_interval, *std::move(jwks)));
}

size_t JwksFileIssuerKeySource::reads() const {
  std::lock_guard lock(mu_);
  return reads_;
}

boost::asio::awaitable<absl::StatusOr<jose::JwkSet>> JwksFileIssuerKeySource::keys(
    std::string issuer, std::string kid, absl::Time now) const {
  if (jose::without_trailing_slash(issuer) != issuer_url_) co_return unknown_issuer(issuer);
  std::shared_ptr<const jose::JwkSet> jwks;
  bool reload = false;
  {
    std::lock_guard lock(mu_);
    jwks = jwks_;
    if (jwks->find(kid) == nullptr && now - last_reload_ >= min_reload_interval_) {
      // Claimed before reading, so concurrent unknown kids cause one read, not one each.
      last_reload_ = now;
      ++reads_;
      reload = true;
    }
  }
  if (reload) {
    absl::StatusOr<jose::JwkSet> fresh = read_jwks_file(path_);
    if (fresh.ok()) {
      jwks = std::make_shared<const jose::JwkSet>(*std::move(fresh));
      std::lock_guard lock(mu_);
      jwks_ = jwks;
    } else {
      spdlog::warn("external issuer {}: keeping the previous keys: {}", issuer_url_,
                   to_std(fresh.status().message()));
    }
  }
  co_return *jwks;
}

// ---- IssuerKeySourceChain ----

boost::asio::awaitable<absl::StatusOr<jose::JwkSet>> IssuerKeySourceChain::keys(
    std::string issuer, std::string kid, absl::Time now) const {
  for (const IssuerKeySource* source : sources_) {
    absl::StatusOr<jose::JwkSet> jwks = co_await source->keys(issuer, kid, now);
    if (jwks.ok() || jwks.status().code() != absl::StatusCode::kNotFound) co_return jwks;
  }
  co_return unknown_issuer(issuer);
}

}  // namespace wims::cloud
