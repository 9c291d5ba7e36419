#include "aws/http_jwks_token_verifier.h"

#include <boost/json.hpp>

#include "aws/aws_error.h"
#include "common/strings.h"
#include "fmt/format.h"

namespace wims::aws {
namespace {

absl::Status idp_error(std::string_view issuer_url, std::string_view detail) {
  return aws_error(
      "IDPCommunicationError",
      fmt::format("Couldn't retrieve verification key from your identity provider {}: {}",
                  issuer_url, detail));
}

}  // namespace

HttpJwksTokenVerifier::HttpJwksTokenVerifier(http::Client& client, const Clock& clock,
                                             HttpJwksTokenVerifierOptions options)
    : cache_(client, clock, options) {}

size_t HttpJwksTokenVerifier::fetches() const { return cache_.fetches(); }

boost::asio::awaitable<absl::Status> HttpJwksTokenVerifier::verify_signature(
    jose::DecodedJwt jwt, std::string issuer_url) {
  issuer_url = jose::without_trailing_slash(std::move(issuer_url));
  std::string kid;
  if (const boost::json::value* v = jwt.header.if_contains("kid"); v && v->is_string()) {
    kid = std::string(v->get_string());
  }
  absl::StatusOr<std::shared_ptr<const jose::JwkSet>> jwks = co_await cache_.keys(issuer_url, kid);
  if (!jwks.ok()) co_return idp_error(issuer_url, to_std(jwks.status().message()));
  co_return verify_with_jwks(jwt, **jwks);
}

}  // namespace wims::aws
