#include "aws/sts_service.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>

#include "absl/strings/numbers.h"
#include "aws/oidc_issuer_url.h"
#include "aws/policy_document.h"
#include "aws/policy_evaluator.h"
#include "common/random.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "fmt/format.h"

namespace wims::aws {
namespace {

constexpr int64_t kMinDuration = 900;
constexpr int64_t kMaxDuration = 43200;
constexpr int64_t kDefaultDuration = 3600;

std::string issuer_without_trailing_slash(std::string issuer) {
  while (!issuer.empty() && issuer.back() == '/') issuer.pop_back();
  return issuer;
}

absl::Status access_denied() {
  return aws_error("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity");
}

bool is_session_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '+' || c == '=' ||
         c == ',' || c == '.' || c == '@' || c == '-';
}

absl::Status check_length(std::string_view field, std::string_view value, size_t min, size_t max) {
  if (value.size() < min) {
    return validation_error(
        field, value, fmt::format("Member must have length greater than or equal to {}", min));
  }
  if (value.size() > max) {
    return validation_error(field, value,
                            fmt::format("Member must have length less than or equal to {}", max));
  }
  return absl::OkStatus();
}

// String or array-of-strings claim values as condition-key values; other types are not exposed.
std::optional<std::vector<std::string>> claim_values(const boost::json::object& claims,
                                                     std::string_view name) {
  const boost::json::value* v =
      claims.if_contains(boost::json::string_view(name.data(), name.size()));
  if (v == nullptr) return std::nullopt;
  std::vector<std::string> out;
  if (v->is_string()) {
    out.emplace_back(v->get_string());
  } else if (v->is_array()) {
    for (const auto& item : v->get_array()) {
      if (item.is_string()) out.emplace_back(item.get_string());
    }
  } else {
    return std::nullopt;
  }
  return out;
}

}  // namespace

StsService::StsService(AwsStateRepository& repository, OidcTokenVerifier& verifier,
                       const Clock& clock, std::string account_id)
    : repository_(repository),
      verifier_(verifier),
      clock_(clock),
      account_id_(std::move(account_id)) {}

bool StsService::handles(std::string_view action) {
  return action == "AssumeRoleWithWebIdentity" || action == "GetCallerIdentity";
}

bool StsService::is_unsigned(std::string_view action) {
  return action == "AssumeRoleWithWebIdentity";
}

