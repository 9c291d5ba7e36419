#include "kube/pod_index.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "fmt/format.h"
#include "metadata/caller_resolver.h"

namespace wims::kube {

namespace asio = boost::asio;
using asio::ip::address;

// The timer lives in the waiting coroutine's frame, so it is created, cancelled and destroyed on
// that coroutine's executor only; publish() reaches it through this record, which outlives both
// sides. The frame clears `timer` (under mu) before the timer goes away, so a late wake-up finds
// nothing to cancel.
struct PodIndex::Waiter {
  asio::any_io_executor executor;
  absl::Mutex mu;
  asio::steady_timer* timer ABSL_GUARDED_BY(mu) = nullptr;
};

namespace {

std::string pod_name(const config::Pod& pod) { return pod.namespace_name + "/" + pod.name; }

}  // namespace

absl::StatusOr<broker::Caller> PodIndexSnapshot::resolve(const address& peer) const {
  const address normalized = metadata::normalize_address(peer);
  auto it = by_address_.find(normalized);
  if (it == by_address_.end()) {
    return absl::NotFoundError(
        fmt::format("no pod on this node has address {}", normalized.to_string()));
  }
  return *it->second;
}

bool PodIndexSnapshot::knows(const address& peer) const {
  return by_address_.count(metadata::normalize_address(peer)) > 0;
}

PodIndex::PodIndex(const config::World& identity, PodIndexOptions options)
    : identity_([&] {
        // Only what caller_for_pod reads besides the pod and its service account.
        config::World slim;
        slim.project = identity.project;
        slim.cluster = identity.cluster;
        return slim;
      }()),
      options_(options),
      snapshot_(std::make_shared<const PodIndexSnapshot>()) {}

void PodIndex::add_reference(const Key& key) { ++service_accounts_[key].references; }

void PodIndex::drop_reference(const Key& key) {
  auto it = service_accounts_.find(key);
  if (it == service_accounts_.end()) return;
  if (--it->second.references == 0) service_accounts_.erase(it);
}

void PodIndex::erase_pod(const std::string& uid) {
  auto it = pods_.find(uid);
  if (it == pods_.end()) return;
  drop_reference({it->second.pod.namespace_name, it->second.pod.service_account_name});
  answers_.erase(uid);
  pods_.erase(it);
}

void PodIndex::invalidate_callers_of(const Key& key) {
  for (const auto& [uid, info] : pods_) {
    if (info.pod.namespace_name == key.first && info.pod.service_account_name == key.second)
      answers_.erase(uid);
  }
}

void PodIndex::replace_pods(std::vector<PodInfo> pods) {
  absl::MutexLock lock(&mu_);
  std::map<std::string, PodInfo> next;
  for (PodInfo& info : pods) {
    if (info.finished()) continue;
    std::string uid = info.pod.uid;
    next.insert_or_assign(std::move(uid), std::move(info));
  }
  // New references first, so the state of a service account still in use survives the swap.
  for (const auto& [uid, info] : next)
    add_reference({info.pod.namespace_name, info.pod.service_account_name});
  for (const auto& [uid, info] : pods_) {
    drop_reference({info.pod.namespace_name, info.pod.service_account_name});
    auto kept = next.find(uid);
    if (kept == next.end() || !(kept->second.pod == info.pod)) answers_.erase(uid);
  }
  pods_ = std::move(next);
}

void PodIndex::apply_pod(PodInfo pod) {
  absl::MutexLock lock(&mu_);
  if (pod.finished()) {
    erase_pod(pod.pod.uid);
    return;
  }
  auto it = pods_.find(pod.pod.uid);
  if (it != pods_.end() && it->second.pod == pod.pod) {
    it->second = std::move(pod);  // phase or resourceVersion only: the identity is unchanged
    return;
  }
  // Reference the (possibly same) service account before dropping the old pod's reference.
  add_reference({pod.pod.namespace_name, pod.pod.service_account_name});
  erase_pod(pod.pod.uid);
  std::string uid = pod.pod.uid;
  pods_.emplace(std::move(uid), std::move(pod));
}

void PodIndex::remove_pod(const std::string& uid) {
  absl::MutexLock lock(&mu_);
  erase_pod(uid);
}

void PodIndex::replace_service_accounts(const std::vector<config::ServiceAccount>& accounts) {
  absl::MutexLock lock(&mu_);
  std::set<Key> seen;
  for (const config::ServiceAccount& account : accounts) {
    Key key{account.namespace_name, account.name};
    auto it = service_accounts_.find(key);
    if (it == service_accounts_.end()) continue;  // not referenced: not kept
    seen.insert(key);
    if (!it->second.account || !(*it->second.account == account)) {
      it->second.account = account;
      it->second.absent = false;
      invalidate_callers_of(key);
    }
  }
  for (auto& [key, state] : service_accounts_) {
    if (seen.count(key) == 0 && !state.absent) {
      state.account.reset();
      state.absent = true;
      invalidate_callers_of(key);
    }
  }
}

void PodIndex::apply_service_account(config::ServiceAccount account) {
  absl::MutexLock lock(&mu_);
  Key key{account.namespace_name, account.name};
  auto it = service_accounts_.find(key);
  if (it == service_accounts_.end()) return;
  if (it->second.account && *it->second.account == account) return;
  it->second.account = std::move(account);
  it->second.absent = false;
  invalidate_callers_of(key);
}

void PodIndex::apply_service_account_if_unknown(config::ServiceAccount account) {
  absl::MutexLock lock(&mu_);
  Key key{account.namespace_name, account.name};
  auto it = service_accounts_.find(key);
  if (it == service_accounts_.end() || it->second.account || it->second.absent) return;
  it->second.account = std::move(account);
  invalidate_callers_of(key);
}

void PodIndex::remove_service_account(const std::string& ns, const std::string& name) {
  mark_service_account_absent(ns, name);
}

void PodIndex::mark_service_account_absent(const std::string& ns, const std::string& name) {
  absl::MutexLock lock(&mu_);
  Key key{ns, name};
  auto it = service_accounts_.find(key);
  if (it == service_accounts_.end() || it->second.absent) return;
  it->second.account.reset();
  it->second.absent = true;
  invalidate_callers_of(key);
}

bool PodIndex::references(const std::string& ns, const std::string& name) const {
  absl::MutexLock lock(&mu_);
  return service_accounts_.count({ns, name}) > 0;
}

std::vector<std::pair<std::string, std::string>> PodIndex::unknown_service_accounts() const {
  absl::MutexLock lock(&mu_);
  std::vector<Key> out;
  for (const auto& [key, state] : service_accounts_) {
    if (!state.account && !state.absent) out.push_back(key);
  }
  return out;
}

void PodIndex::mark_synced() {
  absl::MutexLock lock(&mu_);
  synced_ = true;
}

PodIndexSnapshot::Answer PodIndex::answer_for(const PodInfo& info) {
  auto cached = answers_.find(info.pod.uid);
  if (cached != answers_.end()) return cached->second;
  const ServiceAccountState& state =
      service_accounts_.at({info.pod.namespace_name, info.pod.service_account_name});
  // caller_for_pod reads the project, cluster and the pod's service account from a World: give it a
  // view holding just that account (a lookup in it is O(1), whatever the cluster's size).
  config::World view = identity_;
  if (state.account) view.service_accounts.push_back(*state.account);
  auto answer = std::make_shared<const absl::StatusOr<broker::Caller>>(
      metadata::caller_for_pod(view, info.pod));
  answers_.emplace(info.pod.uid, answer);
  return answer;
}

void PodIndex::publish() {
  auto next = std::make_shared<PodIndexSnapshot>();
  {
    absl::MutexLock lock(&mu_);
    // Who claims each address.
    struct Claim {
      std::vector<const PodInfo*> pods;
      std::vector<const PodInfo*> host_network;
    };
    std::map<address, Claim> claims;
    for (const auto& [uid, info] : pods_) {
      const ServiceAccountState& state =
          service_accounts_.at({info.pod.namespace_name, info.pod.service_account_name});
      const bool pending = !state.account && !state.absent;
      if (pending && !info.pod.host_network)
        continue;  // not indexed until its service account is known
      for (const std::string& ip : info.pod.ips) {
        boost::system::error_code ec;
        address parsed = asio::ip::make_address(ip, ec);
        if (ec) continue;  // parse_pod admits canonical IP literals only
        Claim& claim = claims[metadata::normalize_address(parsed)];
        (info.pod.host_network ? claim.host_network : claim.pods).push_back(&info);
      }
    }
    for (const auto& [addr, claim] : claims) {
      const std::string text = addr.to_string();
      if (claim.pods.size() + (claim.host_network.empty() ? 0 : 1) > 1) {
        std::vector<std::string> names;
        for (const PodInfo* p : claim.pods)
          names.push_back(pod_name(p->pod) + " uid " + p->pod.uid);
        for (const PodInfo* p : claim.host_network)
          names.push_back(pod_name(p->pod) + " (hostNetwork)");
        next->by_address_.emplace(
            addr,
            std::make_shared<const absl::StatusOr<broker::Caller>>(
                absl::PermissionDeniedError(fmt::format(
                    "address {} is claimed by more than one live pod ({}); refusing to pick one",
                    text, fmt::join(names, ", ")))));
      } else if (!claim.pods.empty()) {
        next->by_address_.emplace(addr, answer_for(*claim.pods.front()));
      } else {
        next->by_address_.emplace(
            addr,
            std::make_shared<const absl::StatusOr<broker::Caller>>(
                absl::FailedPreconditionError(fmt::format(
                    "address {} is the node's own address (hostNetwork pod {}); it has no pod "
                    "identity",
                    text, pod_name(claim.host_network.front()->pod)))));
      }
    }
    next->pod_count_ = pods_.size();
    for (const auto& [key, state] : service_accounts_)
      next->service_account_count_ += state.account ? 1 : 0;
    next->synced_ = synced_;
  }
  std::vector<std::shared_ptr<Waiter>> woken;
  {
    absl::MutexLock lock(&waiters_mu_);
    next->generation_ = ++generation_;
    snapshot_.store(std::move(next));
    woken.reserve(waiters_.size());
    for (auto& [id, waiter] : waiters_) woken.push_back(waiter);
    waiters_.clear();
  }
  // Steady timers are not thread-safe: cancel each on its own executor.
  for (const std::shared_ptr<Waiter>& waiter : woken) {
    asio::post(waiter->executor, [waiter] {
      absl::MutexLock lock(&waiter->mu);
      if (waiter->timer != nullptr) waiter->timer->cancel();
    });
  }
}

asio::awaitable<bool> PodIndex::wait_for_publish(uint64_t generation,
                                                 std::chrono::steady_clock::time_point deadline) {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor, deadline);
  auto waiter = std::make_shared<Waiter>();
  waiter->executor = executor;
  {
    absl::MutexLock lock(&waiter->mu);
    waiter->timer = &timer;
  }
  // Runs however the frame ends (resumed, or destroyed while parked when its io_context goes away).
  struct Detach {
    Waiter& waiter;
    ~Detach() {
      absl::MutexLock lock(&waiter.mu);
      waiter.timer = nullptr;
    }
  } detach{*waiter};
  uint64_t id = 0;
  {
    absl::MutexLock lock(&waiters_mu_);
    if (generation_ != generation) co_return true;
    if (waiters_.size() >= options_.max_waiters) co_return false;
    id = ++next_waiter_id_;
    waiters_.emplace(id, waiter);
  }
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  absl::MutexLock lock(&waiters_mu_);
  waiters_.erase(id);
  co_return true;
}

}  // namespace wims::kube
