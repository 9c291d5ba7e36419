#include "config/world_validator.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <regex>
#include <set>
#include <string_view>

#include "absl/strings/str_join.h"
#include "boost/url/parse.hpp"
#include "config/field_path.h"
#include "fmt/format.h"

namespace wims::config {
namespace {

// Name rules, with their sources:
//  - Google Cloud project ids: 6-30 characters, lower-case letters, digits, hyphens, starting with
//  a letter and
//    not ending with a hyphen (Resource Manager "Creating and managing projects").
//  - GKE cluster names: up to 40 characters, lower-case letters, digits, hyphens, starting with a
//  letter.
//  - Kubernetes: namespaces are DNS-1123 labels, object names DNS-1123 subdomains, label and
//  annotation keys
//    qualified names, label values up to 63 characters (k8s.io/apimachinery/pkg/util/validation).
//  - The two annotation patterns are the ones the GKE and EKS pod identity webhooks check.

struct Patterns {
  std::regex project_id{R"(^[a-z][a-z0-9-]{4,28}[a-z0-9]$)"};
  std::regex aws_account_id{R"(^\d{12}$)"};
  std::regex aws_region{R"(^[a-z]{2}(-[a-z]+)+-\d+$)"};
  std::regex cluster_name{R"(^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$)"};
  std::regex gcp_location{R"(^[a-z]+-[a-z]+\d+(-[a-z])?$)"};
  std::regex gcp_zone{R"(^[a-z]+-[a-z]+\d+-[a-z]$)"};
  std::regex dns_label{R"(^[a-z0-9]([-a-z0-9]*[a-z0-9])?$)"};
  std::regex dns_subdomain{R"(^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$)"};
  std::regex qualified_name{R"(^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$)"};
  std::regex label_value{R"(^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$)"};
  std::regex gcp_service_account_annotation{
      R"(^[a-zA-Z0-9-]+@[a-zA-Z0-9-]+\.iam\.gserviceaccount\.com$)"};
  std::regex eks_role_arn{R"(^arn:aws[a-z0-9-]*:iam::\d{12}:role\/[\w+=,.@\/-]+$)"};
  std::regex google_service_account{
      R"(^([a-z]([-a-z0-9]{0,28}[a-z0-9])?)@([a-z][-a-z0-9]{4,28}[a-z0-9])\.iam\.gserviceaccount\.com$)"};
  std::regex node_service_account{R"(^[a-zA-Z0-9-]+@[a-zA-Z0-9.-]+\.gserviceaccount\.com$)"};
  std::regex role{
      R"(^(roles/[a-zA-Z0-9_.]+|(projects/[a-z][a-z0-9-]*|organizations/\d+)/roles/[a-zA-Z0-9_.]+)$)"};
  std::regex bucket_name{R"(^[a-z0-9][a-z0-9_.-]{1,61}[a-z0-9]$)"};
  std::regex tag_key{R"(^[^/\s]+/[^/\s]+$)"};
  std::regex guid{R"(^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$)"};
  // Azure resource names: resource groups 1-90 of [-\w._()], not ending in '.'; user-assigned
  // identities 3-128 of [A-Za-z0-9_-] starting with a letter or digit; storage accounts 3-24 of
  // [a-z0-9]; containers 3-63 of [a-z0-9-], no "--", starting and ending with a letter or digit;
  // federated credential names 3-120 of [A-Za-z0-9_-] starting with a letter or digit.
  std::regex resource_group{R"(^[-\w.()]{0,89}[-\w()]$)"};
  std::regex managed_identity_name{R"(^[A-Za-z0-9][A-Za-z0-9_-]{2,127}$)"};
  std::regex federated_credential_name{R"(^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$)"};
  std::regex storage_account{R"(^[a-z0-9]{3,24}$)"};
  std::regex blob_container{R"(^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$)"};
};

const Patterns& patterns() {
  static const Patterns* const kPatterns = new Patterns();
  return *kPatterns;
}

// libstdc++'s regex matcher recurses per character, so bound the input; no valid value here is
// longer (IAM role ARNs, the longest, stop at 2048).
constexpr size_t kMaxMatchedLength = 2048;

bool matches(const std::string& text, const std::regex& pattern) {
  return text.size() <= kMaxMatchedLength && std::regex_match(text, pattern);
}

std::string quoted(std::string_view text) { return fmt::format("\"{}\"", text); }

class Checker {
 public:
  explicit Checker(const World& world) : world_(world) {}

