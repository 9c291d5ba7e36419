#include "common/random.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>

namespace wims {
namespace {

TEST(RandomTest, UuidIsVersion4) {
  std::regex re("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(std::regex_match(random_uuid(), re));
}

TEST(RandomTest, TokensDiffer) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) seen.insert(random_token());
  EXPECT_EQ(seen.size(), 100u);
  EXPECT_EQ(random_upper_id(16).size(), 16u);
}

}  // namespace
}  // namespace wims
