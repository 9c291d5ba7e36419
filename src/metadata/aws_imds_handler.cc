#include "metadata/aws_imds_handler.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <cstdlib>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "common/encoding.h"
#include "metadata/aws_imds_response.h"

namespace wims::metadata {
namespace {

namespace bh = boost::beast::http;

constexpr std::string_view kTokenPath = "/latest/api/token";
constexpr std::string_view kCredentialsDir = "/latest/meta-data/iam/security-credentials";
constexpr char kDefaultRegion[] = "us-east-1";

// `path` is `dir` or `dir/` (IMDS serves directories both ways).
bool is_directory(std::string_view path, std::string_view dir) {
  return path == dir ||
         (path.size() == dir.size() + 1 && path.substr(0, dir.size()) == dir && path.back() == '/');
}

std::string listing(const std::vector<std::string>& entries) {
  std::string out;
  for (const std::string& entry : entries) {
    if (!out.empty()) out += '\n';
    out += entry;
  }
  return out;
}

// 1..21600 in plain decimal digits; anything else (signs, spaces, "abc", "0", "21601") is refused.
std::optional<int64_t> parse_ttl(std::optional<std::string_view> text) {
  if (!text || text->empty() || text->size() > 5) return std::nullopt;
  int64_t value = 0;
  for (char c : *text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (value < 1 || value > kImdsMaxTokenTtlSeconds) return std::nullopt;
  return value;
}

// 17 upper-case hex digits derived from `text`: the stable instance-profile id suffix.
std::string stable_upper_hex(std::string_view text, size_t digits) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    fmt::print(stderr, "wims: EVP_Digest(SHA-256) failed\n");
    std::abort();
  }
  std::string hex = hex_encode(std::string_view(reinterpret_cast<const char*>(digest), length));
  absl::AsciiStrToUpper(&hex);
  return hex.substr(0, digits);
}

std::string region_of(const config::World& world) {
  return world.project.aws_region.empty() ? std::string(kDefaultRegion) : world.project.aws_region;
}

http::Response routed(http::Request& request, const char* route, http::Response response) {
  request.route = route;
  return response;
}

}  // namespace

AwsImdsOptions AwsImdsOptions::from_world(const config::World& world) {
  AwsImdsOptions options;
  options.unknown_caller = world.metadata.unknown_caller;
  return options;
}

std::string aws_instance_id(const config::World& world) {
  return fmt::format("i-{:017x}", world.node.id);
}

AwsImdsHandler::AwsImdsHandler(std::shared_ptr<const config::World> world,
                               const CallerResolver& resolver,
                               broker::AwsCredentialSource& credentials, const Clock& clock,
                               AwsImdsOptions options)
    : world_(std::move(world)),
      resolver_(resolver),
      credentials_(credentials),
      clock_(clock),
      options_(std::move(options)),
      started_(absl::FromUnixSeconds(absl::ToUnixSeconds(clock.now()))) {}

void AwsImdsHandler::update_world(std::shared_ptr<const config::World> world) {
  world_.store(std::move(world));
}

std::string AwsImdsHandler::availability_zone(const config::World& world) const {
  if (!options_.availability_zone.empty()) return options_.availability_zone;
  return region_of(world) + "a";
}

absl::StatusOr<AwsImdsHandler::Identity> AwsImdsHandler::identify(
    const http::Request& request, absl::StatusOr<broker::Caller> caller,
    const config::World& world) const {
  if (caller.ok()) {
    std::string binding = fmt::format("pod\n{}\n{}/{}", caller->pod.uid, caller->pod.namespace_name,
                                      caller->pod.name);
    return Identity{*std::move(caller), std::move(binding)};
  }
  const bool unknown =
      absl::IsNotFound(caller.status()) || absl::IsFailedPrecondition(caller.status());
  if (unknown && options_.unknown_caller == config::UnknownCallerPolicy::kNodeIdentity) {
    broker::Caller node;
    node.pod.name = world.node.name;
    node.pod.host_network = true;
    return Identity{std::move(node), "node\n" + world.node.name};
  }
  return absl::PermissionDeniedError(fmt::format("IMDS refused the caller {}: {}",
                                                 request.peer.to_string(),
                                                 std::string(caller.status().message())));
}

