#include "kube/api_client.h"

#include <openssl/ssl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <charconv>
#include <chrono>

#include "common/encoding.h"
#include "common/json_members.h"
#include "common/status_macros.h"
#include "fmt/format.h"

namespace wims::kube {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace json = boost::json;
using asio::ip::tcp;
using http::beast_http::verb;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
// A failed watch's error body is read up to this size for its message.
constexpr size_t kMaxErrorBody = 64 << 10;

std::string metadata_string(const json::object& object, std::string_view key) {
  auto it = object.find("metadata");
  if (it == object.end() || !it->value().is_object()) return {};
  return string_member(it->value().get_object(), key);
}

absl::Status status_for_http(int code, std::string message) {
  switch (code) {
    case 400:
    case 422:
      return absl::InvalidArgumentError(std::move(message));
    case 401:
      return absl::UnauthenticatedError(std::move(message));
    case 403:
      return absl::PermissionDeniedError(std::move(message));
    case 404:
      return absl::NotFoundError(std::move(message));
    case 409:
      return absl::AlreadyExistsError(std::move(message));
    case 410:
      return absl::OutOfRangeError(std::move(message));
    case 429:
      return absl::ResourceExhaustedError(std::move(message));
    default:
      if (code >= 500) return absl::UnavailableError(std::move(message));
      return absl::UnknownError(std::move(message));
  }
}

absl::Status error_from_response(const http::Response& response, std::string_view what) {
  const int code = static_cast<int>(response.result_int());
  std::string detail;
  json::error_code ec;
  json::value body = json::parse(response.body(), ec);
  if (!ec && body.is_object()) {
    detail = string_member(body.get_object(), "message");
    if (std::string reason = string_member(body.get_object(), "reason"); !reason.empty()) {
      detail = fmt::format("{} ({})", detail, reason);
    }
  }
  if (detail.empty()) detail = response.body().substr(0, 200);
  return status_for_http(code, fmt::format("Kubernetes API {}: HTTP {}: {}", what, code, detail));
}

absl::StatusOr<json::object> parse_object(std::string_view text, std::string_view what) {
  json::error_code ec;
  json::value value = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec || !value.is_object()) {
    return absl::InternalError(fmt::format("Kubernetes API {}: malformed JSON answer", what));
  }
  return std::move(value.get_object());
}

// path + the query from `params` (percent-encoded by Boost.URL).
std::string make_target(const std::string& path,
                        const std::vector<std::pair<std::string, std::string>>& params) {
  boost::urls::url url;
  url.set_path(path);
  for (const auto& [key, value] : params) url.params().append({key, value});
  return std::string(url.buffer());
}

struct Endpoint {
  bool https = false;
  std::string host;  // no brackets
  bool ip_literal = false;
  std::string port;
  std::string host_header;
  std::string base_path;  // server path prefix, no trailing slash
};

absl::StatusOr<Endpoint> parse_server(const std::string& server) {
  auto url =
      boost::urls::parse_absolute_uri(boost::urls::string_view(server.data(), server.size()));
  if (!url) return absl::InvalidArgumentError(fmt::format("invalid API server URL '{}'", server));
  Endpoint endpoint;
  endpoint.https = url->scheme_id() == boost::urls::scheme::https;
  switch (url->host_type()) {
    case boost::urls::host_type::ipv4:
      endpoint.host = url->host_ipv4_address().to_string();
      endpoint.ip_literal = true;
      break;
    case boost::urls::host_type::ipv6:
      endpoint.host = url->host_ipv6_address().to_string();
      endpoint.ip_literal = true;
      break;
    default:
      endpoint.host = url->host_name();
  }
  endpoint.port = url->has_port() ? std::string(url->port()) : (endpoint.https ? "443" : "80");
  endpoint.host_header = std::string(url->encoded_host_and_port());
  endpoint.base_path = std::string(url->encoded_path());
  while (!endpoint.base_path.empty() && endpoint.base_path.back() == '/')
    endpoint.base_path.pop_back();
  return endpoint;
}

