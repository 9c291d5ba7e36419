#include "cloud/service_account_token_issuer.h"

#include <algorithm>
#include <boost/json/array.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/json_members.h"
#include "common/random.h"
#include "common/status_macros.h"
#include "config/stable_id.h"
#include "jose/jwt.h"

namespace wims::cloud {
namespace {

constexpr char kKubernetesClaim[] = "kubernetes.io";
constexpr char kExtraPrefix[] = "authentication.kubernetes.io/";
// go-jose's Claims.Validate leeway, which kube-apiserver's service-account authenticator inherits.
constexpr absl::Duration kLeeway = absl::Minutes(1);

std::string username(std::string_view ns, std::string_view name) {
  return absl::StrCat("system:serviceaccount:", std::string(ns), ":", std::string(name));
}

// The uid of the (single) node of the World; worlds name nodes but do not give them uids, so derive
// one the way config derives the other Kubernetes uids.
std::string node_uid(const config::Node& node) {
  return config::name_based_uid("node/" + node.name);
}

// Go's %q of a []string: ["a" "b"].
std::string go_quoted(const std::vector<std::string>& values) {
  std::vector<std::string> quoted;
  for (const std::string& v : values) quoted.push_back(absl::StrCat("\"", v, "\""));
  return absl::StrCat("[", absl::StrJoin(quoted, " "), "]");
}

boost::json::object name_uid(std::string_view name, std::string_view uid) {
  // kube's `ref` struct: both fields omitempty.
  boost::json::object o;
  if (!name.empty()) o["name"] = name;
  if (!uid.empty()) o["uid"] = uid;
  return o;
}

TokenReviewResult failure(std::string error) {
  TokenReviewResult result;
  result.error = std::move(error);
  return result;
}

}  // namespace

ServiceAccountTokenIssuer::ServiceAccountTokenIssuer(ServiceAccountTokenIssuerOptions options,
                                                     const SigningKeyRing& ring,
                                                     WorldProvider world, const Clock& clock)
    : options_(std::move(options)), ring_(ring), world_(std::move(world)), clock_(clock) {
  api_audiences_ = options_.api_audiences.empty() ? std::vector<std::string>{options_.issuer_url}
                                                  : options_.api_audiences;
}

absl::StatusOr<IssuedToken> ServiceAccountTokenIssuer::issue(const TokenRequestSpec& spec) const {
  std::shared_ptr<const config::World> world = world_();
  // Order as in token.go Create: service account lookup, defaulting, validation, bound object,
  // expiry.
  const config::ServiceAccount* sa =
      world->find_service_account(spec.namespace_name, spec.service_account);
  if (sa == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("serviceaccounts \"", spec.service_account, "\" not found"));
  }
  std::vector<std::string> audiences = spec.audiences.empty() ? api_audiences_ : spec.audiences;
  int64_t expiration = spec.expiration_seconds.value_or(kDefaultExpirationSeconds);
  auto invalid = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("TokenRequest.authentication.k8s.io \"\" is invalid: spec.expirationSeconds: "
                     "Invalid value: ",
                     expiration, ": ", std::string(why)));
  };
  if (expiration < kMinExpirationSeconds)
    return invalid("may not specify a duration less than 10 minutes");
  if (expiration > kMaxExpirationSeconds)
    return invalid("may not specify a duration larger than 2^32 seconds");

  const config::Pod* pod = nullptr;
  const config::Node* node = nullptr;
  if (spec.bound_object_ref) {
    const BoundObjectRef& ref = *spec.bound_object_ref;
    // schema.FromAPIVersionAndKind: "group/version" or a bare version of the core group.
    std::string group, version = ref.api_version;
    if (size_t slash = ref.api_version.find('/'); slash != std::string::npos) {
      group = ref.api_version.substr(0, slash);
      version = ref.api_version.substr(slash + 1);
    }
    std::string uid;
    if (group.empty() && ref.kind == "Pod") {
      pod = world->find_pod(spec.namespace_name, ref.name);
      if (pod == nullptr)
        return absl::NotFoundError(absl::StrCat("pods \"", ref.name, "\" not found"));
      if (pod->service_account_name != spec.service_account) {
        return absl::FailedPreconditionError(absl::StrCat(
            "cannot bind token for serviceaccount \"", spec.service_account,
            "\" to pod running with serviceaccount \"", pod->service_account_name, "\""));
      }
      uid = pod->uid;
      // Every pod of a World runs on the World's node (KEP-4193 node claims for pod-bound tokens).
      if (!world->node.name.empty()) node = &world->node;
    } else if (group.empty() && ref.kind == "Node") {
      if (world->node.name.empty() || world->node.name != ref.name) {
        return absl::NotFoundError(absl::StrCat("nodes \"", ref.name, "\" not found"));
      }
      node = &world->node;
      uid = node_uid(*node);
    } else if (group.empty() && ref.kind == "Secret") {
      // A World has no Secrets.
      return absl::NotFoundError(absl::StrCat("secrets \"", ref.name, "\" not found"));
    } else {
      return absl::FailedPreconditionError(absl::StrCat("cannot bind token to object of type ",
                                                        group, "/", version, ", Kind=", ref.kind));
    }
    if (!ref.uid.empty() && ref.uid != uid) {
      return absl::AbortedError(
          absl::StrCat("Operation cannot be fulfilled on ",
                       group.empty() ? ref.kind : absl::StrCat(ref.kind, ".", group), " \"",
                       ref.name, "\": the UID in the bound object reference (", ref.uid,
                       ") does not match the UID in record. The object might have been deleted and "
                       "then recreated"));
    }
  }

  int64_t max_expiration = absl::ToInt64Seconds(options_.max_expiration);
  if (max_expiration > 0 && expiration > max_expiration) expiration = max_expiration;
  int64_t warn_after = 0;
  int64_t lifetime = expiration;
  bool kube_audiences = std::all_of(audiences.begin(), audiences.end(), [&](const std::string& a) {
    return std::find(api_audiences_.begin(), api_audiences_.end(), a) != api_audiences_.end();
  });
  if (options_.extend_expiration && pod != nullptr && expiration == kWarnOnlyExpirationSeconds &&
      kube_audiences) {
    warn_after = expiration;
    lifetime = kExtendedExpirationSeconds;
  }

  absl::Time now = clock_.now();
  int64_t iat = absl::ToUnixSeconds(now);
  // Keys in the order go-jose serializes them (sorted at every level).
  boost::json::object kubernetes;
  kubernetes["namespace"] = spec.namespace_name;
  if (node != nullptr) kubernetes["node"] = name_uid(node->name, node_uid(*node));
  if (pod != nullptr) kubernetes["pod"] = name_uid(pod->name, pod->uid);
  kubernetes["serviceaccount"] = name_uid(sa->name, sa->uid);
  if (warn_after != 0) kubernetes["warnafter"] = iat + warn_after;

  boost::json::object claims;
  boost::json::array aud;
  for (const std::string& a : audiences) aud.emplace_back(a);
  claims["aud"] = std::move(aud);
  claims["exp"] = iat + lifetime;
  claims["iat"] = iat;
  claims["iss"] = options_.issuer_url;
  claims["jti"] = random_uuid();
  claims[kKubernetesClaim] = std::move(kubernetes);
  claims["nbf"] = iat;
  claims["sub"] = username(spec.namespace_name, spec.service_account);

  IssuedToken out;
  out.token = jose::sign_jwt(*ring_.current(), claims);
  out.expiration_timestamp = absl::FromUnixSeconds(iat + expiration);
  out.audiences = std::move(audiences);
  out.expiration_seconds = expiration;
  return out;
}

