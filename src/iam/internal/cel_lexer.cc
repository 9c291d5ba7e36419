#include "iam/internal/cel_lexer.h"

#include <charconv>

#include "absl/status/status.h"
#include "fmt/format.h"

namespace wims::iam::internal {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_ident_char(char c) { return is_ident_start(c) || is_digit(c); }

int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

void append_utf8(std::string& out, uint32_t cp) {
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

class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {}

  absl::StatusOr<std::vector<Token>> run() {
    std::vector<Token> tokens;
    while (true) {
      skip_space_and_comments();
      Token t;
      t.position = pos_;
      if (pos_ >= src_.size()) {
        t.kind = TokenKind::kEnd;
        tokens.push_back(std::move(t));
        return tokens;
      }
      char c = src_[pos_];
      if (is_ident_start(c)) {
        size_t start = pos_;
        while (pos_ < src_.size() && is_ident_char(src_[pos_])) ++pos_;
        std::string_view word = src_.substr(start, pos_ - start);
        bool quote_next = pos_ < src_.size() && (src_[pos_] == '\'' || src_[pos_] == '"');
        if (quote_next && (word == "r" || word == "R")) {
          auto s = lex_string(/*raw=*/true);
          if (!s.ok()) return s.status();
          t.kind = TokenKind::kString;
          t.text = std::move(*s);
        } else if (quote_next &&
                   (word == "b" || word == "B" || word == "rb" || word == "br" || word == "RB" ||
                    word == "BR" || word == "Rb" || word == "bR" || word == "rB" || word == "Br")) {
          return error(start, "bytes literals are not supported in IAM conditions");
        } else {
          t.kind = TokenKind::kIdent;
          t.text = std::string(word);
        }
      } else if (is_digit(c) || (c == '.' && pos_ + 1 < src_.size() && is_digit(src_[pos_ + 1]))) {
        auto st = lex_number(t);
        if (!st.ok()) return st;
      } else if (c == '\'' || c == '"') {
        auto s = lex_string(/*raw=*/false);
        if (!s.ok()) return s.status();
        t.kind = TokenKind::kString;
        t.text = std::move(*s);
      } else {
        auto st = lex_punctuation(t);
        if (!st.ok()) return st;
      }
      tokens.push_back(std::move(t));
    }
  }

 private:
  absl::Status error(size_t at, std::string_view what) const {
    return absl::InvalidArgumentError(fmt::format("{}: {}", describe_position(src_, at), what));
  }

  void skip_space_and_comments() {
    while (pos_ < src_.size()) {
      char c = src_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
        ++pos_;
      } else if (c == '/' && pos_ + 1 < src_.size() && src_[pos_ + 1] == '/') {
        while (pos_ < src_.size() && src_[pos_] != '\n') ++pos_;
      } else {
        return;
      }
    }
  }

  absl::Status lex_number(Token& t) {
    size_t start = pos_;
    if (src_[pos_] == '0' && pos_ + 1 < src_.size() &&
        (src_[pos_ + 1] == 'x' || src_[pos_ + 1] == 'X')) {
      pos_ += 2;
      size_t digits = pos_;
      while (pos_ < src_.size() && is_hex(src_[pos_])) ++pos_;
      if (digits == pos_) return error(start, "hexadecimal literal without digits");
      return finish_integer(t, start, src_.substr(digits, pos_ - digits), 16);
    }
    while (pos_ < src_.size() && is_digit(src_[pos_])) ++pos_;
    bool is_double = false;
    if (pos_ + 1 < src_.size() && src_[pos_] == '.' && is_digit(src_[pos_ + 1])) {
      is_double = true;
      ++pos_;
      while (pos_ < src_.size() && is_digit(src_[pos_])) ++pos_;
    }
    if (pos_ < src_.size() && (src_[pos_] == 'e' || src_[pos_] == 'E')) {
      size_t e = pos_ + 1;
      if (e < src_.size() && (src_[e] == '+' || src_[e] == '-')) ++e;
      if (e >= src_.size() || !is_digit(src_[e]))
        return error(start, "malformed exponent in number");
      is_double = true;
      pos_ = e;
      while (pos_ < src_.size() && is_digit(src_[pos_])) ++pos_;
    }
    std::string_view text = src_.substr(start, pos_ - start);
    if (!is_double) return finish_integer(t, start, text, 10);
    double d = 0;
    std::string copy(text);
    if (copy.front() == '.') copy.insert(copy.begin(), '0');
    auto [end, ec] = std::from_chars(copy.data(), copy.data() + copy.size(), d);
    if (ec != std::errc() || end != copy.data() + copy.size()) {
      return error(start, fmt::format("double literal '{}' is out of range", text));
    }
    t.kind = TokenKind::kDouble;
    t.number = d;
    t.text = std::string(text);
    if (pos_ < src_.size() && is_ident_char(src_[pos_]))
      return error(pos_, "unexpected character after number");
    return absl::OkStatus();
  }

