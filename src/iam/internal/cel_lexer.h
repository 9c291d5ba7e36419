// Internal to wims::iam (IAM Conditions): the CEL lexer. Turns an expression into tokens, decoding
// string literals (quotes ' " ''' """, raw r'...', escapes \n \t \xHH \uHHHH \UHHHHHHHH \ooo ...)
// and numbers (int, 0x hex, uint with u suffix, double). Bytes literals are rejected. Stateless;
// thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace wims::iam::internal {

enum class TokenKind {
  kEnd,
  kIdent,
  kInt,
  kUint,
  kDouble,
  kString,
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kLBrace,
  kRBrace,
  kDot,
  kComma,
  kQuestion,
  kColon,
  kNot,
  kMinus,
  kPlus,
  kStar,
  kSlash,
  kPercent,
  kLess,
  kLessEqual,
  kGreater,
  kGreaterEqual,
  kEqual,
  kNotEqual,
  kAnd,
  kOr,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  size_t position = 0;     // byte offset
  std::string text;        // kIdent: the name; kString: the decoded value; others: the source text
  uint64_t magnitude = 0;  // kInt (unsigned magnitude; the parser applies a leading '-'), kUint
  double number = 0;       // kDouble
};

// "line:column" (1-based) of a byte offset, for messages.
std::string describe_position(std::string_view source, size_t position);

// INVALID_ARGUMENT "line:col: what" on a lexical error.
absl::StatusOr<std::vector<Token>> tokenize(std::string_view source);

}  // namespace wims::iam::internal
