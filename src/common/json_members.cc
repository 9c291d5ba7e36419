#include "common/json_members.h"

namespace wims {

std::string string_member(const boost::json::object& object, std::string_view name) {
  auto it = object.find(name);
  if (it == object.end() || !it->value().is_string()) return std::string();
  return std::string(it->value().get_string());
}

const boost::json::object* object_member(const boost::json::object& object, std::string_view name) {
  auto it = object.find(name);
  return it != object.end() && it->value().is_object() ? &it->value().get_object() : nullptr;
}

}  // namespace wims
