#include "netguard/conntrack.h"

#include <arpa/inet.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "common/status_macros.h"
#include "fmt/format.h"

namespace wims::netguard {
namespace {

struct Address {
  int family;
  std::string bytes;  // 4 or 16 bytes, network order
};

// One conntrack entry to delete: its l3 family and the raw CTA_TUPLE_ORIG (and CTA_ZONE)
// attributes, echoed back verbatim so the kernel finds exactly that entry.
struct Entry {
  uint8_t family;
  std::string attributes;
};

class Socket {
 public:
  Socket() : fd_(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER)) {}
  ~Socket() {
    if (fd_ >= 0) close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

absl::Status errno_status(int err, std::string_view what) {
  if (err == EPERM || err == EACCES) {
    return absl::PermissionDeniedError(fmt::format(
        "netguard: {}: conntrack needs root or CAP_NET_ADMIN ({})", what, strerror(err)));
  }
  if (err == EPROTONOSUPPORT || err == EOPNOTSUPP || err == ENOENT) {
    return absl::FailedPreconditionError(fmt::format(
        "netguard: {}: the kernel has no conntrack netlink support ({})", what, strerror(err)));
  }
  return absl::UnavailableError(fmt::format("netguard: {}: {}", what, strerror(err)));
}

std::string message(uint16_t type, uint16_t flags, uint8_t family, uint32_t seq,
                    std::string_view attributes) {
  std::string buf(NLMSG_LENGTH(sizeof(nfgenmsg)), '\0');
  auto* nlh = reinterpret_cast<nlmsghdr*>(buf.data());
  nlh->nlmsg_type = static_cast<uint16_t>((NFNL_SUBSYS_CTNETLINK << 8) | type);
  nlh->nlmsg_flags = flags;
  nlh->nlmsg_seq = seq;
  auto* nfg = reinterpret_cast<nfgenmsg*>(NLMSG_DATA(nlh));
  nfg->nfgen_family = family;
  nfg->version = NFNETLINK_V0;
  nfg->res_id = 0;
  buf.append(attributes);
  reinterpret_cast<nlmsghdr*>(buf.data())->nlmsg_len = static_cast<uint32_t>(buf.size());
  return buf;
}

// Walks the attributes in [data, data+len) and calls fn(type, payload, whole_attribute).
template <typename Fn>
void for_each_attribute(const char* data, size_t len, Fn fn) {
  while (len >= sizeof(nlattr)) {
    nlattr attr;
    std::memcpy(&attr, data, sizeof(attr));
    if (attr.nla_len < sizeof(nlattr) || attr.nla_len > len) return;
    const size_t aligned = NLA_ALIGN(static_cast<size_t>(attr.nla_len));
    fn(attr.nla_type & NLA_TYPE_MASK,
       std::string_view(data + NLA_HDRLEN, attr.nla_len - NLA_HDRLEN),
       std::string_view(data, aligned <= len ? aligned : attr.nla_len));
    size_t step = aligned;
    if (step >= len) return;
    data += step;
    len -= step;
  }
}

std::string original_destination(std::string_view tuple) {
  std::string dst;
  for_each_attribute(tuple.data(), tuple.size(),
                     [&](int type, std::string_view payload, std::string_view) {
                       if (type != CTA_TUPLE_IP) return;
                       for_each_attribute(payload.data(), payload.size(),
                                          [&](int t, std::string_view p, std::string_view) {
                                            if (t == CTA_IP_V4_DST || t == CTA_IP_V6_DST)
                                              dst = std::string(p);
                                          });
                     });
  return dst;
}

// Sends `request` and reads replies until DONE (dump) or the ACK; each data message goes to
// on_message.
template <typename Fn>
absl::Status transact(const Socket& sock, const std::string& request, uint32_t seq, Fn on_message) {
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (sendto(sock.fd(), request.data(), request.size(), 0, reinterpret_cast<sockaddr*>(&kernel),
             sizeof(kernel)) < 0) {
    return errno_status(errno, "conntrack request");
  }
  std::vector<char> buf(1 << 16);
  // Bounded: a dump of a full table (262144 entries) is far below this many datagrams.
  for (int reads = 0; reads < 1'000'000; ++reads) {
    ssize_t n = recv(sock.fd(), buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_status(errno, "conntrack reply");
    }
    int len = static_cast<int>(n);
    for (auto* nlh = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(nlh, len);
         nlh = NLMSG_NEXT(nlh, len)) {
      if (nlh->nlmsg_seq != seq) continue;
      if (nlh->nlmsg_type == NLMSG_DONE) return absl::OkStatus();
      if (nlh->nlmsg_type == NLMSG_ERROR) {
        const auto* err = reinterpret_cast<const nlmsgerr*>(NLMSG_DATA(nlh));
        if (err->error == 0) return absl::OkStatus();  // ACK
        return errno_status(-err->error, "conntrack");
      }
      if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(nfgenmsg))) continue;
      const auto* nfg = reinterpret_cast<const nfgenmsg*>(NLMSG_DATA(nlh));
      const char* attrs =
          reinterpret_cast<const char*>(NLMSG_DATA(nlh)) + NLMSG_ALIGN(sizeof(nfgenmsg));
      on_message(nfg->nfgen_family,
                 std::string_view(attrs, nlh->nlmsg_len - NLMSG_LENGTH(sizeof(nfgenmsg))));
    }
  }
  return absl::DeadlineExceededError("netguard: conntrack reply did not end");
}

}  // namespace

