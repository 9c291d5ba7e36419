// The OIDC provider URL form that AWS IAM keys providers, provider ARNs and trust-policy condition
// keys by: the issuer without its scheme and without trailing slashes
// ("oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E").
//
//   std::optional<std::string> url = aws::oidc_provider_url("https://oidc.example.com/id/X/");
//   // "oidc.example.com/id/X"
//
// AWS accepts only https:// issuers. wims additionally accepts http:// when the host is a loopback
// address (127.0.0.0/8, ::1, "localhost"), because its embedded cluster issuer is served over plain
// HTTP on loopback (`wims up`); any other http:// issuer is refused exactly like on AWS.
// Stateless and thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace wims::aws {

// The provider URL of `issuer`, or nullopt when it is not an acceptable issuer URL (not an
// absolute https URL, or http on a non-loopback host; user info, query or fragment present; no
// host).
std::optional<std::string> oidc_provider_url(std::string_view issuer);

}  // namespace wims::aws
