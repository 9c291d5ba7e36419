#include "kube/kube_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "common/encoding.h"

namespace wims::kube {
namespace {

using ::testing::HasSubstr;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "wims-kube-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string write(const std::string& name, const std::string& content) const {
    std::string path = path_ + "/" + name;
    std::ofstream(path) << content;
    return path;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string kubeconfig(const std::string& cluster, const std::string& user,
                       const std::string& current = "current-context: ctx\n") {
  return "apiVersion: v1\nkind: Config\n" + current +
         "contexts:\n- name: ctx\n  context: {cluster: c1, user: u1}\n"
         "- name: other\n  context: {cluster: c2, user: u1}\n"
         "clusters:\n- name: c1\n  cluster:\n" +
         cluster +
         "- name: c2\n  cluster:\n    server: https://other.example:6443\n"
         "users:\n- name: u1\n  user:\n" +
         user;
}

TEST(KubeConfigTest, ParsesKubeconfigTable) {
  TempDir dir;
  dir.write("ca.pem", "CA FROM FILE");
  dir.write("token", "file-token\n");
  dir.write("client.crt", "CERT FROM FILE");
  dir.write("client.key", "KEY FROM FILE");
  const std::string ca_data = base64_encode("CA INLINE");
  struct Case {
    std::string name;
    std::string yaml;
    KubeConfigOptions options;
    absl::StatusCode code;
    std::string error;  // substring when code != kOk
    std::string server, ca, token, token_file, cert, key;
  };
  const std::vector<Case> cases = {
      {"token and inline CA",
       kubeconfig(
           "    server: https://10.0.0.1:6443/\n    certificate-authority-data: " + ca_data + "\n",
           "    token: abc\n"),
       {},
       absl::StatusCode::kOk,
       "",
       "https://10.0.0.1:6443",
       "CA INLINE",
       "abc"},
      {"CA file relative to the kubeconfig, tokenFile",
       kubeconfig("    server: https://[fd00::1]:443\n    certificate-authority: ca.pem\n",
                  "    tokenFile: token\n"),
       {},
       absl::StatusCode::kOk,
       "",
       "https://[fd00::1]:443",
       "CA FROM FILE",
       "",
       dir.path() + "/token"},
      {"client certificate files",
       kubeconfig(
           "    server: https://k8s.example\n",
           "    client-certificate: client.crt\n    client-key: " + dir.path() + "/client.key\n"),
       {},
       absl::StatusCode::kOk,
       "",
       "https://k8s.example",
       "",
       "",
       "",
       "CERT FROM FILE",
       "KEY FROM FILE"},
      {"client certificate data",
       kubeconfig("    server: https://k8s.example\n",
                  "    client-certificate-data: " + base64_encode("C") +
                      "\n    client-key-data: " + base64_encode("K") + "\n"),
       {},
       absl::StatusCode::kOk,
       "",
       "https://k8s.example",
       "",
       "",
       "",
       "C",
       "K"},
      {"context override",
       kubeconfig("    server: https://a.example\n", "    token: t\n"),
       {.context = "other"},
       absl::StatusCode::kOk,
       "",
       "https://other.example:6443",
       "",
       "t"},
      {"insecure refused",
       kubeconfig("    server: https://a.example\n    insecure-skip-tls-verify: true\n",
                  "    token: t\n"),
       {},
       absl::StatusCode::kInvalidArgument,
       "insecure-skip-tls-verify"},
      {"insecure allowed explicitly",
       kubeconfig("    server: https://a.example\n    insecure-skip-tls-verify: true\n",
                  "    token: t\n"),
       {.allow_insecure = true},
       absl::StatusCode::kOk,
       "",
       "https://a.example",
       "",
       "t"},
      {"no current context",
       kubeconfig("    server: https://a.example\n", "    token: t\n", ""),
       {},
       absl::StatusCode::kInvalidArgument,
       "no current-context"},
      {"unknown context",
       kubeconfig("    server: https://a.example\n", "    token: t\n"),
       {.context = "nope"},
       absl::StatusCode::kNotFound,
       "no context entry named \"nope\""},
      {"missing server",
       kubeconfig("    certificate-authority-data: " + ca_data + "\n", "    token: t\n"),
       {},
       absl::StatusCode::kInvalidArgument,
       "server is required"},
      {"bad server scheme",
       kubeconfig("    server: ftp://a.example\n", "    token: t\n"),
       {},
       absl::StatusCode::kInvalidArgument,
       "must be an https"},
      {"bad base64 CA",
       kubeconfig("    server: https://a.example\n    certificate-authority-data: '***'\n",
                  "    token: t\n"),
       {},
       absl::StatusCode::kInvalidArgument,
       "certificate-authority-data is not valid base64"},
      {"missing CA file",
       kubeconfig("    server: https://a.example\n    certificate-authority: nope.pem\n",
                  "    token: t\n"),
       {},
       absl::StatusCode::kNotFound,
       "nope.pem does not exist"},
      {"certificate without key",
       kubeconfig("    server: https://a.example\n",
                  "    client-certificate-data: " + base64_encode("C") + "\n"),
       {},
       absl::StatusCode::kInvalidArgument,
       "needs both"},
      {"token and tokenFile",
       kubeconfig("    server: https://a.example\n", "    token: t\n    tokenFile: token\n"),
       {},
       absl::StatusCode::kInvalidArgument,
       "both token and tokenFile"},
      {"exec plugin",
       kubeconfig("    server: https://a.example\n",
                  "    exec: {command: gke-gcloud-auth-plugin}\n"),
       {},
       absl::StatusCode::kUnimplemented,
       "credential plugins"},
      {"basic auth",
       kubeconfig("    server: https://a.example\n", "    username: u\n    password: p\n"),
       {},
       absl::StatusCode::kUnimplemented,
       "basic authentication"},
      {"not YAML", "clusters: [unclosed", {}, absl::StatusCode::kInvalidArgument, "invalid YAML"},
      {"wrong kind", "kind: Pod\n", {}, absl::StatusCode::kInvalidArgument, "expected Config"},
      {"clusters not a list",
       "kind: Config\ncurrent-context: x\ncontexts: {}\n",
       {},
       absl::StatusCode::kInvalidArgument,
       "contexts must be a list"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<KubeConfig> config =
        parse_kubeconfig(c.yaml, dir.path(), "test.yaml", c.options);
    ASSERT_EQ(config.status().code(), c.code) << config.status();
    if (c.code != absl::StatusCode::kOk) {
      EXPECT_THAT(std::string(config.status().message()), HasSubstr(c.error));
      continue;
    }
    EXPECT_EQ(config->server, c.server);
    EXPECT_EQ(config->ca_pem, c.ca);
    EXPECT_EQ(config->bearer_token, c.token);
    EXPECT_EQ(config->token_file, c.token_file);
    EXPECT_EQ(config->client_cert_pem, c.cert);
    EXPECT_EQ(config->client_key_pem, c.key);
  }
}

TEST(KubeConfigTest, LoadsKubeconfigFileWithPathsRelativeToIt) {
  TempDir dir;
  dir.write("ca.pem", "CA");
  std::string path = dir.write(
      "config", kubeconfig("    server: https://a.example\n    certificate-authority: ca.pem\n",
                           "    token: t\n"));
  absl::StatusOr<KubeConfig> config = load_kubeconfig(path, {});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->ca_pem, "CA");
  EXPECT_THAT(config->source, HasSubstr("context ctx"));
  EXPECT_EQ(load_kubeconfig(dir.path() + "/missing", {}).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(KubeConfigTest, InClusterConfigTable) {
  TempDir dir;
  dir.write("token", "sa-token");
  dir.write("ca.crt", "CLUSTER CA");
  TempDir empty;
  struct Case {
    std::string name;
    std::map<std::string, std::string> env;
    std::string secrets_dir;
    absl::StatusCode code;
    std::string server;
  };
  const std::vector<Case> cases = {
      {"IPv4",
       {{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}},
       dir.path(),
       absl::StatusCode::kOk,
       "https://10.96.0.1:443"},
      {"IPv6 is bracketed",
       {{"KUBERNETES_SERVICE_HOST", "fd00:10:96::1"}, {"KUBERNETES_SERVICE_PORT", "443"}},
       dir.path(),
       absl::StatusCode::kOk,
       "https://[fd00:10:96::1]:443"},
      {"no env", {}, dir.path(), absl::StatusCode::kFailedPrecondition, ""},
      {"no port",
       {{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}},
       dir.path(),
       absl::StatusCode::kFailedPrecondition,
       ""},
      {"no token file",
       {{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}},
       empty.path(),
       absl::StatusCode::kFailedPrecondition,
       ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    InClusterEnvironment env{.getenv = [&c](std::string_view name) -> std::optional<std::string> {
                               auto it = c.env.find(std::string(name));
                               if (it == c.env.end()) return std::nullopt;
                               return it->second;
                             },
                             .secrets_dir = c.secrets_dir};
    absl::StatusOr<KubeConfig> config = load_in_cluster_config(env);
    ASSERT_EQ(config.status().code(), c.code) << config.status();
    if (!config.ok()) continue;
    EXPECT_EQ(config->server, c.server);
    EXPECT_EQ(config->ca_pem, "CLUSTER CA");
    EXPECT_EQ(config->token_file, c.secrets_dir + "/token");
    EXPECT_EQ(config->source, "in-cluster");
  }
}

TEST(BearerTokenFileTest, RereadsWhenTheFileChanges) {
  TempDir dir;
  const std::string path = dir.path() + "/token";
  BearerTokenFile file(path);
  EXPECT_EQ(file.current().status().code(), absl::StatusCode::kUnavailable);
  dir.write("token", "first\n");
  EXPECT_EQ(*file.current(), "first");
  // The kubelet swaps a symlink; a rename gives a new inode, as that does.
  dir.write("token.new", "second-token");
  std::filesystem::rename(dir.path() + "/token.new", path);
  EXPECT_EQ(*file.current(), "second-token");
  // A failed re-read keeps the last good token.
  std::filesystem::remove(path);
  EXPECT_EQ(*file.current(), "second-token");
}

TEST(KubeConfigTest, TlsContextRejectsBadPem) {
  KubeConfig config{.server = "https://a.example", .ca_pem = "not a certificate", .source = "test"};
  absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> tls = make_tls_context(config);
  EXPECT_EQ(tls.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(tls.status().message()),
              HasSubstr("certificate authority is not valid PEM"));
  config.ca_pem.clear();
  config.client_cert_pem = "bad";
  config.client_key_pem = "bad";
  tls = make_tls_context(config);
  EXPECT_THAT(std::string(tls.status().message()),
              HasSubstr("client certificate is not valid PEM"));
}

}  // namespace
}  // namespace wims::kube
