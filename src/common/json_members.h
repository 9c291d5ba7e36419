// Lenient member lookups on parsed JSON objects (JWT claims, JWKs, Kubernetes objects), for the
// many places where an absent member and a member of the wrong type mean the same: "not there".
// Where the type matters to the caller's error message, check the value directly instead.
// Free functions; stateless and thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <string_view>

namespace wims {

// The string member `name` of `object`; "" when it is absent or not a string.
std::string string_member(const boost::json::object& object, std::string_view name);

// The object member `name` of `object`; nullptr when it is absent or not an object. Points into
// `object`.
const boost::json::object* object_member(const boost::json::object& object, std::string_view name);

}  // namespace wims
