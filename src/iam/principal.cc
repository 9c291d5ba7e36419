#include "iam/principal.h"

#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "common/strings.h"
#include "fmt/format.h"

namespace wims::iam {
namespace {

constexpr std::string_view kPrincipalScheme = "principal://";
constexpr std::string_view kPrincipalSetScheme = "principalSet://";
constexpr std::string_view kIamHost = "iam.googleapis.com/";
constexpr std::string_view kGkePoolSuffix = ".svc.id.goog";
constexpr std::string_view kClusterUrlPrefix = "https://container.googleapis.com/v1/projects/";
// gke-metadata-server README: the mapped google.subject is limited to 127 characters.
constexpr size_t kMaxSubjectLength = 127;

absl::Status invalid(std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError(fmt::format("Invalid member '{}': {}", text, why));
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

bool is_valid_email(std::string_view email) {
  size_t at = email.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= email.size()) return false;
  if (email.find('@', at + 1) != std::string_view::npos) return false;
  for (char c : email) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '[' || c == ']' || c == '/' || c == ',')
      return false;
  }
  return email.find('.', at) != std::string_view::npos;
}

bool is_valid_domain(std::string_view domain) {
  if (domain.empty() || domain.find('.') == std::string_view::npos) return false;
  for (char c : domain) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') return false;
  }
  return domain.front() != '.' && domain.back() != '.';
}

// Kubernetes names: a namespace is a DNS-1123 label, a service account a DNS-1123 subdomain.
bool is_valid_k8s_name(std::string_view name, size_t max_length, bool allow_dots) {
  if (name.empty() || name.size() > max_length) return false;
  for (char c : name) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || (allow_dots && c == '.');
    if (!ok) return false;
  }
  return name.front() != '-' && name.back() != '-' && name.front() != '.' && name.back() != '.';
}
bool is_valid_namespace(std::string_view ns) { return is_valid_k8s_name(ns, 63, false); }
bool is_valid_ksa(std::string_view ksa) { return is_valid_k8s_name(ksa, 253, true); }

bool is_valid_pool(std::string_view pool) {
  if (pool.empty() || pool.size() > 253) return false;
  for (char c : pool) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_')
      return false;
  }
  return true;
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
  return absl::EqualsIgnoreCase(to_absl(a), to_absl(b));
}

absl::StatusOr<Member> parse_legacy_workload(std::string_view text, std::string_view rest) {
  // rest = "POOL[NS/KSA]"
  size_t open = rest.find('[');
  if (rest.back() != ']')
    return invalid(text, "expected serviceAccount:PROJECT.svc.id.goog[NAMESPACE/KSA]");
  std::string_view pool = rest.substr(0, open);
  std::string_view inner = rest.substr(open + 1, rest.size() - open - 2);
  size_t slash = inner.find('/');
  if (slash == std::string_view::npos) {
    return invalid(text, "expected serviceAccount:PROJECT.svc.id.goog[NAMESPACE/KSA]");
  }
  std::string_view ns = inner.substr(0, slash);
  std::string_view ksa = inner.substr(slash + 1);
  if (!is_valid_pool(pool) || !absl::EndsWith(to_absl(pool), to_absl(kGkePoolSuffix))) {
    return invalid(text, "the workload identity pool must be PROJECT_ID.svc.id.goog");
  }
  if (!is_valid_namespace(ns))
    return invalid(text, fmt::format("'{}' is not a valid namespace name", ns));
  if (!is_valid_ksa(ksa))
    return invalid(text, fmt::format("'{}' is not a valid service account name", ksa));
  Member m;
  m.kind = MemberKind::kLegacyWorkloadIdentity;
  m.pool = std::string(pool);
  m.namespace_name = std::string(ns);
  m.service_account = std::string(ksa);
  return m;
}

