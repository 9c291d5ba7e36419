// AWS Signature Version 4 (AWS4-HMAC-SHA256, header form): canonical request, string to sign,
// signing-key derivation, parsing of the Authorization header, and verification of a signed request
// against the caller's secret. The local cloud's IAM and STS front ends verify every signed call
// with SigV4Verifier; tests and in-process clients sign with sign_sigv4.
//
//   SigV4Verifier verifier("sts", clock);
//   absl::StatusOr<SigV4Identity> who = verifier.verify(request, [&](std::string_view akid) {
//     return repository.find_signing_secret(akid);
//   });
//
// Errors are AWS-coded statuses (aws/aws_error.h): IncompleteSignature (malformed Authorization),
// MissingAuthenticationToken (none), InvalidClientTokenId (unknown key or wrong session token),
// ExpiredToken (temporary credentials past their expiry), SignatureDoesNotMatch (wrong signature,
// wrong scope, or an X-Amz-Date more than 15 minutes from the clock: "Signature expired: ...").
//
// Free functions are stateless; SigV4Verifier is immutable after construction and thread-safe (the
// lookup it is given must be safe to call from the calling thread). Runs on the caller's thread; no
// I/O.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"

namespace wims::aws {

// A transport-neutral view of an HTTP request for signing.
struct SigV4Request {
  std::string method;     // "POST"
  std::string raw_path;   // as on the wire (percent-encoded), "/" when empty
  std::string raw_query;  // after '?', as on the wire, "" when absent
  std::vector<std::pair<std::string, std::string>>
      headers;  // names in any case, repeated names allowed
  std::string body;

  // The first value of header `name` (case-insensitive), or nullopt.
  std::optional<std::string_view> header(std::string_view name) const;
};

// The parsed `Authorization: AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request,
// SignedHeaders=a;b, Signature=hex` header.
struct SigV4Authorization {
  std::string access_key_id;
  std::string date;  // YYYYMMDD
  std::string region;
  std::string service;
  std::string terminator;  // "aws4_request"
  std::vector<std::string> signed_headers;
  std::string signature;  // lower-case hex

  // "DATE/REGION/SERVICE/aws4_request".
  std::string scope() const;
};

inline constexpr std::string_view kSigV4Algorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

// Parses the Authorization header value; errors are IncompleteSignature.
absl::StatusOr<SigV4Authorization> parse_sigv4_authorization(std::string_view header_value);

// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

// The canonical request: METHOD \n URI \n QUERY \n HEADERS \n SIGNED_HEADERS \n PAYLOAD_HASH.
// The URI has dot segments removed and every byte outside the unreserved set and '/'
// percent-encoded (as botocore does for non-S3 services); query parameters are decoded, strictly
// re-encoded and sorted; header values are trimmed with inner whitespace runs collapsed, repeated
// headers joined by ','. Errors: a query string that is not valid percent-encoding (an AWS-coded
// IncompleteSignature).
absl::StatusOr<std::string> sigv4_canonical_request(const SigV4Request& request,
                                                    const std::vector<std::string>& signed_headers,
                                                    std::string_view payload_hash);

// "AWS4-HMAC-SHA256\n" AMZ_DATE "\n" SCOPE "\n" hex(sha256(canonical_request)).
std::string sigv4_string_to_sign(std::string_view amz_date, std::string_view scope,
                                 std::string_view canonical_request);

// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request"), raw
// bytes.
std::string sigv4_signing_key(std::string_view secret_access_key, std::string_view date,
                              std::string_view region, std::string_view service);

// Lower-case hex HMAC-SHA256(signing_key, string_to_sign).
std::string sigv4_signature(std::string_view signing_key, std::string_view string_to_sign);

// The secret behind an access key id, as the verifier's lookup returns it.
struct SigV4Secret {
  std::string secret_access_key;
  std::string session_token;             // non-empty for temporary (ASIA...) credentials
  std::optional<absl::Time> expiration;  // set for temporary credentials
};

// Who signed a verified request.
struct SigV4Identity {
  std::string access_key_id;
  std::string region;
};

class SigV4Verifier {
 public:
  using SecretLookup = std::function<std::optional<SigV4Secret>(std::string_view access_key_id)>;

  // `service` is the credential-scope service this endpoint answers for ("iam", "sts"); the clock
  // is not owned and must outlive the verifier.
  SigV4Verifier(std::string service, const Clock& clock,
                absl::Duration max_skew = absl::Minutes(15));

  // Verifies `request`'s Authorization header. The payload hash is X-Amz-Content-SHA256 when
  // present (UNSIGNED-PAYLOAD allowed; any other value must equal the body's hash), else the body's
  // hash.
  absl::StatusOr<SigV4Identity> verify(const SigV4Request& request,
                                       const SecretLookup& lookup) const;

 private:
  std::string service_;
  const Clock& clock_;
  absl::Duration max_skew_;
};

// Credentials a client signs with.
struct SigV4Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty for long-term keys
};

// Signs `request` in place the way the AWS SDKs do: sets X-Amz-Date (and X-Amz-Security-Token with
// a session token), then Authorization over host, content-type and every x-amz-* header present.
// `request` must carry a Host header.
absl::Status sign_sigv4(SigV4Request& request, const SigV4Credentials& credentials,
                        std::string_view region, std::string_view service, absl::Time now);

// "20150830T123600Z".
std::string format_amz_date(absl::Time t);
// Parses the ISO 8601 basic form "20150830T123600Z"; nullopt for anything else.
std::optional<absl::Time> parse_amz_date(std::string_view text);

}  // namespace wims::aws
