#include "cloud/google_json.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/params_view.hpp>
#include <boost/url/parse_query.hpp>
#include <charconv>

#include "fmt/format.h"

namespace wims::cloud {

absl::StatusOr<boost::json::object> parse_json_body(const http::Request& request) {
  const std::string& body = request.message.body();
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return boost::json::object();
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(body, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        fmt::format("Invalid JSON payload received. {}.", ec.message()));
  }
  if (!value.is_object()) {
    return absl::InvalidArgumentError(
        "Invalid JSON payload received. Expected an object at the top level.");
  }
  return std::move(value.get_object());
}

absl::Status check_known_fields(const boost::json::object& object,
                                const std::vector<std::string_view>& allowed) {
  for (const auto& member : object) {
    std::string_view key(member.key().data(), member.key().size());
    bool known = false;
    for (std::string_view name : allowed) known = known || name == key;
    if (!known) {
      return absl::InvalidArgumentError(fmt::format(
          "Invalid JSON payload received. Unknown name \"{}\": Cannot find field.", key));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> optional_string_field(const boost::json::object& object,
                                                                 std::string_view name) {
  auto it = object.find(name);
  if (it == object.end() || it->value().is_null()) return std::nullopt;
  if (!it->value().is_string()) {
    return absl::InvalidArgumentError(fmt::format("Invalid value at '{}' (TYPE_STRING), {}", name,
                                                  boost::json::serialize(it->value())));
  }
  return std::string(it->value().get_string());
}

absl::StatusOr<std::optional<bool>> optional_bool_field(const boost::json::object& object,
                                                        std::string_view name) {
  auto it = object.find(name);
  if (it == object.end() || it->value().is_null()) return std::nullopt;
  if (!it->value().is_bool()) {
    return absl::InvalidArgumentError(fmt::format("Invalid value at '{}' (TYPE_BOOL), {}", name,
                                                  boost::json::serialize(it->value())));
  }
  return it->value().get_bool();
}

absl::StatusOr<std::optional<int64_t>> optional_int_field(const boost::json::object& object,
                                                          std::string_view name) {
  auto it = object.find(name);
  if (it == object.end() || it->value().is_null()) return std::nullopt;
  const boost::json::value& v = it->value();
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64() && v.get_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    return static_cast<int64_t>(v.get_uint64());
  }
  if (v.is_double() &&
      v.get_double() == static_cast<double>(static_cast<int64_t>(v.get_double()))) {
    return static_cast<int64_t>(v.get_double());
  }
  if (v.is_string()) {
    std::string_view s(v.get_string().data(), v.get_string().size());
    int64_t n = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec == std::errc() && end == s.data() + s.size() && !s.empty()) return n;
  }
  return absl::InvalidArgumentError(
      fmt::format("Invalid value at '{}' (TYPE_INT32), {}", name, boost::json::serialize(v)));
}

absl::StatusOr<std::vector<std::string>> string_list_field(const boost::json::object& object,
                                                           std::string_view name) {
  std::vector<std::string> out;
  auto it = object.find(name);
  if (it == object.end() || it->value().is_null()) return out;
  if (!it->value().is_array()) {
    return absl::InvalidArgumentError(fmt::format("Invalid value at '{}' (TYPE_STRING), {}", name,
                                                  boost::json::serialize(it->value())));
  }
  const boost::json::array& array = it->value().get_array();
  for (size_t i = 0; i < array.size(); ++i) {
    if (!array[i].is_string()) {
      return absl::InvalidArgumentError(fmt::format("Invalid value at '{}[{}]' (TYPE_STRING), {}",
                                                    name, i, boost::json::serialize(array[i])));
    }
    out.emplace_back(array[i].get_string());
  }
  return out;
}

absl::StatusOr<absl::Duration> parse_proto_duration(std::string_view text) {
  auto invalid = [&] {
    return absl::InvalidArgumentError(fmt::format(
        "Invalid value \"{}\": a duration must be decimal seconds ending in 's'", text));
  };
  if (text.size() < 2 || text.back() != 's') return invalid();
  std::string_view number = text.substr(0, text.size() - 1);
  bool negative = number.front() == '-';
  if (negative) number.remove_prefix(1);
  size_t dot = number.find('.');
  std::string_view whole = number.substr(0, dot);
  std::string_view fraction = dot == std::string_view::npos ? "" : number.substr(dot + 1);
  if (whole.empty() || whole.size() > 12 || fraction.size() > 9 ||
      (dot != std::string_view::npos && fraction.empty())) {
    return invalid();
  }
  int64_t seconds = 0;
  auto [end, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), seconds);
  if (ec != std::errc() || end != whole.data() + whole.size()) return invalid();
  int64_t nanos = 0;
  if (!fraction.empty()) {
    auto [fend, fec] = std::from_chars(fraction.data(), fraction.data() + fraction.size(), nanos);
    if (fec != std::errc() || fend != fraction.data() + fraction.size()) return invalid();
    for (size_t i = fraction.size(); i < 9; ++i) nanos *= 10;
  }
  absl::Duration d = absl::Seconds(seconds) + absl::Nanoseconds(nanos);
  return negative ? -d : d;
}

std::vector<std::string> query_values(std::string_view query, std::string_view name) {
  std::vector<std::string> out;
  // Decoded as http::Request::query_param does: validated first ('+' is a space), and an empty view
  // is never handed to Boost.URL 1.81 (it rejects a null data pointer).
  if (query.empty()) return out;
  // NUL-terminated copy: Boost.URL 1.81's compiled parse_query reads its input with strlen (ASan).
  const std::string owned(query);
  boost::urls::string_view text(owned.data(), owned.size());
  if (!boost::urls::parse_query(text)) return out;
  boost::urls::encoding_opts opts;
  opts.space_as_plus = true;
  boost::urls::params_view params(text, opts);
  for (auto param : params) {
    if (param.key == name) out.push_back(param.has_value ? param.value : std::string());
  }
  return out;
}

http::Response json_response(const boost::json::value& body, int status) {
  return http::make_response(static_cast<boost::beast::http::status>(status),
                             "application/json; charset=UTF-8", boost::json::serialize(body));
}

}  // namespace wims::cloud
