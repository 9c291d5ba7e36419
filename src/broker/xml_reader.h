// XmlReader: a minimal, bounded, non-validating XML reader for the small fixed-shape documents the
// AWS Query protocol returns (STS `AssumeRoleWithWebIdentityResponse`, `ErrorResponse`). There is
// no XML library in the stack, and these answers need only elements and text, so this reads exactly
// that:
//
//   - elements with attributes (attributes are checked for syntax and then dropped), self-closing
//   tags,
//     namespace prefixes (stripped: `<sts:Arn>` is `Arn`), matching end tags;
//   - text with the five predefined entities and decimal/hex character references (as UTF-8),
//   CDATA;
//   - an XML declaration, processing instructions and comments are skipped.
//
// Refused (InvalidArgument, never a crash or a silent default): any DOCTYPE (so no entity
// expansion, no external entities), undefined entities, mismatched or unclosed tags, content after
// the root, input over `max_bytes`, nesting over `max_depth`, more than `max_elements` elements.
//
//   absl::StatusOr<XmlElement> root = parse_xml(body);
//   const XmlElement* key = root->find({"AssumeRoleWithWebIdentityResult", "Credentials",
//   "AccessKeyId"});
//
// Stateless and thread-safe; results are plain values.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace wims::broker {

struct XmlElement {
  std::string name;  // local name, namespace prefix removed
  std::string
      text;  // the concatenated character data directly inside this element, entities decoded
  std::vector<XmlElement> children;

  // The first child named `name`, or nullptr.
  const XmlElement* child(std::string_view name) const;
  // Follows `path` one child name at a time from this element; nullptr when a step is missing.
  const XmlElement* find(std::initializer_list<std::string_view> path) const;
};

struct XmlLimits {
  size_t max_bytes = 64 * 1024;
  size_t max_depth = 16;
  size_t max_elements = 512;
};

// The document's root element. InvalidArgument (with the byte offset) for anything this reader
// refuses.
absl::StatusOr<XmlElement> parse_xml(std::string_view text, XmlLimits limits = {});

}  // namespace wims::broker
