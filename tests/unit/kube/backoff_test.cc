#include "kube/backoff.h"

#include <gtest/gtest.h>

namespace wims::kube {
namespace {

TEST(BackoffTest, DoublesWithEqualJitterUpToTheMaximum) {
  double r = 0.0;
  Backoff backoff({.initial = absl::Milliseconds(100), .max = absl::Seconds(1)},
                  [&r] { return r; });
  struct Step {
    double random;
    absl::Duration expected;
  };
  const std::vector<Step> steps = {
      {0.0, absl::Milliseconds(50)},  // [50, 100]
      {0.999999, absl::Milliseconds(200)},
      {0.5, absl::Milliseconds(300)},  // base 400
      {0.0, absl::Milliseconds(400)},  // base 800
      {0.0, absl::Milliseconds(500)},  // capped at 1 s
      {1.0, absl::Seconds(1)},
  };
  for (size_t i = 0; i < steps.size(); ++i) {
    SCOPED_TRACE(i);
    r = steps[i].random;
    EXPECT_NEAR(absl::ToDoubleMilliseconds(backoff.next()),
                absl::ToDoubleMilliseconds(steps[i].expected), 0.01);
  }
  backoff.reset();
  r = 0.0;
  EXPECT_EQ(backoff.next(), absl::Milliseconds(50));
}

TEST(BackoffTest, ManyFailuresStayBoundedAndPositive) {
  Backoff backoff({.initial = absl::Milliseconds(200), .max = absl::Seconds(30)});
  for (int i = 0; i < 200; ++i) {
    absl::Duration d = backoff.next();
    ASSERT_GE(d, absl::Milliseconds(100));
    ASSERT_LE(d, absl::Seconds(30));
  }
}

}  // namespace
}  // namespace wims::kube
