// AdmissionHandler: the webhook's HTTP front end, `POST /mutate` (served over HTTPS by http::Server
// with TLS, see `wims webhook`):
//
//   POST /mutate, Content-Type application/json, body AdmissionReview v1
//     -> 200 application/json AdmissionReview with the response (pod_mutator.h)
//   not JSON / not an AdmissionReview v1 / no request.uid  -> 400 text/plain with the reason
//   a Content-Type other than application/json              -> 415 (as the EKS webhook)
//   another method -> 405 (Allow: POST); another path -> 404
//
// The pod's service account is looked up for Pod CREATEs only. When it cannot be read (API server
// error, RBAC) the pod is still admitted, without the annotation-driven mutations, and the response
// carries a warning saying why (the EKS webhook also admits pods whose SA it has not cached;
// refusing every pod while the API is unreachable would stop the cluster). dryRun requests get the
// same answer: the handler has no side effects (sideEffects: None).
//
// Routes are labelled "webhook.mutate". Thread-safe (options are read-only; the lookup is
// thread-safe); runs on the connection's worker executor. The lookup must outlive the handler.
#pragma once

#include "http/handler.h"
#include "webhook/pod_mutator.h"
#include "webhook/service_account_lookup.h"

namespace wims::webhook {

class AdmissionHandler final : public http::Handler {
 public:
  AdmissionHandler(MutatorOptions options, ServiceAccountLookup& lookup);

  boost::asio::awaitable<http::Response> handle(http::Request& request) override;

 private:
  const MutatorOptions options_;
  ServiceAccountLookup& lookup_;
};

}  // namespace wims::webhook
