// PodMutator: the webhook's decision for one AdmissionRequest, given the pod's service account:
// which of the three mutations apply (IMDS emulator sidecar, Azure workload identity, IRSA, in that
// order) and the AdmissionResponse with the JSON Patch that makes them.
//
//   - Only Pod CREATE (no subresource) is mutated: anything else is allowed unchanged, so pods that
//   existed
//     before an annotation was added are never touched (as the EKS docs say).
//   - A pod that needs nothing is allowed with no patch; so is a pod already mutated
//   (reinvocation).
//   - A mutation refusing the pod (bad annotation) -> allowed:false, code 400, reason BadRequest,
//   with the
//     mutation's message. Non-fatal findings become response warnings.
//   - dryRun changes nothing here: computing the patch has no side effects.
//
// Pure function of its inputs: thread-safe; no I/O.
#pragma once

#include "webhook/admission_review.h"
#include "webhook/azure_mutation.h"
#include "webhook/imds_emulator_mutation.h"
#include "webhook/irsa_mutation.h"
#include "webhook/mutation_input.h"

namespace wims::webhook {

struct MutatorOptions {
  IrsaOptions irsa = {};
  AzureOptions azure = {};
  ImdsEmulatorOptions imds_emulator = {};
};

// True for the requests review_pod() may mutate (a Pod CREATE with an object): only those need the
// service account looked up.
bool is_pod_create(const AdmissionRequest& request);

AdmissionResponse review_pod(const AdmissionRequest& request, const MutationInput& input,
                             const MutatorOptions& options);

}  // namespace wims::webhook
