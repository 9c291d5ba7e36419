#include "aws/sigv4.h"

#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <boost/url/parse_query.hpp>
#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "aws/aws_error.h"
#include "common/encoding.h"
#include "common/strings.h"
#include "fmt/format.h"

namespace wims::aws {
namespace {

constexpr std::string_view kAmzDateFormat = "%Y%m%dT%H%M%SZ";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

// RFC 3986 unreserved characters stay, everything else is %XX with upper-case hex (SigV4 rule).
std::string uri_encode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

// Removes "." and ".." segments and collapses empty segments, keeping a trailing slash (botocore
// _normalize_url_path).
std::string normalize_path(std::string_view path) {
  if (path.empty()) return "/";
  std::vector<std::string_view> out;
  for (absl::string_view seg : absl::StrSplit(to_absl(path), '/')) {
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      if (!out.empty()) out.pop_back();
      continue;
    }
    out.push_back(to_std(seg));
  }
  std::string result = "/";
  for (size_t i = 0; i < out.size(); ++i) {
    if (i > 0) result += '/';
    result.append(out[i]);
  }
  if (!out.empty() && path.back() == '/') result += '/';
  return result;
}

absl::StatusOr<std::string> canonical_query(std::string_view raw_query) {
  if (raw_query.empty()) return std::string();
  // NUL-terminated copy: Boost.URL 1.81's compiled parse_query reads its input with strlen (ASan).
  const std::string owned(raw_query);
  auto parsed = boost::urls::parse_query(boost::urls::string_view(owned.data(), owned.size()));
  if (!parsed)
    return aws_error("IncompleteSignature",
                     "The request query string is not valid percent-encoding.");
  std::vector<std::pair<std::string, std::string>> pairs;
  for (auto param : *parsed) {
    boost::urls::encoding_opts opts;
    opts.space_as_plus = false;
    std::string key = param.key.decode(opts);
    std::string value = param.has_value ? param.value.decode(opts) : std::string();
    if (key.empty() && !param.has_value) continue;
    pairs.emplace_back(uri_encode(key, false), uri_encode(value, false));
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [k, v] : pairs) {
    if (!out.empty()) out += '&';
    out += k;
    out += '=';
    out += v;
  }
  return out;
}

std::string canonical_header_value(std::string_view value) {
  std::string out;
  bool space = false;
  for (char c : trim(value)) {
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

absl::Status signature_mismatch(std::string_view detail = "") {
  std::string message =
      "The request signature we calculated does not match the signature you provided. Check your "
      "AWS Secret "
      "Access Key and signing method. Consult the service documentation for details.";
  if (!detail.empty()) message = std::string(detail);
  return aws_error("SignatureDoesNotMatch", message);
}

}  // namespace

std::optional<std::string_view> SigV4Request::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (absl::EqualsIgnoreCase(to_absl(k), to_absl(name))) return std::string_view(v);
  }
  return std::nullopt;
}

std::string SigV4Authorization::scope() const {
  return fmt::format("{}/{}/{}/{}", date, region, service, terminator);
}

std::string format_amz_date(absl::Time t) {
  return absl::FormatTime(to_absl(kAmzDateFormat), t, absl::UTCTimeZone());
}

std::optional<absl::Time> parse_amz_date(std::string_view text) {
  // absl's %Y is greedy over "20150830", so the fixed-width form is split by hand.
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') return std::nullopt;
  auto number = [&](size_t pos, size_t len) -> std::optional<int> {
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(text[i]))) return std::nullopt;
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  auto year = number(0, 4), month = number(4, 2), day = number(6, 2);
  auto hour = number(9, 2), minute = number(11, 2), second = number(13, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  absl::CivilSecond civil(*year, *month, *day, *hour, *minute, *second);
  // CivilSecond normalises out-of-range fields; a round trip rejects "20150231T..." and the like.
  if (civil.year() != *year || civil.month() != *month || civil.day() != *day ||
      civil.hour() != *hour || civil.minute() != *minute || civil.second() != *second) {
    return std::nullopt;
  }
  return absl::FromCivil(civil, absl::UTCTimeZone());
}

