#include "aws/key_source_token_verifier.h"

#include <string_view>

#include "aws/aws_error.h"

namespace wims::aws {
namespace {

std::string without_trailing_slash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace

KeySourceTokenVerifier::KeySourceTokenVerifier(std::map<std::string, KeySource> issuers,
                                               OidcTokenVerifier* fallback)
    : fallback_(fallback) {
  for (auto& [url, source] : issuers) {
    issuers_.emplace(without_trailing_slash(url), std::move(source));
  }
}

boost::asio::awaitable<absl::Status> KeySourceTokenVerifier::verify_signature(
    jose::DecodedJwt jwt, std::string issuer_url) {
  auto it = issuers_.find(without_trailing_slash(issuer_url));
  if (it != issuers_.end()) co_return verify_with_jwks(jwt, it->second());
  if (fallback_ != nullptr) {
    co_return co_await fallback_->verify_signature(std::move(jwt), std::move(issuer_url));
  }
  co_return aws_error(
      "InvalidIdentityToken",
      "Couldn't retrieve verification key from your identity provider,  please reference "
      "AssumeRoleWithWebIdentity documentation for requirements");
}

}  // namespace wims::aws
