#include "aws/managed_policies.h"

#include <algorithm>

#include "common/encoding.h"

namespace wims::aws {
namespace {

ManagedPolicyRecord make(std::string name, std::string policy_id, std::string version,
                         std::string description, std::string_view created,
                         std::string_view updated, std::string document) {
  ManagedPolicyRecord r;
  r.name = name;
  r.path = "/";
  r.policy_id = std::move(policy_id);
  r.arn = "arn:aws:iam::aws:policy/" + name;
  r.description = std::move(description);
  r.document = std::move(document);
  r.default_version_id = std::move(version);
  r.create_date = parse_rfc3339(created).value_or(absl::UnixEpoch());
  r.update_date = parse_rfc3339(updated).value_or(absl::UnixEpoch());
  r.aws_managed = true;
  return r;
}

std::vector<ManagedPolicyRecord> build() {
  std::vector<ManagedPolicyRecord> out;
  // AWS Managed Policy reference, AmazonEKS_CNI_Policy, version v5 (edited 2024-03-04).
  out.push_back(make(
      "AmazonEKS_CNI_Policy", "ANPAJWLAS474LDBXNNTM4", "v5",
      "This policy provides the Amazon VPC CNI Plugin (amazon-vpc-cni-k8s) the permissions it "
      "requires to "
      "modify the IP address configuration on your EKS worker nodes. This permission set allows "
      "the CNI to "
      "list, describe, and modify Elastic Network Interfaces on your behalf. More information on "
      "the AWS VPC "
      "CNI Plugin is available here: https://github.com/aws/amazon-vpc-cni-k8s",
      "2018-05-27T21:07:42Z", "2024-03-04T20:20:00Z",
      R"({"Version":"2012-10-17","Statement":[{"Sid":"AmazonEKSCNIPolicy","Effect":"Allow","Action":["ec2:AssignPrivateIpAddresses","ec2:AttachNetworkInterface","ec2:CreateNetworkInterface","ec2:DeleteNetworkInterface","ec2:DescribeInstances","ec2:DescribeTags","ec2:DescribeNetworkInterfaces","ec2:DescribeInstanceTypes","ec2:DescribeSubnets","ec2:DetachNetworkInterface","ec2:ModifyNetworkInterfaceAttribute","ec2:UnassignPrivateIpAddresses"],"Resource":"*"},{"Sid":"AmazonEKSCNIPolicyENITag","Effect":"Allow","Action":["ec2:CreateTags"],"Resource":["arn:aws:ec2:*:*:network-interface/*"]}]})"));
  // AmazonS3ReadOnlyAccess, the usual demo policy for a pod's role.
  out.push_back(make(
      "AmazonS3ReadOnlyAccess", "ANPAIZTJ4DXE7G6AGAE6M", "v3",
      "Provides read only access to all buckets via the AWS Management Console.",
      "2015-02-06T18:40:59Z", "2023-08-10T21:31:39Z",
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*","s3:Describe*","s3-object-lambda:Get*","s3-object-lambda:List*"],"Resource":"*"}]})"));
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.arn < b.arn; });
  return out;
}

}  // namespace

const std::vector<ManagedPolicyRecord>& aws_managed_policies() {
  static const std::vector<ManagedPolicyRecord>* policies =
      new std::vector<ManagedPolicyRecord>(build());
  return *policies;
}

const ManagedPolicyRecord* find_aws_managed_policy(std::string_view arn) {
  for (const ManagedPolicyRecord& p : aws_managed_policies()) {
    if (p.arn == arn) return &p;
  }
  return nullptr;
}

}  // namespace wims::aws
