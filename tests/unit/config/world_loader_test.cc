#include "config/world_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "config/default_world.h"
#include "config/stable_id.h"

namespace wims::config {
namespace {

using testing::ElementsAre;
using testing::HasSubstr;
using testing::Pair;

constexpr char kFullWorld[] = R"(project:
  id: my-project
  number: 555000111222
  awsAccountId: "210987654321"
  awsRegion: eu-west-1
cluster:
  name: prod
  location: europe-west1
  uid: 0123456789abcdef
  issuerUrl: https://issuer.example.com/prod
node:
  name: node-a
  hostname: node-a.example.internal
  id: 4242424242424242424
  zone: europe-west1-b
  machineType: n2-standard-8
namespaces: [default, shop]
serviceAccounts:
  - namespace: shop
    name: api
    uid: sa-uid-1
    annotations:
      iam.gke.io/gcp-service-account: api@my-project.iam.gserviceaccount.com
      iam.gke.io/return-principal-id-as-email: "true"
      eks.amazonaws.com/role-arn: arn:aws:iam::210987654321:role/shop-api
pods:
  - namespace: shop
    name: api-0
    uid: pod-uid-1
    serviceAccountName: api
    ips: [10.1.0.5, "FD00::0005"]
    labels: {app: api, tier: backend}
    annotations:
      note: "hello: world"
  - namespace: default
    name: agent
    hostNetwork: true
google:
  serviceAccounts:
    - email: api@my-project.iam.gserviceaccount.com
      displayName: Shop API
      bindings:
        - role: roles/iam.workloadIdentityUser
          members:
            - principal://iam.googleapis.com/projects/555000111222/locations/global/workloadIdentityPools/my-project.svc.id.goog/subject/ns/shop/sa/api
  buckets:
    - name: shop-assets
      objects:
        - name: a/b.txt
          content: |
            line one
            line two
        - name: empty
      bindings:
        - role: roles/storage.objectViewer
          members: ["serviceAccount:api@my-project.iam.gserviceaccount.com", allUsers]
          condition:
            title: until 2030
            description: temporary
            expression: request.time < timestamp("2030-01-01T00:00:00Z")
      tags:
        555000111222/env: prod
  projectBindings:
    - role: roles/viewer
      members: [group:devs@example.com]
  stsExchangesPerMinute: 60
azure:
  tenantId: 11111111-2222-3333-4444-555555555555
  subscriptionId: 66666666-7777-8888-9999-000000000000
  resourceGroup: shop-rg
  location: westeurope
  managedIdentities:
    - name: shop-api
      clientId: aaaaaaaa-0000-0000-0000-000000000001
      objectId: aaaaaaaa-0000-0000-0000-000000000002
      federatedCredentials:
        - name: shop-api-ksa
          issuer: https://issuer.example.com/prod
          subject: system:serviceaccount:shop:api
          audiences: [api://AzureADTokenExchange]
    - name: derived
  appRegistrations:
    - displayName: shop-app
      appId: bbbbbbbb-0000-0000-0000-000000000001
      objectId: bbbbbbbb-0000-0000-0000-000000000002
      federatedCredentials:
        - name: shop-app-ksa
          subject: system:serviceaccount:shop:api
  storageAccounts:
    - name: shopdata
      containers:
        - name: assets
          blobs:
            - name: logo.txt
              content: "logo\n"
  roleAssignments:
    - role: Storage Blob Data Reader
      principalId: aaaaaaaa-0000-0000-0000-000000000002
      scope: /subscriptions/66666666-7777-8888-9999-000000000000/resourceGroups/shop-rg/providers/Microsoft.Storage/storageAccounts/shopdata/blobServices/default/containers/assets
metadata:
  unknownCaller: nodeIdentity
  nodeServiceAccount: 555000111222-compute@developer.gserviceaccount.com
)";

World full_world_expected() {
  World w;
  w.project = {"my-project", 555000111222, "210987654321", "eu-west-1"};
  w.cluster = {"prod", "europe-west1", "0123456789abcdef", "https://issuer.example.com/prod"};
  w.node = {"node-a", "node-a.example.internal", 4242424242424242424ULL, "europe-west1-b",
            "n2-standard-8"};
  w.namespaces = {"default", "shop"};
  w.service_accounts = {
      {"shop",
       "api",
       "sa-uid-1",
       {{"iam.gke.io/gcp-service-account", "api@my-project.iam.gserviceaccount.com"},
        {"iam.gke.io/return-principal-id-as-email", "true"},
        {"eks.amazonaws.com/role-arn", "arn:aws:iam::210987654321:role/shop-api"}}},
      // Implicit, in namespace order.
      {"default", "default", name_based_uid("serviceaccount/default/default"), {}},
      {"shop", "default", name_based_uid("serviceaccount/shop/default"), {}},
  };
  w.pods = {
      {"shop",
       "api-0",
       "pod-uid-1",
       "api",
       {"10.1.0.5", "fd00::5"},
       false,
       {{"app", "api"}, {"tier", "backend"}},
       {{"note", "hello: world"}}},
      {"default", "agent", name_based_uid("pod/default/agent"), "default", {}, true, {}, {}},
  };
  w.google.service_accounts = {
      {"api@my-project.iam.gserviceaccount.com",
       "Shop API",
       {{"roles/iam.workloadIdentityUser",
         {"principal://iam.googleapis.com/projects/555000111222/locations/global/"
          "workloadIdentityPools/"
          "my-project.svc.id.goog/subject/ns/shop/sa/api"},
         "",
         "",
         ""}}},
  };
  w.google.buckets = {{"shop-assets",
                       {{"a/b.txt", "line one\nline two\n"}, {"empty", ""}},
                       {{"roles/storage.objectViewer",
                         {"serviceAccount:api@my-project.iam.gserviceaccount.com", "allUsers"},
                         "until 2030",
                         "temporary",
                         "request.time < timestamp(\"2030-01-01T00:00:00Z\")"}},
                       {{"555000111222/env", "prod"}}}};
  w.google.project_bindings = {{"roles/viewer", {"group:devs@example.com"}, "", "", ""}};
  w.google.sts_exchanges_per_minute = 60;
  w.azure.tenant_id = "11111111-2222-3333-4444-555555555555";
  w.azure.subscription_id = "66666666-7777-8888-9999-000000000000";
  w.azure.resource_group = "shop-rg";
  w.azure.location = "westeurope";
  const std::string derived_id = w.azure.managed_identity_resource_id("derived");
  w.azure.managed_identities = {{"shop-api",
                                 "aaaaaaaa-0000-0000-0000-000000000001",
                                 "aaaaaaaa-0000-0000-0000-000000000002",
                                 {{"shop-api-ksa",
                                   "https://issuer.example.com/prod",
                                   "system:serviceaccount:shop:api",
                                   {"api://AzureADTokenExchange"}}}},
                                {"derived",
                                 name_based_uid("azure/client/" + derived_id),
                                 name_based_uid("azure/object/" + derived_id),
                                 {}}};
  w.azure.app_registrations = {
      {"shop-app",
       "bbbbbbbb-0000-0000-0000-000000000001",
       "bbbbbbbb-0000-0000-0000-000000000002",
       {{"shop-app-ksa", "", "system:serviceaccount:shop:api", {"api://AzureADTokenExchange"}}}}};
  w.azure.storage_accounts = {{"shopdata", {{"assets", {{"logo.txt", "logo\n"}}}}}};
  w.azure.role_assignments = {{"Storage Blob Data Reader", "aaaaaaaa-0000-0000-0000-000000000002",
                               w.azure.blob_container_resource_id("shopdata", "assets")}};
  w.metadata = {UnknownCallerPolicy::kNodeIdentity,
                "555000111222-compute@developer.gserviceaccount.com"};
  return w;
}

TEST(WorldLoaderTest, LoadsEveryField) {
  absl::StatusOr<World> world = load_world_yaml(kFullWorld, "full.yaml");
  ASSERT_TRUE(world.ok()) << world.status();
  const World expected = full_world_expected();
  // Field by field first, for readable failures; then the whole value.
  EXPECT_EQ(world->project, expected.project);
  EXPECT_EQ(world->cluster, expected.cluster);
  EXPECT_EQ(world->node, expected.node);
  EXPECT_EQ(world->namespaces, expected.namespaces);
  EXPECT_EQ(world->service_accounts, expected.service_accounts);
  EXPECT_EQ(world->pods, expected.pods);
  EXPECT_EQ(world->google, expected.google);
  EXPECT_EQ(world->azure, expected.azure);
  EXPECT_EQ(world->metadata, expected.metadata);
  EXPECT_EQ(*world, expected);
}

TEST(WorldLoaderTest, RoundTripsThroughYaml) {
  for (const World& original : {default_world(), full_world_expected()}) {
    const std::string yaml = world_to_yaml(original);
    SCOPED_TRACE(yaml);
    absl::StatusOr<World> reloaded = load_world_yaml(yaml, "dump.yaml");
    ASSERT_TRUE(reloaded.ok()) << reloaded.status();
    EXPECT_EQ(*reloaded, original);
  }
}

TEST(WorldLoaderTest, EmptyFileIsTheDefaultsWithNoWorkloads) {
  absl::StatusOr<World> world = load_world_yaml("", "empty.yaml");
  ASSERT_TRUE(world.ok()) << world.status();
  const World defaults = default_world();
  EXPECT_EQ(world->project, defaults.project);
  EXPECT_EQ(world->cluster, defaults.cluster);
  EXPECT_EQ(world->node, defaults.node);
  EXPECT_THAT(world->namespaces, ElementsAre("default"));
  ASSERT_EQ(world->service_accounts.size(), 1u);
  EXPECT_EQ(world->service_accounts[0].name, "default");
  EXPECT_TRUE(world->pods.empty());
}

TEST(WorldLoaderTest, DerivesDefaultsFromNames) {
  absl::StatusOr<World> world = load_world_yaml(R"(
project: {id: other-proj}
cluster: {name: c1, location: europe-west4}
node: {name: n1}
pods:
  - {namespace: default, name: p, ips: [10.0.0.1]}
)",
                                                "d.yaml");
  ASSERT_TRUE(world.ok()) << world.status();
  EXPECT_EQ(world->project.number, kDefaultProjectNumber);
  EXPECT_EQ(world->cluster.uid, name_based_cluster_uid("other-proj/europe-west4/c1"));
  EXPECT_EQ(world->node.hostname, "n1.c.other-proj.internal");
  EXPECT_EQ(world->node.id, name_based_instance_id("n1"));
  EXPECT_EQ(world->node.zone, "europe-west4-a");
  EXPECT_EQ(world->node.machine_type, "e2-standard-4");
  EXPECT_EQ(world->pods[0].uid, name_based_uid("pod/default/p"));
  EXPECT_EQ(world->pods[0].service_account_name, "default");
  ASSERT_NE(world->service_account_of(world->pods[0]), nullptr);
}

struct BadCase {
  const char* name;
  const char* yaml;
  std::vector<std::string> errors;  // each must appear as a whole line of the message
};

TEST(WorldLoaderTest, ReportsEveryProblemWithLineAndPath) {
  const BadCase cases[] = {
      {"bad ip and undefined sa",
       "pods:\n"
       "  - namespace: default\n"
       "    name: a\n"
       "    serviceAccountName: nope\n"
       "    ips: [10.0.0.1]\n"
       "  - namespace: default\n"
       "    name: b\n"
       "    ips:\n"
       "      - 10.0.0.x\n",
       {"w.yaml:4: pods[0].serviceAccountName: service account \"default/nope\" is not defined",
        "w.yaml:9: pods[1].ips[0]: \"10.0.0.x\" is not an IP address"}},
      {"typo in key",
       "pods:\n"
       "  - namespace: default\n"
       "    name: a\n"
       "    serviceAcountName: x\n"
       "    ips: [10.0.0.1]\n"
       "projetc: {id: x}\n",
       {"w.yaml:4: pods[0].serviceAcountName: unknown key (did you mean \"serviceAccountName\"?)",
        "w.yaml:6: projetc: unknown key (did you mean \"project\"?)"}},
      {"unrelated unknown key",
       "colour: blue\n",
       {"w.yaml:1: colour: unknown key (expected one of: project, cluster, node, namespaces, "
        "serviceAccounts, pods, "
        "google, azure, metadata)"}},
      {"wrong types",
       "project:\n"
       "  number: lots\n"
       "namespaces: default\n"
       "pods:\n"
       "  - name: [a]\n"
       "    namespace: default\n"
       "    ips: [10.0.0.1]\n"
       "    hostNetwork: maybe\n"
       "    labels: [x]\n",
       {"w.yaml:2: project.number: \"lots\" is not an integer",
        "w.yaml:3: namespaces: expected a list, got a scalar",
        "w.yaml:5: pods[0].name: expected a string, got a list",
        "w.yaml:8: pods[0].hostNetwork: \"maybe\" is not a boolean (true or false)",
        "w.yaml:9: pods[0].labels: expected a map, got a list"}},
      {"pod item not a map",
       "pods:\n  - just-a-string\n",
       {"w.yaml:2: pods[0]: expected a map, got a scalar"}},
      {"duplicate pods, sas and ips",
       "serviceAccounts:\n"
       "  - {namespace: default, name: x}\n"
       "  - {namespace: default, name: x}\n"
       "pods:\n"
       "  - {namespace: default, name: a, ips: [10.0.0.1]}\n"
       "  - {namespace: default, name: a, ips: [10.0.0.2]}\n"
       "  - {namespace: default, name: c, ips: [10.0.0.1, 10.0.0.1]}\n",
       {"w.yaml:3: serviceAccounts[1]: service account \"default/x\" is defined twice (also "
        "serviceAccounts[0])",
        "w.yaml:6: pods[1]: pod \"default/a\" is defined twice (also pods[0])",
        "w.yaml:7: pods[2].ips[0]: 10.0.0.1 is already used by pod \"default/a\" (pods[0].ips[0])",
        "w.yaml:7: pods[2].ips[1]: 10.0.0.1 is listed twice"}},
      {"undeclared namespace",
       "namespaces: [default]\n"
       "pods:\n"
       "  - namespace: prod\n"
       "    name: a\n"
       "    ips: [10.0.0.1]\n",
       {"w.yaml:3: pods[0].namespace: namespace \"prod\" is not declared in namespaces"}},
      {"project",
       "project:\n"
       "  id: X\n"
       "  number: -1\n"
       "  awsAccountId: 1234\n",
       {"w.yaml:2: project.id: \"X\" is not a valid project id (6-30 lower-case letters, digits "
        "and hyphens, "
        "starting with a letter)",
        "w.yaml:3: project.number: -1 is not a project number (a positive integer)",
        "w.yaml:4: project.awsAccountId: \"1234\" is not an AWS account id (12 digits)"}},
      {"annotations",
       "serviceAccounts:\n"
       "  - namespace: default\n"
       "    name: a\n"
       "    annotations:\n"
       "      iam.gke.io/gcp-service-account: a@b.com\n"
       "      eks.amazonaws.com/role-arn: arn:aws:iam::123:role/x\n",
       {"w.yaml:5: serviceAccounts[0].annotations[\"iam.gke.io/gcp-service-account\"]: \"a@b.com\" "
        "is not a Google "
        "service account email (NAME@PROJECT.iam.gserviceaccount.com)",
        "w.yaml:6: serviceAccounts[0].annotations[\"eks.amazonaws.com/role-arn\"]: "
        "\"arn:aws:iam::123:role/x\" is not "
        "an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)"}},
      {"hostNetwork with ips and empty name",
       "pods:\n"
       "  - namespace: default\n"
       "    name: \"\"\n"
       "    hostNetwork: true\n"
       "    ips: [10.0.0.1]\n"
       "    labels: {app: \"no spaces\"}\n",
       {"w.yaml:3: pods[0].name: is required",
        "w.yaml:5: pods[0].ips: a hostNetwork pod uses the node's addresses and must not list ips",
        "w.yaml:6: pods[0].labels[\"app\"]: \"no spaces\" is not a valid label value (up to 63 "
        "letters, digits, '-', "
        "'_' and '.', starting and ending with a letter or digit)"}},
      {"duplicate key", "node: {name: a}\nnode: {name: b}\n", {"w.yaml:2: node: duplicate key"}},
      {"metadata enum",
       "metadata:\n  unknownCaller: allow\n",
       {"w.yaml:2: metadata.unknownCaller: \"allow\" is not one of: deny, nodeIdentity"}},
      {"missing pod name falls back to the pod's line",
       "pods:\n"
       "  - namespace: default\n"
       "    ips: [10.0.0.1]\n",
       {"w.yaml:2: pods[0].name: is required"}},
      {"azure unknown key",
       "azure:\n  managedIdentities:\n    - name: mi-one\n      clientid: x\n",
       {"w.yaml:4: azure.managedIdentities[0].clientid: unknown key (did you mean "
        "\"clientId\"?)"}},
      {"azure federated credential audiences not a list",
       "azure:\n  managedIdentities:\n    - name: mi-one\n      federatedCredentials:\n"
       "        - {name: fic, subject: s, audiences: x}\n",
       {"w.yaml:5: azure.managedIdentities[0].federatedCredentials[0].audiences: expected a "
        "list, got a scalar"}},
      {"azure bad tenant",
       "azure:\n  tenantId: Not-A-Guid\n",
       {"w.yaml:2: azure.tenantId: \"Not-A-Guid\" is not a tenant id (a lower-case GUID like "
        "00000000-0000-0000-0000-000000000000)"}},
      {"syntax error", "pods:\n  - name: a\n   bad: [\n", {}},
      {"top level not a map", "- a\n- b\n", {"w.yaml:1: (document): expected a map, got a list"}},
  };
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<World> world = load_world_yaml(c.yaml, "w.yaml");
    ASSERT_FALSE(world.ok());
    EXPECT_EQ(world.status().code(), absl::StatusCode::kInvalidArgument);
    const std::string message(world.status().message());
    const std::string framed = "\n" + message + "\n";
    for (const std::string& error : c.errors) {
      EXPECT_THAT(framed, HasSubstr("\n" + error + "\n")) << "full message:\n" << message;
    }
    if (!c.errors.empty()) {
      // Exactly these problems: no duplicates or follow-on noise.
      EXPECT_EQ(std::count(message.begin(), message.end(), '\n') + 1,
                static_cast<long>(c.errors.size()))
          << message;
    } else {
      EXPECT_THAT(message, testing::StartsWith("w.yaml:3: ")) << message;
    }
  }
}

