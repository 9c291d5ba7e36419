#include "cloud/google_apis_handler.h"

#include "cloud/google_error.h"

namespace wims::cloud {

http::Handler* GoogleApisHandler::route(std::string_view path) const {
  if (path.starts_with("/v1/projects/")) {
    if (IamCredentialsHandler::is_credentials_path(path)) return &credentials_;
    return &policies_;
  }
  if (path.starts_with("/storage/v1/")) {
    if (IamPolicyHandler::is_storage_iam_path(path)) return &policies_;
    return &storage_;
  }
  if (path.starts_with("/oauth2/v3/")) return &token_info_;
  return nullptr;
}

boost::asio::awaitable<http::Response> GoogleApisHandler::handle(http::Request& request) {
  http::Handler* handler = route(request.path);
  if (handler == nullptr) {
    request.route = "google.not_found";
    co_return google_error(absl::NotFoundError("Method not found."));
  }
  co_return co_await handler->handle(request);
}

}  // namespace wims::cloud