absl::StatusOr<Member> parse_workload(std::string_view text, bool is_set) {
  std::string_view rest =
      text.substr(is_set ? kPrincipalSetScheme.size() : kPrincipalScheme.size());
  if (!starts_with(rest, kIamHost)) return invalid(text, "the host must be iam.googleapis.com");
  rest.remove_prefix(kIamHost.size());
  if (starts_with(rest, "locations/")) {
    return invalid(text,
                   "workforce identity pools are not supported; use projects/NUM/locations/global/"
                   "workloadIdentityPools/POOL");
  }
  if (!starts_with(rest, "projects/")) return invalid(text, "expected projects/PROJECT_NUMBER/...");
  rest.remove_prefix(std::string_view("projects/").size());
  size_t slash = rest.find('/');
  std::string_view number = rest.substr(0, slash);
  if (number.empty() || number.size() > 18 ||
      number.find_first_not_of("0123456789") != std::string_view::npos) {
    return invalid(text, "the project must be given by its number");
  }
  if (slash == std::string_view::npos)
    return invalid(text, "missing /locations/global/workloadIdentityPools/");
  rest.remove_prefix(slash + 1);
  constexpr std::string_view kPools = "locations/global/workloadIdentityPools/";
  if (!starts_with(rest, kPools))
    return invalid(text, "expected locations/global/workloadIdentityPools/POOL");
  rest.remove_prefix(kPools.size());
  slash = rest.find('/');
  std::string_view pool = rest.substr(0, slash);
  if (!is_valid_pool(pool)) return invalid(text, "missing or invalid workload identity pool");
  if (slash == std::string_view::npos) return invalid(text, "missing the identity after the pool");
  rest.remove_prefix(slash + 1);

  Member m;
  m.project_number = std::stoll(std::string(number));
  m.pool = std::string(pool);
  auto take = [&](std::string_view prefix) -> std::optional<std::string_view> {
    if (!starts_with(rest, prefix)) return std::nullopt;
    return rest.substr(prefix.size());
  };
  if (!is_set) {
    if (auto subject = take("subject/")) {
      if (subject->empty()) return invalid(text, "empty subject");
      if (subject->size() > kMaxSubjectLength)
        return invalid(text, "the subject is longer than 127 characters");
      m.kind = MemberKind::kWorkloadSubject;
      m.subject = std::string(*subject);
      return m;
    }
    if (auto uid = take("kubernetes.serviceaccount.uid/")) {
      if (uid->empty() || uid->find('/') != std::string_view::npos)
        return invalid(text, "invalid UID");
      m.kind = MemberKind::kWorkloadServiceAccountUid;
      m.uid = std::string(*uid);
      return m;
    }
    return invalid(text,
                   "a principal:// identifier must end in subject/SUBJECT or "
                   "kubernetes.serviceaccount.uid/UID");
  }
  if (rest == "*") {
    m.kind = MemberKind::kWorkloadPool;
    return m;
  }
  if (auto ns = take("namespace/")) {
    if (!is_valid_namespace(*ns))
      return invalid(text, fmt::format("'{}' is not a valid namespace name", *ns));
    m.kind = MemberKind::kWorkloadNamespace;
    m.namespace_name = std::string(*ns);
    return m;
  }
  if (auto url = take("kubernetes.cluster/")) {
    // https://container.googleapis.com/v1/projects/P/locations/L/clusters/C
    bool ok = starts_with(*url, kClusterUrlPrefix);
    if (ok) {
      std::string_view tail = url->substr(kClusterUrlPrefix.size());
      size_t a = tail.find('/');
      ok = a != std::string_view::npos && a > 0 && starts_with(tail.substr(a), "/locations/");
      if (ok) {
        tail.remove_prefix(a + std::string_view("/locations/").size());
        size_t b = tail.find('/');
        ok = b != std::string_view::npos && b > 0 && starts_with(tail.substr(b), "/clusters/") &&
             tail.size() > b + std::string_view("/clusters/").size() &&
             tail.substr(b + std::string_view("/clusters/").size()).find('/') ==
                 std::string_view::npos;
      }
    }
    if (!ok) {
      return invalid(text,
                     "the cluster must be https://container.googleapis.com/v1/projects/PROJECT/"
                     "locations/LOCATION/clusters/CLUSTER");
    }
    m.kind = MemberKind::kWorkloadCluster;
    m.cluster_url = std::string(*url);
    return m;
  }
  if (auto group = take("group/")) {
    if (group->empty()) return invalid(text, "empty group");
    m.kind = MemberKind::kWorkloadGroup;
    m.group = std::string(*group);
    return m;
  }
  if (auto attribute = take("attribute.")) {
    size_t s = attribute->find('/');
    if (s == std::string_view::npos || s == 0 || s + 1 == attribute->size()) {
      return invalid(text, "expected attribute.NAME/VALUE");
    }
    m.kind = MemberKind::kWorkloadAttribute;
    m.attribute_name = std::string(attribute->substr(0, s));
    m.attribute_value = std::string(attribute->substr(s + 1));
    return m;
  }
  return invalid(text,
                 "a principalSet:// identifier must end in namespace/NS, kubernetes.cluster/URL, "
                 "group/GROUP, attribute.NAME/VALUE or *");
}

