// The metadata front ends reach KubeCallerResolver::resolve_or_wait through
// CallerResolver::resolve_async: a request from a pod the watch has not delivered yet is answered,
// on its first try, once the pod is published, instead of being refused.
#include "kube/kube_caller_resolver.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <functional>
#include <optional>

#include "metadata/aws_imds_handler.h"
#include "metadata/container_credentials_handler.h"
#include "metadata/gce_handler.h"
#include "unit/kube/test_support.h"
#include "unit/metadata/aws_test_support.h"
#include "unit/metadata/test_support.h"

namespace wims::kube {
namespace {

namespace bh = boost::beast::http;
using boost::asio::ip::make_address;

constexpr char kNewPodIp[] = "10.4.0.7";
constexpr char kGsa[] = "web@wims-test.iam.gserviceaccount.com";
constexpr char kRoleArn[] = "arn:aws:iam::111122223333:role/web";

PodInfo web_pod() {
  PodInfo info;
  info.pod.namespace_name = "apps";
  info.pod.name = "web";
  info.pod.uid = "uid-web";
  info.pod.service_account_name = "web";
  info.pod.ips = {kNewPodIp};
  info.phase = "Running";
  info.node_name = "node-1";
  return info;
}

config::ServiceAccount web_account() {
  return config::ServiceAccount{.namespace_name = "apps",
                                .name = "web",
                                .uid = "sa-uid-web",
                                .annotations = {{config::kGcpServiceAccountAnnotation, kGsa},
                                                {config::kEksRoleArnAnnotation, kRoleArn}}};
}

// A synced index with no pod: every address is unknown.
void publish_empty(PodIndex& index) {
  index.replace_pods({});
  index.replace_service_accounts({});
  index.mark_synced();
  index.publish();
}

struct Case {
  std::string name;
  std::function<http::Request()> request;
  int status;
  std::string body;  // expected to be contained in the answer
};

class FrontEndWaitTest : public ::testing::Test {
 protected:
  FrontEndWaitTest()
      : world_(metadata::testing::make_world()),
        google_(SystemClock::instance()),
        aws_(SystemClock::instance()),
        index_(testing::identity_world()),
        // A two-minute bound: an answer shows the publish woke the wait, not the deadline.
        resolver_(index_, absl::Minutes(2)),
        gce_(world_, resolver_, google_, SystemClock::instance(), {}),
        imds_(world_, resolver_, aws_, SystemClock::instance(), metadata::AwsImdsOptions{}),
        container_(resolver_, aws_, nullptr, metadata::ContainerCredentialsOptions{}) {}

  ~FrontEndWaitTest() override { gce_.stop(); }

  std::shared_ptr<config::World> world_;
  metadata::testing::FakeGoogleCredentials google_;
  metadata::testing::FakeAwsCredentials aws_;
  PodIndex index_;
  KubeCallerResolver resolver_;
  metadata::GceMetadataHandler gce_;
  metadata::AwsImdsHandler imds_;
  metadata::ContainerCredentialsHandler container_;
};

boost::asio::awaitable<void> call(http::Handler& handler, http::Request& request,
                                  std::optional<http::Response>& out) {
  out = co_await handler.handle(request);
}

TEST_F(FrontEndWaitTest, EveryFrontEndAnswersAPodThatAppearsDuringTheWait) {
  const std::vector<std::pair<http::Handler*, Case>> cases = {
      {&gce_,
       {"gce email",
        [] {
          return metadata::testing::make_request(
              "/computeMetadata/v1/instance/service-accounts/default/email", kNewPodIp);
        },
        200, kGsa}},
      {&gce_,
       {"gce token",
        [] {
          return metadata::testing::make_request(
              "/computeMetadata/v1/instance/service-accounts/default/token", kNewPodIp);
        },
        200, "ya29.fake-web"}},
      {&imds_,
       {"imds role name",
        [] {
          return metadata::testing::make_aws_request(
              bh::verb::get, "/latest/meta-data/iam/security-credentials/", kNewPodIp);
        },
        200, "web"}},
      {&imds_,
       {"imds session token",
        [] {
          return metadata::testing::make_aws_request(
              bh::verb::put, "/latest/api/token", kNewPodIp,
              {{"X-aws-ec2-metadata-token-ttl-seconds", "60"}});
        },
        200, ""}},
      {&container_,
       {"container credentials",
        [] {
          return metadata::testing::make_aws_request(bh::verb::get, "/v1/credentials", kNewPodIp,
                                                     {{"Authorization", "ksa-token"}});
        },
        200, "ASIAFAKEweb"}},
  };
  for (const auto& [handler, c] : cases) {
    SCOPED_TRACE(c.name);
    PodIndex& index = index_;
    index.remove_pod("uid-web");
    publish_empty(index);
    ASSERT_EQ(resolver_.resolve(make_address(kNewPodIp)).status().code(),
              absl::StatusCode::kNotFound);

    boost::asio::io_context io;
    http::Request request = c.request();
    std::optional<http::Response> out;
    boost::asio::co_spawn(io, call(*handler, request, out), boost::asio::detached);
    // Runs until the handler is parked in the wait: it must not have answered (a refusal would be
    // here).
    io.poll();
    ASSERT_FALSE(out.has_value()) << out->body();

    index.apply_pod(web_pod());
    index.apply_service_account(web_account());
    index.publish();
    io.run_for(std::chrono::seconds(60));
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(out->result_int(), c.status) << out->body();
    EXPECT_THAT(out->body(), ::testing::HasSubstr(c.body));
  }
}

TEST_F(FrontEndWaitTest, AnAddressThatNeverAppearsIsRefusedAfterTheBound) {
  KubeCallerResolver short_wait(index_, absl::Milliseconds(20));
  metadata::GceMetadataHandler gce(world_, short_wait, google_, SystemClock::instance(), {});
  publish_empty(index_);
  http::Request request = metadata::testing::make_request(
      "/computeMetadata/v1/instance/service-accounts/default/email", kNewPodIp);
  std::optional<http::Response> out = metadata::testing::run(gce, request);
  gce.stop();
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->result_int(), 403);
  EXPECT_THAT(out->body(), ::testing::HasSubstr(kNewPodIp));
}

}  // namespace
}  // namespace wims::kube
