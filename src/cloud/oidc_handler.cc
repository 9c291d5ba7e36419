#include "cloud/oidc_handler.h"

#include <openssl/crypto.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/encoding.h"
#include "common/json_members.h"
#include "common/strings.h"

namespace wims::cloud {
namespace {

namespace bhttp = boost::beast::http;

constexpr char kDiscoverySuffix[] = "/.well-known/openid-configuration";
constexpr char kJwksSuffix[] = "/openid/v1/jwks";
constexpr char kTokenReviewPath[] = "/apis/authentication.k8s.io/v1/tokenreviews";
constexpr char kRotatePath[] = "/wims/v1/signing-keys:rotate";
// As kube-apiserver (pkg/routes/openidmetadata.go): clients may cache discovery for an hour.
constexpr char kCacheControl[] = "public, max-age=3600";
constexpr char kAuthApiVersion[] = "authentication.k8s.io/v1";

http::Response oidc_json(bhttp::status status, const boost::json::value& body,
                         std::string_view content_type = "application/json") {
  return http::make_response(status, content_type, boost::json::serialize(body));
}

// A Kubernetes metav1.Status failure.
http::Response kube_status(int code, std::string_view reason, std::string_view message) {
  boost::json::object status{
      {"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", boost::json::object{}},
      {"status", "Failure"}, {"message", message}, {"reason", reason},
      {"code", code}};
  return oidc_json(static_cast<bhttp::status>(code), status);
}

// The one mapping from the issuer's Status codes to Kubernetes Status responses.
http::Response kube_error(const absl::Status& status) {
  std::string_view message = to_std(status.message());
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
      return kube_status(404, "NotFound", message);
    case absl::StatusCode::kInvalidArgument:
      return kube_status(422, "Invalid", message);
    case absl::StatusCode::kFailedPrecondition:
      return kube_status(400, "BadRequest", message);
    case absl::StatusCode::kAborted:
      return kube_status(409, "Conflict", message);
    case absl::StatusCode::kUnauthenticated:
      return kube_status(401, "Unauthorized", "Unauthorized");
    default:
      return kube_status(500, "InternalError", message);
  }
}

http::Response method_not_allowed(std::string_view allow) {
  http::Response response = kube_status(
      405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
  response.set(bhttp::field::allow, boost::beast::string_view(allow.data(), allow.size()));
  return response;
}

http::Response not_found() {
  return kube_status(404, "NotFound", "the server could not find the requested resource");
}

// Parses a request body as a JSON object of the given kind (when "kind" is present it must match).
absl::StatusOr<boost::json::object> parse_body(const http::Request& request,
                                               std::string_view kind) {
  boost::system::error_code ec;
  const std::string& body = request.message.body();
  boost::json::value doc =
      boost::json::parse(boost::json::string_view(body.data(), body.size()), ec);
  if (ec || !doc.is_object()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the body of the request was in an unknown format: ",
                     ec ? ec.message() : std::string("not a JSON object")));
  }
  boost::json::object& o = doc.get_object();
  if (auto it = o.find("kind");
      it != o.end() && !(it->value().is_string() && it->value().get_string() == kind)) {
    return absl::FailedPreconditionError(
        absl::StrCat("the kind in the body is not ", std::string(kind)));
  }
  return std::move(o);
}

absl::StatusOr<std::vector<std::string>> string_array(const boost::json::object& o,
                                                      std::string_view name) {
  std::vector<std::string> out;
  auto it = o.find(name);
  if (it == o.end() || it->value().is_null()) return out;
  if (!it->value().is_array()) {
    return absl::FailedPreconditionError(
        absl::StrCat(std::string(name), " must be an array of strings"));
  }
  for (const boost::json::value& v : it->value().get_array()) {
    if (!v.is_string()) {
      return absl::FailedPreconditionError(
          absl::StrCat(std::string(name), " must be an array of strings"));
    }
    out.emplace_back(v.get_string().data(), v.get_string().size());
  }
  return out;
}

absl::StatusOr<std::string> optional_string(const boost::json::object& o, std::string_view name) {
  auto it = o.find(name);
  if (it == o.end() || it->value().is_null()) return std::string();
  if (!it->value().is_string()) {
    return absl::FailedPreconditionError(absl::StrCat(std::string(name), " must be a string"));
  }
  return std::string(it->value().get_string().data(), it->value().get_string().size());
}

boost::json::array to_json_array(const std::vector<std::string>& values) {
  boost::json::array a;
  for (const std::string& v : values) a.emplace_back(v);
  return a;
}

struct RotationResult {
  absl::Status status;
  std::string kid;
  std::string previous_kid;
};

