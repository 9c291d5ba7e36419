#include "cloud/access_token_codec.h"

#include <gtest/gtest.h>

#include "common/encoding.h"

namespace wims::cloud {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1700000000);

AccessTokenClaims federated() {
  AccessTokenClaims c;
  c.kind = AccessTokenKind::kFederated;
  c.subject =
      "principal://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/"
      "p.svc.id.goog/"
      "subject/ns/default/sa/demo";
  iam::WorkloadIdentity w;
  w.project_number = 123;
  w.pool = "p.svc.id.goog";
  w.namespace_name = "default";
  w.service_account = "demo";
  w.service_account_uid = "sa-uid";
  w.cluster_url = "https://container.googleapis.com/v1/projects/p/locations/l/clusters/c";
  w.pod_name = "app";
  w.pod_uid = "pod-uid";
  c.workload = w;
  c.scopes = {"https://www.googleapis.com/auth/cloud-platform"};
  c.issued_at = kNow;
  c.expires_at = kNow + absl::Hours(1);
  return c;
}

TEST(AccessTokenCodecTest, RoundTripsFederatedClaims) {
  AccessTokenCodec codec(std::string(32, 'k'));
  std::string token = codec.mint(federated());
  EXPECT_EQ(token.rfind("ya29.", 0), 0u);
  absl::StatusOr<AccessTokenClaims> claims = codec.verify(token, kNow + absl::Minutes(59));
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->kind, AccessTokenKind::kFederated);
  EXPECT_EQ(claims->subject, federated().subject);
  ASSERT_TRUE(claims->workload.has_value());
  EXPECT_EQ(claims->workload->project_number, 123);
  EXPECT_EQ(claims->workload->namespace_name, "default");
  EXPECT_EQ(claims->workload->service_account, "demo");
  EXPECT_EQ(claims->workload->pod_uid, "pod-uid");
  EXPECT_EQ(claims->workload->cluster_url, federated().workload->cluster_url);
  EXPECT_EQ(claims->scopes, federated().scopes);
  EXPECT_EQ(claims->issued_at, kNow);
  EXPECT_EQ(claims->expires_at, kNow + absl::Hours(1));
}

TEST(AccessTokenCodecTest, ServiceAccountTokensHaveNoWorkload) {
  AccessTokenCodec codec(std::string(32, 'k'));
  AccessTokenClaims c;
  c.kind = AccessTokenKind::kServiceAccount;
  c.subject = "demo@p.iam.gserviceaccount.com";
  c.issued_at = kNow;
  c.expires_at = kNow + absl::Hours(1);
  absl::StatusOr<AccessTokenClaims> claims = codec.verify(codec.mint(c), kNow);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->kind, AccessTokenKind::kServiceAccount);
  EXPECT_FALSE(claims->workload.has_value());
}

TEST(AccessTokenCodecTest, RejectsExpiredForgedAndMalformedTokens) {
  AccessTokenCodec codec(std::string(32, 'k'));
  AccessTokenCodec other(std::string(32, 'x'));
  std::string token = codec.mint(federated());
  std::string payload = token.substr(5, token.rfind('.') - 5);
  std::string sig = token.substr(token.rfind('.') + 1);
  AccessTokenClaims longer = federated();
  longer.expires_at = kNow + absl::Hours(100);
  std::string longer_payload = codec.mint(longer).substr(5, codec.mint(longer).rfind('.') - 5);
  struct Case {
    std::string name;
    std::string token;
    absl::Time now;
  };
  std::vector<Case> cases = {
      {"expired", token, kNow + absl::Hours(1)},
      {"other secret", other.mint(federated()), kNow},
      {"payload swapped", "ya29." + longer_payload + "." + sig, kNow},
      {"no prefix", token.substr(5), kNow},
      {"no signature", "ya29." + payload, kNow},
      {"empty", "", kNow},
      {"bad base64 signature", "ya29." + payload + ".!!", kNow},
      {"truncated signature", "ya29." + payload + "." + sig.substr(0, 10), kNow},
      {"too long", "ya29." + std::string(AccessTokenCodec::kMaxTokenBytes, 'a') + "." + sig, kNow},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(codec.verify(c.token, c.now).status().code(), absl::StatusCode::kUnauthenticated);
  }
}

TEST(AccessTokenCodecTest, SecretPersistsAcrossOpen) {
  auto store = *store::StateStore::open_in_memory();
  auto first = AccessTokenCodec::open(*store);
  ASSERT_TRUE(first.ok()) << first.status();
  std::string token = (*first)->mint(federated());
  auto second = AccessTokenCodec::open(*store);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE((*second)->verify(token, kNow).ok());
  auto other_store = *store::StateStore::open_in_memory();
  EXPECT_FALSE((*AccessTokenCodec::open(*other_store))->verify(token, kNow).ok());
}

}  // namespace
}  // namespace wims::cloud
