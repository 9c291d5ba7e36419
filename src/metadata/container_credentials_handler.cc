#include "metadata/container_credentials_handler.h"

#include <fmt/format.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <optional>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "common/encoding.h"

namespace wims::metadata {
namespace {

namespace bh = boost::beast::http;

http::Response json_response(bh::status status, std::string body) {
  http::Response response(status, 11);
  response.set(bh::field::content_type, "application/json");
  response.body() = std::move(body);
  return response;
}

http::Response json_error(http::Request& request, const char* route, bh::status status,
                          std::string_view code, std::string_view message) {
  request.route = route;
  http::Response response =
      json_response(status, boost::json::serialize(boost::json::object{
                                {"Code", std::string(code)}, {"Message", std::string(message)}}));
  if (status == bh::status::too_many_requests || status == bh::status::service_unavailable) {
    response.set(bh::field::retry_after, "1");
  }
  return response;
}

http::Response broker_error(http::Request& request, const absl::Status& status) {
  const std::string message(status.message());
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
      return json_error(request, "container.credentials", bh::status::not_found, "NotFound",
                        message);
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kFailedPrecondition:
      return json_error(request, "container.credentials", bh::status::forbidden, "AccessDenied",
                        message);
    case absl::StatusCode::kResourceExhausted:
      return json_error(request, "container.credentials", bh::status::too_many_requests,
                        "Throttling", message);
    case absl::StatusCode::kUnavailable:
      return json_error(request, "container.credentials", bh::status::service_unavailable,
                        "ServiceUnavailable", message);
    default:
      return json_error(request, "container.credentials", bh::status::internal_server_error,
                        "InternalError", message);
  }
}

}  // namespace

ContainerCredentialsHandler::ContainerCredentialsHandler(const CallerResolver& resolver,
                                                         broker::AwsCredentialSource& credentials,
                                                         ServiceAccountTokenReviewer* reviewer,
                                                         ContainerCredentialsOptions options)
    : resolver_(resolver),
      credentials_(credentials),
      reviewer_(reviewer),
      options_(std::move(options)) {}

boost::asio::awaitable<http::Response> ContainerCredentialsHandler::handle(http::Request& request) {
  if (request.path != kContainerCredentialsPath) {
    co_return json_error(request, "container.not_found", bh::status::not_found, "NotFound",
                         fmt::format("no such path {}", request.path));
  }
  if (request.method() != bh::verb::get && request.method() != bh::verb::head) {
    http::Response response =
        json_error(request, "container.rejected", bh::status::method_not_allowed,
                   "MethodNotAllowed", "use GET");
    response.set(bh::field::allow, "GET, HEAD");
    co_return response;
  }
  std::optional<std::string_view> authorization = request.header("Authorization");
  if (!authorization || authorization->empty()) {
    co_return json_error(request, "container.unauthorized", bh::status::unauthorized,
                         "Unauthorized",
                         "the Authorization header (the pod's service-account token) is required");
  }
  if (authorization->size() > options_.max_token_bytes ||
      authorization->find_first_of("\r\n") != std::string_view::npos) {
    co_return json_error(request, "container.rejected", bh::status::bad_request, "InvalidToken",
                         "the Authorization header is not a service-account token");
  }
  absl::StatusOr<broker::Caller> caller = co_await resolver_.resolve_async(request.peer);
  if (!caller.ok()) {
    co_return json_error(
        request, "container.denied", bh::status::forbidden, "AccessDenied",
        fmt::format("the caller {} is not a known pod: {}", request.peer.to_string(),
                    std::string(caller.status().message())));
  }
  if (reviewer_ != nullptr) {
    absl::StatusOr<ReviewedServiceAccountToken> reviewed =
        co_await reviewer_->review(std::string(*authorization), options_.audiences);
    if (!reviewed.ok()) {
      if (absl::IsUnauthenticated(reviewed.status()) ||
          absl::IsPermissionDenied(reviewed.status())) {
        co_return json_error(request, "container.unauthorized", bh::status::unauthorized,
                             "InvalidToken", std::string(reviewed.status().message()));
      }
      co_return broker_error(request, reviewed.status());
    }
    const bool same_account = reviewed->namespace_name == caller->pod.namespace_name &&
                              reviewed->service_account == caller->pod.service_account_name;
    const bool same_pod = reviewed->pod_uid.empty() || reviewed->pod_uid == caller->pod.uid;
    if (!same_account || !same_pod) {
      co_return json_error(request, "container.denied", bh::status::forbidden, "AccessDenied",
                           "the Authorization token belongs to another pod or service account");
    }
  }
  absl::StatusOr<broker::AwsCredentials> credentials = co_await credentials_.credentials(*caller);
  if (!credentials.ok()) co_return broker_error(request, credentials.status());
  std::string account(broker::aws_arn_account(credentials->assumed_role_arn));
  if (account.empty() && caller->aws_role_arn)
    account = std::string(broker::aws_arn_account(*caller->aws_role_arn));
  boost::json::object body{{"AccessKeyId", credentials->access_key_id},
                           {"SecretAccessKey", credentials->secret_access_key},
                           {"Token", credentials->session_token},
                           {"AccountId", account},
                           {"Expiration", format_rfc3339_seconds(credentials->expiration)}};
  request.route = "container.credentials";
  co_return json_response(bh::status::ok, boost::json::serialize(body));
}

}  // namespace wims::metadata
