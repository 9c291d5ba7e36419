#include "iam/internal/cel_evaluator.h"

#include <string>
#include <vector>

#include "fmt/format.h"
#include "iam/internal/cel_functions.h"

namespace wims::iam::internal {
namespace {

bool runtime_compatible(TypeKind param, const Value& v) {
  switch (param) {
    case TypeKind::kDyn:
    case TypeKind::kRequest:
    case TypeKind::kResource:
    case TypeKind::kApi:
      return true;
    default:
      return param == v.kind();
  }
}

Value logical(const Node& n, const ConditionContext& ctx, bool is_and) {
  // The deciding value: false for &&, true for ||. Either side may decide, even if the other is an
  // error.
  const bool decisive = !is_and;
  Value left = evaluate(*n.args[0], ctx);
  if (left.is_bool() && left.as_bool() == decisive) return Value(decisive);
  Value right = evaluate(*n.args[1], ctx);
  if (right.is_bool() && right.as_bool() == decisive) return Value(decisive);
  if (left.is_error()) return left;
  if (right.is_error()) return right;
  if (!left.is_bool() || !right.is_bool()) {
    return Value::error(fmt::format("no matching overload for '{}' applied to ({}, {})",
                                    is_and ? "&&" : "||", type_name(left.kind()),
                                    type_name(right.kind())));
  }
  return Value(!decisive);
}

Value call(const Node& n, const ConditionContext& ctx) {
  std::vector<Value> args;
  args.reserve(n.args.size());
  for (const auto& a : n.args) {
    Value v = evaluate(*a, ctx);
    if (v.is_error()) return v;  // functions are strict in their arguments
    args.push_back(std::move(v));
  }
  for (const Overload* o : n.overloads) {
    bool ok = true;
    for (size_t i = 0; i < args.size() && ok; ++i) ok = runtime_compatible(o->params[i], args[i]);
    if (ok) return o->impl(args.data(), ctx);
  }
  std::string types;
  for (const auto& a : args) {
    if (!types.empty()) types += ", ";
    types += type_name(a.kind());
  }
  return Value::error(fmt::format("no matching overload for '{}' applied to ({})", n.name, types));
}

}  // namespace

Value evaluate(const Node& n, const ConditionContext& ctx) {
  switch (n.kind) {
    case NodeKind::kLiteral:
      return n.literal;
    case NodeKind::kIdent:
      return Value();  // a receiver placeholder: the builtin reads the context
    case NodeKind::kSelect:
      switch (n.attribute) {
        case Attribute::kRequestTime:
          return Value(ctx.request_time);
        case Attribute::kResourceName:
          return Value(ctx.resource.name);
        case Attribute::kResourceType:
          return Value(ctx.resource.type);
        case Attribute::kResourceService:
          return Value(ctx.resource.service);
        case Attribute::kNone:
          break;
      }
      return Value::error("unresolved attribute " + n.name);
    case NodeKind::kList: {
      std::vector<Value> items;
      items.reserve(n.args.size());
      for (const auto& a : n.args) {
        Value v = evaluate(*a, ctx);
        if (v.is_error()) return v;
        items.push_back(std::move(v));
      }
      return Value(std::move(items));
    }
    case NodeKind::kAnd:
      return logical(n, ctx, true);
    case NodeKind::kOr:
      return logical(n, ctx, false);
    case NodeKind::kNot: {
      Value v = evaluate(*n.args[0], ctx);
      if (v.is_error()) return v;
      if (!v.is_bool())
        return Value::error("no matching overload for '!' applied to (" + type_name(v.kind()) +
                            ")");
      return Value(!v.as_bool());
    }
    case NodeKind::kTernary: {
      Value c = evaluate(*n.args[0], ctx);
      if (c.is_error()) return c;
      if (!c.is_bool())
        return Value::error("no matching overload for '?:' applied to (" + type_name(c.kind()) +
                            ")");
      return evaluate(*n.args[c.as_bool() ? 1 : 2], ctx);
    }
    case NodeKind::kCall:
      return call(n, ctx);
  }
  return Value::error("unsupported expression");
}

}  // namespace wims::iam::internal
