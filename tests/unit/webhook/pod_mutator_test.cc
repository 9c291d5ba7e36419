// The three pod mutations through review_pod(), table-driven: every case's patch is APPLIED (RFC
// 6902) to the pod and the result checked; every admitted case is also re-reviewed after patching
// (reinvocation must add nothing) and reviewed as dryRun (same answer). Cases follow the EKS
// webhook's testdata (rawPodNeedsSTS, rawPodSkip, rawPodRegionPresent, rawPodHasVolumeMount,
// rawPodWithInitContainer) and the azure-workload-identity and GKE-on-AWS rules in
// shared/spec/cloud-kubernetes-semantics.md.
#include "webhook/pod_mutator.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "unit/webhook/test_support.h"

namespace wims::webhook {
namespace {

using namespace testing;  // NOLINT: test helpers
namespace json = boost::json;

constexpr char kRole[] = "arn:aws:iam::111122223333:role/app-role";

constexpr char kPlainPod[] = R"({"apiVersion":"v1","kind":"Pod",
  "metadata":{"name":"app","namespace":"default"},
  "spec":{"serviceAccountName":"app","containers":[{"name":"app","image":"busybox"}]}})";

std::string with_spec(std::string_view spec_fields, std::string_view metadata_fields = "") {
  std::string metadata = R"("name":"app","namespace":"default")";
  if (!metadata_fields.empty()) metadata += "," + std::string(metadata_fields);
  return R"({"apiVersion":"v1","kind":"Pod","metadata":{)" + metadata +
         R"(},"spec":{"serviceAccountName":"app",)" + std::string(spec_fields) + "}}";
}

std::string emulator_pod(std::string_view label_value, std::string_view role_annotation,
                         std::string_view extra_spec = "") {
  std::string metadata = R"("labels":{"gkemulticloud.googleapis.com/aws-imds-emulator-enabled":")" +
                         std::string(label_value) + R"("})";
  if (!role_annotation.empty()) {
    metadata += R"(,"annotations":{"gkemulticloud.googleapis.com/aws-imds-emulator-role-arn":")" +
                std::string(role_annotation) + R"("})";
  }
  std::string spec = R"("containers":[{"name":"app","image":"busybox"}])";
  if (!extra_spec.empty()) spec += "," + std::string(extra_spec);
  return with_spec(spec, metadata);
}

std::string azure_pod(std::string_view label_value, std::string_view annotations = "{}",
                      std::string_view containers = R"([{"name":"app","image":"busybox"}])") {
  return with_spec(R"("containers":)" + std::string(containers),
                   R"("labels":{"azure.workload.identity/use":")" + std::string(label_value) +
                       R"("},"annotations":)" + std::string(annotations));
}

std::vector<std::string> env_names(const json::object* container) {
  std::vector<std::string> names;
  if (container == nullptr || container->if_contains("env") == nullptr) return names;
  for (const auto& e : container->at("env").as_array())
    names.emplace_back(e.at("name").as_string());
  return names;
}

std::vector<std::string> patch_paths(const AdmissionResponse& response) {
  std::vector<std::string> paths;
  if (response.patch.empty()) return paths;
  const json::value patch = json::parse(response.patch);
  for (const auto& op : patch.as_array()) {
    EXPECT_EQ(op.at("op").as_string(), "add");
    paths.emplace_back(op.at("path").as_string());
  }
  return paths;
}

using Check = std::function<void(const json::object& pod, const AdmissionResponse& response)>;

struct MutationCase {
  std::string name;
  std::string pod;
  // Service account annotations; nullopt: the service account does not exist.
  std::optional<std::map<std::string, std::string>> sa;
  bool allowed = true;
  bool patched = true;
  Check check = nullptr;
  std::string denied_message = {};  // a substring of status.message
  std::function<void(MutatorOptions&)> options = nullptr;
  std::string operation = "CREATE";
  std::string kind = "Pod";
};

