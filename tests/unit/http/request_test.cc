#include "http/request.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace wims::http {
namespace {

struct QueryCase {
  std::string query;
  std::string name;
  std::optional<std::string> value;
  size_t count;
};

TEST(RequestTest, QueryParamTable) {
  const QueryCase kCases[] = {
      {"", "a", std::nullopt, 0},
      {"a=1", "a", "1", 1},
      {"a=1&b=2", "b", "2", 1},
      {"a=1&a=2", "a", "1", 2},
      {"recursive=true&alt=json", "alt", "json", 1},
      {"audience=https%3A%2F%2Fexample.com%2Fx%3Fy%3Dz", "audience", "https://example.com/x?y=z",
       1},
      {"resource=https://management.azure.com/", "resource", "https://management.azure.com/", 1},
      {"a=x+y", "a", "x y", 1},
      {"a=x%2By", "a", "x+y", 1},
      {"flag", "flag", "", 1},
      {"flag=", "flag", "", 1},
      {"A=1", "a", std::nullopt, 0},
      {"a%20b=1", "a b", "1", 1},
      {"ab=1", "a", std::nullopt, 0},
      {"a=%zz", "a", std::nullopt, 0},  // invalid query: no parameters
  };
  for (const QueryCase& c : kCases) {
    SCOPED_TRACE("query: '" + c.query + "' name: " + c.name);
    Request request;
    request.query = c.query;
    EXPECT_EQ(request.query_param(c.name), c.value);
    EXPECT_EQ(request.query_param_count(c.name), c.count);
  }
}

TEST(RequestTest, HeaderLookup) {
  Request request;
  request.message.set("Metadata-Flavor", "Google");
  EXPECT_EQ(request.header("metadata-flavor"), "Google");
  EXPECT_EQ(request.header("Metadata"), std::nullopt);
}

TEST(RequestTest, MakeResponse) {
  Response response = make_response(beast_http::status::not_found, "text/plain", "nope");
  EXPECT_EQ(response.result(), beast_http::status::not_found);
  EXPECT_EQ(response[beast_http::field::content_type], "text/plain");
  EXPECT_EQ(response.body(), "nope");
  EXPECT_EQ(response.version(), 11);
}

}  // namespace
}  // namespace wims::http
