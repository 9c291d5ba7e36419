#include "netguard/netguard.h"

#include <string>
#include <vector>

#include "common/status_macros.h"
#include "netguard/conntrack.h"
#include "netguard/preflight.h"
#include "spdlog/spdlog.h"

namespace wims::netguard {
namespace {

absl::Status preflight(Families families) {
  WIMS_RETURN_IF_ERROR(check_net_admin());
  return check_families(families);
}

}  // namespace

absl::Status apply(const Options& options, RuleBackend& backend) {
  WIMS_RETURN_IF_ERROR(validate(options));
  return backend.run(render_apply_script(options));
}

absl::Status apply(const Options& options) {
  WIMS_RETURN_IF_ERROR(validate(options));
  WIMS_RETURN_IF_ERROR(preflight(options.families));
  WIMS_ASSIGN_OR_RETURN(std::unique_ptr<NftBackend> backend, NftBackend::create());
  WIMS_RETURN_IF_ERROR(apply(options, *backend));
  spdlog::info("netguard: applied mode {} (table inet {})", mode_name(options.mode), options.table);
  if (options.mode == Mode::kRedirect) {
    std::vector<std::string> endpoints;
    if (options.families != Families::kIpv6) endpoints.push_back(options.imds_ipv4);
    if (options.families != Families::kIpv4) endpoints.push_back(options.imds_ipv6);
    absl::StatusOr<int> deleted = delete_conntrack_to(endpoints);
    if (deleted.ok()) {
      spdlog::info("netguard: cut {} existing connection(s) to the metadata endpoint", *deleted);
    } else {
      spdlog::warn(
          "netguard: could not flush conntrack entries to the metadata endpoint ({}); the "
          "fail-closed chain still drops their packets",
          deleted.status().ToString());
    }
  }
  return absl::OkStatus();
}

absl::Status remove(std::string_view table, RuleBackend& backend) {
  Options probe;
  probe.table = std::string(table);
  WIMS_RETURN_IF_ERROR(validate(probe));
  return backend.run(render_remove_script(table));
}

absl::Status remove(std::string_view table) {
  WIMS_RETURN_IF_ERROR(check_net_admin());
  WIMS_ASSIGN_OR_RETURN(std::unique_ptr<NftBackend> backend, NftBackend::create());
  return remove(table, *backend);
}

absl::StatusOr<StatusReport> status(std::string_view table, RuleBackend& backend) {
  absl::StatusOr<std::string> json = backend.list_table(table, ListFormat::kJson);
  if (absl::IsNotFound(json.status())) return not_installed(table);
  if (!json.ok()) return json.status();
  absl::StatusOr<std::string> text = backend.list_table(table, ListFormat::kHandles);
  if (absl::IsNotFound(text.status()))
    return not_installed(table);  // removed between the two calls
  if (!text.ok()) return text.status();
  return parse_status(table, *json, *text);
}

absl::StatusOr<StatusReport> status(std::string_view table) {
  WIMS_RETURN_IF_ERROR(check_net_admin());
  WIMS_ASSIGN_OR_RETURN(std::unique_ptr<NftBackend> backend, NftBackend::create());
  return status(table, *backend);
}

absl::Status sidecar_init(uint16_t port, uint32_t exempt_uid, Families families) {
  Options options;
  options.mode = Mode::kSidecar;
  options.port = port;
  options.exempt_uid = exempt_uid;
  options.families = families;
  return apply(options);
}

}  // namespace wims::netguard