  std::vector<WorldProblem> run() {
    check_project();
    check_cluster();
    check_node();
    check_namespaces();
    check_service_accounts();
    check_pods();
    check_google();
    check_azure();
    check_metadata();
    return std::move(problems_);
  }

 private:
  void add(std::string path, std::string message, std::string refers_to = "") {
    problems_.push_back({std::move(path), std::move(message), std::move(refers_to)});
  }

  // Adds "is required" for an empty value; returns whether the value is present.
  bool required(const std::string& path, const std::string& value) {
    if (value.empty()) add(path, "is required");
    return !value.empty();
  }

  void check_project() {
    const Project& p = world_.project;
    if (required("project.id", p.id) && !matches(p.id, patterns().project_id)) {
      add("project.id",
          fmt::format("{} is not a valid project id (6-30 lower-case letters, digits and hyphens, "
                      "starting with a letter)",
                      quoted(p.id)));
    }
    if (p.number <= 0)
      add("project.number",
          fmt::format("{} is not a project number (a positive integer)", p.number));
    if (required("project.awsAccountId", p.aws_account_id) &&
        !matches(p.aws_account_id, patterns().aws_account_id)) {
      add("project.awsAccountId",
          fmt::format("{} is not an AWS account id (12 digits)", quoted(p.aws_account_id)));
    }
    if (required("project.awsRegion", p.aws_region) &&
        !matches(p.aws_region, patterns().aws_region)) {
      add("project.awsRegion",
          fmt::format("{} is not an AWS region (like us-east-1)", quoted(p.aws_region)));
    }
  }

  void check_cluster() {
    const Cluster& c = world_.cluster;
    if (required("cluster.name", c.name) && !matches(c.name, patterns().cluster_name)) {
      add("cluster.name",
          fmt::format("{} is not a valid cluster name (up to 40 lower-case letters, digits and "
                      "hyphens, starting with a letter)",
                      quoted(c.name)));
    }
    if (required("cluster.location", c.location) && !matches(c.location, patterns().gcp_location)) {
      add("cluster.location",
          fmt::format("{} is not a Google Cloud region or zone (like us-central1 or us-central1-a)",
                      quoted(c.location)));
    }
    required("cluster.uid", c.uid);
    if (!c.issuer_url.empty()) {
      auto url = boost::urls::parse_absolute_uri(c.issuer_url);
      if (!url || (url->scheme() != "https" && url->scheme() != "http") || url->host().empty() ||
          url->has_query() || url->has_fragment()) {
        add("cluster.issuerUrl", fmt::format("{} is not an http(s) URL without query or fragment",
                                             quoted(c.issuer_url)));
      }
    }
    check_external_issuer(c);
  }

  // cluster.jwksUrl / cluster.jwksFile: the keys of an external issuer named by issuerUrl.
  void check_external_issuer(const Cluster& c) {
    if (!c.jwks_url.empty() && !c.jwks_file.empty()) {
      add("cluster.jwksFile",
          "give either cluster.jwksUrl or cluster.jwksFile, not both (the external issuer's keys "
          "come from one place)");
    }
    if (c.has_external_issuer() && c.issuer_url.empty()) {
      add(c.jwks_url.empty() ? "cluster.jwksFile" : "cluster.jwksUrl",
          "needs cluster.issuerUrl: the external issuer (the `iss` of its tokens) whose keys "
          "these are");
    }
    if (!c.jwks_url.empty()) {
      auto url = boost::urls::parse_absolute_uri(c.jwks_url);
      if (!url || (url->scheme() != "https" && url->scheme() != "http") || url->host().empty() ||
          url->has_fragment()) {
        add("cluster.jwksUrl",
            fmt::format("{} is not an http(s) URL without fragment", quoted(c.jwks_url)));
      }
    }
    if (!c.jwks_file.empty() && c.jwks_url.empty()) {
      // Read at load time so a wrong path fails `wims up` at once; the content (a JWKS) is
      // parsed by the key source when wims starts, and reread when a token names a new kid.
      const int fd = ::open(c.jwks_file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
      struct stat st {};
      if (fd < 0) {
        const int err = errno;
        add("cluster.jwksFile",
            fmt::format("cannot read {}: {}", quoted(c.jwks_file), std::strerror(err)));
      } else if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        add("cluster.jwksFile", fmt::format("{} is not a regular file", quoted(c.jwks_file)));
      }
      if (fd >= 0) ::close(fd);
    }
  }

