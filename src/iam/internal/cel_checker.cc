#include "iam/internal/cel_checker.h"

#include <utility>

#include "common/status_macros.h"
#include "common/strings.h"
#include "fmt/format.h"
#include "iam/internal/cel_functions.h"
#include "iam/internal/cel_lexer.h"

namespace wims::iam::internal {
namespace {

using K = TypeKind;

bool is_root_object(K k) { return k == K::kRequest || k == K::kResource || k == K::kApi; }

// Whether an argument of static type `arg` may bind to parameter `param`.
bool compatible(K param, Type arg) {
  if (param == K::kDyn) return !is_root_object(arg.kind);
  if (arg.kind == K::kDyn) return !is_root_object(param);
  return param == arg.kind;
}

bool known(Type t) { return t.kind != K::kDyn && (t.kind != K::kList || t.element != K::kDyn); }

std::string display_name(std::string_view name) {
  if (name == "_&&_") return "&&";
  if (name == "_||_") return "||";
  if (name.size() > 2 && name.front() == '_' && name.back() == '_')
    return std::string(name.substr(1, name.size() - 2));
  if (name == "-_") return "-";
  return std::string(name);
}

class Checker {
 public:
  explicit Checker(std::string_view src) : src_(src) {}

  absl::Status error(const Node& n, std::string_view what) const {
    return absl::InvalidArgumentError(
        fmt::format("{}: {}", describe_position(src_, n.position), what));
  }

  // `as_value`: the node is used as a value (not as a receiver or a select operand).
  absl::Status check(Node& n, bool as_value) {
    switch (n.kind) {
      case NodeKind::kLiteral:
        n.type = Type{n.literal.kind()};
        return absl::OkStatus();
      case NodeKind::kIdent:
        return check_ident(n, as_value);
      case NodeKind::kSelect:
        return check_select(n);
      case NodeKind::kCall:
        return check_call(n);
      case NodeKind::kList: {
        K element = K::kDyn;
        for (size_t i = 0; i < n.args.size(); ++i) {
          WIMS_RETURN_IF_ERROR(check(*n.args[i], true));
          K k = n.args[i]->type.kind;
          if (i == 0)
            element = k;
          else if (element != k)
            element = K::kDyn;
        }
        n.type = Type{K::kList, element};
        return absl::OkStatus();
      }
      case NodeKind::kAnd:
      case NodeKind::kOr:
      case NodeKind::kNot: {
        for (auto& a : n.args) WIMS_RETURN_IF_ERROR(check(*a, true));
        for (auto& a : n.args) {
          if (a->type.kind != K::kBool && a->type.kind != K::kDyn) {
            std::string op = n.kind == NodeKind::kAnd ? "&&" : n.kind == NodeKind::kOr ? "||" : "!";
            return error(*a, fmt::format("operator '{}' needs bool operands, found {}", op,
                                         type_name(a->type)));
          }
        }
        n.type = Type{K::kBool};
        return absl::OkStatus();
      }
      case NodeKind::kTernary: {
        for (auto& a : n.args) WIMS_RETURN_IF_ERROR(check(*a, true));
        if (n.args[0]->type.kind != K::kBool && n.args[0]->type.kind != K::kDyn) {
          return error(*n.args[0], fmt::format("the condition of '?:' must be bool, found {}",
                                               type_name(n.args[0]->type)));
        }
        n.type = n.args[1]->type == n.args[2]->type ? n.args[1]->type : Type{K::kDyn};
        return absl::OkStatus();
      }
    }
    return error(n, "unsupported expression");
  }

 private:
  absl::Status check_ident(Node& n, bool as_value) {
    if (n.name == "request")
      n.type = Type{K::kRequest};
    else if (n.name == "resource")
      n.type = Type{K::kResource};
    else if (n.name == "api")
      n.type = Type{K::kApi};
    else
      return error(n, fmt::format("undeclared reference to '{}'", n.name));
    if (as_value) {
      return error(
          n, fmt::format("'{}' is not a value; use one of its attributes or functions", n.name));
    }
    return absl::OkStatus();
  }

  absl::Status check_select(Node& n) {
    Node& operand = *n.args[0];
    WIMS_RETURN_IF_ERROR(check(operand, false));
    if (operand.type.kind == K::kRequest) {
      if (n.name == "time") {
        n.attribute = Attribute::kRequestTime;
        n.type = Type{K::kTimestamp};
        return absl::OkStatus();
      }
      return error(
          n,
          fmt::format("undeclared reference to 'request.{}' (IAM conditions support request.time)",
                      n.name));
    }
    if (operand.type.kind == K::kResource) {
      if (n.name == "name")
        n.attribute = Attribute::kResourceName;
      else if (n.name == "type")
        n.attribute = Attribute::kResourceType;
      else if (n.name == "service")
        n.attribute = Attribute::kResourceService;
      else {
        return error(n,
                     fmt::format("undeclared reference to 'resource.{}' (supported: resource.name, "
                                 "resource.type, resource.service)",
                                 n.name));
      }
      n.type = Type{K::kString};
      return absl::OkStatus();
    }
    if (operand.type.kind == K::kApi) {
      return error(
          n, fmt::format("undeclared reference to 'api.{}' (use api.getAttribute(name, default))",
                         n.name));
    }
    return error(n, fmt::format("type {} has no field '{}'", type_name(operand.type), n.name));
  }

