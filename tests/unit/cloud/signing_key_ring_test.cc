#include "cloud/signing_key_ring.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "jose/jwt.h"

namespace wims::cloud {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1700000000);

std::unique_ptr<store::StateStore> memory_store() {
  absl::StatusOr<std::unique_ptr<store::StateStore>> store = store::StateStore::open_in_memory();
  EXPECT_TRUE(store.ok()) << store.status();
  return *std::move(store);
}

std::vector<std::string> kids(const jose::JwkSet& set) {
  std::vector<std::string> out;
  for (const jose::PublicJwk& key : set.keys()) out.push_back(key.kid());
  return out;
}

TEST(SigningKeyRingTest, OpenCreatesAndPersistsACurrentKey) {
  auto store = memory_store();
  absl::StatusOr<std::unique_ptr<SigningKeyRing>> ring = SigningKeyRing::open(*store, kT0);
  ASSERT_TRUE(ring.ok()) << ring.status();
  std::string kid = (*ring)->current()->kid();
  EXPECT_EQ((*ring)->current()->alg(), jose::Algorithm::kRS256);
  EXPECT_EQ(store->list(SigningKeyRing::kStoreNamespace)->size(), 1u);

  // A restart (a new ring over the same store) keeps the key.
  absl::StatusOr<std::unique_ptr<SigningKeyRing>> again =
      SigningKeyRing::open(*store, kT0 + absl::Hours(1));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->current()->kid(), kid);
}

TEST(SigningKeyRingTest, RotationKeepsOldKeyPublishedForMaxTokenLifetime) {
  auto store = memory_store();
  SigningKeyRingOptions options{.algorithm = jose::Algorithm::kES256,
                                .max_token_lifetime = absl::Hours(1)};
  auto ring = *SigningKeyRing::open(*store, kT0, options);
  std::string old_kid = ring->current()->kid();
  std::string old_token = jose::sign_jwt(*ring->current(), boost::json::object{{"sub", "x"}});

  absl::Time rotated_at = kT0 + absl::Minutes(10);
  absl::StatusOr<std::string> new_kid = ring->rotate(rotated_at);
  ASSERT_TRUE(new_kid.ok()) << new_kid.status();
  EXPECT_NE(*new_kid, old_kid);
  EXPECT_EQ(ring->current()->kid(), *new_kid);

  // Still published, and old tokens still verify, until retired_at + max_token_lifetime.
  absl::Time before = rotated_at + absl::Hours(1) - absl::Seconds(1);
  EXPECT_EQ(kids(ring->verification_keys(before)), (std::vector<std::string>{*new_kid, old_kid}));
  EXPECT_TRUE(jose::verify_jwt(*jose::decode_jwt(old_token), ring->verification_keys(before)).ok());
  absl::Time after = rotated_at + absl::Hours(1);
  EXPECT_EQ(kids(ring->verification_keys(after)), (std::vector<std::string>{*new_kid}));
  EXPECT_FALSE(jose::verify_jwt(*jose::decode_jwt(old_token), ring->verification_keys(after)).ok());

  // The JWKS document carries the same keys with use/alg.
  boost::json::object jwks = boost::json::parse(ring->jwks_json(before)).as_object();
  ASSERT_EQ(jwks["keys"].as_array().size(), 2u);
  for (const boost::json::value& key : jwks["keys"].as_array()) {
    EXPECT_EQ(key.as_object().at("use"), "sig");
    EXPECT_EQ(key.as_object().at("alg"), "ES256");
  }
  EXPECT_EQ(ring->algorithms(before), (std::vector<std::string>{"ES256"}));
}

TEST(SigningKeyRingTest, RestartKeepsRetiredKeysAndPrunesExpiredOnes) {
  auto store = memory_store();
  SigningKeyRingOptions options{.algorithm = jose::Algorithm::kES256,
                                .max_token_lifetime = absl::Hours(1)};
  std::string first, second, third;
  {
    auto ring = *SigningKeyRing::open(*store, kT0, options);
    first = ring->current()->kid();
    second = *ring->rotate(kT0);
    third = *ring->rotate(kT0 + absl::Minutes(30));
  }
  // first retired at kT0 (expires kT0+1h), second retired at kT0+30m (expires kT0+90m).
  auto ring = *SigningKeyRing::open(*store, kT0 + absl::Minutes(45), options);
  EXPECT_EQ(ring->current()->kid(), third);
  EXPECT_EQ(kids(ring->verification_keys(kT0 + absl::Minutes(45))),
            (std::vector<std::string>{third, second, first}));

  auto later = *SigningKeyRing::open(*store, kT0 + absl::Minutes(75), options);
  EXPECT_EQ(kids(later->verification_keys(kT0 + absl::Minutes(75))),
            (std::vector<std::string>{third, second}));
  EXPECT_EQ(store->list(SigningKeyRing::kStoreNamespace)->size(), 2u);  // first was erased
}

TEST(SigningKeyRingTest, CorruptStoreEntryIsDataLoss) {
  auto store = memory_store();
  ASSERT_TRUE(store->put(SigningKeyRing::kStoreNamespace, "kid", "{not json").ok());
  absl::StatusOr<std::unique_ptr<SigningKeyRing>> ring = SigningKeyRing::open(*store, kT0);
  EXPECT_EQ(ring.status().code(), absl::StatusCode::kDataLoss);
}

TEST(SigningKeyRingTest, SnapshotHeldByReaderSurvivesRotation) {
  auto store = memory_store();
  auto ring = *SigningKeyRing::open(*store, kT0, {jose::Algorithm::kES256, absl::Hours(48)});
  std::shared_ptr<const SigningKeyRing::Snapshot> held = ring->snapshot();
  std::string kid = held->current()->kid();
  ASSERT_TRUE(ring->rotate(kT0).ok());
  EXPECT_EQ(held->current()->kid(), kid);  // immutable
  EXPECT_NE(ring->current()->kid(), kid);
  EXPECT_TRUE(held->current()->sign("x").ok());
}

}  // namespace
}  // namespace wims::cloud