  void check_node() {
    const Node& n = world_.node;
    if (required("node.name", n.name) && !matches(n.name, patterns().dns_subdomain)) {
      add("node.name",
          fmt::format(
              "{} is not a valid node name (a DNS subdomain: lower-case letters, digits, '-' "
              "and '.')",
              quoted(n.name)));
    }
    required("node.hostname", n.hostname);
    if (n.id == 0) add("node.id", "must be a positive integer");
    if (required("node.zone", n.zone) && !matches(n.zone, patterns().gcp_zone)) {
      add("node.zone",
          fmt::format("{} is not a Google Cloud zone (like us-central1-a)", quoted(n.zone)));
    }
    required("node.machineType", n.machine_type);
  }

  void check_namespaces() {
    std::map<std::string, size_t> seen;
    for (size_t i = 0; i < world_.namespaces.size(); ++i) {
      const std::string path = index_path("namespaces", i);
      const std::string& ns = world_.namespaces[i];
      if (!required(path, ns)) continue;
      if (ns.size() > 63 || !matches(ns, patterns().dns_label)) {
        add(path, fmt::format("{} is not a valid namespace name (a DNS label: up to 63 lower-case "
                              "letters, digits "
                              "and '-')",
                              quoted(ns)));
      }
      auto [it, inserted] = seen.emplace(ns, i);
      if (!inserted)
        add(path, fmt::format("namespace {} is declared twice (also namespaces[{}])", quoted(ns),
                              it->second));
    }
  }

  bool namespace_declared(const std::string& ns) const {
    for (const std::string& declared : world_.namespaces) {
      if (declared == ns) return true;
    }
    return false;
  }

  void check_namespace_ref(const std::string& path, const std::string& ns) {
    if (required(path, ns) && !namespace_declared(ns)) {
      add(path, fmt::format("namespace {} is not declared in namespaces", quoted(ns)),
          "namespaces");
    }
  }

  void check_object_name(const std::string& path, const std::string& name, std::string_view what) {
    if (required(path, name) && (name.size() > 253 || !matches(name, patterns().dns_subdomain))) {
      add(path, fmt::format("{} is not a valid {} name (a DNS subdomain: lower-case letters, "
                            "digits, '-' and '.')",
                            quoted(name), what));
    }
  }

  // Label and annotation keys: an optional DNS-subdomain prefix and '/', then a name of up to 63
  // characters.
  void check_metadata_key(const std::string& path, const std::string& key, std::string_view what) {
    std::string_view prefix;
    std::string_view name = key;
    if (auto slash = key.find('/'); slash != std::string::npos) {
      prefix = std::string_view(key).substr(0, slash);
      name = std::string_view(key).substr(slash + 1);
    }
    const bool prefix_ok = key.find('/') == std::string::npos ||
                           (!prefix.empty() && prefix.size() <= 253 &&
                            matches(std::string(prefix), patterns().dns_subdomain));
    const bool name_ok =
        !name.empty() && name.size() <= 63 && matches(std::string(name), patterns().qualified_name);
    if (!prefix_ok || !name_ok) {
      add(path,
          fmt::format(
              "{} is not a valid {} key (optional DNS-subdomain prefix and '/', then up to 63 "
              "letters, digits, '-', '_' and '.')",
              quoted(key), what));
    }
  }

  void check_labels(const std::string& base, const std::map<std::string, std::string>& labels) {
    for (const auto& [key, value] : labels) {
      const std::string path = key_path(base, key);
      check_metadata_key(path, key, "label");
      if (value.size() > 63 || !matches(value, patterns().label_value)) {
        add(path, fmt::format(
                      "{} is not a valid label value (up to 63 letters, digits, '-', '_' and '.', "
                      "starting and ending with a letter or digit)",
                      quoted(value)));
      }
    }
  }

