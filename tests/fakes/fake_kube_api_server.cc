#include "fakes/fake_kube_api_server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <charconv>
#include <list>
#include <set>

#include "common/encoding.h"
#include "fmt/format.h"

namespace wims::fakes {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace json = boost::json;
using asio::ip::tcp;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

json::object status_object(int code, std::string_view reason, std::string_view message) {
  return json::object{{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", json::object{}},
                      {"status", "Failure"}, {"message", message}, {"reason", reason},
                      {"code", code}};
}

std::string str(const json::object& object, std::string_view key) {
  auto it = object.find(key);
  return it != object.end() && it->value().is_string() ? std::string(it->value().get_string())
                                                       : std::string();
}

const json::object& sub(const json::object& object, std::string_view key) {
  static const json::object kEmpty;
  auto it = object.find(key);
  return it != object.end() && it->value().is_object() ? it->value().get_object() : kEmpty;
}

std::string key_of(const json::object& object) {
  const json::object& metadata = sub(object, "metadata");
  return str(metadata, "namespace") + "/" + str(metadata, "name");
}

int64_t parse_int(std::string_view text, int64_t fallback) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size() ? value : fallback;
}

struct Query {
  std::map<std::string, std::string> params;
  std::string get(const std::string& key) const {
    auto it = params.find(key);
    return it == params.end() ? std::string() : it->second;
  }
  bool has(const std::string& key) const { return params.count(key) > 0; }
};

// What one list/watch selects: a resource, optionally one namespace and one spec.nodeName.
struct Selection {
  std::string resource;
  std::string namespace_name;
  std::optional<std::string> node_name;
  bool matches(const json::object& object) const {
    if (!namespace_name.empty() && str(sub(object, "metadata"), "namespace") != namespace_name)
      return false;
    if (node_name && str(sub(object, "spec"), "nodeName") != *node_name) return false;
    return true;
  }
};

}  // namespace

struct FakeKubeApiServer::Watcher {
  asio::steady_timer* timer;
};

class FakeKubeApiServer::Impl {
 public:
  explicit Impl(FakeKubeApiServer& owner) : owner_(owner), acceptor_(io_) {}

  FakeKubeApiServer& owner_;
  asio::io_context io_{1};
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  // Touched on the io thread only.
  std::set<tcp::socket*> sockets_;
  std::set<asio::steady_timer*> watch_timers_;
  bool stopping_ = false;
  // Bumped by every wake-up: a watch compares it before parking, so a wake-up (or stop) that lands
  // while the watch is busy sending is never lost (cancelling a timer nobody waits on does
  // nothing).
  uint64_t wake_generation_ = 0;

  void wake_watchers() {
    ++wake_generation_;
    for (asio::steady_timer* timer : watch_timers_) timer->cancel();
  }
  void close_all() {
    for (tcp::socket* socket : sockets_) {
      beast::error_code ignored;
      socket->shutdown(tcp::socket::shutdown_both, ignored);
      socket->close(ignored);
    }
    wake_watchers();
  }

