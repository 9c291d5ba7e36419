#include "webhook/service_account_lookup.h"

#include "fmt/format.h"
#include "kube/objects.h"

namespace wims::webhook {

boost::asio::awaitable<absl::StatusOr<std::optional<config::ServiceAccount>>>
KubeServiceAccountLookup::find(std::string namespace_name, std::string name) {
  // Names are DNS labels/subdomains (validated by the API server before admission), safe in a path.
  std::string path = fmt::format("/api/v1/namespaces/{}/serviceaccounts/{}", namespace_name, name);
  absl::StatusOr<boost::json::object> object = co_await client_.get(std::move(path));
  if (!object.ok()) {
    if (absl::IsNotFound(object.status())) co_return std::optional<config::ServiceAccount>();
    co_return object.status();
  }
  absl::StatusOr<config::ServiceAccount> sa = kube::parse_service_account(*object);
  if (!sa.ok()) co_return sa.status();
  co_return std::optional<config::ServiceAccount>(*std::move(sa));
}

}  // namespace wims::webhook
