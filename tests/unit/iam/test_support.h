// Shared by the IAM tests: two GKE cluster URLs of one project (identity sameness across clusters),
// and RFC 3339 instants. Stateless.
#pragma once

#include <gtest/gtest.h>

#include "absl/time/time.h"
#include "common/encoding.h"

namespace wims::iam::testing {

inline constexpr char kClusterA[] =
    "https://container.googleapis.com/v1/projects/p/locations/us-central1/clusters/a";
inline constexpr char kClusterB[] =
    "https://container.googleapis.com/v1/projects/p/locations/europe-west1/clusters/b";

// The instant `rfc3339` names; a test failure (and the epoch) when it does not parse.
inline absl::Time at(const char* rfc3339) {
  auto t = parse_rfc3339(rfc3339);
  EXPECT_TRUE(t.ok()) << rfc3339;
  return t.ok() ? *t : absl::UnixEpoch();
}

}  // namespace wims::iam::testing