TEST(WorldLoaderTest, ErrorsAreOrderedByLine) {
  absl::StatusOr<World> world = load_world_yaml(
      "pods:\n"
      "  - {namespace: default, name: a, serviceAccountName: nope, ips: [10.0.0.1]}\n"
      "project: {awsAccountId: x}\n",
      "w.yaml");
  ASSERT_FALSE(world.ok());
  EXPECT_EQ(
      world.status().message(),
      "w.yaml:2: pods[0].serviceAccountName: service account \"default/nope\" is not defined\n"
      "w.yaml:3: project.awsAccountId: \"x\" is not an AWS account id (12 digits)");
}

TEST(WorldLoaderTest, RefusesSeveralDocuments) {
  absl::StatusOr<World> world =
      load_world_yaml("node: {name: a}\n---\nnode: {name: b}\n", "w.yaml");
  ASSERT_FALSE(world.ok());
  EXPECT_THAT(world.status().message(), HasSubstr("one YAML document"));
}

TEST(WorldLoaderTest, LoadsAFileAndReportsMissingFiles) {
  const std::string path = testing::TempDir() + "/world_loader_test.yaml";
  {
    std::ofstream out(path);
    out << "pods:\n  - {namespace: default, name: a, ips: [10.9.9.9]}\n";
  }
  absl::StatusOr<World> world = load_world_file(path);
  ASSERT_TRUE(world.ok()) << world.status();
  EXPECT_NE(world->find_pod_by_ip("10.9.9.9"), nullptr);
  std::remove(path.c_str());

  absl::StatusOr<World> missing = load_world_file(path);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr(path));
}

