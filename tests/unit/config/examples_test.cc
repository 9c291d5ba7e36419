// Every world file shipped in examples/ loads and validates.
#include <gtest/gtest.h>

#include <filesystem>

#include "config/world_loader.h"

namespace wims::config {
namespace {

TEST(ExamplesTest, EveryExampleWorldValidates) {
  const std::filesystem::path dir = std::filesystem::path(WIMS_SOURCE_DIR) / "examples";
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
  int loaded = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    SCOPED_TRACE(entry.path().string());
    absl::StatusOr<World> world = load_world_file(entry.path().string());
    EXPECT_TRUE(world.ok()) << world.status();
    if (world.ok()) {
      EXPECT_FALSE(world->pods.empty());
    }
    ++loaded;
  }
  EXPECT_GE(loaded, 3);
}

}  // namespace
}  // namespace wims::config
