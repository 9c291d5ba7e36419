#include "store/state_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

namespace wims::store {
namespace {

// A fresh directory under the test temp dir, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "wims-store-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

using Pairs = std::vector<std::pair<std::string, std::string>>;

TEST(StateStoreTest, PutGetListErase) {
  absl::StatusOr<std::unique_ptr<StateStore>> store = StateStore::open_in_memory();
  ASSERT_TRUE(store.ok()) << store.status();
  StateStore& s = **store;
  EXPECT_EQ(*s.get("ns", "k"), std::nullopt);
  ASSERT_TRUE(s.put("ns", "b", "2").ok());
  ASSERT_TRUE(s.put("ns", "a", "1").ok());
  ASSERT_TRUE(s.put("other", "a", "x").ok());
  EXPECT_EQ(*s.get("ns", "a"), "1");
  EXPECT_EQ(*s.get("other", "a"), "x");
  EXPECT_EQ(*s.list("ns"), (Pairs{{"a", "1"}, {"b", "2"}}));
  ASSERT_TRUE(s.put("ns", "a", "replaced").ok());
  EXPECT_EQ(*s.get("ns", "a"), "replaced");
  ASSERT_TRUE(s.erase("ns", "a").ok());
  EXPECT_EQ(*s.get("ns", "a"), std::nullopt);
  EXPECT_TRUE(s.erase("ns", "absent").ok());
  EXPECT_EQ(*s.list("ns"), (Pairs{{"b", "2"}}));
  EXPECT_TRUE(s.list("empty")->empty());
}

TEST(StateStoreTest, ValuesAreBinarySafe) {
  absl::StatusOr<std::unique_ptr<StateStore>> store = StateStore::open_in_memory();
  ASSERT_TRUE(store.ok());
  std::string value("a\0b\xff", 4);
  ASSERT_TRUE((*store)->put("ns", "k", value).ok());
  EXPECT_EQ(*(*store)->get("ns", "k"), value);
  ASSERT_TRUE((*store)->put("ns", "empty", "").ok());
  EXPECT_EQ(*(*store)->get("ns", "empty"), std::string());
}

TEST(StateStoreTest, ReopenKeepsDataAndCreatesPrivateDirectory) {
  TempDir tmp;
  std::string dir = tmp.path() + "/state/nested";
  {
    absl::StatusOr<std::unique_ptr<StateStore>> store = StateStore::open(dir);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->put("signing_keys", "kid1", "pem").ok());
  }
  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_TRUE(std::filesystem::exists(dir + "/state.db"));
  absl::StatusOr<std::unique_ptr<StateStore>> again = StateStore::open(dir);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*(*again)->get("signing_keys", "kid1"), "pem");
}

TEST(StateStoreTest, OpenFailsOnAFile) {
  TempDir tmp;
  std::string file = tmp.path() + "/plain";
  FILE* f = std::fopen(file.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fclose(f);
  EXPECT_FALSE(StateStore::open(file).ok());
}

TEST(StateStoreTest, ConcurrentWritersDoNotLoseUpdates) {
  absl::StatusOr<std::unique_ptr<StateStore>> store = StateStore::open_in_memory();
  ASSERT_TRUE(store.ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&s = **store, t] {
      for (int i = 0; i < 50; ++i) {
        EXPECT_TRUE(s.put("ns", std::to_string(t) + "-" + std::to_string(i), "v").ok());
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ((*store)->list("ns")->size(), 200u);
}

}  // namespace
}  // namespace wims::store
