// RuleBackend: the narrow seam between netguard and the kernel's nftables. NftBackend runs nft
// language through libnftables (no fork/exec); tests use FakeRuleBackend (tests/unit/netguard)
// instead.
//
// Calls block on netlink round trips: never call them on an I/O thread (the Reconciler has its
// own). An NftBackend is not thread-safe (one libnftables context); give each thread its own
// instance. It acts on the network namespace of the calling thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

struct nft_ctx;

namespace wims::netguard {

enum class ListFormat {
  kStateless,  // nft -s: no counter values, stable across traffic; used to detect tampering
  kHandles,    // nft -a: counters and `# handle N`, for humans
  kJson,       // nft -j: counters, handles and comments, for status parsing
};

class RuleBackend {
 public:
  virtual ~RuleBackend() = default;
  // Runs an nft script as one transaction. Errors carry nft's own message and are mapped to
  // PermissionDenied (no CAP_NET_ADMIN), FailedPrecondition (no nftables in the kernel) or
  // InvalidArgument (anything else nft rejects).
  virtual absl::Status run(std::string_view script) = 0;
  // Lists `table inet <name>`. NotFound if the table does not exist.
  virtual absl::StatusOr<std::string> list_table(std::string_view name, ListFormat format) = 0;
};

class NftBackend final : public RuleBackend {
 public:
  // FailedPrecondition if libnftables cannot create a context.
  static absl::StatusOr<std::unique_ptr<NftBackend>> create();
  ~NftBackend() override;
  NftBackend(const NftBackend&) = delete;
  NftBackend& operator=(const NftBackend&) = delete;

  absl::Status run(std::string_view script) override;
  absl::StatusOr<std::string> list_table(std::string_view name, ListFormat format) override;

 private:
  explicit NftBackend(nft_ctx* ctx) : ctx_(ctx) {}
  // Runs `cmd` with the given output flags; returns stdout, or the mapped error.
  absl::StatusOr<std::string> execute(std::string_view cmd, unsigned int output_flags);

  nft_ctx* ctx_;
};

// Maps nft's error text for a failed command to a Status with an actionable message (exposed for
// tests).
absl::Status map_nft_error(std::string_view command, std::string_view nft_error);

}  // namespace wims::netguard
