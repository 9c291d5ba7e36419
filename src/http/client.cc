#include "http/client.h"

#include <openssl/ssl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <cctype>
#include <charconv>
#include <chrono>
#include <exception>
#include <optional>

#include "fmt/format.h"

namespace wims::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

struct Target {
  bool https = false;
  std::string host;  // for DNS, SNI and verification: no brackets
  std::string host_header;
  bool ip_literal = false;
  uint16_t port = 0;
  std::string path_and_query;
};

absl::StatusOr<Target> parse_target(const std::string& text) {
  auto fail = [&](std::string_view why) {
    return absl::InvalidArgumentError(fmt::format("invalid URL '{}': {}", text, why));
  };
  auto url = boost::urls::parse_uri(boost::urls::string_view(text.data(), text.size()));
  if (!url) return fail(url.error().message());
  Target target;
  if (url->scheme_id() == boost::urls::scheme::https) {
    target.https = true;
  } else if (url->scheme_id() != boost::urls::scheme::http) {
    return fail("only http and https are supported");
  }
  if (url->has_userinfo()) return fail("user info is not supported");
  switch (url->host_type()) {
    case boost::urls::host_type::ipv4:
      target.host = url->host_ipv4_address().to_string();
      target.ip_literal = true;
      break;
    case boost::urls::host_type::ipv6:
      target.host = url->host_ipv6_address().to_string();
      target.ip_literal = true;
      break;
    case boost::urls::host_type::name:
      target.host = url->host_name();
      break;
    default:
      return fail("unsupported host");
  }
  if (target.host.empty()) return fail("missing host");
  target.port = target.https ? 443 : 80;
  if (url->has_port()) {
    std::string_view port(url->port().data(), url->port().size());
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 ||
        value > 65535) {
      return fail("invalid port");
    }
    target.port = static_cast<uint16_t>(value);
  }
  target.host_header = std::string(url->encoded_host_and_port());
  target.path_and_query = url->encoded_path().empty() ? "/" : std::string(url->encoded_path());
  if (url->has_query()) target.path_and_query += "?" + std::string(url->encoded_query());
  return target;
}