// Runs on the blocking executor. Parameters by value (coroutine frame lifetime).
boost::asio::awaitable<RotationResult> rotate_blocking(SigningKeyRing* ring, absl::Time now) {
  RotationResult result;
  result.previous_kid = ring->current()->kid();
  absl::StatusOr<std::string> kid = ring->rotate(now);
  if (kid.ok()) {
    result.kid = *kid;
  } else {
    result.status = kid.status();
  }
  co_return result;
}

}  // namespace

OidcHandler::OidcHandler(OidcHandlerOptions options, SigningKeyRing& ring,
                         const ServiceAccountTokenIssuer& issuer, const Clock& clock,
                         boost::asio::any_io_executor blocking_executor)
    : options_(std::move(options)),
      ring_(ring),
      issuer_(issuer),
      clock_(clock),
      blocking_executor_(std::move(blocking_executor)) {
  auto url = boost::urls::parse_uri(options_.issuer_url);
  if (url) {
    issuer_path_ = std::string(url->path());
    while (!issuer_path_.empty() && issuer_path_.back() == '/') issuer_path_.pop_back();
  }
}

std::string OidcHandler::discovery_json(absl::Time now) const {
  boost::json::object doc;
  doc["issuer"] = options_.issuer_url;
  doc["jwks_uri"] = options_.issuer_url + kJwksSuffix;
  doc["response_types_supported"] = boost::json::array{"id_token"};
  doc["subject_types_supported"] = boost::json::array{"public"};
  doc["id_token_signing_alg_values_supported"] = to_json_array(ring_.algorithms(now));
  return boost::json::serialize(doc);
}

bool OidcHandler::authorized(const http::Request& request) const {
  std::optional<std::string_view> header = request.header("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (!header || header->size() <= kBearer.size() || header->substr(0, kBearer.size()) != kBearer ||
      options_.admin_token.empty()) {
    return false;
  }
  std::string_view token = header->substr(kBearer.size());
  // Constant time, so the token cannot be guessed byte by byte from response timing.
  return token.size() == options_.admin_token.size() &&
         CRYPTO_memcmp(token.data(), options_.admin_token.data(), token.size()) == 0;
}

boost::asio::awaitable<http::Response> OidcHandler::handle(http::Request& request) {
  const std::string& path = request.path;
  bool get = request.method() == bhttp::verb::get || request.method() == bhttp::verb::head;
  bool post = request.method() == bhttp::verb::post;

  if (path == issuer_path_ + kDiscoverySuffix || path == issuer_path_ + kJwksSuffix) {
    bool jwks = path == issuer_path_ + kJwksSuffix;
    request.route = jwks ? "oidc.jwks" : "oidc.discovery";
    if (!get) co_return method_not_allowed("GET, HEAD");
    absl::Time now = clock_.now();
    http::Response response =
        jwks ? http::make_response(bhttp::status::ok, "application/jwk-set+json",
                                   ring_.jwks_json(now))
             : http::make_response(bhttp::status::ok, "application/json", discovery_json(now));
    response.set(bhttp::field::cache_control, kCacheControl);
    co_return response;
  }

  std::vector<absl::string_view> segments = absl::StrSplit(to_absl(path), '/');
  bool token_path = segments.size() == 8 && segments[0].empty() && segments[1] == "api" &&
                    segments[2] == "v1" && segments[3] == "namespaces" && !segments[4].empty() &&
                    segments[5] == "serviceaccounts" && !segments[6].empty() &&
                    segments[7] == "token";
  bool review_path = path == kTokenReviewPath;
  bool rotate_path = path == kRotatePath;
  if (!token_path && !review_path && !rotate_path) {
    request.route = "oidc.not_found";
    co_return not_found();
  }
  request.route = token_path    ? "k8s.token_request"
                  : review_path ? "k8s.token_review"
                                : "wims.rotate_keys";
  if (!post) co_return method_not_allowed("POST");
  if (!authorized(request)) co_return kube_status(401, "Unauthorized", "Unauthorized");
  if (token_path) co_return token_request(request, to_std(segments[4]), to_std(segments[6]));
  if (review_path) co_return token_review(request);
  co_return co_await rotate();
}

