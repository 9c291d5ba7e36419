#include "aws/query_handler.h"

#include <utility>

#include "common/random.h"
#include "fmt/format.h"

namespace wims::aws {
namespace {

namespace beast_http = boost::beast::http;

http::Response xml_response(int status, std::string body) {
  http::Response response(static_cast<beast_http::status>(status), 11);
  response.set(beast_http::field::content_type, "text/xml");
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

http::Response error_response(const absl::Status& status, std::string_view xmlns,
                              std::string_view request_id) {
  AwsErrorInfo info = aws_error_info(status);
  http::Response response =
      xml_response(info.http_status, query_error_xml(info, xmlns, request_id));
  response.set("x-amzn-RequestId", std::string(request_id));
  return response;
}

}  // namespace

SigV4Request to_sigv4_request(const http::Request& request) {
  SigV4Request out;
  out.method = std::string(request.message.method_string());
  std::string_view target(request.message.target().data(), request.message.target().size());
  size_t q = target.find('?');
  out.raw_path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) out.raw_query = std::string(target.substr(q + 1));
  for (const auto& field : request.message) {
    out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  out.body = request.message.body();
  return out;
}

AwsQueryHandler::AwsQueryHandler(IamService& iam, StsService& sts, const Clock& clock,
                                 AwsQueryHandlerOptions options)
    : iam_(iam),
      sts_(sts),
      options_(std::move(options)),
      iam_verifier_("iam", clock, options_.max_clock_skew),
      sts_verifier_("sts", clock, options_.max_clock_skew) {}

absl::StatusOr<SigV4Identity> AwsQueryHandler::authenticate(const http::Request& request,
                                                            std::string_view service,
                                                            bool allow_sessions) const {
  const SigV4Verifier& verifier = service == "iam" ? iam_verifier_ : sts_verifier_;
  return verifier.verify(
      to_sigv4_request(request), [&](std::string_view akid) -> std::optional<SigV4Secret> {
        if (!options_.admin_access_key_id.empty() && akid == options_.admin_access_key_id) {
          return SigV4Secret{options_.admin_secret_access_key, "", std::nullopt};
        }
        if (allow_sessions) return sts_.signing_secret(akid);
        return std::nullopt;
      });
}

boost::asio::awaitable<http::Response> AwsQueryHandler::handle(http::Request& request) {
  const std::string request_id = random_uuid();
  request.route = "aws.query";
  if (request.method() != beast_http::verb::post && request.method() != beast_http::verb::get) {
    http::Response r = error_response(
        aws_error("InvalidAction", "Only GET and POST are supported."), kIamXmlns, request_id);
    r.result(beast_http::status::method_not_allowed);
    co_return r;
  }
  // Parameters come from the query string and, for a form POST, the body (the body wins).
  absl::StatusOr<QueryParams> params = QueryParams::parse(request.query);
  if (params.ok() && request.method() == beast_http::verb::post &&
      !request.message.body().empty()) {
    absl::StatusOr<QueryParams> form = QueryParams::parse(request.message.body());
    if (!form.ok()) {
      params = form.status();
    } else {
      for (const auto& [k, v] : form->all()) params->set(k, v);
    }
  }
  if (!params.ok()) co_return error_response(params.status(), kIamXmlns, request_id);
  std::optional<std::string> action = params->get("Action");
  if (!action.has_value() || action->empty()) {
    co_return error_response(aws_error("MissingAction", "Missing Action"), kIamXmlns, request_id);
  }

  if (StsService::handles(*action)) {
    request.route = "aws.sts";
    absl::StatusOr<std::string> body;
    if (StsService::is_unsigned(*action)) {
      body = co_await sts_.assume_role_with_web_identity(*std::move(params), request_id);
    } else {
      absl::StatusOr<SigV4Identity> caller = authenticate(request, "sts", /*allow_sessions=*/true);
      if (!caller.ok()) co_return error_response(caller.status(), kStsXmlns, request_id);
      body = sts_.get_caller_identity(*caller, options_.admin_access_key_id, request_id);
    }
    if (!body.ok()) co_return error_response(body.status(), kStsXmlns, request_id);
    co_return xml_response(200, *std::move(body));
  }
  if (IamService::handles(*action)) {
    request.route = "aws.iam";
    absl::StatusOr<SigV4Identity> caller = authenticate(request, "iam", /*allow_sessions=*/false);
    if (!caller.ok()) co_return error_response(caller.status(), kIamXmlns, request_id);
    absl::StatusOr<std::string> body = iam_.call(*action, *params, request_id);
    if (!body.ok()) co_return error_response(body.status(), kIamXmlns, request_id);
    co_return xml_response(200, *std::move(body));
  }
  co_return error_response(
      aws_error("InvalidAction",
                fmt::format("Could not find operation {} for version {}", *action,
                            params->get("Version").value_or("NO_VERSION_SPECIFIED"))),
      kIamXmlns, request_id);
}

}  // namespace wims::aws
