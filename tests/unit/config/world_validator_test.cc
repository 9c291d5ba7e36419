#include "config/world_validator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

#include "config/default_world.h"
#include "config/stable_id.h"

namespace wims::config {
namespace {

using testing::HasSubstr;

struct Case {
  const char* name;
  std::function<void(World&)> mutate;
  const char* path;
  const char* message;  // a substring of the problem's message
};

std::string describe(const std::vector<WorldProblem>& problems) {
  std::string out;
  for (const WorldProblem& p : problems) out += p.path + ": " + p.message + "\n";
  return out;
}

TEST(WorldValidatorTest, ReportsEachProblemWithItsPath) {
  const Case cases[] = {
      {"bad project id", [](World& w) { w.project.id = "Wims_Local"; }, "project.id",
       "is not a valid project id"},
      {"short project id", [](World& w) { w.project.id = "abc"; }, "project.id",
       "is not a valid project id"},
      {"project number", [](World& w) { w.project.number = -5; }, "project.number",
       "is not a project number"},
      {"aws account", [](World& w) { w.project.aws_account_id = "12345"; }, "project.awsAccountId",
       "\"12345\" is not an AWS account id (12 digits)"},
      {"aws region", [](World& w) { w.project.aws_region = "mars"; }, "project.awsRegion",
       "is not an AWS region"},
      {"cluster name", [](World& w) { w.cluster.name = "1cluster"; }, "cluster.name",
       "is not a valid cluster name"},
      {"cluster location", [](World& w) { w.cluster.location = "moon"; }, "cluster.location",
       "is not a Google Cloud region or zone"},
      {"issuer url", [](World& w) { w.cluster.issuer_url = "ftp://x"; }, "cluster.issuerUrl",
       "is not an http(s) URL"},
      {"issuer url query", [](World& w) { w.cluster.issuer_url = "https://x/?a=b"; },
       "cluster.issuerUrl", "without query"},
      {"jwks url and file",
       [](World& w) {
         w.cluster.issuer_url = "https://issuer.example.com";
         w.cluster.jwks_url = "https://issuer.example.com/keys";
         w.cluster.jwks_file = "/etc/hostname";
       },
       "cluster.jwksFile", "give either cluster.jwksUrl or cluster.jwksFile, not both"},
      {"jwks url without issuer",
       [](World& w) { w.cluster.jwks_url = "https://issuer.example.com/keys"; }, "cluster.jwksUrl",
       "needs cluster.issuerUrl"},
      {"jwks file without issuer", [](World& w) { w.cluster.jwks_file = "/etc/hostname"; },
       "cluster.jwksFile", "needs cluster.issuerUrl"},
      {"jwks url not http",
       [](World& w) {
         w.cluster.issuer_url = "https://issuer.example.com";
         w.cluster.jwks_url = "file:///etc/jwks.json";
       },
       "cluster.jwksUrl", "\"file:///etc/jwks.json\" is not an http(s) URL"},
      {"jwks url relative",
       [](World& w) {
         w.cluster.issuer_url = "https://issuer.example.com";
         w.cluster.jwks_url = "/openid/v1/jwks";
       },
       "cluster.jwksUrl", "is not an http(s) URL"},
      {"jwks file missing",
       [](World& w) {
         w.cluster.issuer_url = "https://issuer.example.com";
         w.cluster.jwks_file = "/nonexistent/wims/jwks.json";
       },
       "cluster.jwksFile",
       "cannot read \"/nonexistent/wims/jwks.json\": No such file or directory"},
      {"jwks file is a directory",
       [](World& w) {
         w.cluster.issuer_url = "https://issuer.example.com";
         w.cluster.jwks_file = "/";
       },
       "cluster.jwksFile", "\"/\" is not a regular file"},
      {"node id", [](World& w) { w.node.id = 0; }, "node.id", "must be a positive integer"},
      {"node zone", [](World& w) { w.node.zone = "us-central1"; }, "node.zone",
       "is not a Google Cloud zone"},
      {"empty node name", [](World& w) { w.node.name = ""; }, "node.name", "is required"},
      {"namespace name", [](World& w) { w.namespaces.push_back("Prod"); }, "namespaces[1]",
       "is not a valid namespace name"},
      {"duplicate namespace", [](World& w) { w.namespaces.push_back("default"); }, "namespaces[1]",
       "namespace \"default\" is declared twice (also namespaces[0])"},
      {"sa in undeclared namespace",
       [](World& w) { w.service_accounts[1].namespace_name = "prod"; },
       "serviceAccounts[1].namespace", "namespace \"prod\" is not declared in namespaces"},
      {"duplicate sa",
       [](World& w) {
         w.service_accounts.push_back(w.service_accounts[1]);
         w.service_accounts.back().uid = "other";
       },
       "serviceAccounts[2]",
       "service account \"default/demo\" is defined twice (also serviceAccounts[1])"},
      {"duplicate sa uid", [](World& w) { w.service_accounts[1].uid = w.service_accounts[0].uid; },
       "serviceAccounts[1].uid", "is also used by serviceAccounts[0]"},
      {"empty sa name", [](World& w) { w.service_accounts[1].name = ""; },
       "serviceAccounts[1].name", "is required"},
      {"gcp annotation",
       [](World& w) {
         w.service_accounts[1].annotations[kGcpServiceAccountAnnotation] = "demo@wims-local";
       },
       "serviceAccounts[1].annotations[\"iam.gke.io/gcp-service-account\"]",
       "\"demo@wims-local\" is not a Google service account email"},
      {"role arn annotation",
       [](World& w) {
         w.service_accounts[1].annotations[kEksRoleArnAnnotation] = "arn:aws:iam::1234:role/x";
       },
       "serviceAccounts[1].annotations[\"eks.amazonaws.com/role-arn\"]", "is not an IAM role ARN"},
      {"principal-id annotation",
       [](World& w) {
         w.service_accounts[1].annotations[kReturnPrincipalIdAsEmailAnnotation] = "yes";
       },
       "serviceAccounts[1].annotations[\"iam.gke.io/return-principal-id-as-email\"]",
       "\"yes\" must be \"true\" or \"false\""},
      {"annotation key", [](World& w) { w.service_accounts[1].annotations["bad key!"] = "x"; },
       "serviceAccounts[1].annotations[\"bad key!\"]", "is not a valid annotation key"},
      {"pod undeclared namespace", [](World& w) { w.pods[0].namespace_name = "prod"; },
       "pods[0].namespace", "namespace \"prod\" is not declared in namespaces"},
      {"pod undefined sa", [](World& w) { w.pods[0].service_account_name = "nope"; },
       "pods[0].serviceAccountName", "service account \"default/nope\" is not defined"},
      {"pod bad ip", [](World& w) { w.pods[0].ips[0] = "10.0.0.x"; }, "pods[0].ips[0]",
       "\"10.0.0.x\" is not an IP address"},
      {"pod two ipv4", [](World& w) { w.pods[0].ips.push_back("10.0.0.1"); }, "pods[0].ips[2]",
       "at most one IPv4 and one IPv6"},
      {"pod no ips", [](World& w) { w.pods[0].ips.clear(); }, "pods[0].ips",
       "a pod needs at least one IP"},
      {"hostNetwork pod with ips", [](World& w) { w.pods[0].host_network = true; }, "pods[0].ips",
       "a hostNetwork pod uses the node's addresses and must not list ips"},
      {"two pods one ip",
       [](World& w) {
         Pod other = w.pods[0];
         other.name = "other";
         other.uid = "uid-other";
         other.ips = {"127.0.0.2", "0::1"};
         w.pods.push_back(other);
       },
       "pods[1].ips[1]", "::1 is already used by pod \"default/demo\" (pods[0].ips[1])"},
      {"duplicate pod",
       [](World& w) {
         w.pods.push_back(w.pods[0]);
         w.pods.back().uid = "x";
         w.pods.back().ips = {"127.0.0.9"};
       },
       "pods[1]", "pod \"default/demo\" is defined twice (also pods[0])"},
      {"pod name", [](World& w) { w.pods[0].name = "Demo_Pod"; }, "pods[0].name",
       "is not a valid pod name"},
      {"label value", [](World& w) { w.pods[0].labels["app"] = "-bad-"; },
       "pods[0].labels[\"app\"]", "\"-bad-\" is not a valid label value"},
      {"long label value", [](World& w) { w.pods[0].labels["app"] = std::string(64, 'a'); },
       "pods[0].labels[\"app\"]", "is not a valid label value"},
      {"label key", [](World& w) { w.pods[0].labels["example.com/"] = "x"; },
       "pods[0].labels[\"example.com/\"]", "is not a valid label key"},
      {"gsa email", [](World& w) { w.google.service_accounts[0].email = "demo@gmail.com"; },
       "google.serviceAccounts[0].email", "is not a Google service account email"},
      {"gsa other project",
       [](World& w) {
         w.google.service_accounts[0].email = "demo@other-project.iam.gserviceaccount.com";
       },
       "google.serviceAccounts[0].email", "belongs to project \"other-project\""},
      {"duplicate gsa",
       [](World& w) { w.google.service_accounts.push_back(w.google.service_accounts[0]); },
       "google.serviceAccounts[1].email", "is defined twice (also google.serviceAccounts[0])"},
      {"binding role", [](World& w) { w.google.service_accounts[0].bindings[0].role = "owner"; },
       "google.serviceAccounts[0].bindings[0].role", "\"owner\" is not an IAM role"},
      {"binding no members", [](World& w) { w.google.buckets[0].bindings[0].members.clear(); },
       "google.buckets[0].bindings[0].members", "a binding needs at least one member"},
      {"binding member",
       [](World& w) { w.google.buckets[0].bindings[0].members[0] = "demo@x.com"; },
       "google.buckets[0].bindings[0].members[0]", "\"demo@x.com\" is not an IAM principal"},
      {"condition without expression",
       [](World& w) { w.google.buckets[0].bindings[0].condition_title = "t"; },
       "google.buckets[0].bindings[0].condition.expression", "is required"},
      {"bucket name", [](World& w) { w.google.buckets[0].name = "Bad Bucket"; },
       "google.buckets[0].name", "is not a valid bucket name"},
      {"duplicate object",
       [](World& w) { w.google.buckets[0].objects.push_back(w.google.buckets[0].objects[0]); },
       "google.buckets[0].objects[1].name",
       "object \"hello.txt\" is defined twice (also objects[0])"},
      {"tag key", [](World& w) { w.google.buckets[0].tags["env"] = "prod"; },
       "google.buckets[0].tags[\"env\"]", "is not a tag key"},
      {"project binding", [](World& w) { w.google.project_bindings.push_back(Binding{}); },
       "google.projectBindings[0].role", "is required"},
      {"sts quota", [](World& w) { w.google.sts_exchanges_per_minute = 0; },
       "google.stsExchangesPerMinute", "is not a positive number"},
      {"node identity without account",
       [](World& w) { w.metadata.unknown_caller = UnknownCallerPolicy::kNodeIdentity; },
       "metadata.nodeServiceAccount", "is required when unknownCaller is nodeIdentity"},
      {"azure subscription", [](World& w) { w.azure.subscription_id = "sub"; },
       "azure.subscriptionId", "\"sub\" is not a subscription id"},
      {"azure resource group", [](World& w) { w.azure.resource_group = "rg."; },
       "azure.resourceGroup", "is not a resource group name"},
      {"managed identity client id",
       [](World& w) { w.azure.managed_identities[0].client_id = "ABC"; },
       "azure.managedIdentities[0].clientId", "is not a client id"},
      {"managed identity twice",
       [](World& w) { w.azure.managed_identities.push_back(w.azure.managed_identities[0]); },
       "azure.managedIdentities[1].name", "is defined twice (also azure.managedIdentities[0])"},
      {"federated credential two audiences",
       [](World& w) {
         w.azure.managed_identities[0].federated_credentials[0].audiences.push_back("b");
       },
       "azure.managedIdentities[0].federatedCredentials[0].audiences",
       "has 2 audiences; Entra accepts exactly one"},
      {"21 federated credentials",
       [](World& w) {
         auto& list = w.azure.managed_identities[0].federated_credentials;
         for (int i = 1; i <= 20; ++i) {
           FederatedCredential fic = list[0];
           fic.name = "fic-" + std::to_string(i);
           fic.subject = "system:serviceaccount:default:sa-" + std::to_string(i);
           list.push_back(fic);
         }
       },
       "azure.managedIdentities[0].federatedCredentials",
       "21 federated credentials; an identity has at most 20"},
      {"container double hyphen",
       [](World& w) { w.azure.storage_accounts[0].containers[0].name = "a--b"; },
       "azure.storageAccounts[0].containers[0].name", "is not a container name"},
      {"role assignment to nobody",
       [](World& w) { w.azure.role_assignments[0].principal_id = name_based_uid("nobody"); },
       "azure.roleAssignments[0].principalId", "is not the object id of a managed identity"},
      {"role assignment scope", [](World& w) { w.azure.role_assignments[0].scope += "x"; },
       "azure.roleAssignments[0].scope", "is not a storage account or container"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    World world = default_world();
    c.mutate(world);
    const std::vector<WorldProblem> problems = find_world_problems(world);
    bool found = false;
    for (const WorldProblem& p : problems) {
      if (p.path == c.path && p.message.find(c.message) != std::string::npos) found = true;
    }
    EXPECT_TRUE(found) << "want " << c.path << ": " << c.message << "\ngot:\n"
                       << describe(problems);
  }
}

TEST(WorldValidatorTest, ValidWorldHasNoProblems) {
  EXPECT_TRUE(find_world_problems(default_world()).empty())
      << describe(find_world_problems(default_world()));
}

TEST(WorldValidatorTest, AcceptsAnExternalIssuerWithItsKeys) {
  World with_url = default_world();
  with_url.cluster.issuer_url =
      "https://container.googleapis.com/v1/projects/p/locations/l/clusters/c";
  with_url.cluster.jwks_url =
      "https://container.googleapis.com/v1/projects/p/locations/l/clusters/c/jwks";
  EXPECT_TRUE(find_world_problems(with_url).empty()) << describe(find_world_problems(with_url));
  EXPECT_TRUE(with_url.cluster.has_external_issuer());

  World with_file = default_world();
  with_file.cluster.issuer_url = "http://127.0.0.1:8080/issuer";
  with_file.cluster.jwks_file = "/proc/self/status";  // any readable regular file: read at start
  EXPECT_TRUE(find_world_problems(with_file).empty()) << describe(find_world_problems(with_file));
  EXPECT_TRUE(with_file.cluster.has_external_issuer());
  EXPECT_FALSE(default_world().cluster.has_external_issuer());
}

TEST(WorldValidatorTest, ReportsAllProblemsTogether) {
  World world = default_world();
  world.project.aws_account_id = "1";
  world.pods[0].ips = {"10.0.0.x"};
  world.pods[0].service_account_name = "nope";
  const absl::Status status = validate_world(world);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(),
              HasSubstr("project.awsAccountId: \"1\" is not an AWS account id (12 digits)"));
  EXPECT_THAT(status.message(),
              HasSubstr("\npods[0].serviceAccountName: service account \"default/nope\" is not "
                        "defined"));
  EXPECT_THAT(status.message(), HasSubstr("\npods[0].ips[0]: \"10.0.0.x\" is not an IP address"));
  EXPECT_EQ(find_world_problems(world).size(), 3u);
}

TEST(WorldValidatorTest, AcceptsGoodAnnotationValues) {
  World world = default_world();
  ServiceAccount& sa = world.service_accounts[1];
  sa.annotations[kEksRoleArnAnnotation] =
      "arn:aws-us-gov:iam::111122223333:role/path/to/role+name=,.@-";
  sa.annotations[kReturnPrincipalIdAsEmailAnnotation] = "true";
  world.metadata.unknown_caller = UnknownCallerPolicy::kNodeIdentity;
  world.metadata.node_service_account = "123456789012-compute@developer.gserviceaccount.com";
  world.pods[0].labels["app.kubernetes.io/name"] = "demo_1.x";
  world.pods[0].labels["empty"] = "";
  EXPECT_TRUE(validate_world(world).ok()) << validate_world(world);
}

// libstdc++'s std::regex recurses per input character; a huge value must give an error, not a stack
// overflow.
TEST(WorldValidatorTest, HugeValuesAreRejectedWithoutOverflowingTheStack) {
  World world = default_world();
  const std::string huge(1 << 20, 'a');
  world.service_accounts[1].annotations[kGcpServiceAccountAnnotation] =
      huge + "@p.iam.gserviceaccount.com";
  world.service_accounts[1].annotations[kEksRoleArnAnnotation] =
      "arn:aws:iam::111122223333:role/" + huge;
  world.project.id = huge;
  world.google.service_accounts[0].email = huge;
  world.pods[0].labels["app"] = huge;
  EXPECT_EQ(find_world_problems(world).size(), 5u) << describe(find_world_problems(world));
}

}  // namespace
}  // namespace wims::config
