#include "config/stable_id.h"

#include <gtest/gtest.h>

#include <regex>

namespace wims::config {
namespace {

TEST(StableIdTest, UidIsAVersion5UuidAndDeterministic) {
  const std::string uid = name_based_uid("pod/default/demo");
  EXPECT_TRUE(std::regex_match(
      uid, std::regex("^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")))
      << uid;
  EXPECT_EQ(uid, name_based_uid("pod/default/demo"));
  EXPECT_NE(uid, name_based_uid("pod/default/demo2"));
  EXPECT_NE(uid, name_based_uid("serviceaccount/default/demo"));
}

TEST(StableIdTest, ClusterUidIs64Hex) {
  const std::string uid = name_based_cluster_uid("wims-local/us-central1-a/wims");
  EXPECT_TRUE(std::regex_match(uid, std::regex("^[0-9a-f]{64}$"))) << uid;
  EXPECT_EQ(uid, name_based_cluster_uid("wims-local/us-central1-a/wims"));
  EXPECT_NE(uid, name_based_cluster_uid("wims-local/us-central1-a/other"));
}

TEST(StableIdTest, InstanceIdHas19Digits) {
  for (const char* name : {"wims-node-1", "wims-node-2", "a", ""}) {
    SCOPED_TRACE(name);
    const uint64_t id = name_based_instance_id(name);
    EXPECT_EQ(std::to_string(id).size(), 19u);
    EXPECT_EQ(id, name_based_instance_id(name));
  }
  EXPECT_NE(name_based_instance_id("wims-node-1"), name_based_instance_id("wims-node-2"));
}

}  // namespace
}  // namespace wims::config
