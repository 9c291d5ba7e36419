#include "aws/oidc_token_verifier.h"

#include "aws/aws_error.h"

namespace wims::aws {

absl::Status verify_with_jwks(const jose::DecodedJwt& jwt, const jose::JwkSet& jwks) {
  absl::Status verified = jose::verify_jwt(jwt, jwks);
  if (verified.ok()) return verified;
  // Unknown kid and a bad signature read the same to the caller, as on AWS.
  return aws_error(
      "InvalidIdentityToken",
      verified.message().find("kid") != absl::string_view::npos
          ? "Couldn't retrieve verification key from your identity provider,  please reference "
            "AssumeRoleWithWebIdentity documentation for requirements"
          : "The web identity token signature could not be verified.");
}

void StaticJwksTokenVerifier::set_jwks(const std::string& issuer_url, jose::JwkSet jwks) {
  std::lock_guard lock(mu_);
  jwks_[issuer_url] = std::make_shared<const jose::JwkSet>(std::move(jwks));
}

boost::asio::awaitable<absl::Status> StaticJwksTokenVerifier::verify_signature(
    jose::DecodedJwt jwt, std::string issuer_url) {
  std::shared_ptr<const jose::JwkSet> jwks;
  {
    std::lock_guard lock(mu_);
    auto it = jwks_.find(issuer_url);
    if (it != jwks_.end()) jwks = it->second;
  }
  if (jwks == nullptr) {
    co_return aws_error(
        "InvalidIdentityToken",
        "Couldn't retrieve verification key from your identity provider,  please reference "
        "AssumeRoleWithWebIdentity documentation for requirements");
  }
  co_return verify_with_jwks(jwt, *jwks);
}

}  // namespace wims::aws
