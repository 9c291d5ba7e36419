#include "cli/aws_stack.h"

#include <boost/json.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "aws/aws_error.h"
#include "aws/oidc_issuer_url.h"
#include "common/random.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "metadata/container_credentials_handler.h"

namespace wims::cli {
namespace {

std::string form_value(std::string_view v) {
  return boost::urls::encode(v, boost::urls::unreserved_chars);
}

// The admin key pair of the local IAM, created once and kept in the state store.
absl::Status load_admin_keys(store::StateStore& store, AwsStack& stack) {
  WIMS_ASSIGN_OR_RETURN(std::optional<std::string> id, store.get("aws_admin", "access_key_id"));
  WIMS_ASSIGN_OR_RETURN(std::optional<std::string> secret,
                        store.get("aws_admin", "secret_access_key"));
  if (!id || !secret) {
    id = "AKIA" + random_upper_id(16);
    secret = random_token(30).substr(0, 40);
    WIMS_RETURN_IF_ERROR(store.put("aws_admin", "access_key_id", *id));
    WIMS_RETURN_IF_ERROR(store.put("aws_admin", "secret_access_key", *secret));
  }
  stack.admin_access_key_id = *id;
  stack.admin_secret_access_key = *secret;
  return absl::OkStatus();
}

// Runs one IAM action as the admin; an "already exists" answer is success (the seed is idempotent).
absl::Status iam_call(aws::IamService& iam, std::string_view action, std::string form) {
  WIMS_ASSIGN_OR_RETURN(aws::QueryParams params, aws::QueryParams::parse(form));
  auto result = iam.call(action, params, "seed");
  if (!result.ok() && result.status().message().find("already exists") == std::string_view::npos &&
      result.status().message().find("EntityAlreadyExists") == std::string_view::npos) {
    return result.status();
  }
  return absl::OkStatus();
}

// Seeds the providers of the cluster issuer(s) and the roles the world names, trusting every one of
// them.
absl::Status seed_world(AwsStack& stack, const config::World& world,
                        const std::vector<std::string>& issuers) {
  const std::string account = world.project.aws_account_id;
  // (provider host/path, provider ARN) per issuer.
  std::vector<std::pair<std::string, std::string>> providers;
  for (const std::string& issuer : issuers) {
    // The provider key IAM uses: the issuer without its scheme (http only on loopback, as the local
    // STS allows).
    std::optional<std::string> provider_url = aws::oidc_provider_url(issuer);
    if (!provider_url) {
      return absl::InvalidArgumentError("cluster issuer " + issuer +
                                        " cannot be an AWS OIDC provider URL");
    }
    const std::string provider_arn = "arn:aws:iam::" + account + ":oidc-provider/" + *provider_url;
    providers.emplace_back(*provider_url, provider_arn);
    auto existing = stack.repository->find_oidc_provider(provider_arn);
    if (existing.ok() && !existing->has_value()) {
      WIMS_RETURN_IF_ERROR(
          iam_call(*stack.iam, "CreateOpenIDConnectProvider",
                   "Url=" + form_value(issuer) + "&ClientIDList.member.1=sts.amazonaws.com" +
                       "&ClientIDList.member.2=" + metadata::kEksPodIdentityAudience +
                       "&ThumbprintList.member.1=" + std::string(40, '0')));
    }
  }
  // role ARN -> the service accounts ("system:serviceaccount:NS:NAME") that name it.
  std::map<std::string, std::set<std::string>> roles;
  for (const auto& sa : world.service_accounts) {
    if (auto it = sa.annotations.find(config::kEksRoleArnAnnotation); it != sa.annotations.end()) {
      roles[it->second].insert("system:serviceaccount:" + sa.namespace_name + ":" + sa.name);
    }
  }
  for (const auto& pod : world.pods) {
    auto label = pod.labels.find(config::kImdsEmulatorEnabledLabel);
    auto arn = pod.annotations.find(config::kImdsEmulatorRoleArnAnnotation);
    if (label != pod.labels.end() && label->second == "True" && arn != pod.annotations.end()) {
      roles[arn->second].insert("system:serviceaccount:" + pod.namespace_name + ":" +
                                pod.service_account_name);
    }
  }
  for (const auto& [arn, subjects] : roles) {
    // arn:aws:iam::ACCOUNT:role/PATH/NAME
    std::vector<std::string> parts = absl::StrSplit(arn, ':');
    if (parts.size() != 6 || parts[4] != account)
      continue;                                 // another account's role: not ours to create
    std::string resource = parts[5].substr(5);  // PATH/NAME
    size_t slash = resource.rfind('/');
    std::string name = slash == std::string::npos ? resource : resource.substr(slash + 1);
    std::string path = slash == std::string::npos ? "/" : "/" + resource.substr(0, slash + 1);
    auto role = stack.repository->find_role(name);
    if (!role.ok() || role->has_value()) continue;
    boost::json::array subs;
    for (const auto& s : subjects) subs.emplace_back(s);
    boost::json::array statements;
    for (const auto& [host_path, provider_arn] : providers) {
      boost::json::object condition{
          {"StringEquals", boost::json::object{{host_path + ":aud", "sts.amazonaws.com"},
                                               {host_path + ":sub", subs}}}};
      statements.push_back(
          boost::json::object{{"Effect", "Allow"},
                              {"Principal", boost::json::object{{"Federated", provider_arn}}},
                              {"Action", "sts:AssumeRoleWithWebIdentity"},
                              {"Condition", condition}});
    }
    boost::json::object trust{{"Version", "2012-10-17"}, {"Statement", statements}};
    WIMS_RETURN_IF_ERROR(iam_call(
        *stack.iam, "CreateRole",
        "RoleName=" + form_value(name) + "&Path=" + form_value(path) +
            "&MaxSessionDuration=43200&Description=" + form_value("seeded by wims from the world") +
            "&AssumeRolePolicyDocument=" + form_value(boost::json::serialize(trust))));
  }
  return absl::OkStatus();
}

// Tokens of one issuer checked against a cloud::IssuerKeySource (the World's external cluster
// issuer and its configured JWKS); other issuers go to `fallback`.
class IssuerKeySourceTokenVerifier final : public aws::OidcTokenVerifier {
 public:
  IssuerKeySourceTokenVerifier(std::string issuer_url, const cloud::IssuerKeySource& keys,
                               const Clock& clock, aws::OidcTokenVerifier& fallback)
      : issuer_url_(jose::without_trailing_slash(std::move(issuer_url))),
        keys_(keys),
        clock_(clock),
        fallback_(fallback) {}