  void check_annotations(const std::string& base,
                         const std::map<std::string, std::string>& annotations) {
    for (const auto& [key, value] : annotations)
      check_metadata_key(key_path(base, key), key, "annotation");
  }

  void check_service_accounts() {
    std::map<std::pair<std::string, std::string>, size_t> seen;
    std::map<std::string, size_t> uids;
    for (size_t i = 0; i < world_.service_accounts.size(); ++i) {
      const ServiceAccount& sa = world_.service_accounts[i];
      const std::string base = index_path("serviceAccounts", i);
      check_namespace_ref(base + ".namespace", sa.namespace_name);
      check_object_name(base + ".name", sa.name, "service account");
      bool duplicate = false;
      if (!sa.name.empty()) {
        auto [it, inserted] = seen.emplace(std::pair(sa.namespace_name, sa.name), i);
        duplicate = !inserted;
        if (!inserted) {
          add(base,
              fmt::format("service account \"{}/{}\" is defined twice (also serviceAccounts[{}])",
                          sa.namespace_name, sa.name, it->second));
        }
      }
      // A duplicate's uid, derived from the same name, would only repeat the duplicate.
      if (required(base + ".uid", sa.uid) && !duplicate) {
        auto [it, inserted] = uids.emplace(sa.uid, i);
        if (!inserted)
          add(base + ".uid", fmt::format("uid {} is also used by serviceAccounts[{}]",
                                         quoted(sa.uid), it->second));
      }
      check_annotations(base + ".annotations", sa.annotations);
      for (const auto& [key, value] : sa.annotations) {
        const std::string path = key_path(base + ".annotations", key);
        if (key == kGcpServiceAccountAnnotation &&
            !matches(value, patterns().gcp_service_account_annotation)) {
          add(path,
              fmt::format(
                  "{} is not a Google service account email (NAME@PROJECT.iam.gserviceaccount.com)",
                  quoted(value)));
        } else if (key == kEksRoleArnAnnotation && !matches(value, patterns().eks_role_arn)) {
          add(path, fmt::format("{} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)",
                                quoted(value)));
        } else if ((key == kReturnPrincipalIdAsEmailAnnotation) && value != "true" &&
                   value != "false") {
          add(path, fmt::format("{} must be \"true\" or \"false\"", quoted(value)));
        } else if (key == kImdsEmulatorRoleArnAnnotation &&
                   !matches(value, patterns().eks_role_arn)) {
          add(path, fmt::format("{} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)",
                                quoted(value)));
        }
      }
    }
  }

