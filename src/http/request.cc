#include "http/request.h"

#include <boost/url/encoding_opts.hpp>
#include <boost/url/params_view.hpp>
#include <boost/url/parse_query.hpp>
#include <utility>

namespace wims::http {
namespace {

// Query strings are decoded the way clients encode them (application/x-www-form-urlencoded: '+' is
// a space), which is what Go's url.ParseQuery and Python's parse_qs do on the client side. An
// invalid query (a bad percent-escape) has no parameters: the server rejects such targets before
// any handler runs.
template <class Visit>
void for_each_param(std::string_view query, std::string_view name, Visit visit) {
  // An empty view may have a null data pointer, which Boost.URL 1.81's parse_query does not accept.
  if (query.empty()) return;
  // NUL-terminated copy: Boost.URL 1.81's compiled parse_query reads its input with strlen (ASan).
  const std::string owned(query);
  boost::urls::string_view text(owned.data(), owned.size());
  // Validate first: the params_view constructor throws on an invalid query.
  if (!boost::urls::parse_query(text)) return;
  boost::urls::encoding_opts opts;
  opts.space_as_plus = true;
  boost::urls::params_view params(text, opts);
  for (auto param : params) {
    if (param.key == name) {
      if (!visit(param)) return;
    }
  }
}

}  // namespace

std::optional<std::string> Request::query_param(std::string_view name) const {
  std::optional<std::string> found;
  for_each_param(query, name, [&](const boost::urls::param& param) {
    found = param.has_value ? param.value : std::string();
    return false;
  });
  return found;
}

size_t Request::query_param_count(std::string_view name) const {
  size_t count = 0;
  for_each_param(query, name, [&](const boost::urls::param&) {
    ++count;
    return true;
  });
  return count;
}

Response make_response(beast_http::status status, std::string_view content_type, std::string body) {
  Response response(status, 11);
  if (!content_type.empty()) {
    response.set(beast_http::field::content_type,
                 boost::beast::string_view(content_type.data(), content_type.size()));
  }
  response.body() = std::move(body);
  return response;
}

}  // namespace wims::http
