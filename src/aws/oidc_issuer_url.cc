#include "aws/oidc_issuer_url.h"

#include <boost/url/ipv4_address.hpp>
#include <boost/url/parse.hpp>

namespace wims::aws {
namespace {

bool is_loopback_host(const boost::urls::url_view& url) {
  switch (url.host_type()) {
    case boost::urls::host_type::ipv4:
      return url.host_ipv4_address().is_loopback();
    case boost::urls::host_type::ipv6:
      return url.host_ipv6_address().is_loopback();
    case boost::urls::host_type::name:
      return url.encoded_host() == "localhost";
    default:
      return false;
  }
}

}  // namespace

std::optional<std::string> oidc_provider_url(std::string_view issuer) {
  // Boost.URL 1.81's compiled parsers read their input with strlen: hand them a NUL-terminated
  // copy, never a view into someone else's buffer. The url_view points into `text`, which outlives
  // it.
  const std::string text(issuer);
  boost::urls::result<boost::urls::url_view> parsed = boost::urls::parse_absolute_uri(text);
  if (!parsed) return std::nullopt;
  const boost::urls::url_view& url = *parsed;
  if (url.has_userinfo() || url.has_query() || url.has_fragment() || url.encoded_host().empty()) {
    return std::nullopt;
  }
  const bool https = url.scheme_id() == boost::urls::scheme::https;
  const bool loopback_http = url.scheme_id() == boost::urls::scheme::http && is_loopback_host(url);
  if (!https && !loopback_http) return std::nullopt;
  std::string_view rest =
      std::string_view(text).substr(url.scheme().size() + 3);  // after "scheme://"
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  return std::string(rest);
}

}  // namespace wims::aws
