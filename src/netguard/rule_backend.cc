#include "netguard/rule_backend.h"

#include <nftables/libnftables.h>

#include <string>

#include "fmt/format.h"

namespace wims::netguard {
namespace {

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

absl::Status map_nft_error(std::string_view command, std::string_view nft_error) {
  const std::string detail = trim(nft_error);
  // libnftables prints strerror() of the netlink errno: EPERM, EOPNOTSUPP/EAFNOSUPPORT when the
  // nf_tables module (or a family) is missing, ENOENT for objects that do not exist.
  if (contains(detail, "Operation not permitted")) {
    return absl::PermissionDeniedError(fmt::format(
        "netguard: nftables refused the change: run as root or with CAP_NET_ADMIN in this network "
        "namespace ({})",
        detail));
  }
  if (contains(detail, "Protocol not supported") ||
      contains(detail, "Address family not supported")) {
    return absl::FailedPreconditionError(fmt::format(
        "netguard: the kernel lacks nftables support (CONFIG_NF_TABLES, nf_tables_inet, nft_nat, "
        "nft_redir) ({})",
        detail));
  }
  if (contains(detail, "Operation not supported")) {
    return absl::FailedPreconditionError(
        fmt::format("netguard: the kernel does not support an nftables feature the rules need (nat "
                    "chains in an "
                    "inet table need Linux >= 5.2) ({})",
                    detail));
  }
  if (contains(detail, "No such file or directory")) {
    return absl::NotFoundError(fmt::format("netguard: {}: {}", trim(command), detail));
  }
  return absl::InvalidArgumentError(fmt::format("netguard: nft rejected the rules: {}", detail));
}

absl::StatusOr<std::unique_ptr<NftBackend>> NftBackend::create() {
  nft_ctx* ctx = nft_ctx_new(NFT_CTX_DEFAULT);
  if (ctx == nullptr) {
    return absl::FailedPreconditionError("netguard: libnftables could not create a context");
  }
  if (nft_ctx_buffer_output(ctx) != 0 || nft_ctx_buffer_error(ctx) != 0) {
    nft_ctx_free(ctx);
    return absl::InternalError("netguard: libnftables could not buffer its output");
  }
  return std::unique_ptr<NftBackend>(new NftBackend(ctx));
}

NftBackend::~NftBackend() { nft_ctx_free(ctx_); }

absl::StatusOr<std::string> NftBackend::execute(std::string_view cmd, unsigned int output_flags) {
  nft_ctx_output_set_flags(ctx_, output_flags);
  const std::string buffer(cmd);
  const int rc = nft_run_cmd_from_buffer(ctx_, buffer.c_str());
  // The get_*_buffer calls also reset the buffers for the next command.
  std::string out = nft_ctx_get_output_buffer(ctx_);
  std::string err = nft_ctx_get_error_buffer(ctx_);
  if (rc != 0) {
    if (err.empty()) err = "unknown error";
    return map_nft_error(cmd, err);
  }
  return out;
}

absl::Status NftBackend::run(std::string_view script) { return execute(script, 0).status(); }

absl::StatusOr<std::string> NftBackend::list_table(std::string_view name, ListFormat format) {
  unsigned int flags = 0;
  switch (format) {
    case ListFormat::kStateless:
      flags = NFT_CTX_OUTPUT_STATELESS;
      break;
    case ListFormat::kHandles:
      flags = NFT_CTX_OUTPUT_HANDLE;
      break;
    case ListFormat::kJson:
      flags = NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE;
      break;
  }
  return execute(fmt::format("list table inet {}", name), flags);
}

}  // namespace wims::netguard
