#include "metadata/aws_imds_response.h"

#include <fmt/format.h>

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include "common/encoding.h"
#include "metadata/gce_response.h"

namespace wims::metadata {
namespace {

namespace bh = boost::beast::http;

std::string json_string(std::string_view text) {
  return boost::json::serialize(
      boost::json::string(boost::json::string_view(text.data(), text.size())));
}

}  // namespace

http::Response imds_response(bh::status status, std::string_view content_type, std::string body) {
  http::Response response(status, 11);
  response.set(bh::field::server, kImdsServer);
  response.set(bh::field::content_type, content_type);
  response.body() = std::move(body);
  return response;
}

http::Response imds_ok(std::string body) {
  return imds_response(bh::status::ok, kImdsTextContentType, std::move(body));
}

http::Response imds_error_page(bh::status status, std::string_view message) {
  const auto reason = bh::obsolete_reason(status);
  const std::string title = fmt::format("{} - {}", static_cast<unsigned>(status),
                                        std::string_view(reason.data(), reason.size()));
  std::string body = fmt::format(
      "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>\n"
      "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\"\n"
      "\t\"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n"
      "<html xmlns=\"http://www.w3.org/1999/xhtml\" xml:lang=\"en\" lang=\"en\">\n"
      " <head>\n  <title>{0}</title>\n </head>\n <body>\n  <h1>{0}</h1>\n",
      title);
  if (!message.empty()) body += fmt::format("  <p>{}</p>\n", markup_escape(message));
  body += " </body>\n</html>\n";
  return imds_response(status, kImdsHtmlContentType, std::move(body));
}

http::Response imds_error(const absl::Status& status) {
  const std::string message(status.message());
  bh::status http_status = bh::status::internal_server_error;
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      http_status = bh::status::bad_request;
      break;
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kFailedPrecondition:
      http_status = bh::status::forbidden;
      break;
    case absl::StatusCode::kNotFound:
      http_status = bh::status::not_found;
      break;
    case absl::StatusCode::kResourceExhausted:
      http_status = bh::status::too_many_requests;
      break;
    case absl::StatusCode::kUnavailable:
      http_status = bh::status::service_unavailable;
      break;
    case absl::StatusCode::kDeadlineExceeded:
      http_status = bh::status::gateway_timeout;
      break;
    default:
      break;
  }
  http::Response response = imds_error_page(http_status, message);
  if (http_status == bh::status::too_many_requests ||
      http_status == bh::status::service_unavailable) {
    response.set(bh::field::retry_after, "1");
  }
  return response;
}

std::string imds_pretty_json(
    const std::vector<std::pair<std::string, std::optional<std::string>>>& fields) {
  std::string out = "{\n";
  for (size_t i = 0; i < fields.size(); ++i) {
    out += "  " + json_string(fields[i].first) + " : " +
           (fields[i].second ? json_string(*fields[i].second) : std::string("null"));
    out += i + 1 < fields.size() ? ",\n" : "\n";
  }
  out += "}";
  return out;
}

}  // namespace wims::metadata
