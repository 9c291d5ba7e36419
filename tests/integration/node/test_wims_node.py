"""End to end: `wims node` against a fake Kubernetes API server, with `wims up` as the cloud.

Processes:
  wims up            the local cloud (OIDC issuer, Google STS/IAM Credentials, AWS STS), on the world file below;
  fake_kube_api_server  the cluster: pods and service accounts come in as JSON lines on its stdin; its
                     TokenRequest validates like kube-apiserver, then forwards to the local cloud's
                     TokenRequest (--mint-via) so the tokens are signed by the issuer the cloud's STS trusts;
  wims node          --kubeconfig from the fake, --cloud-url of wims up, --config the same world file (read for
                     the project/cluster facts only: its pods and service accounts are ignored).

Why the fake forwards minting: a real cluster's issuer is trusted by the cloud through its OIDC discovery;
here the cloud is `wims up`, whose STS trusts its own issuer, so the fake lets that issuer sign. The cloud
validates a pod-bound TokenRequest against its own world, so the world file lists the pods (same namespace,
name, uid and service account; addresses that are not used) as the issuer's view of the cluster. Which pod
calls from which address is known only to wims node, from the fake API server's watch.

Callers are told apart by source address: the metadata listener is on 127.0.0.1 and each client binds its
source to its pod's loopback address (127.0.0.2, 127.0.0.3, ...).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "clients", "python"))
import wims_harness  # noqa: E402
from wims_harness import wait_for_json_file  # noqa: E402


def request(hostport, path, headers=None, source=None, method="GET", body=None):
    resp, data = wims_harness.http_request(hostport, path, headers, source, method, body)
    return resp.status, data

WIMS_BIN = os.environ["WIMS_BIN"]
FAKE_KUBE_BIN = os.environ["FAKE_KUBE_BIN"]
FLAVOR = {"Metadata-Flavor": "Google"}
NODE = "node-e2e"
PROJECT_NUMBER = 123456789012
POOL = "wims-local.svc.id.goog"

# name -> (pod ip on the node, pod uid, KSA)
PODS = {
    "alpha": ("127.0.0.2", "7d0e7c1a-0000-4000-8000-00000000000a"),
    "beta": ("127.0.0.3", "7d0e7c1a-0000-4000-8000-00000000000b"),
    "gamma": ("127.0.0.4", "7d0e7c1a-0000-4000-8000-00000000000c"),  # created after wims node started
}
OTHER_NODE_IP = "127.0.0.5"


def gsa(name):
    return "%s@wims-local.iam.gserviceaccount.com" % name


def role(name):
    return "arn:aws:iam::111122223333:role/%s" % name


def world_yaml():
    lines = ["project: {id: wims-local, number: %d, awsAccountId: \"111122223333\", awsRegion: us-east-1}"
             % PROJECT_NUMBER,
             "cluster: {name: wims, location: us-central1-a}",
             "node: {name: %s}" % NODE,
             "namespaces: [default, apps]",
             "serviceAccounts:"]
    for name in PODS:
        lines += ["  - namespace: apps", "    name: %s" % name, "    annotations:",
                  "      iam.gke.io/gcp-service-account: %s" % gsa(name),
                  "      eks.amazonaws.com/role-arn: %s" % role(name)]
    lines.append("pods:")
    for i, (name, (_, uid)) in enumerate(PODS.items()):
        lines += ["  - namespace: apps", "    name: %s-pod" % name, "    uid: %s" % uid,
                  "    serviceAccountName: %s" % name, "    ips: [10.200.0.%d]" % (i + 2)]
    lines += ["google:", "  serviceAccounts:"]
    for name in PODS:
        member = ("principal://iam.googleapis.com/projects/%d/locations/global/workloadIdentityPools/%s/subject/"
                  "ns/apps/sa/%s" % (PROJECT_NUMBER, POOL, name))
        lines += ["    - email: %s" % gsa(name), "      bindings:",
                  "        - role: roles/iam.workloadIdentityUser", "          members: [\"%s\"]" % member]
    return "\n".join(lines) + "\n"




class FakeCluster:
    """The fake Kubernetes API server process."""

    def __init__(self, directory, mint_via=None, mint_bearer_file=None, minor=None):
        self.kubeconfig = os.path.join(directory, "kubeconfig")
        ready = os.path.join(directory, "fake-ready.json")
        self.log_path = os.path.join(directory, "fake.log")
        args = [FAKE_KUBE_BIN, "--kubeconfig-out", self.kubeconfig, "--ready-file", ready,
                "--token", "e2e-kube-admin"]
        if mint_via:
            args += ["--mint-via", mint_via, "--mint-bearer-file", mint_bearer_file]
        if minor:
            args += ["--minor", minor]
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
                                     text=True, bufsize=1)
        self.ready = wait_for_json_file(ready, self.proc, "fake_kube_api_server", self.log_path)

    def send(self, **command):
        """Applies one object; returns once the API server holds it (its watchers are being notified)."""
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline())
        if not answer.get("ok"):
            raise RuntimeError("fake API server refused %r: %r" % (command, answer))
        return answer

    def add_pod(self, name, ip, uid, node=NODE, pod_name=None):
        self.send(op="pod", namespace="apps", name=pod_name or name + "-pod", uid=uid, node=node,
                  serviceAccount=name, ips=[ip])

    def add_service_account(self, name):
        self.send(op="serviceaccount", namespace="apps", name=name, uid="sa-" + name,
                  annotations={"iam.gke.io/gcp-service-account": gsa(name),
                               "eks.amazonaws.com/role-arn": role(name)})

    def stop(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.log.close()


class Node(wims_harness.Process):
    """A `wims node` process."""

    def __init__(self, directory, kubeconfig, extra_args=(), name="node"):
        ready_file = os.path.join(directory, name + "-ready.json")
        args = [WIMS_BIN, "node", "--kubeconfig", kubeconfig, "--metadata-addr", "127.0.0.1:0",
                "--admin-addr", "127.0.0.1:0", "--state-dir", os.path.join(directory, name + "-state"),
                "--ready-file", ready_file, *extra_args]
        super().__init__(args, "wims node", ready_file, os.path.join(directory, name + ".log"),
                         env=dict(os.environ, NODE_NAME=NODE), stop_timeout=20)
        self.metadata = self.ready["metadata"]


class NodeWithCloudTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="wims-node-e2e-")
        cls.world = os.path.join(cls.dir, "world.yaml")
        with open(cls.world, "w") as f:
            f.write(world_yaml())
        cls.cloud = wims_harness.Wims(config=cls.world)
        cls.cluster = FakeCluster(cls.dir, mint_via="http://" + cls.cloud.cloud,
                                  mint_bearer_file=cls.cloud.ready["admin_token_file"])
        for name in PODS:
            cls.cluster.add_service_account(name)
        for name in ("alpha", "beta"):
            ip, uid = PODS[name]
            cls.cluster.add_pod(name, ip, uid)
        # A pod of another node: not watched, so its address is unknown here.
        cls.cluster.add_pod("alpha", OTHER_NODE_IP, "7d0e7c1a-0000-4000-8000-0000000000ff", node="other-node",
                            pod_name="elsewhere")
        cls.node = Node(cls.dir, cls.cluster.kubeconfig,
                        ["--cloud-url", "http://" + cls.cloud.cloud, "--config", cls.world])

    @classmethod
    def tearDownClass(cls):
        cls.node_exit = cls.node.stop()
        cls.cluster.stop()
        cls.cloud.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def logs(self):
        return "--- wims node:\n" + self.node.logs() + "--- wims up:\n" + self.cloud.logs()

    def gce(self, source, path):
        return request(self.node.metadata, "/computeMetadata/v1/instance/service-accounts/default/" + path,
                       FLAVOR, source=source)

    def assert_gce_identity(self, name):
        """The pod's GSA email, and an access token that the cloud says belongs to that GSA."""
        ip = PODS[name][0]
        status, body = self.gce(ip, "email")
        self.assertEqual((status, body.decode()), (200, gsa(name)), self.logs())
        status, body = self.gce(ip, "token")
        self.assertEqual(status, 200, (body, self.logs()))
        token = json.loads(body)["access_token"]
        status, info = request(self.cloud.cloud, "/oauth2/v3/tokeninfo?access_token=" + urllib.parse.quote(token))
        self.assertEqual(status, 200, info)
        self.assertEqual(json.loads(info).get("email"), gsa(name))

    def assert_aws_identity(self, name):
        """The role name on IMDS, and credentials that STS says are the assumed role."""
        ip = PODS[name][0]
        base = "/latest/meta-data/iam/security-credentials/"
        status, body = request(self.node.metadata, base, source=ip)
        self.assertEqual((status, body.decode()), (200, name))
        status, body = request(self.node.metadata, base + name, source=ip)
        self.assertEqual(status, 200, (body, self.logs()))
        creds = json.loads(body)
        self.assertEqual(creds["Code"], "Success")
        import boto3  # the real SDK signs GetCallerIdentity with the credentials wims node handed out
        sts = boto3.client("sts", endpoint_url="http://%s/aws/" % self.cloud.cloud, region_name="us-east-1",
                           aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                           aws_session_token=creds["Token"])
        arn = sts.get_caller_identity()["Arn"]
        self.assertTrue(arn.startswith("arn:aws:sts::111122223333:assumed-role/%s/" % name), arn)

    def test_two_pods_get_their_own_identities(self):
        for name in ("alpha", "beta"):
            with self.subTest(pod=name):
                self.assert_gce_identity(name)
                self.assert_aws_identity(name)

    def test_pod_created_after_start_is_served_on_its_first_request(self):
        ip, uid = PODS["gamma"]
        status, _ = self.gce(ip, "email")
        self.assertEqual(status, 403)  # not created yet: refused after the bounded wait
        self.cluster.add_pod("gamma", ip, uid)
        # One request, no retry: it waits for the watch event if it arrives before it.
        status, body = self.gce(ip, "email")
        self.assertEqual((status, body.decode()), (200, gsa("gamma")), self.node.logs())
        self.assert_gce_identity("gamma")
        self.assert_aws_identity("gamma")

    def eventually_email(self, source, expected_status, expected_body=None, limit_s=20):
        """Polls (bounded) until the watch has delivered a change; returns the last answer."""
        deadline = time.monotonic() + limit_s
        while True:
            status, body = self.gce(source, "email")
            done = status == expected_status and (expected_body is None or body.decode() == expected_body)
            if done or time.monotonic() > deadline:
                return status, body.decode()
            time.sleep(0.05)

    def test_annotation_change_and_pod_deletion_apply_without_restart(self):
        ip, uid = "127.0.0.6", "7d0e7c1a-0000-4000-8000-00000000000d"
        self.cluster.add_service_account("delta")
        self.cluster.add_pod("delta", ip, uid)
        status, body = self.gce(ip, "email")
        self.assertEqual((status, body.decode()), (200, gsa("delta")))
        self.cluster.send(op="serviceaccount", namespace="apps", name="delta", uid="sa-delta",
                          annotations={"iam.gke.io/gcp-service-account": gsa("delta-renamed")})
        self.assertEqual(self.eventually_email(ip, 200, gsa("delta-renamed")), (200, gsa("delta-renamed")))
        status, body = request(self.node.metadata, "/latest/meta-data/iam/security-credentials/", source=ip)
        self.assertEqual(status, 404, body)  # the role annotation is gone too
        self.cluster.send(op="delete_pod", namespace="apps", name="delta-pod")
        self.assertEqual(self.eventually_email(ip, 403)[0], 403)

    def pod_token(self, name, audience="pods.eks.amazonaws.com"):
        """A token bound to the pod, from the (fake) API server's TokenRequest, as the kubelet projects it."""
        body = json.dumps({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                           "spec": {"audiences": [audience], "expirationSeconds": 3600,
                                    "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": name + "-pod",
                                                       "uid": PODS[name][1]}}})
        status, answer = request(self.cluster.ready["url"].split("//", 1)[1],
                                 "/api/v1/namespaces/apps/serviceaccounts/%s/token" % name,
                                 {"Authorization": "Bearer e2e-kube-admin", "Content-Type": "application/json"},
                                 method="POST", body=body)
        self.assertEqual(status, 201, answer)
        return json.loads(answer)["status"]["token"]

    def test_container_credentials_review_the_pods_token(self):
        alpha, beta = self.pod_token("alpha"), self.pod_token("beta")
        cases = [("own token", alpha, 200), ("another pod's token", beta, 403), ("not a token", "garbage", 401),
                 ("wrong audience", self.pod_token("alpha", audience="sts.amazonaws.com"), 401)]
        for what, token, expected in cases:
            with self.subTest(what):
                status, body = request(self.node.metadata, "/v1/credentials", {"Authorization": token},
                                       source=PODS["alpha"][0])
                self.assertEqual(status, expected, (body, self.logs()))
                if expected == 200:
                    self.assertTrue(json.loads(body)["AccessKeyId"])

    def test_pod_of_another_node_and_unknown_addresses_are_refused(self):
        for source in (OTHER_NODE_IP, "127.0.0.9"):
            with self.subTest(source=source):
                status, body = self.gce(source, "email")
                self.assertEqual(status, 403, body)
                status, _ = request(self.node.metadata, "/latest/meta-data/iam/security-credentials/",
                                    source=source)
                self.assertEqual(status, 403)

    def test_ready_and_ready_file(self):
        status, _ = request(self.node.ready["admin"], "/readyz")
        self.assertEqual(status, 200)
        self.assertEqual(self.node.ready["node_name"], NODE)
        self.assertEqual(self.node.ready["api_server"], self.cluster.ready["url"])


