#include "netguard/change_feed.h"

#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "fmt/format.h"

namespace wims::netguard {
namespace {

int poll_timeout_ms(absl::Duration timeout) {
  if (timeout <= absl::ZeroDuration()) return 0;
  // Round up so that a 0.5 ms interval does not become a busy loop.
  return static_cast<int>(std::min<int64_t>(
      absl::ToInt64Milliseconds(timeout + absl::Microseconds(999)), 24 * 3600 * 1000));
}

void drain_eventfd(int fd) {
  uint64_t value = 0;
  while (read(fd, &value, sizeof(value)) > 0) {
  }
}

void signal_eventfd(int fd) {
  uint64_t one = 1;
  // A full counter (EAGAIN) already means "wake up"; nothing else can fail on a valid eventfd.
  [[maybe_unused]] ssize_t n = write(fd, &one, sizeof(one));
}

}  // namespace

absl::StatusOr<std::unique_ptr<NetlinkChangeFeed>> NetlinkChangeFeed::create() {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_NETFILTER);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        fmt::format("netguard: cannot open a netfilter netlink socket: {}", strerror(errno)));
  }
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  int group = NFNLGRP_NFTABLES;
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)) < 0 ||
      setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
    int err = errno;
    close(fd);
    if (err == EPERM || err == EACCES) {
      return absl::PermissionDeniedError(
          "netguard: watching nftables events needs root or CAP_NET_ADMIN");
    }
    return absl::FailedPreconditionError(
        fmt::format("netguard: cannot subscribe to nftables events: {}", strerror(err)));
  }
  int wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake < 0) {
    int err = errno;
    close(fd);
    return absl::InternalError(fmt::format("netguard: eventfd: {}", strerror(err)));
  }
  return std::unique_ptr<NetlinkChangeFeed>(new NetlinkChangeFeed(fd, wake));
}

NetlinkChangeFeed::~NetlinkChangeFeed() {
  close(netlink_fd_);
  close(wake_fd_);
}

bool NetlinkChangeFeed::wait(absl::Duration timeout) {
  pollfd fds[2] = {{netlink_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  int n = poll(fds, 2, poll_timeout_ms(timeout));
  if (n <= 0) return false;  // timeout or EINTR: the caller checks anyway
  if (fds[1].revents & POLLIN) {
    drain_eventfd(wake_fd_);
    return false;
  }
  // Drain everything queued; ENOBUFS (the socket overflowed during a burst) also means "changed".
  std::vector<char> buf(1 << 16);
  bool changed = false;
  for (int i = 0; i < 10'000; ++i) {
    ssize_t got = recv(netlink_fd_, buf.data(), buf.size(), 0);
    if (got > 0) {
      changed = true;
      continue;
    }
    if (got < 0 && errno == ENOBUFS) {
      changed = true;
      continue;
    }
    break;  // EAGAIN: drained
  }
  return changed;
}

void NetlinkChangeFeed::interrupt() { signal_eventfd(wake_fd_); }

PeriodicOnlyFeed::PeriodicOnlyFeed() : wake_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

PeriodicOnlyFeed::~PeriodicOnlyFeed() {
  if (wake_fd_ >= 0) close(wake_fd_);
}

bool PeriodicOnlyFeed::wait(absl::Duration timeout) {
  pollfd fd{wake_fd_, POLLIN, 0};
  if (poll(&fd, 1, poll_timeout_ms(timeout)) > 0) drain_eventfd(wake_fd_);
  return false;
}

void PeriodicOnlyFeed::interrupt() { signal_eventfd(wake_fd_); }

}  // namespace wims::netguard
