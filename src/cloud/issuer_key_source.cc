#include "cloud/issuer_key_source.h"

#include "absl/strings/str_cat.h"

namespace wims::cloud {

boost::asio::awaitable<absl::StatusOr<jose::JwkSet>> LocalIssuerKeySource::keys(
    std::string issuer, std::string /*kid*/, absl::Time now) const {
  if (issuer != issuer_url_) {
    co_return absl::NotFoundError(absl::StrCat("unknown issuer \"", issuer, "\""));
  }
  co_return ring_.verification_keys(now);
}

}  // namespace wims::cloud
