"""`wims sidecar` (the AWS IMDS emulator sidecar of GKE on AWS) end to end.

`wims up` is the cloud: its local STS at /aws/ and its Kubernetes TokenRequest API, which mints the projected
service-account token of pod default/demo (audience sts.amazonaws.com) into a file, as the kubelet would. The
built-in world gives default/demo the role arn:aws:iam::111122223333:role/wims-demo, whose trust policy accepts
that token. The sidecar is started with the role ARN and the token file, as the admission webhook starts it
(webhook/imds_emulator_mutation.cc), and the real boto3 and aws CLI get its credentials through IMDSv2 with no
other AWS configuration than AWS_EC2_METADATA_SERVICE_ENDPOINT.
"""
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "clients", "python"))
import aws_cli  # noqa: E402
import wims_harness  # noqa: E402

ACCOUNT = "111122223333"
ROLE = "wims-demo"
ROLE_ARN = "arn:aws:iam::%s:role/%s" % (ACCOUNT, ROLE)
ASSUMED_ROLE_PREFIX = "arn:aws:sts::%s:assumed-role/%s/" % (ACCOUNT, ROLE)
CREDENTIALS_PATH = "/latest/meta-data/iam/security-credentials/" + ROLE
CALL_TIMEOUT_S = 120

WIMS = None
AWS = None


def setUpModule():
    global WIMS, AWS
    AWS = aws_cli.AwsEnv()
    WIMS = wims_harness.Wims()


def tearDownModule():
    if WIMS:
        WIMS.stop()


