#include "cloud/google_policy_store.h"

#include <charconv>

#include "absl/strings/match.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "fmt/format.h"

namespace wims::cloud {
namespace {

constexpr char kStorageService[] = "storage.googleapis.com";
constexpr char kIamService[] = "iam.googleapis.com";
constexpr char kResourceManagerService[] = "cloudresourcemanager.googleapis.com";

std::vector<iam::BindingSpec> binding_specs(const std::vector<config::Binding>& bindings) {
  std::vector<iam::BindingSpec> specs;
  specs.reserve(bindings.size());
  for (const config::Binding& b : bindings) {
    specs.push_back(iam::BindingSpec{b.role, b.members, b.condition_title, b.condition_description,
                                     b.condition_expression});
  }
  return specs;
}

const config::GoogleServiceAccount* find_gsa(const config::World& world, std::string_view email) {
  for (const config::GoogleServiceAccount& gsa : world.google.service_accounts) {
    if (absl::EqualsIgnoreCase(to_absl(gsa.email), to_absl(email))) return &gsa;
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<std::unique_ptr<GooglePolicyStore>> GooglePolicyStore::open(
    store::StateStore& store, std::shared_ptr<const config::World> world) {
  std::unique_ptr<GooglePolicyStore> self(new GooglePolicyStore(store, std::move(world)));
  const config::World& w = *self->world_;

  // Every served resource with the World's seed bindings.
  std::vector<std::pair<std::string, const std::vector<config::Binding>*>> resources;
  resources.emplace_back(self->project_resource(), &w.google.project_bindings);
  for (const config::GoogleServiceAccount& gsa : w.google.service_accounts) {
    resources.emplace_back(self->service_account_resource(gsa.email), &gsa.bindings);
  }
  for (const config::Bucket& bucket : w.google.buckets) {
    resources.emplace_back(bucket_resource(bucket.name), &bucket.bindings);
  }

  auto snapshot = std::make_shared<Snapshot>();
  for (const auto& [resource, seed] : resources) {
    WIMS_ASSIGN_OR_RETURN(std::optional<std::string> stored, store.get(kStoreNamespace, resource));
    if (stored) {
      absl::StatusOr<iam::AllowPolicy> policy = iam::AllowPolicy::from_json(*stored);
      if (!policy.ok()) {
        return absl::DataLossError(fmt::format("stored IAM policy of {} is invalid: {}", resource,
                                               to_std(policy.status().message())));
      }
      snapshot->policies[resource] = std::make_shared<const iam::AllowPolicy>(*std::move(policy));
      continue;
    }
    absl::StatusOr<iam::AllowPolicy> policy = iam::AllowPolicy::create(binding_specs(*seed));
    if (!policy.ok()) {
      return absl::InvalidArgumentError(fmt::format("the World's bindings of {} are invalid: {}",
                                                    resource, to_std(policy.status().message())));
    }
    WIMS_RETURN_IF_ERROR(store.put(kStoreNamespace, resource, policy->to_json()));
    snapshot->policies[resource] = std::make_shared<const iam::AllowPolicy>(*std::move(policy));
  }
  self->snapshot_.store(std::move(snapshot));
  return self;
}

std::string GooglePolicyStore::service_account_resource(std::string_view email) const {
  return fmt::format("projects/{}/serviceAccounts/{}", world_->project.id, email);
}

std::string GooglePolicyStore::bucket_resource(std::string_view bucket) {
  return fmt::format("projects/_/buckets/{}", bucket);
}

std::optional<std::string> GooglePolicyStore::resolve_project(std::string_view project) const {
  if (project == world_->project.id) return project_resource();
  int64_t number = 0;
  auto [end, ec] = std::from_chars(project.data(), project.data() + project.size(), number);
  if (ec == std::errc() && end == project.data() + project.size() && !project.empty() &&
      number == world_->project.number) {
    return project_resource();
  }
  return std::nullopt;
}

std::optional<std::string> GooglePolicyStore::resolve_service_account(
    std::string_view project, std::string_view email) const {
  if (project != "-" && !resolve_project(project)) return std::nullopt;
  const config::GoogleServiceAccount* gsa = find_gsa(*world_, email);
  if (gsa == nullptr) return std::nullopt;
  return service_account_resource(gsa->email);
}

const config::GoogleServiceAccount* GooglePolicyStore::find_service_account(
    std::string_view email) const {
  return find_gsa(*world_, email);
}

bool GooglePolicyStore::exists(std::string_view resource) const {
  return snapshot()->policies.contains(resource);
}

std::shared_ptr<const iam::AllowPolicy> GooglePolicyStore::policy(std::string_view resource) const {
  std::shared_ptr<const Snapshot> s = snapshot();
  auto it = s->policies.find(resource);
  return it == s->policies.end() ? nullptr : it->second;
}

iam::PolicyNode GooglePolicyStore::node(const Snapshot& snapshot,
                                        const std::string& resource) const {
  auto it = snapshot.policies.find(resource);
  return iam::PolicyNode{resource, it == snapshot.policies.end() ? nullptr : it->second};
}

std::optional<iam::ResourceRef> GooglePolicyStore::project_ref() const {
  std::shared_ptr<const Snapshot> s = snapshot();
  iam::ResourceRef ref;
  ref.attributes.name = project_resource();
  ref.attributes.type = "cloudresourcemanager.googleapis.com/Project";
  ref.attributes.service = kResourceManagerService;
  ref.chain = {node(*s, project_resource())};
  return ref;
}

std::optional<iam::ResourceRef> GooglePolicyStore::service_account_ref(
    std::string_view email) const {
  const config::GoogleServiceAccount* gsa = find_gsa(*world_, email);
  if (gsa == nullptr) return std::nullopt;
  std::shared_ptr<const Snapshot> s = snapshot();
  iam::ResourceRef ref;
  ref.attributes.name = fmt::format("projects/-/serviceAccounts/{}", gsa->email);
  ref.attributes.type = "iam.googleapis.com/ServiceAccount";
  ref.attributes.service = kIamService;
  ref.chain = {node(*s, service_account_resource(gsa->email)), node(*s, project_resource())};
  return ref;
}

std::optional<iam::ResourceRef> GooglePolicyStore::bucket_ref(std::string_view bucket) const {
  const config::Bucket* b = world_->find_bucket(bucket);
  if (b == nullptr) return std::nullopt;
  std::shared_ptr<const Snapshot> s = snapshot();
  iam::ResourceRef ref;
  ref.attributes.name = bucket_resource(b->name);
  ref.attributes.type = "storage.googleapis.com/Bucket";
  ref.attributes.service = kStorageService;
  ref.attributes.tags = b->tags;
  ref.chain = {node(*s, bucket_resource(b->name)), node(*s, project_resource())};
  return ref;
}

std::optional<iam::ResourceRef> GooglePolicyStore::object_ref(std::string_view bucket,
                                                              std::string_view object) const {
  std::optional<iam::ResourceRef> ref = bucket_ref(bucket);
  if (!ref) return std::nullopt;
  ref->attributes.name = fmt::format("projects/_/buckets/{}/objects/{}", bucket, object);
  ref->attributes.type = "storage.googleapis.com/Object";
  return ref;
}

std::optional<iam::ResourceRef> GooglePolicyStore::resource_ref(std::string_view resource) const {
  if (resource == project_resource()) return project_ref();
  std::string sa_prefix = fmt::format("projects/{}/serviceAccounts/", world_->project.id);
  if (resource.starts_with(sa_prefix))
    return service_account_ref(resource.substr(sa_prefix.size()));
  constexpr std::string_view kBucketPrefix = "projects/_/buckets/";
  if (resource.starts_with(kBucketPrefix)) return bucket_ref(resource.substr(kBucketPrefix.size()));
  return std::nullopt;
}

absl::StatusOr<std::shared_ptr<const iam::AllowPolicy>> GooglePolicyStore::set_policy(
    std::string_view resource, iam::AllowPolicy policy) {
  std::lock_guard<std::mutex> lock(write_mu_);
  std::shared_ptr<const Snapshot> current = snapshot();
  auto it = current->policies.find(resource);
  if (it == current->policies.end()) {
    return absl::NotFoundError(fmt::format("Resource {} does not exist.", resource));
  }
  if (!policy.request_etag().empty() && policy.request_etag() != it->second->etag()) {
    return absl::AbortedError(kEtagMismatchMessage);
  }
  WIMS_RETURN_IF_ERROR(store_.put(kStoreNamespace, resource, policy.to_json()));
  auto stored = std::make_shared<const iam::AllowPolicy>(std::move(policy));
  auto next = std::make_shared<Snapshot>(*current);
  next->policies[std::string(resource)] = stored;
  snapshot_.store(std::move(next));
  return stored;
}

}  // namespace wims::cloud
