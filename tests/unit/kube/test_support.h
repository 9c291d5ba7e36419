// Helpers for the kube tests: run a coroutine to completion on a private io_context, and wait
// (bounded) for a condition that another thread makes true.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <exception>
#include <functional>
#include <optional>
#include <thread>

#include "config/world.h"

namespace wims::kube::testing {

template <class T>
T run_coroutine(boost::asio::awaitable<T> coroutine) {
  boost::asio::io_context io;
  std::optional<T> out;
  std::exception_ptr error;
  boost::asio::co_spawn(io, std::move(coroutine), [&](std::exception_ptr e, T value) {
    error = e;
    if (!e) out = std::move(value);
  });
  io.run();
  if (error) std::rethrow_exception(error);
  return *std::move(out);
}

// Polls `condition` every 5 ms for at most `limit`; true once it holds.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return condition();
}

inline config::World identity_world() {
  config::World world;
  world.project.id = "wims-test";
  world.project.number = 123456789012;
  world.cluster.name = "test";
  world.cluster.location = "us-central1-a";
  return world;
}

}  // namespace wims::kube::testing
