#include "iam/internal/cel_parser.h"

#include <utility>

#include "absl/status/status.h"
#include "common/status_macros.h"
#include "fmt/format.h"
#include "iam/internal/cel_lexer.h"

namespace wims::iam::internal {
namespace {

using NodePtr = std::unique_ptr<Node>;

// cel-spec langdef: reserved words that may not be used as identifiers.
bool is_reserved(std::string_view w) {
  static constexpr std::string_view kReserved[] = {
      "as",  "break", "const",   "continue",  "else",   "for", "function", "if",    "import",
      "let", "loop",  "package", "namespace", "return", "var", "void",     "while", "in"};
  for (auto r : kReserved) {
    if (w == r) return true;
  }
  return false;
}

class Parser {
 public:
  Parser(std::string_view src, std::vector<Token> tokens, const ParseLimits& limits)
      : src_(src), tokens_(std::move(tokens)), limits_(limits) {}

  absl::StatusOr<NodePtr> run() {
    WIMS_ASSIGN_OR_RETURN(NodePtr root, parse_expr());
    if (peek().kind != TokenKind::kEnd) return unexpected("end of expression");
    return root;
  }

 private:
  const Token& peek() const { return tokens_[index_]; }
  const Token& next() { return tokens_[index_ < tokens_.size() - 1 ? index_++ : index_]; }
  bool accept(TokenKind k) {
    if (peek().kind != k) return false;
    next();
    return true;
  }

  absl::Status error(size_t at, std::string_view what) const {
    return absl::InvalidArgumentError(fmt::format("{}: {}", describe_position(src_, at), what));
  }
  absl::Status unexpected(std::string_view expected) const {
    const Token& t = peek();
    std::string found =
        t.kind == TokenKind::kEnd ? "end of expression" : fmt::format("'{}'", t.text);
    if (t.kind == TokenKind::kString) found = "a string literal";
    return error(t.position, fmt::format("Syntax error: expected {}, found {}", expected, found));
  }
  absl::Status expect(TokenKind k, std::string_view what) {
    if (!accept(k)) return unexpected(what);
    return absl::OkStatus();
  }

  absl::StatusOr<NodePtr> make(NodeKind kind, size_t pos, std::vector<NodePtr> args,
                               std::string name = {}) {
    auto n = std::make_unique<Node>();
    n->kind = kind;
    n->position = pos;
    n->name = std::move(name);
    for (const auto& a : args) n->height = std::max(n->height, a->height + 1);
    n->args = std::move(args);
    if (n->height > limits_.max_depth) {
      return error(pos, fmt::format("expression is nested too deeply (more than {} levels)",
                                    limits_.max_depth));
    }
    return n;
  }
  absl::StatusOr<NodePtr> make2(NodeKind kind, size_t pos, NodePtr a, NodePtr b,
                                std::string name = {}) {
    std::vector<NodePtr> args;
    args.push_back(std::move(a));
    args.push_back(std::move(b));
    return make(kind, pos, std::move(args), std::move(name));
  }

  // Guards recursion through parse_expr / parse_unary.
  struct DepthGuard {
    explicit DepthGuard(int& d) : depth(d) { ++depth; }
    ~DepthGuard() { --depth; }
    int& depth;
  };

  absl::StatusOr<NodePtr> parse_expr() {
    DepthGuard guard(depth_);
    if (depth_ > limits_.max_depth) {
      return error(
          peek().position,
          fmt::format("expression is nested too deeply (more than {} levels)", limits_.max_depth));
    }
    WIMS_ASSIGN_OR_RETURN(NodePtr cond, parse_or());
    if (peek().kind != TokenKind::kQuestion) return cond;
    size_t pos = next().position;
    WIMS_ASSIGN_OR_RETURN(NodePtr yes, parse_or());
    WIMS_RETURN_IF_ERROR(expect(TokenKind::kColon, "':'"));
    WIMS_ASSIGN_OR_RETURN(NodePtr no, parse_expr());
    std::vector<NodePtr> args;
    args.push_back(std::move(cond));
    args.push_back(std::move(yes));
    args.push_back(std::move(no));
    return make(NodeKind::kTernary, pos, std::move(args));
  }

