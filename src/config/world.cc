#include "config/world.h"

#include <arpa/inet.h>

#include <initializer_list>

namespace wims::config {

std::optional<std::string> canonical_ip(std::string_view text) {
  const std::string ip(text);
  unsigned char buf[16];
  char out[INET6_ADDRSTRLEN];
  for (int family : {AF_INET, AF_INET6}) {
    if (inet_pton(family, ip.c_str(), buf) == 1 &&
        inet_ntop(family, buf, out, sizeof out) != nullptr) {
      return std::string(out);
    }
  }
  return std::nullopt;
}

const ServiceAccount* World::find_service_account(std::string_view ns,
                                                  std::string_view name) const {
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
  const std::optional<std::string> wanted = canonical_ip(ip);
  if (!wanted) return nullptr;
  for (const Pod& pod : pods) {
    if (pod.host_network) continue;
    for (const std::string& pod_ip : pod.ips) {
      if (canonical_ip(pod_ip) == *wanted) return &pod;
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

const ManagedIdentity* AzureCloud::find_managed_identity(std::string_view client_id) const {
  for (const ManagedIdentity& identity : managed_identities) {
    if (identity.client_id == client_id) return &identity;
  }
  return nullptr;
}

const AppRegistration* AzureCloud::find_app_registration(std::string_view app_id) const {
  for (const AppRegistration& app : app_registrations) {
    if (app.app_id == app_id) return &app;
  }
  return nullptr;
}

}  // namespace wims::config
