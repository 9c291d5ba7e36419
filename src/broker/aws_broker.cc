#include "broker/aws_broker.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdlib>
#include <utility>

#include "broker/xml_reader.h"
#include "common/encoding.h"
#include "common/status_macros.h"

namespace wims::broker {
namespace {

constexpr char kStsService[] = "aws-sts";
// STS error bodies are quoted into our own errors; keep them short.
constexpr size_t kMaxQuotedText = 256;

bool session_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '+' || c == '=' || c == ',' || c == '.' || c == '@' || c == '-';
}

std::string sha256_hex_prefix(std::string_view text, size_t hex_digits) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    // SHA-256 is always in OpenSSL 3's default provider; failing here is a broken install.
    fmt::print(stderr, "wims: EVP_Digest(SHA-256) failed\n");
    std::abort();
  }
  return hex_encode(std::string_view(reinterpret_cast<const char*>(digest), length))
      .substr(0, hex_digits);
}

// The role ARN goes into a form field, so any text is safe to send; this only refuses what STS
// would refuse anyway (RoleArn is 20..2048 characters), with a message that names the annotation.
absl::Status check_role_arn(std::string_view arn) {
  if (arn.size() < 20 || arn.size() > 2048 || arn.substr(0, 4) != "arn:" ||
      arn.find(":role/") == std::string_view::npos || aws_role_name(arn).empty()) {
    return absl::FailedPreconditionError(
        fmt::format("\"{}\" is not an IAM role ARN (arn:PARTITION:iam::ACCOUNT:role/NAME)",
                    arn.substr(0, kMaxQuotedText)));
  }
  return absl::OkStatus();
}

// The cache holds one string per entry; the credential set travels as a small JSON object.
std::string encode_entry(const AwsCredentials& credentials) {
  boost::json::object object{{"AccessKeyId", credentials.access_key_id},
                             {"SecretAccessKey", credentials.secret_access_key},
                             {"SessionToken", credentials.session_token},
                             {"Arn", credentials.assumed_role_arn},
                             {"LastUpdated", absl::ToUnixNanos(credentials.last_updated)}};
  return boost::json::serialize(object);
}

absl::StatusOr<AwsCredentials> decode_entry(const CachedCredential& entry) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(entry.value, ec);
  if (ec || !value.is_object()) return absl::InternalError("aws broker: corrupt cache entry");
  const boost::json::object& object = value.get_object();
  auto text = [&](std::string_view key) -> std::string {
    const auto* member = object.if_contains(key);
    return member != nullptr && member->is_string() ? std::string(member->get_string())
                                                    : std::string();
  };
  AwsCredentials credentials;
  credentials.access_key_id = text("AccessKeyId");
  credentials.secret_access_key = text("SecretAccessKey");
  credentials.session_token = text("SessionToken");
  credentials.assumed_role_arn = text("Arn");
  const auto* updated = object.if_contains("LastUpdated");
  if (updated == nullptr || !updated->is_int64())
    return absl::InternalError("aws broker: corrupt cache entry");
  credentials.last_updated = absl::FromUnixNanos(updated->get_int64());
  credentials.expiration = entry.expiry;
  return credentials;
}

std::string required_text(const XmlElement& result, std::initializer_list<std::string_view> path,
                          std::string_view label, absl::Status& missing) {
  const XmlElement* element = result.find(path);
  if (element == nullptr || element->text.empty()) {
    if (missing.ok()) {
      missing = absl::InternalError(
          fmt::format("sts: AssumeRoleWithWebIdentity answer has no {}", label));
    }
    return {};
  }
  return element->text;
}

}  // namespace

std::string aws_regional_sts_url(std::string_view region) {
  if (region.empty()) return kAwsGlobalStsUrl;
  return fmt::format("https://sts.{}.amazonaws.com/", region);
}

std::string aws_role_session_name(std::string_view namespace_name, std::string_view pod_name) {
  const std::string full = fmt::format("wims-{}-{}", namespace_name, pod_name);
  std::string name;
  name.reserve(full.size());
  for (char c : full) name += session_name_char(c) ? c : '-';
  if (name.size() > 64) name = name.substr(0, 55) + "-" + sha256_hex_prefix(full, 8);
  return name;
}

absl::Status aws_sts_error(int http_status, std::string_view body) {
  std::string code;
  std::string message;
  XmlLimits limits;
  if (absl::StatusOr<XmlElement> root = parse_xml(body, limits); root.ok()) {
    // <ErrorResponse><Error><Code>..</Code><Message>..</Message></Error></ErrorResponse>; some
    // services answer <Response><Errors><Error>..., so look in both places.
    const XmlElement* error = root->child("Error");
    if (error == nullptr) error = root->find({"Errors", "Error"});
    if (error != nullptr) {
      if (const XmlElement* c = error->child("Code")) code = c->text;
      if (const XmlElement* m = error->child("Message")) message = m->text;
    }
  }
  if (code.empty() && message.empty()) message = std::string(body.substr(0, kMaxQuotedText));
  if (message.size() > kMaxQuotedText) message = message.substr(0, kMaxQuotedText);
  const std::string text = code.empty() ? fmt::format("sts: HTTP {}: {}", http_status, message)
                                        : fmt::format("sts: {}: {}", code, message);
  if (http_status >= 500) return absl::UnavailableError(text);
  if (http_status == 429 || code == "Throttling" || code == "ThrottlingException") {
    return absl::ResourceExhaustedError(text);
  }
  if (code == "IDPCommunicationError") return absl::UnavailableError(text);
  if (code == "AccessDenied" || code == "IDPRejectedClaim")
    return absl::PermissionDeniedError(text);
  if (code == "InvalidIdentityToken" || code == "ExpiredTokenException") {
    return absl::UnauthenticatedError(text);
  }
  if (http_status >= 400) return absl::FailedPreconditionError(text);
  return absl::UnknownError(text);
}

