// Pod edits shared by the mutations: reading labels/annotations, and idempotent additions to a
// Pod's JSON (env vars, volume mounts, volumes, containers) that never touch what the pod already
// has. A mutation edits a working copy of request.object; pod_patch() then turns the difference
// into the JSON Patch the EKS pod identity webhook also sends: one "add" of each changed array
// (/spec/initContainers, /spec/containers, /spec/volumes), which replaces it whole ("add" on an
// existing member replaces it, RFC 6902 section 4.1), so reinvocation and concurrent mutations by
// other webhooks stay consistent.
//
// Free functions on plain values: thread-safe; no I/O.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "webhook/json_patch.h"

namespace wims::webhook {

// metadata.labels[key] / metadata.annotations[key]; nullopt when absent (or not a string).
std::optional<std::string> pod_label(const boost::json::object& pod, std::string_view key);
std::optional<std::string> pod_annotation(const boost::json::object& pod, std::string_view key);

// spec.serviceAccountName (or the deprecated spec.serviceAccount), "default" when unset.
std::string pod_service_account_name(const boost::json::object& pod);

// pod.spec, created empty when absent.
boost::json::object& pod_spec(boost::json::object& pod);

// Names listed in a separated annotation value ("a, b" with ',' or "a; b" with ';'), trimmed,
// empties dropped.
std::set<std::string> split_names(std::string_view list, char separator);

// Calls `edit(container, is_init)` for every init container, then every container, in order,
// skipping the ones whose name is in `skip`.
void for_each_container(boost::json::object& pod, const std::set<std::string>& skip,
                        const std::function<void(boost::json::object&, bool)>& edit);

bool has_env(const boost::json::object& container, std::string_view name);
// Appends {"name","value"} to container.env (creating it). Returns false (and changes nothing) when
// an env var of that name exists already.
bool add_env(boost::json::object& container, std::string_view name, std::string_view value);
bool has_volume_mount(const boost::json::object& container, std::string_view name);
// Appends a volumeMount unless one with that name exists; returns whether it added it.
bool add_volume_mount(boost::json::object& container, std::string_view name,
                      std::string_view mount_path, bool read_only);

bool has_volume(const boost::json::object& pod, std::string_view name);
// Appends `volume` to spec.volumes unless a volume of the same name exists; returns whether it
// added it.
bool add_volume(boost::json::object& pod, boost::json::object volume);
// A projected service-account token volume:
// {"name",projected:{sources:[{serviceAccountToken:{audience, expirationSeconds,path}}]}}
// (defaultMode left to the kubelet).
boost::json::object projected_token_volume(std::string_view name, std::string_view audience,
                                           int64_t expiration_seconds, std::string_view path);

bool has_container(const boost::json::object& pod, std::string_view array, std::string_view name);

// The patch that turns `original` into `mutated`: an "add" of each of spec.initContainers,
// spec.containers and spec.volumes that differs (nothing else is compared: mutations only edit
// those).
JsonPatch pod_patch(const boost::json::object& original, const boost::json::object& mutated);

}  // namespace wims::webhook
