#include "kube/reflector.h"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

#include "common/strings.h"
#include "fmt/format.h"

namespace wims::kube {

namespace asio = boost::asio;

namespace {

constexpr char kPods[] = "/api/v1/pods";
constexpr char kServiceAccounts[] = "/api/v1/serviceaccounts";

std::string message(const absl::Status& status) { return std::string(to_std(status.message())); }

}  // namespace

Reflector::Reflector(ApiClient& client, PodIndex& index, ReflectorOptions options)
    : client_(client), index_(index), options_(std::move(options)) {}

Reflector::~Reflector() { stop(); }

void Reflector::start() {
  if (io_) return;
  io_ = std::make_unique<asio::io_context>(1);
  asio::co_spawn(*io_, run(), asio::detached);
  thread_ = std::thread([this] { io_->run(); });
}

void Reflector::stop() {
  if (!io_) return;
  io_->stop();
  if (thread_.joinable()) thread_.join();
  // Destroys the suspended coroutines (and their connections) here, on the controlling thread.
  io_.reset();
}

bool Reflector::wait_synced(absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(absl::Condition(&synced_), timeout);
}

ReflectorStats Reflector::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

void Reflector::record_error(const absl::Status& status, bool expired) {
  absl::MutexLock lock(&mu_);
  if (expired) {
    ++stats_.relists_after_expiry;
  } else {
    ++stats_.reconnects_after_error;
  }
  stats_.last_error = message(status);
  spdlog::warn("kube reflector: {}", stats_.last_error);
}

asio::awaitable<void> Reflector::sleep(absl::Duration duration) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      absl::ToChronoNanoseconds(duration)));
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

asio::awaitable<absl::StatusOr<std::string>> Reflector::list_pages(
    std::string path, ListOptions options,
    std::function<void(const boost::json::object&)> on_item) {
  std::string resource_version;
  do {
    absl::StatusOr<ObjectList> page = co_await client_.list(path, options);
    if (!page.ok()) co_return page.status();
    if (resource_version.empty()) resource_version = page->resource_version;
    for (const boost::json::object& item : page->items) on_item(item);
    options.continue_token = page->continue_token;
  } while (!options.continue_token.empty());
  co_return resource_version;
}

asio::awaitable<absl::StatusOr<std::string>> Reflector::list_pods() {
  std::vector<PodInfo> pods;
  auto keep = [&pods](const boost::json::object& item) {
    absl::StatusOr<PodInfo> pod = parse_pod(item);
    if (!pod.ok()) {
      spdlog::warn("kube reflector: skipping a pod: {}", message(pod.status()));
      return;
    }
    pods.push_back(*std::move(pod));
  };
  // Named first: GCC 12 destroys temporaries built inside a co_await expression twice.
  ListOptions options{.field_selector = "spec.nodeName=" + options_.node_name,
                      .limit = options_.page_size};
  std::function<void(const boost::json::object&)> on_item = keep;
  absl::StatusOr<std::string> resource_version =
      co_await list_pages(kPods, std::move(options), std::move(on_item));
  if (!resource_version.ok()) co_return resource_version.status();
  index_.replace_pods(std::move(pods));
  {
    absl::MutexLock lock(&mu_);
    ++stats_.pod_lists;
  }
  co_return resource_version;
}

asio::awaitable<absl::StatusOr<std::string>> Reflector::list_service_accounts() {
  // Only referenced accounts are kept from each page: peak memory is one page, not the cluster.
  std::vector<config::ServiceAccount> kept;
  auto keep = [this, &kept](const boost::json::object& item) {
    absl::StatusOr<config::ServiceAccount> account = parse_service_account(item);
    if (account.ok() && index_.references(account->namespace_name, account->name)) {
      kept.push_back(*std::move(account));
    }
  };
  ListOptions options{.limit = options_.page_size};
  std::function<void(const boost::json::object&)> on_item = keep;
  absl::StatusOr<std::string> resource_version =
      co_await list_pages(kServiceAccounts, std::move(options), std::move(on_item));
  if (!resource_version.ok()) co_return resource_version.status();
  index_.replace_service_accounts(kept);
  {
    absl::MutexLock lock(&mu_);
    ++stats_.service_account_lists;
  }
  co_return resource_version;
}

asio::awaitable<absl::Status> Reflector::fetch_unknown_service_accounts() {
  absl::Status result;
  for (const auto& [ns, name] : index_.unknown_service_accounts()) {
    absl::StatusOr<boost::json::object> object =
        co_await client_.get(fmt::format("/api/v1/namespaces/{}/serviceaccounts/{}", ns, name));
    if (object.ok()) {
      absl::StatusOr<config::ServiceAccount> account = parse_service_account(*object);
      if (account.ok()) index_.apply_service_account_if_unknown(*std::move(account));
    } else if (object.status().code() == absl::StatusCode::kNotFound) {
      index_.mark_service_account_absent(ns, name);
    } else {
      result.Update(object.status());
    }
  }
  co_return result;
}

