// GooglePolicyStore: the IAM allow policies of the embedded cloud's Google resources (the project,
// its Google service accounts and its storage buckets), and the iam::ResourceRef chains the
// Authorizer evaluates them on.
//
//   // at start, on a blocking thread:
//   WIMS_ASSIGN_OR_RETURN(auto policies, cloud::GooglePolicyStore::open(store, world));
//   // per request, on any worker:
//   std::optional<iam::ResourceRef> ref = policies->object_ref("b", "o");
//   iam::Decision d = authorizer.check(caller, "storage.objects.get", *ref);
//   // setIamPolicy, on a blocking thread:
//   WIMS_ASSIGN_OR_RETURN(auto stored, policies->set_policy(resource, std::move(policy)));
//
// Resources and their policy keys (the "resource name" used everywhere below):
//   projects/PROJECT_ID                      the project (also reachable by its number)
//   projects/PROJECT_ID/serviceAccounts/EMAIL each Google service account of the World
//   projects/_/buckets/BUCKET                 each bucket of the World
// Objects bear no policy of their own: an object's chain is bucket -> project. A service account's
// chain is service account -> project; a bucket's is bucket -> project.
//
// Condition attributes (resource.name / type / service) follow Google's attribute reference:
//   object  projects/_/buckets/B/objects/O  storage.googleapis.com/Object  storage.googleapis.com
//   bucket  projects/_/buckets/B            storage.googleapis.com/Bucket  storage.googleapis.com
//   GSA     projects/-/serviceAccounts/EMAIL iam.googleapis.com/ServiceAccount iam.googleapis.com
//   project projects/PROJECT_ID  cloudresourcemanager.googleapis.com/Project
//           cloudresourcemanager.googleapis.com
// and bucket and object resources carry the bucket's tags (World Bucket::tags) for matchTag.
//
// Persistence: policies live in the StateStore, namespace "iam_policies", key = resource name,
// value = the policy's REST JSON (version 3). open() seeds a resource from the World's bindings
// only when the store holds no policy for it, so policies set through the API survive restarts and
// a World edit never overwrites them. Stored policies of resources the World no longer has are kept
// in the store but not served.
//
// Thread-safety: readers (policy, *_ref, exists) read an immutable Snapshot swapped atomically and
// may run on any worker. open() and set_policy() do blocking SQLite I/O: run them on a blocking
// executor, never on an I/O thread; concurrent set_policy() calls are serialized, so the etag check
// and the write are atomic. The StateStore must outlive the GooglePolicyStore.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "config/world.h"
#include "iam/allow_policy.h"
#include "iam/authorizer.h"
#include "store/state_store.h"

namespace wims::cloud {

enum class GoogleResourceKind { kProject, kServiceAccount, kBucket };

class GooglePolicyStore {
 public:
  static constexpr char kStoreNamespace[] = "iam_policies";
  // The message Google returns with 409 ABORTED when setIamPolicy's etag is stale.
  static constexpr char kEtagMismatchMessage[] =
      "There were concurrent policy changes. Please retry the whole read-modify-write with "
      "exponential backoff.";

  // An immutable view: every served resource's current policy, by resource name.
  struct Snapshot {
    std::map<std::string, std::shared_ptr<const iam::AllowPolicy>, std::less<>> policies;
  };

  // Loads the policies of the World's resources from `store`, seeding (and persisting) those the
  // store has none for. Fails when a stored policy no longer parses (with its resource name) or on
  // a storage error. Blocking.
  static absl::StatusOr<std::unique_ptr<GooglePolicyStore>> open(
      store::StateStore& store, std::shared_ptr<const config::World> world);

  GooglePolicyStore(const GooglePolicyStore&) = delete;
  GooglePolicyStore& operator=(const GooglePolicyStore&) = delete;

  const config::World& world() const { return *world_; }
  std::shared_ptr<const Snapshot> snapshot() const { return snapshot_.load(); }

  // Resource names.
  std::string project_resource() const { return "projects/" + world_->project.id; }
  std::string service_account_resource(std::string_view email) const;
  static std::string bucket_resource(std::string_view bucket);

  // The resource name of project `project` (its id or its number), or nullopt when it is not the
  // World's project.
  std::optional<std::string> resolve_project(std::string_view project) const;
  // The resource name of service account `email` in `project` (its id, its number or "-"), or
  // nullopt when the World has no such service account. Emails compare case-insensitively.
  std::optional<std::string> resolve_service_account(std::string_view project,
                                                     std::string_view email) const;

  // The World's Google service account `email` (case-insensitive), or nullptr.
  const config::GoogleServiceAccount* find_service_account(std::string_view email) const;

  // Whether `resource` is a served resource name.
  bool exists(std::string_view resource) const;
  // The current policy of `resource`; nullptr when it is not a served resource.
  std::shared_ptr<const iam::AllowPolicy> policy(std::string_view resource) const;

  // ResourceRefs for the Authorizer; nullopt when the resource does not exist (for objects: when
  // the BUCKET does not exist; a missing object of an existing bucket still gets a ref, so that
  // callers can tell 403 from 404 without leaking existence).
  std::optional<iam::ResourceRef> project_ref() const;
  std::optional<iam::ResourceRef> service_account_ref(std::string_view email) const;
  std::optional<iam::ResourceRef> bucket_ref(std::string_view bucket) const;
  std::optional<iam::ResourceRef> object_ref(std::string_view bucket,
                                             std::string_view object) const;
  // The ref of any served resource name (project, service account or bucket).
  std::optional<iam::ResourceRef> resource_ref(std::string_view resource) const;

  // Replaces the policy of `resource`: NotFound when it is not served; Aborted
  // (kEtagMismatchMessage) when `policy.request_etag()` is non-empty and differs from the current
  // policy's etag; otherwise persists and publishes it, and returns the stored policy. Blocking.
  absl::StatusOr<std::shared_ptr<const iam::AllowPolicy>> set_policy(std::string_view resource,
                                                                     iam::AllowPolicy policy);

 private:
  GooglePolicyStore(store::StateStore& store, std::shared_ptr<const config::World> world)
      : store_(store), world_(std::move(world)) {}
  iam::PolicyNode node(const Snapshot& snapshot, const std::string& resource) const;

  store::StateStore& store_;
  const std::shared_ptr<const config::World> world_;
  std::mutex write_mu_;  // serializes set_policy(); readers never take it
  std::atomic<std::shared_ptr<const Snapshot>> snapshot_;
};

}  // namespace wims::cloud
