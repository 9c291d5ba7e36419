#include "config/world_loader.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "config/default_world.h"
#include "config/field_path.h"
#include "config/stable_id.h"
#include "config/world_validator.h"
#include "fmt/format.h"
#include "yaml-cpp/yaml.h"

namespace wims::config {
namespace {

struct LocatedError {
  int line = 0;  // 1-based; 0 when unknown
  std::string path;
  std::string message;
};

std::string child_path(std::string_view base, std::string_view key) {
  return base.empty() ? std::string(key) : fmt::format("{}.{}", base, key);
}

// The path one level up: `pods[1].ips[0]` -> `pods[1].ips` -> `pods[1]` -> `pods` -> "".
std::string parent_path(const std::string& path) {
  if (!path.empty() && path.back() == ']') {
    size_t open = path.rfind('[');
    // A quoted key may itself contain '['; find the '[' that opens `["`.
    if (path.size() >= 2 && path[path.size() - 2] == '"') open = path.rfind("[\"");
    return open == std::string::npos ? std::string() : path.substr(0, open);
  }
  const size_t close = path.rfind(']');
  const size_t dot = path.rfind('.');
  if (dot == std::string::npos || (close != std::string::npos && dot < close)) return std::string();
  return path.substr(0, dot);
}

const char* type_name(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return "a scalar";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Null:
      return "null";
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                        std::tolower(static_cast<unsigned char>(b[j - 1]));
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// Walks the YAML document into a World, recording the line of every value it reads (for the
// validator's problems) and an error for every structural problem (unknown key, wrong type),
// without stopping.
class WorldReader {
 public:
  using ValueReader = std::function<void(const YAML::Node& value, const std::string& path)>;
  struct Field {
    std::string_view key;
    ValueReader read;
  };

  void read_document(const YAML::Node& root) {
    World& w = world_;
    read_map(
        root, "",
        {
            {"project", [&](const YAML::Node& n, const std::string& p) { read_project(n, p); }},
            {"cluster", [&](const YAML::Node& n, const std::string& p) { read_cluster(n, p); }},
            {"node", [&](const YAML::Node& n, const std::string& p) { read_node(n, p); }},
            {"namespaces",
             [&](const YAML::Node& n, const std::string& p) {
               namespaces_present_ = true;
               read_string_list(n, p, w.namespaces);
             }},
            {"serviceAccounts",
             [&](const YAML::Node& n, const std::string& p) { read_service_accounts(n, p); }},
            {"pods", [&](const YAML::Node& n, const std::string& p) { read_pods(n, p); }},
            {"google", [&](const YAML::Node& n, const std::string& p) { read_google(n, p); }},
            {"azure", [&](const YAML::Node& n, const std::string& p) { read_azure(n, p); }},
            {"metadata", [&](const YAML::Node& n, const std::string& p) { read_metadata(n, p); }},
        });
  }

  World& world() { return world_; }
  std::vector<LocatedError>& errors() { return errors_; }
  bool namespaces_present() const { return namespaces_present_; }

  // The line of `path`, or of its nearest ancestor that was read; 0 if none.
  int line_of(std::string path) const {
    while (true) {
      if (auto it = lines_.find(path); it != lines_.end()) return it->second;
      if (path.empty()) return 0;
      path = parent_path(path);
    }
  }

  // Whether a structural error was reported at `path` or one of its ancestors, in which case the
  // validator's view of that value is not meaningful.
  bool covered_by_error(std::string path) const {
    while (true) {
      if (error_paths_.count(path) != 0) return true;
      if (path.empty()) return false;
      path = parent_path(path);
    }
  }

  // Whether a structural error was reported at `path` or inside it ("" never matches).
  bool has_error_within(const std::string& path) const {
    if (path.empty()) return false;
    for (const std::string& error_path : error_paths_) {
      if (error_path == path ||
          (error_path.size() > path.size() && error_path.compare(0, path.size(), path) == 0 &&
           (error_path[path.size()] == '.' || error_path[path.size()] == '['))) {
        return true;
      }
    }
    return false;
  }

 private:
  static int line(const YAML::Node& node) {
    const YAML::Mark mark = node.Mark();
    return mark.is_null() ? 0 : mark.line + 1;
  }

  void error(const YAML::Node& node, const std::string& path, std::string message) {
    errors_.push_back({line(node), path, std::move(message)});
    error_paths_.insert(path);
  }

  void record(const YAML::Node& node, const std::string& path) { lines_[path] = line(node); }

  // A map with known keys. Null counts as empty.
  void read_map(const YAML::Node& node, const std::string& path,
                std::initializer_list<Field> fields) {
    if (node.IsNull()) return;
    if (!node.IsMap()) {
      error(node, path.empty() ? "(document)" : path,
            fmt::format("expected a map, got {}", type_name(node)));
      return;
    }
    std::set<std::string> seen;
    // Range-for binds each key/value pair by value: `it->first` would refer into a temporary proxy.
    for (const auto& entry : node) {
      const YAML::Node& key_node = entry.first;
      if (!key_node.IsScalar()) {
        error(key_node, path, fmt::format("keys must be strings, got {}", type_name(key_node)));
        continue;
      }
      const std::string& key = key_node.Scalar();
      const std::string field_path = child_path(path, key);
      if (!seen.insert(key).second) {
        error(key_node, field_path, "duplicate key");
        continue;
      }
      const Field* field = nullptr;
      for (const Field& f : fields) {
        if (f.key == key) field = &f;
      }
      if (field == nullptr) {
        error(key_node, field_path, unknown_key_message(key, fields));
        continue;
      }
      record(entry.second, field_path);
      field->read(entry.second, field_path);
    }
  }

  static std::string unknown_key_message(std::string_view key,
                                         std::initializer_list<Field> fields) {
    const Field* best = nullptr;
    size_t best_distance = 3;  // suggest only close matches: typos, not different words
    std::vector<std::string> names;
    for (const Field& f : fields) {
      names.emplace_back(f.key);
      const size_t d = edit_distance(key, f.key);
      if (d < best_distance) {
        best = &f;
        best_distance = d;
      }
    }
    if (best != nullptr) return fmt::format("unknown key (did you mean \"{}\"?)", best->key);
    return fmt::format("unknown key (expected one of: {})", absl::StrJoin(names, ", "));
  }

  // A list; null counts as empty. Each element is recorded at `path[i]` and handed to
  // `read_element`.
  void read_list(const YAML::Node& node, const std::string& path,
                 const std::function<void(const YAML::Node&, const std::string&)>& read_element) {
    if (node.IsNull()) return;
    if (!node.IsSequence()) {
      error(node, path, fmt::format("expected a list, got {}", type_name(node)));
      return;
    }
    for (size_t i = 0; i < node.size(); ++i) {
      const std::string element_path = index_path(path, i);
      record(node[i], element_path);
      read_element(node[i], element_path);
    }
  }

  void read_string(const YAML::Node& node, const std::string& path, std::string& out) {
    if (node.IsNull()) return;
    if (!node.IsScalar()) {
      error(node, path, fmt::format("expected a string, got {}", type_name(node)));
      return;
    }
    out = node.Scalar();
  }

  template <typename Int>
  void read_integer(const YAML::Node& node, const std::string& path, Int& out) {
    if (node.IsNull()) return;
    Int value{};
    if (!node.IsScalar() || !absl::SimpleAtoi(node.Scalar(), &value)) {
      error(node, path,
            node.IsScalar() ? fmt::format("\"{}\" is not an integer", node.Scalar())
                            : fmt::format("expected an integer, got {}", type_name(node)));
      return;
    }
    out = value;
  }

  void read_bool(const YAML::Node& node, const std::string& path, bool& out) {
    if (node.IsNull()) return;
    if (node.IsScalar()) {
      const std::string& text = node.Scalar();
      if (text == "true") {
        out = true;
        return;
      }
      if (text == "false") {
        out = false;
        return;
      }
    }
    error(node, path,
          node.IsScalar() ? fmt::format("\"{}\" is not a boolean (true or false)", node.Scalar())
                          : fmt::format("expected a boolean, got {}", type_name(node)));
  }

  void read_string_list(const YAML::Node& node, const std::string& path,
                        std::vector<std::string>& out) {
    read_list(node, path, [&](const YAML::Node& n, const std::string& p) {
      read_string(n, p, out.emplace_back());
    });
  }

  // A map of free-form string keys to strings (labels, annotations, tags).
  void read_string_map(const YAML::Node& node, const std::string& path,
                       std::map<std::string, std::string>& out) {
    if (node.IsNull()) return;
    if (!node.IsMap()) {
      error(node, path, fmt::format("expected a map, got {}", type_name(node)));
      return;
    }
    for (const auto& entry : node) {
      if (!entry.first.IsScalar()) {
        error(entry.first, path,
              fmt::format("keys must be strings, got {}", type_name(entry.first)));
        continue;
      }
      const std::string key = entry.first.Scalar();
      const std::string entry_path = key_path(path, key);
      if (out.count(key) != 0) {
        error(entry.first, entry_path, "duplicate key");
        continue;
      }
      record(entry.second, entry_path);
      read_string(entry.second, entry_path, out[key]);
    }
  }

  void read_project(const YAML::Node& node, const std::string& path) {
    Project& p = world_.project;
    read_map(
        node, path,
        {
            {"id", [&](const YAML::Node& n, const std::string& q) { read_string(n, q, p.id); }},
            {"number",
             [&](const YAML::Node& n, const std::string& q) { read_integer(n, q, p.number); }},
            {"awsAccountId", [&](const YAML::Node& n,
                                 const std::string& q) { read_string(n, q, p.aws_account_id); }},
            {"awsRegion",
             [&](const YAML::Node& n, const std::string& q) { read_string(n, q, p.aws_region); }},
        });
  }

  void read_cluster(const YAML::Node& node, const std::string& path) {
    Cluster& c = world_.cluster;
    read_map(
        node, path,
        {
            {"name", [&](const YAML::Node& n, const std::string& q) { read_string(n, q, c.name); }},
            {"location",
             [&](const YAML::Node& n, const std::string& q) { read_string(n, q, c.location); }},
            {"uid", [&](const YAML::Node& n, const std::string& q) { read_string(n, q, c.uid); }},
            {"issuerUrl",
             [&](const YAML::Node& n, const std::string& q) { read_string(n, q, c.issuer_url); }},
            {"jwksUrl",
             [&](const YAML::Node& n, const std::string& q) { read_string(n, q, c.jwks_url); }},
            {"jwksFile",
             [&](const YAML::Node& n, const std::string& q) { read_string(n, q, c.jwks_file); }},
        });
  }

  void read_node(const YAML::Node& node, const std::string& path) {
    Node& nd = world_.node;
    read_map(
        node, path,
        {
            {"name",
             [&](const YAML::Node& n, const std::string& q) { read_string(n, q, nd.name); }},
            {"hostname",
             [&](const YAML::Node& n, const std::string& q) { read_string(n, q, nd.hostname); }},
            {"id", [&](const YAML::Node& n, const std::string& q) { read_integer(n, q, nd.id); }},
            {"zone",
             [&](const YAML::Node& n, const std::string& q) { read_string(n, q, nd.zone); }},
            {"machineType", [&](const YAML::Node& n,
                                const std::string& q) { read_string(n, q, nd.machine_type); }},
        });
  }

  void read_service_accounts(const YAML::Node& node, const std::string& path) {
    read_list(node, path, [&](const YAML::Node& item, const std::string& item_path) {
      ServiceAccount& sa = world_.service_accounts.emplace_back();
      read_map(
          item, item_path,
          {
              {"namespace", [&](const YAML::Node& n,
                                const std::string& q) { read_string(n, q, sa.namespace_name); }},
              {"name",
               [&](const YAML::Node& n, const std::string& q) { read_string(n, q, sa.name); }},
              {"uid",
               [&](const YAML::Node& n, const std::string& q) { read_string(n, q, sa.uid); }},
              {"annotations", [&](const YAML::Node& n,
                                  const std::string& q) { read_string_map(n, q, sa.annotations); }},
          });
    });
  }

  void read_pods(const YAML::Node& node, const std::string& path) {
    read_list(node, path, [&](const YAML::Node& item, const std::string& item_path) {
      Pod& pod = world_.pods.emplace_back();
      read_map(
          item, item_path,
          {
              {"namespace", [&](const YAML::Node& n,
                                const std::string& q) { read_string(n, q, pod.namespace_name); }},
              {"name",
               [&](const YAML::Node& n, const std::string& q) { read_string(n, q, pod.name); }},
              {"uid",
               [&](const YAML::Node& n, const std::string& q) { read_string(n, q, pod.uid); }},
              {"serviceAccountName",
               [&](const YAML::Node& n, const std::string& q) {
                 read_string(n, q, pod.service_account_name);
               }},
              {"ips",
               [&](const YAML::Node& n, const std::string& q) { read_string_list(n, q, pod.ips); }},
              {"hostNetwork", [&](const YAML::Node& n,
                                  const std::string& q) { read_bool(n, q, pod.host_network); }},
              {"labels", [&](const YAML::Node& n,
                             const std::string& q) { read_string_map(n, q, pod.labels); }},
              {"annotations",
               [&](const YAML::Node& n, const std::string& q) {
                 read_string_map(n, q, pod.annotations);
               }},
          });
    });
  }

  void read_bindings(const YAML::Node& node, const std::string& path, std::vector<Binding>& out) {
    read_list(node, path, [&](const YAML::Node& item, const std::string& item_path) {
      Binding& b = out.emplace_back();
      read_map(item, item_path,
               {
                   {"role",
                    [&](const YAML::Node& n, const std::string& q) { read_string(n, q, b.role); }},
                   {"members", [&](const YAML::Node& n,
                                   const std::string& q) { read_string_list(n, q, b.members); }},
                   {"condition",
                    [&](const YAML::Node& n, const std::string& q) {
                      read_map(n, q,
                               {
                                   {"title",
                                    [&](const YAML::Node& m, const std::string& r) {
                                      read_string(m, r, b.condition_title);
                                    }},
                                   {"description",
                                    [&](const YAML::Node& m, const std::string& r) {
                                      read_string(m, r, b.condition_description);
                                    }},
                                   {"expression",
                                    [&](const YAML::Node& m, const std::string& r) {
                                      read_string(m, r, b.condition_expression);
                                    }},
                               });
                    }},
               });
    });
  }

  void read_google(const YAML::Node& node, const std::string& path) {
    GoogleCloud& g = world_.google;
    read_map(
        node, path,
        {
            {"serviceAccounts",
             [&](const YAML::Node& n, const std::string& q) {
               read_list(n, q, [&](const YAML::Node& item, const std::string& item_path) {
                 GoogleServiceAccount& gsa = g.service_accounts.emplace_back();
                 read_map(
                     item, item_path,
                     {
                         {"email", [&](const YAML::Node& m,
                                       const std::string& r) { read_string(m, r, gsa.email); }},
                         {"displayName",
                          [&](const YAML::Node& m, const std::string& r) {
                            read_string(m, r, gsa.display_name);
                          }},
                         {"bindings",
                          [&](const YAML::Node& m, const std::string& r) {
                            read_bindings(m, r, gsa.bindings);
                          }},
                     });
               });
             }},
            {"buckets",
             [&](const YAML::Node& n, const std::string& q) {
               read_list(n, q, [&](const YAML::Node& item, const std::string& item_path) {
                 Bucket& bucket = g.buckets.emplace_back();
                 read_map(
                     item, item_path,
                     {
                         {"name", [&](const YAML::Node& m,
                                      const std::string& r) { read_string(m, r, bucket.name); }},
                         {"objects", [&](const YAML::Node& m,
                                         const std::string& r) { read_objects(m, r, bucket); }},
                         {"bindings",
                          [&](const YAML::Node& m, const std::string& r) {
                            read_bindings(m, r, bucket.bindings);
                          }},
                         {"tags",
                          [&](const YAML::Node& m, const std::string& r) {
                            read_string_map(m, r, bucket.tags);
                          }},
                     });
               });
             }},
            {"projectBindings",
             [&](const YAML::Node& n, const std::string& q) {
               read_bindings(n, q, g.project_bindings);
             }},
            {"stsExchangesPerMinute",
             [&](const YAML::Node& n, const std::string& q) {
               read_integer(n, q, g.sts_exchanges_per_minute);
             }},
        });
  }

  void read_objects(const YAML::Node& node, const std::string& path, Bucket& bucket) {
    read_list(node, path, [&](const YAML::Node& item, const std::string& item_path) {
      BucketObject& object = bucket.objects.emplace_back();
      read_map(item, item_path,
               {
                   {"name", [&](const YAML::Node& m,
                                const std::string& r) { read_string(m, r, object.name); }},
                   {"content", [&](const YAML::Node& m,
                                   const std::string& r) { read_string(m, r, object.content); }},
               });
    });
  }

  void read_federated_credentials(const YAML::Node& node, const std::string& path,
                                  std::vector<FederatedCredential>& out) {
    read_list(node, path, [&](const YAML::Node& item, const std::string& item_path) {
      FederatedCredential& fic = out.emplace_back();
      read_map(
          item, item_path,
          {
              {"name",
               [&](const YAML::Node& m, const std::string& r) { read_string(m, r, fic.name); }},
              {"issuer",
               [&](const YAML::Node& m, const std::string& r) { read_string(m, r, fic.issuer); }},
              {"subject",
               [&](const YAML::Node& m, const std::string& r) { read_string(m, r, fic.subject); }},
              {"audiences",
               [&](const YAML::Node& m, const std::string& r) {
                 fic.audiences.clear();
                 read_string_list(m, r, fic.audiences);
               }},
          });
    });
  }

  void read_azure(const YAML::Node& node, const std::string& path) {
    AzureCloud& a = world_.azure;
    auto string_field = [&](std::string_view key, std::string& out) {
      return Field{key, [&](const YAML::Node& n, const std::string& q) { read_string(n, q, out); }};
    };
    read_map(
        node, path,
        {
            string_field("tenantId", a.tenant_id),
            string_field("subscriptionId", a.subscription_id),
            string_field("resourceGroup", a.resource_group),
            string_field("location", a.location),
            {"managedIdentities",
             [&](const YAML::Node& n, const std::string& q) {
               read_list(n, q, [&](const YAML::Node& item, const std::string& item_path) {
                 ManagedIdentity& mi = a.managed_identities.emplace_back();
                 read_map(item, item_path,
                          {
                              string_field("name", mi.name),
                              string_field("clientId", mi.client_id),
                              string_field("objectId", mi.object_id),
                              {"federatedCredentials",
                               [&](const YAML::Node& m, const std::string& r) {
                                 read_federated_credentials(m, r, mi.federated_credentials);
                               }},
                          });
               });
             }},
            {"appRegistrations",
             [&](const YAML::Node& n, const std::string& q) {
               read_list(n, q, [&](const YAML::Node& item, const std::string& item_path) {
                 AppRegistration& app = a.app_registrations.emplace_back();
                 read_map(item, item_path,
                          {
                              string_field("displayName", app.display_name),
                              string_field("appId", app.app_id),
                              string_field("objectId", app.object_id),
                              {"federatedCredentials",
                               [&](const YAML::Node& m, const std::string& r) {
                                 read_federated_credentials(m, r, app.federated_credentials);
                               }},
                          });
               });
             }},
            {"storageAccounts",
             [&](const YAML::Node& n, const std::string& q) {
               read_list(n, q, [&](const YAML::Node& item, const std::string& item_path) {
                 StorageAccount& account = a.storage_accounts.emplace_back();
                 read_map(
                     item, item_path,
                     {
                         string_field("name", account.name),
                         {"containers",
                          [&](const YAML::Node& m, const std::string& r) {
                            read_list(m, r, [&](const YAML::Node& c, const std::string& c_path) {
                              BlobContainer& container = account.containers.emplace_back();
                              read_map(c, c_path,
                                       {
                                           string_field("name", container.name),
                                           {"blobs",
                                            [&](const YAML::Node& b, const std::string& b_path) {
                                              read_list(
                                                  b, b_path,
                                                  [&](const YAML::Node& blob_node,
                                                      const std::string& blob_path) {
                                                    BlobItem& blob = container.blobs.emplace_back();
                                                    read_map(
                                                        blob_node, blob_path,
                                                        {
                                                            string_field("name", blob.name),
                                                            string_field("content", blob.content),
                                                        });
                                                  });
                                            }},
                                       });
                            });
                          }},
                     });
               });
             }},
            {"roleAssignments",
             [&](const YAML::Node& n, const std::string& q) {
               read_list(n, q, [&](const YAML::Node& item, const std::string& item_path) {
                 RoleAssignment& ra = a.role_assignments.emplace_back();
                 read_map(item, item_path,
                          {
                              string_field("role", ra.role),
                              string_field("principalId", ra.principal_id),
                              string_field("scope", ra.scope),
                          });
               });
             }},
        });
  }

  void read_metadata(const YAML::Node& node, const std::string& path) {
    MetadataOptions& m = world_.metadata;
    read_map(node, path,
             {
                 {"unknownCaller",
                  [&](const YAML::Node& n, const std::string& q) {
                    std::string value;
                    read_string(n, q, value);
                    if (value == "deny") {
                      m.unknown_caller = UnknownCallerPolicy::kDeny;
                    } else if (value == "nodeIdentity") {
                      m.unknown_caller = UnknownCallerPolicy::kNodeIdentity;
                    } else if (n.IsScalar()) {
                      error(n, q, fmt::format("\"{}\" is not one of: deny, nodeIdentity", value));
                    }
                  }},
                 {"nodeServiceAccount",
                  [&](const YAML::Node& n, const std::string& q) {
                    read_string(n, q, m.node_service_account);
                  }},
             });
  }

  World world_;
  bool namespaces_present_ = false;
  std::vector<LocatedError> errors_;
  std::set<std::string> error_paths_;
  std::map<std::string, int> lines_;
};

// Fills in what a world file may leave out; see docs/configuration.md "Defaults".
void apply_defaults(World& world, bool namespaces_present) {
  const World defaults = default_world();
  Project& p = world.project;
  if (p.id.empty()) p.id = defaults.project.id;
  if (p.number == 0) p.number = defaults.project.number;
  if (p.aws_account_id.empty()) p.aws_account_id = defaults.project.aws_account_id;
  if (p.aws_region.empty()) p.aws_region = defaults.project.aws_region;

  Cluster& c = world.cluster;
  if (c.name.empty()) c.name = defaults.cluster.name;
  if (c.location.empty()) c.location = defaults.cluster.location;
  if (c.uid.empty()) c.uid = name_based_cluster_uid(p.id + "/" + c.location + "/" + c.name);

  Node& n = world.node;
  if (n.name.empty()) n.name = defaults.node.name;
  if (n.hostname.empty()) n.hostname = n.name + ".c." + p.id + ".internal";
  if (n.id == 0) n.id = name_based_instance_id(n.name);
  if (n.zone.empty()) {
    // A zonal cluster's nodes are in its zone; a regional cluster's node defaults to the region's
    // zone a.
    const bool location_is_zone = c.location.size() > 2 && c.location[c.location.size() - 2] == '-';
    n.zone = location_is_zone ? c.location : c.location + "-a";
  }
  if (n.machine_type.empty()) n.machine_type = defaults.node.machine_type;

  if (!namespaces_present) world.namespaces = {"default"};
  // Kubernetes creates a `default` ServiceAccount in every namespace.
  std::set<std::string> added;
  for (const std::string& ns : world.namespaces) {
    if (ns.empty() || world.find_service_account(ns, "default") != nullptr ||
        !added.insert(ns).second)
      continue;
    world.service_accounts.push_back(
        ServiceAccount{.namespace_name = ns, .name = "default", .uid = "", .annotations = {}});
  }
  for (ServiceAccount& sa : world.service_accounts) {
    if (sa.uid.empty())
      sa.uid = name_based_uid("serviceaccount/" + sa.namespace_name + "/" + sa.name);
  }
  AzureCloud& a = world.azure;
  if (a.tenant_id.empty()) a.tenant_id = name_based_uid("azure/tenant/" + p.id);
  if (a.subscription_id.empty()) a.subscription_id = name_based_uid("azure/subscription/" + p.id);
  if (a.resource_group.empty()) a.resource_group = defaults.azure.resource_group;
  if (a.location.empty()) a.location = defaults.azure.location;
  for (ManagedIdentity& mi : a.managed_identities) {
    const std::string id = a.managed_identity_resource_id(mi.name);
    if (mi.client_id.empty()) mi.client_id = name_based_uid("azure/client/" + id);
    if (mi.object_id.empty()) mi.object_id = name_based_uid("azure/object/" + id);
  }
  for (AppRegistration& app : a.app_registrations) {
    const std::string id = a.tenant_id + "/" + app.display_name;
    if (app.app_id.empty()) app.app_id = name_based_uid("azure/app/" + id);
    if (app.object_id.empty()) app.object_id = name_based_uid("azure/sp/" + id);
  }
  for (Pod& pod : world.pods) {
    if (pod.uid.empty()) pod.uid = name_based_uid("pod/" + pod.namespace_name + "/" + pod.name);
    for (std::string& ip : pod.ips) {
      if (std::optional<std::string> canonical = canonical_ip(ip)) ip = *canonical;
    }
  }
}

std::string format_error(std::string_view source, const LocatedError& e) {
  if (e.line > 0) return fmt::format("{}:{}: {}: {}", source, e.line, e.path, e.message);
  return fmt::format("{}: {}: {}", source, e.path, e.message);
}

}  // namespace

absl::StatusOr<World> load_world_yaml(std::string_view yaml, std::string_view source_name) {
  return load_world_yaml_in(yaml, source_name, "");
}

absl::StatusOr<World> load_world_yaml_in(std::string_view yaml, std::string_view source_name,
                                         std::string_view base_dir) {
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        fmt::format("{}:{}: {}", source_name, e.mark.is_null() ? 0 : e.mark.line + 1, e.msg));
  }
  if (documents.size() > 1) {
    return absl::InvalidArgumentError(fmt::format(
        "{}: a world file holds one YAML document, found {}", source_name, documents.size()));
  }
  WorldReader reader;
  try {
    if (!documents.empty()) reader.read_document(documents.front());
  } catch (const YAML::Exception& e) {
    // The reader checks node types before every access, so this is not expected; report it rather
    // than crash.
    reader.errors().push_back({e.mark.is_null() ? 0 : e.mark.line + 1, "(document)", e.msg});
  }
  World& world = reader.world();
  apply_defaults(world, reader.namespaces_present());
  // Before validation, which checks that the file is readable.
  std::string& jwks_file = world.cluster.jwks_file;
  if (!base_dir.empty() && !jwks_file.empty() && jwks_file.front() != '/') {
    jwks_file = fmt::format("{}/{}", base_dir, jwks_file);
  }