  std::string signature(const Node& n) const {
    std::string out;
    size_t first = 0;
    if (n.receiver) {
      out = type_name(n.args[0]->type) + ".";
      first = 1;
    }
    out += "(";
    for (size_t i = first; i < n.args.size(); ++i) {
      if (i > first) out += ", ";
      out += type_name(n.args[i]->type);
    }
    return out + ")";
  }

  absl::Status check_call(Node& n) {
    static constexpr std::string_view kMacros[] = {"has",        "all", "exists",
                                                   "exists_one", "map", "filter"};
    for (auto m : kMacros) {
      if (n.name == m)
        return error(n, fmt::format("the macro '{}' is not supported in IAM conditions", n.name));
    }
    if (n.name == "matches") {
      return error(n,
                   "the function 'matches' (regular expressions) is not supported; use startsWith, "
                   "endsWith, "
                   "contains or extract");
    }
    if (!is_known_function(n.name))
      return error(n, fmt::format("undeclared reference to function '{}'", n.name));
    for (size_t i = 0; i < n.args.size(); ++i) {
      WIMS_RETURN_IF_ERROR(check(*n.args[i], !(n.receiver && i == 0)));
    }
    for (const Overload& o : all_overloads()) {
      if (o.name != n.name || o.receiver != n.receiver || o.params.size() != n.args.size())
        continue;
      bool ok = true;
      for (size_t i = 0; i < n.args.size() && ok; ++i)
        ok = compatible(o.params[i], n.args[i]->type);
      if (ok) n.overloads.push_back(&o);
    }
    if (n.overloads.empty()) {
      return error(n, fmt::format("found no matching overload for '{}' applied to '{}'",
                                  display_name(n.name), signature(n)));
    }
    // CEL equality and `in` are typed (A, A): no comparing a string with an int, or 1 with 1.0.
    if (n.name == "_==_" || n.name == "_!=_") {
      Type a = n.args[0]->type, b = n.args[1]->type;
      if (known(a) && known(b) && a.kind != K::kNull && b.kind != K::kNull && !(a == b)) {
        return error(n, fmt::format("found no matching overload for '{}' applied to '{}'",
                                    display_name(n.name), signature(n)));
      }
    }
    if (n.name == "_in_") {
      Type a = n.args[0]->type, list = n.args[1]->type;
      if (known(a) && list.kind == K::kList && list.element != K::kDyn && a.kind != list.element) {
        return error(
            n, fmt::format("found no matching overload for 'in' applied to '{}'", signature(n)));
      }
    }
    K result = n.overloads.front()->result;
    for (const Overload* o : n.overloads) {
      if (o->result != result) result = K::kDyn;
    }
    n.type = Type{result};
    if (n.name == "_[_]" && n.args[0]->type.kind == K::kList)
      n.type = Type{n.args[0]->type.element};
    if (result == K::kList) n.type = Type{K::kList, K::kDyn};
    return validate_literals(n);
  }

  static const Node* string_literal(const Node& n) {
    return n.kind == NodeKind::kLiteral && n.literal.kind() == K::kString ? &n : nullptr;
  }

  // Literal arguments are checked now, so a typo is a setIamPolicy error and not a silent
  // never-grant.
  absl::Status validate_literals(Node& n) {
    if (!n.receiver && n.args.size() == 1 && (n.name == "timestamp" || n.name == "duration")) {
      if (const Node* lit = string_literal(*n.args[0])) {
        const std::string& text = lit->literal.as_string();
        if (n.name == "timestamp") {
          auto t = parse_timestamp(text);
          if (!t.ok()) return error(*lit, to_std(t.status().message()));
          n.literal = Value(*t);
        } else {
          auto d = parse_duration(text);
          if (!d.ok()) return error(*lit, to_std(d.status().message()));
          n.literal = Value(*d);
        }
        n.kind = NodeKind::kLiteral;
        n.args.clear();
        n.overloads.clear();
      }
      return absl::OkStatus();
    }
    if (n.receiver && n.args.size() == 2 && n.name.rfind("get", 0) == 0 &&
        n.name != "getAttribute") {
      if (const Node* lit = string_literal(*n.args[1])) {
        auto tz = parse_time_zone(lit->literal.as_string());
        if (!tz.ok()) return error(*lit, to_std(tz.status().message()));
      }
    }
    if (n.receiver && n.name == "extract" && n.args.size() == 2) {
      if (const Node* lit = string_literal(*n.args[1])) {
        auto st = validate_extract_template(lit->literal.as_string());
        if (!st.ok()) return error(*lit, to_std(st.message()));
      }
    }
    return absl::OkStatus();
  }

  std::string_view src_;
};

}  // namespace

absl::Status check(Node& root, std::string_view source) {
  Checker checker(source);
  WIMS_RETURN_IF_ERROR(checker.check(root, true));
  if (root.type.kind != K::kBool && root.type.kind != K::kDyn) {
    return checker.error(
        root, fmt::format("the condition must evaluate to bool, found {}", type_name(root.type)));
  }
  return absl::OkStatus();
}

}  // namespace wims::iam::internal