bool is_token(std::string_view name) {
  if (name.empty()) return false;
  for (unsigned char c : name) {
    if (std::isalnum(c)) continue;
    if (std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

// Beast 1.81 writes header values verbatim, so CR/LF here would inject header lines upstream.
bool is_field_value(std::string_view value) {
  for (unsigned char c : value) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

absl::Status transport_error(std::string_view what, const Target& target,
                             const beast::error_code& ec, absl::Duration timeout) {
  if (ec == beast::error::timeout) {
    return absl::UnavailableError(fmt::format("{} {}:{} timed out (deadline {})", what, target.host,
                                              target.port, absl::FormatDuration(timeout)));
  }
  return absl::UnavailableError(
      fmt::format("{} {}:{} failed: {}", what, target.host, target.port, ec.message()));
}

// Writes `request` and reads the response on an established (plain or TLS) stream.
template <class Stream>
asio::awaitable<absl::StatusOr<Response>> exchange(Stream& stream, RawRequest& request,
                                                   const ClientRequest& options,
                                                   const Target& target) {
  auto [write_ec, written] = co_await beast_http::async_write(stream, request, kNoThrow);
  if (write_ec)
    co_return transport_error("sending the request to", target, write_ec, options.timeout);
  beast::flat_buffer buffer;
  beast_http::response_parser<beast_http::string_body> parser;
  parser.body_limit(options.body_limit);
  if (request.method() == beast_http::verb::head) parser.skip(true);
  auto [read_ec, read] = co_await beast_http::async_read(stream, buffer, parser, kNoThrow);
  if (read_ec == beast_http::error::body_limit || read_ec == beast_http::error::header_limit) {
    co_return absl::ResourceExhaustedError(
        fmt::format("response from {}:{} exceeds the limit of {} bytes", target.host, target.port,
                    options.body_limit));
  }
  if (read_ec &&
      read_ec.category() == beast_http::make_error_code(beast_http::error::bad_target).category() &&
      read_ec != beast_http::error::end_of_stream &&
      read_ec != beast_http::error::partial_message) {
    co_return absl::InternalError(fmt::format("malformed HTTP response from {}:{}: {}", target.host,
                                              target.port, read_ec.message()));
  }
  if (read_ec)
    co_return transport_error("reading the response from", target, read_ec, options.timeout);
  co_return parser.release();
}

}  // namespace

Client::Client(std::shared_ptr<asio::ssl::context> tls) : tls_(std::move(tls)) {
  if (!tls_) {
    tls_ = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    tls_->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                      asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                      asio::ssl::context::no_tlsv1_1);
    tls_->set_verify_mode(asio::ssl::verify_peer);
    beast::error_code ec;
    tls_->set_default_verify_paths(ec);  // no CA store: every https request fails verification
  }
}

asio::awaitable<absl::StatusOr<Response>> Client::send(ClientRequest request) {
  std::string url = request.url;
  try {
    co_return co_await send_unchecked(std::move(request));
  } catch (const std::exception& e) {
    // Beast throws for invalid methods and header values; Asio for resource exhaustion.
    co_return absl::InvalidArgumentError(fmt::format("request to '{}' failed: {}", url, e.what()));
  }
}

asio::awaitable<absl::StatusOr<Response>> Client::send_unchecked(ClientRequest request) {
  absl::StatusOr<Target> target = parse_target(request.url);
  if (!target.ok()) co_return target.status();

  RawRequest message(request.method, target->path_and_query, 11);
  message.set(beast_http::field::host, target->host_header);
  message.set(beast_http::field::user_agent, "wims/" WIMS_VERSION);
  for (auto& [name, value] : request.headers) {
    if (!is_token(name) || !is_field_value(value)) {
      co_return absl::InvalidArgumentError(
          fmt::format("invalid header '{}' in request to '{}'", name, request.url));
    }
    if (beast::iequals(name, "host") || beast::iequals(name, "user-agent")) {
      message.set(name, value);
    } else {
      message.insert(name, value);
    }
  }
  message.keep_alive(false);
  message.body() = std::move(request.body);
  if (!message.body().empty() || request.method == beast_http::verb::post ||
      request.method == beast_http::verb::put || request.method == beast_http::verb::patch) {
    message.prepare_payload();
  }

  auto executor = co_await asio::this_coro::executor;
  tcp::resolver resolver(executor);
  auto flags = target->ip_literal ? tcp::resolver::numeric_host : tcp::resolver::flags();
  auto [resolve_ec, endpoints] = co_await resolver.async_resolve(
      target->host, std::to_string(target->port), flags | tcp::resolver::numeric_service, kNoThrow);
  if (resolve_ec) co_return transport_error("resolving", *target, resolve_ec, request.timeout);

  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            absl::ToChronoNanoseconds(request.timeout));
  beast::tcp_stream stream(executor);
  stream.expires_at(deadline);
  auto [connect_ec, connected] = co_await stream.async_connect(endpoints, kNoThrow);
  if (connect_ec) co_return transport_error("connecting to", *target, connect_ec, request.timeout);
  beast::error_code ignored_ec;
  stream.socket().set_option(tcp::no_delay(true),
                             ignored_ec);  // header and body are separate writes

  if (!target->https) {
    absl::StatusOr<Response> response = co_await exchange(stream, message, request, *target);
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    co_return response;
  }

  beast::ssl_stream<beast::tcp_stream> tls(std::move(stream), *tls_);
  if (!target->ip_literal && !SSL_set_tlsext_host_name(tls.native_handle(), target->host.c_str())) {
    co_return absl::InvalidArgumentError(fmt::format("cannot use '{}' for SNI", target->host));
  }
  tls.set_verify_mode(asio::ssl::verify_peer);
  tls.set_verify_callback(asio::ssl::host_name_verification(target->host));
  beast::get_lowest_layer(tls).expires_at(deadline);
  auto [handshake_ec] = co_await tls.async_handshake(asio::ssl::stream_base::client, kNoThrow);
  if (handshake_ec) {
    co_return transport_error("TLS handshake with", *target, handshake_ec, request.timeout);
  }
  // No TLS close_notify: the request says "Connection: close" and the response is complete.
  co_return co_await exchange(tls, message, request, *target);
}

absl::StatusOr<Response> Client::send_blocking(ClientRequest request) {
  asio::io_context context(1);
  std::optional<absl::StatusOr<Response>> result;
  asio::co_spawn(context, send(std::move(request)),
                 [&result](std::exception_ptr error, absl::StatusOr<Response> response) {
                   if (error) {
                     result = absl::InternalError("HTTP client coroutine failed");
                   } else {
                     result = std::move(response);
                   }
                 });
  context.run();
  if (!result.has_value()) return absl::InternalError("HTTP client did not complete");
  return *std::move(result);
}

}  // namespace wims::http