TokenReviewResult ServiceAccountTokenIssuer::review(
    std::string_view token, const std::vector<std::string>& audiences) const {
  absl::StatusOr<jose::DecodedJwt> jwt = jose::decode_jwt(token);
  if (!jwt.ok()) return failure("invalid bearer token");
  const boost::json::object& claims = jwt->claims;
  if (string_member(claims, "iss") != options_.issuer_url)
    return failure("invalid bearer token: unknown issuer");
  absl::Time now = clock_.now();
  if (absl::Status status = jose::verify_jwt(*jwt, ring_.verification_keys(now)); !status.ok()) {
    return failure(absl::StrCat("invalid bearer token: ", status.message()));
  }
  absl::StatusOr<int64_t> exp = jose::int64_claim(claims, "exp");
  if (!exp.ok()) return failure("service account token has no expiration");
  if (now > absl::FromUnixSeconds(*exp) + kLeeway)
    return failure("service account token has expired");
  if (absl::StatusOr<int64_t> nbf = jose::int64_claim(claims, "nbf");
      nbf.ok() && now < absl::FromUnixSeconds(*nbf) - kLeeway) {
    return failure("service account token is not valid yet");
  }

  absl::StatusOr<std::vector<std::string>> token_audiences = jose::audience_claim(claims);
  if (!token_audiences.ok()) return failure("invalid bearer token: bad aud claim");
  const std::vector<std::string>& requested = audiences.empty() ? api_audiences_ : audiences;
  std::vector<std::string> matched;
  for (const std::string& a : requested) {
    if (std::find(token_audiences->begin(), token_audiences->end(), a) != token_audiences->end() &&
        std::find(matched.begin(), matched.end(), a) == matched.end()) {
      matched.push_back(a);
    }
  }
  if (matched.empty()) {
    return failure(absl::StrCat("token audiences ", go_quoted(*token_audiences),
                                " is invalid for the target audiences ", go_quoted(requested)));
  }

  const boost::json::object* kube = object_member(claims, kKubernetesClaim);
  const boost::json::object* sa_ref =
      kube != nullptr ? object_member(*kube, "serviceaccount") : nullptr;
  if (sa_ref == nullptr) return failure("service account token claims are missing");
  std::string ns = string_member(*kube, "namespace");
  std::string sa_name = string_member(*sa_ref, "name");
  std::string sa_uid = string_member(*sa_ref, "uid");
  if (string_member(claims, "sub") != username(ns, sa_name))
    return failure("service account token subject mismatch");

  std::shared_ptr<const config::World> world = world_();
  const config::ServiceAccount* sa = world->find_service_account(ns, sa_name);
  if (sa == nullptr) return failure("service account token has been invalidated");
  if (sa->uid != sa_uid) {
    return failure(
        absl::StrCat("service account UID (", sa->uid, ") does not match claim (", sa_uid, ")"));
  }
  UserInfo user;
  if (const boost::json::object* pod_ref = object_member(*kube, "pod"); pod_ref != nullptr) {
    std::string pod_name = string_member(*pod_ref, "name");
    std::string pod_uid = string_member(*pod_ref, "uid");
    const config::Pod* pod = world->find_pod(ns, pod_name);
    if (pod == nullptr) return failure("service account token has been invalidated");
    if (pod->uid != pod_uid) {
      return failure(absl::StrCat("pod UID (", pod->uid, ") does not match claim (", pod_uid, ")"));
    }
    user.extra[absl::StrCat(kExtraPrefix, "pod-name")] = {pod_name};
    user.extra[absl::StrCat(kExtraPrefix, "pod-uid")] = {pod_uid};
  }
  if (object_member(*kube, "secret") != nullptr) {
    return failure("service account token has been invalidated");  // a World has no Secrets
  }
  if (const boost::json::object* node_ref = object_member(*kube, "node"); node_ref != nullptr) {
    std::string node_name = string_member(*node_ref, "name");
    std::string claimed_uid = string_member(*node_ref, "uid");
    // As kube: a node that went away only invalidates tokens bound to the node itself, not pod
    // tokens.
    if (object_member(*kube, "pod") == nullptr &&
        (world->node.name != node_name || node_uid(world->node) != claimed_uid)) {
      return failure("service account token has been invalidated");
    }
    user.extra[absl::StrCat(kExtraPrefix, "node-name")] = {node_name};
    if (!claimed_uid.empty()) user.extra[absl::StrCat(kExtraPrefix, "node-uid")] = {claimed_uid};
  }
  if (std::string jti = string_member(claims, "jti"); !jti.empty()) {
    user.extra[absl::StrCat(kExtraPrefix, "credential-id")] = {absl::StrCat("JTI=", jti)};
  }
  user.username = username(ns, sa_name);
  user.uid = sa->uid;
  user.groups = {"system:serviceaccounts", absl::StrCat("system:serviceaccounts:", ns),
                 "system:authenticated"};

  TokenReviewResult result;
  result.authenticated = true;
  result.audiences = std::move(matched);
  result.user = std::move(user);
  return result;
}

}  // namespace wims::cloud
