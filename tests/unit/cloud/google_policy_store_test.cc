#include "cloud/google_policy_store.h"

#include <gtest/gtest.h>

#include "common/clock.h"
#include "iam/authorizer.h"
#include "unit/cloud/google_cloud_fixture.h"

namespace wims::cloud {
namespace {

using testing::google_world;
using testing::kAppGsa;
using testing::kOtherGsa;
using testing::workload;

std::shared_ptr<const config::World> world() {
  return std::make_shared<const config::World>(google_world());
}

iam::AllowPolicy parse(std::string json) {
  absl::StatusOr<iam::AllowPolicy> p = iam::AllowPolicy::from_json(json);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *std::move(p) : iam::AllowPolicy();
}

TEST(GooglePolicyStoreTest, SeedsEveryResourceFromTheWorldAndPersistsIt) {
  auto store = *store::StateStore::open_in_memory();
  auto policies = GooglePolicyStore::open(*store, world());
  ASSERT_TRUE(policies.ok()) << policies.status();
  for (const char* resource :
       {"projects/p", "projects/p/serviceAccounts/app@p.iam.gserviceaccount.com",
        "projects/p/serviceAccounts/other@p.iam.gserviceaccount.com", "projects/_/buckets/b",
        "projects/_/buckets/secret"}) {
    SCOPED_TRACE(resource);
    EXPECT_TRUE((*policies)->exists(resource));
    ASSERT_NE((*policies)->policy(resource), nullptr);
    auto stored = store->get(GooglePolicyStore::kStoreNamespace, resource);
    ASSERT_TRUE(stored.ok());
    ASSERT_TRUE(stored->has_value());
    EXPECT_EQ(**stored, (*policies)->policy(resource)->to_json());
  }
  EXPECT_FALSE((*policies)->exists("projects/_/buckets/nope"));
  EXPECT_EQ((*policies)->policy("projects/_/buckets/nope"), nullptr);
  auto bucket = (*policies)->policy("projects/_/buckets/b");
  ASSERT_EQ(bucket->bindings().size(), 1u);
  EXPECT_EQ(bucket->bindings()[0].role, "roles/storage.objectViewer");
  EXPECT_TRUE((*policies)->policy("projects/_/buckets/secret")->bindings().empty());
  EXPECT_EQ((*policies)->policy("projects/_/buckets/secret")->etag(), "ACAB");
}

TEST(GooglePolicyStoreTest, ResolvesProjectsAndServiceAccounts) {
  auto store = *store::StateStore::open_in_memory();
  auto policies = *GooglePolicyStore::open(*store, world());
  EXPECT_EQ(policies->resolve_project("p"), "projects/p");
  EXPECT_EQ(policies->resolve_project("123"), "projects/p");
  EXPECT_EQ(policies->resolve_project("124"), std::nullopt);
  EXPECT_EQ(policies->resolve_project("q"), std::nullopt);
  EXPECT_EQ(policies->resolve_project(""), std::nullopt);
  EXPECT_EQ(policies->resolve_service_account("-", "APP@p.iam.gserviceaccount.com"),
            "projects/p/serviceAccounts/app@p.iam.gserviceaccount.com");
  EXPECT_EQ(policies->resolve_service_account("123", kOtherGsa),
            "projects/p/serviceAccounts/other@p.iam.gserviceaccount.com");
  EXPECT_EQ(policies->resolve_service_account("q", kAppGsa), std::nullopt);
  EXPECT_EQ(policies->resolve_service_account("-", "x@p.iam.gserviceaccount.com"), std::nullopt);
}

TEST(GooglePolicyStoreTest, BuildsChainsWithResourceAttributes) {
  auto store = *store::StateStore::open_in_memory();
  auto policies = *GooglePolicyStore::open(*store, world());

  auto object = policies->object_ref("b", "dir/data.json");
  ASSERT_TRUE(object.has_value());
  EXPECT_EQ(object->attributes.name, "projects/_/buckets/b/objects/dir/data.json");
  EXPECT_EQ(object->attributes.type, "storage.googleapis.com/Object");
  EXPECT_EQ(object->attributes.service, "storage.googleapis.com");
  EXPECT_EQ(object->attributes.tags.at("123/env"), "prod");
  ASSERT_EQ(object->chain.size(), 2u);
  EXPECT_EQ(object->chain[0].resource_name, "projects/_/buckets/b");
  EXPECT_EQ(object->chain[0].policy, policies->policy("projects/_/buckets/b"));
  EXPECT_EQ(object->chain[1].resource_name, "projects/p");
  EXPECT_EQ(object->chain[1].policy, policies->policy("projects/p"));
  // A missing object of an existing bucket still has a ref (403 vs 404 is decided on it).
  EXPECT_TRUE(policies->object_ref("b", "missing").has_value());
  EXPECT_FALSE(policies->object_ref("nope", "o").has_value());

  auto bucket = policies->bucket_ref("b");
  ASSERT_TRUE(bucket.has_value());
  EXPECT_EQ(bucket->attributes.name, "projects/_/buckets/b");
  EXPECT_EQ(bucket->attributes.type, "storage.googleapis.com/Bucket");

  auto gsa = policies->service_account_ref("App@p.iam.gserviceaccount.com");
  ASSERT_TRUE(gsa.has_value());
  EXPECT_EQ(gsa->attributes.name, "projects/-/serviceAccounts/app@p.iam.gserviceaccount.com");
  EXPECT_EQ(gsa->attributes.type, "iam.googleapis.com/ServiceAccount");
  EXPECT_EQ(gsa->attributes.service, "iam.googleapis.com");
  ASSERT_EQ(gsa->chain.size(), 2u);
  EXPECT_EQ(gsa->chain[0].resource_name,
            "projects/p/serviceAccounts/app@p.iam.gserviceaccount.com");
  EXPECT_EQ(gsa->chain[1].resource_name, "projects/p");
  EXPECT_FALSE(policies->service_account_ref("x@p.iam.gserviceaccount.com").has_value());

  auto project = policies->resource_ref("projects/p");
  ASSERT_TRUE(project.has_value());
  EXPECT_EQ(project->attributes.type, "cloudresourcemanager.googleapis.com/Project");
  ASSERT_EQ(project->chain.size(), 1u);
  EXPECT_TRUE(policies->resource_ref("projects/_/buckets/secret").has_value());
  EXPECT_TRUE(policies->resource_ref("projects/p/serviceAccounts/other@p.iam.gserviceaccount.com"));
  EXPECT_FALSE(policies->resource_ref("projects/q").has_value());
}

TEST(GooglePolicyStoreTest, ChainsGrantThroughTheAuthorizer) {
  auto store = *store::StateStore::open_in_memory();
  auto policies = *GooglePolicyStore::open(*store, world());
  FakeClock clock;
  iam::Authorizer authorizer(clock);
  auto app = iam::Caller::service_account(kAppGsa);
  auto other = iam::Caller::service_account(kOtherGsa);
  EXPECT_TRUE(
      authorizer.check(app, "storage.objects.get", *policies->object_ref("b", "o")).allowed);
  EXPECT_FALSE(
      authorizer.check(app, "storage.objects.get", *policies->object_ref("secret", "s")).allowed);
  // roles/viewer on the project is inherited by every bucket (and grants no object data).
  EXPECT_TRUE(
      authorizer.check(other, "storage.buckets.get", *policies->bucket_ref("secret")).allowed);
  EXPECT_FALSE(
      authorizer.check(other, "storage.objects.get", *policies->object_ref("secret", "s")).allowed);
  EXPECT_TRUE(authorizer
                  .check(iam::Caller::workload(workload()), "iam.serviceAccounts.getAccessToken",
                         *policies->service_account_ref(kAppGsa))
                  .allowed);
  EXPECT_FALSE(authorizer
                   .check(iam::Caller::workload(workload("dev")),
                          "iam.serviceAccounts.getAccessToken",
                          *policies->service_account_ref(kAppGsa))
                   .allowed);
}

TEST(GooglePolicyStoreTest, SetPolicyChecksTheEtagAndPublishes) {
  auto store = *store::StateStore::open_in_memory();
  auto policies = *GooglePolicyStore::open(*store, world());
  const std::string resource = "projects/_/buckets/secret";
  auto before = policies->policy(resource);
  auto ref_before = policies->object_ref("secret", "s");

  std::string json =
      R"({"bindings":[{"role":"roles/storage.objectViewer","members":["serviceAccount:)" +
      std::string(kOtherGsa) + R"("]}],"etag":"ACAB"})";
  auto stored = policies->set_policy(resource, parse(json));
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_NE((*stored)->etag(), "ACAB");
  EXPECT_EQ(policies->policy(resource), *stored);
  // Readers holding the old snapshot keep a consistent view.
  EXPECT_EQ(ref_before->chain[0].policy, before);
  EXPECT_EQ(**store->get(GooglePolicyStore::kStoreNamespace, resource), (*stored)->to_json());

  // The same stale etag again: 409 ABORTED, nothing written.
  auto stale = policies->set_policy(resource, parse(R"({"bindings":[],"etag":"ACAB"})"));
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(stale.status().message(), GooglePolicyStore::kEtagMismatchMessage);
  EXPECT_EQ(policies->policy(resource), *stored);

  // The current etag, or none at all, is accepted.
  auto current = policies->set_policy(
      resource, parse(R"({"bindings":[],"etag":")" + (*stored)->etag() + R"("})"));
  ASSERT_TRUE(current.ok()) << current.status();
  EXPECT_EQ((*current)->etag(), "ACAB");
  EXPECT_TRUE(policies->set_policy(resource, parse("{}")).ok());

  EXPECT_EQ(policies->set_policy("projects/_/buckets/nope", parse("{}")).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(GooglePolicyStoreTest, PoliciesSurviveAReopenedStoreAndAreSeededOnlyOnce) {
  testing::TempDir dir;
  const std::string resource = "projects/p/serviceAccounts/app@p.iam.gserviceaccount.com";
  std::string etag;
  {
    auto store = store::StateStore::open(dir.path());
    ASSERT_TRUE(store.ok()) << store.status();
    auto policies = *GooglePolicyStore::open(**store, world());
    ASSERT_EQ(policies->policy(resource)->bindings().size(), 1u);
    // Remove every binding through the API.
    auto stored = policies->set_policy(resource, parse("{}"));
    ASSERT_TRUE(stored.ok());
    etag = (*stored)->etag();
  }
  {
    auto store = store::StateStore::open(dir.path());
    ASSERT_TRUE(store.ok()) << store.status();
    // The World still has the seed binding, but the stored (empty) policy wins.
    auto policies = *GooglePolicyStore::open(**store, world());
    EXPECT_TRUE(policies->policy(resource)->bindings().empty());
    EXPECT_EQ(policies->policy(resource)->etag(), etag);
    // Resources the store had not seen are seeded: a bucket added to the World.
    config::World w = google_world();
    config::Bucket added;
    added.name = "added";
    added.bindings = {testing::binding("roles/storage.objectViewer", {"allUsers"})};
    w.google.buckets.push_back(added);
    auto grown = *GooglePolicyStore::open(**store, std::make_shared<const config::World>(w));
    ASSERT_NE(grown->policy("projects/_/buckets/added"), nullptr);
    EXPECT_EQ(grown->policy("projects/_/buckets/added")->bindings().size(), 1u);
    EXPECT_TRUE(grown->policy(resource)->bindings().empty());
  }
}

TEST(GooglePolicyStoreTest, RejectsACorruptStoredPolicyWithItsResourceName) {
  auto store = *store::StateStore::open_in_memory();
  ASSERT_TRUE(store
                  ->put(GooglePolicyStore::kStoreNamespace, "projects/_/buckets/b",
                        R"({"bindings":[{"role":"roles/nope","members":["allUsers"]}]})")
                  .ok());
  auto policies = GooglePolicyStore::open(*store, world());
  EXPECT_EQ(policies.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(policies.status().message().find("projects/_/buckets/b"), absl::string_view::npos);
}

TEST(GooglePolicyStoreTest, RejectsInvalidWorldBindings) {
  auto store = *store::StateStore::open_in_memory();
  config::World w = google_world();
  w.google.project_bindings = {testing::binding("roles/nope", {"allUsers"})};
  auto policies = GooglePolicyStore::open(*store, std::make_shared<const config::World>(w));
  EXPECT_EQ(policies.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(policies.status().message().find("projects/p"), absl::string_view::npos);
}

}  // namespace
}  // namespace wims::cloud