http::Response OidcHandler::token_request(const http::Request& request, std::string_view ns,
                                          std::string_view name) const {
  absl::StatusOr<boost::json::object> body = parse_body(request, "TokenRequest");
  if (!body.ok()) return kube_error(body.status());
  TokenRequestSpec spec;
  spec.namespace_name = std::string(ns);
  spec.service_account = std::string(name);
  static const boost::json::object kEmpty;
  const boost::json::object* spec_json = object_member(*body, "spec");
  if (spec_json == nullptr) spec_json = &kEmpty;
  absl::StatusOr<std::vector<std::string>> audiences = string_array(*spec_json, "audiences");
  if (!audiences.ok()) return kube_error(audiences.status());
  spec.audiences = *std::move(audiences);
  if (auto it = spec_json->find("expirationSeconds");
      it != spec_json->end() && !it->value().is_null()) {
    if (!it->value().is_int64()) {
      return kube_error(absl::FailedPreconditionError("spec.expirationSeconds must be an integer"));
    }
    spec.expiration_seconds = it->value().get_int64();
  }
  if (const boost::json::object* ref = object_member(*spec_json, "boundObjectRef");
      ref != nullptr) {
    BoundObjectRef bound;
    absl::StatusOr<std::string> kind = optional_string(*ref, "kind");
    absl::StatusOr<std::string> api_version = optional_string(*ref, "apiVersion");
    absl::StatusOr<std::string> ref_name = optional_string(*ref, "name");
    absl::StatusOr<std::string> uid = optional_string(*ref, "uid");
    for (const auto* field : {&kind, &api_version, &ref_name, &uid}) {
      if (!field->ok()) return kube_error(field->status());
    }
    spec.bound_object_ref = BoundObjectRef{*kind, *api_version, *ref_name, *uid};
  }

  absl::StatusOr<IssuedToken> token = issuer_.issue(spec);
  if (!token.ok()) return kube_error(token.status());

  boost::json::object out_spec;
  out_spec["audiences"] = to_json_array(token->audiences);
  out_spec["expirationSeconds"] = token->expiration_seconds;
  if (spec.bound_object_ref) {
    const BoundObjectRef& r = *spec.bound_object_ref;
    out_spec["boundObjectRef"] = boost::json::object{
        {"kind", r.kind}, {"apiVersion", r.api_version}, {"name", r.name}, {"uid", r.uid}};
  } else {
    out_spec["boundObjectRef"] = nullptr;
  }
  absl::Time created = token->expiration_timestamp - absl::Seconds(token->expiration_seconds);
  boost::json::object out{
      {"kind", "TokenRequest"},
      {"apiVersion", kAuthApiVersion},
      {"metadata", boost::json::object{{"name", name},
                                       {"namespace", ns},
                                       {"creationTimestamp", format_rfc3339_seconds(created)}}},
      {"spec", std::move(out_spec)},
      {"status", boost::json::object{{"token", token->token},
                                     {"expirationTimestamp",
                                      format_rfc3339_seconds(token->expiration_timestamp)}}}};
  return oidc_json(bhttp::status::created, out);
}

http::Response OidcHandler::token_review(const http::Request& request) const {
  absl::StatusOr<boost::json::object> body = parse_body(request, "TokenReview");
  if (!body.ok()) return kube_error(body.status());
  static const boost::json::object kEmpty;
  const boost::json::object* spec = object_member(*body, "spec");
  if (spec == nullptr) spec = &kEmpty;
  absl::StatusOr<std::string> token = optional_string(*spec, "token");
  if (!token.ok()) return kube_error(token.status());
  // pkg/registry/authentication/tokenreview/storage.go.
  if (token->empty())
    return kube_status(400, "BadRequest", "token is required for TokenReview in authentication");
  absl::StatusOr<std::vector<std::string>> audiences = string_array(*spec, "audiences");
  if (!audiences.ok()) return kube_error(audiences.status());

  TokenReviewResult review = issuer_.review(*token, *audiences);
  boost::json::object status;
  boost::json::object user;
  if (review.authenticated) {
    status["authenticated"] = true;
    user["username"] = review.user.username;
    user["uid"] = review.user.uid;
    user["groups"] = to_json_array(review.user.groups);
    boost::json::object extra;
    for (const auto& [key, values] : review.user.extra) extra[key] = to_json_array(values);
    user["extra"] = std::move(extra);
  }
  status["user"] = std::move(user);
  if (review.authenticated) status["audiences"] = to_json_array(review.audiences);
  if (!review.authenticated) status["error"] = review.error;

  boost::json::object out_spec{{"token", *token}};
  if (!audiences->empty()) out_spec["audiences"] = to_json_array(*audiences);
  boost::json::object out{{"kind", "TokenReview"},
                          {"apiVersion", kAuthApiVersion},
                          {"metadata", boost::json::object{{"creationTimestamp", nullptr}}},
                          {"spec", std::move(out_spec)},
                          {"status", std::move(status)}};
  return oidc_json(bhttp::status::created, out);
}

boost::asio::awaitable<http::Response> OidcHandler::rotate() {
  // Key generation and SQLite writes block: run them on the blocking pool; co_await resumes here,
  // on the worker that owns the connection.
  RotationResult result = co_await boost::asio::co_spawn(
      blocking_executor_, rotate_blocking(&ring_, clock_.now()), boost::asio::use_awaitable);
  if (!result.status.ok()) co_return kube_error(result.status);
  co_return oidc_json(bhttp::status::ok, boost::json::object{{"kid", result.kid},
                                                             {"previousKid", result.previous_kid}});
}

}  // namespace wims::cloud
