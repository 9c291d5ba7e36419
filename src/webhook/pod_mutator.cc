#include "webhook/pod_mutator.h"

#include "webhook/pod_edit.h"

namespace wims::webhook {

bool is_pod_create(const AdmissionRequest& request) {
  return request.kind.is_core_v1("Pod") && request.sub_resource.empty() &&
         request.operation == "CREATE" && request.object.has_value();
}

AdmissionResponse review_pod(const AdmissionRequest& request, const MutationInput& input,
                             const MutatorOptions& options) {
  if (!is_pod_create(request)) {
    if (request.kind.is_core_v1("Pod") && request.sub_resource.empty() &&
        request.operation == "CREATE") {
      return AdmissionResponse::deny(request.uid, 400, "BadRequest",
                                     "request.object is missing for a Pod CREATE");
    }
    return AdmissionResponse::allow(request.uid);
  }
  const boost::json::object& original = *request.object;
  boost::json::object pod = original;
  Warnings warnings;
  auto refuse = [&](const absl::Status& status) {
    AdmissionResponse response =
        AdmissionResponse::deny(request.uid, 400, "BadRequest", std::string(status.message()));
    response.warnings = std::move(warnings);
    return response;
  };
  if (auto emulator = apply_imds_emulator(pod, input, options.imds_emulator); !emulator.ok()) {
    return refuse(emulator.status());
  }
  if (auto azure = apply_azure_workload_identity(pod, input, options.azure); !azure.ok()) {
    return refuse(azure.status());
  }
  apply_irsa(pod, input, options.irsa, warnings);

  AdmissionResponse response = AdmissionResponse::allow(request.uid);
  JsonPatch patch = pod_patch(original, pod);
  if (!patch.empty()) response.patch = patch.serialize();
  response.warnings = std::move(warnings);
  return response;
}

}  // namespace wims::webhook