class NodeWithoutCloudTest(unittest.TestCase):
    """No --cloud-url: identity facts are served, token paths answer each protocol's error."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="wims-node-e2e-nocloud-")
        cls.cluster = FakeCluster(cls.dir)
        cls.cluster.add_service_account("alpha")
        cls.cluster.add_pod("alpha", *PODS["alpha"])
        cls.node = Node(cls.dir, cls.cluster.kubeconfig)  # node name from $NODE_NAME

    @classmethod
    def tearDownClass(cls):
        cls.node.stop()
        cls.cluster.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_identities_without_tokens(self):
        ip = PODS["alpha"][0]
        path = "/computeMetadata/v1/instance/service-accounts/default/"
        status, body = request(self.node.metadata, path + "email", FLAVOR, source=ip)
        self.assertEqual((status, body.decode()), (200, gsa("alpha")))
        status, body = request(self.node.metadata, path + "token", FLAVOR, source=ip)
        self.assertEqual(status, 503, body)
        self.assertIn(b"--cloud-url", body)
        status, body = request(self.node.metadata, "/latest/meta-data/iam/security-credentials/", source=ip)
        self.assertEqual((status, body.decode()), (200, "alpha"))
        status, body = request(self.node.metadata, "/latest/meta-data/iam/security-credentials/alpha", source=ip)
        self.assertGreaterEqual(status, 500, body)


class NodeStartupErrorsTest(unittest.TestCase):
    def run_node(self, args, env=None):
        return subprocess.run([WIMS_BIN, "node", "--metadata-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0",
                               *args], capture_output=True, text=True, timeout=60, env=env)

    def test_node_name_is_required(self):
        env = {k: v for k, v in os.environ.items() if k != "NODE_NAME"}
        r = self.run_node([], env=env)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("--node-name", r.stderr)
        self.assertIn("NODE_NAME", r.stderr)

    def test_without_kubeconfig_outside_a_cluster_is_a_clear_error(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("KUBERNETES_")}
        r = self.run_node(["--node-name", NODE], env=env)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("in-cluster", r.stderr)

    def test_kubernetes_older_than_1_24_is_refused(self):
        d = tempfile.mkdtemp(prefix="wims-node-e2e-old-")
        cluster = FakeCluster(d, minor="23")
        try:
            r = self.run_node(["--node-name", NODE, "--kubeconfig", cluster.kubeconfig, "--state-dir", d])
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("1.24", r.stderr)
            self.assertIn("v1.23.0", r.stderr)
        finally:
            cluster.stop()
            shutil.rmtree(d, ignore_errors=True)

    def test_unreachable_api_server_is_a_clear_error(self):
        d = tempfile.mkdtemp(prefix="wims-node-e2e-bad-")
        try:
            kubeconfig = os.path.join(d, "kubeconfig")
            with open(kubeconfig, "w") as f:
                f.write("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: "
                        "http://127.0.0.1:1\nusers:\n- name: u\n  user:\n    token: t\ncontexts:\n- name: x\n"
                        "  context: {cluster: c, user: u}\ncurrent-context: x\n")
            r = self.run_node(["--node-name", NODE, "--kubeconfig", kubeconfig, "--state-dir", d])
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("http://127.0.0.1:1", r.stderr)
        finally:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