  void check_pods() {
    std::map<std::pair<std::string, std::string>, size_t> seen;
    std::map<std::string, size_t> uids;
    // Canonical IP -> the pod and path that claimed it first.
    std::map<std::string, std::pair<size_t, std::string>> ips;
    for (size_t i = 0; i < world_.pods.size(); ++i) {
      const Pod& pod = world_.pods[i];
      const std::string base = index_path("pods", i);
      check_namespace_ref(base + ".namespace", pod.namespace_name);
      check_object_name(base + ".name", pod.name, "pod");
      bool duplicate = false;
      if (!pod.name.empty()) {
        auto [it, inserted] = seen.emplace(std::pair(pod.namespace_name, pod.name), i);
        duplicate = !inserted;
        if (!inserted) {
          add(base, fmt::format("pod \"{}/{}\" is defined twice (also pods[{}])",
                                pod.namespace_name, pod.name, it->second));
        }
      }
      if (required(base + ".uid", pod.uid) && !duplicate) {
        auto [it, inserted] = uids.emplace(pod.uid, i);
        if (!inserted)
          add(base + ".uid",
              fmt::format("uid {} is also used by pods[{}]", quoted(pod.uid), it->second));
      }
      const std::string sa_path = base + ".serviceAccountName";
      check_object_name(sa_path, pod.service_account_name, "service account");
      if (!pod.service_account_name.empty() && namespace_declared(pod.namespace_name) &&
          world_.service_account_of(pod) == nullptr) {
        add(sa_path,
            fmt::format("service account \"{}/{}\" is not defined", pod.namespace_name,
                        pod.service_account_name),
            "serviceAccounts");
      }
      if (pod.host_network && !pod.ips.empty()) {
        add(base + ".ips", "a hostNetwork pod uses the node's addresses and must not list ips");
      } else if (!pod.host_network && pod.ips.empty()) {
        add(base + ".ips", "a pod needs at least one IP (or hostNetwork: true)");
      }
      bool has_v4 = false;
      bool has_v6 = false;
      std::set<std::string> own_ips;
      for (size_t j = 0; j < pod.ips.size(); ++j) {
        const std::string path = index_path(base + ".ips", j);
        std::optional<std::string> ip = canonical_ip(pod.ips[j]);
        if (!ip) {
          add(path, fmt::format("{} is not an IP address", quoted(pod.ips[j])));
          continue;
        }
        if (!own_ips.insert(*ip).second) {
          add(path, fmt::format("{} is listed twice", *ip));
          continue;
        }
        auto [it, inserted] = ips.emplace(*ip, std::pair(i, path));
        if (!inserted) {
          const Pod& owner = world_.pods[it->second.first];
          add(path, fmt::format("{} is already used by pod \"{}/{}\" ({})", *ip,
                                owner.namespace_name, owner.name, it->second.second));
          continue;
        }
        bool& family_seen = ip->find(':') == std::string::npos ? has_v4 : has_v6;
        if (family_seen)
          add(path, fmt::format("{}: a pod has at most one IPv4 and one IPv6 address", *ip));
        family_seen = true;
      }
      check_labels(base + ".labels", pod.labels);
      check_annotations(base + ".annotations", pod.annotations);
    }
  }

  void check_member(const std::string& path, const std::string& member) {
    static constexpr std::string_view kPrefixes[] = {
        "user:",           "serviceAccount:", "group:",        "domain:",        "principal://",
        "principalSet://", "deleted:",        "projectOwner:", "projectEditor:", "projectViewer:"};
    if (member == "allUsers" || member == "allAuthenticatedUsers") return;
    for (std::string_view prefix : kPrefixes) {
      if (member.size() > prefix.size() &&
          std::string_view(member).substr(0, prefix.size()) == prefix)
        return;
    }
    add(path,
        fmt::format(
            "{} is not an IAM principal (user:, serviceAccount:, group:, domain:, principal://, "
            "principalSet://, allUsers or allAuthenticatedUsers)",
            quoted(member)));
  }

  void check_bindings(const std::string& base, const std::vector<Binding>& bindings) {
    for (size_t i = 0; i < bindings.size(); ++i) {
      const Binding& b = bindings[i];
      const std::string path = index_path(base, i);
      if (required(path + ".role", b.role) && !matches(b.role, patterns().role)) {
        add(path + ".role",
            fmt::format("{} is not an IAM role (roles/NAME, projects/P/roles/NAME or "
                        "organizations/N/roles/NAME)",
                        quoted(b.role)));
      }
      if (b.members.empty()) add(path + ".members", "a binding needs at least one member");
      for (size_t j = 0; j < b.members.size(); ++j)
        check_member(index_path(path + ".members", j), b.members[j]);
      const bool has_condition = !b.condition_title.empty() || !b.condition_description.empty() ||
                                 !b.condition_expression.empty();
      if (has_condition) {
        required(path + ".condition.title", b.condition_title);
        required(path + ".condition.expression", b.condition_expression);
      }
    }
  }

