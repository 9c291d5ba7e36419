// FakeKsaTokenSource: a KsaTokenSource for broker tests that answers "ksa-token-for-<pod>" (or the
// error it is given) and records every (pod, audience) it was asked for. Not thread-safe: tests
// drive it from one io_context thread.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/url/url.hpp>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "broker/ksa_token_source.h"

namespace wims::broker::testing {

class FakeKsaTokenSource final : public KsaTokenSource {
 public:
  boost::asio::awaitable<absl::StatusOr<std::string>> token(const Caller& caller,
                                                            std::string audience) override {
    calls.emplace_back(caller.pod.name, audience);
    if (!error.ok()) co_return error;
    co_return "ksa-token-for-" + caller.pod.name;
  }
  std::vector<std::pair<std::string, std::string>> calls;  // (pod, audience)
  absl::Status error;
};

// The fields of an application/x-www-form-urlencoded body (an STS request), decoded.
inline std::map<std::string, std::string> form_fields(const std::string& body) {
  boost::urls::url url;
  url.set_encoded_query(body);
  std::map<std::string, std::string> fields;
  for (auto param : url.params()) fields[param.key] = param.value;
  return fields;
}

}  // namespace wims::broker::testing
