#include "aws/policy_document.h"

#include <boost/json.hpp>
#include <cctype>
#include <utility>

#include "aws/aws_error.h"
#include "fmt/format.h"

namespace wims::aws {
namespace {

namespace json = boost::json;

absl::Status malformed(std::string_view message) {
  return aws_error("MalformedPolicyDocument", message);
}

struct OperatorName {
  std::string_view name;
  ConditionOperator op;
};

constexpr OperatorName kOperators[] = {
    {"StringEquals", ConditionOperator::kStringEquals},
    {"StringNotEquals", ConditionOperator::kStringNotEquals},
    {"StringEqualsIgnoreCase", ConditionOperator::kStringEqualsIgnoreCase},
    {"StringNotEqualsIgnoreCase", ConditionOperator::kStringNotEqualsIgnoreCase},
    {"StringLike", ConditionOperator::kStringLike},
    {"StringNotLike", ConditionOperator::kStringNotLike},
    {"NumericEquals", ConditionOperator::kNumericEquals},
    {"NumericNotEquals", ConditionOperator::kNumericNotEquals},
    {"NumericLessThan", ConditionOperator::kNumericLessThan},
    {"NumericLessThanEquals", ConditionOperator::kNumericLessThanEquals},
    {"NumericGreaterThan", ConditionOperator::kNumericGreaterThan},
    {"NumericGreaterThanEquals", ConditionOperator::kNumericGreaterThanEquals},
    {"DateEquals", ConditionOperator::kDateEquals},
    {"DateNotEquals", ConditionOperator::kDateNotEquals},
    {"DateLessThan", ConditionOperator::kDateLessThan},
    {"DateLessThanEquals", ConditionOperator::kDateLessThanEquals},
    {"DateGreaterThan", ConditionOperator::kDateGreaterThan},
    {"DateGreaterThanEquals", ConditionOperator::kDateGreaterThanEquals},
    {"Bool", ConditionOperator::kBool},
    {"BinaryEquals", ConditionOperator::kBinaryEquals},
    {"IpAddress", ConditionOperator::kIpAddress},
    {"NotIpAddress", ConditionOperator::kNotIpAddress},
    {"ArnEquals", ConditionOperator::kArnEquals},
    {"ArnLike", ConditionOperator::kArnLike},
    {"ArnNotEquals", ConditionOperator::kArnNotEquals},
    {"ArnNotLike", ConditionOperator::kArnNotLike},
    {"Null", ConditionOperator::kNull},
};

std::string_view sv(json::string_view s) { return std::string_view(s.data(), s.size()); }

// A JSON value that may be a string or a non-empty array of strings ("Action", "Resource",
// principal ids).
absl::StatusOr<std::vector<std::string>> string_or_list(const json::value& value,
                                                        std::string_view field) {
  std::vector<std::string> out;
  if (value.is_string()) {
    out.emplace_back(sv(value.get_string()));
  } else if (value.is_array()) {
    for (const json::value& item : value.get_array()) {
      if (!item.is_string()) {
        return malformed(fmt::format("{} must contain only strings", field));
      }
      out.emplace_back(sv(item.get_string()));
    }
  } else {
    return malformed(fmt::format("{} must be a string or an array of strings", field));
  }
  if (out.empty()) return malformed(fmt::format("{} must not be empty", field));
  for (const std::string& s : out) {
    if (s.empty()) return malformed(fmt::format("{} must not contain an empty string", field));
  }
  return out;
}

absl::StatusOr<std::string> scalar_as_string(const json::value& value, std::string_view key) {
  switch (value.kind()) {
    case json::kind::string:
      return std::string(sv(value.get_string()));
    case json::kind::bool_:
      return std::string(value.get_bool() ? "true" : "false");
    case json::kind::int64:
      return std::to_string(value.get_int64());
    case json::kind::uint64:
      return std::to_string(value.get_uint64());
    case json::kind::double_:
      return json::serialize(value);
    default:
      return malformed(
          fmt::format("Condition value for key {} must be a string, number or boolean", key));
  }
}

absl::Status parse_operator(std::string_view written, ConditionClause& clause) {
  std::string_view name = written;
  if (name.starts_with("ForAnyValue:")) {
    clause.qualifier = SetQualifier::kForAnyValue;
    name.remove_prefix(std::string_view("ForAnyValue:").size());
  } else if (name.starts_with("ForAllValues:")) {
    clause.qualifier = SetQualifier::kForAllValues;
    name.remove_prefix(std::string_view("ForAllValues:").size());
  }
  constexpr std::string_view kIfExists = "IfExists";
  if (name.size() > kIfExists.size() && name.ends_with(kIfExists)) {
    clause.if_exists = true;
    name.remove_suffix(kIfExists.size());
  }
  for (const OperatorName& entry : kOperators) {
    if (entry.name == name) {
      if (entry.op == ConditionOperator::kNull && clause.if_exists) break;
      clause.op = entry.op;
      clause.operator_name = std::string(written);
      return absl::OkStatus();
    }
  }
  return malformed(fmt::format("Invalid Condition type : {}", written));
}

absl::StatusOr<std::vector<ConditionClause>> parse_conditions(const json::value& value) {
  if (!value.is_object()) return malformed("Condition must be an object");
  std::vector<ConditionClause> clauses;
  for (const auto& [op_name, keys] : value.get_object()) {
    ConditionClause prototype;
    if (absl::Status s = parse_operator(sv(op_name), prototype); !s.ok()) return s;
    if (!keys.is_object()) {
      return malformed(
          fmt::format("Condition operator {} must map condition keys to values", sv(op_name)));
    }
    if (keys.get_object().empty()) {
      return malformed(fmt::format("Condition operator {} has no condition keys", sv(op_name)));
    }
    for (const auto& [key, values] : keys.get_object()) {
      ConditionClause clause = prototype;
      clause.key = std::string(sv(key));
      if (clause.key.empty()) return malformed("Condition key must not be empty");
      if (values.is_array()) {
        for (const json::value& item : values.get_array()) {
          absl::StatusOr<std::string> s = scalar_as_string(item, clause.key);
          if (!s.ok()) return s.status();
          clause.values.push_back(*std::move(s));
        }
      } else {
        absl::StatusOr<std::string> s = scalar_as_string(values, clause.key);
        if (!s.ok()) return s.status();
        clause.values.push_back(*std::move(s));
      }
      if (clause.values.empty()) {
        return malformed(fmt::format("Condition key {} has no values", clause.key));
      }
      if (clause.op == ConditionOperator::kNull || clause.op == ConditionOperator::kBool) {
        for (const std::string& v : clause.values) {
          if (v != "true" && v != "false") {
            return malformed(
                fmt::format("{} condition value for key {} must be true or false, got \"{}\"",
                            clause.operator_name, clause.key, v));
          }
        }
      }
      clauses.push_back(std::move(clause));
    }
  }
  return clauses;
}

absl::StatusOr<PrincipalBlock> parse_principal(const json::value& value, std::string_view field) {
  PrincipalBlock block;
  if (value.is_string()) {
    if (sv(value.get_string()) != "*") {
      return malformed(
          fmt::format("Invalid principal in policy: {} must be \"*\" or an object", field));
    }
    block.any = true;
    return block;
  }
  if (!value.is_object() || value.get_object().empty()) {
    return malformed(
        fmt::format("Invalid principal in policy: {} must be \"*\" or an object", field));
  }
  for (const auto& [type, ids] : value.get_object()) {
    std::string_view t = sv(type);
    if (t != "AWS" && t != "Federated" && t != "Service" && t != "CanonicalUser") {
      return malformed(
          fmt::format("Invalid principal in policy: unknown principal type \"{}\"", t));
    }
    absl::StatusOr<std::vector<std::string>> list =
        string_or_list(ids, fmt::format("{}.{}", field, t));
    if (!list.ok()) return list.status();
    for (const std::string& id : *list) {
      if (id == "*" && t == "AWS") block.any = true;
    }
    block.ids[std::string(t)] = *std::move(list);
  }
  return block;
}

absl::Status validate_action(const std::string& action) {
  if (action == "*") return absl::OkStatus();
  size_t colon = action.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == action.size()) {
    return malformed(fmt::format(
        "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc. (got \"{}\")",
        action));
  }
  for (char c : action.substr(0, colon)) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-')) {
      return malformed(fmt::format("Vendor {} is not valid", action.substr(0, colon)));
    }
  }
  return absl::OkStatus();
}

