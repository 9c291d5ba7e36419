// `wims token NS/KSA --audience AUD [--duration D] [--pod NAME] --cloud URL`: prints a Kubernetes
// service-account token, as `kubectl create token` does, by calling the TokenRequest API of the
// cloud (the embedded local cloud, or any API server that speaks TokenRequest).
#include <boost/json.hpp>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "cli/commands.h"
#include "cli/defaults.h"
#include "cli/exit_codes.h"
#include "common/strings.h"
#include "http/client.h"

namespace wims::cli {
namespace {

struct TokenOptions {
  std::string cloud = std::string("http://") + kDefaultCloudAddr;
  std::string service_account;  // NS/NAME
  std::vector<std::string> audiences;
  std::string duration = "1h";
  std::string pod;
  std::string admin_token_file;
};

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

int run_token(const TokenOptions& o) {
  std::vector<std::string> parts = absl::StrSplit(o.service_account, '/');
  if (parts.size() != 2 || parts[0].empty() || parts[1].empty()) {
    std::cerr << "wims token: expected NAMESPACE/SERVICEACCOUNT, got '" << o.service_account
              << "'\n";
    return kExitUsage;
  }
  absl::Duration duration;
  if (!absl::ParseDuration(o.duration, &duration) || duration <= absl::ZeroDuration()) {
    std::cerr << "wims token: --duration '" << o.duration
              << "' is not a positive duration such as 1h or 600s\n";
    return kExitUsage;
  }
  std::string token_file = o.admin_token_file.empty()
                               ? default_state_dir() + "/" + kAdminTokenFileName
                               : o.admin_token_file;
  std::string admin_token;
  if (const char* env = std::getenv("WIMS_ADMIN_TOKEN"); env && *env) {
    admin_token = env;
  } else {
    std::ifstream in(token_file);
    if (!in) {
      std::cerr << "wims token: cannot read the admin token file " << token_file
                << " (set --admin-token-file or WIMS_ADMIN_TOKEN)\n";
      return kExitFailure;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    admin_token = trim(ss.str());
  }

  boost::json::object spec;
  boost::json::array auds;
  for (const auto& a : o.audiences) auds.emplace_back(a);
  spec["audiences"] = std::move(auds);
  spec["expirationSeconds"] = absl::ToInt64Seconds(duration);
  if (!o.pod.empty()) {
    spec["boundObjectRef"] =
        boost::json::object{{"kind", "Pod"}, {"apiVersion", "v1"}, {"name", o.pod}};
  }
  boost::json::object body{{"apiVersion", "authentication.k8s.io/v1"},
                           {"kind", "TokenRequest"},
                           {"spec", std::move(spec)}};

  std::string base = o.cloud;
  while (!base.empty() && base.back() == '/') base.pop_back();
  http::ClientRequest req;
  req.method = boost::beast::http::verb::post;
  req.url = base + "/api/v1/namespaces/" + parts[0] + "/serviceaccounts/" + parts[1] + "/token";
  req.headers = {{"Authorization", "Bearer " + admin_token},
                 {"Content-Type", "application/json"},
                 {"Accept", "application/json"}};
  req.body = boost::json::serialize(body);
  http::Client client;
  auto resp = client.send_blocking(std::move(req));
  if (!resp.ok()) {
    std::cerr << "wims token: " << resp.status().message() << "\n";
    return kExitFailure;
  }
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(resp->body(), ec);
  if (resp->result_int() / 100 != 2) {
    std::string message = resp->body();
    if (!ec && v.is_object() && v.as_object().contains("message") && v.at("message").is_string()) {
      message = std::string(v.at("message").as_string());
    }
    std::cerr << "wims token: " << resp->result_int() << ": " << message << "\n";
    return kExitFailure;
  }
  const boost::json::value* token = nullptr;
  if (!ec && v.is_object()) token = v.as_object().if_contains("status");
  if (token && token->is_object()) token = token->as_object().if_contains("token");
  if (!token || !token->is_string()) {
    std::cerr << "wims token: the TokenRequest response has no status.token\n";
    return kExitFailure;
  }
  std::cout << token->as_string().c_str() << "\n";
  return kExitOk;
}

}  // namespace

void register_token_command(CLI::App& app, CommandRegistry& registry) {
  auto opts = std::make_shared<TokenOptions>();
  CLI::App* cmd = app.add_subcommand(
      "token",
      "Print a Kubernetes service-account token (TokenRequest), as `kubectl create token` does");
  cmd->add_option("serviceaccount", opts->service_account, "NAMESPACE/SERVICEACCOUNT")->required();
  cmd->add_option("--cloud", opts->cloud,
                  "Base URL of the cloud's Kubernetes API (the local cloud of `wims up`)")
      ->capture_default_str();
  cmd->add_option("--audience", opts->audiences,
                  "Audience of the token (repeatable); default: the issuer's");
  cmd->add_option("--duration", opts->duration, "Requested lifetime, at least 10m (e.g. 600s, 1h)")
      ->capture_default_str();
  cmd->add_option("--pod", opts->pod, "Bind the token to this pod of the namespace");
  cmd->add_option("--admin-token-file", opts->admin_token_file,
                  "File with the local cloud's admin token (default: STATE_DIR/admin-token; or "
                  "$WIMS_ADMIN_TOKEN)");
  registry.add(cmd, [opts] { return run_token(*opts); });
}

}  // namespace wims::cli
