#include "netguard/rule_backend.h"

#include <gtest/gtest.h>

#include <string>

namespace wims::netguard {
namespace {

TEST(RuleBackendTest, MapsNftErrorsToActionableStatuses) {
  struct Case {
    const char* nft_error;
    absl::StatusCode code;
    const char* message_part;
  };
  const Case cases[] = {
      {"Error: Could not process rule: Operation not permitted\n",
       absl::StatusCode::kPermissionDenied, "CAP_NET_ADMIN"},
      {"Error: Could not process rule: Protocol not supported\n",
       absl::StatusCode::kFailedPrecondition, "lacks nftables support"},
      {"Error: Could not process rule: Address family not supported by protocol\n",
       absl::StatusCode::kFailedPrecondition, "lacks nftables support"},
      {"Error: Could not process rule: Operation not supported\n",
       absl::StatusCode::kFailedPrecondition, "Linux >= 5.2"},
      {"Error: No such file or directory\nlist table inet x\n", absl::StatusCode::kNotFound,
       "No such file"},
      {"/dev/stdin:3:1-5: Error: syntax error, unexpected junk\n",
       absl::StatusCode::kInvalidArgument, "syntax error"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.nft_error);
    absl::Status s = map_nft_error("list table inet x", c.nft_error);
    EXPECT_EQ(s.code(), c.code) << s;
    EXPECT_NE(std::string(s.message()).find(c.message_part), std::string::npos) << s;
  }
}

}  // namespace
}  // namespace wims::netguard