  asio::awaitable<void> accept_loop() {
    while (true) {
      auto [ec, socket] = co_await acceptor_.async_accept(kNoThrow);
      if (ec) co_return;
      bool outage;
      {
        absl::MutexLock lock(&owner_.mu_);
        outage = owner_.outage_;
      }
      if (outage) {
        beast::error_code ignored;
        socket.close(ignored);
        continue;
      }
      asio::co_spawn(io_, session(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> session(tcp::socket socket) {
    sockets_.insert(&socket);
    beast::flat_buffer buffer;
    while (!stopping_) {
      bhttp::request<bhttp::string_body> request;
      auto [ec, n] = co_await bhttp::async_read(socket, buffer, request, kNoThrow);
      if (ec) break;
      const bool keep = request.keep_alive();
      const bool keep_going = co_await serve(socket, request);
      if (!keep_going || !keep) break;
    }
    sockets_.erase(&socket);
    beast::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  }

  asio::awaitable<bool> reply(tcp::socket& socket, int code, const json::object& body,
                              bool keep_alive = true) {
    bhttp::response<bhttp::string_body> response(static_cast<bhttp::status>(code), 11);
    response.set(bhttp::field::content_type, "application/json");
    response.body() = json::serialize(body);
    response.keep_alive(keep_alive);
    response.prepare_payload();
    auto [ec, n] = co_await bhttp::async_write(socket, response, kNoThrow);
    co_return !ec;
  }

  // What a request gets: a JSON answer, or a watch stream (GCC 12 miscompiles string literals
  // inside co_await expressions, so the routing is a plain function and the coroutine only sends).
  struct Routed {
    int code = 200;
    json::object body = {};
    bool watch = false;
    Selection selection = {};
    Query query = {};
  };

  static Routed answer(int code, json::object body) {
    Routed routed;
    routed.code = code;
    routed.body = std::move(body);
    return routed;
  }

  asio::awaitable<bool> serve(tcp::socket& socket, bhttp::request<bhttp::string_body>& request) {
    Routed routed = route(request);
    if (routed.watch) {
      co_await serve_watch(socket, std::move(routed.selection), std::move(routed.query));
      co_return false;
    }
    co_return co_await reply(socket, routed.code, routed.body);
  }

  Routed route(const bhttp::request<bhttp::string_body>& request) {
    std::string target(request.target());
    auto url =
        boost::urls::parse_origin_form(boost::urls::string_view(target.data(), target.size()));
    if (!url) return answer(400, status_object(400, "BadRequest", "bad target"));
    std::string path(url->path());
    Query query;
    for (auto param : url->params())
      query.params[std::string(param.key)] = std::string(param.value);

    if (!owner_.options_.required_token.empty()) {
      auto auth = request.find(bhttp::field::authorization);
      if (auth == request.end() || auth->value() != "Bearer " + owner_.options_.required_token) {
        return answer(401, status_object(401, "Unauthorized", "Unauthorized"));
      }
    }
    if (path == "/version" && request.method() == bhttp::verb::get) {
      return answer(200, json::object{{"major", owner_.options_.major},
                                      {"minor", owner_.options_.minor},
                                      {"gitVersion", owner_.options_.git_version},
                                      {"platform", "linux/amd64"}});
    }
    if (path == "/apis/authentication.k8s.io/v1/tokenreviews" &&
        request.method() == bhttp::verb::post) {
      ++owner_.token_reviews_;
      if (owner_.options_.token_reviewer) {
        auto [code, body] = owner_.options_.token_reviewer(request.body());
        return answer(code, std::move(body));
      }
      return answer(201, token_review(request.body()));
    }
    // /api/v1/{pods|serviceaccounts}, /api/v1/namespaces/NS/{pods|serviceaccounts}[/NAME[/token]]
    std::vector<std::string> parts;
    for (size_t start = 1; start <= path.size();) {
      size_t slash = path.find('/', start);
      if (slash == std::string::npos) slash = path.size();
      parts.push_back(path.substr(start, slash - start));
      start = slash + 1;
    }
    if (parts.size() < 3 || parts[0] != "api" || parts[1] != "v1") {
      return answer(404, status_object(404, "NotFound",
                                       "the server could not find the "
                                       "requested resource"));
    }
    Selection selection;
    size_t i = 2;
    if (parts[i] == "namespaces" && parts.size() >= 5) {
      selection.namespace_name = parts[3];
      i = 4;
    }
    selection.resource = parts[i];
    if (selection.resource != "pods" && selection.resource != "serviceaccounts") {
      return answer(404, status_object(404, "NotFound", "unknown resource"));
    }
    if (parts.size() == i + 3 && parts[i + 2] == "token" &&
        selection.resource == "serviceaccounts" && request.method() == bhttp::verb::post) {
      ++owner_.token_requests_;
      auto [code, body] = token_request(selection.namespace_name, parts[i + 1], request.body());
      if (code == 201 && owner_.options_.token_minter) {
        auto [minted_code, minted] =
            owner_.options_.token_minter(selection.namespace_name, parts[i + 1], request.body());
        return answer(minted_code, std::move(minted));
      }
      return answer(code, std::move(body));
    }
    if (parts.size() == i + 2 && request.method() == bhttp::verb::get) {
      absl::MutexLock lock(&owner_.mu_);
      auto& objects = owner_.objects_[selection.resource];
      auto it = objects.find(selection.namespace_name + "/" + parts[i + 1]);
      json::object body =
          it == objects.end()
              ? status_object(404, "NotFound",
                              fmt::format("{} \"{}\" not found", selection.resource, parts[i + 1]))
              : it->second;
      const int code = it == objects.end() ? 404 : 200;
      return answer(code, std::move(body));
    }
    if (parts.size() != i + 1 || request.method() != bhttp::verb::get) {
      return answer(405, status_object(405, "MethodNotAllowed", "not supported by the fake"));
    }
    if (query.has("fieldSelector")) {
      std::string selector = query.get("fieldSelector");
      std::string prefix = "spec.nodeName=";
      if (selector.rfind("spec.nodeName==", 0) == 0) prefix = "spec.nodeName==";
      if (selection.resource != "pods" || selector.rfind(prefix, 0) != 0 ||
          selector.find(',') != std::string::npos) {
        return answer(
            400, status_object(
                     400, "BadRequest",
                     fmt::format("\"{}\" is not a known field selector: only \"spec.nodeName\" "
                                 "(for pods) is supported by the fake",
                                 selector)));
      }
      selection.node_name = selector.substr(prefix.size());
    }
    const std::string watch = query.get("watch");
    if (watch == "1" || watch == "true") {
      ++owner_.watch_requests_;
      Routed routed;
      routed.watch = true;
      routed.selection = std::move(selection);
      routed.query = std::move(query);
      return routed;
    }
    ++owner_.list_requests_;
    return answer(200, list(selection, query));
  }

  static asio::awaitable<bool> send(tcp::socket& socket, std::string line) {
    line += "\n";
    auto [ec, n] =
        co_await asio::async_write(socket, bhttp::make_chunk(asio::buffer(line)), kNoThrow);
    co_return !ec;
  }

  std::string error_event(const std::string& message) const {
    json::object error = status_object(410, owner_.options_.expired_reason, message);
    return json::serialize(json::object{{"type", "ERROR"}, {"object", std::move(error)}});
  }

  json::object list(const Selection& selection, const Query& query) {
    absl::MutexLock lock(&owner_.mu_);
    const int64_t limit = parse_int(query.get("limit"), 0);
    std::string start_after;
    int64_t rv = owner_.rv_;
    if (std::string token = query.get("continue"); !token.empty()) {
      // "<rv>/<last key>" base64: the fake pages over the current state (not a snapshot at rv).
      absl::StatusOr<std::string> decoded = base64url_decode(token);
      if (decoded.ok()) {
        size_t slash = decoded->find('|');
        rv = parse_int(decoded->substr(0, slash), rv);
        start_after = slash == std::string::npos ? "" : decoded->substr(slash + 1);
      }
    }
    json::array items;
    std::string continue_token;
    auto& objects = owner_.objects_[selection.resource];
    auto it = start_after.empty() ? objects.begin() : objects.upper_bound(start_after);
    for (; it != objects.end(); ++it) {
      if (!selection.matches(it->second)) continue;
      if (limit > 0 && static_cast<int64_t>(items.size()) == limit) {
        continue_token =
            base64url_encode(fmt::format("{}|{}", rv, key_of(items.back().get_object())));
        break;
      }
      items.push_back(it->second);
    }
    json::object metadata{{"resourceVersion", std::to_string(rv)}};
    if (!continue_token.empty()) metadata["continue"] = continue_token;
    return json::object{{"kind", selection.resource == "pods" ? "PodList" : "ServiceAccountList"},
                        {"apiVersion", "v1"},
                        {"metadata", std::move(metadata)},
                        {"items", std::move(items)}};
  }

  asio::awaitable<void> serve_watch(tcp::socket& socket, Selection selection, Query query) {
    const bool bookmarks = query.get("allowWatchBookmarks") == "true";
    const std::string requested = query.get("resourceVersion");
    std::vector<std::string> initial;
    int64_t cursor = 0;
    uint64_t end_generation = 0;
    std::optional<std::string> expired_message;
    {
      absl::MutexLock lock(&owner_.mu_);
      end_generation = owner_.end_generation_;
      if (requested.empty() || requested == "0") {
        for (const auto& [key, object] : owner_.objects_[selection.resource]) {
          if (selection.matches(object)) {
            initial.push_back(json::serialize(json::object{{"type", "ADDED"}, {"object", object}}));
          }
        }
        cursor = owner_.rv_;
      } else {
        cursor = parse_int(requested, -1);
        if (cursor < owner_.compacted_rv_) {
          expired_message =
              fmt::format("too old resource version: {} ({})", requested, owner_.compacted_rv_);
        }
      }
    }
    if (expired_message && owner_.options_.expired_as_http_410) {
      json::object gone = status_object(410, "Gone", *expired_message);
      co_await reply(socket, 410, gone, false);
      co_return;
    }
    bhttp::response<bhttp::empty_body> header(bhttp::status::ok, 11);
    header.set(bhttp::field::content_type, "application/json");
    header.chunked(true);
    bhttp::response_serializer<bhttp::empty_body> serializer(header);
    auto [header_ec, header_n] = co_await bhttp::async_write_header(socket, serializer, kNoThrow);
    if (header_ec) co_return;
    if (expired_message) {
      std::string line = error_event(*expired_message);
      co_await send(socket, std::move(line));
      co_await asio::async_write(socket, bhttp::make_chunk_last(), kNoThrow);
      co_return;
    }
    for (std::string& line : initial) {
      if (!co_await send(socket, std::move(line))) co_return;
    }
    asio::steady_timer timer(io_);
    watch_timers_.insert(&timer);
    ++owner_.open_watches_;
    bool clean_end = false;
    while (!stopping_) {
      const uint64_t seen_generation = wake_generation_;
      std::vector<std::string> lines;
      bool outage = false;
      {
        absl::MutexLock lock(&owner_.mu_);
        outage = owner_.outage_;
        if (owner_.end_generation_ != end_generation) clean_end = true;
        for (const Event& event : owner_.history_) {
          if (event.rv <= cursor) continue;
          cursor = event.rv;
          if (event.type == "BOOKMARK") {
            if (!bookmarks) continue;
            json::object object{
                {"kind", selection.resource == "pods" ? "Pod" : "ServiceAccount"},
                {"apiVersion", "v1"},
                {"metadata", json::object{{"resourceVersion", std::to_string(event.rv)}}}};
            lines.push_back(
                json::serialize(json::object{{"type", "BOOKMARK"}, {"object", std::move(object)}}));
            continue;
          }
          if (event.resource != selection.resource) continue;
          const bool before = event.before && selection.matches(*event.before);
          const bool after = event.after && selection.matches(*event.after);
          std::string type;
          const json::object* object = nullptr;
          if (before && after) {
            type = "MODIFIED", object = &*event.after;
          } else if (after) {
            type = "ADDED", object = &*event.after;
          } else if (before) {
            // Left the selection (deleted, or moved off the node): DELETED with the last state.
            type = "DELETED", object = event.after ? &*event.after : &*event.before;
          } else {
            continue;
          }
          lines.push_back(json::serialize(json::object{{"type", type}, {"object", *object}}));
        }
      }
      if (outage) break;
      bool ok = true;
      for (std::string& line : lines) {
        if (!(ok = co_await send(socket, std::move(line)))) break;
      }
      if (!ok) break;
      if (clean_end) {
        co_await asio::async_write(socket, bhttp::make_chunk_last(), kNoThrow);
        break;
      }
      if (stopping_ || wake_generation_ != seen_generation) continue;  // woken while sending
      timer.expires_after(std::chrono::hours(1));
      co_await timer.async_wait(kNoThrow);
    }
    --owner_.open_watches_;
    watch_timers_.erase(&timer);
  }

  // The TokenReview of a token this fake minted ("fake-ksa-token." + base64url(claims)).
  json::object token_review(const std::string& body_text) {
    json::error_code ec;
    json::value body = json::parse(body_text, ec);
    const json::object empty;
    const json::object& spec = !ec && body.is_object() ? sub(body.get_object(), "spec") : empty;
    const std::string token = str(spec, "token");
    json::array requested;
    if (auto it = spec.find("audiences"); it != spec.end() && it->value().is_array()) {
      requested = it->value().get_array();
    }
    auto review = [&](json::object status) {
      return json::object{{"apiVersion", "authentication.k8s.io/v1"},
                          {"kind", "TokenReview"},
                          {"spec", spec},
                          {"status", std::move(status)}};
    };
    auto refuse = [&](std::string why) {
      return review(json::object{{"authenticated", false}, {"error", why}});
    };
    const std::string prefix = "fake-ksa-token.";
    if (token.rfind(prefix, 0) != 0) return refuse("invalid bearer token");
    absl::StatusOr<std::string> decoded = base64url_decode(token.substr(prefix.size()));
    if (!decoded.ok()) return refuse("invalid bearer token");
    json::value parsed = json::parse(*decoded, ec);
    if (ec || !parsed.is_object()) return refuse("invalid bearer token");
    const json::object& claims = parsed.get_object();
    if (auto exp = claims.find("exp");
        exp == claims.end() || !exp->value().is_int64() ||
        absl::FromUnixSeconds(exp->value().get_int64()) <= owner_.clock_.now()) {
      return refuse("service account token has expired");
    }
    json::array audiences;
    if (auto aud = claims.find("aud"); aud != claims.end() && aud->value().is_array()) {
      for (const json::value& a : aud->value().get_array()) {
        bool wanted = requested.empty();
        for (const json::value& r : requested) wanted = wanted || r == a;
        if (wanted) audiences.push_back(a);
      }
    }
    if (audiences.empty()) return refuse("token audiences is invalid for the target audiences");
    // "system:serviceaccount:NS:NAME": the account and the bound pod must still exist.
    const std::string subject = str(claims, "sub");
    const std::string sa_prefix = "system:serviceaccount:";
    const size_t colon = subject.find(':', sa_prefix.size());
    if (subject.rfind(sa_prefix, 0) != 0 || colon == std::string::npos)
      return refuse("invalid subject");
    const std::string ns = subject.substr(sa_prefix.size(), colon - sa_prefix.size());
    const std::string pod_name = str(claims, "pod");
    json::object extra;
    {
      absl::MutexLock lock(&owner_.mu_);
      if (owner_.objects_["serviceaccounts"].count(ns + "/" + subject.substr(colon + 1)) == 0) {
        return refuse("service account token has been invalidated");
      }
      if (!pod_name.empty()) {
        auto& pods = owner_.objects_["pods"];
        auto pod = pods.find(ns + "/" + pod_name);
        if (pod == pods.end() ||
            str(sub(pod->second, "metadata"), "uid") != str(claims, "pod_uid")) {
          return refuse("service account token has been invalidated");
        }
        extra["authentication.kubernetes.io/pod-name"] = json::array{json::string(pod_name)};
        extra["authentication.kubernetes.io/pod-uid"] =
            json::array{json::string(str(claims, "pod_uid"))};
      }
    }
    return review(
        json::object{{"authenticated", true},
                     {"audiences", std::move(audiences)},
                     {"user", json::object{{"username", subject}, {"extra", std::move(extra)}}}});
  }

  std::pair<int, json::object> token_request(const std::string& ns, const std::string& name,
                                             const std::string& body_text) {
    auto invalid = [](std::string message) {
      return std::make_pair(422, status_object(422, "Invalid", message));
    };
    absl::MutexLock lock(&owner_.mu_);
    auto& accounts = owner_.objects_["serviceaccounts"];
    auto account = accounts.find(ns + "/" + name);
    if (account == accounts.end()) {
      return {404, status_object(404, "NotFound",
                                 fmt::format("serviceaccounts \"{}\" not found", name))};
    }
    json::error_code ec;
    json::value body = json::parse(body_text, ec);
    if (ec || !body.is_object())
      return {400, status_object(400, "BadRequest", "the body is not a TokenRequest")};
    const json::object& spec = sub(body.get_object(), "spec");
    int64_t expiration = 3600;
    if (auto it = spec.find("expirationSeconds"); it != spec.end()) {
      if (!it->value().is_int64())
        return invalid("spec.expirationSeconds: Invalid value: must be an integer");
      expiration = it->value().get_int64();
    }
    if (expiration < 600) {
      return invalid(fmt::format(
          "TokenRequest.authentication.k8s.io \"{}\" is invalid: spec.expirationSeconds: "
          "Invalid value: {}: may not specify a duration less than 10 minutes",
          name, expiration));
    }
    if (expiration > (int64_t{1} << 32)) {
      return invalid(fmt::format(
          "TokenRequest.authentication.k8s.io \"{}\" is invalid: spec.expirationSeconds: "
          "Invalid value: {}: may not specify a duration larger than 2^32 seconds",
          name, expiration));
    }
    json::array audiences;
    if (auto it = spec.find("audiences"); it != spec.end() && it->value().is_array()) {
      audiences = it->value().get_array();
    }
    if (audiences.empty()) audiences.emplace_back("https://kubernetes.default.svc");
    std::string pod_name, pod_uid;
    if (auto ref = spec.find("boundObjectRef"); ref != spec.end() && ref->value().is_object()) {
      const json::object& bound = ref->value().get_object();
      const std::string kind = str(bound, "kind");
      if (kind != "Pod" && kind != "Secret" && kind != "Node") {
        return {400, status_object(400, "BadRequest",
                                   fmt::format("cannot bind token to object of type {}", kind))};
      }
      if (kind == "Pod") {
        auto& pods = owner_.objects_["pods"];
        auto pod = pods.find(ns + "/" + str(bound, "name"));
        if (pod == pods.end()) {
          return {404, status_object(404, "NotFound",
                                     fmt::format("pods \"{}\" not found", str(bound, "name")))};
        }
        const std::string pod_sa = str(sub(pod->second, "spec"), "serviceAccountName");
        if (pod_sa != name) {
          return {400, status_object(
                           400, "BadRequest",
                           fmt::format("cannot bind token for serviceaccount \"{}\" to pod running "
                                       "with serviceaccount \"{}\"",
                                       name, pod_sa))};
        }
        const std::string uid = str(sub(pod->second, "metadata"), "uid");
        if (!str(bound, "uid").empty() && str(bound, "uid") != uid) {
          return {409, status_object(
                           409, "Conflict",
                           fmt::format("the UID in the bound object reference ({}) does not match "
                                       "the UID in record. The object might have been deleted and "
                                       "then recreated",
                                       str(bound, "uid")))};
        }
        pod_name = str(bound, "name");
        pod_uid = uid;
      }
    }
    const absl::Time expires = owner_.clock_.now() + absl::Seconds(expiration);
    json::object claims{{"sub", fmt::format("system:serviceaccount:{}:{}", ns, name)},
                        {"aud", audiences},
                        {"pod", pod_name},
                        {"pod_uid", pod_uid},
                        {"exp", absl::ToUnixSeconds(expires)}};
    json::object answer{
        {"kind", "TokenRequest"},
        {"apiVersion", "authentication.k8s.io/v1"},
        {"metadata", json::object{{"name", name}, {"namespace", ns}}},
        {"spec", json::object{{"audiences", audiences}, {"expirationSeconds", expiration}}},
        {"status",
         json::object{{"token", "fake-ksa-token." + base64url_encode(json::serialize(claims))},
                      {"expirationTimestamp", format_rfc3339_seconds(expires)}}}};
    return {201, std::move(answer)};
  }
};

FakeKubeApiServer::FakeKubeApiServer(Options options)
    : options_(std::move(options)),
      clock_(options_.clock ? *options_.clock : SystemClock::instance()),
      impl_(std::make_unique<Impl>(*this)) {}

FakeKubeApiServer::~FakeKubeApiServer() { stop(); }

absl::Status FakeKubeApiServer::start() {
  beast::error_code ec;
  auto address = asio::ip::make_address(options_.listen_host, ec);
  if (ec) return absl::InvalidArgumentError("bad listen host " + options_.listen_host);
  tcp::endpoint endpoint(address, 0);
  impl_->acceptor_.open(endpoint.protocol(), ec);
  if (!ec) impl_->acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl_->acceptor_.bind(endpoint, ec);
  if (!ec) impl_->acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return absl::UnavailableError("fake API server cannot listen: " + ec.message());
  impl_->port_ = impl_->acceptor_.local_endpoint().port();
  asio::co_spawn(impl_->io_, impl_->accept_loop(), asio::detached);
  thread_ = std::thread([this] { impl_->io_.run(); });
  return absl::OkStatus();
}

void FakeKubeApiServer::stop() {
  if (!thread_.joinable()) return;
  asio::post(impl_->io_, [this] {
    impl_->stopping_ = true;
    beast::error_code ignored;
    impl_->acceptor_.close(ignored);
    impl_->close_all();
  });
  thread_.join();
}

std::string FakeKubeApiServer::url() const {
  if (options_.listen_host.find(':') != std::string::npos) {
    return fmt::format("http://[{}]:{}", options_.listen_host, impl_->port_);
  }
  return fmt::format("http://{}:{}", options_.listen_host, impl_->port_);
}

json::object FakeKubeApiServer::make_pod(const FakePodSpec& spec) {
  json::object labels, annotations;
  for (const auto& [k, v] : spec.labels) labels[k] = v;
  for (const auto& [k, v] : spec.annotations) annotations[k] = v;
  json::object metadata{{"name", spec.name},
                        {"namespace", spec.namespace_name},
                        {"uid", spec.uid},
                        {"labels", labels},
                        {"annotations", annotations},
                        {"creationTimestamp", "2024-01-01T00:00:00Z"}};
  if (spec.terminating) metadata["deletionTimestamp"] = "2024-01-01T00:10:00Z";
  json::array pod_ips;
  for (const std::string& ip : spec.ips) pod_ips.push_back(json::object{{"ip", ip}});
  json::object status{{"phase", spec.phase}, {"podIPs", pod_ips}};
  if (!spec.ips.empty()) status["podIP"] = spec.ips.front();
  json::object pod_spec{
      {"nodeName", spec.node_name},
      {"serviceAccountName", spec.service_account},
      {"containers", json::array{json::object{{"name", "main"}, {"image", "busybox"}}}}};
  if (spec.host_network) pod_spec["hostNetwork"] = true;
  return json::object{{"kind", "Pod"},
                      {"apiVersion", "v1"},
                      {"metadata", std::move(metadata)},
                      {"spec", std::move(pod_spec)},
                      {"status", std::move(status)}};
}

json::object FakeKubeApiServer::make_service_account(
    const std::string& ns, const std::string& name, const std::string& uid,
    const std::map<std::string, std::string>& annotations) {
  json::object notes;
  for (const auto& [k, v] : annotations) notes[k] = v;
  return json::object{
      {"kind", "ServiceAccount"},
      {"apiVersion", "v1"},
      {"metadata",
       json::object{{"name", name}, {"namespace", ns}, {"uid", uid}, {"annotations", notes}}}};
}

int64_t FakeKubeApiServer::write_object(const std::string& resource, json::object object) {
  int64_t rv;
  {
    absl::MutexLock lock(&mu_);
    const std::string key = key_of(object);
    auto& objects = objects_[resource];
    auto it = objects.find(key);
    std::optional<json::object> before;
    if (it != objects.end()) before = it->second;
    if (before && str(sub(*before, "metadata"), "uid") != str(sub(object, "metadata"), "uid")) {
      // A new object under an old name: the old one is deleted first.
      rv = ++rv_;
      json::object gone = *before;
      gone["metadata"].as_object()["resourceVersion"] = std::to_string(rv);
      history_.push_back(Event{rv, resource, "DELETED", before, std::nullopt});
      before.reset();
    }
    rv = ++rv_;
    object["metadata"].as_object()["resourceVersion"] = std::to_string(rv);
    objects[key] = object;
    history_.push_back(
        Event{rv, resource, before ? "MODIFIED" : "ADDED", std::move(before), std::move(object)});
  }
  notify();
  return rv;
}

bool FakeKubeApiServer::delete_object(const std::string& resource, const std::string& ns,
                                      const std::string& name) {
  {
    absl::MutexLock lock(&mu_);
    auto& objects = objects_[resource];
    auto it = objects.find(ns + "/" + name);
    if (it == objects.end()) return false;
    const int64_t rv = ++rv_;
    json::object last = std::move(it->second);
    objects.erase(it);
    last["metadata"].as_object()["resourceVersion"] = std::to_string(rv);
    history_.push_back(Event{rv, resource, "DELETED", last, std::nullopt});
  }
  notify();
  return true;
}

int64_t FakeKubeApiServer::upsert_pod(json::object pod) {
  return write_object("pods", std::move(pod));
}
int64_t FakeKubeApiServer::upsert_service_account(json::object sa) {
  return write_object("serviceaccounts", std::move(sa));
}
bool FakeKubeApiServer::delete_pod(const std::string& ns, const std::string& name) {
  return delete_object("pods", ns, name);
}
bool FakeKubeApiServer::delete_service_account(const std::string& ns, const std::string& name) {
  return delete_object("serviceaccounts", ns, name);
}

void FakeKubeApiServer::bookmark() {
  {
    absl::MutexLock lock(&mu_);
    // A bookmark carries the current resourceVersion; it gets an rv of its own so the stream order
    // holds.
    history_.push_back(Event{++rv_, "", "BOOKMARK", std::nullopt, std::nullopt});
  }
  notify();
}

void FakeKubeApiServer::compact() {
  absl::MutexLock lock(&mu_);
  compacted_rv_ = rv_;
  history_.clear();
}

void FakeKubeApiServer::set_outage(bool on) {
  {
    absl::MutexLock lock(&mu_);
    outage_ = on;
  }
  if (on && thread_.joinable()) asio::post(impl_->io_, [this] { impl_->close_all(); });
}

void FakeKubeApiServer::end_watches() {
  {
    absl::MutexLock lock(&mu_);
    ++end_generation_;
  }
  notify();
}

int64_t FakeKubeApiServer::resource_version() const {
  absl::MutexLock lock(&mu_);
  return rv_;
}

void FakeKubeApiServer::notify() {
  if (thread_.joinable()) asio::post(impl_->io_, [this] { impl_->wake_watchers(); });
}

}  // namespace wims::fakes
