// GoogleApisHandler: one dispatching Handler for the embedded cloud's Google REST APIs, so the
// wiring can mount them with a longest-prefix http::Router although they share prefixes:
//
//   /v1/projects/...:generateAccessToken|:generateIdToken|:signBlob|:signJwt -> credentials
//   /v1/projects/... (everything else: get/set/testIamPermissions)           -> policies
//   /storage/v1/b/BUCKET/iam, /storage/v1/b/BUCKET/iam/testPermissions       -> policies
//   /storage/v1/...                                                          -> storage
//   /oauth2/v3/...                                                           -> token_info
//
//   router.add("/v1/projects/", google_apis);
//   router.add("/storage/v1/", google_apis);
//   router.add("/oauth2/v3/", google_apis);
//
// Holds references (the handlers must outlive it); stateless, thread-safe.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "cloud/iam_credentials_handler.h"
#include "cloud/iam_policy_handler.h"
#include "cloud/storage_handler.h"
#include "cloud/token_info_handler.h"
#include "http/handler.h"

namespace wims::cloud {

class GoogleApisHandler final : public http::Handler {
 public:
  // The prefixes to mount this handler on.
  static constexpr const char* kPrefixes[] = {"/v1/projects/", "/storage/v1/", "/oauth2/v3/"};

  GoogleApisHandler(IamCredentialsHandler& credentials, IamPolicyHandler& policies,
                    StorageHandler& storage, TokenInfoHandler& token_info)
      : credentials_(credentials),
        policies_(policies),
        storage_(storage),
        token_info_(token_info) {}

  boost::asio::awaitable<http::Response> handle(http::Request& request) override;

  // The handler that serves `path`, or nullptr when none of them does (404).
  http::Handler* route(std::string_view path) const;

 private:
  IamCredentialsHandler& credentials_;
  IamPolicyHandler& policies_;
  StorageHandler& storage_;
  TokenInfoHandler& token_info_;
};

}  // namespace wims::cloud
