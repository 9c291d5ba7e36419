#include "cloud/iam_policy_handler.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "absl/strings/str_split.h"
#include "cloud/google_error.h"
#include "cloud/google_json.h"
#include "common/strings.h"
#include "fmt/format.h"

namespace wims::cloud {
namespace {

namespace bhttp = boost::beast::http;

constexpr std::string_view kRestPrefix = "/v1/projects/";
constexpr std::string_view kStoragePrefix = "/storage/v1/b/";
// Resource Manager's denial (and its answer for a project that does not exist, so that existence
// does not leak).
constexpr char kCallerDenied[] = "The caller does not have permission";

http::Response method_not_allowed(std::string_view allow) {
  http::Response response = google_error(
      absl::InvalidArgumentError(fmt::format("HTTP method not allowed here; use {}.", allow)));
  response.result(bhttp::status::method_not_allowed);
  response.set(bhttp::field::allow, allow);
  return response;
}

absl::StatusOr<int> requested_version(std::optional<int64_t> version) {
  if (!version) return 1;
  if (*version == 0 || *version == 1 || *version == 3)
    return static_cast<int>(*version == 0 ? 1 : *version);
  return absl::InvalidArgumentError(
      fmt::format("Invalid requested policy version {}; valid values are 0, 1 and 3.", *version));
}

// The version of options.requestedPolicyVersion in a getIamPolicy body or query.
absl::StatusOr<int> rest_requested_version(const http::Request& request,
                                           const boost::json::object& body) {
  auto options = body.find("options");
  if (options != body.end() && !options->value().is_null()) {
    if (!options->value().is_object()) {
      return absl::InvalidArgumentError(
          "Invalid value at 'options' (type.googleapis.com/google.iam.v1.GetPolicyOptions)");
    }
    absl::StatusOr<std::optional<int64_t>> v =
        optional_int_field(options->value().get_object(), "requestedPolicyVersion");
    if (!v.ok()) return v.status();
    return requested_version(*v);
  }
  if (std::optional<std::string> q = request.query_param("options.requestedPolicyVersion")) {
    boost::json::object o{{"requestedPolicyVersion", *q}};
    absl::StatusOr<std::optional<int64_t>> v = optional_int_field(o, "requestedPolicyVersion");
    if (!v.ok()) return v.status();
    return requested_version(*v);
  }
  return 1;
}

absl::Status check_permission_names(const std::vector<std::string>& permissions) {
  if (permissions.size() > IamPolicyHandler::kMaxTestedPermissions) {
    return absl::InvalidArgumentError(
        fmt::format("The number of permissions ({}) exceeds the limit of {}.", permissions.size(),
                    IamPolicyHandler::kMaxTestedPermissions));
  }
  for (const std::string& p : permissions) {
    if (p.find('*') != std::string::npos) {
      return absl::InvalidArgumentError(fmt::format(
          "Permissions ('{}') with wildcards (*) are not allowed in testIamPermissions calls.", p));
    }
    if (p.empty() || std::count(p.begin(), p.end(), '.') < 2) {
      return absl::InvalidArgumentError(fmt::format("Permission '{}' is not valid.", p));
    }
  }
  return absl::OkStatus();
}

boost::json::array to_array(const std::vector<std::string>& values) {
  boost::json::array a;
  for (const std::string& v : values) a.emplace_back(v);
  return a;
}

using StoredPolicy = absl::StatusOr<std::shared_ptr<const iam::AllowPolicy>>;

// Runs on the blocking executor (SQLite). Parameters by value: they live in the coroutine frame.
boost::asio::awaitable<StoredPolicy> set_policy_blocking(GooglePolicyStore* policies,
                                                         std::string resource,
                                                         iam::AllowPolicy policy) {
  co_return policies->set_policy(resource, std::move(policy));
}

}  // namespace

struct IamPolicyHandler::Target {
  Api api = Api::kResourceManager;
  std::string resource;           // the policy key
  std::string permission_prefix;  // "resourcemanager.projects."
  iam::ResourceRef ref;
};

IamPolicyHandler::IamPolicyHandler(GooglePolicyStore& policies, const CallerAuth& auth,
                                   const Clock& clock,
                                   boost::asio::any_io_executor blocking_executor)
    : policies_(policies),
      auth_(auth),
      authorizer_(clock),
      blocking_executor_(std::move(blocking_executor)) {}

bool IamPolicyHandler::is_storage_iam_path(std::string_view path) {
  if (!path.starts_with(kStoragePrefix)) return false;
  std::vector<absl::string_view> parts =
      absl::StrSplit(to_absl(path.substr(kStoragePrefix.size())), '/');
  return (parts.size() == 2 && !parts[0].empty() && parts[1] == "iam") ||
         (parts.size() == 3 && !parts[0].empty() && parts[1] == "iam" &&
          parts[2] == "testPermissions");
}

boost::asio::awaitable<http::Response> IamPolicyHandler::handle(http::Request& request) {
  if (is_storage_iam_path(request.path)) co_return co_await handle_storage(request);
  if (request.path.starts_with(kRestPrefix)) co_return co_await handle_rest(request);
  request.route = "iam.not_found";
  co_return google_error(absl::NotFoundError("Method not found."));
}

http::Response IamPolicyHandler::denied(const Target& target, const iam::Caller& caller,
                                        std::string_view permission) const {
  switch (target.api) {
    case Api::kResourceManager:
      return google_error(absl::PermissionDeniedError(kCallerDenied));
    case Api::kIam:
      return iam_permission_denied(permission);
    case Api::kStorage:
      break;
  }
  std::string message = fmt::format(
      "{} does not have {} access to the Google Cloud Storage bucket. Permission '{}' denied on "
      "resource (or it may not exist).",
      caller_display_name(caller), permission, permission);
  if (caller.kind() == iam::Caller::Kind::kAnonymous) {
    return storage_error(401, message, "required", /*authorization_header=*/true);
  }
  return storage_error(403, message, "forbidden");
}

http::Response IamPolicyHandler::error(const Target& target, const absl::Status& status) const {
  if (target.api != Api::kStorage) return google_error(status);
  switch (status.code()) {
    case absl::StatusCode::kAborted:
      return storage_error(412, "Precondition Failed", "conditionNotMet");
    case absl::StatusCode::kNotFound:
      return storage_error(404, "The specified bucket does not exist.", "notFound");
    case absl::StatusCode::kInvalidArgument:
      return storage_error(400, to_std(status.message()), "invalid");
    default:
      return storage_error(google_http_code(status.code()), to_std(status.message()),
                           "backendError");
  }
}

boost::asio::awaitable<http::Response> IamPolicyHandler::set_policy(const Target& target,
                                                                    iam::AllowPolicy policy) {
  // SQLite blocks: write on the blocking pool; co_await resumes on the connection's worker.
  StoredPolicy stored = co_await boost::asio::co_spawn(
      blocking_executor_, set_policy_blocking(&policies_, target.resource, std::move(policy)),
      boost::asio::use_awaitable);
  if (!stored.ok()) co_return error(target, stored.status());
  boost::json::object out = (*stored)->to_json_value(3);
  if (target.api == Api::kStorage) {
    out["kind"] = "storage#policy";
    out["resourceId"] = target.resource;
  }
  co_return json_response(out);
}

boost::asio::awaitable<http::Response> IamPolicyHandler::handle_rest(http::Request& request) {
  std::string_view rest = std::string_view(request.path).substr(kRestPrefix.size());
  size_t colon = rest.rfind(':');
  std::string_view name = rest.substr(0, colon);
  std::string_view method = colon == std::string_view::npos ? "" : rest.substr(colon + 1);
  std::vector<absl::string_view> parts = absl::StrSplit(to_absl(name), '/');
  bool project_path = parts.size() == 1 && !parts[0].empty();
  bool sa_path =
      parts.size() == 3 && !parts[0].empty() && parts[1] == "serviceAccounts" && !parts[2].empty();
  bool known_method =
      method == "getIamPolicy" || method == "setIamPolicy" || method == "testIamPermissions";
  if (colon == std::string_view::npos || !known_method || (!project_path && !sa_path)) {
    request.route = "iam.not_found";
    co_return google_error(absl::NotFoundError("Method not found."));
  }
  request.route = fmt::format("{}.{}", project_path ? "resourcemanager" : "iam", method);
  if (request.method() != bhttp::verb::post) co_return method_not_allowed("POST");

  absl::StatusOr<iam::Caller> caller = auth_.authenticate(request);
  if (!caller.ok()) co_return unauthenticated_error();

  Target target;
  if (project_path) {
    target.api = Api::kResourceManager;
    target.permission_prefix = "resourcemanager.projects.";
    std::optional<std::string> resource = policies_.resolve_project(to_std(parts[0]));
    if (!resource) co_return google_error(absl::PermissionDeniedError(kCallerDenied));
    target.resource = *resource;
  } else {
    target.api = Api::kIam;
    target.permission_prefix = "iam.serviceAccounts.";
    std::optional<std::string> resource =
        policies_.resolve_service_account(to_std(parts[0]), to_std(parts[2]));
    if (!resource) {
      co_return google_error(
          absl::NotFoundError(fmt::format("Unknown service account: {}", to_std(parts[2]))));
    }
    target.resource = *resource;
  }
  std::optional<iam::ResourceRef> ref = policies_.resource_ref(target.resource);
  if (!ref) co_return google_error(absl::NotFoundError("Requested entity was not found."));
  target.ref = *std::move(ref);

  absl::StatusOr<boost::json::object> body = parse_json_body(request);
  if (!body.ok()) co_return google_error(body.status());

  if (method == "testIamPermissions") {
    absl::Status known = check_known_fields(*body, {"permissions"});
    if (!known.ok()) co_return google_error(known);
    absl::StatusOr<std::vector<std::string>> permissions = string_list_field(*body, "permissions");
    if (!permissions.ok()) co_return google_error(permissions.status());
    absl::Status names = check_permission_names(*permissions);
    if (!names.ok()) co_return google_error(names);
    std::vector<std::string> granted =
        authorizer_.test_permissions(*caller, *permissions, target.ref);
    boost::json::object out;
    if (!granted.empty()) out["permissions"] = to_array(granted);
    co_return json_response(out);
  }

  if (method == "getIamPolicy") {
    absl::Status known = check_known_fields(*body, {"options"});
    if (!known.ok()) co_return google_error(known);
    absl::StatusOr<int> version = rest_requested_version(request, *body);
    if (!version.ok()) co_return google_error(version.status());
    std::string permission = target.permission_prefix + "getIamPolicy";
    if (!authorizer_.check(*caller, permission, target.ref).allowed) {
      co_return denied(target, *caller, permission);
    }
    co_return json_response(policies_.policy(target.resource)->to_json_value(*version));
  }

  // setIamPolicy
  absl::Status known = check_known_fields(*body, {"policy", "updateMask"});
  if (!known.ok()) co_return google_error(known);
  std::string permission = target.permission_prefix + "setIamPolicy";
  if (!authorizer_.check(*caller, permission, target.ref).allowed) {
    co_return denied(target, *caller, permission);
  }
  auto policy_json = body->find("policy");
  if (policy_json == body->end() || !policy_json->value().is_object()) {
    co_return google_error(absl::InvalidArgumentError(
        "Request contains an invalid argument: 'policy' must be a Policy object."));
  }
  absl::StatusOr<iam::AllowPolicy> policy = iam::AllowPolicy::from_json_value(policy_json->value());
  if (!policy.ok()) co_return google_error(policy.status());
  co_return co_await set_policy(target, *std::move(policy));
}

boost::asio::awaitable<http::Response> IamPolicyHandler::handle_storage(http::Request& request) {
  std::vector<absl::string_view> parts =
      absl::StrSplit(to_absl(std::string_view(request.path).substr(kStoragePrefix.size())), '/');
  std::string bucket(to_std(parts[0]));
  bool test = parts.size() == 3;
  bool get = request.method() == bhttp::verb::get;
  bool put = request.method() == bhttp::verb::put;
  request.route = test  ? "storage.buckets.testIamPermissions"
                  : put ? "storage.buckets.setIamPolicy"
                        : "storage.buckets.getIamPolicy";
  if (test && !get) co_return method_not_allowed("GET");
  if (!test && !get && !put) co_return method_not_allowed("GET, PUT");

  Target target;
  target.api = Api::kStorage;
  target.permission_prefix = "storage.buckets.";
  absl::StatusOr<iam::Caller> caller = auth_.authenticate_or_anonymous(request);
  if (!caller.ok()) co_return storage_error(401, "Invalid Credentials", "authError", true);
  std::optional<iam::ResourceRef> ref = policies_.bucket_ref(bucket);
  if (!ref) co_return error(target, absl::NotFoundError(""));
  target.ref = *std::move(ref);
  target.resource = GooglePolicyStore::bucket_resource(bucket);

  if (test) {
    std::vector<std::string> permissions = query_values(request.query, "permissions");
    if (permissions.empty()) {
      co_return storage_error(400, "Required parameter: permissions", "required");
    }
    absl::Status names = check_permission_names(permissions);
    if (!names.ok()) co_return error(target, names);
    std::vector<std::string> granted =
        authorizer_.test_permissions(*caller, permissions, target.ref);
    boost::json::object out{{"kind", "storage#testIamPermissionsResponse"}};
    if (!granted.empty()) out["permissions"] = to_array(granted);
    co_return json_response(out);
  }

  if (get) {
    absl::StatusOr<int> version = 1;
    if (std::optional<std::string> q = request.query_param("optionsRequestedPolicyVersion")) {
      boost::json::object o{{"optionsRequestedPolicyVersion", *q}};
      absl::StatusOr<std::optional<int64_t>> v =
          optional_int_field(o, "optionsRequestedPolicyVersion");
      version = v.ok() ? requested_version(*v) : absl::StatusOr<int>(v.status());
    }
    if (!version.ok()) co_return error(target, version.status());
    std::string permission = "storage.buckets.getIamPolicy";
    if (!authorizer_.check(*caller, permission, target.ref).allowed) {
      co_return denied(target, *caller, permission);
    }
    boost::json::object out = policies_.policy(target.resource)->to_json_value(*version);
    out["kind"] = "storage#policy";
    out["resourceId"] = target.resource;
    co_return json_response(out);
  }

  std::string permission = "storage.buckets.setIamPolicy";
  if (!authorizer_.check(*caller, permission, target.ref).allowed) {
    co_return denied(target, *caller, permission);
  }
  absl::StatusOr<boost::json::object> body = parse_json_body(request);
  if (!body.ok()) co_return error(target, body.status());
  // GCS echoes its own read-only fields back in a read-modify-write.
  body->erase("kind");
  body->erase("resourceId");
  absl::StatusOr<iam::AllowPolicy> policy = iam::AllowPolicy::from_json_value(*body);
  if (!policy.ok()) co_return error(target, policy.status());
  co_return co_await set_policy(target, *std::move(policy));
}

}  // namespace wims::cloud