std::string pool_prefix(std::string_view scheme, int64_t project_number, std::string_view pool) {
  return fmt::format("{}iam.googleapis.com/projects/{}/locations/global/workloadIdentityPools/{}/",
                     scheme, project_number, pool);
}

bool same_pool(const Member& m, const WorkloadIdentity& id) {
  return m.project_number == id.project_number && m.pool == id.pool;
}

}  // namespace

absl::StatusOr<Member> Member::parse(std::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("Invalid member '': the member is empty");
  Member m;
  if (text == "allUsers") {
    m.kind = MemberKind::kAllUsers;
    return m;
  }
  if (text == "allAuthenticatedUsers") {
    m.kind = MemberKind::kAllAuthenticatedUsers;
    return m;
  }
  if (starts_with(text, kPrincipalScheme)) return parse_workload(text, false);
  if (starts_with(text, kPrincipalSetScheme)) return parse_workload(text, true);
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return invalid(text,
                   "expected TYPE:VALUE (user:, serviceAccount:, group:, domain:), allUsers, "
                   "allAuthenticatedUsers, principal:// or principalSet://");
  }
  std::string_view type = text.substr(0, colon);
  std::string_view value = text.substr(colon + 1);
  if (type == "serviceAccount" && value.find('[') != std::string_view::npos) {
    return parse_legacy_workload(text, value);
  }
  if (type == "user" || type == "serviceAccount" || type == "group") {
    if (!is_valid_email(value))
      return invalid(text, fmt::format("'{}' is not a valid email address", value));
    m.kind = type == "user"    ? MemberKind::kUser
             : type == "group" ? MemberKind::kGroup
                               : MemberKind::kServiceAccount;
    m.email = std::string(value);
    return m;
  }
  if (type == "domain") {
    if (!is_valid_domain(value))
      return invalid(text, fmt::format("'{}' is not a valid domain", value));
    m.kind = MemberKind::kDomain;
    m.domain = std::string(value);
    return m;
  }
  if (type == "deleted") return invalid(text, "deleted principals cannot be added to a policy");
  return invalid(text, fmt::format("unknown member type '{}'", type));
}

std::string Member::to_string() const {
  switch (kind) {
    case MemberKind::kUser:
      return "user:" + email;
    case MemberKind::kServiceAccount:
      return "serviceAccount:" + email;
    case MemberKind::kGroup:
      return "group:" + email;
    case MemberKind::kDomain:
      return "domain:" + domain;
    case MemberKind::kAllUsers:
      return "allUsers";
    case MemberKind::kAllAuthenticatedUsers:
      return "allAuthenticatedUsers";
    case MemberKind::kLegacyWorkloadIdentity:
      return fmt::format("serviceAccount:{}[{}/{}]", pool, namespace_name, service_account);
    case MemberKind::kWorkloadSubject:
      return pool_prefix(kPrincipalScheme, project_number, pool) + "subject/" + subject;
    case MemberKind::kWorkloadServiceAccountUid:
      return pool_prefix(kPrincipalScheme, project_number, pool) +
             "kubernetes.serviceaccount.uid/" + uid;
    case MemberKind::kWorkloadNamespace:
      return pool_prefix(kPrincipalSetScheme, project_number, pool) + "namespace/" + namespace_name;
    case MemberKind::kWorkloadCluster:
      return pool_prefix(kPrincipalSetScheme, project_number, pool) + "kubernetes.cluster/" +
             cluster_url;
    case MemberKind::kWorkloadPool:
      return pool_prefix(kPrincipalSetScheme, project_number, pool) + "*";
    case MemberKind::kWorkloadGroup:
      return pool_prefix(kPrincipalSetScheme, project_number, pool) + "group/" + group;
    case MemberKind::kWorkloadAttribute:
      return pool_prefix(kPrincipalSetScheme, project_number, pool) + "attribute." +
             attribute_name + "/" + attribute_value;
  }
  return {};
}

