#include "aws/query_protocol.h"

#include <boost/url/params_encoded_view.hpp>
#include <boost/url/parse_query.hpp>
#include <cctype>
#include <cstdlib>

#include "absl/strings/numbers.h"
#include "common/encoding.h"
#include "common/strings.h"
#include "fmt/format.h"

namespace wims::aws {
namespace {

std::string lower_camel(std::string_view name) {
  std::string out(name);
  if (!out.empty()) out[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[0])));
  return out;
}

}  // namespace

absl::StatusOr<QueryParams> QueryParams::parse(std::string_view form) {
  QueryParams params;
  if (form.empty()) return params;
  // NUL-terminated copy: Boost.URL 1.81's compiled parse_query reads its input with strlen (ASan).
  const std::string owned(form);
  auto parsed = boost::urls::parse_query(boost::urls::string_view(owned.data(), owned.size()));
  if (!parsed) {
    return aws_error("MalformedQueryString",
                     "The request body is not valid application/x-www-form-urlencoded.");
  }
  boost::urls::encoding_opts opts;
  opts.space_as_plus = true;
  for (auto param : *parsed) {
    std::string key = param.key.decode(opts);
    if (key.empty()) continue;
    params.params_[std::move(key)] = param.has_value ? param.value.decode(opts) : std::string();
  }
  return params;
}

std::optional<std::string> QueryParams::get(std::string_view name) const {
  auto it = params_.find(name);
  if (it == params_.end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<std::string> QueryParams::required(std::string_view name) const {
  std::optional<std::string> value = get(name);
  if (!value.has_value()) {
    return aws_error(
        "ValidationError",
        fmt::format("1 validation error detected: Value null at '{}' failed to satisfy constraint: "
                    "Member must not be null",
                    lower_camel(name)));
  }
  return *value;
}

std::vector<std::string> QueryParams::members(std::string_view name) const {
  std::vector<std::string> out;
  for (int i = 1;; ++i) {
    std::optional<std::string> v = get(fmt::format("{}.member.{}", name, i));
    if (!v.has_value()) break;
    out.push_back(*std::move(v));
  }
  return out;
}

std::vector<std::map<std::string, std::string>> QueryParams::member_structs(
    std::string_view name) const {
  std::vector<std::map<std::string, std::string>> out;
  for (int i = 1;; ++i) {
    std::string prefix = fmt::format("{}.member.{}.", name, i);
    std::map<std::string, std::string> fields;
    for (auto it = params_.lower_bound(prefix);
         it != params_.end() && it->first.starts_with(prefix); ++it) {
      fields[it->first.substr(prefix.size())] = it->second;
    }
    if (fields.empty()) break;
    out.push_back(std::move(fields));
  }
  return out;
}

absl::Status validation_error(std::string_view field, std::string_view value,
                              std::string_view constraint) {
  return aws_error(
      "ValidationError",
      fmt::format(
          "1 validation error detected: Value '{}' at '{}' failed to satisfy constraint: {}", value,
          field, constraint));
}

std::string xml_element(std::string_view tag, std::string_view text) {
  return fmt::format("<{0}>{1}</{0}>", tag, markup_escape(text));
}

std::string query_response_xml(std::string_view action, std::string_view xmlns,
                               std::string_view result_xml, std::string_view request_id) {
  std::string result = result_xml.empty()
                           ? std::string()
                           : fmt::format("<{0}Result>{1}</{0}Result>", action, result_xml);
  return fmt::format(
      "<{0}Response "
      "xmlns=\"{1}\">{2}<ResponseMetadata><RequestId>{3}</RequestId></ResponseMetadata>"
      "</{0}Response>\n",
      action, xmlns, result, markup_escape(request_id));
}

std::string query_error_xml(const AwsErrorInfo& error, std::string_view xmlns,
                            std::string_view request_id) {
  return fmt::format(
      "<ErrorResponse "
      "xmlns=\"{}\"><Error><Type>{}</Type><Code>{}</Code><Message>{}</Message></Error>"
      "<RequestId>{}</RequestId></ErrorResponse>\n",
      xmlns, markup_escape(error.type), markup_escape(error.code), markup_escape(error.message),
      markup_escape(request_id));
}

std::string url_encode_policy(std::string_view json) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : json) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string xml_timestamp(absl::Time t) { return format_rfc3339_seconds(t); }

}  // namespace wims::aws
