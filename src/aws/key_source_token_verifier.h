// KeySourceTokenVerifier: verifies web identity tokens of issuers whose keys wims holds in process
// (its own cluster issuer: the SigningKeyRing's published keys), and hands every other issuer to a
// fallback verifier (HttpJwksTokenVerifier for external issuers), so the local STS trusts its own
// issuer without an HTTP round trip to itself and still accepts any registered external issuer.
//
//   aws::HttpJwksTokenVerifier external(http_client, clock);
//   aws::KeySourceTokenVerifier verifier(
//       {{issuer_url, [&ring, &clock] { return ring.verification_keys(clock.now()); }}},
//       &external);
//   aws::StsService sts(repository, verifier, clock, account_id);
//
// Issuer URLs match exactly (after dropping trailing slashes on both sides). Immutable after
// construction; thread-safe as long as the key sources are (SigningKeyRing's are lock-free).
// verify_signature runs on the caller's executor; it calls the key source inline (it must not
// block) and co_awaits only the fallback.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "aws/oidc_token_verifier.h"
#include "jose/jwk_set.h"

namespace wims::aws {

class KeySourceTokenVerifier final : public OidcTokenVerifier {
 public:
  // The current verification keys of one issuer; called for every token of that issuer.
  using KeySource = std::function<jose::JwkSet()>;

  // `fallback` (not owned, may be nullptr) verifies issuers not in `issuers`; without it they are
  // InvalidIdentityToken ("Couldn't retrieve verification key ...").
  explicit KeySourceTokenVerifier(std::map<std::string, KeySource> issuers,
                                  OidcTokenVerifier* fallback = nullptr);

  boost::asio::awaitable<absl::Status> verify_signature(jose::DecodedJwt jwt,
                                                        std::string issuer_url) override;

 private:
  std::map<std::string, KeySource, std::less<>> issuers_;
  OidcTokenVerifier* fallback_;
};

}  // namespace wims::aws