std::map<std::string, std::string> irsa_sa(std::map<std::string, std::string> extra = {}) {
  extra["eks.amazonaws.com/role-arn"] = kRole;
  return extra;
}

std::vector<MutationCase> cases() {
  std::vector<MutationCase> all;
  // ---- IRSA (EKS pod identity webhook)
  all.push_back(
      {"irsa: plain pod gets env, mount and the aws-iam-token volume", kPlainPod, irsa_sa(), true,
       true, [](const json::object& pod, const AdmissionResponse& response) {
         EXPECT_EQ(patch_paths(response),
                   (std::vector<std::string>{"/spec/containers", "/spec/volumes"}));
         const json::object* app = container(pod, "app");
         EXPECT_EQ(env_names(app),
                   (std::vector<std::string>{"AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"}));
         EXPECT_EQ(env(app, "AWS_ROLE_ARN"), kRole);
         EXPECT_EQ(env(app, "AWS_WEB_IDENTITY_TOKEN_FILE"),
                   "/var/run/secrets/eks.amazonaws.com/serviceaccount/token");
         EXPECT_EQ(mount_path(app, "aws-iam-token"),
                   "/var/run/secrets/eks.amazonaws.com/serviceaccount");
         EXPECT_EQ(app->at("volumeMounts").at(0).at("readOnly"), true);
         json::object token = token_source(volume(pod, "aws-iam-token"));
         EXPECT_EQ(token["audience"], "sts.amazonaws.com");
         EXPECT_EQ(token["expirationSeconds"], 86400);
         EXPECT_EQ(token["path"], "token");
       }});
  all.push_back(
      {"irsa: regional STS and a default region, in the EKS order (rawPodNeedsSTS)", kPlainPod,
       irsa_sa({{"eks.amazonaws.com/sts-regional-endpoints", "true"}}), true, true,
       [](const json::object& pod, const AdmissionResponse&) {
         const json::object* app = container(pod, "app");
         EXPECT_EQ(env_names(app),
                   (std::vector<std::string>{"AWS_STS_REGIONAL_ENDPOINTS", "AWS_DEFAULT_REGION",
                                             "AWS_REGION", "AWS_ROLE_ARN",
                                             "AWS_WEB_IDENTITY_TOKEN_FILE"}));
         EXPECT_EQ(env(app, "AWS_STS_REGIONAL_ENDPOINTS"), "regional");
         EXPECT_EQ(env(app, "AWS_REGION"), "cn-north-1");
       },
       "", [](MutatorOptions& o) { o.irsa.region = "cn-north-1"; }});
  all.push_back(
      {"irsa: an existing AWS_ROLE_ARN is kept, the mount is still added (rawPodSkip)",
       with_spec(
           R"("containers":[{"name":"app","image":"x","env":[{"name":"AWS_ROLE_ARN","value":"mine"}]}])"),
       irsa_sa(), true, true, [](const json::object& pod, const AdmissionResponse&) {
         const json::object* app = container(pod, "app");
         EXPECT_EQ(env(app, "AWS_ROLE_ARN"), "mine");
         EXPECT_EQ(env(app, "AWS_WEB_IDENTITY_TOKEN_FILE"), std::nullopt);
         EXPECT_EQ(count_named(app, "env", "AWS_ROLE_ARN"), 1u);
         EXPECT_TRUE(mount_path(app, "aws-iam-token").has_value());
       }});
  all.push_back(
      {"irsa: an existing AWS_REGION means no region env (rawPodRegionPresent)",
       with_spec(
           R"("containers":[{"name":"app","image":"x","env":[{"name":"AWS_REGION","value":"eu-west-1"}]}])"),
       irsa_sa(), true, true,
       [](const json::object& pod, const AdmissionResponse&) {
         const json::object* app = container(pod, "app");
         EXPECT_EQ(env(app, "AWS_REGION"), "eu-west-1");
         EXPECT_EQ(env(app, "AWS_DEFAULT_REGION"), std::nullopt);
         EXPECT_EQ(env(app, "AWS_ROLE_ARN"), kRole);
       },
       "", [](MutatorOptions& o) { o.irsa.region = "us-west-2"; }});
  all.push_back({"irsa: pod token-expiration 0 is raised to 600",
                 with_spec(R"("containers":[{"name":"app","image":"x"}])",
                           R"("annotations":{"eks.amazonaws.com/token-expiration":"0"})"),
                 irsa_sa({{"eks.amazonaws.com/token-expiration", "7200"}}), true, true,
                 [](const json::object& pod, const AdmissionResponse&) {
                   EXPECT_EQ(token_source(volume(pod, "aws-iam-token"))["expirationSeconds"], 600);
                 }});
  all.push_back({"irsa: SA audience and token-expiration", kPlainPod,
                 irsa_sa({{"eks.amazonaws.com/audience", "my-aud"},
                          {"eks.amazonaws.com/token-expiration", "7200"}}),
                 true, true, [](const json::object& pod, const AdmissionResponse&) {
                   json::object token = token_source(volume(pod, "aws-iam-token"));
                   EXPECT_EQ(token["audience"], "my-aud");
                   EXPECT_EQ(token["expirationSeconds"], 7200);
                 }});
  all.push_back(
      {"irsa: a non-integer pod token-expiration is ignored with a warning",
       with_spec(R"("containers":[{"name":"app","image":"x"}])",
                 R"("annotations":{"eks.amazonaws.com/token-expiration":"soon"})"),
       irsa_sa(), true, true, [](const json::object& pod, const AdmissionResponse& response) {
         EXPECT_EQ(token_source(volume(pod, "aws-iam-token"))["expirationSeconds"], 86400);
         ASSERT_EQ(response.warnings.size(), 1u);
         EXPECT_NE(response.warnings[0].find("soon"), std::string::npos);
       }});
  all.push_back(
      {"irsa: skip-containers (CSV) leaves the listed containers unchanged",
       with_spec(
           R"("containers":[{"name":"app","image":"x"},{"name":"sidecar","image":"y"},{"name":"other","image":"z"}])",
           R"("annotations":{"eks.amazonaws.com/skip-containers":"sidecar, other"})"),
       irsa_sa(), true, true, [](const json::object& pod, const AdmissionResponse&) {
         EXPECT_EQ(env(container(pod, "app"), "AWS_ROLE_ARN"), kRole);
         EXPECT_EQ(*container(pod, "sidecar"), object_from(R"({"name":"sidecar","image":"y"})"));
         EXPECT_EQ(*container(pod, "other"), object_from(R"({"name":"other","image":"z"})"));
       }});
  all.push_back(
      {"irsa: existing volumes are kept next to aws-iam-token",
       with_spec(
           R"("containers":[{"name":"app","image":"x","volumeMounts":[{"name":"data","mountPath":"/data"}]}],
                              "volumes":[{"name":"data","emptyDir":{}}])"),
       irsa_sa(), true, true, [](const json::object& pod, const AdmissionResponse&) {
         EXPECT_NE(volume(pod, "data"), nullptr);
         EXPECT_NE(volume(pod, "aws-iam-token"), nullptr);
         EXPECT_EQ(mount_path(container(pod, "app"), "data"), "/data");
         EXPECT_TRUE(mount_path(container(pod, "app"), "aws-iam-token").has_value());
       }});
  all.push_back(
      {"irsa: an existing aws-iam-token volume and mount are not added again "
       "(rawPodHasVolumeMount)",
       with_spec(
           R"("containers":[{"name":"app","image":"x","volumeMounts":[{"name":"aws-iam-token","mountPath":"/mine"}]}],
                              "volumes":[{"name":"aws-iam-token","emptyDir":{}}])"),
       irsa_sa(), true, true, [](const json::object& pod, const AdmissionResponse& response) {
         EXPECT_EQ(patch_paths(response), std::vector<std::string>{"/spec/containers"});
         EXPECT_EQ(count_named(&pod.at("spec").as_object(), "volumes", "aws-iam-token"), 1u);
         EXPECT_EQ(mount_path(container(pod, "app"), "aws-iam-token"), "/mine");
         EXPECT_EQ(env(container(pod, "app"), "AWS_ROLE_ARN"), kRole);
       }});
  all.push_back(
      {"irsa: init containers, native sidecars included, are mutated (rawPodWithInitContainer)",
       with_spec(
           R"("initContainers":[{"name":"init","image":"i"},{"name":"native","image":"n","restartPolicy":"Always"}],
                              "containers":[{"name":"app","image":"x"}])"),
       irsa_sa(), true, true, [](const json::object& pod, const AdmissionResponse& response) {
         EXPECT_EQ(patch_paths(response),
                   (std::vector<std::string>{"/spec/initContainers", "/spec/containers",
                                             "/spec/volumes"}));
         for (const char* name : {"init", "native"}) {
           SCOPED_TRACE(name);
           const json::object* c = container(pod, name, "initContainers");
           EXPECT_EQ(env(c, "AWS_ROLE_ARN"), kRole);
           EXPECT_TRUE(mount_path(c, "aws-iam-token").has_value());
         }
       }});
  all.push_back(
      {"irsa: windows pods get the C:\\ token path",
       with_spec(
           R"("nodeSelector":{"kubernetes.io/os":"windows"},"containers":[{"name":"app","image":"x"}])"),
       irsa_sa(), true, true, [](const json::object& pod, const AdmissionResponse&) {
         EXPECT_EQ(env(container(pod, "app"), "AWS_WEB_IDENTITY_TOKEN_FILE"),
                   "C:\\var\\run\\secrets\\eks.amazonaws.com\\serviceaccount\\token");
       }});
  all.push_back({"irsa: an ARN that does not look like a role is used, with a warning", kPlainPod,
                 std::map<std::string, std::string>{{"eks.amazonaws.com/role-arn", "not-an-arn"}},
                 true, true, [](const json::object& pod, const AdmissionResponse& response) {
                   EXPECT_EQ(env(container(pod, "app"), "AWS_ROLE_ARN"), "not-an-arn");
                   ASSERT_EQ(response.warnings.size(), 1u);
                   EXPECT_NE(response.warnings[0].find("does not look like an IAM role ARN"),
                             std::string::npos);
                 }});
  all.push_back({"irsa: a service account without role-arn -> allowed, no patch", kPlainPod,
                 std::map<std::string, std::string>{
                     {"iam.gke.io/gcp-service-account", "a@p.iam.gserviceaccount.com"}},
                 true, false});
  all.push_back({"irsa: a service account that does not exist -> allowed, no patch", kPlainPod,
                 std::nullopt, true, false});
  all.push_back({"irsa: UPDATE of an existing pod is never mutated", kPlainPod, irsa_sa(), true,
                 false, nullptr, "", nullptr, "UPDATE"});
  all.push_back({"irsa: not a Pod (wrong request.kind) -> allowed, no patch", kPlainPod, irsa_sa(),
                 true, false, nullptr, "", nullptr, "CREATE", "Deployment"});

  // ---- Azure workload identity
  const std::map<std::string, std::string> azure_sa = {
      {"azure.workload.identity/client-id", "client-1"},
      {"azure.workload.identity/tenant-id", "tenant-1"}};
  all.push_back(
      {"azure: label true -> 4 env vars, mount, volume api://AzureADTokenExchange 3600 s",
       azure_pod("true"), azure_sa, true, true,
       [](const json::object& pod, const AdmissionResponse&) {
         const json::object* app = container(pod, "app");
         EXPECT_EQ(env_names(app), (std::vector<std::string>{"AZURE_CLIENT_ID", "AZURE_TENANT_ID",
                                                             "AZURE_FEDERATED_TOKEN_FILE",
                                                             "AZURE_AUTHORITY_HOST"}));
         EXPECT_EQ(env(app, "AZURE_CLIENT_ID"), "client-1");
         EXPECT_EQ(env(app, "AZURE_TENANT_ID"), "tenant-1");
         EXPECT_EQ(env(app, "AZURE_FEDERATED_TOKEN_FILE"),
                   "/var/run/secrets/azure/tokens/azure-identity-token");
         EXPECT_EQ(env(app, "AZURE_AUTHORITY_HOST"), "https://login.microsoftonline.com/");
         EXPECT_EQ(mount_path(app, "azure-identity-token"), "/var/run/secrets/azure/tokens");
         json::object token = token_source(volume(pod, "azure-identity-token"));
         EXPECT_EQ(token["audience"], "api://AzureADTokenExchange");
         EXPECT_EQ(token["expirationSeconds"], 3600);
         EXPECT_EQ(token["path"], "azure-identity-token");
       }});
  all.push_back({"azure: label \"True\" is not \"true\" -> no patch", azure_pod("True"), azure_sa,
                 true, false});
  all.push_back({"azure: the cluster tenant is the default; no client-id -> no AZURE_CLIENT_ID",
                 azure_pod("true"), std::map<std::string, std::string>{}, true, true,
                 [](const json::object& pod, const AdmissionResponse&) {
                   EXPECT_EQ(env(container(pod, "app"), "AZURE_TENANT_ID"), "cluster-tenant");
                   EXPECT_EQ(env(container(pod, "app"), "AZURE_CLIENT_ID"), std::nullopt);
                 },
                 "", [](MutatorOptions& o) { o.azure.tenant_id = "cluster-tenant"; }});
  all.push_back(
      {"azure: pod expiration 1800 is refused",
       azure_pod("true", R"({"azure.workload.identity/service-account-token-expiration":"1800"})"),
       azure_sa, false, false, nullptr,
       "token expiration 1800 not valid. Expected value to be between 3600 and 86400"});
  all.push_back({"azure: SA expiration 90000 is refused", azure_pod("true"),
                 std::map<std::string, std::string>{
                     {"azure.workload.identity/service-account-token-expiration", "90000"}},
                 false, false, nullptr, "token expiration 90000 not valid"});
  all.push_back(
      {"azure: the pod's expiration overrides the SA's",
       azure_pod("true", R"({"azure.workload.identity/service-account-token-expiration":"7200"})"),
       std::map<std::string, std::string>{
           {"azure.workload.identity/service-account-token-expiration", "90000"}},
       true, true, [](const json::object& pod, const AdmissionResponse&) {
         EXPECT_EQ(token_source(volume(pod, "azure-identity-token"))["expirationSeconds"], 7200);
       }});
  all.push_back(
      {"azure: an existing AZURE_CLIENT_ID is kept",
       azure_pod(
           "true", "{}",
           R"([{"name":"app","image":"x","env":[{"name":"AZURE_CLIENT_ID","value":"mine"}]}])"),
       azure_sa, true, true, [](const json::object& pod, const AdmissionResponse&) {
         EXPECT_EQ(env(container(pod, "app"), "AZURE_CLIENT_ID"), "mine");
         EXPECT_EQ(count_named(container(pod, "app"), "env", "AZURE_CLIENT_ID"), 1u);
         EXPECT_EQ(env(container(pod, "app"), "AZURE_TENANT_ID"), "tenant-1");
       }});
  all.push_back(
      {"azure: skip-containers \"a; b\" skips both",
       azure_pod("true", R"({"azure.workload.identity/skip-containers":"a; b"})",
                 R"([{"name":"a","image":"x"},{"name":"b","image":"x"},{"name":"c","image":"x"}])"),
       azure_sa, true, true, [](const json::object& pod, const AdmissionResponse&) {
         EXPECT_EQ(env_names(container(pod, "a")).size(), 0u);
         EXPECT_EQ(env_names(container(pod, "b")).size(), 0u);
         EXPECT_EQ(env(container(pod, "c"), "AZURE_CLIENT_ID"), "client-1");
       }});

  // ---- GKE-on-AWS IMDS emulator sidecar
  all.push_back(
      {"emulator: label True + role ARN -> init container, sidecar, projected token",
       emulator_pod("True", kRole), std::nullopt, true, true,
       [](const json::object& pod, const AdmissionResponse&) {
         const json::value& init_list = pod.at("spec").at("initContainers");
         ASSERT_EQ(init_list.as_array().size(), 1u);
         const json::object* init = container(pod, "wims-imds-emulator-init", "initContainers");
         ASSERT_NE(init, nullptr);
         EXPECT_EQ(
             init->at("args"),
             json::parse(R"(["netguard","sidecar-init","--port","8180","--exempt-uid","1501"])"));
         EXPECT_EQ(init->at("securityContext").at("capabilities").at("add"),
                   json::parse(R"(["NET_ADMIN","NET_RAW"])"));
         const json::object* sidecar = container(pod, "wims-imds-emulator");
         ASSERT_NE(sidecar, nullptr);
         EXPECT_EQ(sidecar->at("args").at(0), "sidecar");
         EXPECT_EQ(env(sidecar, "AWS_ROLE_ARN"), kRole);
         EXPECT_EQ(sidecar->at("securityContext").at("runAsUser"), 1501);
         EXPECT_EQ(mount_path(sidecar, "wims-imds-emulator-token"),
                   "/var/run/secrets/wims/imds-emulator");
         EXPECT_EQ(token_source(volume(pod, "wims-imds-emulator-token"))["audience"],
                   "sts.amazonaws.com");
         // The application container is not touched.
         EXPECT_EQ(*container(pod, "app"), object_from(R"({"name":"app","image":"busybox"})"));
       }});
  all.push_back({"emulator: label \"true\" (not exactly \"True\") leaves the pod alone",
                 emulator_pod("true", kRole), std::nullopt, true, false});
  all.push_back({"emulator: label \"False\" leaves the pod alone", emulator_pod("False", ""),
                 std::nullopt, true, false});
  all.push_back({"emulator: label without the role annotation is refused", emulator_pod("True", ""),
                 std::nullopt, false, false, nullptr,
                 "no annotation gkemulticloud.googleapis.com/aws-imds-emulator-role-arn"});
  all.push_back({"emulator: a bad ARN is refused",
                 emulator_pod("True", "arn:aws:iam::12345:role/short"), std::nullopt, false, false,
                 nullptr, "is not an IAM role ARN"});
  all.push_back({"emulator: a user ARN is refused",
                 emulator_pod("True", "arn:aws:iam::111122223333:user/bob"), std::nullopt, false,
                 false, nullptr, "is not an IAM role ARN"});
  all.push_back({"emulator: hostNetwork pods are refused",
                 emulator_pod("True", kRole, R"("hostNetwork":true)"), std::nullopt, false, false,
                 nullptr, "hostNetwork"});
  all.push_back(
      {"emulator: our init container goes first, before the pod's own",
       emulator_pod("True", kRole, R"("initContainers":[{"name":"migrate","image":"m"}])"),
       std::nullopt, true, true, [](const json::object& pod, const AdmissionResponse&) {
         const json::array& init = pod.at("spec").at("initContainers").as_array();
         ASSERT_EQ(init.size(), 2u);
         EXPECT_EQ(init[0].at("name"), "wims-imds-emulator-init");
         EXPECT_EQ(init[1].at("name"), "migrate");
       }});
  all.push_back(
      {"emulator: native sidecar right after the init container (restartPolicy Always)",
       emulator_pod("True", kRole, R"("initContainers":[{"name":"migrate","image":"m"}])"),
       std::nullopt, true, true,
       [](const json::object& pod, const AdmissionResponse&) {
         const json::array& init = pod.at("spec").at("initContainers").as_array();
         ASSERT_EQ(init.size(), 3u);
         EXPECT_EQ(init[1].at("name"), "wims-imds-emulator");
         EXPECT_EQ(init[1].at("restartPolicy"), "Always");
         EXPECT_EQ(container(pod, "wims-imds-emulator"), nullptr);
       },
       "", [](MutatorOptions& o) { o.imds_emulator.native_sidecar = true; }});
  all.push_back({"all three: emulator + IRSA service account", emulator_pod("True", kRole),
                 irsa_sa(), true, true, [](const json::object& pod, const AdmissionResponse&) {
                   EXPECT_NE(container(pod, "wims-imds-emulator"), nullptr);
                   EXPECT_EQ(env(container(pod, "app"), "AWS_ROLE_ARN"), kRole);
                   EXPECT_NE(volume(pod, "aws-iam-token"), nullptr);
                   EXPECT_NE(volume(pod, "wims-imds-emulator-token"), nullptr);
                 }});
  return all;
}

