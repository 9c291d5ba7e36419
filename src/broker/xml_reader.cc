#include "broker/xml_reader.h"

#include <fmt/format.h>

#include <cstdint>
#include <utility>

namespace wims::broker {

const XmlElement* XmlElement::child(std::string_view wanted) const {
  for (const XmlElement& c : children) {
    if (c.name == wanted) return &c;
  }
  return nullptr;
}

const XmlElement* XmlElement::find(std::initializer_list<std::string_view> path) const {
  const XmlElement* node = this;
  for (std::string_view step : path) {
    node = node->child(step);
    if (node == nullptr) return nullptr;
  }
  return node;
}

namespace {

bool is_xml_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool is_name_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == ':' || c == '-' || c == '.' || u >= 0x80;
}

void append_utf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class Parser {
 public:
  Parser(std::string_view text, const XmlLimits& limits) : text_(text), limits_(limits) {}

  absl::StatusOr<XmlElement> document() {
    if (text_.size() > limits_.max_bytes) {
      return absl::InvalidArgumentError(fmt::format(
          "xml: document of {} bytes is over the limit of {}", text_.size(), limits_.max_bytes));
    }
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
    if (absl::Status s = skip_misc(); !s.ok()) return s;
    if (!starts_with("<")) return error("expected the root element");
    XmlElement root;
    if (absl::Status s = element(root, 1); !s.ok()) return s;
    if (absl::Status s = skip_misc(); !s.ok()) return s;
    if (pos_ != text_.size()) return error("content after the root element");
    return root;
  }

 private:
  absl::Status error(std::string_view what) const {
    return absl::InvalidArgumentError(fmt::format("xml: {} at byte {}", what, pos_));
  }
  bool starts_with(std::string_view prefix) const {
    return text_.substr(pos_, prefix.size()) == prefix;
  }
  void skip_spaces() {
    while (pos_ < text_.size() && is_xml_space(text_[pos_])) ++pos_;
  }
  // Moves past the next `terminator`; false when there is none.
  bool skip_past(std::string_view terminator) {
    size_t end = text_.find(terminator, pos_);
    if (end == std::string_view::npos) return false;
    pos_ = end + terminator.size();
    return true;
  }

  // Whitespace, comments and processing instructions (the XML declaration among them) outside the
  // root.
  absl::Status skip_misc() {
    while (true) {
      skip_spaces();
      if (starts_with("<?")) {
        if (!skip_past("?>")) return error("unterminated processing instruction");
      } else if (starts_with("<!--")) {
        if (!skip_past("-->")) return error("unterminated comment");
      } else if (starts_with("<!")) {
        return error("DOCTYPE and declarations are not accepted");
      } else {
        return absl::OkStatus();
      }
    }
  }

  std::string_view name() {
    size_t start = pos_;
    while (pos_ < text_.size() && is_name_char(text_[pos_])) ++pos_;
    return text_.substr(start, pos_ - start);
  }

  absl::Status entity(std::string& out) {
    size_t end = text_.find(';', pos_);
    if (end == std::string_view::npos || end - pos_ > 12)
      return error("unterminated entity reference");
    std::string_view ref = text_.substr(pos_ + 1, end - pos_ - 1);
    if (ref == "amp") {
      out += '&';
    } else if (ref == "lt") {
      out += '<';
    } else if (ref == "gt") {
      out += '>';
    } else if (ref == "quot") {
      out += '"';
    } else if (ref == "apos") {
      out += '\'';
    } else if (ref.size() >= 2 && ref[0] == '#') {
      const bool hex = ref[1] == 'x';
      std::string_view digits = ref.substr(hex ? 2 : 1);
      if (digits.empty()) return error("empty character reference");
      uint32_t cp = 0;
      for (char c : digits) {
        uint32_t d = 0;
        if (c >= '0' && c <= '9') {
          d = static_cast<uint32_t>(c - '0');
        } else if (hex && c >= 'a' && c <= 'f') {
          d = static_cast<uint32_t>(c - 'a' + 10);
        } else if (hex && c >= 'A' && c <= 'F') {
          d = static_cast<uint32_t>(c - 'A' + 10);
        } else {
          return error("bad character reference");
        }
        cp = cp * (hex ? 16 : 10) + d;
        if (cp > 0x10FFFF) return error("character reference out of range");
      }
      if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF))
        return error("character reference out of range");
      append_utf8(cp, out);
    } else {
      return error("undefined entity");
    }
    pos_ = end + 1;
    return absl::OkStatus();
  }

  // At '<' of a start tag.
  absl::Status element(XmlElement& out, size_t depth) {
    if (depth > limits_.max_depth) return error("elements nested too deeply");
    if (++elements_ > limits_.max_elements) return error("too many elements");
    ++pos_;
    std::string_view qname = name();
    if (qname.empty()) return error("expected an element name");
    size_t colon = qname.rfind(':');
    out.name = std::string(colon == std::string_view::npos ? qname : qname.substr(colon + 1));
    // Attributes: checked for syntax, then dropped.
    while (true) {
      const size_t before = pos_;
      skip_spaces();
      if (pos_ >= text_.size()) return error("unterminated start tag");
      if (starts_with("/>")) {
        pos_ += 2;
        return absl::OkStatus();
      }
      if (text_[pos_] == '>') {
        ++pos_;
        break;
      }
      if (pos_ == before) return error("expected whitespace before an attribute");
      if (name().empty()) return error("expected an attribute name");
      skip_spaces();
      if (!starts_with("=")) return error("expected '=' after an attribute name");
      ++pos_;
      skip_spaces();
      if (pos_ >= text_.size() || (text_[pos_] != '"' && text_[pos_] != '\'')) {
        return error("expected a quoted attribute value");
      }
      const char quote = text_[pos_++];
      size_t end = text_.find(quote, pos_);
      if (end == std::string_view::npos) return error("unterminated attribute value");
      if (text_.substr(pos_, end - pos_).find('<') != std::string_view::npos)
        return error("'<' in attribute");
      pos_ = end + 1;
    }
    // Content.
    while (true) {
      if (pos_ >= text_.size()) return error(fmt::format("unclosed element <{}>", qname));
      if (starts_with("</")) {
        pos_ += 2;
        std::string_view end_name = name();
        if (end_name != qname)
          return error(fmt::format("</{}> does not close <{}>", end_name, qname));
        skip_spaces();
        if (!starts_with(">")) return error("expected '>' after the end tag name");
        ++pos_;
        return absl::OkStatus();
      }
      if (starts_with("<!--")) {
        if (!skip_past("-->")) return error("unterminated comment");
      } else if (starts_with("<![CDATA[")) {
        pos_ += 9;
        size_t end = text_.find("]]>", pos_);
        if (end == std::string_view::npos) return error("unterminated CDATA section");
        out.text.append(text_.substr(pos_, end - pos_));
        pos_ = end + 3;
      } else if (starts_with("<?")) {
        if (!skip_past("?>")) return error("unterminated processing instruction");
      } else if (starts_with("<!")) {
        return error("declarations are not accepted inside elements");
      } else if (text_[pos_] == '<') {
        XmlElement child;
        if (absl::Status s = element(child, depth + 1); !s.ok()) return s;
        out.children.push_back(std::move(child));
      } else if (text_[pos_] == '&') {
        if (absl::Status s = entity(out.text); !s.ok()) return s;
      } else {
        size_t end = text_.find_first_of("<&", pos_);
        if (end == std::string_view::npos) end = text_.size();
        out.text.append(text_.substr(pos_, end - pos_));
        pos_ = end;
      }
    }
  }

  std::string_view text_;
  const XmlLimits& limits_;
  size_t pos_ = 0;
  size_t elements_ = 0;
};

}  // namespace

absl::StatusOr<XmlElement> parse_xml(std::string_view text, XmlLimits limits) {
  return Parser(text, limits).document();
}

}  // namespace wims::broker
