#include "webhook/json_patch.h"

#include <boost/json/serialize.hpp>
#include <charconv>
#include <utility>
#include <vector>

#include "common/status_macros.h"
#include "fmt/format.h"

namespace wims::webhook {

namespace json = boost::json;

std::string escape_pointer_token(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

void JsonPatch::add(std::string path, json::value value) {
  operations_.push_back(
      json::object{{"op", "add"}, {"path", std::move(path)}, {"value", std::move(value)}});
}

void JsonPatch::replace(std::string path, json::value value) {
  operations_.push_back(
      json::object{{"op", "replace"}, {"path", std::move(path)}, {"value", std::move(value)}});
}

void JsonPatch::remove(std::string path) {
  operations_.push_back(json::object{{"op", "remove"}, {"path", std::move(path)}});
}

std::string JsonPatch::serialize() const { return json::serialize(operations_); }

namespace {

absl::StatusOr<std::vector<std::string>> parse_pointer(std::string_view pointer) {
  std::vector<std::string> tokens;
  if (pointer.empty()) return tokens;
  if (pointer.front() != '/') {
    return absl::InvalidArgumentError(
        fmt::format("JSON pointer \"{}\" does not start with '/'", pointer));
  }
  size_t start = 1;
  for (;;) {
    size_t end = pointer.find('/', start);
    std::string_view raw =
        pointer.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    std::string token;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '~') {
        token += raw[i];
        continue;
      }
      if (i + 1 < raw.size() && raw[i + 1] == '0') {
        token += '~';
      } else if (i + 1 < raw.size() && raw[i + 1] == '1') {
        token += '/';
      } else {
        return absl::InvalidArgumentError(
            fmt::format("JSON pointer \"{}\" has a bad '~' escape", pointer));
      }
      ++i;
    }
    tokens.push_back(std::move(token));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return tokens;
}

// An array index token: digits without a leading zero (RFC 6901 section 4).
absl::StatusOr<size_t> parse_index(const std::string& token, size_t limit,
                                   std::string_view pointer) {
  size_t index = 0;
  auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), index);
  if (token.empty() || ec != std::errc() || end != token.data() + token.size() ||
      (token.size() > 1 && token[0] == '0')) {
    return absl::InvalidArgumentError(
        fmt::format("JSON pointer \"{}\": \"{}\" is not an array index", pointer, token));
  }
  if (index > limit) {
    return absl::InvalidArgumentError(
        fmt::format("JSON pointer \"{}\": index {} out of range", pointer, index));
  }
  return index;
}

// The value `tokens` refers to inside `root`.
absl::StatusOr<json::value*> resolve(json::value& root, const std::vector<std::string>& tokens,
                                     size_t count, std::string_view pointer) {
  json::value* current = &root;
  for (size_t i = 0; i < count; ++i) {
    const std::string& token = tokens[i];
    if (auto* object = current->if_object()) {
      auto it = object->find(token);
      if (it == object->end()) {
        return absl::InvalidArgumentError(
            fmt::format("JSON pointer \"{}\": no member \"{}\"", pointer, token));
      }
      current = &it->value();
    } else if (auto* array = current->if_array()) {
      if (array->empty()) {
        return absl::InvalidArgumentError(
            fmt::format("JSON pointer \"{}\": index into an empty array", pointer));
      }
      WIMS_ASSIGN_OR_RETURN(size_t index, parse_index(token, array->size() - 1, pointer));
      current = &(*array)[index];
    } else {
      return absl::InvalidArgumentError(
          fmt::format("JSON pointer \"{}\": \"{}\" is inside a scalar", pointer, token));
    }
  }
  return current;
}

absl::Status add_at(json::value& root, std::string_view pointer, json::value value) {
  WIMS_ASSIGN_OR_RETURN(std::vector<std::string> tokens, parse_pointer(pointer));
  if (tokens.empty()) {
    root = std::move(value);
    return absl::OkStatus();
  }
  WIMS_ASSIGN_OR_RETURN(json::value * parent, resolve(root, tokens, tokens.size() - 1, pointer));
  const std::string& last = tokens.back();
  if (auto* object = parent->if_object()) {
    (*object)[last] = std::move(value);
    return absl::OkStatus();
  }
  if (auto* array = parent->if_array()) {
    if (last == "-") {
      array->push_back(std::move(value));
      return absl::OkStatus();
    }
    WIMS_ASSIGN_OR_RETURN(size_t index, parse_index(last, array->size(), pointer));
    array->insert(array->begin() + static_cast<std::ptrdiff_t>(index), std::move(value));
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      fmt::format("JSON pointer \"{}\": parent is a scalar", pointer));
}

