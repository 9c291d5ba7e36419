#include "metadata/gce_response.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <cstdlib>
#include <utility>

#include "common/encoding.h"

namespace wims::metadata {
namespace {

namespace bh = boost::beast::http;

// Google's error page as real GCE serves it (the style block left out; clients read only the
// status).
std::string error_page(bh::status status, std::string_view sentence) {
  const unsigned code = static_cast<unsigned>(status);
  const auto reason = bh::obsolete_reason(status);
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n"
      "  <meta name=viewport content=\"initial-scale=1, minimum-scale=1, width=device-width\">\n"
      "  <title>Error {0} ({1})!!1</title>\n"
      "  <a href=//www.google.com/><span id=logo aria-label=Google></span></a>\n"
      "  <p><b>{0}.</b> <ins>That\u2019s an error.</ins>\n"
      "  <p>{2}  <ins>That\u2019s all we know.</ins>\n",
      code, std::string_view(reason.data(), reason.size()), sentence);
}

std::string with_message(std::string sentence, std::string_view message) {
  if (!message.empty()) {
    sentence += ' ';
    sentence += markup_escape(message);
  }
  return sentence;
}

}  // namespace

http::Response gce_response(bh::status status, std::string_view content_type, std::string body) {
  http::Response response(status, 11);
  response.set("Metadata-Flavor", "Google");
  response.set(bh::field::server, "Metadata Server for VM");
  response.set("X-XSS-Protection", "0");
  response.set("X-Frame-Options", "SAMEORIGIN");
  response.set(bh::field::content_type, content_type);
  response.body() = std::move(body);
  return response;
}

http::Response gce_ok(std::string_view content_type, std::string body) {
  const std::string etag = gce_etag(body);
  http::Response response = gce_response(bh::status::ok, content_type, std::move(body));
  response.set(bh::field::etag, etag);
  return response;
}

http::Response gce_error(const absl::Status& status, std::string_view path) {
  const std::string code_path = "<code>" + markup_escape(path) + "</code>";
  const std::string_view message(status.message().data(), status.message().size());
  bh::status http_status = bh::status::internal_server_error;
  std::string sentence;
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      http_status = bh::status::bad_request;
      sentence = with_message("Your client has issued a malformed or illegal request.", message);
      break;
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kUnauthenticated:
      http_status = bh::status::forbidden;
      sentence = with_message(
          fmt::format("Your client does not have permission to get URL {} from this server.",
                      code_path),
          message);
      break;
    case absl::StatusCode::kNotFound:
      http_status = bh::status::not_found;
      sentence = with_message(
          fmt::format("The requested URL {} was not found on this server.", code_path), message);
      break;
    case absl::StatusCode::kResourceExhausted:
      http_status = bh::status::too_many_requests;
      sentence = with_message("Too many requests; retry later.", message);
      break;
    case absl::StatusCode::kUnimplemented:
      http_status = bh::status::not_implemented;
      sentence = with_message("The server does not support this request.", message);
      break;
    case absl::StatusCode::kUnavailable:
      http_status = bh::status::service_unavailable;
      sentence = with_message("The service is temporarily unavailable; retry later.", message);
      break;
    case absl::StatusCode::kDeadlineExceeded:
      http_status = bh::status::gateway_timeout;
      sentence = with_message("An upstream call timed out.", message);
      break;
    default:
      http_status = bh::status::internal_server_error;
      sentence = with_message("The server encountered an error.", message);
      break;
  }
  http::Response response =
      gce_response(http_status, kGceHtmlContentType, error_page(http_status, sentence));
  if (http_status == bh::status::too_many_requests ||
      http_status == bh::status::service_unavailable) {
    response.set(bh::field::retry_after, "1");
  }
  return response;
}

http::Response gce_method_not_allowed(std::string_view path) {
  const std::string sentence =
      fmt::format("The request method is not allowed for the URL <code>{}</code>; use GET.",
                  markup_escape(path));
  http::Response response = gce_response(bh::status::method_not_allowed, kGceHtmlContentType,
                                         error_page(bh::status::method_not_allowed, sentence));
  response.set(bh::field::allow, "GET, HEAD");
  return response;
}

http::Response gce_redirect(std::string_view location, std::string_view body) {
  // Real GCE answers a directory without its slash with a bare `text/html` 301 (gce_metadata_server
  // #3).
  http::Response response =
      gce_response(bh::status::moved_permanently, "text/html", std::string(body));
  response.set(bh::field::location, location);
  return response;
}

std::string gce_etag(std::string_view body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(body.data(), body.size(), digest, &length, EVP_sha256(), nullptr) != 1 ||
      length < 8) {
    // SHA-256 is always available in OpenSSL 3's default provider; failing here is a broken
    // install.
    fmt::print(stderr, "wims: EVP_Digest(SHA-256) failed\n");
    std::abort();
  }
  return hex_encode(std::string_view(reinterpret_cast<const char*>(digest), 8));
}

}  // namespace wims::metadata
