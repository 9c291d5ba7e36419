// Test support for the AWS metadata front ends: a fake AwsCredentialSource that records what it is
// asked and answers fixed credentials (or a configured error), and a request builder with method
// and headers.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "broker/aws_credentials.h"
#include "common/clock.h"
#include "unit/metadata/test_support.h"

namespace wims::metadata::testing {

inline constexpr char kAwsRole[] = "arn:aws:iam::111122223333:role/ksa";
inline constexpr char kAwsIp2[] = "10.0.0.10";  // a second pod of aws/app
inline constexpr char kUnknownIp[] = "10.99.0.1";

// make_world() plus a second pod of the aws/app service account (same role, another uid).
inline std::shared_ptr<config::World> make_aws_world() {
  std::shared_ptr<config::World> world = make_world();
  world->pods.push_back(make_pod("aws", "app-2", "app", {kAwsIp2}));
  return world;
}

class FakeAwsCredentials final : public broker::AwsCredentialSource {
 public:
  explicit FakeAwsCredentials(const Clock& clock) : clock_(clock) {}

  boost::asio::awaitable<absl::StatusOr<broker::AwsCredentials>> credentials(
      const broker::Caller& caller) override {
    ++calls;
    last_caller = caller;
    if (!status.ok()) co_return status;
    if (!caller.aws_role_arn) co_return absl::NotFoundError("no role");
    broker::AwsCredentials credentials;
    credentials.access_key_id = "ASIAFAKE" + caller.pod.name;
    credentials.secret_access_key = "secret\"/+=";
    credentials.session_token = "session-token-of-" + caller.pod.name;
    credentials.last_updated = clock_.now();
    credentials.expiration = clock_.now() + absl::Hours(1);
    credentials.assumed_role_arn = "arn:aws:sts::111122223333:assumed-role/" +
                                   std::string(broker::aws_role_name(*caller.aws_role_arn)) +
                                   "/wims-" + caller.pod.namespace_name + "-" + caller.pod.name;
    co_return credentials;
  }

  absl::Status status;
  int calls = 0;
  std::optional<broker::Caller> last_caller;

 private:
  const Clock& clock_;
};

// A request with `method` for `target` from `peer`, with `headers`.
inline http::Request make_aws_request(
    http::beast_http::verb method, const std::string& target, const std::string& peer,
    const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  http::Request request = make_request(target, peer, /*flavor=*/false);
  request.message.method(method);
  request.message.set(http::beast_http::field::host, "169.254.169.254");
  for (const auto& [name, value] : headers) request.message.set(name, value);
  return request;
}

}  // namespace wims::metadata::testing
