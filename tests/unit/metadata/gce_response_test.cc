#include "metadata/gce_response.h"

#include <gtest/gtest.h>

#include <regex>

#include "unit/metadata/test_support.h"

namespace wims::metadata {
namespace {

using testing::header;

TEST(GceErrorTest, MapsEveryStatusCodeToOneGceShape) {
  struct Case {
    absl::Status status;
    unsigned http_status;
    std::string title;
  };
  const Case cases[] = {
      {absl::InvalidArgumentError("bad"), 400, "Error 400 (Bad Request)!!1"},
      {absl::OutOfRangeError("bad"), 400, "Error 400 (Bad Request)!!1"},
      {absl::PermissionDeniedError("no"), 403, "Error 403 (Forbidden)!!1"},
      {absl::FailedPreconditionError("no"), 403, "Error 403 (Forbidden)!!1"},
      {absl::UnauthenticatedError("no"), 403, "Error 403 (Forbidden)!!1"},
      {absl::NotFoundError(""), 404, "Error 404 (Not Found)!!1"},
      {absl::ResourceExhaustedError("later"), 429, "Error 429 (Too Many Requests)!!1"},
      {absl::UnimplementedError("no"), 501, "Error 501 (Not Implemented)!!1"},
      {absl::UnavailableError("down"), 503, "Error 503 (Service Unavailable)!!1"},
      {absl::DeadlineExceededError("slow"), 504, "Error 504 (Gateway Timeout)!!1"},
      {absl::InternalError("bug"), 500, "Error 500 (Internal Server Error)!!1"},
      {absl::UnknownError("?"), 500, "Error 500 (Internal Server Error)!!1"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.status.ToString());
    http::Response response = gce_error(c.status, "/computeMetadata/v1/x");
    EXPECT_EQ(response.result_int(), c.http_status);
    EXPECT_EQ(header(response, "Content-Type"), kGceHtmlContentType);
    EXPECT_EQ(header(response, "Metadata-Flavor"), "Google");
    EXPECT_EQ(header(response, "Server"), "Metadata Server for VM");
    EXPECT_EQ(header(response, "X-XSS-Protection"), "0");
    EXPECT_EQ(header(response, "X-Frame-Options"), "SAMEORIGIN");
    EXPECT_EQ(header(response, "ETag"), "<absent>");
    EXPECT_NE(response.body().find("<title>" + c.title + "</title>"), std::string::npos)
        << response.body();
    EXPECT_NE(response.body().find(std::string(c.status.message())), std::string::npos);
    const bool retry = c.http_status == 429 || c.http_status == 503;
    EXPECT_EQ(header(response, "Retry-After"), retry ? "1" : "<absent>");
  }
}

TEST(GceErrorTest, ForbiddenAndNotFoundQuoteThePathAsGoogleDoes) {
  EXPECT_NE(
      gce_error(absl::PermissionDeniedError(kMissingFlavorMessage), "/p")
          .body()
          .find("Your client does not have permission to get URL <code>/p</code> from this server. "
                "Missing Metadata-Flavor:Google header."),
      std::string::npos);
  EXPECT_NE(gce_error(absl::NotFoundError(""), "/p")
                .body()
                .find("The requested URL <code>/p</code> was not found on this server."),
            std::string::npos);
}

TEST(GceErrorTest, EscapesPathAndMessage) {
  http::Response response = gce_error(absl::PermissionDeniedError("<b>&"), "/a<\"'>");
  EXPECT_NE(response.body().find("/a&lt;&quot;&#39;&gt;"), std::string::npos);
  EXPECT_NE(response.body().find("&lt;b&gt;&amp;"), std::string::npos);
}

TEST(GceOkTest, EtagIsSixteenHexAndFollowsTheBody) {
  http::Response a = gce_ok(kGceTextContentType, "a");
  http::Response b = gce_ok(kGceTextContentType, "b");
  EXPECT_TRUE(std::regex_match(header(a, "ETag"), std::regex("[0-9a-f]{16}")));
  EXPECT_NE(header(a, "ETag"), header(b, "ETag"));
  EXPECT_EQ(header(a, "ETag"), gce_etag("a"));
  EXPECT_EQ(header(a, "Content-Type"), "application/text");
}

TEST(GceRedirectTest, HasLocationBodyAndGceHeaders) {
  http::Response response = gce_redirect("http://h/computeMetadata/v1/", "/computeMetadata/v1/\n");
  EXPECT_EQ(response.result_int(), 301u);
  EXPECT_EQ(header(response, "Location"), "http://h/computeMetadata/v1/");
  EXPECT_EQ(header(response, "Content-Type"), "text/html");
  EXPECT_EQ(header(response, "Metadata-Flavor"), "Google");
  EXPECT_EQ(response.body(), "/computeMetadata/v1/\n");
}

}  // namespace
}  // namespace wims::metadata
