#include "config/world.h"

#include <arpa/inet.h>

#include <algorithm>

namespace wims::config {
namespace {

// Canonical text of an IP literal (inet_ntop form), or the input unchanged if it is not one, so that
// "::0001" and "::1" find the same pod.
std::string canonical_ip(std::string_view ip) {
  std::string text(ip);
  unsigned char buf[16];
  char out[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET, text.c_str(), buf) == 1) {
    return inet_ntop(AF_INET, buf, out, sizeof out) ? std::string(out) : text;
  }
  if (inet_pton(AF_INET6, text.c_str(), buf) == 1) {
    return inet_ntop(AF_INET6, buf, out, sizeof out) ? std::string(out) : text;
  }
  return text;
}

}  // namespace

const ServiceAccount* World::find_service_account(std::string_view ns, std::string_view name) const {
  for (const ServiceAccount& sa : service_accounts) {
    if (sa.namespace_name == ns && sa.name == name) return &sa;
  }
  return nullptr;
}

const Pod* World::find_pod(std::string_view ns, std::string_view name) const {
  for (const Pod& pod : pods) {
    if (pod.namespace_name == ns && pod.name == name) return &pod;
  }
  return nullptr;
}

const Pod* World::find_pod_by_ip(std::string_view ip) const {
  const std::string wanted = canonical_ip(ip);
  for (const Pod& pod : pods) {
    if (pod.host_network) continue;
    for (const std::string& pod_ip : pod.ips) {
      if (canonical_ip(pod_ip) == wanted) return &pod;
    }
  }
  return nullptr;
}

const ServiceAccount* World::service_account_of(const Pod& pod) const {
  return find_service_account(pod.namespace_name, pod.service_account_name);
}

const GoogleServiceAccount* World::find_google_service_account(std::string_view email) const {
  for (const GoogleServiceAccount& gsa : google.service_accounts) {
    if (gsa.email == email) return &gsa;
  }
  return nullptr;
}

const Bucket* World::find_bucket(std::string_view name) const {
  for (const Bucket& bucket : google.buckets) {
    if (bucket.name == name) return &bucket;
  }
  return nullptr;
}

}  // namespace wims::config
