// Internal to wims::iam (IAM Conditions): the syntax tree of a CEL expression. The parser builds
// it, the checker annotates it (types, resolved attributes, candidate overloads) and the evaluator
// walks it. After compile a tree is never mutated, so one tree is evaluated concurrently from any
// thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "iam/internal/cel_value.h"

namespace wims::iam::internal {

struct Overload;

enum class NodeKind {
  kLiteral,  // literal
  kIdent,    // name: request | resource | api
  kSelect,   // args[0].name
  kCall,  // name(args...), receiver-style when `receiver` (args[0] is the receiver); operators are
          // calls named like cel-go: _==_ _!=_ _<_ _<=_ _>_ _>=_ _+_ _-_ _*_ _/_ _%_ _in_ -_ _[_]
  kList,  // [args...]
  kAnd,   // args[0] && args[1]
  kOr,    // args[0] || args[1]
  kNot,   // !args[0]
  kTernary,  // args[0] ? args[1] : args[2]
};

// The attributes the checker resolves field selections to.
enum class Attribute { kNone, kRequestTime, kResourceName, kResourceType, kResourceService };

struct Node {
  NodeKind kind = NodeKind::kLiteral;
  size_t position = 0;  // byte offset in the expression, for messages
  int height = 1;       // 1 + the height of the tallest child (bounded by the parser)
  Value literal;
  std::string name;
  bool receiver = false;
  std::vector<std::unique_ptr<Node>> args;

  // Filled by the checker.
  Type type;
  Attribute attribute = Attribute::kNone;
  std::vector<const Overload*>
      overloads;  // kCall: the statically possible overloads, in table order
};

// A compiled condition: the source and its checked tree. Immutable; shared by copies of a
// Condition.
struct Program {
  std::string expression;
  std::unique_ptr<Node> root;
};

}  // namespace wims::iam::internal