// cluster.jwksFile is relative to the world file's directory, checked at load (with the line), and
// round-trips through world_to_yaml.
TEST(WorldLoaderTest, JwksFileIsRelativeToTheWorldFileAndMustBeReadable) {
  const std::string dir = testing::TempDir() + "/world_loader_jwks";
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/world.yaml";
  {
    std::ofstream out(path);
    out << "cluster:\n  issuerUrl: https://issuer.example.com\n  jwksFile: keys/jwks.json\n";
  }
  absl::StatusOr<World> missing = load_world_file(path);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(),
              HasSubstr(path + ":3: cluster.jwksFile: cannot read \"" + dir + "/keys/jwks.json\""));

  std::filesystem::create_directories(dir + "/keys");
  { std::ofstream(dir + "/keys/jwks.json") << R"({"keys":[]})"; }
  absl::StatusOr<World> world = load_world_file(path);
  ASSERT_TRUE(world.ok()) << world.status();
  EXPECT_EQ(world->cluster.jwks_file, dir + "/keys/jwks.json");
  EXPECT_EQ(world->cluster.issuer_url, "https://issuer.example.com");
  EXPECT_TRUE(world->cluster.has_external_issuer());
  absl::StatusOr<World> again = load_world_yaml(world_to_yaml(*world), "again.yaml");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, *world);

  // From text, a relative path is relative to the working directory (no file to anchor it).
  absl::StatusOr<World> text = load_world_yaml(
      "cluster:\n  issuerUrl: https://i.example.com\n  jwksUrl: https://i.example.com/keys\n"
      "  jwksFile: x.json\n",
      "w.yaml");
  ASSERT_FALSE(text.ok());
  EXPECT_THAT(text.status().message(),
              HasSubstr("w.yaml:4: cluster.jwksFile: give either cluster.jwksUrl or "
                        "cluster.jwksFile, not both"));
  std::filesystem::remove_all(dir);
}