asio::awaitable<std::string> Reflector::relist(bool pods) {
  Backoff backoff(options_.backoff, options_.random);
  while (true) {
    // Not `pods ? co_await a() : co_await b()`: GCC 12 miscompiles co_await inside ?: (frees
    // garbage).
    absl::StatusOr<std::string> resource_version;
    if (pods) {
      resource_version = co_await list_pods();
    } else {
      resource_version = co_await list_service_accounts();
    }
    absl::Status status = resource_version.status();
    if (status.ok()) status = co_await fetch_unknown_service_accounts();
    if (status.ok()) {
      index_.publish();
      co_return *resource_version;
    }
    record_error(status, false);
    co_await sleep(backoff.next());
  }
}

asio::awaitable<void> Reflector::run() {
  Backoff backoff(options_.backoff, options_.random);
  std::string pods_rv, accounts_rv;
  while (true) {
    // Pods first: the service-account list keeps only what they reference.
    absl::StatusOr<std::string> pods = co_await list_pods();
    absl::Status status = pods.status();
    if (status.ok()) {
      absl::StatusOr<std::string> accounts = co_await list_service_accounts();
      status = accounts.status();
      if (status.ok()) {
        status = co_await fetch_unknown_service_accounts();
        pods_rv = *pods;
        accounts_rv = *accounts;
      }
    }
    if (status.ok()) break;
    record_error(status, false);
    co_await sleep(backoff.next());
  }
  index_.mark_synced();
  index_.publish();
  {
    absl::MutexLock lock(&mu_);
    synced_ = true;
  }
  auto executor = co_await asio::this_coro::executor;
  asio::co_spawn(executor, watch(Resource::kServiceAccounts, std::move(accounts_rv)),
                 asio::detached);
  co_await watch(Resource::kPods, std::move(pods_rv));
}

asio::awaitable<bool> Reflector::apply_pod_event(const WatchEvent& event) {
  absl::StatusOr<PodInfo> pod = parse_pod(event.object);
  if (!pod.ok()) {
    spdlog::warn("kube reflector: skipping a pod event: {}", message(pod.status()));
    co_return false;
  }
  if (event.type == WatchEventType::kDeleted) {
    index_.remove_pod(pod->pod.uid);
    co_return true;
  }
  index_.apply_pod(*std::move(pod));
  if (absl::Status fetched = co_await fetch_unknown_service_accounts(); !fetched.ok()) {
    record_error(fetched, false);
  }
  co_return true;
}

bool Reflector::apply_service_account_event(const WatchEvent& event) {
  absl::StatusOr<config::ServiceAccount> account = parse_service_account(event.object);
  if (!account.ok() || !index_.references(account->namespace_name, account->name)) return false;
  if (event.type == WatchEventType::kDeleted) {
    index_.remove_service_account(account->namespace_name, account->name);
  } else {
    index_.apply_service_account(*std::move(account));
  }
  return true;
}

asio::awaitable<void> Reflector::watch(Resource resource, std::string resource_version) {
  const bool pods = resource == Resource::kPods;
  Backoff backoff(options_.backoff, options_.random);
  while (true) {
    WatchOptions watch_options{.resource_version = resource_version,
                               .allow_bookmarks = true,
                               .server_timeout = options_.watch_timeout};
    if (pods) watch_options.field_selector = "spec.nodeName=" + options_.node_name;
    absl::StatusOr<std::unique_ptr<WatchStream>> stream =
        co_await client_.watch(pods ? kPods : kServiceAccounts, watch_options);
    absl::Status failure;
    if (stream.ok()) {
      {
        absl::MutexLock lock(&mu_);
        ++(pods ? stats_.pod_watches : stats_.service_account_watches);
      }
      while (true) {
        absl::StatusOr<std::optional<WatchEvent>> event = co_await (*stream)->next();
        if (!event.ok()) {
          failure = event.status();
          break;
        }
        if (!event->has_value()) break;  // ended cleanly: resume from resource_version
        WatchEvent& e = **event;
        backoff.reset();
        if (e.type == WatchEventType::kError) {
          failure = status_from_kube_status(e.object, 200);
          break;
        }
        if (!e.resource_version.empty()) resource_version = e.resource_version;
        if (e.type == WatchEventType::kBookmark) {
          absl::MutexLock lock(&mu_);
          ++stats_.bookmarks;
          continue;
        }
        // Not `pods ? co_await a : b`: GCC 12 miscompiles co_await inside ?:.
        bool applied = false;
        if (pods) {
          applied = co_await apply_pod_event(e);
        } else {
          applied = apply_service_account_event(e);
        }
        if (!applied) continue;
        index_.publish();
        absl::MutexLock lock(&mu_);
        ++stats_.events_applied;
      }
    } else {
      failure = stream.status();
    }
    if (failure.ok()) continue;
    if (is_expired(failure)) {
      record_error(failure, true);
      resource_version = co_await relist(pods);
      continue;
    }
    record_error(failure, false);
    co_await sleep(backoff.next());
  }
}

}  // namespace wims::kube