  std::vector<LocatedError> errors = std::move(reader.errors());
  for (WorldProblem& problem : find_world_problems(world)) {
    if (reader.covered_by_error(problem.path) || reader.has_error_within(problem.refers_to))
      continue;
    const int line = reader.line_of(problem.path);
    errors.push_back({line, std::move(problem.path), std::move(problem.message)});
  }
  if (errors.empty()) return std::move(world);

  std::stable_sort(errors.begin(), errors.end(), [](const LocatedError& a, const LocatedError& b) {
    return (a.line == 0 ? INT_MAX : a.line) < (b.line == 0 ? INT_MAX : b.line);
  });
  std::vector<std::string> lines;
  lines.reserve(errors.size());
  for (const LocatedError& e : errors) lines.push_back(format_error(source_name, e));
  return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
}

absl::StatusOr<World> load_world_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    return absl::Status(absl::ErrnoToStatusCode(err),
                        fmt::format("cannot read world file {}: {}", path, std::strerror(err)));
  }
  std::string text;
  char buffer[64 * 1024];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxWorldFileBytes) {
      return absl::InvalidArgumentError(
          fmt::format("world file {} is larger than {} bytes", path, kMaxWorldFileBytes));
    }
  }
  if (in.bad()) return absl::DataLossError(fmt::format("error reading world file {}", path));
  const size_t slash = path.rfind('/');
  return load_world_yaml_in(
      text, path, slash == std::string::npos ? "." : path.substr(0, std::max<size_t>(slash, 1)));
}

