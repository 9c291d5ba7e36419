// OidcTokenVerifier: the seam through which the local STS checks a web identity token's signature
// against the keys its issuer publishes (ISSUER/.well-known/openid-configuration -> jwks_uri -> key
// by kid). StsService owns the policy (issuer registered, audience, expiry); the verifier only
// answers "is this signature made by a current key of this issuer".
//
// StaticJwksTokenVerifier holds fixed JWKS per issuer (tests). For `wims up`:
// KeySourceTokenVerifier (aws/key_source_token_verifier.h, wims's own issuer) falling back to
// HttpJwksTokenVerifier (aws/http_jwks_token_verifier.h, any other issuer, over OIDC discovery).
// Implementations are thread-safe and run on the caller's executor; they may co_await network I/O.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "jose/jwk_set.h"
#include "jose/jwt.h"

namespace wims::aws {

class OidcTokenVerifier {
 public:
  virtual ~OidcTokenVerifier() = default;
  // Verifies `jwt`'s signature with the JWKS of `issuer_url` ("https://host/path"). Errors are
  // AWS-coded: InvalidIdentityToken when no key matches the kid or the signature is wrong,
  // IDPCommunicationError when the issuer's keys cannot be fetched.
  virtual boost::asio::awaitable<absl::Status> verify_signature(jose::DecodedJwt jwt,
                                                                std::string issuer_url) = 0;
};

// Verifies `jwt` against `jwks` with the AWS error shape every verifier uses: an unknown kid is
// InvalidIdentityToken "Couldn't retrieve verification key ...", a bad signature (or a disallowed
// alg) InvalidIdentityToken "The web identity token signature could not be verified.".
absl::Status verify_with_jwks(const jose::DecodedJwt& jwt, const jose::JwkSet& jwks);

class StaticJwksTokenVerifier final : public OidcTokenVerifier {
 public:
  // Replaces the keys of `issuer_url`.
  void set_jwks(const std::string& issuer_url, jose::JwkSet jwks);
  boost::asio::awaitable<absl::Status> verify_signature(jose::DecodedJwt jwt,
                                                        std::string issuer_url) override;

 private:
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const jose::JwkSet>> jwks_ ABSL_GUARDED_BY(mu_);
};

}  // namespace wims::aws