absl::Status transport_error(std::string_view what, const Endpoint& endpoint,
                             const beast::error_code& ec) {
  return absl::UnavailableError(
      fmt::format("Kubernetes API watch: {} {}:{}: {}", what, endpoint.host, endpoint.port,
                  ec == beast::error::timeout ? "timed out" : ec.message()));
}

std::chrono::steady_clock::duration chrono(absl::Duration d) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      absl::ToChronoNanoseconds(d));
}

template <class Stream>
class WatchStreamImpl final : public WatchStream {
 public:
  WatchStreamImpl(Stream stream, Endpoint endpoint, absl::Duration idle, size_t max_event_bytes)
      : stream_(std::move(stream)),
        endpoint_(std::move(endpoint)),
        idle_(idle),
        max_event_bytes_(max_event_bytes) {
    parser_.body_limit(boost::none);  // a watch is unbounded; each event is bounded instead
  }

  // Sends the request and reads the response header; an error for anything but 200.
  asio::awaitable<absl::Status> start(http::RawRequest request, absl::Duration timeout) {
    beast::get_lowest_layer(stream_).expires_after(chrono(timeout));
    auto [write_ec, written] = co_await http::beast_http::async_write(stream_, request, kNoThrow);
    if (write_ec) co_return transport_error("sending the request to", endpoint_, write_ec);
    auto [read_ec, read] =
        co_await http::beast_http::async_read_header(stream_, buffer_, parser_, kNoThrow);
    if (read_ec) co_return transport_error("reading the answer of", endpoint_, read_ec);
    const int code = static_cast<int>(parser_.get().result_int());
    if (code == 200) co_return absl::OkStatus();
    // Read the (small) error body for its Status message.
    std::string body;
    char chunk[4096];
    while (!parser_.is_done() && body.size() < kMaxErrorBody) {
      parser_.get().body().data = chunk;
      parser_.get().body().size = sizeof(chunk);
      auto [ec, n] = co_await http::beast_http::async_read(stream_, buffer_, parser_, kNoThrow);
      body.append(chunk, sizeof(chunk) - parser_.get().body().size);
      if (ec && ec != http::beast_http::error::need_buffer) break;
    }
    http::Response response(parser_.get().result(), 11);
    response.body() = std::move(body);
    co_return error_from_response(response, "watch");
  }

  asio::awaitable<absl::StatusOr<std::optional<WatchEvent>>> next() override {
    while (true) {
      if (size_t newline = pending_.find('\n', scanned_); newline != std::string::npos) {
        std::string line = pending_.substr(0, newline);
        pending_.erase(0, newline + 1);
        scanned_ = 0;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        co_return parse_event(line);
      }
      scanned_ = pending_.size();
      if (pending_.size() > max_event_bytes_) {
        co_return absl::ResourceExhaustedError(fmt::format(
            "Kubernetes API watch: an event exceeds the limit of {} bytes", max_event_bytes_));
      }
      if (done_) {
        if (pending_.find_first_not_of(" \t\r\n") != std::string::npos) {
          std::string line = std::move(pending_);
          pending_.clear();
          co_return parse_event(line);
        }
        co_return std::nullopt;
      }
      char chunk[16384];
      parser_.get().body().data = chunk;
      parser_.get().body().size = sizeof(chunk);
      beast::get_lowest_layer(stream_).expires_after(chrono(idle_));
      // read_some: returns as soon as some body arrived (read() would wait for a full buffer).
      auto [ec, n] =
          co_await http::beast_http::async_read_some(stream_, buffer_, parser_, kNoThrow);
      pending_.append(chunk, sizeof(chunk) - parser_.get().body().size);
      if (ec == http::beast_http::error::need_buffer) ec = {};
      if (ec == http::beast_http::error::end_of_stream || (!ec && parser_.is_done())) {
        done_ = true;
        continue;
      }
      if (ec) co_return transport_error("reading events from", endpoint_, ec);
    }
  }