  void check_google() {
    const GoogleCloud& g = world_.google;
    std::map<std::string, size_t> emails;
    for (size_t i = 0; i < g.service_accounts.size(); ++i) {
      const GoogleServiceAccount& gsa = g.service_accounts[i];
      const std::string base = index_path("google.serviceAccounts", i);
      std::smatch match;
      if (!required(base + ".email", gsa.email)) {
        // Nothing more to say about an absent email.
      } else if (gsa.email.size() > kMaxMatchedLength ||
                 !std::regex_match(gsa.email, match, patterns().google_service_account)) {
        add(base + ".email",
            fmt::format(
                "{} is not a Google service account email (NAME@PROJECT.iam."
                "gserviceaccount.com, NAME up to 30 lower-case letters, digits and hyphens)",
                quoted(gsa.email)));
      } else if (match[3].str() != world_.project.id) {
        add(base + ".email",
            fmt::format("{} belongs to project {}, but the local cloud hosts project {}",
                        quoted(gsa.email), quoted(match[3].str()), quoted(world_.project.id)));
      }
      if (!gsa.email.empty()) {
        auto [it, inserted] = emails.emplace(gsa.email, i);
        if (!inserted) {
          add(base + ".email",
              fmt::format("service account {} is defined twice (also google.serviceAccounts[{}])",
                          quoted(gsa.email), it->second));
        }
      }
      check_bindings(base + ".bindings", gsa.bindings);
    }
    std::map<std::string, size_t> buckets;
    for (size_t i = 0; i < g.buckets.size(); ++i) {
      const Bucket& bucket = g.buckets[i];
      const std::string base = index_path("google.buckets", i);
      if (required(base + ".name", bucket.name)) {
        if (!matches(bucket.name, patterns().bucket_name)) {
          add(base + ".name",
              fmt::format(
                  "{} is not a valid bucket name (3-63 lower-case letters, digits, '-', '_' "
                  "and '.', starting and ending with a letter or digit)",
                  quoted(bucket.name)));
        }
        auto [it, inserted] = buckets.emplace(bucket.name, i);
        if (!inserted) {
          add(base + ".name", fmt::format("bucket {} is defined twice (also google.buckets[{}])",
                                          quoted(bucket.name), it->second));
        }
      }
      std::map<std::string, size_t> objects;
      for (size_t j = 0; j < bucket.objects.size(); ++j) {
        const std::string path = index_path(base + ".objects", j) + ".name";
        if (!required(path, bucket.objects[j].name)) continue;
        auto [it, inserted] = objects.emplace(bucket.objects[j].name, j);
        if (!inserted) {
          add(path, fmt::format("object {} is defined twice (also objects[{}])",
                                quoted(bucket.objects[j].name), it->second));
        }
      }
      check_bindings(base + ".bindings", bucket.bindings);
      for (const auto& [key, value] : bucket.tags) {
        const std::string path = key_path(base + ".tags", key);
        if (!matches(key, patterns().tag_key)) {
          add(path, fmt::format("{} is not a tag key (PARENT/SHORT_NAME, like 123456789012/env)",
                                quoted(key)));
        }
        if (value.empty()) add(path, "a tag needs a value");
      }
    }
    check_bindings("google.projectBindings", g.project_bindings);
    if (g.sts_exchanges_per_minute <= 0) {
      add("google.stsExchangesPerMinute",
          fmt::format("{} is not a positive number of exchanges per minute",
                      g.sts_exchanges_per_minute));
    }
  }

  // The built-in Azure RBAC roles the local cloud knows.
  static bool known_azure_role(std::string_view role) {
    return role == "Storage Blob Data Reader" || role == "Storage Blob Data Contributor" ||
           role == "Storage Blob Data Owner";
  }

  void check_guid(const std::string& path, const std::string& value, std::string_view what) {
    if (required(path, value) && !matches(value, patterns().guid)) {
      add(path, fmt::format("{} is not {} (a lower-case GUID like "
                            "00000000-0000-0000-0000-000000000000)",
                            quoted(value), what));
    }
  }