  absl::Status finish_integer(Token& t, size_t start, std::string_view digits, int base) {
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
    if (ec != std::errc() || end != digits.data() + digits.size()) {
      return error(start, fmt::format("integer literal '{}' is out of range",
                                      src_.substr(start, pos_ - start)));
    }
    t.magnitude = v;
    t.kind = TokenKind::kInt;
    if (pos_ < src_.size() && (src_[pos_] == 'u' || src_[pos_] == 'U')) {
      ++pos_;
      t.kind = TokenKind::kUint;
    }
    t.text = std::string(src_.substr(start, pos_ - start));
    if (pos_ < src_.size() && (is_ident_char(src_[pos_]) || src_[pos_] == '.')) {
      if (src_[pos_] == '.' && !(pos_ + 1 < src_.size() && is_digit(src_[pos_ + 1]))) {
        return absl::OkStatus();  // a member call on a literal, e.g. 1.foo(): left to the parser
      }
      return error(pos_, "unexpected character after number");
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> lex_string(bool raw) {
    size_t start = pos_;
    char q = src_[pos_];
    bool triple = src_.substr(pos_, 3) == std::string(3, q);
    pos_ += triple ? 3 : 1;
    std::string out;
    while (true) {
      if (pos_ >= src_.size()) return error(start, "unterminated string literal");
      char c = src_[pos_];
      if (triple ? src_.substr(pos_, 3) == std::string(3, q) : c == q) {
        pos_ += triple ? 3 : 1;
        return out;
      }
      if (!triple && (c == '\n' || c == '\r')) return error(start, "newline in string literal");
      if (c != '\\' || raw) {
        out += c;
        ++pos_;
        continue;
      }
      size_t esc = pos_;
      ++pos_;
      if (pos_ >= src_.size()) return error(start, "unterminated string literal");
      char e = src_[pos_++];
      switch (e) {
        case 'a':
          out += '\a';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'v':
          out += '\v';
          break;
        case '\\':
        case '\'':
        case '"':
        case '`':
        case '?':
          out += e;
          break;
        case 'x':
        case 'X':
        case 'u':
        case 'U': {
          int n = (e == 'x' || e == 'X') ? 2 : e == 'u' ? 4 : 8;
          uint32_t cp = 0;
          for (int i = 0; i < n; ++i) {
            if (pos_ >= src_.size() || !is_hex(src_[pos_])) {
              return error(esc, fmt::format("invalid \\{} escape: expected {} hex digits", e, n));
            }
            cp = cp * 16 + static_cast<uint32_t>(hex_value(src_[pos_++]));
          }
          if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
            return error(esc, "escape sequence is not a valid Unicode code point");
          }
          append_utf8(out, cp);
          break;
        }
        case '0':
        case '1':
        case '2':
        case '3': {
          uint32_t cp = static_cast<uint32_t>(e - '0');
          for (int i = 0; i < 2; ++i) {
            if (pos_ >= src_.size() || src_[pos_] < '0' || src_[pos_] > '7') {
              return error(esc, "invalid octal escape: expected 3 octal digits");
            }
            cp = cp * 8 + static_cast<uint32_t>(src_[pos_++] - '0');
          }
          append_utf8(out, cp);
          break;
        }
        default:
          return error(esc, fmt::format("invalid escape sequence '\\{}'", e));
      }
    }
  }

  absl::Status lex_punctuation(Token& t) {
    char c = src_[pos_];
    char n = pos_ + 1 < src_.size() ? src_[pos_ + 1] : '\0';
    auto one = [&](TokenKind k) {
      t.kind = k;
      t.text = std::string(1, c);
      ++pos_;
      return absl::OkStatus();
    };
    auto two = [&](TokenKind k) {
      t.kind = k;
      t.text = std::string(src_.substr(pos_, 2));
      pos_ += 2;
      return absl::OkStatus();
    };
    switch (c) {
      case '(':
        return one(TokenKind::kLParen);
      case ')':
        return one(TokenKind::kRParen);
      case '[':
        return one(TokenKind::kLBracket);
      case ']':
        return one(TokenKind::kRBracket);
      case '{':
        return one(TokenKind::kLBrace);
      case '}':
        return one(TokenKind::kRBrace);
      case '.':
        return one(TokenKind::kDot);
      case ',':
        return one(TokenKind::kComma);
      case '?':
        return one(TokenKind::kQuestion);
      case ':':
        return one(TokenKind::kColon);
      case '-':
        return one(TokenKind::kMinus);
      case '+':
        return one(TokenKind::kPlus);
      case '*':
        return one(TokenKind::kStar);
      case '/':
        return one(TokenKind::kSlash);
      case '%':
        return one(TokenKind::kPercent);
      case '!':
        return n == '=' ? two(TokenKind::kNotEqual) : one(TokenKind::kNot);
      case '<':
        return n == '=' ? two(TokenKind::kLessEqual) : one(TokenKind::kLess);
      case '>':
        return n == '=' ? two(TokenKind::kGreaterEqual) : one(TokenKind::kGreater);
      case '=':
        if (n == '=') return two(TokenKind::kEqual);
        return error(pos_, "unexpected '=' (use '==' to compare)");
      case '&':
        if (n == '&') return two(TokenKind::kAnd);
        return error(pos_, "unexpected '&' (use '&&')");
      case '|':
        if (n == '|') return two(TokenKind::kOr);
        return error(pos_, "unexpected '|' (use '||')");
      default:
        break;
    }
    if (static_cast<unsigned char>(c) >= 0x80) return error(pos_, "unexpected non-ASCII character");
    return error(pos_, fmt::format("unexpected character '{}'", c));
  }

  std::string_view src_;
  size_t pos_ = 0;
};

}  // namespace

std::string describe_position(std::string_view source, size_t position) {
  size_t line = 1, column = 1;
  for (size_t i = 0; i < position && i < source.size(); ++i) {
    if (source[i] == '\n') {
      ++line;
      column = 1;
    } else if ((static_cast<unsigned char>(source[i]) & 0xC0) != 0x80) {
      ++column;
    }
  }
  return fmt::format("{}:{}", line, column);
}

absl::StatusOr<std::vector<Token>> tokenize(std::string_view source) { return Lexer(source).run(); }

}  // namespace wims::iam::internal
