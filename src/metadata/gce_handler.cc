#include "metadata/gce_handler.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/url/encoding_opts.hpp>
#include <boost/url/params_view.hpp>
#include <boost/url/parse_query.hpp>
#include <chrono>
#include <optional>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "common/strings.h"
#include "metadata/gce_response.h"

namespace wims::metadata {

namespace gce_internal {

// The decoded query parameters, in order. Decoded as clients encode them ('+' is a space), like
// Go's url.ParseQuery on real GCE; the first occurrence of a name wins.
struct Query {
  std::vector<std::pair<std::string, std::string>> params;

  std::optional<std::string> get(std::string_view name) const {
    for (const auto& [key, value] : params) {
      if (key == name) return value;
    }
    return std::nullopt;
  }
  // `name=true` in any letter case (GCE accepts `licenses=TRUE`).
  bool flag(std::string_view name) const {
    std::optional<std::string> value = get(name);
    return value && absl::EqualsIgnoreCase(*value, "true");
  }
};

struct Identity {
  broker::Caller caller;
  std::string email;
};

}  // namespace gce_internal

namespace {

namespace bh = boost::beast::http;
using gce_internal::Identity;
using gce_internal::Query;

constexpr std::string_view kComputeMetadata = "/computeMetadata";
constexpr std::string_view kV1 = "/computeMetadata/v1";
constexpr char kDefaultHost[] = "metadata.google.internal";

absl::StatusOr<Query> parse_query(std::string_view raw) {
  Query query;
  if (raw.empty()) return query;
  // NUL-terminated copy: Boost.URL 1.81's compiled parse_query reads its input with strlen (ASan).
  const std::string owned(raw);
  auto parsed = boost::urls::parse_query(boost::urls::string_view(owned.data(), owned.size()));
  if (!parsed) return absl::InvalidArgumentError("the query string is not valid");
  boost::urls::encoding_opts opts;
  opts.space_as_plus = true;
  for (auto param : *parsed) {
    query.params.emplace_back(param.key.decode(opts),
                              param.has_value ? param.value.decode(opts) : "");
  }
  return query;
}

// One node of the metadata tree. Rebuilt per request from the World snapshot and the caller: it is
// small (two dozen nodes) and caller-dependent under service-accounts/.
struct Node {
  enum class Kind { kDirectory, kText, kNumber, kList, kToken, kIdentity };
  std::string name;
  Kind kind = Kind::kText;
  std::string value;               // kText, kNumber (decimal digits)
  std::vector<std::string> items;  // kList
  std::vector<Node> children;      // kDirectory, sorted by name as GCE lists them
  bool verbatim_keys =
      false;  // kDirectory: recursive JSON keys are child names (attributes, emails)
};

Node directory(std::string name, std::vector<Node> children, bool verbatim_keys = false) {
  std::sort(children.begin(), children.end(),
            [](const Node& a, const Node& b) { return a.name < b.name; });
  Node node{std::move(name), Node::Kind::kDirectory, {}, {}, std::move(children), verbatim_keys};
  return node;
}
Node leaf(std::string name, Node::Kind kind, std::string value = {},
          std::vector<std::string> items = {}) {
  return Node{std::move(name), kind, std::move(value), std::move(items), {}, false};
}

Node service_account_directory(std::string name, const Identity& identity,
                               const GceMetadataOptions& options) {
  return directory(
      std::move(name),
      {leaf("aliases", Node::Kind::kList, {}, {"default"}),
       leaf("email", Node::Kind::kText, identity.email), leaf("identity", Node::Kind::kIdentity),
       leaf("scopes", Node::Kind::kList, {}, options.scopes), leaf("token", Node::Kind::kToken)});
}

Node build_tree(const config::World& world, const Identity& identity,
                const GceMetadataOptions& options) {
  const std::string number = std::to_string(world.project.number);
  std::vector<Node> accounts;
  accounts.push_back(service_account_directory("default", identity, options));
  // A principal:// email has slashes and cannot be a path segment; such a caller is reachable as
  // default/.
  if (identity.email != "default" && identity.email.find('/') == std::string::npos) {
    accounts.push_back(service_account_directory(identity.email, identity, options));
  }
  std::vector<Node> instance;
  instance.push_back(directory("attributes",
                               {leaf("cluster-location", Node::Kind::kText, world.cluster.location),
                                leaf("cluster-name", Node::Kind::kText, world.cluster.name),
                                leaf("cluster-uid", Node::Kind::kText, world.cluster.uid)},
                               /*verbatim_keys=*/true));
  instance.push_back(leaf("hostname", Node::Kind::kText,
                          world.node.hostname.empty()
                              ? world.node.name + ".c." + world.project.id + ".internal"
                              : world.node.hostname));
  instance.push_back(leaf("id", Node::Kind::kNumber, std::to_string(world.node.id)));
  if (!world.node.machine_type.empty()) {
    instance.push_back(leaf("machine-type", Node::Kind::kText,
                            "projects/" + number + "/machineTypes/" + world.node.machine_type));
  }
  instance.push_back(directory("service-accounts", std::move(accounts), /*verbatim_keys=*/true));
  instance.push_back(
      leaf("zone", Node::Kind::kText, "projects/" + number + "/zones/" + world.node.zone));

  return directory(
      "v1", {directory("instance", std::move(instance)),
             directory("project", {leaf("numeric-project-id", Node::Kind::kNumber, number),
                                   leaf("project-id", Node::Kind::kText, world.project.id)}),
             directory("universe",
                       {leaf("universe-domain", Node::Kind::kText, options.universe_domain)})});
}

const Node* find(const Node& root, const std::vector<std::string_view>& segments) {
  const Node* node = &root;
  for (std::string_view segment : segments) {
    if (node->kind != Node::Kind::kDirectory) return nullptr;
    const Node* next = nullptr;
    for (const Node& child : node->children) {
      if (child.name == segment) next = &child;
    }
    if (next == nullptr) return nullptr;
    node = next;
  }
  return node;
}

bool is_credential(const Node& node) {
  return node.kind == Node::Kind::kToken || node.kind == Node::Kind::kIdentity;
}

// "numeric-project-id" -> "numericProjectId": the fixed keys of recursive JSON.
std::string camel_case(std::string_view kebab) {
  std::string out;
  bool upper = false;
  for (char c : kebab) {
    if (c == '-') {
      upper = true;
    } else {
      out += upper ? absl::ascii_toupper(static_cast<unsigned char>(c)) : c;
      upper = false;
    }
  }
  return out;
}

boost::json::value number_json(const std::string& digits) {
  uint64_t value = 0;
  if (absl::SimpleAtoi(digits, &value)) return value;
  return boost::json::string(digits);  // unreachable for the numbers the tree holds
}

boost::json::value to_json(const Node& node) {
  switch (node.kind) {
    case Node::Kind::kDirectory: {
      boost::json::object object;
      for (const Node& child : node.children) {
        if (is_credential(child)) continue;
        object[node.verbatim_keys ? child.name : camel_case(child.name)] = to_json(child);
      }
      return object;
    }
    case Node::Kind::kNumber:
      return number_json(node.value);
    case Node::Kind::kList: {
      boost::json::array array;
      for (const std::string& item : node.items) array.emplace_back(item);
      return array;
    }
    default:
      return boost::json::string(node.value);
  }
}

// `recursive=true&alt=text`: one `relative/path value` line per leaf value.
void append_text_lines(const Node& node, const std::string& prefix, std::string& out) {
  for (const Node& child : node.children) {
    if (is_credential(child)) continue;
    const std::string path = prefix.empty() ? child.name : prefix + "/" + child.name;
    switch (child.kind) {
      case Node::Kind::kDirectory:
        append_text_lines(child, path, out);
        break;
      case Node::Kind::kList:
        for (const std::string& item : child.items) out += path + " " + item + "\n";
        break;
      default:
        out += path + " " + child.value + "\n";
    }
  }
}

struct Rendered {
  std::string content_type;
  std::string body;
};

// The representation of a value node (not token/identity) for the query's recursive/alt.
absl::StatusOr<Rendered> render(const Node& node, const Query& query) {
  std::optional<std::string> alt = query.get("alt");
  if (alt && *alt != "json" && *alt != "text") {
    return absl::InvalidArgumentError("alt must be json or text");
  }
  const bool json = alt && *alt == "json";
  const bool text = alt && *alt == "text";
  if (node.kind == Node::Kind::kDirectory) {
    if (query.flag("recursive")) {
      if (text) {
        std::string out;
        append_text_lines(node, "", out);
        return Rendered{kGceTextContentType, std::move(out)};
      }
      return Rendered{kGceJsonContentType, boost::json::serialize(to_json(node))};
    }
    if (text) return absl::InvalidArgumentError("alt=text requires recursive=true on a directory");
    std::vector<std::string> names;
    for (const Node& child : node.children) {
      names.push_back(child.kind == Node::Kind::kDirectory ? child.name + "/" : child.name);
    }
    if (json) {
      boost::json::array array;
      for (const std::string& name : names) array.emplace_back(name);
      return Rendered{kGceJsonContentType, boost::json::serialize(array)};
    }
    std::string out;
    for (const std::string& name : names) out += name + "\n";
    return Rendered{kGceTextContentType, std::move(out)};
  }
  if (json) return Rendered{kGceJsonContentType, boost::json::serialize(to_json(node))};
  if (node.kind == Node::Kind::kList) {
    std::string out;
    for (const std::string& item : node.items) out += item + "\n";
    return Rendered{kGceTextContentType, std::move(out)};
  }
  return Rendered{kGceTextContentType, node.value};
}

// The path below /computeMetadata/v1 split into segments; `trailing_slash` when it ends in '/'.
struct Target {
  std::vector<std::string_view> segments;
  bool trailing_slash = false;
};

Target split_target(std::string_view rest) {  // rest starts with '/'
  Target target;
  rest.remove_prefix(1);
  if (!rest.empty() && rest.back() == '/') {
    target.trailing_slash = true;
    rest.remove_suffix(1);
  } else if (rest.empty()) {
    target.trailing_slash = true;
  }
  if (rest.empty()) return target;
  for (absl::string_view part : absl::StrSplit(to_absl(rest), '/'))
    target.segments.push_back(to_std(part));
  return target;
}

http::Response redirect_to_directory(const http::Request& request) {
  std::optional<std::string_view> host = request.header("Host");
  std::string location =
      "http://" + std::string(host && !host->empty() ? *host : kDefaultHost) + request.path + "/";
  if (!request.query.empty()) location += "?" + request.query;
  return gce_redirect(location, request.path + "/\n");
}

absl::StatusOr<std::chrono::steady_clock::duration> wait_timeout(const Query& query,
                                                                 absl::Duration cap) {
  absl::Duration timeout = cap;
  if (std::optional<std::string> text = query.get("timeout_sec")) {
    int64_t seconds = 0;
    if (!absl::SimpleAtoi(*text, &seconds) || seconds < 0) {
      return absl::InvalidArgumentError("timeout_sec must be a non-negative integer");
    }
    timeout = std::min(absl::Seconds(seconds), cap);
  }
  return absl::ToChronoNanoseconds(timeout);
}

}  // namespace

GceMetadataOptions GceMetadataOptions::from_world(const config::World& world) {
  GceMetadataOptions options;
  options.unknown_caller = world.metadata.unknown_caller;
  options.node_service_account = world.metadata.node_service_account;
  return options;
}

std::string gce_service_account_email(const broker::Caller& caller) {
  if (caller.google_service_account && !caller.google_service_account->empty()) {
    return *caller.google_service_account;
  }
  const iam::WorkloadIdentity& w = caller.workload;
  if (caller.return_principal_id_as_email) {
    return fmt::format(
        "principal://iam.googleapis.com/projects/{}/locations/global/workloadIdentityPools/{}/"
        "subject/ns/{}/"
        "sa/{}",
        w.project_number, w.pool, w.namespace_name, w.service_account);
  }
  return w.pool;
}

broker::Caller node_caller(const config::World& world, const std::string& node_service_account) {
  broker::Caller caller;
  caller.pod.name = world.node.name;
  caller.pod.host_network = true;
  caller.pod.service_account_name.clear();
  caller.workload.project_number = world.project.number;
  caller.workload.pool = world.workload_identity_pool();
  caller.workload.cluster_url = world.cluster_resource_url();
  caller.google_service_account =
      node_service_account.empty()
          ? std::to_string(world.project.number) + "-compute@developer.gserviceaccount.com"
          : node_service_account;
  return caller;
}

GceMetadataHandler::GceMetadataHandler(std::shared_ptr<const config::World> world,
                                       const CallerResolver& resolver,
                                       broker::GoogleCredentials& credentials, const Clock& clock,
                                       GceMetadataOptions options)
    : world_(std::move(world)),
      resolver_(resolver),
      credentials_(credentials),
      clock_(clock),
      options_(std::move(options)),
      notifier_(options_.max_waiters) {}

void GceMetadataHandler::update_world(std::shared_ptr<const config::World> world) {
  world_.store(std::move(world));
  notifier_.notify_all();
}

void GceMetadataHandler::stop() { notifier_.stop(); }

absl::StatusOr<GceMetadataHandler::Identity> GceMetadataHandler::identify(
    absl::StatusOr<broker::Caller> caller, const config::World& world) const {
  if (caller.ok()) {
    std::string email = gce_service_account_email(*caller);
    return Identity{*std::move(caller), std::move(email)};
  }
  const absl::StatusCode code = caller.status().code();
  if (code != absl::StatusCode::kNotFound && code != absl::StatusCode::kFailedPrecondition) {
    return caller.status();
  }
  if (options_.unknown_caller == config::UnknownCallerPolicy::kNodeIdentity) {
    broker::Caller node = node_caller(world, options_.node_service_account);
    std::string email = gce_service_account_email(node);
    return Identity{std::move(node), std::move(email)};
  }
  // NotFound would read as "not on GCE" to clients; the caller is refused, so 403 with the reason.
  return absl::PermissionDeniedError(fmt::format(
      "{}; this metadata server answers only the pods of its node (unknown-caller policy: deny).",
      to_std(caller.status().message())));
}

boost::asio::awaitable<http::Response> GceMetadataHandler::handle(http::Request& request) {
  const std::string& path = request.path;
  request.route = "gce.rejected";
  if (request.method() != bh::verb::get && request.method() != bh::verb::head) {
    co_return gce_method_not_allowed(path);
  }
  // A proxied request may come from anywhere: its peer address says nothing about the caller (SAL).
  if (request.header("X-Forwarded-For")) {
    co_return gce_error(
        absl::PermissionDeniedError("Requests with X-Forwarded-For are not accepted."), path);
  }
  if (path == "/") {
    // Python's google-auth pings `/` and real GCE answers it whatever the Metadata-Flavor header
    // says.
    request.route = "gce.root";
    co_return gce_ok(kGceTextContentType, "0.1/\ncomputeMetadata/\n");
  }
  std::optional<std::string_view> flavor = request.header("Metadata-Flavor");
  if (!flavor || *flavor != "Google") {
    co_return gce_error(absl::PermissionDeniedError(kMissingFlavorMessage), path);
  }
  absl::StatusOr<Query> query = parse_query(request.query);
  if (!query.ok()) co_return gce_error(query.status(), path);

  if (path == kComputeMetadata || path == kV1) {
    request.route = "gce.redirect";
    co_return redirect_to_directory(request);
  }
  if (path == "/computeMetadata/") {
    request.route = "gce.listing";
    co_return gce_ok(kGceTextContentType, "v1/\nv1beta1/\n");
  }
  if (path.starts_with(std::string(kV1) + "/")) {
    co_return co_await serve_v1(request, *query);
  }
  // Includes the disabled legacy `/0.1/` and `/computeMetadata/v1beta1/` endpoints.
  request.route = "gce.not_found";
  co_return gce_error(absl::NotFoundError(""), path);
}

boost::asio::awaitable<http::Response> GceMetadataHandler::serve_v1(http::Request& request,
                                                                    const Query& query) {
  const std::string& path = request.path;
  const Target target = split_target(std::string_view(path).substr(kV1.size()));

  // resolve_async may wait (bounded) for a pod the node's index does not know yet; load the World
  // after it.
  absl::StatusOr<broker::Caller> resolved = co_await resolver_.resolve_async(request.peer);
  std::shared_ptr<const config::World> world = world_.load();
  absl::StatusOr<Identity> identity = identify(std::move(resolved), *world);
  if (!identity.ok()) {
    request.route = "gce.denied";
    co_return gce_error(identity.status(), path);
  }
  const Node tree = build_tree(*world, *identity, options_);
  const Node* node = find(tree, target.segments);
  if (node == nullptr || (node->kind != Node::Kind::kDirectory && target.trailing_slash)) {
    request.route = "gce.not_found";
    co_return gce_error(absl::NotFoundError(""), path);
  }
  if (node->kind == Node::Kind::kDirectory && !target.trailing_slash) {
    request.route = "gce.redirect";
    co_return redirect_to_directory(request);
  }
  const bool wait = query.flag("wait_for_change");
  if (node->kind == Node::Kind::kToken) {
    request.route = "gce.token";
    if (wait)
      co_return gce_error(absl::InvalidArgumentError("wait_for_change is not supported on token"),
                          path);
    co_return co_await serve_token(request, query, identity->caller);
  }
  if (node->kind == Node::Kind::kIdentity) {
    request.route = "gce.identity";
    if (wait) {
      co_return gce_error(
          absl::InvalidArgumentError("wait_for_change is not supported on identity"), path);
    }
    co_return co_await serve_identity(request, query, identity->caller);
  }
  const bool is_directory = node->kind == Node::Kind::kDirectory;
  request.route = !is_directory             ? "gce.value"
                  : query.flag("recursive") ? "gce.recursive"
                                            : "gce.listing";
  if (wait && is_directory && !query.flag("recursive")) {
    co_return gce_error(
        absl::InvalidArgumentError("wait_for_change requires recursive=true on a directory"), path);
  }
  absl::StatusOr<Rendered> rendered = render(*node, query);
  if (!rendered.ok()) co_return gce_error(rendered.status(), path);
  if (!wait) co_return gce_ok(rendered->content_type, std::move(rendered->body));

  absl::StatusOr<std::chrono::steady_clock::duration> timeout =
      wait_timeout(query, options_.max_wait);
  if (!timeout.ok()) co_return gce_error(timeout.status(), path);
  const auto deadline = std::chrono::steady_clock::now() + *timeout;
  // Without last_etag the client waits for the next change of what it sees now.
  const std::string baseline = query.get("last_etag").value_or(gce_etag(rendered->body));
  for (;;) {
    if (gce_etag(rendered->body) != baseline || notifier_.stopped() ||
        std::chrono::steady_clock::now() >= deadline) {
      co_return gce_ok(rendered->content_type, std::move(rendered->body));
    }
    // Read before recomputing the value, so a change in between ends the wait at once.
    const uint64_t generation = notifier_.generation();
    absl::Status waited =
        co_await notifier_.wait(generation, deadline - std::chrono::steady_clock::now());
    if (!waited.ok()) co_return gce_error(waited, path);

    resolved = co_await resolver_.resolve_async(request.peer);
    world = world_.load();
    identity = identify(std::move(resolved), *world);
    if (!identity.ok()) co_return gce_error(identity.status(), path);
    const Node next_tree = build_tree(*world, *identity, options_);
    const Node* next = find(next_tree, target.segments);
    if (next == nullptr || (next->kind == Node::Kind::kDirectory) != is_directory) {
      co_return gce_error(absl::NotFoundError(""), path);
    }
    rendered = render(*next, query);
    if (!rendered.ok()) co_return gce_error(rendered.status(), path);
  }
}

boost::asio::awaitable<http::Response> GceMetadataHandler::serve_token(
    http::Request& request, const Query& query, const broker::Caller& caller) {
  std::vector<std::string> scopes;
  if (std::optional<std::string> list = query.get("scopes")) {
    for (absl::string_view scope : absl::StrSplit(*list, ',', absl::SkipWhitespace())) {
      scopes.emplace_back(absl::StripAsciiWhitespace(scope));
    }
  }
  absl::StatusOr<broker::AccessToken> token =
      co_await credentials_.access_token(caller, std::move(scopes));
  if (!token.ok()) co_return gce_error(token.status(), request.path);
  // Clients refresh on `expires_in`, an integer of whole seconds left (google-auth, gcp-metadata).
  const int64_t expires_in = absl::ToInt64Seconds(token->expiry - clock_.now());
  if (expires_in <= 0) {
    co_return gce_error(absl::UnavailableError("the credential broker returned an expired token"),
                        request.path);
  }
  boost::json::object body;
  body["access_token"] = token->token;
  body["expires_in"] = expires_in;
  body["token_type"] = "Bearer";
  co_return gce_ok(kGceJsonContentType, boost::json::serialize(body));
}

boost::asio::awaitable<http::Response> GceMetadataHandler::serve_identity(
    http::Request& request, const Query& query, const broker::Caller& caller) {
  broker::IdTokenOptions options;
  options.audience = query.get("audience").value_or("");
  if (options.audience.empty()) {
    co_return gce_error(absl::InvalidArgumentError("non-empty audience parameter required"),
                        request.path);
  }
  const std::string format = query.get("format").value_or("standard");
  if (format != "standard" && format != "full") {
    co_return gce_error(absl::InvalidArgumentError("format must be standard or full"),
                        request.path);
  }
  options.full_format = format == "full";
  options.include_licenses = query.flag("licenses");
  absl::StatusOr<std::string> jwt = co_await credentials_.id_token(caller, std::move(options));
  if (!jwt.ok()) co_return gce_error(jwt.status(), request.path);
  co_return gce_ok(kGceTextContentType, *std::move(jwt));
}

}  // namespace wims::metadata