absl::StatusOr<int> delete_conntrack_to(const std::vector<std::string>& destinations) {
  std::vector<std::string> wanted;
  for (const std::string& d : destinations) {
    in_addr v4{};
    in6_addr v6{};
    if (inet_pton(AF_INET, d.c_str(), &v4) == 1) {
      wanted.emplace_back(reinterpret_cast<const char*>(&v4), sizeof(v4));
    } else if (inet_pton(AF_INET6, d.c_str(), &v6) == 1) {
      wanted.emplace_back(reinterpret_cast<const char*>(&v6), sizeof(v6));
    } else {
      return absl::InvalidArgumentError(fmt::format("netguard: \"{}\" is not an IP address", d));
    }
  }
  Socket sock;
  if (sock.fd() < 0) return errno_status(errno, "conntrack socket");
  timeval timeout{.tv_sec = 2, .tv_usec = 0};
  setsockopt(sock.fd(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (bind(sock.fd(), reinterpret_cast<sockaddr*>(&local), sizeof(local)) < 0) {
    return errno_status(errno, "conntrack bind");
  }

  std::vector<Entry> doomed;
  uint32_t seq = 1;
  const std::string dump =
      message(IPCTNL_MSG_CT_GET, NLM_F_REQUEST | NLM_F_DUMP, AF_UNSPEC, seq, "");
  WIMS_RETURN_IF_ERROR(transact(sock, dump, seq, [&](uint8_t family, std::string_view attrs) {
    Entry entry{family, ""};
    bool match = false;
    for_each_attribute(attrs.data(), attrs.size(),
                       [&](int type, std::string_view payload, std::string_view whole) {
                         if (type == CTA_TUPLE_ORIG) {
                           const std::string dst = original_destination(payload);
                           for (const std::string& w : wanted) match |= (dst == w);
                           entry.attributes.append(whole);
                         } else if (type == CTA_ZONE) {
                           entry.attributes.append(whole);
                         }
                       });
    if (match) doomed.push_back(std::move(entry));
  }));

  int deleted = 0;
  for (const Entry& entry : doomed) {
    ++seq;
    const std::string request = message(IPCTNL_MSG_CT_DELETE, NLM_F_REQUEST | NLM_F_ACK,
                                        entry.family, seq, entry.attributes);
    absl::Status status = transact(sock, request, seq, [](uint8_t, std::string_view) {});
    if (status.ok()) {
      ++deleted;
    } else if (!absl::IsFailedPrecondition(status)) {  // ENOENT: the entry expired meanwhile
      return status;
    }
  }
  return deleted;
}

}  // namespace wims::netguard