TEST(WorldLoaderTest, FileErrorsNameTheFile) {
  const std::string path = testing::TempDir() + "/world_loader_bad.yaml";
  {
    std::ofstream out(path);
    out << "project:\n  awsAccountId: nope\n";
  }
  absl::StatusOr<World> world = load_world_file(path);
  std::remove(path.c_str());
  ASSERT_FALSE(world.ok());
  EXPECT_THAT(world.status().message(), HasSubstr(path + ":2: project.awsAccountId: "));
}

}  // namespace
}  // namespace wims::config

namespace wims::config {
namespace {

// The built-in world as docs/configuration.md shows it: the loader's defaults must rebuild
// default_world().
TEST(WorldLoaderTest, DocumentedBuiltInWorldIsTheDefaultWorld) {
  constexpr char kDocumented[] = R"(
project: {id: wims-local, number: 123456789012, awsAccountId: "111122223333", awsRegion: us-east-1}
cluster: {name: wims, location: us-central1-a}
node: {name: wims-node-1}
namespaces: [default]
serviceAccounts:
  - namespace: default
    name: demo
    annotations:
      iam.gke.io/gcp-service-account: demo@wims-local.iam.gserviceaccount.com
      eks.amazonaws.com/role-arn: arn:aws:iam::111122223333:role/wims-demo
      azure.workload.identity/client-id: 81a611b7-19bc-5818-a5d8-86560ebeda18
pods:
  - namespace: default
    name: demo
    serviceAccountName: demo
    ips: [127.0.0.1, "::1"]
    labels: {app: demo}
google:
  serviceAccounts:
    - email: demo@wims-local.iam.gserviceaccount.com
      displayName: wims demo workload
      bindings:
        - role: roles/iam.workloadIdentityUser
          members:
            - principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/wims-local.svc.id.goog/subject/ns/default/sa/demo
  buckets:
    - name: wims-demo-bucket
      objects:
        - name: hello.txt
          content: "hello from wims\n"
      bindings:
        - role: roles/storage.objectViewer
          members: ["serviceAccount:demo@wims-local.iam.gserviceaccount.com"]
azure:                         # tenant acceea9d-b424-53de-a7e0-ef4627939a9b, subscription 2686b7bc-f3ee-5b6c-b689-0c1539ab80d5
  managedIdentities:
    - name: wims-demo          # client id 81a611b7-19bc-5818-a5d8-86560ebeda18, object id 0de29940-295c-5ef2-a34a-83a66014ec5b
      federatedCredentials:
        - name: kubernetes-default-demo
          subject: system:serviceaccount:default:demo
  storageAccounts:
    - name: wimsdemo
      containers:
        - name: demo
          blobs:
            - name: hello.txt
              content: "hello from wims\n"
  roleAssignments:
    - role: Storage Blob Data Reader
      principalId: 0de29940-295c-5ef2-a34a-83a66014ec5b
      scope: /subscriptions/2686b7bc-f3ee-5b6c-b689-0c1539ab80d5/resourceGroups/wims/providers/Microsoft.Storage/storageAccounts/wimsdemo
)";
  absl::StatusOr<World> world = load_world_yaml(kDocumented, "docs");
  ASSERT_TRUE(world.ok()) << world.status();
  World expected = default_world();
  // The loader appends the implicit `default` KSA after the declared ones.
  std::swap(expected.service_accounts[0], expected.service_accounts[1]);
  EXPECT_EQ(*world, expected);
}

}  // namespace
}  // namespace wims::config