absl::StatusOr<json::value> remove_at(json::value& root, std::string_view pointer) {
  WIMS_ASSIGN_OR_RETURN(std::vector<std::string> tokens, parse_pointer(pointer));
  if (tokens.empty()) return absl::InvalidArgumentError("cannot remove the whole document");
  WIMS_ASSIGN_OR_RETURN(json::value * parent, resolve(root, tokens, tokens.size() - 1, pointer));
  const std::string& last = tokens.back();
  if (auto* object = parent->if_object()) {
    auto it = object->find(last);
    if (it == object->end()) {
      return absl::InvalidArgumentError(
          fmt::format("JSON pointer \"{}\": no member \"{}\"", pointer, last));
    }
    json::value removed = std::move(it->value());
    object->erase(it);
    return removed;
  }
  if (auto* array = parent->if_array()) {
    if (array->empty()) {
      return absl::InvalidArgumentError(
          fmt::format("JSON pointer \"{}\": index into an empty array", pointer));
    }
    WIMS_ASSIGN_OR_RETURN(size_t index, parse_index(last, array->size() - 1, pointer));
    json::value removed = std::move((*array)[index]);
    array->erase(array->begin() + static_cast<std::ptrdiff_t>(index));
    return removed;
  }
  return absl::InvalidArgumentError(
      fmt::format("JSON pointer \"{}\": parent is a scalar", pointer));
}

absl::StatusOr<json::value*> get_at(json::value& root, std::string_view pointer) {
  WIMS_ASSIGN_OR_RETURN(std::vector<std::string> tokens, parse_pointer(pointer));
  return resolve(root, tokens, tokens.size(), pointer);
}

absl::StatusOr<std::string> string_member(const json::object& op, std::string_view name, size_t i) {
  const json::value* v = op.if_contains(name);
  if (v == nullptr || !v->is_string()) {
    return absl::InvalidArgumentError(
        fmt::format("patch operation {}: \"{}\" must be a string", i, name));
  }
  return std::string(v->as_string());
}

absl::StatusOr<json::value> value_member(const json::object& op, size_t i) {
  const json::value* v = op.if_contains("value");
  if (v == nullptr)
    return absl::InvalidArgumentError(fmt::format("patch operation {}: \"value\" is missing", i));
  return *v;
}

}  // namespace

absl::StatusOr<json::value> apply_json_patch(json::value document, const json::array& patch) {
  for (size_t i = 0; i < patch.size(); ++i) {
    const json::object* op = patch[i].if_object();
    if (op == nullptr)
      return absl::InvalidArgumentError(fmt::format("patch operation {} is not an object", i));
    WIMS_ASSIGN_OR_RETURN(std::string name, string_member(*op, "op", i));
    WIMS_ASSIGN_OR_RETURN(std::string path, string_member(*op, "path", i));
    if (name == "add") {
      WIMS_ASSIGN_OR_RETURN(json::value value, value_member(*op, i));
      WIMS_RETURN_IF_ERROR(add_at(document, path, std::move(value)));
    } else if (name == "remove") {
      WIMS_RETURN_IF_ERROR(remove_at(document, path).status());
    } else if (name == "replace") {
      WIMS_ASSIGN_OR_RETURN(json::value value, value_member(*op, i));
      WIMS_ASSIGN_OR_RETURN(json::value * target, get_at(document, path));
      *target = std::move(value);
    } else if (name == "move" || name == "copy") {
      WIMS_ASSIGN_OR_RETURN(std::string from, string_member(*op, "from", i));
      if (name == "move" && path.size() > from.size() && path.compare(0, from.size(), from) == 0 &&
          path[from.size()] == '/') {
        return absl::InvalidArgumentError(fmt::format(
            "patch operation {}: cannot move \"{}\" into its own child \"{}\"", i, from, path));
      }
      json::value value;
      if (name == "move") {
        WIMS_ASSIGN_OR_RETURN(value, remove_at(document, from));
      } else {
        WIMS_ASSIGN_OR_RETURN(json::value * source, get_at(document, from));
        value = *source;
      }
      WIMS_RETURN_IF_ERROR(add_at(document, path, std::move(value)));
    } else if (name == "test") {
      WIMS_ASSIGN_OR_RETURN(json::value expected, value_member(*op, i));
      WIMS_ASSIGN_OR_RETURN(json::value * target, get_at(document, path));
      if (*target != expected) {
        return absl::FailedPreconditionError(
            fmt::format("patch operation {}: test of \"{}\" failed", i, path));
      }
    } else {
      return absl::InvalidArgumentError(
          fmt::format("patch operation {}: unknown op \"{}\"", i, name));
    }
  }
  return document;
}

}  // namespace wims::webhook
