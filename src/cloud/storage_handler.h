// StorageHandler: the embedded cloud's tiny protected resource, a read-only subset of the Cloud
// Storage JSON API over the World's buckets, so that an end-to-end test can show who may read what:
//
//   GET /storage/v1/b/BUCKET/o/OBJECT?alt=media  the object's bytes (200; text/plain for content
//                                                that is valid UTF-8 text, otherwise
//                                                application/octet-stream)
//   GET /storage/v1/b/BUCKET/o/OBJECT            the object resource {"kind":"storage#object",
//                                                "id","selfLink","mediaLink","name","bucket",
//                                                "size" (a string),"contentType","md5Hash",...}
//   GET /storage/v1/b/BUCKET/o[?prefix=P]        {"kind":"storage#objects","items":[...]}
//   GET /storage/v1/b/BUCKET                     the bucket resource {"kind":"storage#bucket",...}
//
// OBJECT is the percent-decoded rest of the path, so "dir%2Fdata.json" and "dir/data.json" name
// the same object. The caller comes from the bearer token (cloud/caller_auth.h); without an
// Authorization header the caller is anonymous (public buckets, i.e. allUsers bindings, still
// work). Reads are authorized through the Authorizer on the object's chain (object -> bucket ->
// project, with the bucket's tags): storage.objects.get, storage.objects.list,
// storage.buckets.get. Denials follow GCS: 401 for an anonymous caller or a bad token, 403
// "CALLER does not have storage.objects.get access to the Google Cloud Storage object. Permission
// 'storage.objects.get' denied on resource (or it may not exist)." otherwise; a missing object is
// 404 only for a caller who may list the bucket (storage.objects.list), otherwise 403, so that
// existence does not leak. An unknown bucket is 404.
//
// Owned by the cloud wiring; `policies`, `auth` and `clock` must outlive it. Thread-safe: reads
// only the immutable World and policy snapshots; no blocking I/O.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "cloud/caller_auth.h"
#include "cloud/google_policy_store.h"
#include "common/clock.h"
#include "http/handler.h"
#include "iam/authorizer.h"

namespace wims::cloud {

class StorageHandler final : public http::Handler {
 public:
  StorageHandler(const GooglePolicyStore& policies, const CallerAuth& auth, const Clock& clock);

  boost::asio::awaitable<http::Response> handle(http::Request& request) override;

 private:
  http::Response get_object(const http::Request& request, const iam::Caller& caller,
                            const config::Bucket& bucket, std::string_view object) const;
  http::Response list_objects(const http::Request& request, const iam::Caller& caller,
                              const config::Bucket& bucket) const;
  http::Response get_bucket(const iam::Caller& caller, const config::Bucket& bucket) const;

  const GooglePolicyStore& policies_;
  const CallerAuth& auth_;
  iam::Authorizer authorizer_;
};

}  // namespace wims::cloud