absl::Status validate_resource(const std::string& resource) {
  if (resource == "*") return absl::OkStatus();
  if (!resource.starts_with("arn:")) {
    return malformed(fmt::format("Resource {} must be in ARN format or \"*\".", resource));
  }
  // arn:partition:service:region:account:resource; no wildcards in the service segment.
  std::vector<std::string_view> segments;
  std::string_view rest = resource;
  for (int i = 0; i < 5; ++i) {
    size_t colon = rest.find(':');
    if (colon == std::string_view::npos) {
      return malformed(fmt::format("Resource {} must be in ARN format or \"*\".", resource));
    }
    segments.push_back(rest.substr(0, colon));
    rest.remove_prefix(colon + 1);
  }
  if (segments[2].find_first_of("*?") != std::string_view::npos) {
    return malformed(
        fmt::format("Resource {} can not contain a wildcard in the service segment.", resource));
  }
  return absl::OkStatus();
}

absl::StatusOr<PolicyStatement> parse_statement(const json::value& value, PolicyKind kind) {
  if (!value.is_object()) return malformed("Statement must be an object or an array of objects");
  const json::object& obj = value.get_object();
  PolicyStatement st;
  for (const auto& [field, _] : obj) {
    std::string_view f = sv(field);
    if (f != "Sid" && f != "Effect" && f != "Principal" && f != "NotPrincipal" && f != "Action" &&
        f != "NotAction" && f != "Resource" && f != "NotResource" && f != "Condition") {
      return malformed(fmt::format("Statement contains unknown field {}", f));
    }
  }
  if (const json::value* sid = obj.if_contains("Sid")) {
    if (!sid->is_string()) return malformed("Sid must be a string");
    st.sid = std::string(sv(sid->get_string()));
    for (char c : st.sid) {
      if (!std::isalnum(static_cast<unsigned char>(c))) {
        return malformed(fmt::format("Statement IDs (SID) must be alpha-numeric: \"{}\"", st.sid));
      }
    }
  }
  const json::value* effect = obj.if_contains("Effect");
  if (effect == nullptr) return malformed("Missing required field Effect");
  if (!effect->is_string()) return malformed("Effect must be a string");
  if (sv(effect->get_string()) == "Allow") {
    st.effect = PolicyEffect::kAllow;
  } else if (sv(effect->get_string()) == "Deny") {
    st.effect = PolicyEffect::kDeny;
  } else {
    return malformed(fmt::format("Invalid effect: {}", sv(effect->get_string())));
  }

  const json::value* principal = obj.if_contains("Principal");
  const json::value* not_principal = obj.if_contains("NotPrincipal");
  if (principal != nullptr && not_principal != nullptr) {
    return malformed("Statement cannot contain both Principal and NotPrincipal");
  }
  if (kind == PolicyKind::kIdentity) {
    if (principal != nullptr || not_principal != nullptr) {
      return malformed("Policy document should not specify a principal.");
    }
  } else {
    if (principal == nullptr && not_principal == nullptr)
      return malformed("Missing required field Principal");
    st.not_principal = not_principal != nullptr;
    absl::StatusOr<PrincipalBlock> block =
        parse_principal(st.not_principal ? *not_principal : *principal,
                        st.not_principal ? "NotPrincipal" : "Principal");
    if (!block.ok()) return block.status();
    st.principal = *std::move(block);
  }

  const json::value* action = obj.if_contains("Action");
  const json::value* not_action = obj.if_contains("NotAction");
  if (action != nullptr && not_action != nullptr) {
    return malformed("Statement cannot contain both Action and NotAction");
  }
  if (action == nullptr && not_action == nullptr) return malformed("Missing required field Action");
  st.not_action = not_action != nullptr;
  {
    absl::StatusOr<std::vector<std::string>> actions = string_or_list(
        st.not_action ? *not_action : *action, st.not_action ? "NotAction" : "Action");
    if (!actions.ok()) return actions.status();
    st.actions = *std::move(actions);
    for (const std::string& a : st.actions) {
      if (absl::Status s = validate_action(a); !s.ok()) return s;
    }
  }

  const json::value* resource = obj.if_contains("Resource");
  const json::value* not_resource = obj.if_contains("NotResource");
  if (resource != nullptr && not_resource != nullptr) {
    return malformed("Statement cannot contain both Resource and NotResource");
  }
  if (kind == PolicyKind::kTrust) {
    if (resource != nullptr) return malformed("Has prohibited field Resource");
    if (not_resource != nullptr) return malformed("Has prohibited field NotResource");
  } else {
    if (resource == nullptr && not_resource == nullptr) {
      return malformed("Policy statement must contain resources.");
    }
    st.has_resource = true;
    st.not_resource = not_resource != nullptr;
    absl::StatusOr<std::vector<std::string>> resources = string_or_list(
        st.not_resource ? *not_resource : *resource, st.not_resource ? "NotResource" : "Resource");
    if (!resources.ok()) return resources.status();
    st.resources = *std::move(resources);
    for (const std::string& r : st.resources) {
      if (absl::Status s = validate_resource(r); !s.ok()) return s;
    }
  }

  if (const json::value* condition = obj.if_contains("Condition")) {
    absl::StatusOr<std::vector<ConditionClause>> clauses = parse_conditions(*condition);
    if (!clauses.ok()) return clauses.status();
    st.conditions = *std::move(clauses);
  }
  return st;
}

}  // namespace

