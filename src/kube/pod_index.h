// PodIndex: the node's pod identities, by every pod IP (status.podIPs, IPv4 and IPv6), fed by the
// Reflector from the Kubernetes watch and read by the metadata server through immutable snapshots.
//
// Rules (a new pod never gets an old pod's identity; an address is refused, never guessed):
//   - Pods are keyed by UID: a pod deleted and recreated under the same name, or a new pod that
//   reuses a
//     finished pod's IP, is a different pod.
//   - Succeeded, Failed and terminating (deletionTimestamp) pods hold no identity and are dropped.
//   - hostNetwork pods are never indexed by their (the node's) address: it answers
//   FailedPrecondition.
//   - An address claimed by two live pods (or a pod and a hostNetwork pod) answers
//   PermissionDenied.
//   - A pod whose service account has not been fetched yet is not indexed (its address waits, see
//     KubeCallerResolver::resolve_or_wait); one whose service account does not exist answers
//     PermissionDenied (from metadata::caller_for_pod).
//   - Only service accounts referenced by indexed pods are kept: memory grows with the pods on the
//   node,
//     never with the service accounts in the cluster.
// The annotation rules (Google service account, AWS role, IMDS emulator) are
// metadata::caller_for_pod's.
//
// Thread-safety: the writer methods (replace_*, apply_*, remove_*, mark_*, publish) are serialized
// by an internal mutex (the Reflector calls them from its thread); nothing is visible to readers
// until publish(). snapshot() and wait_for_publish() are safe from any thread and executor; a
// snapshot is immutable and lock-free to read (std::shared_ptr<const PodIndexSnapshot> swapped
// atomically). No lock is held across co_await.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "broker/caller.h"
#include "config/world.h"
#include "kube/objects.h"

namespace wims::kube {

// The published, immutable view.
class PodIndexSnapshot {
 public:
  using Answer = std::shared_ptr<const absl::StatusOr<broker::Caller>>;

  // The caller at `peer` (v4-mapped IPv6 normalised) or its refusal; NotFound when no indexed pod
  // has it.
  absl::StatusOr<broker::Caller> resolve(const boost::asio::ip::address& peer) const;
  // Whether `peer` has an answer (a caller or a refusal) rather than NotFound.
  bool knows(const boost::asio::ip::address& peer) const;

  uint64_t generation() const { return generation_; }
  // The initial list of pods and service accounts has been applied.
  bool synced() const { return synced_; }
  size_t pod_count() const { return pod_count_; }
  size_t address_count() const { return by_address_.size(); }
  size_t service_account_count() const { return service_account_count_; }

 private:
  friend class PodIndex;
  std::map<boost::asio::ip::address, Answer> by_address_ = {};
  uint64_t generation_ = 0;
  bool synced_ = false;
  size_t pod_count_ = 0;
  size_t service_account_count_ = 0;
};

struct PodIndexOptions {
  // Waiters (resolve_or_wait calls) parked at once; beyond, a caller is answered at once.
  size_t max_waiters = 4096;
};

class PodIndex {
 public:
  // `identity` supplies what caller_for_pod needs besides the pod and its service account: the
  // project (number, workload identity pool) and the cluster (resource URL). Its pods and service
  // accounts are ignored.
  explicit PodIndex(const config::World& identity, PodIndexOptions options = {});

  // --- Writer side.
  // The complete set of pods on the node (after a list): replaces all pods.
  void replace_pods(std::vector<PodInfo> pods);
  // ADDED / MODIFIED: a finished or terminating pod is removed.
  void apply_pod(PodInfo pod);
  void remove_pod(const std::string& uid);
  // The complete set of service accounts (after a list); those not referenced by a pod are dropped,
  // and referenced ones absent from `accounts` are marked absent.
  void replace_service_accounts(const std::vector<config::ServiceAccount>& accounts);
  // ADDED / MODIFIED of one service account: kept only when a pod references it.
  void apply_service_account(config::ServiceAccount account);
  // Like apply_service_account but only if its state is still unknown (a GET racing the watch).
  void apply_service_account_if_unknown(config::ServiceAccount account);
  void remove_service_account(const std::string& ns, const std::string& name);
  // A referenced service account the API server says does not exist (GET 404).
  void mark_service_account_absent(const std::string& ns, const std::string& name);
  // Whether a pod references ns/name.
  bool references(const std::string& ns, const std::string& name) const;
  // Referenced service accounts whose state is unknown: the reflector GETs them.
  std::vector<std::pair<std::string, std::string>> unknown_service_accounts() const;
  void mark_synced();
  // Builds a new snapshot from the current state, swaps it in and wakes every waiter.
  void publish();

  // --- Reader side.
  std::shared_ptr<const PodIndexSnapshot> snapshot() const { return snapshot_.load(); }
  // Waits until a snapshot newer than `generation` is published or `deadline` passes. Returns false
  // at once when max_waiters are already parked. Runs on the calling coroutine's executor.
  boost::asio::awaitable<bool> wait_for_publish(uint64_t generation,
                                                std::chrono::steady_clock::time_point deadline);

 private:
  using Key = std::pair<std::string, std::string>;  // namespace, name
  struct ServiceAccountState {
    size_t references = 0;
    // Unknown (not fetched yet) while !account && !absent.
    std::optional<config::ServiceAccount> account;
    bool absent = false;
  };
  struct Waiter;

  void add_reference(const Key& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void drop_reference(const Key& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void erase_pod(const std::string& uid) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void invalidate_callers_of(const Key& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  PodIndexSnapshot::Answer answer_for(const PodInfo& pod) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const config::World identity_;
  const PodIndexOptions options_;

  mutable absl::Mutex mu_;
  std::map<std::string, PodInfo> pods_ ABSL_GUARDED_BY(mu_);  // by uid
  std::map<Key, ServiceAccountState> service_accounts_ ABSL_GUARDED_BY(mu_);
  // Cached answers per pod uid, dropped when the pod or its service account changes.
  std::map<std::string, PodIndexSnapshot::Answer> answers_ ABSL_GUARDED_BY(mu_);
  bool synced_ ABSL_GUARDED_BY(mu_) = false;

  mutable absl::Mutex waiters_mu_;
  uint64_t generation_ ABSL_GUARDED_BY(waiters_mu_) = 0;
  uint64_t next_waiter_id_ ABSL_GUARDED_BY(waiters_mu_) = 0;
  absl::flat_hash_map<uint64_t, std::shared_ptr<Waiter>> waiters_ ABSL_GUARDED_BY(waiters_mu_);

  std::atomic<std::shared_ptr<const PodIndexSnapshot>> snapshot_;
};

}  // namespace wims::kube