  absl::Status count_logical(size_t pos) {
    if (++logical_operators_ > limits_.max_logical_operators) {
      return error(pos, fmt::format("the expression has more than {} logical operators (&&, ||)",
                                    limits_.max_logical_operators));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<NodePtr> parse_or() {
    WIMS_ASSIGN_OR_RETURN(NodePtr left, parse_and());
    while (peek().kind == TokenKind::kOr) {
      size_t pos = next().position;
      WIMS_RETURN_IF_ERROR(count_logical(pos));
      WIMS_ASSIGN_OR_RETURN(NodePtr right, parse_and());
      WIMS_ASSIGN_OR_RETURN(left, make2(NodeKind::kOr, pos, std::move(left), std::move(right)));
    }
    return left;
  }

  absl::StatusOr<NodePtr> parse_and() {
    WIMS_ASSIGN_OR_RETURN(NodePtr left, parse_relation());
    while (peek().kind == TokenKind::kAnd) {
      size_t pos = next().position;
      WIMS_RETURN_IF_ERROR(count_logical(pos));
      WIMS_ASSIGN_OR_RETURN(NodePtr right, parse_relation());
      WIMS_ASSIGN_OR_RETURN(left, make2(NodeKind::kAnd, pos, std::move(left), std::move(right)));
    }
    return left;
  }

  absl::StatusOr<NodePtr> parse_relation() {
    WIMS_ASSIGN_OR_RETURN(NodePtr left, parse_addition());
    while (true) {
      const Token& t = peek();
      std::string op;
      switch (t.kind) {
        case TokenKind::kLess:
          op = "_<_";
          break;
        case TokenKind::kLessEqual:
          op = "_<=_";
          break;
        case TokenKind::kGreater:
          op = "_>_";
          break;
        case TokenKind::kGreaterEqual:
          op = "_>=_";
          break;
        case TokenKind::kEqual:
          op = "_==_";
          break;
        case TokenKind::kNotEqual:
          op = "_!=_";
          break;
        case TokenKind::kIdent:
          if (t.text == "in") op = "_in_";
          break;
        default:
          break;
      }
      if (op.empty()) return left;
      size_t pos = next().position;
      WIMS_ASSIGN_OR_RETURN(NodePtr right, parse_addition());
      WIMS_ASSIGN_OR_RETURN(left,
                            make2(NodeKind::kCall, pos, std::move(left), std::move(right), op));
    }
  }

  absl::StatusOr<NodePtr> parse_addition() {
    WIMS_ASSIGN_OR_RETURN(NodePtr left, parse_multiplication());
    while (peek().kind == TokenKind::kPlus || peek().kind == TokenKind::kMinus) {
      const Token& t = next();
      std::string op = t.kind == TokenKind::kPlus ? "_+_" : "_-_";
      WIMS_ASSIGN_OR_RETURN(NodePtr right, parse_multiplication());
      WIMS_ASSIGN_OR_RETURN(
          left, make2(NodeKind::kCall, t.position, std::move(left), std::move(right), op));
    }
    return left;
  }

  absl::StatusOr<NodePtr> parse_multiplication() {
    WIMS_ASSIGN_OR_RETURN(NodePtr left, parse_unary());
    while (peek().kind == TokenKind::kStar || peek().kind == TokenKind::kSlash ||
           peek().kind == TokenKind::kPercent) {
      const Token& t = next();
      std::string op = t.kind == TokenKind::kStar    ? "_*_"
                       : t.kind == TokenKind::kSlash ? "_/_"
                                                     : "_%_";
      WIMS_ASSIGN_OR_RETURN(NodePtr right, parse_unary());
      WIMS_ASSIGN_OR_RETURN(
          left, make2(NodeKind::kCall, t.position, std::move(left), std::move(right), op));
    }
    return left;
  }

  absl::StatusOr<NodePtr> parse_unary() {
    DepthGuard guard(depth_);
    if (depth_ > limits_.max_depth) {
      return error(
          peek().position,
          fmt::format("expression is nested too deeply (more than {} levels)", limits_.max_depth));
    }
    if (peek().kind == TokenKind::kNot) {
      size_t pos = next().position;
      WIMS_ASSIGN_OR_RETURN(NodePtr operand, parse_unary());
      std::vector<NodePtr> args;
      args.push_back(std::move(operand));
      return make(NodeKind::kNot, pos, std::move(args));
    }
    if (peek().kind == TokenKind::kMinus) {
      size_t pos = next().position;
      const Token& t = peek();
      // A negative number literal, so that -9223372036854775808 is representable.
      if (t.kind == TokenKind::kInt || t.kind == TokenKind::kDouble) {
        Token lit = next();
        auto n = std::make_unique<Node>();
        n->position = pos;
        if (lit.kind == TokenKind::kDouble) {
          n->literal = Value(-lit.number);
        } else if (lit.magnitude <= 9223372036854775808ull) {
          n->literal =
              Value(lit.magnitude == 9223372036854775808ull ? INT64_MIN
                                                            : -static_cast<int64_t>(lit.magnitude));
        } else {
          return error(pos, fmt::format("integer literal '-{}' is out of range", lit.text));
        }
        return parse_member_suffix(std::move(n));
      }
      WIMS_ASSIGN_OR_RETURN(NodePtr operand, parse_unary());
      std::vector<NodePtr> args;
      args.push_back(std::move(operand));
      return make(NodeKind::kCall, pos, std::move(args), "-_");
    }
    WIMS_ASSIGN_OR_RETURN(NodePtr primary, parse_primary());
    return parse_member_suffix(std::move(primary));
  }

  absl::StatusOr<std::vector<NodePtr>> parse_arguments(TokenKind close,
                                                       std::string_view close_text) {
    std::vector<NodePtr> args;
    if (accept(close)) return args;
    while (true) {
      WIMS_ASSIGN_OR_RETURN(NodePtr arg, parse_expr());
      args.push_back(std::move(arg));
      if (accept(close)) return args;
      if (!accept(TokenKind::kComma)) return unexpected(fmt::format("',' or '{}'", close_text));
      // A trailing comma is allowed in list literals.
      if (close == TokenKind::kRBracket && accept(close)) return args;
    }
  }

  absl::StatusOr<NodePtr> parse_member_suffix(NodePtr operand) {
    while (true) {
      if (peek().kind == TokenKind::kDot) {
        size_t pos = next().position;
        if (peek().kind != TokenKind::kIdent)
          return unexpected("a field or function name after '.'");
        std::string name = next().text;
        if (accept(TokenKind::kLParen)) {
          WIMS_ASSIGN_OR_RETURN(std::vector<NodePtr> args,
                                parse_arguments(TokenKind::kRParen, ")"));
          args.insert(args.begin(), std::move(operand));
          WIMS_ASSIGN_OR_RETURN(operand, make(NodeKind::kCall, pos, std::move(args), name));
          operand->receiver = true;
        } else {
          std::vector<NodePtr> args;
          args.push_back(std::move(operand));
          WIMS_ASSIGN_OR_RETURN(operand, make(NodeKind::kSelect, pos, std::move(args), name));
        }
      } else if (peek().kind == TokenKind::kLBracket) {
        size_t pos = next().position;
        WIMS_ASSIGN_OR_RETURN(NodePtr index, parse_expr());
        WIMS_RETURN_IF_ERROR(expect(TokenKind::kRBracket, "']'"));
        WIMS_ASSIGN_OR_RETURN(
            operand, make2(NodeKind::kCall, pos, std::move(operand), std::move(index), "_[_]"));
      } else {
        return operand;
      }
    }
  }

  absl::StatusOr<NodePtr> literal(const Token& t, Value v) {
    auto n = std::make_unique<Node>();
    n->position = t.position;
    n->literal = std::move(v);
    return n;
  }

  absl::StatusOr<NodePtr> parse_primary() {
    const size_t saved = index_;
    const Token t = next();
    switch (t.kind) {
      case TokenKind::kInt:
        if (t.magnitude > static_cast<uint64_t>(INT64_MAX)) {
          return error(t.position, fmt::format("integer literal '{}' is out of range", t.text));
        }
        return literal(t, Value(static_cast<int64_t>(t.magnitude)));
      case TokenKind::kUint:
        return literal(t, Value(t.magnitude));
      case TokenKind::kDouble:
        return literal(t, Value(t.number));
      case TokenKind::kString:
        return literal(t, Value(t.text));
      case TokenKind::kLParen: {
        WIMS_ASSIGN_OR_RETURN(NodePtr inner, parse_expr());
        WIMS_RETURN_IF_ERROR(expect(TokenKind::kRParen, "')'"));
        return inner;
      }
      case TokenKind::kLBracket: {
        WIMS_ASSIGN_OR_RETURN(std::vector<NodePtr> items,
                              parse_arguments(TokenKind::kRBracket, "]"));
        return make(NodeKind::kList, t.position, std::move(items));
      }
      case TokenKind::kLBrace:
        return error(t.position, "map and message literals are not supported in IAM conditions");
      case TokenKind::kDot:
        return error(t.position,
                     "fully qualified names ('.name') are not supported in IAM conditions");
      case TokenKind::kIdent: {
        if (t.text == "true") return literal(t, Value(true));
        if (t.text == "false") return literal(t, Value(false));
        if (t.text == "null") return literal(t, Value());
        if (is_reserved(t.text))
          return error(t.position, fmt::format("reserved identifier '{}'", t.text));
        if (accept(TokenKind::kLParen)) {
          WIMS_ASSIGN_OR_RETURN(std::vector<NodePtr> args,
                                parse_arguments(TokenKind::kRParen, ")"));
          return make(NodeKind::kCall, t.position, std::move(args), t.text);
        }
        auto n = std::make_unique<Node>();
        n->kind = NodeKind::kIdent;
        n->position = t.position;
        n->name = t.text;
        return n;
      }
      default:
        index_ = saved;
        return unexpected("an expression");
    }
  }

  std::string_view src_;
  std::vector<Token> tokens_;
  const ParseLimits& limits_;
  size_t index_ = 0;
  int depth_ = 0;
  int logical_operators_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Node>> parse(std::string_view source, const ParseLimits& limits) {
  if (source.size() > limits.max_length) {
    return absl::InvalidArgumentError(
        fmt::format("the expression is {} characters long; at most {} are allowed", source.size(),
                    limits.max_length));
  }
  WIMS_ASSIGN_OR_RETURN(std::vector<Token> tokens, tokenize(source));
  return Parser(source, std::move(tokens), limits).run();
}

}  // namespace wims::iam::internal
