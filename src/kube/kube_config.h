// KubeConfig: how wims reaches the Kubernetes API server: the server URL, how its certificate is
// verified, and how wims authenticates. Two sources, as client-go has them:
//
//   In-cluster (the DaemonSet): KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT (an IPv6 host is
//   bracketed), the CA at /var/run/secrets/kubernetes.io/serviceaccount/ca.crt and the projected
//   token file next to it. The token file is re-read whenever it changes (the kubelet rotates it),
//   see BearerTokenFile.
//
//     absl::StatusOr<KubeConfig> config = load_in_cluster_config();
//
//   kubeconfig YAML (`--kubeconfig PATH`): the current-context (or `options.context`), its
//   cluster's `server`, `certificate-authority` / `certificate-authority-data`, `tls-server-name`,
//   and its user's `token` / `tokenFile` / `client-certificate(-data)` + `client-key(-data)`.
//   Relative file paths are resolved against the kubeconfig's directory. `insecure-skip-tls-verify:
//   true` is refused unless options.allow_insecure; exec / auth-provider plugins are refused (not
//   supported).
//
//     absl::StatusOr<KubeConfig> config = load_kubeconfig("/home/me/.kube/config", {});
//
// Errors are InvalidArgument (malformed input, with the field's path), NotFound (missing file or
// context), FailedPrecondition (in-cluster environment absent) or Unimplemented (auth plugins).
// Plain values and free functions: thread-safe. BearerTokenFile is thread-safe.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace wims::kube {

struct KubeConfig {
  // "https://10.96.0.1:443", "https://[fd00::1]:443", "http://127.0.0.1:8080" (no trailing slash).
  std::string server = {};
  // PEM bundle the server certificate must chain to; empty: the system CA store.
  std::string ca_pem = {};
  // Accept any server certificate (only when explicitly allowed at load time).
  bool insecure_skip_tls_verify = false;
  // `tls-server-name`: the name verified instead of the URL host (not yet supported by
  // http::Client).
  std::string tls_server_name = {};
  // Authentication: a static bearer token, or a token file re-read on change, and/or a client
  // certificate.
  std::string bearer_token = {};
  std::string token_file = {};
  std::string client_cert_pem = {};
  std::string client_key_pem = {};
  // Where this came from, for messages: "in-cluster" or "kubeconfig /path (context ctx)".
  std::string source = {};
};

// The in-cluster environment, injectable for tests.
struct InClusterEnvironment {
  // Reads an environment variable; nullopt when unset. Default: ::getenv.
  std::function<std::optional<std::string>(std::string_view)> getenv = {};
  // The service-account mount directory (token, ca.crt, namespace).
  std::string secrets_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
};

absl::StatusOr<KubeConfig> load_in_cluster_config(InClusterEnvironment env = {});

struct KubeConfigOptions {
  // Context to use instead of current-context ("" = current-context).
  std::string context = {};
  // Permit `insecure-skip-tls-verify: true` (an explicit operator choice; off by default).
  bool allow_insecure = false;
};

// Parses kubeconfig `yaml`; relative paths resolve against `base_dir`; `origin` names it in
// messages.
absl::StatusOr<KubeConfig> parse_kubeconfig(std::string_view yaml, const std::string& base_dir,
                                            const std::string& origin,
                                            const KubeConfigOptions& options);
// Reads and parses the kubeconfig file at `path`.
absl::StatusOr<KubeConfig> load_kubeconfig(const std::string& path,
                                           const KubeConfigOptions& options);

// The TLS client context for `config`: TLS 1.2+, peer verification against ca_pem (or the system
// store), the client certificate and key when set (InvalidArgument if they do not parse or do not
// match).
absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> make_tls_context(
    const KubeConfig& config);

// A bearer token file re-read when it changes (inode, size or mtime), as the kubelet rotates
// projected tokens by swapping a symlink. current() is thread-safe; it returns the last good token
// if a re-read fails after one succeeded, and an error if none ever did.
class BearerTokenFile {
 public:
  explicit BearerTokenFile(std::string path) : path_(std::move(path)) {}
  absl::StatusOr<std::string> current() const;
  const std::string& path() const { return path_; }

 private:
  struct Stamp {
    unsigned long long inode = 0, size = 0;
    long long mtime_ns = 0;
    bool operator==(const Stamp&) const = default;
  };
  const std::string path_;
  mutable absl::Mutex mu_;
  mutable std::optional<Stamp> stamp_ ABSL_GUARDED_BY(mu_);
  mutable std::string token_ ABSL_GUARDED_BY(mu_);
};

// Reads a whole file; NotFound / PermissionDenied / Internal with the path in the message.
absl::StatusOr<std::string> read_file(const std::string& path);

}  // namespace wims::kube
