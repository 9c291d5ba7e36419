// The AWS-managed policies the local IAM serves (arn:aws:iam::aws:policy/...): the ones the EKS
// guides attach, with their published documents. Immutable built-in data; thread-safe.
#pragma once

#include <string_view>
#include <vector>

#include "aws/aws_state_repository.h"

namespace wims::aws {

// Every built-in AWS-managed policy (aws_managed = true), ordered by ARN.
const std::vector<ManagedPolicyRecord>& aws_managed_policies();

// The built-in policy with `arn`, or nullptr.
const ManagedPolicyRecord* find_aws_managed_policy(std::string_view arn);

}  // namespace wims::aws