std::string world_to_yaml(const World& world) {
  YAML::Emitter out;
  auto string_map = [&out](const char* key, const std::map<std::string, std::string>& values) {
    if (values.empty()) return;
    out << YAML::Key << key << YAML::Value << YAML::BeginMap;
    for (const auto& [k, v] : values)
      out << YAML::Key << YAML::DoubleQuoted << k << YAML::Value << YAML::DoubleQuoted << v;
    out << YAML::EndMap;
  };
  auto bindings = [&out](const char* key, const std::vector<Binding>& list) {
    if (list.empty()) return;
    out << YAML::Key << key << YAML::Value << YAML::BeginSeq;
    for (const Binding& b : list) {
      out << YAML::BeginMap << YAML::Key << "role" << YAML::Value << YAML::DoubleQuoted << b.role;
      out << YAML::Key << "members" << YAML::Value << YAML::BeginSeq;
      for (const std::string& m : b.members) out << YAML::DoubleQuoted << m;
      out << YAML::EndSeq;
      if (!b.condition_title.empty() || !b.condition_description.empty() ||
          !b.condition_expression.empty()) {
        out << YAML::Key << "condition" << YAML::Value << YAML::BeginMap;
        out << YAML::Key << "title" << YAML::Value << YAML::DoubleQuoted << b.condition_title;
        out << YAML::Key << "description" << YAML::Value << YAML::DoubleQuoted
            << b.condition_description;
        out << YAML::Key << "expression" << YAML::Value << YAML::DoubleQuoted
            << b.condition_expression;
        out << YAML::EndMap;
      }
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  };

  out << YAML::BeginMap;
  out << YAML::Key << "project" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "id" << YAML::Value << YAML::DoubleQuoted << world.project.id;
  out << YAML::Key << "number" << YAML::Value << world.project.number;
  out << YAML::Key << "awsAccountId" << YAML::Value << YAML::DoubleQuoted
      << world.project.aws_account_id;
  out << YAML::Key << "awsRegion" << YAML::Value << YAML::DoubleQuoted << world.project.aws_region;
  out << YAML::EndMap;

  out << YAML::Key << "cluster" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << world.cluster.name;
  out << YAML::Key << "location" << YAML::Value << YAML::DoubleQuoted << world.cluster.location;
  out << YAML::Key << "uid" << YAML::Value << YAML::DoubleQuoted << world.cluster.uid;
  if (!world.cluster.issuer_url.empty())
    out << YAML::Key << "issuerUrl" << YAML::Value << YAML::DoubleQuoted
        << world.cluster.issuer_url;
  if (!world.cluster.jwks_url.empty())
    out << YAML::Key << "jwksUrl" << YAML::Value << YAML::DoubleQuoted << world.cluster.jwks_url;
  if (!world.cluster.jwks_file.empty())
    out << YAML::Key << "jwksFile" << YAML::Value << YAML::DoubleQuoted << world.cluster.jwks_file;
  out << YAML::EndMap;

  out << YAML::Key << "node" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << world.node.name;
  out << YAML::Key << "hostname" << YAML::Value << YAML::DoubleQuoted << world.node.hostname;
  out << YAML::Key << "id" << YAML::Value << world.node.id;
  out << YAML::Key << "zone" << YAML::Value << YAML::DoubleQuoted << world.node.zone;
  out << YAML::Key << "machineType" << YAML::Value << YAML::DoubleQuoted << world.node.machine_type;
  out << YAML::EndMap;

  out << YAML::Key << "namespaces" << YAML::Value << YAML::BeginSeq;
  for (const std::string& ns : world.namespaces) out << YAML::DoubleQuoted << ns;
  out << YAML::EndSeq;

  out << YAML::Key << "serviceAccounts" << YAML::Value << YAML::BeginSeq;
  for (const ServiceAccount& sa : world.service_accounts) {
    out << YAML::BeginMap;
    out << YAML::Key << "namespace" << YAML::Value << YAML::DoubleQuoted << sa.namespace_name;
    out << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << sa.name;
    out << YAML::Key << "uid" << YAML::Value << YAML::DoubleQuoted << sa.uid;
    string_map("annotations", sa.annotations);
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;

  out << YAML::Key << "pods" << YAML::Value << YAML::BeginSeq;
  for (const Pod& pod : world.pods) {
    out << YAML::BeginMap;
    out << YAML::Key << "namespace" << YAML::Value << YAML::DoubleQuoted << pod.namespace_name;
    out << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << pod.name;
    out << YAML::Key << "uid" << YAML::Value << YAML::DoubleQuoted << pod.uid;
    out << YAML::Key << "serviceAccountName" << YAML::Value << YAML::DoubleQuoted
        << pod.service_account_name;
    if (!pod.ips.empty()) {
      out << YAML::Key << "ips" << YAML::Value << YAML::Flow << YAML::BeginSeq;
      for (const std::string& ip : pod.ips) out << YAML::DoubleQuoted << ip;
      out << YAML::EndSeq;
    }
    out << YAML::Key << "hostNetwork" << YAML::Value << (pod.host_network ? "true" : "false");
    string_map("labels", pod.labels);
    string_map("annotations", pod.annotations);
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;

  out << YAML::Key << "google" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "serviceAccounts" << YAML::Value << YAML::BeginSeq;
  for (const GoogleServiceAccount& gsa : world.google.service_accounts) {
    out << YAML::BeginMap << YAML::Key << "email" << YAML::Value << YAML::DoubleQuoted << gsa.email;
    if (!gsa.display_name.empty()) {
      out << YAML::Key << "displayName" << YAML::Value << YAML::DoubleQuoted << gsa.display_name;
    }
    bindings("bindings", gsa.bindings);
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::Key << "buckets" << YAML::Value << YAML::BeginSeq;
  for (const Bucket& bucket : world.google.buckets) {
    out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted
        << bucket.name;
    if (!bucket.objects.empty()) {
      out << YAML::Key << "objects" << YAML::Value << YAML::BeginSeq;
      for (const BucketObject& object : bucket.objects) {
        out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted
            << object.name;
        out << YAML::Key << "content" << YAML::Value << YAML::DoubleQuoted << object.content
            << YAML::EndMap;
      }
      out << YAML::EndSeq;
    }
    bindings("bindings", bucket.bindings);
    string_map("tags", bucket.tags);
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  bindings("projectBindings", world.google.project_bindings);
  out << YAML::Key << "stsExchangesPerMinute" << YAML::Value
      << world.google.sts_exchanges_per_minute;
  out << YAML::EndMap;

  const AzureCloud& a = world.azure;
  auto federated = [&out](const std::vector<FederatedCredential>& list) {
    if (list.empty()) return;
    out << YAML::Key << "federatedCredentials" << YAML::Value << YAML::BeginSeq;
    for (const FederatedCredential& fic : list) {
      out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << fic.name;
      if (!fic.issuer.empty())
        out << YAML::Key << "issuer" << YAML::Value << YAML::DoubleQuoted << fic.issuer;
      out << YAML::Key << "subject" << YAML::Value << YAML::DoubleQuoted << fic.subject;
      out << YAML::Key << "audiences" << YAML::Value << YAML::Flow << YAML::BeginSeq;
      for (const std::string& audience : fic.audiences) out << YAML::DoubleQuoted << audience;
      out << YAML::EndSeq << YAML::EndMap;
    }
    out << YAML::EndSeq;
  };
  out << YAML::Key << "azure" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "tenantId" << YAML::Value << YAML::DoubleQuoted << a.tenant_id;
  out << YAML::Key << "subscriptionId" << YAML::Value << YAML::DoubleQuoted << a.subscription_id;
  out << YAML::Key << "resourceGroup" << YAML::Value << YAML::DoubleQuoted << a.resource_group;
  out << YAML::Key << "location" << YAML::Value << YAML::DoubleQuoted << a.location;
  out << YAML::Key << "managedIdentities" << YAML::Value << YAML::BeginSeq;
  for (const ManagedIdentity& mi : a.managed_identities) {
    out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << mi.name;
    out << YAML::Key << "clientId" << YAML::Value << YAML::DoubleQuoted << mi.client_id;
    out << YAML::Key << "objectId" << YAML::Value << YAML::DoubleQuoted << mi.object_id;
    federated(mi.federated_credentials);
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::Key << "appRegistrations" << YAML::Value << YAML::BeginSeq;
  for (const AppRegistration& app : a.app_registrations) {
    out << YAML::BeginMap << YAML::Key << "displayName" << YAML::Value << YAML::DoubleQuoted
        << app.display_name;
    out << YAML::Key << "appId" << YAML::Value << YAML::DoubleQuoted << app.app_id;
    out << YAML::Key << "objectId" << YAML::Value << YAML::DoubleQuoted << app.object_id;
    federated(app.federated_credentials);
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::Key << "storageAccounts" << YAML::Value << YAML::BeginSeq;
  for (const StorageAccount& account : a.storage_accounts) {
    out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted
        << account.name;
    out << YAML::Key << "containers" << YAML::Value << YAML::BeginSeq;
    for (const BlobContainer& container : account.containers) {
      out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted
          << container.name;
      out << YAML::Key << "blobs" << YAML::Value << YAML::BeginSeq;
      for (const BlobItem& blob : container.blobs) {
        out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted
            << blob.name;
        out << YAML::Key << "content" << YAML::Value << YAML::DoubleQuoted << blob.content
            << YAML::EndMap;
      }
      out << YAML::EndSeq << YAML::EndMap;
    }
    out << YAML::EndSeq << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::Key << "roleAssignments" << YAML::Value << YAML::BeginSeq;
  for (const RoleAssignment& ra : a.role_assignments) {
    out << YAML::BeginMap << YAML::Key << "role" << YAML::Value << YAML::DoubleQuoted << ra.role;
    out << YAML::Key << "principalId" << YAML::Value << YAML::DoubleQuoted << ra.principal_id;
    out << YAML::Key << "scope" << YAML::Value << YAML::DoubleQuoted << ra.scope << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::EndMap;

  out << YAML::Key << "metadata" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "unknownCaller" << YAML::Value
      << (world.metadata.unknown_caller == UnknownCallerPolicy::kDeny ? "deny" : "nodeIdentity");
  if (!world.metadata.node_service_account.empty()) {
    out << YAML::Key << "nodeServiceAccount" << YAML::Value << YAML::DoubleQuoted
        << world.metadata.node_service_account;
  }
  out << YAML::EndMap;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace wims::config