  void close() override {
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().close(ignored);
  }

 private:
  absl::StatusOr<std::optional<WatchEvent>> parse_event(const std::string& line) {
    WIMS_ASSIGN_OR_RETURN(json::object envelope, parse_object(line, "watch event"));
    WatchEvent event;
    const std::string type = string_member(envelope, "type");
    if (type == "ADDED") {
      event.type = WatchEventType::kAdded;
    } else if (type == "MODIFIED") {
      event.type = WatchEventType::kModified;
    } else if (type == "DELETED") {
      event.type = WatchEventType::kDeleted;
    } else if (type == "BOOKMARK") {
      event.type = WatchEventType::kBookmark;
    } else if (type == "ERROR") {
      event.type = WatchEventType::kError;
    } else {
      return absl::InternalError(
          fmt::format("Kubernetes API watch: unknown event type \"{}\"", type));
    }
    auto object = envelope.find("object");
    if (object == envelope.end() || !object->value().is_object()) {
      return absl::InternalError("Kubernetes API watch: event without an object");
    }
    event.object = std::move(object->value().get_object());
    event.resource_version = metadata_string(event.object, "resourceVersion");
    return std::optional<WatchEvent>(std::move(event));
  }

  Stream stream_;
  Endpoint endpoint_;
  const absl::Duration idle_;
  const size_t max_event_bytes_;
  beast::flat_buffer buffer_;
  http::beast_http::response_parser<http::beast_http::buffer_body> parser_;
  std::string pending_;
  size_t scanned_ = 0;
  bool done_ = false;
};

}  // namespace

absl::Status status_from_kube_status(const json::object& status_object, int http_status) {
  int code = http_status;
  if (auto it = status_object.find("code"); it != status_object.end() && it->value().is_int64()) {
    code = static_cast<int>(it->value().get_int64());
  }
  std::string reason = string_member(status_object, "reason");
  std::string message = string_member(status_object, "message");
  return status_for_http(code, fmt::format("Kubernetes API: {} ({} {})", message, code, reason));
}

bool is_expired(const absl::Status& status) {
  return status.code() == absl::StatusCode::kOutOfRange;
}

absl::Status check_server_version(const ServerVersion& version) {
  if (version.major > 1 || (version.major == 1 && version.minor >= 24)) return absl::OkStatus();
  return absl::FailedPreconditionError(
      fmt::format("the Kubernetes API server is version {}.{} ({}); wims needs 1.24 or newer "
                  "(bound service-account "
                  "tokens via the TokenRequest API)",
                  version.major, version.minor, version.git_version));
}

ApiClient::ApiClient(KubeConfig config, ApiClientOptions options,
                     std::shared_ptr<asio::ssl::context> tls)
    : config_(std::move(config)), options_(options), tls_(tls), http_(std::move(tls)) {
  if (!config_.token_file.empty())
    token_file_ = std::make_unique<BearerTokenFile>(config_.token_file);
}

absl::StatusOr<std::unique_ptr<ApiClient>> ApiClient::create(KubeConfig config,
                                                             ApiClientOptions options) {
  if (config.insecure_skip_tls_verify) {
    return absl::UnimplementedError(
        fmt::format("{}: insecure-skip-tls-verify is not supported by wims' HTTP client; give the "
                    "cluster CA instead",
                    config.source));
  }
  if (!config.tls_server_name.empty()) {
    return absl::UnimplementedError(
        fmt::format("{}: tls-server-name is not supported yet", config.source));
  }
  WIMS_ASSIGN_OR_RETURN(Endpoint endpoint, parse_server(config.server));
  (void)endpoint;
  WIMS_ASSIGN_OR_RETURN(auto tls, make_tls_context(config));
  return std::unique_ptr<ApiClient>(new ApiClient(std::move(config), options, std::move(tls)));
}

