// ChangeFeed: wakes the Reconciler when the nftables ruleset changes, so tampering is repaired
// within a round trip instead of at the next periodic check. NetlinkChangeFeed subscribes a
// NETLINK_NETFILTER socket to the NFNLGRP_NFTABLES multicast group (the feed `nft monitor` prints:
// every new/deleted table, chain, rule, set and each new generation) in the calling thread's
// network namespace.
//
// wait() is called by one thread (the Reconciler's); interrupt() is thread-safe and may be called
// from any thread. The feed only says "something changed"; the Reconciler compares the listing to
// decide.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace wims::netguard {

class ChangeFeed {
 public:
  virtual ~ChangeFeed() = default;
  // Blocks until a ruleset change is seen (true), or `timeout` passes or interrupt() is called
  // (false). Events that arrive in a burst are coalesced into one true.
  virtual bool wait(absl::Duration timeout) = 0;
  // Makes the current (or next) wait() return promptly.
  virtual void interrupt() = 0;
};

class NetlinkChangeFeed final : public ChangeFeed {
 public:
  // PermissionDenied without CAP_NET_ADMIN; FailedPrecondition if the kernel lacks nf_tables.
  static absl::StatusOr<std::unique_ptr<NetlinkChangeFeed>> create();
  ~NetlinkChangeFeed() override;
  NetlinkChangeFeed(const NetlinkChangeFeed&) = delete;
  NetlinkChangeFeed& operator=(const NetlinkChangeFeed&) = delete;

  bool wait(absl::Duration timeout) override;
  void interrupt() override;

 private:
  NetlinkChangeFeed(int netlink_fd, int wake_fd) : netlink_fd_(netlink_fd), wake_fd_(wake_fd) {}
  int netlink_fd_;
  int wake_fd_;  // eventfd
};

// A feed with no events: the Reconciler then only checks periodically (e.g. when netlink
// subscription is not permitted).
class PeriodicOnlyFeed final : public ChangeFeed {
 public:
  PeriodicOnlyFeed();
  ~PeriodicOnlyFeed() override;
  bool wait(absl::Duration timeout) override;
  void interrupt() override;

 private:
  int wake_fd_;
};

}  // namespace wims::netguard
