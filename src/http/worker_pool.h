// WorkerPool: the share-nothing I/O threads of the process. Each of N threads runs its own
// boost::asio::io_context; a connection accepted onto worker i stays on worker i for life, so per-
// connection state needs no locks. Servers (http/server.h) and clients (http/client.h) run on these
// executors; blocking work goes to http/blocking_pool.h instead.
//
//   WorkerPool workers(4);            // 0 = std::thread::hardware_concurrency()
//   workers.start();
//   Server server(options, handler, workers, metrics);  ... server.stop();
//   workers.stop();                   // after every service using it has stopped
//
// Owned by the CLI wiring. start()/stop() are called from one controlling thread (not from a
// worker); executor()/next_executor()/size() are thread-safe.
#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

namespace wims::http {

class WorkerPool {
 public:
  using Executor = boost::asio::io_context::executor_type;

  // `threads` = 0 means std::thread::hardware_concurrency() (at least 1).
  explicit WorkerPool(size_t threads = 0);
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;
  // Calls stop().
  ~WorkerPool();

  // Starts the threads. Work posted to executors before start() runs once started. Idempotent.
  void start();
  // Stops every io_context and joins the threads; pending handlers are abandoned (their coroutine
  // frames destroyed with the pool). Stop services (Server::stop) first. Idempotent.
  void stop();

  size_t size() const { return workers_.size(); }
  // The executor of worker `index` (< size()).
  Executor executor(size_t index) const { return workers_[index]->context.get_executor(); }
  // Round-robin over the workers.
  Executor next_executor();
  // The index of the worker whose thread is calling, or nullopt on any other thread.
  std::optional<size_t> current_worker() const;

 private:
  struct Worker {
    boost::asio::io_context context{1};  // concurrency hint 1: one thread per context
    std::optional<boost::asio::executor_work_guard<Executor>> work;
    std::thread thread;
  };
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<size_t> next_{0};
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace wims::http
