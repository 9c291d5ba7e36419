#include "cloud/storage_handler.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>

#include "absl/strings/match.h"
#include "cloud/google_error.h"
#include "cloud/google_json.h"
#include "common/encoding.h"
#include "common/strings.h"
#include "fmt/format.h"

namespace wims::cloud {
namespace {

namespace bhttp = boost::beast::http;

constexpr std::string_view kBucketsPrefix = "/storage/v1/b/";
constexpr char kObjectsGet[] = "storage.objects.get";
constexpr char kObjectsList[] = "storage.objects.list";
constexpr char kBucketsGet[] = "storage.buckets.get";

// Whether `bytes` is UTF-8 text without control characters other than tab, CR and LF.
bool is_text(std::string_view bytes) {
  size_t i = 0;
  while (i < bytes.size()) {
    unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c < 0x80) {
      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) return false;
      ++i;
      continue;
    }
    size_t n = (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xe ? 2 : (c >> 3) == 0x1e ? 3 : 0;
    if (n == 0) return false;
    for (size_t k = 1; k <= n; ++k) {
      if (i + k >= bytes.size() || (static_cast<unsigned char>(bytes[i + k]) >> 6) != 0x2) {
        return false;
      }
    }
    i += n + 1;
  }
  return true;
}

std::string content_type(const config::BucketObject& object) {
  if (absl::EndsWith(to_absl(object.name), ".json")) return "application/json";
  return is_text(object.content) ? "text/plain; charset=utf-8" : "application/octet-stream";
}

std::string md5_base64(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_md5(), nullptr);
  return base64_encode(std::string_view(reinterpret_cast<const char*>(digest), size));
}

// The base URL clients used to reach us, for selfLink / mediaLink.
std::string base_url(const http::Request& request) {
  std::optional<std::string_view> host = request.header("Host");
  return host ? fmt::format("http://{}", *host) : std::string("http://localhost");
}

std::string url_component(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 0xf]};
    }
  }
  return out;
}

boost::json::object object_resource(const http::Request& request, const config::Bucket& bucket,
                                    const config::BucketObject& object) {
  std::string self = fmt::format("{}/storage/v1/b/{}/o/{}", base_url(request),
                                 url_component(bucket.name), url_component(object.name));
  return boost::json::object{
      {"kind", "storage#object"},
      {"id", fmt::format("{}/{}/1", bucket.name, object.name)},
      {"selfLink", self},
      {"mediaLink", self + "?generation=1&alt=media"},
      {"name", object.name},
      {"bucket", bucket.name},
      {"generation", "1"},
      {"metageneration", "1"},
      {"contentType", content_type(object)},
      {"storageClass", "STANDARD"},
      {"size", std::to_string(object.content.size())},
      {"md5Hash", md5_base64(object.content)},
  };
}

http::Response media_response(const config::BucketObject& object) {
  http::Response response =
      http::make_response(bhttp::status::ok, content_type(object), object.content);
  response.set("x-goog-generation", "1");
  response.set("x-goog-stored-content-length", std::to_string(object.content.size()));
  return response;
}

}  // namespace

StorageHandler::StorageHandler(const GooglePolicyStore& policies, const CallerAuth& auth,
                               const Clock& clock)
    : policies_(policies), auth_(auth), authorizer_(clock) {}

namespace {

// GCS's denial: 401 for an anonymous caller, 403 for an authenticated one.
http::Response storage_denied(const iam::Caller& caller, std::string_view permission,
                              std::string_view what) {
  std::string message = fmt::format(
      "{} does not have {} access to the Google Cloud Storage {}. Permission '{}' denied on "
      "resource (or it may not exist).",
      caller_display_name(caller), permission, what, permission);
  if (caller.kind() == iam::Caller::Kind::kAnonymous) {
    return storage_error(401, message, "required", /*authorization_header=*/true);
  }
  return storage_error(403, message, "forbidden");
}

// An object-name segment of the cloud listener's canonical path (http/canonical_path.h,
// keep_encoded_slash):
// "%2F" and "%25" are the only escapes left in it.
std::string decode_kept_escapes(std::string_view segment) {
  std::string out;
  out.reserve(segment.size());
  for (size_t i = 0; i < segment.size(); ++i) {
    if (segment[i] == '%' && segment.size() - i >= 3) {
      std::string_view escape = segment.substr(i, 3);
      if (escape == "%2F") {
        out.push_back('/');
        i += 2;
        continue;
      }
      if (escape == "%25") {
        out.push_back('%');
        i += 2;
        continue;
      }
    }
    out.push_back(segment[i]);
  }
  return out;
}

}  // namespace

