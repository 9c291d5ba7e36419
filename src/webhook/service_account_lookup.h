// ServiceAccountLookup: reads the service account a pod runs as, for the mutations that depend on
// its annotations (IRSA, Azure workload identity). KubeServiceAccountLookup GETs
// /api/v1/namespaces/NS/serviceaccounts/NAME through kube::ApiClient on every call (admission is
// rare next to the API server's own cost of a pod CREATE; no cache that could serve a stale
// annotation).
//
// find() runs on the calling coroutine's executor; implementations are thread-safe. The ApiClient
// must outlive the lookup.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "config/world.h"
#include "kube/api_client.h"

namespace wims::webhook {

class ServiceAccountLookup {
 public:
  virtual ~ServiceAccountLookup() = default;
  // The service account; nullopt when it does not exist; an error when it could not be read.
  virtual boost::asio::awaitable<absl::StatusOr<std::optional<config::ServiceAccount>>> find(
      std::string namespace_name, std::string name) = 0;
};

class KubeServiceAccountLookup final : public ServiceAccountLookup {
 public:
  explicit KubeServiceAccountLookup(kube::ApiClient& client) : client_(client) {}
  boost::asio::awaitable<absl::StatusOr<std::optional<config::ServiceAccount>>> find(
      std::string namespace_name, std::string name) override;

 private:
  kube::ApiClient& client_;
};

}  // namespace wims::webhook
