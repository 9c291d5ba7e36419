// fake_kube_api_server: FakeKubeApiServer as a process, for end-to-end tests of the `wims` binary.
//
//   fake_kube_api_server --kubeconfig-out DIR/kubeconfig [--token T] [--ready-file F]
//                        [--mint-via URL --mint-bearer-file FILE] [--minor N]
//
// Binds 127.0.0.1 port 0, writes a kubeconfig (server URL, bearer token) to --kubeconfig-out and,
// once it is written, {"url","kubeconfig","token"} to --ready-file. Then reads one JSON command per
// line on stdin and answers one JSON line on stdout ({"ok":true,"resourceVersion":N} or
// {"ok":false,"error":...}):
//
//   {"op":"serviceaccount","namespace":"apps","name":"web","uid":"...","annotations":{...}}
//   {"op":"pod","namespace":"apps","name":"web","uid":"...","node":"node-1","serviceAccount":"web",
//    "ips":["127.0.0.2"],"hostNetwork":false,"phase":"Running","labels":{...},"annotations":{...}}
//   {"op":"delete_pod","namespace":"apps","name":"web"}
//   {"op":"delete_serviceaccount","namespace":"apps","name":"web"}
//
// and exits on end of input. With --mint-via, TokenRequests that pass the fake's validation are
// forwarded (same path and body) to URL with "Authorization: Bearer <the file's content>", so the
// tokens are minted by that issuer (a `wims up` local cloud, whose STS trusts them) instead of the
// fake's unsigned ones; and TokenReviews go to the same issuer, which alone can check its
// signatures.
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "fakes/fake_kube_api_server.h"

namespace {

namespace json = boost::json;
namespace bhttp = boost::beast::http;
using wims::fakes::FakeKubeApiServer;

std::string str(const json::object& o, std::string_view key, std::string fallback = "") {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().get_string())
                                                  : fallback;
}

std::map<std::string, std::string> string_map(const json::object& o, std::string_view key) {
  std::map<std::string, std::string> out;
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_object()) return out;
  for (const auto& [k, v] : it->value().get_object()) {
    if (v.is_string()) out[std::string(k)] = std::string(v.get_string());
  }
  return out;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
    text.pop_back();
  return text;
}

std::pair<int, json::object> failure(int code, const std::string& message) {
  return {code, json::object{{"kind", "Status"},
                             {"apiVersion", "v1"},
                             {"status", "Failure"},
                             {"message", message},
                             {"reason", "InternalError"},
                             {"code", code}}};
}

// A blocking POST of `body` to `base` + `path` (http only), answered with the upstream's status and
// body.
std::pair<int, json::object> forward(const std::string& base, const std::string& bearer_file,
                                     const std::string& path, const std::string& body) {
  std::string base_copy = base;  // Boost.URL 1.81 reads with strlen: a NUL-terminated copy
  auto url = boost::urls::parse_uri(base_copy.c_str());
  if (!url || url->scheme() != "http") return failure(500, "--mint-via must be an http:// URL");
  const std::string host(url->host());
  const std::string port = url->has_port() ? std::string(url->port()) : "80";
  try {
    boost::asio::io_context io;
    boost::asio::ip::tcp::resolver resolver(io);
    boost::asio::ip::tcp::socket socket(io);
    boost::asio::connect(socket, resolver.resolve(host, port));
    bhttp::request<bhttp::string_body> request(bhttp::verb::post, std::string(url->path()) + path,
                                               11);
    request.set(bhttp::field::host, host + ":" + port);
    request.set(bhttp::field::content_type, "application/json");
    request.set(bhttp::field::authorization, "Bearer " + read_text(bearer_file));
    request.body() = body;
    request.prepare_payload();
    bhttp::write(socket, request);
    boost::beast::flat_buffer buffer;
    bhttp::response<bhttp::string_body> response;
    bhttp::read(socket, buffer, response);
    json::error_code ec;
    json::value parsed = json::parse(response.body(), ec);
    if (ec || !parsed.is_object())
      return failure(502, "the minting issuer answered no JSON object");
    return {response.result_int(), parsed.get_object()};
  } catch (const std::exception& e) {
    return failure(502, std::string("the minting issuer is unreachable: ") + e.what());
  }
}

