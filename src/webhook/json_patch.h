// JSON Patch (RFC 6902) and JSON Pointer (RFC 6901): the patch format of a mutating admission
// response.
//
//   JsonPatch patch;
//   patch.add("/spec/containers", std::move(containers));   // "add" on an existing member replaces
//   it std::string base64 = base64_encode(patch.serialize());
//
// apply_json_patch() applies a patch to a document as the API server does (all six operations: add,
// remove, replace, move, copy, test); the webhook's tests use it to check the patched pod, and it
// lets callers verify that a patch applies to the object it was computed for.
//
// Plain values and free functions: thread-safe; no I/O.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace wims::webhook {

// One RFC 6901 reference token escaped: "~" -> "~0", "/" -> "~1" ("a/b" -> "a~1b").
std::string escape_pointer_token(std::string_view token);

class JsonPatch {
 public:
  // {"op":"add","path":path,"value":value}.
  void add(std::string path, boost::json::value value);
  // {"op":"replace","path":path,"value":value}.
  void replace(std::string path, boost::json::value value);
  // {"op":"remove","path":path}.
  void remove(std::string path);

  bool empty() const { return operations_.empty(); }
  const boost::json::array& operations() const { return operations_; }
  // The patch document (a JSON array).
  std::string serialize() const;

 private:
  boost::json::array operations_;
};

// Applies `patch` (an RFC 6902 array) to `document` and returns the result. InvalidArgument for a
// malformed operation or pointer, a missing target (remove/replace/move/copy from/test), an
// out-of-range array index; FailedPrecondition when a "test" operation does not match. Operations
// apply in order; on error nothing is returned (the input is a copy).
absl::StatusOr<boost::json::value> apply_json_patch(boost::json::value document,
                                                    const boost::json::array& patch);

}  // namespace wims::webhook
