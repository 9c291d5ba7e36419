// Helpers shared by the AWS query-protocol tests (IAM, STS, the query handler): building request
// parameters and reading one element of an XML response. Stateless.
#pragma once

#include <initializer_list>
#include <string>
#include <utility>

#include "aws/query_protocol.h"

namespace wims::aws::testing {

// The account every AWS test world uses.
inline constexpr char kAccount[] = "111122223333";

inline QueryParams params(std::initializer_list<std::pair<std::string, std::string>> list) {
  QueryParams p;
  for (const auto& [k, v] : list) p.set(k, v);
  return p;
}

// The text of the first <tag>...</tag> in `xml`, or "<missing tag>".
inline std::string element(const std::string& xml, const std::string& tag) {
  size_t start = xml.find("<" + tag + ">");
  if (start == std::string::npos) return "<missing " + tag + ">";
  start += tag.size() + 2;
  return xml.substr(start, xml.find("</" + tag + ">", start) - start);
}

}  // namespace wims::aws::testing
