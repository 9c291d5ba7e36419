// OidcHandler: the embedded cloud's Kubernetes-facing HTTP front end, serving what kube-apiserver
// serves for service-account tokens:
//
//   GET  <issuer path>/.well-known/openid-configuration   OIDC discovery
//   (pkg/routes/openidmetadata.go) GET  <issuer path>/openid/v1/jwks                     the
//   published keys, application/jwk-set+json POST /api/v1/namespaces/NS/serviceaccounts/NAME/token
//   TokenRequest            -> 201 POST /apis/authentication.k8s.io/v1/tokenreviews TokenReview ->
//   201 POST /wims/v1/signing-keys:rotate                     rotate the signing key  -> 200
//   {"kid","previousKid"}
//
// The issuer path is the path of the issuer URL ("http://HOST:PORT/oidc/CLUSTER" ->
// "/oidc/CLUSTER"). The discovery responses carry "Cache-Control: public, max-age=3600". The three
// POST APIs require "Authorization: Bearer <admin token>" (401 Status otherwise); errors are
// Kubernetes Status JSON
// ({"kind":"Status","apiVersion":"v1","status":"Failure","message","reason","code"}).
//
// Owned by the cloud wiring; `ring`, `issuer` and `clock` must outlive it. Thread-safe: handle()
// may run on every worker at once. Key rotation (blocking key generation and SQLite) is moved to
// `blocking_executor` (a thread pool) and the response is resumed on the caller's worker.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <string>

#include "cloud/service_account_token_issuer.h"
#include "cloud/signing_key_ring.h"
#include "common/clock.h"
#include "http/handler.h"

namespace wims::cloud {

struct OidcHandlerOptions {
  // "http://127.0.0.1:PORT/oidc/CLUSTER"; the handler routes discovery on its path.
  std::string issuer_url;
  // The bearer token the APIs require. Must not be empty.
  std::string admin_token;
};

class OidcHandler final : public http::Handler {
 public:
  OidcHandler(OidcHandlerOptions options, SigningKeyRing& ring,
              const ServiceAccountTokenIssuer& issuer, const Clock& clock,
              boost::asio::any_io_executor blocking_executor);

  boost::asio::awaitable<http::Response> handle(http::Request& request) override;

  // The discovery document and JWKS bodies as served at `now` (also used by tests).
  std::string discovery_json(absl::Time now) const;

 private:
  http::Response token_request(const http::Request& request, std::string_view ns,
                               std::string_view name) const;
  http::Response token_review(const http::Request& request) const;
  boost::asio::awaitable<http::Response> rotate();
  bool authorized(const http::Request& request) const;

  OidcHandlerOptions options_;
  std::string issuer_path_;  // without a trailing slash; "" for an issuer at the root
  SigningKeyRing& ring_;
  const ServiceAccountTokenIssuer& issuer_;
  const Clock& clock_;
  boost::asio::any_io_executor blocking_executor_;
};

}  // namespace wims::cloud