absl::StatusOr<SigV4Authorization> parse_sigv4_authorization(std::string_view value) {
  value = trim(value);
  size_t space = value.find(' ');
  std::string_view algorithm = value.substr(0, space);
  if (algorithm != kSigV4Algorithm) {
    return aws_error(
        "IncompleteSignature",
        fmt::format("Unsupported AWS 'algorithm': '{}'. Only AWS4-HMAC-SHA256 is supported.",
                    algorithm));
  }
  std::string_view rest =
      space == std::string_view::npos ? std::string_view() : value.substr(space + 1);
  std::optional<std::string> credential, signed_headers, signature;
  for (absl::string_view part : absl::StrSplit(to_absl(rest), ',')) {
    std::string_view p = trim(to_std(part));
    size_t eq = p.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view k = p.substr(0, eq);
    std::string v(p.substr(eq + 1));
    if (k == "Credential") credential = v;
    if (k == "SignedHeaders") signed_headers = v;
    if (k == "Signature") signature = v;
  }
  std::string missing;
  if (!credential) missing += "Authorization header requires 'Credential' parameter. ";
  if (!signed_headers) missing += "Authorization header requires 'SignedHeaders' parameter. ";
  if (!signature) missing += "Authorization header requires 'Signature' parameter. ";
  if (!missing.empty()) {
    return aws_error("IncompleteSignature", fmt::format("{}Authorization={}", missing, value));
  }
  std::vector<std::string> scope = absl::StrSplit(*credential, '/');
  if (scope.size() != 5 || scope[0].empty()) {
    return aws_error("IncompleteSignature",
                     fmt::format("Credential must have exactly 5 slash-delimited elements, e.g. "
                                 "keyid/date/region/service/term, got '{}'",
                                 *credential));
  }
  SigV4Authorization auth;
  auth.access_key_id = scope[0];
  auth.date = scope[1];
  auth.region = scope[2];
  auth.service = scope[3];
  auth.terminator = scope[4];
  auth.signed_headers = absl::StrSplit(*signed_headers, ';', absl::SkipEmpty());
  auth.signature = *signature;
  if (auth.signed_headers.empty()) {
    return aws_error("IncompleteSignature",
                     "Authorization header requires 'SignedHeaders' parameter.");
  }
  return auth;
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return hex_encode(std::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

absl::StatusOr<std::string> sigv4_canonical_request(const SigV4Request& request,
                                                    const std::vector<std::string>& signed_headers,
                                                    std::string_view payload_hash) {
  absl::StatusOr<std::string> query = canonical_query(request.raw_query);
  if (!query.ok()) return query.status();
  std::string out = request.method;
  out += '\n';
  out += uri_encode(normalize_path(request.raw_path), /*keep_slash=*/true);
  out += '\n';
  out += *query;
  out += '\n';
  for (const std::string& name : signed_headers) {
    std::vector<std::string> values;
    for (const auto& [k, v] : request.headers) {
      if (absl::EqualsIgnoreCase(to_absl(k), name)) values.push_back(canonical_header_value(v));
    }
    out += absl::AsciiStrToLower(name);
    out += ':';
    out += absl::StrJoin(values, ",");
    out += '\n';
  }
  out += '\n';
  out += absl::StrJoin(signed_headers, ";");
  out += '\n';
  out.append(payload_hash);
  return out;
}

std::string sigv4_string_to_sign(std::string_view amz_date, std::string_view scope,
                                 std::string_view canonical_request) {
  return fmt::format("{}\n{}\n{}\n{}", kSigV4Algorithm, amz_date, scope,
                     sha256_hex(canonical_request));
}

std::string sigv4_signing_key(std::string_view secret, std::string_view date,
                              std::string_view region, std::string_view service) {
  std::string k_date = hmac_sha256("AWS4" + std::string(secret), date);
  std::string k_region = hmac_sha256(k_date, region);
  std::string k_service = hmac_sha256(k_region, service);
  return hmac_sha256(k_service, "aws4_request");
}

std::string sigv4_signature(std::string_view signing_key, std::string_view string_to_sign) {
  return hex_encode(hmac_sha256(signing_key, string_to_sign));
}

SigV4Verifier::SigV4Verifier(std::string service, const Clock& clock, absl::Duration max_skew)
    : service_(std::move(service)), clock_(clock), max_skew_(max_skew) {}

absl::StatusOr<SigV4Identity> SigV4Verifier::verify(const SigV4Request& request,
                                                    const SecretLookup& lookup) const {
  std::optional<std::string_view> header = request.header("Authorization");
  if (!header.has_value()) {
    return aws_error("MissingAuthenticationToken", "Request is missing Authentication Token");
  }
  absl::StatusOr<SigV4Authorization> auth = parse_sigv4_authorization(*header);
  if (!auth.ok()) return auth.status();

  std::optional<std::string_view> amz_date = request.header("X-Amz-Date");
  if (!amz_date.has_value()) {
    return aws_error(
        "IncompleteSignature",
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  }
  std::optional<absl::Time> parsed_date = parse_amz_date(*amz_date);
  if (!parsed_date.has_value()) {
    return aws_error("IncompleteSignature",
                     fmt::format("Date must be in ISO-8601 'basic format'. Got '{}'.", *amz_date));
  }
  const absl::Time signed_at = *parsed_date;
  const absl::Time now = clock_.now();
  if (signed_at < now - max_skew_) {
    return signature_mismatch(fmt::format(
        "Signature expired: {} is now earlier than {} ({} - {} min.)", *amz_date,
        format_amz_date(now - max_skew_), format_amz_date(now), absl::ToInt64Minutes(max_skew_)));
  }
  if (signed_at > now + max_skew_) {
    return signature_mismatch(fmt::format(
        "Signature not yet current: {} is still later than {} ({} + {} min.)", *amz_date,
        format_amz_date(now + max_skew_), format_amz_date(now), absl::ToInt64Minutes(max_skew_)));
  }
  if (auth->date != amz_date->substr(0, 8)) {
    return signature_mismatch(
        fmt::format("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                    "date from HTTP: '{}' != "
                    "'{}', from '{}'.",
                    auth->date, amz_date->substr(0, 8), *amz_date));
  }
  if (auth->service != service_) {
    return signature_mismatch(
        fmt::format("Credential should be scoped to correct service: '{}'. ", service_));
  }
  if (auth->terminator != "aws4_request") {
    return signature_mismatch(fmt::format(
        "Credential should be scoped with a valid terminator: 'aws4_request', not '{}'.",
        auth->terminator));
  }
  if (auth->region.empty()) {
    return signature_mismatch("Credential should be scoped to a valid region. ");
  }
  if (std::find(auth->signed_headers.begin(), auth->signed_headers.end(), "host") ==
      auth->signed_headers.end()) {
    return signature_mismatch(
        "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }

  std::optional<SigV4Secret> secret = lookup(auth->access_key_id);
  if (!secret.has_value()) {
    return aws_error("InvalidClientTokenId",
                     "The security token included in the request is invalid.");
  }
  if (!secret->session_token.empty()) {
    std::optional<std::string_view> token = request.header("X-Amz-Security-Token");
    if (!token.has_value() || *token != secret->session_token) {
      return aws_error("InvalidClientTokenId",
                       "The security token included in the request is invalid.");
    }
  }
  if (secret->expiration.has_value() && now >= *secret->expiration) {
    return aws_error("ExpiredToken", "The security token included in the request is expired");
  }

  std::string body_hash = sha256_hex(request.body);
  std::string payload_hash = body_hash;
  if (std::optional<std::string_view> declared = request.header("X-Amz-Content-SHA256")) {
    if (*declared != kUnsignedPayload && *declared != body_hash) {
      return aws_error(
          "XAmzContentSHA256Mismatch",
          "The provided 'x-amz-content-sha256' header does not match what was computed.");
    }
    payload_hash = std::string(*declared);
  }
  absl::StatusOr<std::string> canonical =
      sigv4_canonical_request(request, auth->signed_headers, payload_hash);
  if (!canonical.ok()) return canonical.status();
  std::string expected = sigv4_signature(
      sigv4_signing_key(secret->secret_access_key, auth->date, auth->region, auth->service),
      sigv4_string_to_sign(*amz_date, auth->scope(), *canonical));
  if (expected.size() != auth->signature.size() ||
      CRYPTO_memcmp(expected.data(), auth->signature.data(), expected.size()) != 0) {
    return signature_mismatch();
  }
  return SigV4Identity{auth->access_key_id, auth->region};
}

absl::Status sign_sigv4(SigV4Request& request, const SigV4Credentials& credentials,
                        std::string_view region, std::string_view service, absl::Time now) {
  if (!request.header("Host").has_value()) {
    return absl::InvalidArgumentError("sign_sigv4: the request has no Host header");
  }
  std::string amz_date = format_amz_date(now);
  request.headers.emplace_back("X-Amz-Date", amz_date);
  if (!credentials.session_token.empty()) {
    request.headers.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  std::vector<std::string> signed_headers;
  for (const auto& [k, v] : request.headers) {
    std::string name = absl::AsciiStrToLower(k);
    if (name == "host" || name == "content-type" || name.starts_with("x-amz-"))
      signed_headers.push_back(name);
  }
  std::sort(signed_headers.begin(), signed_headers.end());
  signed_headers.erase(std::unique(signed_headers.begin(), signed_headers.end()),
                       signed_headers.end());
  std::string payload_hash(request.header("X-Amz-Content-SHA256").value_or(""));
  if (payload_hash.empty()) payload_hash = sha256_hex(request.body);
  absl::StatusOr<std::string> canonical =
      sigv4_canonical_request(request, signed_headers, payload_hash);
  if (!canonical.ok()) return canonical.status();
  std::string date = amz_date.substr(0, 8);
  std::string scope = fmt::format("{}/{}/{}/aws4_request", date, region, service);
  std::string signature =
      sigv4_signature(sigv4_signing_key(credentials.secret_access_key, date, region, service),
                      sigv4_string_to_sign(amz_date, scope, *canonical));
  request.headers.emplace_back(
      "Authorization",
      fmt::format("{} Credential={}/{}, SignedHeaders={}, Signature={}", kSigV4Algorithm,
                  credentials.access_key_id, scope, absl::StrJoin(signed_headers, ";"), signature));
  return absl::OkStatus();
}

}  // namespace wims::aws
