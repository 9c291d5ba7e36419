#include "kube/kube_config.h"

#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/url/parse.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "common/encoding.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "fmt/format.h"

namespace wims::kube {
namespace {

namespace asio = boost::asio;

std::string trim(std::string s) {
  absl::StripAsciiWhitespace(&s);
  return s;
}

// Validates a server URL and drops a trailing '/'.
absl::StatusOr<std::string> normalize_server(const std::string& server, const std::string& where) {
  auto url =
      boost::urls::parse_absolute_uri(boost::urls::string_view(server.data(), server.size()));
  if (!url) {
    return absl::InvalidArgumentError(fmt::format("{}: server \"{}\" is not an absolute URL: {}",
                                                  where, server, url.error().message()));
  }
  if (url->scheme_id() != boost::urls::scheme::https &&
      url->scheme_id() != boost::urls::scheme::http) {
    return absl::InvalidArgumentError(
        fmt::format("{}: server \"{}\" must be an https (or http) URL", where, server));
  }
  if (url->encoded_host().empty()) {
    return absl::InvalidArgumentError(fmt::format("{}: server \"{}\" has no host", where, server));
  }
  if (url->has_query() || url->has_fragment() || url->has_userinfo()) {
    return absl::InvalidArgumentError(fmt::format(
        "{}: server \"{}\" must not carry user info, a query or a fragment", where, server));
  }
  std::string out = server;
  while (!out.empty() && out.back() == '/') out.pop_back();
  return out;
}

std::string resolve_path(const std::string& path, const std::string& base_dir) {
  if (path.empty() || path.front() == '/' || base_dir.empty()) return path;
  return base_dir + "/" + path;
}

// `node[key]` as a string; "" when absent; error when present but not a scalar.
absl::StatusOr<std::string> scalar(const YAML::Node& node, const char* key,
                                   const std::string& where) {
  YAML::Node value = node[key];
  if (!value || value.IsNull()) return std::string();
  if (!value.IsScalar()) {
    return absl::InvalidArgumentError(fmt::format("{}.{} must be a string", where, key));
  }
  return value.as<std::string>();
}

absl::StatusOr<bool> boolean(const YAML::Node& node, const char* key, const std::string& where) {
  YAML::Node value = node[key];
  if (!value || value.IsNull()) return false;
  bool out = false;
  if (!value.IsScalar() || !YAML::convert<bool>::decode(value, out)) {
    return absl::InvalidArgumentError(fmt::format("{}.{} must be true or false", where, key));
  }
  return out;
}

// Finds the entry named `name` in the list `section` (clusters, contexts, users) and returns its
// `field`.
absl::StatusOr<YAML::Node> named_entry(const YAML::Node& root, const char* section,
                                       const char* field, const std::string& name,
                                       const std::string& origin) {
  YAML::Node list = root[section];
  if (list && !list.IsNull() && !list.IsSequence()) {
    return absl::InvalidArgumentError(fmt::format("{}: {} must be a list", origin, section));
  }
  if (list) {
    for (size_t i = 0; i < list.size(); ++i) {
      const YAML::Node entry = list[i];
      if (!entry.IsMap()) {
        return absl::InvalidArgumentError(
            fmt::format("{}: {}[{}] must be a map", origin, section, i));
      }
      if (entry["name"] && entry["name"].IsScalar() && entry["name"].as<std::string>() == name) {
        YAML::Node body = entry[field];
        if (!body || !body.IsMap()) {
          return absl::InvalidArgumentError(
              fmt::format("{}: {}[{}] (\"{}\") has no {} map", origin, section, i, name, field));
        }
        return body;
      }
    }
  }
  return absl::NotFoundError(fmt::format("{}: no {} entry named \"{}\"", origin, field, name));
}

// Inline base64 data or a file, for certificate-authority / client-certificate / client-key.
absl::StatusOr<std::string> data_or_file(const YAML::Node& node, const char* data_key,
                                         const char* file_key, const std::string& where,
                                         const std::string& base_dir) {
  WIMS_ASSIGN_OR_RETURN(std::string data, scalar(node, data_key, where));
  WIMS_ASSIGN_OR_RETURN(std::string file, scalar(node, file_key, where));
  if (!data.empty()) {
    absl::StatusOr<std::string> decoded = base64_decode(trim(data));
    if (!decoded.ok()) {
      return absl::InvalidArgumentError(fmt::format("{}.{} is not valid base64: {}", where,
                                                    data_key, to_std(decoded.status().message())));
    }
    return *decoded;
  }
  if (!file.empty()) {
    absl::StatusOr<std::string> content = read_file(resolve_path(file, base_dir));
    if (!content.ok()) {
      return absl::Status(content.status().code(), fmt::format("{}.{}: {}", where, file_key,
                                                               to_std(content.status().message())));
    }
    return content;
  }
  return std::string();
}

absl::StatusOr<KubeConfig> parse_root(const YAML::Node& root, const std::string& base_dir,
                                      const std::string& origin, const KubeConfigOptions& options) {
  if (!root.IsMap())
    return absl::InvalidArgumentError(fmt::format("{}: not a kubeconfig map", origin));
  WIMS_ASSIGN_OR_RETURN(std::string kind, scalar(root, "kind", origin));
  if (!kind.empty() && kind != "Config") {
    return absl::InvalidArgumentError(
        fmt::format("{}: kind is \"{}\", expected Config", origin, kind));
  }
  std::string context_name = options.context;
  if (context_name.empty()) {
    WIMS_ASSIGN_OR_RETURN(context_name, scalar(root, "current-context", origin));
    if (context_name.empty()) {
      return absl::InvalidArgumentError(
          fmt::format("{}: no current-context is set and no context was given", origin));
    }
  }
  WIMS_ASSIGN_OR_RETURN(YAML::Node context,
                        named_entry(root, "contexts", "context", context_name, origin));
  const std::string context_where = fmt::format("{}: contexts[{}].context", origin, context_name);
  WIMS_ASSIGN_OR_RETURN(std::string cluster_name, scalar(context, "cluster", context_where));
  WIMS_ASSIGN_OR_RETURN(std::string user_name, scalar(context, "user", context_where));
  if (cluster_name.empty()) {
    return absl::InvalidArgumentError(fmt::format("{}.cluster is required", context_where));
  }

  KubeConfig config;
  config.source = fmt::format("kubeconfig {} (context {})", origin, context_name);

  WIMS_ASSIGN_OR_RETURN(YAML::Node cluster,
                        named_entry(root, "clusters", "cluster", cluster_name, origin));
  const std::string cluster_where = fmt::format("{}: clusters[{}].cluster", origin, cluster_name);
  WIMS_ASSIGN_OR_RETURN(std::string server, scalar(cluster, "server", cluster_where));
  if (server.empty())
    return absl::InvalidArgumentError(fmt::format("{}.server is required", cluster_where));
  WIMS_ASSIGN_OR_RETURN(config.server, normalize_server(server, cluster_where));
  WIMS_ASSIGN_OR_RETURN(config.ca_pem,
                        data_or_file(cluster, "certificate-authority-data", "certificate-authority",
                                     cluster_where, base_dir));
  WIMS_ASSIGN_OR_RETURN(config.tls_server_name, scalar(cluster, "tls-server-name", cluster_where));
  WIMS_ASSIGN_OR_RETURN(config.insecure_skip_tls_verify,
                        boolean(cluster, "insecure-skip-tls-verify", cluster_where));
  if (config.insecure_skip_tls_verify) {
    if (!options.allow_insecure) {
      return absl::InvalidArgumentError(
          fmt::format("{} sets insecure-skip-tls-verify: true; refusing to talk to an unverified "
                      "API server (set "
                      "certificate-authority(-data), or allow insecure TLS explicitly)",
                      cluster_where));
    }
    if (!config.ca_pem.empty()) {
      return absl::InvalidArgumentError(fmt::format(
          "{} sets both insecure-skip-tls-verify and a certificate authority", cluster_where));
    }
  }

  if (!user_name.empty()) {
    WIMS_ASSIGN_OR_RETURN(YAML::Node user, named_entry(root, "users", "user", user_name, origin));
    const std::string user_where = fmt::format("{}: users[{}].user", origin, user_name);
    for (const char* plugin : {"exec", "auth-provider"}) {
      if (user[plugin]) {
        return absl::UnimplementedError(
            fmt::format("{}.{}: credential plugins are not supported; use a token, tokenFile or "
                        "client certificate",
                        user_where, plugin));
      }
    }
    if (user["username"] || user["password"]) {
      return absl::UnimplementedError(fmt::format(
          "{}: basic authentication is not supported (removed in Kubernetes 1.19)", user_where));
    }
    WIMS_ASSIGN_OR_RETURN(config.bearer_token, scalar(user, "token", user_where));
    WIMS_ASSIGN_OR_RETURN(std::string token_file, scalar(user, "tokenFile", user_where));
    if (!config.bearer_token.empty() && !token_file.empty()) {
      return absl::InvalidArgumentError(
          fmt::format("{} sets both token and tokenFile", user_where));
    }
    if (!token_file.empty()) config.token_file = resolve_path(token_file, base_dir);
    WIMS_ASSIGN_OR_RETURN(
        config.client_cert_pem,
        data_or_file(user, "client-certificate-data", "client-certificate", user_where, base_dir));
    WIMS_ASSIGN_OR_RETURN(config.client_key_pem, data_or_file(user, "client-key-data", "client-key",
                                                              user_where, base_dir));
    if (config.client_cert_pem.empty() != config.client_key_pem.empty()) {
      return absl::InvalidArgumentError(fmt::format(
          "{}: a client certificate needs both client-certificate(-data) and client-key(-data)",
          user_where));
    }
  }
  return config;
}

}  // namespace

absl::StatusOr<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    if (err == ENOENT) return absl::NotFoundError(fmt::format("{} does not exist", path));
    if (err == EACCES)
      return absl::PermissionDeniedError(fmt::format("{}: permission denied", path));
    return absl::InternalError(fmt::format("cannot read {}: {}", path, std::strerror(err)));
  }
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) return absl::InternalError(fmt::format("cannot read {}", path));
  return out.str();
}