absl::StatusOr<std::string> ApiClient::bearer_token() const {
  if (token_file_) return token_file_->current();
  return config_.bearer_token;
}

asio::awaitable<absl::StatusOr<http::Response>> ApiClient::call(verb method, std::string target,
                                                                std::string body,
                                                                size_t body_limit) {
  http::ClientRequest request{.method = method, .url = config_.server + target};
  request.headers.emplace_back("Accept", "application/json");
  absl::StatusOr<std::string> token = bearer_token();
  if (!token.ok()) co_return token.status();
  if (!token->empty()) request.headers.emplace_back("Authorization", "Bearer " + *token);
  if (!body.empty()) request.headers.emplace_back("Content-Type", "application/json");
  request.body = std::move(body);
  request.timeout = options_.request_timeout;
  request.body_limit = body_limit;
  co_return co_await http_.send(std::move(request));
}

asio::awaitable<absl::StatusOr<ServerVersion>> ApiClient::server_version() {
  absl::StatusOr<http::Response> response = co_await call(verb::get, "/version", {}, 1 << 20);
  if (!response.ok()) co_return response.status();
  if (response->result_int() != 200) co_return error_from_response(*response, "GET /version");
  WIMS_CO_ASSIGN_OR_RETURN(json::object body, parse_object(response->body(), "GET /version"));
  ServerVersion version;
  version.git_version = string_member(body, "gitVersion");
  auto number = [](const std::string& text) {
    // "24+" on GKE/EKS: the digits before any suffix.
    int value = -1;
    std::from_chars(text.data(), text.data() + text.size(), value);
    return value;
  };
  version.major = number(string_member(body, "major"));
  version.minor = number(string_member(body, "minor"));
  if (version.major < 0 || version.minor < 0) {
    co_return absl::InternalError(
        "Kubernetes API GET /version: no numeric major/minor in the answer");
  }
  co_return version;
}

asio::awaitable<absl::StatusOr<ObjectList>> ApiClient::list(std::string path, ListOptions options) {
  std::vector<std::pair<std::string, std::string>> params;
  if (!options.field_selector.empty()) params.emplace_back("fieldSelector", options.field_selector);
  if (!options.label_selector.empty()) params.emplace_back("labelSelector", options.label_selector);
  if (!options.resource_version.empty())
    params.emplace_back("resourceVersion", options.resource_version);
  if (options.limit > 0) params.emplace_back("limit", std::to_string(options.limit));
  if (!options.continue_token.empty()) params.emplace_back("continue", options.continue_token);
  const std::string what = "GET " + path;
  absl::StatusOr<http::Response> response =
      co_await call(verb::get, make_target(path, params), {}, options_.list_body_limit);
  if (!response.ok()) co_return response.status();
  if (response->result_int() != 200) co_return error_from_response(*response, what);
  WIMS_CO_ASSIGN_OR_RETURN(json::object body, parse_object(response->body(), what));
  ObjectList list;
  list.resource_version = metadata_string(body, "resourceVersion");
  list.continue_token = metadata_string(body, "continue");
  if (auto items = body.find("items"); items != body.end() && items->value().is_array()) {
    for (json::value& item : items->value().get_array()) {
      if (item.is_object()) list.items.push_back(std::move(item.get_object()));
    }
  } else if (items != body.end() && !items->value().is_null()) {
    co_return absl::InternalError(fmt::format("Kubernetes API {}: items is not a list", what));
  }
  co_return list;
}

asio::awaitable<absl::StatusOr<json::object>> ApiClient::get(std::string path) {
  const std::string what = "GET " + path;
  absl::StatusOr<http::Response> response =
      co_await call(verb::get, make_target(path, {}), {}, 4 << 20);
  if (!response.ok()) co_return response.status();
  if (response->result_int() != 200) co_return error_from_response(*response, what);
  co_return parse_object(response->body(), what);
}

