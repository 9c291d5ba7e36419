// Test helpers for the Google side of the embedded cloud: a small World (project p/123, two Google
// service accounts, two buckets), a temporary directory, and a way to run one request through a
// Handler on a local io_context.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <filesystem>
#include <optional>
#include <string>

#include "config/world.h"
#include "http/handler.h"
#include "iam/workload_identity.h"

namespace wims::cloud::testing {

namespace bhttp = boost::beast::http;

inline constexpr char kProject[] = "p";
inline constexpr int64_t kProjectNumber = 123;
inline constexpr char kAppGsa[] = "app@p.iam.gserviceaccount.com";
inline constexpr char kOtherGsa[] = "other@p.iam.gserviceaccount.com";
inline constexpr char kCluster[] =
    "https://container.googleapis.com/v1/projects/p/locations/us-central1-a/clusters/c";
inline constexpr char kApiPrincipal[] =
    "principal://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/"
    "p.svc.id.goog/subject/ns/prod/sa/api";

// prod/api (bound to kAppGsa through roles/iam.workloadIdentityUser) or any other KSA.
inline iam::WorkloadIdentity workload(std::string ns = "prod", std::string ksa = "api") {
  iam::WorkloadIdentity id;
  id.project_number = kProjectNumber;
  id.pool = "p.svc.id.goog";
  id.namespace_name = std::move(ns);
  id.service_account = std::move(ksa);
  id.service_account_uid = "uid-" + id.service_account;
  id.cluster_url = kCluster;
  return id;
}

inline config::Binding binding(std::string role, std::vector<std::string> members) {
  config::Binding b;
  b.role = std::move(role);
  b.members = std::move(members);
  return b;
}

// Project p (123); GSA app (prod/api may impersonate it) and GSA other (no policy); bucket b
// (objects hello.txt and dir/data.json, tag 123/env=prod, readable by app) and bucket secret
// (object s, no bindings); project binding roles/viewer for other.
inline config::World google_world() {
  config::World w;
  w.project.id = kProject;
  w.project.number = kProjectNumber;
  w.cluster.name = "c";
  w.cluster.location = "us-central1-a";
  config::GoogleServiceAccount app;
  app.email = kAppGsa;
  app.bindings = {binding("roles/iam.workloadIdentityUser", {kApiPrincipal})};
  config::GoogleServiceAccount other;
  other.email = kOtherGsa;
  w.google.service_accounts = {app, other};
  config::Bucket b;
  b.name = "b";
  b.objects = {{"hello.txt", "hello"}, {"dir/data.json", "{\"a\":1}"}};
  b.bindings = {binding("roles/storage.objectViewer", {std::string("serviceAccount:") + kAppGsa})};
  b.tags = {{"123/env", "prod"}};
  config::Bucket secret;
  secret.name = "secret";
  secret.objects = {{"s", "top secret"}};
  w.google.buckets = {b, secret};
  w.google.project_bindings = {
      binding("roles/viewer", {std::string("serviceAccount:") + kOtherGsa})};
  return w;
}

// A fresh directory, removed with its content at destruction.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::path(::testing::TempDir()) /
            ("wims_cloud_google_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// Builds a request. `target` may carry a query ("/x?a=b"); path and query are split as the server
// does (the path is used as given: tests use canonical paths).
inline http::Request make_request(bhttp::verb method, std::string target, std::string body = "",
                                  std::optional<std::string> bearer = std::nullopt) {
  http::Request request;
  request.message.method(method);
  request.message.target(target);
  request.message.version(11);
  if (bearer) request.message.set(bhttp::field::authorization, "Bearer " + *bearer);
  if (!body.empty()) request.message.set(bhttp::field::content_type, "application/json");
  request.message.body() = std::move(body);
  size_t q = target.find('?');
  request.path = target.substr(0, q);
  request.query = q == std::string::npos ? "" : target.substr(q + 1);
  return request;
}

// Runs handler.handle(request) to completion on a local io_context (other executors the handler
// uses, e.g. a blocking pool, run on their own threads).
inline http::Response run(http::Handler& handler, http::Request& request) {
  boost::asio::io_context io;
  std::optional<http::Response> response;
  boost::asio::co_spawn(io, handler.handle(request), [&](std::exception_ptr e, http::Response r) {
    EXPECT_FALSE(e) << "handler threw";
    response = std::move(r);
  });
  io.run();
  EXPECT_TRUE(response.has_value());
  return response ? *std::move(response) : http::Response();
}

inline boost::json::value json_of(const http::Response& r) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(r.body(), ec);
  EXPECT_FALSE(ec) << "not JSON: " << r.body();
  return v;
}

}  // namespace wims::cloud::testing
