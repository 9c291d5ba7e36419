#include "webhook/admission_handler.h"

#include <spdlog/spdlog.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "common/strings.h"
#include "fmt/format.h"
#include "webhook/pod_edit.h"

namespace wims::webhook {

namespace beast_http = http::beast_http;

namespace {

http::Response plain(beast_http::status status, std::string body) {
  return http::make_response(status, "text/plain; charset=utf-8", std::move(body));
}

bool is_json_content_type(std::string_view value) {
  std::string_view media = value.substr(0, value.find(';'));
  return absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(to_absl(media)), "application/json");
}

}  // namespace

AdmissionHandler::AdmissionHandler(MutatorOptions options, ServiceAccountLookup& lookup)
    : options_(std::move(options)), lookup_(lookup) {}

boost::asio::awaitable<http::Response> AdmissionHandler::handle(http::Request& request) {
  if (request.path != "/mutate") {
    co_return plain(beast_http::status::not_found, "not found: the webhook serves POST /mutate\n");
  }
  request.route = "webhook.mutate";
  if (request.method() != beast_http::verb::post) {
    http::Response response =
        plain(beast_http::status::method_not_allowed, "method not allowed: use POST\n");
    response.set(beast_http::field::allow, "POST");
    co_return response;
  }
  std::optional<std::string_view> content_type = request.header("Content-Type");
  if (!content_type.has_value() || !is_json_content_type(*content_type)) {
    co_return plain(beast_http::status::unsupported_media_type,
                    fmt::format("unsupported Content-Type \"{}\": expected application/json\n",
                                content_type.value_or("")));
  }
  absl::StatusOr<AdmissionRequest> review = parse_admission_review(request.message.body());
  if (!review.ok()) {
    co_return plain(beast_http::status::bad_request,
                    fmt::format("bad AdmissionReview: {}\n", to_std(review.status().message())));
  }

  MutationInput input{.namespace_name = review->namespace_name};
  Warnings lookup_warnings;
  if (is_pod_create(*review)) {
    if (input.namespace_name.empty()) {
      if (auto ns = review->object->if_contains("metadata"); ns != nullptr && ns->is_object()) {
        if (auto n = ns->as_object().if_contains("namespace"); n != nullptr && n->is_string()) {
          input.namespace_name = std::string(n->as_string());
        }
      }
    }
    const std::string sa_name = pod_service_account_name(*review->object);
    absl::StatusOr<std::optional<config::ServiceAccount>> sa =
        co_await lookup_.find(input.namespace_name, sa_name);
    if (sa.ok()) {
      input.service_account = *std::move(sa);
    } else {
      spdlog::warn("webhook: cannot read service account {}/{}: {}", input.namespace_name, sa_name,
                   sa.status().ToString());
      lookup_warnings.push_back(
          fmt::format("wims webhook could not read service account {}/{} ({}); its identity "
                      "annotations were not applied",
                      input.namespace_name, sa_name, to_std(sa.status().message())));
    }
  }

  AdmissionResponse response = review_pod(*review, input, options_);
  response.warnings.insert(response.warnings.begin(), lookup_warnings.begin(),
                           lookup_warnings.end());
  spdlog::info("webhook: {} {} {}/{} uid={} dryRun={} -> allowed={} patched={}{}",
               review->operation, review->kind.kind, input.namespace_name, review->name,
               review->uid, review->dry_run, response.allowed, !response.patch.empty(),
               response.allowed ? "" : " (" + response.status_message + ")");
  co_return http::make_response(beast_http::status::ok, "application/json",
                                serialize_admission_review(response));
}

}  // namespace wims::webhook