boost::asio::awaitable<absl::StatusOr<std::string>> StsService::assume_role_with_web_identity(
    QueryParams params, std::string request_id) {
  // ---- parameters ----
  WIMS_CO_ASSIGN_OR_RETURN(std::string role_arn, params.required("RoleArn"));
  WIMS_CO_RETURN_IF_ERROR(check_length("roleArn", role_arn, 20, 2048));
  WIMS_CO_ASSIGN_OR_RETURN(std::string session, params.required("RoleSessionName"));
  WIMS_CO_RETURN_IF_ERROR(check_length("roleSessionName", session, 2, 64));
  if (!std::all_of(session.begin(), session.end(), is_session_name_char)) {
    co_return validation_error("roleSessionName", session,
                               "Member must satisfy regular expression pattern: [\\w+=,.@-]*");
  }
  WIMS_CO_ASSIGN_OR_RETURN(std::string token, params.required("WebIdentityToken"));
  if (token.size() < 4 || token.size() > 20000) {
    co_return validation_error("webIdentityToken", "***",
                               "Member must have length between 4 and 20000");
  }
  int64_t duration = kDefaultDuration;
  if (std::optional<std::string> d = params.get("DurationSeconds")) {
    if (!absl::SimpleAtoi(to_absl(*d), &duration)) {
      co_return validation_error("durationSeconds", *d, "Member must be an integer");
    }
    if (duration < kMinDuration) {
      co_return validation_error("durationSeconds", *d,
                                 "Member must have value greater than or equal to 900");
    }
    if (duration > kMaxDuration) {
      co_return validation_error("durationSeconds", *d,
                                 "Member must have value less than or equal to 43200");
    }
  }
  if (std::optional<std::string> policy = params.get("Policy")) {
    WIMS_CO_RETURN_IF_ERROR(check_length("policy", *policy, 1, 2048));
    WIMS_CO_RETURN_IF_ERROR(parse_policy_document(*policy, PolicyKind::kIdentity).status());
  }
  if (params.members("PolicyArns").size() > 10) {
    co_return validation_error("policyArns", "[...]",
                               "Member must have length less than or equal to 10");
  }
  if (std::optional<std::string> provider_id = params.get("ProviderId")) {
    WIMS_CO_RETURN_IF_ERROR(check_length("providerId", *provider_id, 4, 2048));
  }

  // ---- the token ----
  absl::StatusOr<jose::DecodedJwt> decoded = jose::decode_jwt(token);
  if (!decoded.ok()) {
    co_return aws_error(
        "InvalidIdentityToken",
        "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access "
        "Token)");
  }
  absl::StatusOr<std::string> issuer = jose::string_claim(decoded->claims, "iss");
  if (!issuer.ok())
    co_return aws_error("InvalidIdentityToken", "The ID Token is missing the iss claim.");
  // https issuers, and http ones on loopback (wims's embedded issuer): aws/oidc_issuer_url.h.
  std::optional<std::string> provider_url = oidc_provider_url(*issuer);
  std::optional<OidcProviderRecord> provider;
  if (provider_url.has_value()) {
    WIMS_CO_ASSIGN_OR_RETURN(auto providers, repository_.list_oidc_providers());
    for (OidcProviderRecord& p : providers) {
      if (p.url == *provider_url) provider = std::move(p);
    }
  }
  if (!provider.has_value()) {
    co_return aws_error(
        "InvalidIdentityToken",
        fmt::format("No OpenIDConnect provider found in your account for {}", *issuer));
  }
  jose::DecodedJwt jwt = *decoded;
  absl::Status signature =
      co_await verifier_.verify_signature(std::move(jwt), issuer_without_trailing_slash(*issuer));
  if (!signature.ok()) {
    AwsErrorInfo info = aws_error_info(signature);
    if (info.code == "InternalFailure" || info.code == "ValidationError") {
      co_return aws_error("InvalidIdentityToken", to_std(signature.message()));
    }
    co_return signature;
  }
  absl::StatusOr<std::vector<std::string>> audiences = jose::audience_claim(decoded->claims);
  std::string audience;
  if (audiences.ok()) {
    for (const std::string& aud : *audiences) {
      if (std::find(provider->client_ids.begin(), provider->client_ids.end(), aud) !=
          provider->client_ids.end()) {
        audience = aud;
        break;
      }
    }
  }
  if (audience.empty()) co_return aws_error("InvalidIdentityToken", "Incorrect token audience");
  absl::StatusOr<int64_t> exp = jose::int64_claim(decoded->claims, "exp");
  if (!exp.ok())
    co_return aws_error("InvalidIdentityToken", "The ID Token is missing the exp claim.");
  const absl::Time now = clock_.now();
  if (absl::FromUnixSeconds(*exp) <= now) {
    co_return aws_error(
        "ExpiredTokenException",
        fmt::format(
            "Token expired: current date/time {} must be before the expiration date/time {}",
            absl::ToUnixSeconds(now), *exp));
  }
  std::string subject = jose::string_claim(decoded->claims, "sub").value_or("");

  // ---- the role and its trust policy ----
  const std::string role_prefix = fmt::format("arn:aws:iam::{}:role/", account_id_);
  if (!role_arn.starts_with("arn:aws:iam::") || role_arn.find(":role/") == std::string::npos) {
    co_return validation_error("roleArn", role_arn, "Member must be a role ARN");
  }
  if (!role_arn.starts_with(role_prefix)) co_return access_denied();
  std::string role_name = role_arn.substr(role_arn.rfind('/') + 1);
  WIMS_CO_ASSIGN_OR_RETURN(std::optional<RoleRecord> role, repository_.find_role(role_name));
  if (!role.has_value() || role->arn != role_arn) co_return access_denied();
  absl::StatusOr<PolicyDocument> trust =
      parse_policy_document(role->assume_role_policy_document, PolicyKind::kTrust);
  if (!trust.ok()) co_return access_denied();

  RequestContext ctx;
  ctx.principal = RequestPrincipal{"Federated", provider->arn};
  ctx.action = "sts:AssumeRoleWithWebIdentity";
  ctx.set(provider->url + ":aud", {audience});
  if (!subject.empty()) ctx.set(provider->url + ":sub", {subject});
  for (std::string_view claim : {"amr", "azp", "oaud", "email"}) {
    if (auto values = claim_values(decoded->claims, claim))
      ctx.set(provider->url + ":" + std::string(claim), *values);
  }
  ctx.set("sts:RoleSessionName", {session});
  ctx.set("aws:FederatedProvider", {provider->arn});
  if (evaluate_policies({{role->arn, &*trust}}, ctx).decision != EvalDecision::kAllowed)
    co_return access_denied();
  if (duration > role->max_session_duration) {
    co_return aws_error(
        "ValidationError",
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.");
  }

  // ---- credentials ----
  SessionCredentialsRecord creds;
  creds.access_key_id = "ASIA" + random_upper_id(16);
  creds.secret_access_key = random_token(30);
  creds.session_token = "IQoJb3JpZ2luX2VjE" + random_token(192);
  creds.expiration = now + absl::Seconds(duration);
  creds.assumed_role_arn =
      fmt::format("arn:aws:sts::{}:assumed-role/{}/{}", account_id_, role->name, session);
  creds.assumed_role_id = role->role_id + ":" + session;
  creds.account_id = account_id_;
  // Expired sessions stay a day so their use is answered ExpiredToken rather than
  // InvalidClientTokenId.
  WIMS_CO_RETURN_IF_ERROR(
      repository_.erase_sessions_expired_before(now - absl::Hours(24)).status());
  WIMS_CO_RETURN_IF_ERROR(repository_.put_session(creds));

  std::string xml = xml_element("SubjectFromWebIdentityToken", subject);
  xml += xml_element("Audience", audience);
  xml += "<AssumedRoleUser>" + xml_element("Arn", creds.assumed_role_arn) +
         xml_element("AssumedRoleId", creds.assumed_role_id) + "</AssumedRoleUser>";
  xml += "<Credentials>" + xml_element("AccessKeyId", creds.access_key_id) +
         xml_element("SecretAccessKey", creds.secret_access_key) +
         xml_element("SessionToken", creds.session_token) +
         xml_element("Expiration", xml_timestamp(creds.expiration)) + "</Credentials>";
  xml += xml_element("Provider", provider->arn);
  co_return query_response_xml("AssumeRoleWithWebIdentity", kStsXmlns, xml, request_id);
}

absl::StatusOr<std::string> StsService::get_caller_identity(const SigV4Identity& caller,
                                                            std::string_view admin_access_key_id,
                                                            std::string_view request_id) {
  std::string arn, user_id;
  if (!admin_access_key_id.empty() && caller.access_key_id == admin_access_key_id) {
    arn = fmt::format("arn:aws:iam::{}:root", account_id_);
    user_id = account_id_;
  } else {
    WIMS_ASSIGN_OR_RETURN(auto session, repository_.find_session(caller.access_key_id));
    if (!session.has_value()) {
      return aws_error("InvalidClientTokenId",
                       "The security token included in the request is invalid.");
    }
    arn = session->assumed_role_arn;
    user_id = session->assumed_role_id;
  }
  std::string xml = xml_element("Arn", arn) + xml_element("UserId", user_id) +
                    xml_element("Account", account_id_);
  return query_response_xml("GetCallerIdentity", kStsXmlns, xml, request_id);
}

std::optional<SigV4Secret> StsService::signing_secret(std::string_view access_key_id) {
  absl::StatusOr<std::optional<SessionCredentialsRecord>> session =
      repository_.find_session(access_key_id);
  if (!session.ok() || !session->has_value()) return std::nullopt;
  const SessionCredentialsRecord& s = **session;
  return SigV4Secret{s.secret_access_key, s.session_token, s.expiration};
}

}  // namespace wims::aws