absl::StatusOr<AwsCredentials> parse_assume_role_with_web_identity(std::string_view body,
                                                                   absl::Time last_updated) {
  absl::StatusOr<XmlElement> root = parse_xml(body);
  if (!root.ok()) {
    return absl::InternalError(fmt::format("sts: unreadable AssumeRoleWithWebIdentity answer: {}",
                                           std::string(root.status().message())));
  }
  if (root->name != "AssumeRoleWithWebIdentityResponse") {
    return absl::InternalError(
        fmt::format("sts: expected AssumeRoleWithWebIdentityResponse, got <{}>", root->name));
  }
  const XmlElement* result = root->child("AssumeRoleWithWebIdentityResult");
  if (result == nullptr)
    return absl::InternalError("sts: answer has no AssumeRoleWithWebIdentityResult");
  absl::Status missing;
  AwsCredentials credentials;
  credentials.access_key_id =
      required_text(*result, {"Credentials", "AccessKeyId"}, "AccessKeyId", missing);
  credentials.secret_access_key =
      required_text(*result, {"Credentials", "SecretAccessKey"}, "SecretAccessKey", missing);
  credentials.session_token =
      required_text(*result, {"Credentials", "SessionToken"}, "SessionToken", missing);
  std::string expiration =
      required_text(*result, {"Credentials", "Expiration"}, "Expiration", missing);
  credentials.assumed_role_arn =
      required_text(*result, {"AssumedRoleUser", "Arn"}, "AssumedRoleUser/Arn", missing);
  if (!missing.ok()) return missing;
  absl::StatusOr<absl::Time> expiry = parse_rfc3339(expiration);
  if (!expiry.ok()) {
    return absl::InternalError(
        fmt::format("sts: bad Expiration \"{}\"", expiration.substr(0, kMaxQuotedText)));
  }
  credentials.expiration = *expiry;
  credentials.last_updated = last_updated;
  return credentials;
}

AwsBroker::AwsBroker(AwsBrokerOptions options, KsaTokenSource& ksa_tokens, HttpTransport& transport,
                     const Clock& clock, UpstreamMetrics metrics, TokenCache::RandomSource random)
    : options_(std::move(options)),
      ksa_tokens_(ksa_tokens),
      transport_(transport),
      clock_(clock),
      metrics_(std::move(metrics)),
      cache_(options_.cache, clock, std::move(random)) {}

boost::asio::awaitable<absl::StatusOr<AwsCredentials>> AwsBroker::credentials(
    const Caller& caller) {
  if (!caller.aws_role_arn || caller.aws_role_arn->empty()) {
    co_return absl::NotFoundError(
        fmt::format("pod {}/{} has no AWS role", caller.pod.namespace_name, caller.pod.name));
  }
  std::string role_arn = *caller.aws_role_arn;
  WIMS_CO_RETURN_IF_ERROR(check_role_arn(role_arn));
  // The pod uid is in the key so a re-created pod of the same name never gets its predecessor's
  // session; the role is last so no annotation value can make two keys equal.
  std::string key = token_cache_key(
      fmt::format("aws\n{}\n{}/{}\n{}\n{}", caller.pod.uid, caller.pod.namespace_name,
                  caller.pod.name, caller.service_account.uid, role_arn),
      {});
  // Named, not a temporary inside the co_await expression: GCC 12 destroys such temporaries twice.
  TokenCache::Fetcher fetch = [this, caller, role_arn] { return assume_role(caller, role_arn); };
  absl::StatusOr<CachedCredential> entry = co_await cache_.get(std::move(key), std::move(fetch));
  if (!entry.ok()) co_return entry.status();
  co_return decode_entry(*entry);
}

boost::asio::awaitable<absl::StatusOr<CachedCredential>> AwsBroker::assume_role(
    Caller caller, std::string role_arn) {
  WIMS_CO_ASSIGN_OR_RETURN(std::string web_identity_token,
                           co_await ksa_tokens_.token(caller, options_.audience));
  TransportRequest request;
  request.method = boost::beast::http::verb::post;
  request.url = options_.sts_url;
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
                     {"Accept", "text/xml"}};
  request.body = form_encode({
      {"Action", "AssumeRoleWithWebIdentity"},
      {"Version", "2011-06-15"},
      {"RoleArn", role_arn},
      {"RoleSessionName", aws_role_session_name(caller.pod.namespace_name, caller.pod.name)},
      {"WebIdentityToken", std::move(web_identity_token)},
      {"DurationSeconds", std::to_string(absl::ToInt64Seconds(options_.duration))},
  });
  request.timeout = options_.request_timeout;
  request.body_limit = options_.body_limit;
  const absl::Time sent = clock_.now();
  absl::StatusOr<http::Response> response = co_await transport_.send(std::move(request));
  if (!response.ok()) {
    if (metrics_) metrics_(kStsService, 0);
    co_return absl::UnavailableError(
        fmt::format("sts: {}", std::string(response.status().message())));
  }
  const int status = static_cast<int>(response->result_int());
  if (metrics_) metrics_(kStsService, status);
  if (status < 200 || status >= 300) co_return aws_sts_error(status, response->body());
  WIMS_CO_ASSIGN_OR_RETURN(AwsCredentials credentials,
                           parse_assume_role_with_web_identity(response->body(), sent));
  const absl::Time expiry = credentials.expiration;
  co_return CachedCredential{encode_entry(credentials), expiry};
}

}  // namespace wims::broker
