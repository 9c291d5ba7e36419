// The start-up of a command that talks to the Kubernetes API (`wims node`, `wims webhook`): load
// the configuration (the in-cluster one when no kubeconfig is given), create the API client, ask
// the API server's version and refuse one older than 1.24 (bound service-account tokens). Each
// failure comes back as a Status whose message says which step failed, ready to print.
//
//   absl::StatusOr<KubeConnection> kube = connect_kube(o.kubeconfig, o.context);
//   if (!kube.ok()) return fail("", kube.status());
//   kube::Reflector reflector(*kube->api, ...);
//
// Start-up only: blocks the calling thread (never an I/O worker) on a private io_context.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <exception>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "kube/api_client.h"
#include "kube/kube_config.h"

namespace wims::cli {

struct KubeConnection {
  kube::KubeConfig config;
  std::unique_ptr<kube::ApiClient> api;
  kube::ServerVersion version;
};

absl::StatusOr<KubeConnection> connect_kube(const std::string& kubeconfig,
                                            const std::string& context);

// Runs one coroutine call to completion on a private io_context (start-up only, before any server
// runs).
template <class T>
absl::StatusOr<T> run_blocking(boost::asio::awaitable<absl::StatusOr<T>> call) {
  boost::asio::io_context io;
  auto future = boost::asio::co_spawn(io, std::move(call), boost::asio::use_future);
  io.run();
  try {
    return future.get();
  } catch (const std::exception& e) {
    return absl::InternalError(e.what());
  }
}

}  // namespace wims::cli
