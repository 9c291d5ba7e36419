// IAM members (the strings in an allow policy binding's `members` list) and the callers they are
// matched against. A Member is parsed once, when a policy is set, and matched on every
// authorization check.
//
//   WIMS_ASSIGN_OR_RETURN(Member m, Member::parse(
//       "principalSet://iam.googleapis.com/projects/123/locations/global/"
//       "workloadIdentityPools/p.svc.id.goog/namespace/prod"));
//   bool ok = matches(m, Caller::workload(identity));
//
// Supported member forms (PREFIX = iam.googleapis.com/projects/NUM/locations/global/
// workloadIdentityPools/POOL):
//   user:EMAIL, serviceAccount:EMAIL, group:EMAIL, domain:DOMAIN, allUsers, allAuthenticatedUsers
//   serviceAccount:PROJECT.svc.id.goog[NS/KSA]                  (legacy GKE form)
//   principal://PREFIX/subject/SUBJECT     (GKE pools: SUBJECT = ns/NS/sa/KSA; other pools
//                                           system:serviceaccount:NS:KSA)
//   principal://PREFIX/kubernetes.serviceaccount.uid/UID
//   principalSet://PREFIX/namespace/NS
//   principalSet://PREFIX/kubernetes.cluster/https://container.googleapis.com/v1/projects/P/
//       locations/L/clusters/C                                  (one URL, no line break)
//   principalSet://PREFIX/*                                     (every identity in the pool)
//   principalSet://PREFIX/group/GROUP, principalSet://PREFIX/attribute.NAME/VALUE
//                                                               (parsed; never match: wims maps no
//                                                               groups or custom attributes)
//
// Identity sameness (as in GKE): a principal is the pool plus namespace plus KSA, so the same
// namespace/KSA in two clusters of one pool is ONE principal and the subject / legacy forms match
// both; only the kubernetes.cluster principalSet tells the clusters apart.
//
// Plain values; thread-safe to copy and read. No I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "iam/workload_identity.h"

namespace wims::iam {

enum class MemberKind {
  kUser,                       // user:EMAIL                      -> email
  kServiceAccount,             // serviceAccount:EMAIL            -> email
  kGroup,                      // group:EMAIL                     -> email
  kDomain,                     // domain:DOMAIN                   -> domain
  kAllUsers,                   // allUsers
  kAllAuthenticatedUsers,      // allAuthenticatedUsers
  kLegacyWorkloadIdentity,     // serviceAccount:POOL[NS/KSA]     -> pool, namespace_name,
                               // service_account
  kWorkloadSubject,            // principal://.../subject/S       -> project_number, pool, subject
  kWorkloadServiceAccountUid,  // principal://.../kubernetes.serviceaccount.uid/UID -> ..., uid
  kWorkloadNamespace,          // principalSet://.../namespace/NS -> ..., namespace_name
  kWorkloadCluster,            // principalSet://.../kubernetes.cluster/URL -> ..., cluster_url
  kWorkloadPool,               // principalSet://.../POOL/*       -> project_number, pool
  kWorkloadGroup,              // principalSet://.../group/G      -> ..., group (never matches)
  kWorkloadAttribute,  // principalSet://.../attribute.A/V -> ..., attribute_name, attribute_value
};

struct Member {
  MemberKind kind = MemberKind::kAllUsers;
  std::string email;            // kUser, kServiceAccount, kGroup
  std::string domain;           // kDomain
  int64_t project_number = 0;   // principal:// and principalSet:// forms
  std::string pool;             // workload forms, "PROJECT.svc.id.goog"
  std::string namespace_name;   // kLegacyWorkloadIdentity, kWorkloadNamespace
  std::string service_account;  // kLegacyWorkloadIdentity: the KSA name
  std::string subject;         // kWorkloadSubject: "ns/NS/sa/KSA" or "system:serviceaccount:NS:KSA"
  std::string uid;             // kWorkloadServiceAccountUid
  std::string cluster_url;     // kWorkloadCluster
  std::string group;           // kWorkloadGroup
  std::string attribute_name;  // kWorkloadAttribute (without the "attribute." prefix)
  std::string attribute_value;

  // Parses one member string. INVALID_ARGUMENT with the offending text and the reason on bad input.
  static absl::StatusOr<Member> parse(std::string_view text);

  // The canonical member string; parse(m.to_string()) == m.
  std::string to_string() const;

  // True for allUsers / allAuthenticatedUsers (IAM Conditions are not allowed on bindings with
  // these).
  bool is_public() const {
    return kind == MemberKind::kAllUsers || kind == MemberKind::kAllAuthenticatedUsers;
  }

  friend bool operator==(const Member&, const Member&) = default;
};

// Who is asking: a Google service account (by email, e.g. after impersonation or with its own
// token), a Kubernetes workload (a federated token from the local STS or a pod seen by the metadata
// server), the wims admin (owner of everything; the Authorizer always allows it), or an anonymous
// caller (matches allUsers only).
class Caller {
 public:
  enum class Kind { kServiceAccount, kWorkload, kAdmin, kAnonymous };

  static Caller service_account(std::string email);
  static Caller workload(WorkloadIdentity identity);
  static Caller admin();
  static Caller anonymous();

  Kind kind() const { return kind_; }
  // kServiceAccount only.
  const std::string& email() const { return email_; }
  // kWorkload only.
  const WorkloadIdentity& workload_identity() const { return identity_; }

  // For logs and denial messages: "serviceAccount:EMAIL", the principal:// id, "admin" or
  // "anonymous".
  std::string to_string() const;

 private:
  Caller() = default;
  Kind kind_ = Kind::kAnonymous;
  std::string email_;
  WorkloadIdentity identity_;
};

// Whether `member` includes `caller`. Emails compare case-insensitively. group: and domain: members
// never match (wims has no directory); the admin matches only allUsers / allAuthenticatedUsers here
// (it is authorized by the Authorizer itself).
bool matches(const Member& member, const Caller& caller);

// The IAM subject of a workload: "ns/NS/sa/KSA" for GKE pools (POOL ends in ".svc.id.goog"),
// otherwise the Kubernetes token subject "system:serviceaccount:NS:KSA" (self-managed pools).
std::string workload_subject(const WorkloadIdentity& identity);

// "principal://iam.googleapis.com/projects/NUM/locations/global/workloadIdentityPools/POOL/"
// "subject/ns/NS/sa/KSA" (see workload_subject for other pools)
std::string principal_id(const WorkloadIdentity& identity);

// The legacy member "serviceAccount:POOL[NS/KSA]".
std::string legacy_member(const WorkloadIdentity& identity);

// "principalSet://iam.googleapis.com/projects/NUM/locations/global/workloadIdentityPools/POOL/"
// "kubernetes.cluster/" + identity.cluster_url
std::string cluster_principal_set(const WorkloadIdentity& identity);

// "principalSet://iam.googleapis.com/projects/NUM/locations/global/workloadIdentityPools/POOL/"
// "namespace/NS"
std::string namespace_principal_set(const WorkloadIdentity& identity);

}  // namespace wims::iam