json::object apply(FakeKubeApiServer& server, const json::object& command) {
  const std::string op = str(command, "op");
  const std::string ns = str(command, "namespace", "default");
  const std::string name = str(command, "name");
  if (name.empty()) return {{"ok", false}, {"error", "name is required"}};
  if (op == "serviceaccount") {
    int64_t rv = server.upsert_service_account(FakeKubeApiServer::make_service_account(
        ns, name, str(command, "uid", "sa-uid-" + ns + "-" + name),
        string_map(command, "annotations")));
    return {{"ok", true}, {"resourceVersion", rv}};
  }
  if (op == "pod") {
    wims::fakes::FakePodSpec spec;
    spec.namespace_name = ns;
    spec.name = name;
    spec.uid = str(command, "uid", "pod-uid-" + ns + "-" + name);
    spec.node_name = str(command, "node");
    spec.service_account = str(command, "serviceAccount", "default");
    if (auto it = command.find("ips"); it != command.end() && it->value().is_array()) {
      for (const json::value& ip : it->value().get_array()) {
        if (ip.is_string()) spec.ips.emplace_back(ip.get_string());
      }
    }
    if (auto it = command.find("hostNetwork"); it != command.end() && it->value().is_bool()) {
      spec.host_network = it->value().get_bool();
    }
    spec.phase = str(command, "phase", "Running");
    spec.labels = string_map(command, "labels");
    spec.annotations = string_map(command, "annotations");
    return {{"ok", true}, {"resourceVersion", server.upsert_pod(spec)}};
  }
  if (op == "delete_pod" || op == "delete_serviceaccount") {
    const bool deleted =
        op == "delete_pod" ? server.delete_pod(ns, name) : server.delete_service_account(ns, name);
    return {{"ok", deleted}, {"resourceVersion", server.resource_version()}};
  }
  return {{"ok", false}, {"error", "unknown op \"" + op + "\""}};
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> flags{{"--token", "fake-admin-token"}};
  for (int i = 1; i + 1 < argc; i += 2) flags[argv[i]] = argv[i + 1];
  if (argc % 2 == 0 || flags["--kubeconfig-out"].empty()) {
    std::cerr
        << "usage: fake_kube_api_server --kubeconfig-out FILE [--token T] [--ready-file FILE] "
           "[--mint-via URL --mint-bearer-file FILE] [--minor N]\n";
    return 2;
  }
  wims::fakes::FakeKubeApiServerOptions options;
  options.required_token = flags["--token"];
  if (!flags["--minor"].empty()) {  // an older API server, e.g. --minor 23 for Kubernetes 1.23
    options.minor = flags["--minor"];
    options.git_version = "v1." + options.minor + ".0";
  }
  if (!flags["--mint-via"].empty()) {
    options.token_minter = [base = flags["--mint-via"], file = flags["--mint-bearer-file"]](
                               const std::string& ns, const std::string& name,
                               const std::string& body) {
      return forward(base, file, "/api/v1/namespaces/" + ns + "/serviceaccounts/" + name + "/token",
                     body);
    };
    options.token_reviewer = [base = flags["--mint-via"],
                              file = flags["--mint-bearer-file"]](const std::string& body) {
      return forward(base, file, "/apis/authentication.k8s.io/v1/tokenreviews", body);
    };
  }
  FakeKubeApiServer server(options);
  if (absl::Status s = server.start(); !s.ok()) {
    std::cerr << "fake_kube_api_server: " << s.message() << "\n";
    return 1;
  }
  {
    std::ofstream out(flags["--kubeconfig-out"]);
    out << "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: "
        << server.url() << "\nusers:\n- name: wims\n  user:\n    token: " << options.required_token
        << "\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: "
           "wims\ncurrent-context: fake\n";
  }
  if (!flags["--ready-file"].empty()) {
    const std::string tmp = flags["--ready-file"] + ".tmp";
    {
      std::ofstream out(tmp);
      out << json::serialize(json::object{{"url", server.url()},
                                          {"kubeconfig", flags["--kubeconfig-out"]},
                                          {"token", options.required_token}});
    }
    std::rename(tmp.c_str(), flags["--ready-file"].c_str());
  }
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    json::error_code ec;
    json::value command = json::parse(line, ec);
    json::object answer = ec || !command.is_object()
                              ? json::object{{"ok", false}, {"error", "not a JSON object"}}
                              : apply(server, command.get_object());
    std::cout << json::serialize(answer) << std::endl;
  }
  server.stop();
  return 0;
}
