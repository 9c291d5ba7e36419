// IamPolicyHandler: getIamPolicy / setIamPolicy / testIamPermissions of the embedded cloud's Google
// resources, in the REST shapes of the three real APIs:
//
//   Resource Manager  POST /v1/projects/PROJECT:getIamPolicy        body
//   {"options":{"requestedPolicyVersion":3}}
//                     POST /v1/projects/PROJECT:setIamPolicy        body
//                     {"policy":{...},"updateMask":"..."} POST
//                     /v1/projects/PROJECT:testIamPermissions  body {"permissions":[...]}
//   IAM               the same three on /v1/projects/PROJECT/serviceAccounts/EMAIL:METHOD
//                     (PROJECT may be "-"; getIamPolicy also takes
//                     ?options.requestedPolicyVersion=3)
//   Cloud Storage     GET  /storage/v1/b/BUCKET/iam[?optionsRequestedPolicyVersion=3]
//                     PUT  /storage/v1/b/BUCKET/iam                 body: the policy
//                     GET  /storage/v1/b/BUCKET/iam/testPermissions?permissions=a&permissions=b
//
// PROJECT is the project id or number. Responses: the policy JSON (iam/allow_policy.h, downgraded
// to version 1 for requested versions < 3); Cloud Storage adds "kind":"storage#policy" and
// "resourceId". testIamPermissions answers the granted subset ({} when none; Cloud Storage:
// {"kind":"storage#testIamPermissionsResponse","permissions":[...]}).
//
// Authorization: every call needs a valid bearer token (cloud/caller_auth.h; 401 otherwise).
// getIamPolicy needs resourcemanager.projects.getIamPolicy / iam.serviceAccounts.getIamPolicy /
// storage.buckets.getIamPolicy, setIamPolicy the matching ...setIamPolicy permission (the admin
// token holds every permission); testIamPermissions needs none. setIamPolicy validates the policy
// (400 INVALID_ARGUMENT with the parse message), compares a sent etag with the stored one (409
// ABORTED; Cloud Storage: 412 conditionNotMet, as GCS answers a stale etag) and persists it.
// Errors are Google JSON (cloud/google_error.h): denials are 403 "The caller does not have
// permission" (Resource Manager), the IAM_PERMISSION_DENIED ErrorInfo (IAM), or GCS's
// "CALLER does not have PERMISSION access to the Google Cloud Storage bucket. ..." (Storage);
// an unknown project is 403, an unknown service account or bucket 404.
//
// Owned by the cloud wiring; `policies`, `auth` and `clock` must outlive it. Thread-safe: handle()
// may run on every worker at once. Reads use the policy store's snapshots; setIamPolicy's blocking
// write runs on `blocking_executor` and the response resumes on the caller's worker.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <string_view>

#include "cloud/caller_auth.h"
#include "cloud/google_policy_store.h"
#include "common/clock.h"
#include "http/handler.h"
#include "iam/authorizer.h"

namespace wims::cloud {

class IamPolicyHandler final : public http::Handler {
 public:
  // The most permissions one testIamPermissions call may ask about (Google's limit is 100).
  static constexpr size_t kMaxTestedPermissions = 100;

  IamPolicyHandler(GooglePolicyStore& policies, const CallerAuth& auth, const Clock& clock,
                   boost::asio::any_io_executor blocking_executor);

  boost::asio::awaitable<http::Response> handle(http::Request& request) override;

  // Whether `path` is one of this handler's Cloud Storage paths (/storage/v1/b/B/iam and
  // /storage/v1/b/B/iam/testPermissions), for dispatchers that share /storage/v1/.
  static bool is_storage_iam_path(std::string_view path);

 private:
  enum class Api { kResourceManager, kIam, kStorage };
  struct Target;

  boost::asio::awaitable<http::Response> handle_rest(http::Request& request);
  boost::asio::awaitable<http::Response> handle_storage(http::Request& request);
  boost::asio::awaitable<http::Response> set_policy(const Target& target, iam::AllowPolicy policy);
  http::Response denied(const Target& target, const iam::Caller& caller,
                        std::string_view permission) const;
  http::Response error(const Target& target, const absl::Status& status) const;

  GooglePolicyStore& policies_;
  const CallerAuth& auth_;
  iam::Authorizer authorizer_;
  boost::asio::any_io_executor blocking_executor_;
};

}  // namespace wims::cloud