asio::awaitable<absl::StatusOr<std::unique_ptr<WatchStream>>> ApiClient::watch(
    std::string path, WatchOptions options) {
  WIMS_CO_ASSIGN_OR_RETURN(Endpoint endpoint, parse_server(config_.server));
  std::vector<std::pair<std::string, std::string>> params{{"watch", "1"}};
  if (!options.field_selector.empty()) params.emplace_back("fieldSelector", options.field_selector);
  if (!options.label_selector.empty()) params.emplace_back("labelSelector", options.label_selector);
  if (!options.resource_version.empty())
    params.emplace_back("resourceVersion", options.resource_version);
  if (options.allow_bookmarks) params.emplace_back("allowWatchBookmarks", "true");
  params.emplace_back("timeoutSeconds",
                      std::to_string(absl::ToInt64Seconds(options.server_timeout)));
  http::RawRequest request(verb::get, endpoint.base_path + make_target(path, params), 11);
  request.set(http::beast_http::field::host, endpoint.host_header);
  request.set(http::beast_http::field::user_agent, "wims/" WIMS_VERSION);
  request.set(http::beast_http::field::accept, "application/json");
  absl::StatusOr<std::string> token = bearer_token();
  if (!token.ok()) co_return token.status();
  if (!token->empty()) request.set(http::beast_http::field::authorization, "Bearer " + *token);

  auto executor = co_await asio::this_coro::executor;
  tcp::resolver resolver(executor);
  auto flags = endpoint.ip_literal ? tcp::resolver::numeric_host : tcp::resolver::flags();
  auto [resolve_ec, endpoints] = co_await resolver.async_resolve(
      endpoint.host, endpoint.port, flags | tcp::resolver::numeric_service, kNoThrow);
  if (resolve_ec) co_return transport_error("resolving", endpoint, resolve_ec);
  beast::tcp_stream stream(executor);
  stream.expires_after(chrono(options_.request_timeout));
  auto [connect_ec, connected] = co_await stream.async_connect(endpoints, kNoThrow);
  if (connect_ec) co_return transport_error("connecting to", endpoint, connect_ec);
  const absl::Duration idle = options.server_timeout + options.idle_grace;

  if (!endpoint.https) {
    auto watch = std::make_unique<WatchStreamImpl<beast::tcp_stream>>(
        std::move(stream), endpoint, idle, options_.max_event_bytes);
    WIMS_CO_RETURN_IF_ERROR(co_await watch->start(std::move(request), options_.request_timeout));
    co_return std::unique_ptr<WatchStream>(std::move(watch));
  }
  beast::ssl_stream<beast::tcp_stream> tls(std::move(stream), *tls_);
  if (!endpoint.ip_literal &&
      !SSL_set_tlsext_host_name(tls.native_handle(), endpoint.host.c_str())) {
    co_return absl::InvalidArgumentError(fmt::format("cannot use '{}' for SNI", endpoint.host));
  }
  tls.set_verify_mode(asio::ssl::verify_peer);
  tls.set_verify_callback(asio::ssl::host_name_verification(endpoint.host));
  auto [handshake_ec] = co_await tls.async_handshake(asio::ssl::stream_base::client, kNoThrow);
  if (handshake_ec) co_return transport_error("TLS handshake with", endpoint, handshake_ec);
  auto watch = std::make_unique<WatchStreamImpl<beast::ssl_stream<beast::tcp_stream>>>(
      std::move(tls), endpoint, idle, options_.max_event_bytes);
  WIMS_CO_RETURN_IF_ERROR(co_await watch->start(std::move(request), options_.request_timeout));
  co_return std::unique_ptr<WatchStream>(std::move(watch));
}