def mint_token(path):
    """A pod-bound token of default/demo for STS, written to `path` atomically (as the kubelet swaps it)."""
    proc = subprocess.run(
        [os.environ["WIMS_BIN"], "token", "default/demo", "--pod", "demo", "--audience", "sts.amazonaws.com",
         "--cloud", "http://" + WIMS.cloud, "--admin-token-file", WIMS.ready["admin_token_file"]],
        capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise AssertionError("wims token failed (%d): %s" % (proc.returncode, proc.stderr))
    replace_file(path, proc.stdout)


def replace_file(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


class Sidecar(wims_harness.Process):
    """One `wims sidecar` process on loopback port 0 with its own token file and log."""

    def __init__(self, extra_args=(), listen=("127.0.0.1:0",), token_text=None, profile="emulator",
                 pod_flags=True):
        self.dir = tempfile.mkdtemp(prefix="wims-sidecar-test-")
        self.token_file = os.path.join(self.dir, "token")
        if token_text is None:
            mint_token(self.token_file)
        else:
            replace_file(self.token_file, token_text)
        ready_file = os.path.join(self.dir, "ready.json")
        args = [os.environ["WIMS_BIN"], "sidecar", "--imds-profile", profile]
        for address in listen:
            args += ["--listen", address]
        args += ["--role-arn", ROLE_ARN, "--token-file", self.token_file,
                 "--sts-endpoint", WIMS.endpoints["aws_sts"], "--region", "us-east-1",
                 "--admin-addr", "127.0.0.1:0", "--ready-file", ready_file] + list(extra_args)
        if pod_flags:
            args += ["--pod-name", "demo", "--pod-namespace", "default"]
        super().__init__(args, "wims sidecar", ready_file, os.path.join(self.dir, "sidecar.log"))
        self.imds_addr = self.ready["imds"]

    def request(self, method, path, headers=None, addr=None):
        req = urllib.request.Request("http://%s%s" % (addr or self.imds_addr, path), method=method,
                                     headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=15) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def v2_get(self, path, addr=None):
        status, token = self.request("PUT", "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds": "60"},
                                     addr=addr)
        if status != 200:
            return status, token
        return self.request("GET", path, {"X-aws-ec2-metadata-token": token}, addr=addr)

    def metric(self, name, **labels):
        """The value of one counter on the admin /metrics page, 0 when absent."""
        with urllib.request.urlopen("http://%s/metrics" % self.ready["admin"], timeout=10) as resp:
            text = resp.read().decode()
        want = ",".join('%s="%s"' % kv for kv in sorted(labels.items()))
        total = 0.0
        for line in text.splitlines():
            if not line.startswith(name + "{"):
                continue
            series, value = line.rsplit(" ", 1)
            got = ",".join(sorted(series[len(name) + 1:-1].split(",")))
            if got == want:
                total += float(value)
        return total

    def imds_env(self, **extra):
        env = {"AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://%s/" % self.imds_addr,
               "AWS_METADATA_SERVICE_NUM_ATTEMPTS": "2", "AWS_METADATA_SERVICE_TIMEOUT": "5"}
        env.update(extra)
        return env


BOTO3_SCRIPT = textwrap.dedent("""
    import json, sys
    import boto3
    session = boto3.Session()
    credentials = session.get_credentials()
    if credentials is None:
        print(json.dumps({"error": "no credentials"}))
        sys.exit(3)
    frozen = credentials.get_frozen_credentials()
    me = session.client("sts", endpoint_url=sys.argv[1]).get_caller_identity()
    print(json.dumps({"method": credentials.method, "access_key": frozen.access_key,
                      "has_token": bool(frozen.token), "arn": me["Arn"]}))
""")


def run_boto3(env):
    return subprocess.run([sys.executable, "-c", BOTO3_SCRIPT, WIMS.endpoints["aws_sts"]],
                          env=AWS.env(**env), capture_output=True, text=True, timeout=CALL_TIMEOUT_S)


class SidecarTestCase(aws_cli.PrintsWimsLogOnFailure, unittest.TestCase):
    sidecars = ()

    def wims_logs(self):
        parts = ["== wims up ==\n" + WIMS.logs()]
        parts += ["== sidecar ==\n" + s.logs() for s in self.sidecars]
        return "\n".join(parts)

    def assertAssumedRole(self, arn):
        self.assertTrue(arn.startswith(ASSUMED_ROLE_PREFIX), arn)
        self.assertGreater(len(arn), len(ASSUMED_ROLE_PREFIX), arn)


class EmulatorProfileTest(SidecarTestCase):
    @classmethod
    def setUpClass(cls):
        cls.sidecar = Sidecar(listen=("127.0.0.1:0", "[::1]:0"))
        cls.sidecars = (cls.sidecar,)

    @classmethod
    def tearDownClass(cls):
        cls.sidecar.stop()

    def test_boto3_gets_the_role_through_imdsv2(self):
        puts_before = self.sidecar.metric("wims_http_requests_total", listener="imds", route="imds.token",
                                          status="200")
        # V1 disabled: botocore must use a session token, or fail.
        proc = run_boto3(self.sidecar.imds_env(AWS_EC2_METADATA_V1_DISABLED="true"))
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        out = json.loads(proc.stdout)
        self.assertEqual(out["method"], "iam-role")
        self.assertTrue(out["access_key"].startswith("ASIA"), out)
        self.assertTrue(out["has_token"], out)
        self.assertAssumedRole(out["arn"])
        self.assertGreater(self.sidecar.metric("wims_http_requests_total", listener="imds", route="imds.token",
                                               status="200"), puts_before)

    def test_aws_cli_gets_credentials_and_sts_answers_the_assumed_role(self):
        env = self.sidecar.imds_env(AWS_EC2_METADATA_V1_DISABLED="true")
        result = AWS.run(["configure", "export-credentials", "--format", "process"], **env)
        self.assertTrue(result.ok, repr(result))
        creds = result.json()
        self.assertTrue(creds["AccessKeyId"].startswith("ASIA"), creds)
        self.assertTrue(creds["SessionToken"], creds)
        result = AWS.run(["sts", "get-caller-identity"], endpoint_url=WIMS.endpoints["aws_sts"], **env)
        self.assertTrue(result.ok, repr(result))
        self.assertAssumedRole(result.json()["Arn"])
        self.assertEqual(result.json()["Account"], ACCOUNT)

    def test_only_the_token_api_and_credentials_paths_are_served(self):
        cases = [
            ("/latest/meta-data/iam/security-credentials/", 200),
            ("/latest/meta-data/iam/security-credentials", 200),
            (CREDENTIALS_PATH, 200),
            ("/latest/meta-data/iam/security-credentials/someone-else", 404),
            ("/latest/meta-data/instance-id", 404),
            ("/latest/meta-data/placement/availability-zone", 404),
            ("/latest/meta-data/iam/info", 404),
            ("/latest/dynamic/instance-identity/document", 404),
            ("/latest/meta-data/", 404),
            ("/latest/", 404),
            ("/computeMetadata/v1/instance/service-accounts/default/token", 404),
            ("/v1/credentials", 404),
            ("/", 404),
        ]
        for path, want in cases:
            for version in ("v1", "v2"):
                with self.subTest(path=path, version=version):
                    if version == "v1":
                        status, body = self.sidecar.request("GET", path)
                    else:
                        status, body = self.sidecar.v2_get(path)
                    self.assertEqual(status, want, body)
                    if path.endswith("security-credentials/") or path.endswith("security-credentials"):
                        self.assertEqual(body.strip(), ROLE)
                    if path == CREDENTIALS_PATH:
                        doc = json.loads(body)
                        self.assertEqual(doc["Code"], "Success")
                        self.assertEqual(doc["Type"], "AWS-HMAC")
                        self.assertTrue(doc["AccessKeyId"].startswith("ASIA"), doc)

    def test_ipv6_loopback_listener_serves_the_same_role(self):
        self.assertEqual(len(self.sidecar.ready["listen"]), 2, self.sidecar.ready)
        v6 = [a for a in self.sidecar.ready["listen"] if a.startswith("[::1]:")]
        self.assertEqual(len(v6), 1, self.sidecar.ready)
        status, body = self.sidecar.v2_get(CREDENTIALS_PATH, addr=v6[0])
        self.assertEqual(status, 200, body)
        self.assertTrue(json.loads(body)["AccessKeyId"].startswith("ASIA"))

    def test_session_token_protocol_checks(self):
        status, body = self.sidecar.request("PUT", "/latest/api/token")  # no TTL header
        self.assertEqual(status, 400, body)
        status, body = self.sidecar.request("GET", CREDENTIALS_PATH, {"X-aws-ec2-metadata-token": "forged"})
        self.assertEqual(status, 401, body)

    def test_admin_endpoints(self):
        for path, want in (("/healthz", "ok"), ("/readyz", "ready")):
            with self.subTest(path=path):
                with urllib.request.urlopen("http://%s%s" % (self.sidecar.ready["admin"], path),
                                            timeout=10) as resp:
                    self.assertEqual((resp.status, resp.read().decode().strip()), (200, want))


class FullProfileTest(SidecarTestCase):
    def test_full_profile_serves_instance_metadata_too(self):
        sidecar = Sidecar(profile="full")
        self.sidecars = (sidecar,)
        try:
            for path in ("/latest/meta-data/instance-id", "/latest/meta-data/placement/availability-zone",
                         "/latest/dynamic/instance-identity/document", CREDENTIALS_PATH):
                with self.subTest(path=path):
                    status, body = sidecar.v2_get(path)
                    self.assertEqual(status, 200, body)
            self.assertEqual(sidecar.v2_get("/latest/meta-data/placement/availability-zone")[1].strip(),
                             "us-east-1a")
        finally:
            sidecar.stop()


class PodIdentityTest(SidecarTestCase):
    def test_without_pod_flags_the_pod_comes_from_the_tokens_claims(self):
        env = {k: v for k, v in os.environ.items() if k not in ("POD_NAME", "POD_NAMESPACE")}
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(env)
        try:
            sidecar = Sidecar(pod_flags=False)
        finally:
            os.environ.clear()
            os.environ.update(saved)
        self.sidecars = (sidecar,)
        try:
            self.assertEqual(sidecar.ready["pod"], "default/demo")
            status, body = sidecar.v2_get(CREDENTIALS_PATH)
            self.assertEqual(status, 200, body)
        finally:
            sidecar.stop()


class TokenFileTest(SidecarTestCase):
    def test_garbage_token_fails_the_next_refresh_and_a_rotated_token_is_read_again(self):
        # A 15-minute session refreshed 899 s ahead of expiry: a request more than a second after an exchange
        # starts a background refresh, so "the next refresh" is the next request.
        sidecar = Sidecar(extra_args=["--credential-duration", "15m", "--refresh-ahead", "899s"])
        self.sidecars = (sidecar,)
        sts = lambda status: sidecar.metric("wims_upstream_requests_total", service="aws-sts", status=status)
        try:
            # The start-up exchange (a miss, so synchronous in the cache: no refresh is in flight afterwards,
            # and none starts until the next request).
            deadline = time.monotonic() + 30
            while sts("200") < 1:
                self.assertLess(time.monotonic(), deadline, "no start-up exchange")
                time.sleep(0.1)

            # Garbage in the token file: the next refresh is refused by STS (InvalidIdentityToken, HTTP 400).
            # Meanwhile IMDS serves only the still-valid credentials it already had, never anything else.
            replace_file(sidecar.token_file, "garbage-that-is-not-a-jwt\n")
            status, body = sidecar.v2_get(CREDENTIALS_PATH)
            self.assertEqual(status, 200, body)
            first = json.loads(body)["AccessKeyId"]
            deadline = time.monotonic() + 60
            while sts("400") == 0:
                self.assertLess(time.monotonic(), deadline, "no refresh attempt with the garbage token")
                time.sleep(0.3)
                status, body = sidecar.v2_get(CREDENTIALS_PATH)
                self.assertEqual(status, 200, body)
                self.assertEqual(json.loads(body)["AccessKeyId"], first)
            self.assertEqual(sts("200"), 1, "an exchange succeeded with the garbage token")
            status, body = sidecar.v2_get(CREDENTIALS_PATH)
            self.assertEqual((status, json.loads(body)["AccessKeyId"]), (200, first))

            # The kubelet writes a good token again: a later refresh reads it and succeeds with new credentials.
            mint_token(sidecar.token_file)
            deadline = time.monotonic() + 60
            current = first
            while current == first:
                self.assertLess(time.monotonic(), deadline, "no refresh with the rotated token")
                time.sleep(0.3)
                status, body = sidecar.v2_get(CREDENTIALS_PATH)
                self.assertEqual(status, 200, body)
                creds = json.loads(body)
                current = creds["AccessKeyId"]
            static = {"AWS_ACCESS_KEY_ID": creds["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
                      "AWS_SESSION_TOKEN": creds["Token"]}
            result = AWS.run(["sts", "get-caller-identity"], endpoint_url=WIMS.endpoints["aws_sts"], **static)
            self.assertTrue(result.ok, repr(result))
            self.assertAssumedRole(result.json()["Arn"])
        finally:
            sidecar.stop()

    def test_garbage_token_at_start_is_refused_by_sts_with_a_clear_error(self):
        sidecar = Sidecar(token_text="garbage-that-is-not-a-jwt\n")
        self.sidecars = (sidecar,)
        try:
            status, body = sidecar.v2_get(CREDENTIALS_PATH)
            self.assertEqual(status, 403, body)
            self.assertIn("InvalidIdentityToken", body)
            # The role name is still what the pod asked for (it needs no exchange).
            status, body = sidecar.v2_get("/latest/meta-data/iam/security-credentials/")
            self.assertEqual((status, body.strip()), (200, ROLE))
            # The SDK finds no credentials rather than someone else's.
            proc = run_boto3(sidecar.imds_env())
            self.assertNotEqual(proc.returncode, 0, proc.stdout)
            self.assertNotIn("assumed-role", proc.stdout)
            self.assertIn("first credentials exchange failed", sidecar.logs())
            self.assertIn("InvalidIdentityToken", sidecar.logs())
        finally:
            sidecar.stop()

    def test_start_up_errors_are_clear(self):
        token = os.path.join(tempfile.mkdtemp(prefix="wims-sidecar-test-"), "token")
        mint_token(token)
        empty = token + ".empty"
        open(empty, "w").close()
        base = ["--listen", "127.0.0.1:0", "--sts-endpoint", WIMS.endpoints["aws_sts"]]
        cases = [
            ("missing token file", ["--role-arn", ROLE_ARN, "--token-file", token + ".absent"], 1,
             ["--token-file", token + ".absent", "No such file"]),
            ("empty token file", ["--role-arn", ROLE_ARN, "--token-file", empty], 1, ["is empty"]),
            ("bad ARN", ["--role-arn", "arn:aws:iam::1:user/x", "--token-file", token], 2,
             ["--role-arn", "not an IAM role ARN"]),
            ("bad listen address", ["--role-arn", ROLE_ARN, "--token-file", token, "--listen", "nowhere:80"], 2,
             ["--listen", "nowhere"]),
            ("listen port in use", ["--role-arn", ROLE_ARN, "--token-file", token, "--listen", WIMS.cloud], 1,
             ["--listen " + WIMS.cloud]),
            ("no role", ["--token-file", token], 2, ["--role-arn"]),
            ("bad profile", ["--role-arn", ROLE_ARN, "--token-file", token, "--imds-profile", "most"], 2,
             ["--imds-profile"]),
            ("bad duration", ["--role-arn", ROLE_ARN, "--token-file", token, "--credential-duration", "5m"], 2,
             ["--credential-duration"]),
        ]
        for name, args, code, needles in cases:
            with self.subTest(name):
                # Repeated --listen options accumulate: the base one binds, the case's one fails.
                argv = [os.environ["WIMS_BIN"], "sidecar"] + base + args
                proc = subprocess.run(argv, capture_output=True, text=True, timeout=30)
                self.assertEqual(proc.returncode, code, proc.stderr)
                for needle in needles:
                    self.assertIn(needle, proc.stderr)


if __name__ == "__main__":
    unittest.main()
