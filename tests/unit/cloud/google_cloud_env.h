// GoogleCloudEnv: the Google side of the embedded cloud assembled for handler tests: FakeClock,
// an in-memory (or on-disk) StateStore, the policy store seeded from google_world(), an access
// token codec with a fixed secret, a signing key ring, CallerAuth with kAdminToken, and a thread
// pool standing in for the blocking executor.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <memory>
#include <string>

#include "cloud/access_token_codec.h"
#include "cloud/caller_auth.h"
#include "cloud/google_policy_store.h"
#include "cloud/signing_key_ring.h"
#include "common/clock.h"
#include "common/encoding.h"
#include "iam/principal.h"
#include "store/state_store.h"
#include "unit/cloud/google_cloud_fixture.h"

namespace wims::cloud::testing {

inline constexpr char kAdminToken[] = "admin-token-for-tests";
inline constexpr char kCloudPlatform[] = "https://www.googleapis.com/auth/cloud-platform";

inline absl::Time at(const char* rfc3339) { return *parse_rfc3339(rfc3339); }

class GoogleCloudEnv {
 public:
  // `state_dir` empty: an in-memory store.
  explicit GoogleCloudEnv(config::World world = google_world(), std::string state_dir = "")
      : clock(at("2024-01-01T00:00:00Z")),
        store(state_dir.empty() ? *store::StateStore::open_in_memory()
                                : *store::StateStore::open(state_dir)),
        policies(*GooglePolicyStore::open(*store, std::make_shared<const config::World>(world))),
        codec(std::string(32, 'k')),
        ring(*SigningKeyRing::open(*store, clock.now())),
        auth(kAdminToken, codec, clock),
        pool(1) {}
  ~GoogleCloudEnv() { pool.join(); }

  std::string federated_token(const iam::WorkloadIdentity& id,
                              absl::Duration lifetime = absl::Hours(1)) const {
    AccessTokenClaims claims;
    claims.kind = AccessTokenKind::kFederated;
    claims.subject = iam::principal_id(id);
    claims.workload = id;
    claims.scopes = {kCloudPlatform};
    claims.issued_at = clock.now();
    claims.expires_at = clock.now() + lifetime;
    return codec.mint(claims);
  }
  std::string gsa_token(std::string email, absl::Duration lifetime = absl::Hours(1)) const {
    AccessTokenClaims claims;
    claims.kind = AccessTokenKind::kServiceAccount;
    claims.subject = std::move(email);
    claims.scopes = {kCloudPlatform};
    claims.issued_at = clock.now();
    claims.expires_at = clock.now() + lifetime;
    return codec.mint(claims);
  }
  // Replaces a policy directly (as an earlier setIamPolicy would have).
  void set_policy(const std::string& resource, const std::string& json) {
    absl::StatusOr<iam::AllowPolicy> policy = iam::AllowPolicy::from_json(json);
    ASSERT_TRUE(policy.ok()) << policy.status();
    ASSERT_TRUE(policies->set_policy(resource, *std::move(policy)).ok());
  }
  boost::asio::any_io_executor blocking() { return pool.get_executor(); }

  FakeClock clock;
  std::unique_ptr<store::StateStore> store;
  std::unique_ptr<GooglePolicyStore> policies;
  AccessTokenCodec codec;
  std::unique_ptr<SigningKeyRing> ring;
  CallerAuth auth;
  boost::asio::thread_pool pool;
};

}  // namespace wims::cloud::testing