boost::asio::awaitable<http::Response> AwsImdsHandler::issue_token(http::Request& request,
                                                                   const config::World& world) {
  if (request.method() != bh::verb::put) {
    http::Response response = imds_error_page(bh::status::method_not_allowed);
    response.set(bh::field::allow, "PUT");
    co_return routed(request, "imds.rejected", std::move(response));
  }
  if (options_.token_mode == ImdsTokenMode::kDisabled) {
    co_return routed(
        request, "imds.rejected",
        imds_error_page(bh::status::forbidden, "the IMDSv2 token API is disabled on this server"));
  }
  if (request.header("X-Forwarded-For")) {
    co_return routed(
        request, "imds.rejected",
        imds_error_page(bh::status::forbidden, "a token request must not carry X-Forwarded-For"));
  }
  std::optional<int64_t> ttl = parse_ttl(request.header(kImdsTokenTtlHeader));
  if (!ttl) {
    co_return routed(request, "imds.rejected",
                     imds_error_page(bh::status::bad_request,
                                     fmt::format("{} must be an integer from 1 to {}",
                                                 kImdsTokenTtlHeader, kImdsMaxTokenTtlSeconds)));
  }
  absl::StatusOr<broker::Caller> resolved = co_await resolver_.resolve_async(request.peer);
  absl::StatusOr<Identity> identity = identify(request, std::move(resolved), world);
  if (!identity.ok()) {
    co_return routed(
        request, "imds.denied",
        imds_error_page(bh::status::forbidden, std::string(identity.status().message())));
  }
  std::string token = tokens_.issue(identity->binding, clock_.now() + absl::Seconds(*ttl));
  http::Response response = imds_ok(std::move(token));
  response.set(kImdsTokenTtlHeader, std::to_string(*ttl));
  co_return routed(request, "imds.token", std::move(response));
}

boost::asio::awaitable<http::Response> AwsImdsHandler::handle(http::Request& request) {
  std::shared_ptr<const config::World> world = world_.load();
  const std::string& path = request.path;
  if (path == "/latest/api/token/") {
    // Real IMDS: 403 with an empty text/plain body (BEAM47).
    co_return routed(request, "imds.rejected",
                     imds_response(bh::status::forbidden, kImdsTextContentType, ""));
  }
  if (path == kTokenPath) co_return co_await issue_token(request, *world);
  if (request.method() != bh::verb::get && request.method() != bh::verb::head) {
    http::Response response = imds_error_page(bh::status::method_not_allowed);
    response.set(bh::field::allow, "GET, HEAD");
    co_return routed(request, "imds.rejected", std::move(response));
  }
  absl::StatusOr<broker::Caller> resolved = co_await resolver_.resolve_async(request.peer);
  absl::StatusOr<Identity> identity = identify(request, std::move(resolved), *world);
  if (!identity.ok()) {
    co_return routed(
        request, "imds.denied",
        imds_error_page(bh::status::forbidden, std::string(identity.status().message())));
  }
  if (options_.token_mode != ImdsTokenMode::kDisabled) {
    std::optional<std::string_view> token = request.header(kImdsTokenHeader);
    absl::Status valid = absl::OkStatus();
    if (token) {
      valid = tokens_.verify(*token, identity->binding, clock_.now());
    } else if (options_.token_mode == ImdsTokenMode::kRequired) {
      valid = absl::UnauthenticatedError("an IMDSv2 session token is required");
    }
    if (!valid.ok()) {
      co_return routed(request, "imds.unauthorized",
                       imds_error_page(bh::status::unauthorized, std::string(valid.message())));
    }
  }
  co_return co_await serve(request, *world, *identity);
}

