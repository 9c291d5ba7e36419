#include "broker/upstream.h"

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include "absl/strings/ascii.h"

namespace wims::broker {
namespace {

// Upstream error bodies are quoted into our own errors; keep them short.
constexpr size_t kMaxQuotedBody = 256;

std::string message_from_body(std::string_view body) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(body, ec);
  if (!ec && value.is_object()) {
    const auto& object = value.get_object();
    if (const auto* error = object.if_contains("error")) {
      if (error->is_object()) {  // Google APIs: {"error":{"code","message","status"}}
        if (const auto* message = error->get_object().if_contains("message");
            message && message->is_string()) {
          return std::string(message->get_string());
        }
      } else if (error->is_string()) {  // OAuth 2.0 (RFC 6749 5.2), as the STS answers
        std::string text(error->get_string());
        if (const auto* description = object.if_contains("error_description");
            description && description->is_string()) {
          text += ": ";
          text += std::string(description->get_string());
        }
        return text;
      }
    }
    if (const auto* message = object.if_contains("message"); message && message->is_string()) {
      return std::string(message->get_string());  // Kubernetes metav1.Status
    }
  }
  std::string text(body.substr(0, kMaxQuotedBody));
  return std::string(absl::StripAsciiWhitespace(text));
}

}  // namespace

absl::Status upstream_error(std::string_view service, int http_status, std::string_view body) {
  std::string message = fmt::format("{}: {}: {}", service, http_status, message_from_body(body));
  switch (http_status) {
    case 400:
    case 401:
    case 403:
      return absl::PermissionDeniedError(message);
    case 404:
      return absl::NotFoundError(message);
    case 409:
    case 422:
      return absl::FailedPreconditionError(message);
    case 429:
      return absl::ResourceExhaustedError(message);
    default:
      if (http_status >= 500 && http_status <= 599) return absl::UnavailableError(message);
      return absl::UnknownError(message);
  }
}

boost::asio::awaitable<absl::StatusOr<std::string>> call_upstream(HttpTransport& transport,
                                                                  std::string service,
                                                                  TransportRequest request,
                                                                  UpstreamMetrics metrics) {
  absl::StatusOr<http::Response> response = co_await transport.send(std::move(request));
  if (!response.ok()) {
    if (metrics) metrics(service, 0);
    co_return absl::UnavailableError(fmt::format("{}: {}", service, response.status().ToString()));
  }
  int status = static_cast<int>(response->result_int());
  if (metrics) metrics(service, status);
  if (status < 200 || status > 299) co_return upstream_error(service, status, response->body());
  co_return std::move(response->body());
}

absl::StatusOr<boost::json::object> parse_json_object(std::string_view service,
                                                      std::string_view body) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(body, ec);
  if (ec)
    return absl::InternalError(
        fmt::format("{}: malformed JSON response: {}", service, ec.message()));
  if (!value.is_object())
    return absl::InternalError(fmt::format("{}: response is not a JSON object", service));
  return std::move(value.get_object());
}

absl::StatusOr<std::string> json_string_member(std::string_view service,
                                               const boost::json::object& object,
                                               std::string_view name) {
  const auto* member = object.if_contains(name);
  if (member == nullptr || !member->is_string()) {
    return absl::InternalError(fmt::format("{}: response has no string \"{}\"", service, name));
  }
  return std::string(member->get_string());
}

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out += '&';
    out += boost::urls::encode(name, boost::urls::unreserved_chars);
    out += '=';
    out += boost::urls::encode(value, boost::urls::unreserved_chars);
  }
  return out;
}

}  // namespace wims::broker