AdmissionRequest request_for(const MutationCase& c, json::object pod) {
  AdmissionRequest request = pod_create(std::move(pod));
  request.operation = c.operation;
  request.kind.kind = c.kind;
  return request;
}

MutationInput input_for(const MutationCase& c) {
  MutationInput input{.namespace_name = "default"};
  if (c.sa.has_value()) {
    config::ServiceAccount sa{
        .namespace_name = "default", .name = "app", .uid = "sa-uid", .annotations = *c.sa};
    input.service_account = sa;
  }
  return input;
}

TEST(PodMutatorTest, Table) {
  for (const MutationCase& c : cases()) {
    SCOPED_TRACE(c.name);
    MutatorOptions options;
    if (c.options) c.options(options);
    const json::object pod = object_from(c.pod);
    const AdmissionRequest request = request_for(c, pod);
    const AdmissionResponse response = review_pod(request, input_for(c), options);
    EXPECT_EQ(response.uid, request.uid);
    EXPECT_EQ(response.allowed, c.allowed) << response.status_message;
    EXPECT_EQ(!response.patch.empty(), c.patched) << response.patch;
    if (!c.allowed) {
      EXPECT_EQ(response.status_code, 400);
      EXPECT_NE(response.status_message.find(c.denied_message), std::string::npos)
          << response.status_message;
      continue;
    }
    const json::object after = patched(response, pod);
    if (c.check) c.check(after, response);

    // Reinvocation (reinvocationPolicy: IfNeeded) on the patched pod adds nothing.
    const AdmissionResponse again = review_pod(request_for(c, after), input_for(c), options);
    EXPECT_TRUE(again.allowed);
    EXPECT_EQ(again.patch, "") << "second run patched again";

    // dryRun gets the same answer.
    AdmissionRequest dry = request;
    dry.dry_run = true;
    const AdmissionResponse dry_response = review_pod(dry, input_for(c), options);
    EXPECT_EQ(dry_response.patch, response.patch);
    EXPECT_EQ(dry_response.allowed, response.allowed);
  }
}