boost::asio::awaitable<http::Response> StorageHandler::handle(http::Request& request) {
  std::string_view path = request.path;
  if (!path.starts_with(kBucketsPrefix)) {
    request.route = "storage.not_found";
    co_return storage_error(404, "Not Found", "notFound");
  }
  std::string_view rest = path.substr(kBucketsPrefix.size());
  size_t slash = rest.find('/');
  std::string_view bucket_name = rest.substr(0, slash);
  std::string_view tail = slash == std::string_view::npos ? "" : rest.substr(slash);
  enum class Op { kBucket, kList, kObject, kNone } op = Op::kNone;
  std::string object_name;
  if (tail.empty()) {
    op = Op::kBucket;
  } else if (tail == "/o" || tail == "/o/") {
    op = Op::kList;
  } else if (tail.starts_with("/o/")) {
    op = Op::kObject;
    // Object names may contain '/', spelled %2F (the cloud listener keeps it encoded,
    // http/server.h).
    object_name = decode_kept_escapes(tail.substr(3));
  }
  if (bucket_name.empty() || op == Op::kNone) {
    request.route = "storage.not_found";
    co_return storage_error(404, "Not Found", "notFound");
  }
  request.route = op == Op::kBucket ? "storage.buckets.get"
                  : op == Op::kList ? "storage.objects.list"
                                    : "storage.objects.get";
  if (request.method() != bhttp::verb::get && request.method() != bhttp::verb::head) {
    http::Response response = storage_error(
        405, "The wims local cloud serves Cloud Storage read-only (GET).", "methodNotAllowed");
    response.set(bhttp::field::allow, "GET, HEAD");
    co_return response;
  }
  absl::StatusOr<iam::Caller> caller = auth_.authenticate_or_anonymous(request);
  if (!caller.ok()) co_return storage_error(401, "Invalid Credentials", "authError", true);
  const config::Bucket* bucket = policies_.world().find_bucket(bucket_name);
  if (bucket == nullptr) {
    co_return storage_error(404, "The specified bucket does not exist.", "notFound");
  }
  switch (op) {
    case Op::kBucket:
      co_return get_bucket(*caller, *bucket);
    case Op::kList:
      co_return list_objects(request, *caller, *bucket);
    default:
      co_return get_object(request, *caller, *bucket, object_name);
  }
}

http::Response StorageHandler::get_object(const http::Request& request, const iam::Caller& caller,
                                          const config::Bucket& bucket,
                                          std::string_view object_name) const {
  std::optional<iam::ResourceRef> ref = policies_.object_ref(bucket.name, object_name);
  auto object = std::find_if(bucket.objects.begin(), bucket.objects.end(),
                             [&](const config::BucketObject& o) { return o.name == object_name; });
  if (object == bucket.objects.end() || !ref) {
    // Only a caller who may list the bucket learns that the object does not exist.
    std::optional<iam::ResourceRef> bucket_ref = policies_.bucket_ref(bucket.name);
    if (bucket_ref && authorizer_.check(caller, kObjectsList, *bucket_ref).allowed) {
      return storage_error(404, fmt::format("No such object: {}/{}", bucket.name, object_name),
                           "notFound");
    }
    return storage_denied(caller, kObjectsGet, "object");
  }
  if (!authorizer_.check(caller, kObjectsGet, *ref).allowed) {
    return storage_denied(caller, kObjectsGet, "object");
  }
  std::optional<std::string> alt = request.query_param("alt");
  if (alt && *alt == "media") return media_response(*object);
  if (alt && *alt != "json") {
    return storage_error(400, fmt::format("Invalid value for alt: {}", *alt), "invalidParameter");
  }
  return json_response(object_resource(request, bucket, *object));
}

http::Response StorageHandler::list_objects(const http::Request& request, const iam::Caller& caller,
                                            const config::Bucket& bucket) const {
  std::optional<iam::ResourceRef> ref = policies_.bucket_ref(bucket.name);
  if (!ref || !authorizer_.check(caller, kObjectsList, *ref).allowed) {
    return storage_denied(caller, kObjectsList, "bucket");
  }
  std::string prefix = request.query_param("prefix").value_or("");
  std::vector<const config::BucketObject*> objects;
  for (const config::BucketObject& o : bucket.objects) {
    if (o.name.starts_with(prefix)) objects.push_back(&o);
  }
  std::sort(objects.begin(), objects.end(),
            [](const auto* a, const auto* b) { return a->name < b->name; });
  boost::json::array items;
  for (const config::BucketObject* o : objects)
    items.push_back(object_resource(request, bucket, *o));
  boost::json::object out{{"kind", "storage#objects"}};
  if (!items.empty()) out["items"] = std::move(items);
  return json_response(out);
}

http::Response StorageHandler::get_bucket(const iam::Caller& caller,
                                          const config::Bucket& bucket) const {
  std::optional<iam::ResourceRef> ref = policies_.bucket_ref(bucket.name);
  if (!ref || !authorizer_.check(caller, kBucketsGet, *ref).allowed) {
    return storage_denied(caller, kBucketsGet, "bucket");
  }
  return json_response(boost::json::object{
      {"kind", "storage#bucket"},
      {"id", bucket.name},
      {"name", bucket.name},
      {"projectNumber", std::to_string(policies_.world().project.number)},
      {"metageneration", "1"},
      {"location", "US"},
      {"storageClass", "STANDARD"},
  });
}

}  // namespace wims::cloud