  void check_federated_credentials(const std::string& base,
                                   const std::vector<FederatedCredential>& list) {
    if (list.size() > kMaxFederatedCredentialsPerIdentity) {
      add(base, fmt::format("{} federated credentials; an identity has at most {}", list.size(),
                            kMaxFederatedCredentialsPerIdentity));
    }
    std::map<std::string, size_t> names;
    std::map<std::pair<std::string, std::string>, size_t> pairs;
    for (size_t i = 0; i < list.size(); ++i) {
      const FederatedCredential& fic = list[i];
      const std::string path = index_path(base, i);
      if (required(path + ".name", fic.name)) {
        if (!matches(fic.name, patterns().federated_credential_name)) {
          add(path + ".name",
              fmt::format("{} is not a federated credential name (3-120 letters, digits, '-' and "
                          "'_', starting with a letter or digit)",
                          quoted(fic.name)));
        }
        auto [it, inserted] = names.emplace(fic.name, i);
        if (!inserted) {
          add(path + ".name", fmt::format("federated credential {} is defined twice (also [{}])",
                                          quoted(fic.name), it->second));
        }
      }
      if (!fic.issuer.empty()) {
        auto url = boost::urls::parse_absolute_uri(fic.issuer);
        if (!url || (url->scheme() != "https" && url->scheme() != "http") || url->host().empty()) {
          add(path + ".issuer", fmt::format("{} is not an http(s) URL", quoted(fic.issuer)));
        }
      }
      if (required(path + ".subject", fic.subject)) {
        auto [it, inserted] = pairs.emplace(std::pair(fic.issuer, fic.subject), i);
        if (!inserted) {
          add(path + ".subject", fmt::format("issuer and subject {} are already federated by [{}]",
                                             quoted(fic.subject), it->second));
        }
      }
      if (fic.audiences.size() != 1) {
        add(path + ".audiences",
            fmt::format("has {} audiences; Entra accepts exactly one", fic.audiences.size()));
      }
      for (size_t j = 0; j < fic.audiences.size(); ++j)
        required(index_path(path + ".audiences", j), fic.audiences[j]);
    }
  }

