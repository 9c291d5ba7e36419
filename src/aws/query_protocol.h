// The AWS Query protocol shared by the local IAM and STS: form-encoded parameters in (`Action=...&
// Version=...&RoleName=...`, lists as `Name.member.N`), XML out in the documented envelope:
//
//   <ActionResponse xmlns="NS"><ActionResult>...</ActionResult>
//     <ResponseMetadata><RequestId>UUID</RequestId></ResponseMetadata></ActionResponse>
//
// and errors as <ErrorResponse
// xmlns="NS"><Error><Type>Sender</Type><Code>C</Code><Message>M</Message>
// </Error><RequestId>UUID</RequestId></ErrorResponse>.
//
// Values and free functions; thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "aws/aws_error.h"

namespace wims::aws {

inline constexpr std::string_view kIamXmlns = "https://iam.amazonaws.com/doc/2010-05-08/";
inline constexpr std::string_view kStsXmlns = "https://sts.amazonaws.com/doc/2011-06-15/";

// Decoded request parameters. Repeated names keep the last value (botocore never repeats one).
class QueryParams {
 public:
  QueryParams() = default;
  // Parses an application/x-www-form-urlencoded string ('+' is a space). Errors:
  // InvalidArgument-coded `MalformedQueryString`-style ValidationError for bad percent-encoding.
  static absl::StatusOr<QueryParams> parse(std::string_view form);

  std::optional<std::string> get(std::string_view name) const;
  // The parameter, or ValidationError "Value null at 'roleName' failed to satisfy constraint:
  // Member must not be null" (the name in lowerCamel, as AWS reports it).
  absl::StatusOr<std::string> required(std::string_view name) const;
  // The values of `name.member.1`, `name.member.2`, ... in index order, stopping at the first gap.
  std::vector<std::string> members(std::string_view name) const;
  // `name.member.N.field` for each N, for lists of structures.
  std::vector<std::map<std::string, std::string>> member_structs(std::string_view name) const;

  void set(std::string name, std::string value) { params_[std::move(name)] = std::move(value); }
  const std::map<std::string, std::string, std::less<>>& all() const { return params_; }

 private:
  std::map<std::string, std::string, std::less<>> params_;
};

// "1 validation error detected: Value 'V' at 'field' failed to satisfy constraint: C".
absl::Status validation_error(std::string_view field, std::string_view value,
                              std::string_view constraint);

// <tag>escaped text</tag>
std::string xml_element(std::string_view tag, std::string_view text);
// The success envelope around `result_xml` (already-built XML); an empty result gives no Result
// element.
std::string query_response_xml(std::string_view action, std::string_view xmlns,
                               std::string_view result_xml, std::string_view request_id);
// The error envelope for `status` (not OK).
std::string query_error_xml(const AwsErrorInfo& error, std::string_view xmlns,
                            std::string_view request_id);

// Percent-encodes a policy document the way IAM returns it in XML (botocore url-decodes then parses
// it).
std::string url_encode_policy(std::string_view json);

// "2024-01-02T03:04:05Z", the timestamp form of the Query-protocol XML.
std::string xml_timestamp(absl::Time t);

}  // namespace wims::aws