absl::StatusOr<KubeConfig> load_in_cluster_config(InClusterEnvironment env) {
  if (!env.getenv) {
    env.getenv = [](std::string_view name) -> std::optional<std::string> {
      const char* value = std::getenv(std::string(name).c_str());
      if (value == nullptr) return std::nullopt;
      return std::string(value);
    };
  }
  std::optional<std::string> host = env.getenv("KUBERNETES_SERVICE_HOST");
  std::optional<std::string> port = env.getenv("KUBERNETES_SERVICE_PORT");
  if (!host || host->empty() || !port || port->empty()) {
    return absl::FailedPreconditionError(
        "not running in a Kubernetes cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT "
        "must be "
        "set (or pass --kubeconfig)");
  }
  boost::system::error_code ec;
  auto address = asio::ip::make_address(*host, ec);
  const std::string authority = (!ec && address.is_v6()) ? fmt::format("[{}]:{}", *host, *port)
                                                         : fmt::format("{}:{}", *host, *port);
  KubeConfig config;
  config.source = "in-cluster";
  WIMS_ASSIGN_OR_RETURN(config.server, normalize_server("https://" + authority,
                                                        "in-cluster KUBERNETES_SERVICE_HOST/PORT"));
  config.token_file = env.secrets_dir + "/token";
  absl::StatusOr<std::string> token = read_file(config.token_file);
  if (!token.ok()) {
    return absl::FailedPreconditionError(
        fmt::format("in-cluster service-account token: {}", to_std(token.status().message())));
  }
  absl::StatusOr<std::string> ca = read_file(env.secrets_dir + "/ca.crt");
  if (!ca.ok()) {
    return absl::FailedPreconditionError(
        fmt::format("in-cluster CA certificate: {}", to_std(ca.status().message())));
  }
  config.ca_pem = *std::move(ca);
  return config;
}