  void check_azure() {
    const AzureCloud& a = world_.azure;
    check_guid("azure.tenantId", a.tenant_id, "a tenant id");
    check_guid("azure.subscriptionId", a.subscription_id, "a subscription id");
    if (required("azure.resourceGroup", a.resource_group) &&
        !matches(a.resource_group, patterns().resource_group)) {
      add("azure.resourceGroup",
          fmt::format("{} is not a resource group name (1-90 letters, digits, '-', '_', '.', '(' "
                      "and ')', not ending in '.')",
                      quoted(a.resource_group)));
    }
    required("azure.location", a.location);
    std::map<std::string, std::string> client_ids;  // client id -> path of its owner
    std::set<std::string> principals;
    std::map<std::string, size_t> identity_names;
    for (size_t i = 0; i < a.managed_identities.size(); ++i) {
      const ManagedIdentity& mi = a.managed_identities[i];
      const std::string base = index_path("azure.managedIdentities", i);
      if (required(base + ".name", mi.name)) {
        if (!matches(mi.name, patterns().managed_identity_name)) {
          add(base + ".name",
              fmt::format("{} is not a managed identity name (3-128 letters, digits, '-' and "
                          "'_', starting with a letter or digit)",
                          quoted(mi.name)));
        }
        auto [it, inserted] = identity_names.emplace(mi.name, i);
        if (!inserted) {
          add(base + ".name", fmt::format("managed identity {} is defined twice (also "
                                          "azure.managedIdentities[{}])",
                                          quoted(mi.name), it->second));
        }
      }
      check_guid(base + ".clientId", mi.client_id, "a client id");
      check_guid(base + ".objectId", mi.object_id, "an object id");
      if (auto [it, inserted] = client_ids.emplace(mi.client_id, base); !inserted)
        add(base + ".clientId", fmt::format("client id is also used by {}", it->second));
      principals.insert(mi.object_id);
      check_federated_credentials(base + ".federatedCredentials", mi.federated_credentials);
    }
    for (size_t i = 0; i < a.app_registrations.size(); ++i) {
      const AppRegistration& app = a.app_registrations[i];
      const std::string base = index_path("azure.appRegistrations", i);
      required(base + ".displayName", app.display_name);
      check_guid(base + ".appId", app.app_id, "an application (client) id");
      check_guid(base + ".objectId", app.object_id, "an object id");
      if (auto [it, inserted] = client_ids.emplace(app.app_id, base); !inserted)
        add(base + ".appId", fmt::format("client id is also used by {}", it->second));
      principals.insert(app.object_id);
      check_federated_credentials(base + ".federatedCredentials", app.federated_credentials);
    }
    std::set<std::string> scopes;
    std::map<std::string, size_t> accounts;
    for (size_t i = 0; i < a.storage_accounts.size(); ++i) {
      const StorageAccount& account = a.storage_accounts[i];
      const std::string base = index_path("azure.storageAccounts", i);
      if (required(base + ".name", account.name)) {
        if (!matches(account.name, patterns().storage_account)) {
          add(base + ".name",
              fmt::format("{} is not a storage account name (3-24 lower-case letters and digits)",
                          quoted(account.name)));
        }
        auto [it, inserted] = accounts.emplace(account.name, i);
        if (!inserted) {
          add(base + ".name",
              fmt::format("storage account {} is defined twice (also azure.storageAccounts[{}])",
                          quoted(account.name), it->second));
        }
      }
      scopes.insert(a.storage_account_resource_id(account.name));
      std::map<std::string, size_t> containers;
      for (size_t j = 0; j < account.containers.size(); ++j) {
        const BlobContainer& container = account.containers[j];
        const std::string path = index_path(base + ".containers", j);
        if (required(path + ".name", container.name)) {
          if (!matches(container.name, patterns().blob_container)) {
            add(path + ".name",
                fmt::format("{} is not a container name (3-63 lower-case letters, digits and "
                            "single hyphens, starting and ending with a letter or digit)",
                            quoted(container.name)));
          }
          auto [it, inserted] = containers.emplace(container.name, j);
          if (!inserted) {
            add(path + ".name", fmt::format("container {} is defined twice (also containers[{}])",
                                            quoted(container.name), it->second));
          }
        }
        scopes.insert(a.blob_container_resource_id(account.name, container.name));
        std::map<std::string, size_t> blobs;
        for (size_t k = 0; k < container.blobs.size(); ++k) {
          const std::string blob_path = index_path(path + ".blobs", k) + ".name";
          if (!required(blob_path, container.blobs[k].name)) continue;
          auto [it, inserted] = blobs.emplace(container.blobs[k].name, k);
          if (!inserted) {
            add(blob_path, fmt::format("blob {} is defined twice (also blobs[{}])",
                                       quoted(container.blobs[k].name), it->second));
          }
        }
      }
    }
    for (size_t i = 0; i < a.role_assignments.size(); ++i) {
      const RoleAssignment& ra = a.role_assignments[i];
      const std::string base = index_path("azure.roleAssignments", i);
      if (required(base + ".role", ra.role) && !known_azure_role(ra.role)) {
        add(base + ".role",
            fmt::format("{} is not a role the local cloud knows (Storage Blob Data Reader, "
                        "Storage Blob Data Contributor or Storage Blob Data Owner)",
                        quoted(ra.role)));
      }
      if (required(base + ".principalId", ra.principal_id) &&
          principals.count(ra.principal_id) == 0) {
        add(base + ".principalId",
            fmt::format("{} is not the object id of a managed identity or app registration",
                        quoted(ra.principal_id)));
      }
      if (required(base + ".scope", ra.scope) && scopes.count(ra.scope) == 0) {
        add(base + ".scope",
            fmt::format("{} is not a storage account or container of azure.storageAccounts",
                        quoted(ra.scope)));
      }
    }
  }

  void check_metadata() {
    const MetadataOptions& m = world_.metadata;
    if (!m.node_service_account.empty() &&
        !matches(m.node_service_account, patterns().node_service_account)) {
      add("metadata.nodeServiceAccount",
          fmt::format("{} is not a Google service account email", quoted(m.node_service_account)));
    }
    if (m.unknown_caller == UnknownCallerPolicy::kNodeIdentity && m.node_service_account.empty()) {
      add("metadata.nodeServiceAccount", "is required when unknownCaller is nodeIdentity");
    }
  }

  const World& world_;
  std::vector<WorldProblem> problems_;
};

}  // namespace

std::vector<WorldProblem> find_world_problems(const World& world) { return Checker(world).run(); }

absl::Status validate_world(const World& world) {
  std::vector<WorldProblem> problems = find_world_problems(world);
  if (problems.empty()) return absl::OkStatus();
  std::vector<std::string> lines;
  lines.reserve(problems.size());
  for (const WorldProblem& p : problems) lines.push_back(p.path + ": " + p.message);
  return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
}

}  // namespace wims::config
