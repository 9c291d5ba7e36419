// Test support for the metadata front ends: a small World, a fake GoogleCredentials that records
// what it is asked and answers with configurable statuses, a Request builder and a runner that
// drives a Handler's coroutine on a local io_context (bounded by a generous wall-clock limit, never
// a timed assertion).
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/google_credentials.h"
#include "common/clock.h"
#include "common/encoding.h"
#include "config/world.h"
#include "http/handler.h"
#include "metadata/gce_handler.h"

namespace wims::metadata::testing {

inline constexpr char kDemoIp[] = "10.0.0.5";
inline constexpr char kDemoIpv6[] = "fd00::5";
inline constexpr char kPlainIp[] = "10.0.0.6";
inline constexpr char kPrincipalIp[] = "10.0.0.7";
inline constexpr char kAwsIp[] = "10.0.0.8";
inline constexpr char kAmbiguousIp[] = "10.0.0.9";
inline constexpr char kNodeIp[] = "10.128.0.2";
inline constexpr char kDemoGsa[] = "demo@wims-local.iam.gserviceaccount.com";

inline config::Pod make_pod(std::string ns, std::string name, std::string ksa,
                            std::vector<std::string> ips, bool host_network = false) {
  config::Pod pod;
  pod.namespace_name = std::move(ns);
  pod.name = std::move(name);
  pod.uid = "uid-" + pod.name;
  pod.service_account_name = std::move(ksa);
  pod.ips = std::move(ips);
  pod.host_network = host_network;
  return pod;
}

inline config::ServiceAccount make_ksa(std::string ns, std::string name,
                                       std::map<std::string, std::string> annotations = {}) {
  config::ServiceAccount ksa;
  ksa.namespace_name = std::move(ns);
  ksa.name = std::move(name);
  ksa.uid = "ksa-uid-" + ksa.name;
  ksa.annotations = std::move(annotations);
  return ksa;
}

inline std::shared_ptr<config::World> make_world() {
  auto world = std::make_shared<config::World>();
  world->project = {"wims-local", 123456789012, "111122223333", "us-east-1"};
  world->cluster = {"wims", "us-central1-a", "cluster-uid-1", ""};
  world->node.name = "wims-node-1";
  world->node.hostname = "wims-node-1.c.wims-local.internal";
  world->node.id = 4242424242424242ull;
  world->node.zone = "us-central1-a";
  world->namespaces = {"default", "aws", "kube-system"};
  world->service_accounts = {
      make_ksa("default", "demo", {{config::kGcpServiceAccountAnnotation, kDemoGsa}}),
      make_ksa("default", "plain"),
      make_ksa("default", "principal", {{config::kReturnPrincipalIdAsEmailAnnotation, "true"}}),
      make_ksa("aws", "app",
               {{config::kEksRoleArnAnnotation, "arn:aws:iam::111122223333:role/ksa"}}),
  };
  world->pods = {
      make_pod("default", "demo", "demo", {kDemoIp, kDemoIpv6}),
      make_pod("default", "plain", "plain", {kPlainIp}),
      make_pod("default", "principal", "principal", {kPrincipalIp}),
      make_pod("aws", "app", "app", {kAwsIp}),
      make_pod("default", "twin-a", "plain", {kAmbiguousIp}),
      make_pod("default", "twin-b", "plain", {kAmbiguousIp}),
      make_pod("kube-system", "node-agent", "default", {kNodeIp}, /*host_network=*/true),
  };
  return world;
}

// Records requests; answers access tokens valid for an hour and unsigned JWTs whose claims reflect
// the options it was given, or the configured error.
class FakeGoogleCredentials final : public broker::GoogleCredentials {
 public:
  explicit FakeGoogleCredentials(const Clock& clock) : clock_(clock) {}

  boost::asio::awaitable<absl::StatusOr<broker::AccessToken>> access_token(
      const broker::Caller& caller, std::vector<std::string> scopes) override {
    ++access_calls;
    last_caller = caller;
    last_scopes = scopes;
    if (!access_status.ok()) co_return access_status;
    co_return broker::AccessToken{"ya29.fake-" + caller.pod.name,
                                  expiry.value_or(clock_.now() + absl::Seconds(3599))};
  }

  boost::asio::awaitable<absl::StatusOr<std::string>> id_token(
      const broker::Caller& caller, broker::IdTokenOptions options) override {
    ++id_calls;
    last_caller = caller;
    last_id_options = options;
    if (!id_status.ok()) co_return id_status;
    const int64_t iat = absl::ToUnixSeconds(clock_.now());
    boost::json::object claims{{"iss", "https://accounts.google.com"},
                               {"aud", options.audience},
                               {"azp", "1000"},
                               {"sub", "1000"},
                               {"iat", iat},
                               {"exp", iat + 3600}};
    if (options.full_format) {
      claims["email"] = caller.google_service_account.value_or("");
      claims["email_verified"] = true;
      claims["google"] = boost::json::object{
          {"compute_engine",
           boost::json::object{{"project_number", 123456789012}, {"zone", "us-central1-a"}}}};
    }
    if (options.include_licenses)
      claims["google"].as_object()["compute_engine"].as_object()["license_id"] =
          boost::json::array{"1000"};
    co_return base64url_encode(R"({"alg":"RS256","typ":"JWT"})") + "." +
        base64url_encode(boost::json::serialize(claims)) + ".c2ln";
  }

  absl::Status access_status;
  std::optional<absl::Time> expiry;  // of access tokens; default: an hour minus a second from now
  absl::Status id_status;
  int access_calls = 0;
  int id_calls = 0;
  std::optional<broker::Caller> last_caller;
  std::vector<std::string> last_scopes;
  broker::IdTokenOptions last_id_options;

 private:
  const Clock& clock_;
};

// A GET for `target` ("/path?query") from `peer`, with `Metadata-Flavor: Google` unless `flavor` is
// false.
inline http::Request make_request(const std::string& target, const std::string& peer = kDemoIp,
                                  bool flavor = true) {
  http::Request request;
  request.message.method(http::beast_http::verb::get);
  request.message.target(target);
  request.message.version(11);
  request.message.set(http::beast_http::field::host, "metadata.google.internal");
  if (flavor) request.message.set("Metadata-Flavor", "Google");
  const size_t question = target.find('?');
  request.path = target.substr(0, question);
  request.query = question == std::string::npos ? "" : target.substr(question + 1);
  request.peer = boost::asio::ip::make_address(peer);
  return request;
}

inline boost::asio::awaitable<void> call_handler(http::Handler& handler, http::Request& request,
                                                 std::optional<http::Response>& out) {
  out = co_await handler.handle(request);
}

// Runs handler.handle(request) to completion on a fresh io_context (at most 60 s of wall clock).
inline std::optional<http::Response> run(http::Handler& handler, http::Request& request) {
  boost::asio::io_context io;
  std::optional<http::Response> out;
  boost::asio::co_spawn(io, call_handler(handler, request, out), boost::asio::detached);
  io.run_for(std::chrono::seconds(60));
  return out;
}

inline std::string header(const http::Response& response, std::string_view name) {
  auto it = response.find(name);
  return it == response.end() ? std::string("<absent>") : std::string(it->value());
}

}  // namespace wims::metadata::testing