  boost::asio::awaitable<absl::Status> verify_signature(jose::DecodedJwt jwt,
                                                        std::string issuer_url) override {
    if (jose::without_trailing_slash(issuer_url) != issuer_url_) {
      co_return co_await fallback_.verify_signature(std::move(jwt), std::move(issuer_url));
    }
    std::string kid;
    if (const boost::json::value* v = jwt.header.if_contains("kid"); v && v->is_string()) {
      kid = std::string(v->get_string());
    }
    absl::StatusOr<jose::JwkSet> jwks = co_await keys_.keys(issuer_url_, kid, clock_.now());
    if (!jwks.ok()) {
      co_return aws::aws_error(
          "IDPCommunicationError",
          absl::StrCat("Couldn't retrieve verification key from your identity provider ",
                       issuer_url_, ": ", jwks.status().message()));
    }
    co_return aws::verify_with_jwks(jwt, *jwks);
  }

 private:
  const std::string issuer_url_;
  const cloud::IssuerKeySource& keys_;
  const Clock& clock_;
  aws::OidcTokenVerifier& fallback_;
};

}  // namespace

void AwsStack::stop() {
  if (repository) repository->stop();
}

absl::StatusOr<std::unique_ptr<AwsStack>> open_aws_stack(
    store::StateStore& store, const config::World& world, const cloud::SigningKeyRing& ring,
    const Clock& clock, std::string embedded_issuer_url,
    const cloud::IssuerKeySource* external_issuer_keys) {
  if (embedded_issuer_url.empty()) embedded_issuer_url = world.cluster.issuer_url;
  auto stack = std::make_unique<AwsStack>();
  WIMS_RETURN_IF_ERROR(load_admin_keys(store, *stack));
  WIMS_ASSIGN_OR_RETURN(stack->repository,
                        aws::PersistentAwsStateRepository::open(store, clock.now()));
  std::map<std::string, aws::KeySourceTokenVerifier::KeySource> issuers;
  issuers[embedded_issuer_url] = [&ring, &clock] { return ring.verification_keys(clock.now()); };
  stack->http_client = std::make_unique<http::Client>();
  stack->external_verifier =
      std::make_unique<aws::HttpJwksTokenVerifier>(*stack->http_client, clock);
  aws::OidcTokenVerifier* fallback = stack->external_verifier.get();
  std::vector<std::string> seeded_issuers{world.cluster.issuer_url};
  if (external_issuer_keys != nullptr && embedded_issuer_url != world.cluster.issuer_url) {
    stack->cluster_verifier = std::make_unique<IssuerKeySourceTokenVerifier>(
        world.cluster.issuer_url, *external_issuer_keys, clock, *stack->external_verifier);
    fallback = stack->cluster_verifier.get();
    seeded_issuers.push_back(embedded_issuer_url);
  }
  stack->verifier = std::make_unique<aws::KeySourceTokenVerifier>(std::move(issuers), fallback);
  const std::string account = world.project.aws_account_id;
  stack->iam = std::make_unique<aws::IamService>(*stack->repository, clock, account);
  stack->sts =
      std::make_unique<aws::StsService>(*stack->repository, *stack->verifier, clock, account);
  stack->handler = std::make_unique<aws::AwsQueryHandler>(
      *stack->iam, *stack->sts, clock,
      aws::AwsQueryHandlerOptions{.admin_access_key_id = stack->admin_access_key_id,
                                  .admin_secret_access_key = stack->admin_secret_access_key});
  WIMS_RETURN_IF_ERROR(seed_world(*stack, world, seeded_issuers));
  return stack;
}

boost::asio::awaitable<absl::StatusOr<metadata::ReviewedServiceAccountToken>>
IssuerTokenReviewer::review(std::string token, std::vector<std::string> audiences) {
  cloud::TokenReviewResult result = issuer_.review(token, audiences);
  if (!result.authenticated) co_return absl::UnauthenticatedError(result.error);
  std::vector<std::string> parts = absl::StrSplit(result.user.username, ':');
  if (parts.size() != 4) co_return absl::UnauthenticatedError("not a service-account token");
  metadata::ReviewedServiceAccountToken reviewed{.namespace_name = parts[2],
                                                 .service_account = parts[3]};
  if (auto it = result.user.extra.find("authentication.kubernetes.io/pod-name");
      it != result.user.extra.end() && !it->second.empty()) {
    reviewed.pod_name = it->second.front();
  }
  if (auto it = result.user.extra.find("authentication.kubernetes.io/pod-uid");
      it != result.user.extra.end() && !it->second.empty()) {
    reviewed.pod_uid = it->second.front();
  }
  co_return reviewed;
}

}  // namespace wims::cli
