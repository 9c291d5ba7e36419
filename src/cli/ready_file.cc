#include "cli/ready_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace wims::cli {

boost::json::object ready_json(const ReadyInfo& info) {
  const std::string cloud = "http://" + info.addresses.cloud;
  const std::string metadata = "http://" + info.addresses.metadata;
  boost::json::object endpoints{
      {"oidc_issuer", info.issuer_url},
      {"oidc_discovery", info.issuer_url + "/.well-known/openid-configuration"},
      {"oidc_jwks", info.issuer_url + "/openid/v1/jwks"},
      {"kubernetes_api", cloud},
      {"kubernetes_token_request",
       cloud + "/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token"},
      {"kubernetes_token_review", cloud + "/apis/authentication.k8s.io/v1/tokenreviews"},
      {"google_sts", cloud + "/v1/token"},
      {"google_iam_credentials",
       cloud + "/v1/projects/-/serviceAccounts/{email}:generateAccessToken"},
      {"google_iam", cloud + "/v1/projects/{project}/serviceAccounts/{email}:getIamPolicy"},
      {"google_resource_manager", cloud + "/v1/projects/{project}:getIamPolicy"},
      {"google_storage", cloud + "/storage/v1/b/{bucket}/o/{object}"},
      {"google_tokeninfo", cloud + "/oauth2/v3/tokeninfo"},
      {"aws_sts", cloud + "/aws/"},
      {"aws_iam", cloud + "/aws/"},
      {"gce_metadata", metadata + "/computeMetadata/v1/"},
      {"aws_imds", metadata + "/latest/"},
      {"aws_container_credentials", metadata + "/v1/credentials"},
      {"admin_metrics", "http://" + info.addresses.admin + "/metrics"},
  };
  boost::json::object out{{"metadata", info.addresses.metadata},
                          {"cloud", info.addresses.cloud},
                          {"admin", info.addresses.admin},
                          {"endpoints", std::move(endpoints)},
                          {"state_dir", info.state_dir},
                          {"admin_token", info.admin_token},
                          {"admin_token_file", info.admin_token_file}};
  if (!info.aws_admin_access_key_id.empty()) {
    out["aws_admin_access_key_id"] = info.aws_admin_access_key_id;
    out["aws_admin_secret_access_key"] = info.aws_admin_secret_access_key;
  }
  return out;
}

absl::Status write_ready_file(const std::string& path, const boost::json::object& json) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return absl::UnavailableError(absl::StrCat("cannot write ", tmp, ": ", std::strerror(errno)));
  std::string text = boost::json::serialize(json) + "\n";
  ssize_t n = ::write(fd, text.data(), text.size());
  bool ok = n == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return absl::UnavailableError(
        absl::StrCat("cannot write ready file ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

std::string endpoints_banner(const ReadyInfo& info) {
  const std::string& m = info.addresses.metadata;
  const std::string cloud = "http://" + info.addresses.cloud;
  std::string s;
  absl::StrAppend(&s, "wims is up.\n\n", "  node metadata server   http://", m,
                  "  (GCE /computeMetadata/v1/, AWS IMDS /latest/)\n", "  local cloud            ",
                  cloud, "\n", "    OIDC issuer          ", info.issuer_url, "\n",
                  "    Google STS           ", cloud, "/v1/token\n", "    IAM Credentials      ",
                  cloud, "/v1/projects/-/serviceAccounts/EMAIL:generateAccessToken\n",
                  "    Cloud Storage        ", cloud, "/storage/v1/b/BUCKET/o/OBJECT\n",
                  "    AWS STS / IAM        ", cloud,
                  "/aws/  (aws --endpoint-url; admin key in the ready file)\n",
                  "  admin                  http://", info.addresses.admin,
                  "  (/healthz /readyz /metrics)\n", "  state                  ", info.state_dir,
                  "  (admin token: ", info.admin_token_file, ")\n\n");
  absl::StrAppend(&s, "Point an SDK at it:\n", "  # Python google-auth\n",
                  "  export GCE_METADATA_HOST=", m, " GCE_METADATA_IP=", m,
                  " GCE_METADATA_ROOT=", m, "\n", "  # Node google-auth-library / gcp-metadata\n",
                  "  export GCE_METADATA_HOST=", m, " METADATA_SERVER_DETECTION=ping-only\n",
                  "  # AWS CLI, boto3, AWS SDK for JavaScript (IMDS)\n",
                  "  export AWS_EC2_METADATA_SERVICE_ENDPOINT=http://", m,
                  "/ AWS_DEFAULT_REGION=us-east-1\n", "  # a raw request\n",
                  "  curl -H 'Metadata-Flavor: Google' http://", m,
                  "/computeMetadata/v1/instance/service-accounts/default/token\n",
                  "  # a service-account token, as kubectl create token\n",
                  "  wims token default/demo --audience sts.amazonaws.com --cloud ", cloud,
                  " --admin-token-file ", info.admin_token_file, "\n");
  return s;
}

}  // namespace wims::cli