absl::StatusOr<KubeConfig> parse_kubeconfig(std::string_view yaml, const std::string& base_dir,
                                            const std::string& origin,
                                            const KubeConfigOptions& options) {
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    return parse_root(root, base_dir, origin, options);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(fmt::format("{}: invalid YAML: {}", origin, e.what()));
  }
}

absl::StatusOr<KubeConfig> load_kubeconfig(const std::string& path,
                                           const KubeConfigOptions& options) {
  absl::StatusOr<std::string> content = read_file(path);
  if (!content.ok()) {
    return absl::Status(content.status().code(),
                        fmt::format("kubeconfig: {}", to_std(content.status().message())));
  }
  const size_t slash = path.rfind('/');
  const std::string base_dir = slash == std::string::npos ? "." : path.substr(0, slash);
  return parse_kubeconfig(*content, base_dir.empty() ? "/" : base_dir, path, options);
}

absl::StatusOr<std::shared_ptr<asio::ssl::context>> make_tls_context(const KubeConfig& config) {
  auto tls = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                   asio::ssl::context::no_tlsv1_1);
  boost::system::error_code ec;
  if (config.insecure_skip_tls_verify) {
    tls->set_verify_mode(asio::ssl::verify_none);
  } else {
    tls->set_verify_mode(asio::ssl::verify_peer);
    if (config.ca_pem.empty()) {
      tls->set_default_verify_paths(ec);
      if (ec) {
        return absl::FailedPreconditionError(
            fmt::format("{}: cannot load the system CA store: {}", config.source, ec.message()));
      }
    } else {
      tls->add_certificate_authority(asio::buffer(config.ca_pem), ec);
      if (ec) {
        return absl::InvalidArgumentError(fmt::format(
            "{}: the certificate authority is not valid PEM: {}", config.source, ec.message()));
      }
    }
  }
  if (!config.client_cert_pem.empty()) {
    tls->use_certificate_chain(asio::buffer(config.client_cert_pem), ec);
    if (ec) {
      return absl::InvalidArgumentError(fmt::format(
          "{}: the client certificate is not valid PEM: {}", config.source, ec.message()));
    }
    tls->use_private_key(asio::buffer(config.client_key_pem), asio::ssl::context::pem, ec);
    if (ec) {
      return absl::InvalidArgumentError(
          fmt::format("{}: the client key is not valid PEM or does not match the certificate: {}",
                      config.source, ec.message()));
    }
  }
  return tls;
}

absl::StatusOr<std::string> BearerTokenFile::current() const {
  struct stat st {};
  absl::MutexLock lock(&mu_);
  if (::stat(path_.c_str(), &st) != 0) {
    const int err = errno;
    if (stamp_.has_value()) return token_;
    return absl::UnavailableError(
        fmt::format("bearer token file {}: {}", path_, std::strerror(err)));
  }
  Stamp stamp{static_cast<unsigned long long>(st.st_ino),
              static_cast<unsigned long long>(st.st_size),
              static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec};
  if (stamp_.has_value() && *stamp_ == stamp) return token_;
  absl::StatusOr<std::string> content = read_file(path_);
  if (!content.ok()) {
    if (stamp_.has_value()) return token_;
    return absl::UnavailableError(
        fmt::format("bearer token file: {}", to_std(content.status().message())));
  }
  std::string token = trim(*std::move(content));
  if (token.empty()) {
    if (stamp_.has_value()) return token_;
    return absl::UnavailableError(fmt::format("bearer token file {} is empty", path_));
  }
  token_ = std::move(token);
  stamp_ = stamp;
  return token_;
}

}  // namespace wims::kube