asio::awaitable<absl::StatusOr<IssuedToken>> ApiClient::request_token(std::string ns,
                                                                      std::string service_account,
                                                                      TokenRequestSpec spec) {
  json::object body{{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "TokenRequest"}};
  json::object request_spec;
  json::array audiences;
  for (const std::string& audience : spec.audiences) audiences.emplace_back(audience);
  request_spec["audiences"] = std::move(audiences);
  request_spec["expirationSeconds"] = spec.expiration_seconds;
  if (!spec.pod_name.empty()) {
    request_spec["boundObjectRef"] = json::object{
        {"kind", "Pod"}, {"apiVersion", "v1"}, {"name", spec.pod_name}, {"uid", spec.pod_uid}};
  }
  body["spec"] = std::move(request_spec);
  const std::string path =
      fmt::format("/api/v1/namespaces/{}/serviceaccounts/{}/token", ns, service_account);
  const std::string what = "POST " + path;
  absl::StatusOr<http::Response> response =
      co_await call(verb::post, make_target(path, {}), json::serialize(body), 1 << 20);
  if (!response.ok()) co_return response.status();
  if (response->result_int() != 200 && response->result_int() != 201) {
    co_return error_from_response(*response, what);
  }
  WIMS_CO_ASSIGN_OR_RETURN(json::object answer, parse_object(response->body(), what));
  auto status = answer.find("status");
  if (status == answer.end() || !status->value().is_object()) {
    co_return absl::InternalError(fmt::format("Kubernetes API {}: no status in the answer", what));
  }
  IssuedToken issued;
  issued.token = string_member(status->value().get_object(), "token");
  absl::StatusOr<absl::Time> expiration =
      parse_rfc3339(string_member(status->value().get_object(), "expirationTimestamp"));
  if (issued.token.empty() || !expiration.ok()) {
    co_return absl::InternalError(
        fmt::format("Kubernetes API {}: status.token or status.expirationTimestamp missing", what));
  }
  issued.expiration = *expiration;
  co_return issued;
}

asio::awaitable<absl::StatusOr<TokenReviewStatus>> ApiClient::review_token(
    std::string token, std::vector<std::string> audiences) {
  json::array requested;
  for (const std::string& audience : audiences) requested.emplace_back(audience);
  json::object spec{{"token", token}};
  if (!requested.empty()) spec["audiences"] = std::move(requested);
  const json::object body{{"apiVersion", "authentication.k8s.io/v1"},
                          {"kind", "TokenReview"},
                          {"spec", std::move(spec)}};
  const std::string path = "/apis/authentication.k8s.io/v1/tokenreviews";
  const std::string what = "POST " + path;
  absl::StatusOr<http::Response> response =
      co_await call(verb::post, make_target(path, {}), json::serialize(body), 1 << 20);
  if (!response.ok()) co_return response.status();
  if (response->result_int() != 200 && response->result_int() != 201) {
    co_return error_from_response(*response, what);
  }
  WIMS_CO_ASSIGN_OR_RETURN(json::object answer, parse_object(response->body(), what));
  TokenReviewStatus review;
  auto status = answer.find("status");
  if (status == answer.end() || !status->value().is_object())
    co_return review;  // not authenticated
  const json::object& fields = status->value().get_object();
  if (auto it = fields.find("authenticated"); it != fields.end() && it->value().is_bool()) {
    review.authenticated = it->value().get_bool();
  }
  review.error = string_member(fields, "error");
  if (auto it = fields.find("audiences"); it != fields.end() && it->value().is_array()) {
    for (const json::value& audience : it->value().get_array()) {
      if (audience.is_string()) review.audiences.emplace_back(audience.get_string());
    }
  }
  if (auto user = fields.find("user"); user != fields.end() && user->value().is_object()) {
    review.username = string_member(user->value().get_object(), "username");
    const json::object& user_fields = user->value().get_object();
    if (auto extra = user_fields.find("extra");
        extra != user_fields.end() && extra->value().is_object()) {
      for (const auto& [key, values] : extra->value().get_object()) {
        if (!values.is_array()) continue;
        std::vector<std::string>& out = review.extra[std::string(key)];
        for (const json::value& v : values.get_array()) {
          if (v.is_string()) out.emplace_back(v.get_string());
        }
      }
    }
  }
  co_return review;
}

}  // namespace wims::kube
