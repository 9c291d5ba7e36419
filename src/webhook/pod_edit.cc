#include "webhook/pod_edit.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "common/strings.h"

namespace wims::webhook {

namespace json = boost::json;

namespace {

std::optional<std::string> metadata_string(const json::object& pod, std::string_view map,
                                           std::string_view key) {
  const json::value* metadata = pod.if_contains("metadata");
  if (metadata == nullptr || !metadata->is_object()) return std::nullopt;
  const json::value* values = metadata->as_object().if_contains(map);
  if (values == nullptr || !values->is_object()) return std::nullopt;
  const json::value* value = values->as_object().if_contains(key);
  if (value == nullptr || !value->is_string()) return std::nullopt;
  return std::string(value->as_string());
}

const json::array* array_member(const json::object& object, std::string_view name) {
  const json::value* v = object.if_contains(name);
  return v == nullptr ? nullptr : v->if_array();
}

json::array& array_member(json::object& object, std::string_view name) {
  json::value& v = object[name];
  if (!v.is_array()) v = json::array();
  return v.as_array();
}

bool named_entry_exists(const json::array* entries, std::string_view name) {
  if (entries == nullptr) return false;
  for (const json::value& entry : *entries) {
    const json::object* object = entry.if_object();
    if (object == nullptr) continue;
    const json::value* n = object->if_contains("name");
    if (n != nullptr && n->is_string() && n->as_string() == name) return true;
  }
  return false;
}

const json::object* spec_of(const json::object& pod) {
  const json::value* spec = pod.if_contains("spec");
  return spec == nullptr ? nullptr : spec->if_object();
}

}  // namespace

std::optional<std::string> pod_label(const json::object& pod, std::string_view key) {
  return metadata_string(pod, "labels", key);
}

std::optional<std::string> pod_annotation(const json::object& pod, std::string_view key) {
  return metadata_string(pod, "annotations", key);
}

std::string pod_service_account_name(const json::object& pod) {
  if (const json::object* spec = spec_of(pod)) {
    for (std::string_view field : {"serviceAccountName", "serviceAccount"}) {
      const json::value* v = spec->if_contains(field);
      if (v != nullptr && v->is_string() && !v->as_string().empty())
        return std::string(v->as_string());
    }
  }
  return "default";
}

json::object& pod_spec(json::object& pod) {
  json::value& spec = pod["spec"];
  if (!spec.is_object()) spec = json::object();
  return spec.as_object();
}

std::set<std::string> split_names(std::string_view list, char separator) {
  std::set<std::string> names;
  for (absl::string_view part : absl::StrSplit(to_absl(list), separator)) {
    absl::string_view trimmed = absl::StripAsciiWhitespace(part);
    if (!trimmed.empty()) names.emplace(trimmed);
  }
  return names;
}

void for_each_container(json::object& pod, const std::set<std::string>& skip,
                        const std::function<void(json::object&, bool)>& edit) {
  json::object& spec = pod_spec(pod);
  for (std::string_view array : {"initContainers", "containers"}) {
    json::value* containers = spec.if_contains(array);
    if (containers == nullptr || !containers->is_array()) continue;
    for (json::value& entry : containers->as_array()) {
      json::object* container = entry.if_object();
      if (container == nullptr) continue;
      const json::value* name = container->if_contains("name");
      if (name != nullptr && name->is_string() && skip.contains(std::string(name->as_string())))
        continue;
      edit(*container, array == "initContainers");
    }
  }
}

bool has_env(const json::object& container, std::string_view name) {
  return named_entry_exists(array_member(container, "env"), name);
}

bool add_env(json::object& container, std::string_view name, std::string_view value) {
  if (has_env(container, name)) return false;
  array_member(container, "env").push_back(json::object{{"name", name}, {"value", value}});
  return true;
}

bool has_volume_mount(const json::object& container, std::string_view name) {
  return named_entry_exists(array_member(container, "volumeMounts"), name);
}

bool add_volume_mount(json::object& container, std::string_view name, std::string_view mount_path,
                      bool read_only) {
  if (has_volume_mount(container, name)) return false;
  json::object mount{{"name", name}, {"mountPath", mount_path}};
  if (read_only) mount["readOnly"] = true;
  array_member(container, "volumeMounts").push_back(std::move(mount));
  return true;
}

bool has_volume(const json::object& pod, std::string_view name) {
  const json::object* spec = spec_of(pod);
  return spec != nullptr && named_entry_exists(array_member(*spec, "volumes"), name);
}

bool add_volume(json::object& pod, json::object volume) {
  const json::value* name = volume.if_contains("name");
  if (name == nullptr || !name->is_string() || has_volume(pod, name->as_string())) return false;
  array_member(pod_spec(pod), "volumes").push_back(std::move(volume));
  return true;
}

json::object projected_token_volume(std::string_view name, std::string_view audience,
                                    int64_t expiration_seconds, std::string_view path) {
  json::object token{
      {"audience", audience}, {"expirationSeconds", expiration_seconds}, {"path", path}};
  json::array sources;
  sources.push_back(json::object{{"serviceAccountToken", std::move(token)}});
  return json::object{{"name", name}, {"projected", json::object{{"sources", std::move(sources)}}}};
}

bool has_container(const json::object& pod, std::string_view array, std::string_view name) {
  const json::object* spec = spec_of(pod);
  return spec != nullptr && named_entry_exists(array_member(*spec, array), name);
}

JsonPatch pod_patch(const json::object& original, const json::object& mutated) {
  JsonPatch patch;
  const json::object* before = spec_of(original);
  const json::object* after = spec_of(mutated);
  if (after == nullptr) return patch;
  if (before == nullptr) {
    patch.add("/spec", *after);
    return patch;
  }
  for (std::string_view field : {"initContainers", "containers", "volumes"}) {
    const json::value* a = after->if_contains(field);
    if (a == nullptr) continue;
    const json::value* b = before->if_contains(field);
    if (b != nullptr && *a == *b) continue;
    patch.add("/spec/" + escape_pointer_token(field), *a);
  }
  return patch;
}

}  // namespace wims::webhook