TEST(PodMutatorTest, CreateWithoutObjectIsABadRequest) {
  AdmissionRequest request = pod_create(json::object());
  request.object.reset();
  AdmissionResponse response = review_pod(request, {}, {});
  EXPECT_FALSE(response.allowed);
  EXPECT_EQ(response.status_code, 400);
}

TEST(PodMutatorTest, RoleArnShapes) {
  const std::pair<const char*, bool> arns[] = {
      {"arn:aws:iam::111122223333:role/app", true},
      {"arn:aws-cn:iam::111122223333:role/path/to/app.x@y+z=w,v-u_t", true},
      {"arn:aws-us-gov:iam::111122223333:role/a", true},
      {"arn:aws:iam::11112222333:role/app", false},
      {"arn:aws:iam::1111222233334:role/app", false},
      {"arn:aws:iam::111122223333:role/", false},
      {"arn:aws:iam::111122223333:user/app", false},
      {"arn:aws:sts::111122223333:role/app", false},
      {"arn:aws:iam::111122223333:role/app name", false},
      {"", false},
  };
  for (const auto& [arn, valid] : arns) {
    SCOPED_TRACE(arn);
    EXPECT_EQ(is_iam_role_arn(arn), valid);
  }
}

}  // namespace
}  // namespace wims::webhook
