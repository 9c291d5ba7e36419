// Helpers for the webhook tests: Pod JSON from text, AdmissionRequests, applying a response's
// patch, and reading containers/env/mounts/volumes of a pod.
#pragma once

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/encoding.h"
#include "webhook/admission_review.h"
#include "webhook/json_patch.h"

namespace wims::webhook::testing {

namespace json = boost::json;

inline json::object object_from(std::string_view text) { return json::parse(text).as_object(); }

inline AdmissionRequest pod_create(json::object pod, std::string ns = "default") {
  AdmissionRequest request;
  request.uid = "705ab4f5-6393-11e8-b7cc-42010a800002";
  request.kind = {.group = "", .version = "v1", .kind = "Pod"};
  request.namespace_name = std::move(ns);
  request.operation = "CREATE";
  request.object = std::move(pod);
  return request;
}

// The pod after the response's patch; the pod itself when there is no patch. Fails the test when
// the patch is not base64 of a JSON array that applies.
inline json::object patched(const AdmissionResponse& response, const json::object& pod) {
  if (response.patch.empty()) return pod;
  auto patch = json::parse(response.patch);
  EXPECT_TRUE(patch.is_array());
  auto result = apply_json_patch(pod, patch.as_array());
  EXPECT_TRUE(result.ok()) << result.status();
  if (!result.ok() || !result->is_object()) return pod;
  return result->as_object();
}

inline const json::object* container(const json::object& pod, std::string_view name,
                                     std::string_view array = "containers") {
  const json::value* spec = pod.if_contains("spec");
  if (spec == nullptr) return nullptr;
  const json::value* list = spec->as_object().if_contains(array);
  if (list == nullptr || !list->is_array()) return nullptr;
  for (const auto& c : list->as_array()) {
    if (c.as_object().at("name").as_string() == name) return &c.as_object();
  }
  return nullptr;
}

// The env var's value; nullopt when absent; "<valueFrom>" for a valueFrom entry.
inline std::optional<std::string> env(const json::object* container, std::string_view name) {
  if (container == nullptr) return std::nullopt;
  const json::value* list = container->if_contains("env");
  if (list == nullptr) return std::nullopt;
  for (const auto& e : list->as_array()) {
    const auto& o = e.as_object();
    if (o.at("name").as_string() != name) continue;
    if (const json::value* v = o.if_contains("value")) return std::string(v->as_string());
    return std::string("<valueFrom>");
  }
  return std::nullopt;
}

inline size_t count_named(const json::object* object, std::string_view field,
                          std::string_view name) {
  if (object == nullptr) return 0;
  const json::value* list = object->if_contains(field);
  if (list == nullptr) return 0;
  size_t n = 0;
  for (const auto& e : list->as_array()) n += e.as_object().at("name").as_string() == name;
  return n;
}

inline std::optional<std::string> mount_path(const json::object* container,
                                             std::string_view volume) {
  if (container == nullptr) return std::nullopt;
  const json::value* list = container->if_contains("volumeMounts");
  if (list == nullptr) return std::nullopt;
  for (const auto& m : list->as_array()) {
    if (m.as_object().at("name").as_string() == volume)
      return std::string(m.as_object().at("mountPath").as_string());
  }
  return std::nullopt;
}

inline const json::object* volume(const json::object& pod, std::string_view name) {
  const json::value* list = pod.at("spec").as_object().if_contains("volumes");
  if (list == nullptr) return nullptr;
  for (const auto& v : list->as_array()) {
    if (v.as_object().at("name").as_string() == name) return &v.as_object();
  }
  return nullptr;
}

// volume.projected.sources[0].serviceAccountToken.
inline json::object token_source(const json::object* volume) {
  if (volume == nullptr) return {};
  return volume->at("projected").at("sources").at(0).at("serviceAccountToken").as_object();
}

}  // namespace wims::webhook::testing