bool is_negated(ConditionOperator op) {
  switch (op) {
    case ConditionOperator::kStringNotEquals:
    case ConditionOperator::kStringNotEqualsIgnoreCase:
    case ConditionOperator::kStringNotLike:
    case ConditionOperator::kNumericNotEquals:
    case ConditionOperator::kDateNotEquals:
    case ConditionOperator::kNotIpAddress:
    case ConditionOperator::kArnNotEquals:
    case ConditionOperator::kArnNotLike:
      return true;
    default:
      return false;
  }
}

size_t policy_size_without_whitespace(std::string_view json_text) {
  size_t n = 0;
  for (char c : json_text) {
    if (!std::isspace(static_cast<unsigned char>(c))) ++n;
  }
  return n;
}

absl::StatusOr<PolicyDocument> parse_policy_document(std::string_view json_text, PolicyKind kind) {
  if (json_text.size() > kMaxPolicyDocumentBytes) {
    return malformed(
        fmt::format("Policy document is larger than {} bytes", kMaxPolicyDocumentBytes));
  }
  boost::system::error_code ec;
  json::value root = json::parse(json::string_view(json_text.data(), json_text.size()), ec);
  if (ec) return malformed("Syntax errors in policy.");
  if (!root.is_object()) return malformed("Syntax errors in policy.");
  const json::object& obj = root.get_object();
  for (const auto& [field, _] : obj) {
    std::string_view f = sv(field);
    if (f != "Version" && f != "Id" && f != "Statement") {
      return malformed(fmt::format("Policy document contains unknown field {}", f));
    }
  }
  PolicyDocument doc;
  doc.version = "2008-10-17";  // IAM's default when Version is absent
  if (const json::value* version = obj.if_contains("Version")) {
    if (!version->is_string()) return malformed("Version must be a string");
    doc.version = std::string(sv(version->get_string()));
    if (doc.version != "2012-10-17" && doc.version != "2008-10-17") {
      return malformed(fmt::format(
          "The policy failed legacy parsing: invalid Version \"{}\" (use \"2012-10-17\")",
          doc.version));
    }
  }
  if (const json::value* id = obj.if_contains("Id")) {
    if (!id->is_string()) return malformed("Id must be a string");
    doc.id = std::string(sv(id->get_string()));
  }
  const json::value* statement = obj.if_contains("Statement");
  if (statement == nullptr) return malformed("Missing required field Statement");
  if (statement->is_array()) {
    if (statement->get_array().empty()) return malformed("Statement must not be empty");
    for (const json::value& item : statement->get_array()) {
      absl::StatusOr<PolicyStatement> st = parse_statement(item, kind);
      if (!st.ok()) return st.status();
      doc.statements.push_back(*std::move(st));
    }
  } else {
    absl::StatusOr<PolicyStatement> st = parse_statement(*statement, kind);
    if (!st.ok()) return st.status();
    doc.statements.push_back(*std::move(st));
  }
  return doc;
}

}  // namespace wims::aws
