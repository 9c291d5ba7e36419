// FakeHttpTransport: a scripted HttpTransport for broker tests. Routes match by URL substring (the
// latest matching rule wins) and answer with a status and body, or fail as the network would (no
// response). Every request is recorded so tests can assert on what the real APIs would receive.
// Thread-safe; answers at once.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "broker/http_transport.h"

namespace wims::broker::testing {

class FakeHttpTransport final : public HttpTransport {
 public:
  void on(std::string url_part, int status, std::string body) {
    absl::MutexLock lock(&mu_);
    rules_.push_back(Rule{std::move(url_part), absl::OkStatus(), status, std::move(body)});
  }
  void fail(std::string url_part, absl::Status error) {
    absl::MutexLock lock(&mu_);
    rules_.push_back(Rule{std::move(url_part), std::move(error), 0, ""});
  }
  std::vector<TransportRequest> requests() const {
    absl::MutexLock lock(&mu_);
    return requests_;
  }
  std::vector<TransportRequest> requests_to(std::string_view url_part) const {
    absl::MutexLock lock(&mu_);
    std::vector<TransportRequest> out;
    for (const auto& r : requests_) {
      if (r.url.find(url_part) != std::string::npos) out.push_back(r);
    }
    return out;
  }

  boost::asio::awaitable<absl::StatusOr<http::Response>> send(TransportRequest request) override {
    Rule rule{"", absl::OkStatus(), 404, "{\"error\":\"no fake route\"}"};
    {
      absl::MutexLock lock(&mu_);
      for (auto it = rules_.rbegin(); it != rules_.rend(); ++it) {
        if (request.url.find(it->url_part) != std::string::npos) {
          rule = *it;
          break;
        }
      }
      requests_.push_back(std::move(request));
    }
    if (!rule.error.ok()) co_return rule.error;
    http::Response response(static_cast<boost::beast::http::status>(rule.status), 11);
    response.set(boost::beast::http::field::content_type, "application/json");
    response.body() = rule.body;
    response.prepare_payload();
    co_return response;
  }

 private:
  struct Rule {
    std::string url_part;
    absl::Status error;
    int status;
    std::string body;
  };
  mutable absl::Mutex mu_;
  std::vector<Rule> rules_ ABSL_GUARDED_BY(mu_);
  std::vector<TransportRequest> requests_ ABSL_GUARDED_BY(mu_);
};

// The value of header `name` in `request` (first match, case-sensitive as we send them), or
// nullopt.
inline std::optional<std::string> header(const TransportRequest& request, std::string_view name) {
  for (const auto& [n, v] : request.headers) {
    if (n == name) return v;
  }
  return std::nullopt;
}

}  // namespace wims::broker::testing