boost::asio::awaitable<http::Response> AwsImdsHandler::serve(http::Request& request,
                                                             const config::World& world,
                                                             const Identity& identity) {
  const std::string& path = request.path;
  const broker::Caller& caller = identity.caller;
  const bool has_role = caller.aws_role_arn && !broker::aws_role_name(*caller.aws_role_arn).empty();
  const auto not_found = [&request] {
    return routed(request, "imds.not_found", imds_error_page(bh::status::not_found));
  };

  // Both profiles: the credentials paths.
  if (is_directory(path, kCredentialsDir)) {
    if (!has_role) co_return not_found();
    co_return routed(request, "imds.listing",
                     imds_ok(std::string(broker::aws_role_name(*caller.aws_role_arn))));
  }
  if (path.size() > kCredentialsDir.size() + 1 &&
      path.substr(0, kCredentialsDir.size() + 1) == std::string(kCredentialsDir) + "/") {
    co_return co_await serve_credentials(request, identity);
  }
  if (options_.profile == ImdsProfile::kEmulator) co_return not_found();

  if (is_directory(path, "/latest"))
    co_return routed(request, "imds.listing", imds_ok(listing({"dynamic", "meta-data"})));
  if (is_directory(path, "/latest/meta-data")) {
    std::vector<std::string> entries = {"ami-id"};
    if (has_role) entries.push_back("iam/");
    entries.insert(entries.end(), {"instance-id", "instance-type", "placement/"});
    co_return routed(request, "imds.listing", imds_ok(listing(entries)));
  }
  if (path == "/latest/meta-data/ami-id")
    co_return routed(request, "imds.value", imds_ok(options_.image_id));
  if (path == "/latest/meta-data/instance-id")
    co_return routed(request, "imds.value", imds_ok(aws_instance_id(world)));
  if (path == "/latest/meta-data/instance-type") {
    co_return routed(request, "imds.value", imds_ok(options_.instance_type));
  }
  if (is_directory(path, "/latest/meta-data/placement")) {
    co_return routed(request, "imds.listing", imds_ok(listing({"availability-zone", "region"})));
  }
  // botocore asks for the zone with a trailing slash; accept both.
  if (is_directory(path, "/latest/meta-data/placement/availability-zone")) {
    co_return routed(request, "imds.value", imds_ok(availability_zone(world)));
  }
  if (path == "/latest/meta-data/placement/region")
    co_return routed(request, "imds.value", imds_ok(region_of(world)));
  if (is_directory(path, "/latest/meta-data/iam")) {
    if (!has_role) co_return not_found();
    co_return routed(request, "imds.listing", imds_ok(listing({"info", "security-credentials/"})));
  }
  if (path == "/latest/meta-data/iam/info") {
    if (!has_role) co_return not_found();
    const std::string_view role_arn = *caller.aws_role_arn;
    std::string account(broker::aws_arn_account(role_arn));
    if (account.empty()) account = world.project.aws_account_id;
    const std::string_view name = broker::aws_role_name(role_arn);
    co_return routed(request, "imds.value",
                     imds_ok(imds_pretty_json({
                         {"Code", "Success"},
                         {"LastUpdated", format_rfc3339_seconds(started_)},
                         {"InstanceProfileArn",
                          fmt::format("arn:aws:iam::{}:instance-profile/{}", account, name)},
                         {"InstanceProfileId", "AIPA" + stable_upper_hex(role_arn, 17)},
                     })));
  }
  if (is_directory(path, "/latest/dynamic"))
    co_return routed(request, "imds.listing", imds_ok("instance-identity/"));
  if (is_directory(path, "/latest/dynamic/instance-identity")) {
    co_return routed(request, "imds.listing", imds_ok("document"));
  }
  if (path == "/latest/dynamic/instance-identity/document") {
    co_return routed(request, "imds.value",
                     imds_ok(imds_pretty_json({
                         {"accountId", world.project.aws_account_id},
                         {"architecture", options_.architecture},
                         {"availabilityZone", availability_zone(world)},
                         {"billingProducts", std::nullopt},
                         {"devpayProductCodes", std::nullopt},
                         {"marketplaceProductCodes", std::nullopt},
                         {"imageId", options_.image_id},
                         {"instanceId", aws_instance_id(world)},
                         {"instanceType", options_.instance_type},
                         {"kernelId", std::nullopt},
                         {"pendingTime", format_rfc3339_seconds(started_)},
                         {"privateIp", request.peer.to_string()},
                         {"ramdiskId", std::nullopt},
                         {"region", region_of(world)},
                         {"version", "2017-09-30"},
                     })));
  }
  co_return not_found();
}

boost::asio::awaitable<http::Response> AwsImdsHandler::serve_credentials(http::Request& request,
                                                                         const Identity& identity) {
  const broker::Caller& caller = identity.caller;
  const std::string_view role = std::string_view(request.path).substr(kCredentialsDir.size() + 1);
  if (!caller.aws_role_arn || broker::aws_role_name(*caller.aws_role_arn).empty() ||
      role != broker::aws_role_name(*caller.aws_role_arn)) {
    co_return routed(request, "imds.not_found", imds_error_page(bh::status::not_found));
  }
  absl::StatusOr<broker::AwsCredentials> credentials = co_await credentials_.credentials(caller);
  if (!credentials.ok())
    co_return routed(request, "imds.credentials", imds_error(credentials.status()));
  co_return routed(request, "imds.credentials",
                   imds_ok(imds_pretty_json({
                       {"Code", "Success"},
                       {"LastUpdated", format_rfc3339_seconds(credentials->last_updated)},
                       {"Type", "AWS-HMAC"},
                       {"AccessKeyId", credentials->access_key_id},
                       {"SecretAccessKey", credentials->secret_access_key},
                       {"Token", credentials->session_token},
                       {"Expiration", format_rfc3339_seconds(credentials->expiration)},
                   })));
}

}  // namespace wims::metadata
