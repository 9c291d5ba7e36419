// Key sources of an external cluster issuer (World cluster.issuerUrl with cluster.jwksUrl or
// cluster.jwksFile), so the local Google STS trusts a real cluster's service-account tokens, and
// IssuerKeySourceChain, which puts them next to the embedded issuer's LocalIssuerKeySource.
//
//   jose::HttpJwksCache cache(http_client, clock);
//   cloud::HttpJwksIssuerKeySource external(issuer, jwks_url, cache);   // "" jwks_url: discovery
//   // or: auto external = cloud::JwksFileIssuerKeySource::open(issuer, "/etc/wims/jwks.json");
//   cloud::LocalIssuerKeySource local(local_issuer_url, ring);
//   cloud::IssuerKeySourceChain keys({&local, &external});
//
// Both answer NotFound for any issuer but theirs (issuer URLs compared without trailing slashes)
// and return the whole set; whether it holds the token's kid is the STS's question.
//
// HttpJwksIssuerKeySource: the JWKS over HTTP(S) through jose::HttpJwksCache (cached for its TTL,
// refetched when a token names an unknown kid, at most once per min_refetch_interval, stale keys
// kept while the issuer is down). Unavailable when nothing is cached and the fetch fails.
//
// JwksFileIssuerKeySource: a JWKS JSON file, read and parsed by open() (so `wims up` fails at start
// on a bad file), and reread when a token names a kid the set does not hold (an operator exported
// the rotated keys), at most once per min_reload_interval; a reread that fails keeps the previous
// set. The reread is a small blocking read on the caller's thread, bounded by that interval.
//
// Thread-safe: the file source swaps an immutable snapshot under a mutex never held across
// co_await (nor across the file read); the HTTP source's cache is thread-safe. keys() runs on the
// caller's executor. Referenced objects (cache, sources of a chain) must outlive these.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cloud/issuer_key_source.h"
#include "jose/http_jwks_cache.h"
#include "jose/jwk_set.h"

namespace wims::cloud {

class HttpJwksIssuerKeySource final : public IssuerKeySource {
 public:
  HttpJwksIssuerKeySource(std::string issuer_url, std::string jwks_url, jose::HttpJwksCache& cache);

  boost::asio::awaitable<absl::StatusOr<jose::JwkSet>> keys(std::string issuer, std::string kid,
                                                            absl::Time now) const override;

 private:
  const std::string issuer_url_;
  const std::string jwks_url_;
  jose::HttpJwksCache& cache_;
};

class JwksFileIssuerKeySource final : public IssuerKeySource {
 public:
  // Files larger than this are refused (a JWKS is a few kilobytes).
  static constexpr size_t kMaxFileBytes = 1024 * 1024;

  // Reads `path`. Errors name the file: NotFound / PermissionDenied when it cannot be read,
  // InvalidArgument when it is too large or not a JWKS.
  static absl::StatusOr<std::unique_ptr<JwksFileIssuerKeySource>> open(
      std::string issuer_url, std::string path,
      absl::Duration min_reload_interval = absl::Seconds(30));

  boost::asio::awaitable<absl::StatusOr<jose::JwkSet>> keys(std::string issuer, std::string kid,
                                                            absl::Time now) const override;

  // Successful and failed reads of the file since open (open's read included).
  size_t reads() const;

 private:
  JwksFileIssuerKeySource(std::string issuer_url, std::string path, absl::Duration interval,
                          jose::JwkSet jwks);

  const std::string issuer_url_;
  const std::string path_;
  const absl::Duration min_reload_interval_;
  mutable std::mutex mu_;
  mutable std::shared_ptr<const jose::JwkSet> jwks_ ABSL_GUARDED_BY(mu_);
  // When the last reread was attempted; InfinitePast until the first (open's read is not counted:
  // a rotation right after start reloads at once).
  mutable absl::Time last_reload_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  mutable size_t reads_ ABSL_GUARDED_BY(mu_) = 1;
};

// The first source that serves the issuer: NotFound from one source means "ask the next"; any
// other answer is final. NotFound when none serves it.
class IssuerKeySourceChain final : public IssuerKeySource {
 public:
  explicit IssuerKeySourceChain(std::vector<const IssuerKeySource*> sources)
      : sources_(std::move(sources)) {}

  boost::asio::awaitable<absl::StatusOr<jose::JwkSet>> keys(std::string issuer, std::string kid,
                                                            absl::Time now) const override;

 private:
  const std::vector<const IssuerKeySource*> sources_;
};

// Reads and parses a JWKS file (at most kMaxFileBytes); errors name `path`.
absl::StatusOr<jose::JwkSet> read_jwks_file(const std::string& path);

}  // namespace wims::cloud
