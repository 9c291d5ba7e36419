// Caller: the resolved identity of a process calling the node metadata server, decided ONLY from
// the connection's source address (never from headers): which pod it is, which Kubernetes service
// account that pod runs as, and what the service account's annotations bind it to in each cloud.
//
// A plain value, copied per request; thread-safe to read.
#pragma once

#include <optional>
#include <string>

#include "config/world.h"
#include "iam/workload_identity.h"

namespace wims::broker {

struct Caller {
  config::Pod pod;
  config::ServiceAccount service_account;
  // The workload's identity in the project's workload identity pool.
  iam::WorkloadIdentity workload;
  // `iam.gke.io/gcp-service-account`, when set: the Google service account the pod impersonates.
  std::optional<std::string> google_service_account;
  // `iam.gke.io/return-principal-id-as-email: "true"`.
  bool return_principal_id_as_email = false;
  // The AWS role the pod gets, when any (IMDS-emulator pod annotation, else
  // `eks.amazonaws.com/role-arn`).
  std::optional<std::string> aws_role_arn;
};

}  // namespace wims::broker