Caller Caller::service_account(std::string email) {
  Caller c;
  c.kind_ = Kind::kServiceAccount;
  c.email_ = std::move(email);
  return c;
}
Caller Caller::workload(WorkloadIdentity identity) {
  Caller c;
  c.kind_ = Kind::kWorkload;
  c.identity_ = std::move(identity);
  return c;
}
Caller Caller::admin() {
  Caller c;
  c.kind_ = Kind::kAdmin;
  return c;
}
Caller Caller::anonymous() { return Caller(); }

std::string Caller::to_string() const {
  switch (kind_) {
    case Kind::kServiceAccount:
      return "serviceAccount:" + email_;
    case Kind::kWorkload:
      return principal_id(identity_);
    case Kind::kAdmin:
      return "admin";
    case Kind::kAnonymous:
      return "anonymous";
  }
  return {};
}

bool matches(const Member& member, const Caller& caller) {
  switch (member.kind) {
    case MemberKind::kAllUsers:
      return true;
    case MemberKind::kAllAuthenticatedUsers:
      return caller.kind() != Caller::Kind::kAnonymous;
    case MemberKind::kServiceAccount:
      return caller.kind() == Caller::Kind::kServiceAccount &&
             equals_ignore_case(member.email, caller.email());
    case MemberKind::kUser:
    case MemberKind::kGroup:
    case MemberKind::kDomain:
    case MemberKind::kWorkloadGroup:
    case MemberKind::kWorkloadAttribute:
      return false;
    default:
      break;
  }
  if (caller.kind() != Caller::Kind::kWorkload) return false;
  const WorkloadIdentity& id = caller.workload_identity();
  switch (member.kind) {
    case MemberKind::kLegacyWorkloadIdentity:
      return member.pool == id.pool && member.namespace_name == id.namespace_name &&
             member.service_account == id.service_account;
    case MemberKind::kWorkloadSubject:
      return same_pool(member, id) && member.subject == workload_subject(id);
    case MemberKind::kWorkloadServiceAccountUid:
      return same_pool(member, id) && !id.service_account_uid.empty() &&
             member.uid == id.service_account_uid;
    case MemberKind::kWorkloadNamespace:
      return same_pool(member, id) && member.namespace_name == id.namespace_name;
    case MemberKind::kWorkloadCluster:
      return same_pool(member, id) && !id.cluster_url.empty() &&
             member.cluster_url == id.cluster_url;
    case MemberKind::kWorkloadPool:
      return same_pool(member, id);
    default:
      return false;
  }
}

std::string workload_subject(const WorkloadIdentity& identity) {
  if (absl::EndsWith(to_absl(identity.pool), to_absl(kGkePoolSuffix))) {
    return fmt::format("ns/{}/sa/{}", identity.namespace_name, identity.service_account);
  }
  return fmt::format("system:serviceaccount:{}:{}", identity.namespace_name,
                     identity.service_account);
}

std::string principal_id(const WorkloadIdentity& identity) {
  return pool_prefix(kPrincipalScheme, identity.project_number, identity.pool) + "subject/" +
         workload_subject(identity);
}

std::string legacy_member(const WorkloadIdentity& identity) {
  return fmt::format("serviceAccount:{}[{}/{}]", identity.pool, identity.namespace_name,
                     identity.service_account);
}

std::string cluster_principal_set(const WorkloadIdentity& identity) {
  return pool_prefix(kPrincipalSetScheme, identity.project_number, identity.pool) +
         "kubernetes.cluster/" + identity.cluster_url;
}

std::string namespace_principal_set(const WorkloadIdentity& identity) {
  return pool_prefix(kPrincipalSetScheme, identity.project_number, identity.pool) + "namespace/" +
         identity.namespace_name;
}

}  // namespace wims::iam
