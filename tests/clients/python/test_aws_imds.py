"""The real `aws` CLI and boto3 get the AWS role of pod default/demo (built-in world: role
arn:aws:iam::111122223333:role/wims-demo) from `wims up`: through the EC2 IMDS emulator (IMDSv2 first, and with
AWS_EC2_METADATA_V1_DISABLED=true) and through the container-credentials endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI
+ AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE). `aws sts get-caller-identity` against the local STS proves the credentials
are real: it answers the assumed-role ARN of the pod's role.

The IMDS modes of `wims up` (--imds-tokens disabled|required, --imds-profile emulator, an IPv6 --metadata-addr)
each get a wims of their own (ImdsModeTest subclasses).

Callers are told apart by address: the built-in pod default/demo owns 127.0.0.1, so these clients are that pod.
"""
import json
import os
import subprocess
import sys
import textwrap
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import aws_cli  # noqa: E402
import wims_harness  # noqa: E402

ACCOUNT = "111122223333"
ROLE = "wims-demo"
ASSUMED_ROLE_PREFIX = "arn:aws:sts::%s:assumed-role/%s/" % (ACCOUNT, ROLE)
POD_IDENTITY_AUDIENCE = "pods.eks.amazonaws.com"

WIMS = None
AWS = None


def setUpModule():
    global WIMS, AWS
    AWS = aws_cli.AwsEnv()
    WIMS = wims_harness.Wims()


def tearDownModule():
    if WIMS:
        WIMS.stop()


def imds_env(**extra):
    env = {"AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://%s/" % WIMS.metadata,
           "AWS_METADATA_SERVICE_NUM_ATTEMPTS": "2", "AWS_METADATA_SERVICE_TIMEOUT": "5"}
    env.update(extra)
    return env


def container_env(token_file):
    # Newer botocore reads the token file (and prefers it); Debian's awscli 2.9 and botocore 1.29 predate
    # AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (EKS Pod Identity) and read only AWS_CONTAINER_AUTHORIZATION_TOKEN.
    with open(token_file) as f:
        token = f.read()
    return {"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://%s/v1/credentials" % WIMS.metadata,
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": token_file,
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": token,
            "AWS_EC2_METADATA_DISABLED": "true"}


def pod_token(audience=POD_IDENTITY_AUDIENCE):
    proc = subprocess.run(
        [os.environ["WIMS_BIN"], "token", "default/demo", "--pod", "demo", "--audience", audience,
         "--cloud", "http://" + WIMS.cloud, "--admin-token-file", WIMS.ready["admin_token_file"]],
        capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise AssertionError("wims token failed (%d): %s" % (proc.returncode, proc.stderr))
    return AWS.write("demo-%s.token" % audience, proc.stdout.strip())


def imds(method, path, headers=None):
    req = urllib.request.Request("http://%s%s" % (WIMS.metadata, path), method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


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


class AwsImdsTest(aws_cli.PrintsWimsLogOnFailure, unittest.TestCase):
    def wims_logs(self):
        return WIMS.logs()

    def assertAssumedRole(self, arn):
        self.assertTrue(arn.startswith(ASSUMED_ROLE_PREFIX), arn)
        self.assertGreater(len(arn), len(ASSUMED_ROLE_PREFIX), arn)

    def export_credentials(self, env):
        result = AWS.run(["configure", "export-credentials", "--format", "process"], **env)
        self.assertTrue(result.ok, repr(result))
        creds = result.json()
        for key in ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"):
            self.assertIn(key, creds)
        self.assertTrue(creds["AccessKeyId"].startswith("ASIA"), creds)
        return creds

    def caller_arn(self, env):
        result = AWS.run(["sts", "get-caller-identity"], endpoint_url=WIMS.endpoints["aws_sts"], **env)
        self.assertTrue(result.ok, repr(result))
        return result.json()["Arn"]

    def boto3(self, env):
        proc = subprocess.run([sys.executable, "-c", BOTO3_SCRIPT, WIMS.endpoints["aws_sts"]],
                              env=AWS.env(**env), capture_output=True, text=True, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        return json.loads(proc.stdout)

    def test_imds_role_name_is_the_pods_role(self):
        status, token = imds("PUT", "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds": "60"})
        self.assertEqual(status, 200, token)
        status, body = imds("GET", "/latest/meta-data/iam/security-credentials/",
                            {"X-aws-ec2-metadata-token": token})
        self.assertEqual((status, body.strip()), (200, ROLE))

    def token_puts(self):
        return sum(1 for line in WIMS.logs().splitlines()
                   if '"method":"PUT"' in line and '"path":"/latest/api/token"' in line and '"status":200' in line)

    def test_cli_through_imds_v2(self):
        puts_before = self.token_puts()
        creds = self.export_credentials(imds_env())
        # The CLI asked for an IMDSv2 session token first (the access log has its PUT).
        self.assertGreater(self.token_puts(), puts_before, "no PUT /latest/api/token in the access log")
        self.assertAssumedRole(self.caller_arn(imds_env()))
        # The same credentials sign a call the local STS accepts.
        static = {"AWS_ACCESS_KEY_ID": creds["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
                  "AWS_SESSION_TOKEN": creds["SessionToken"]}
        self.assertAssumedRole(self.caller_arn(static))

    def test_cli_with_v1_disabled(self):
        env = imds_env(AWS_EC2_METADATA_V1_DISABLED="true")
        self.export_credentials(env)
        self.assertAssumedRole(self.caller_arn(env))

    def test_boto3_through_imds(self):
        for v1_disabled in ("false", "true"):
            with self.subTest(v1_disabled=v1_disabled):
                out = self.boto3(imds_env(AWS_EC2_METADATA_V1_DISABLED=v1_disabled))
                self.assertEqual(out["method"], "iam-role")
                self.assertTrue(out["access_key"].startswith("ASIA"), out)
                self.assertTrue(out["has_token"], out)
                self.assertAssumedRole(out["arn"])

    def test_cli_and_boto3_through_the_container_credentials_endpoint(self):
        env = container_env(pod_token())
        creds = self.export_credentials(env)
        self.assertTrue(creds["SessionToken"], creds)
        self.assertAssumedRole(self.caller_arn(env))
        out = self.boto3(env)
        self.assertEqual(out["method"], "container-role")
        self.assertAssumedRole(out["arn"])

    def test_container_endpoint_refuses_a_missing_or_foreign_token(self):
        status, body = imds("GET", "/v1/credentials")
        self.assertEqual(status, 401, body)
        with open(pod_token("sts.amazonaws.com")) as f:  # a token for another audience
            wrong_audience = f.read()
        status, body = imds("GET", "/v1/credentials", {"Authorization": wrong_audience})
        self.assertIn(status, (401, 403), body)


def access_log(wims, path):
    """The metadata listener's access-log entries for `path`, oldest first (dicts: method, status, peer, ...)."""
    entries = []
    for line in wims.logs().splitlines():
        start = line.find('{"access":"metadata"')
        if start < 0:
            continue
        entry = json.loads(line[start:])
        if entry["path"] == path:
            entries.append(entry)
    return entries


CREDENTIALS_PATH = "/latest/meta-data/iam/security-credentials/%s" % ROLE
TOKEN_PATH = "/latest/api/token"


class ImdsModeTest(aws_cli.PrintsWimsLogOnFailure, unittest.TestCase):
    """Base of the tests that start their own `wims up` with IMDS flags (WIMS_ARGS, METADATA_ADDR)."""

    WIMS_ARGS = ()
    METADATA_ADDR = "127.0.0.1:0"
    wims = None

    @classmethod
    def setUpClass(cls):
        cls.wims = wims_harness.Wims(extra_args=cls.WIMS_ARGS, metadata_addr=cls.METADATA_ADDR)

    @classmethod
    def tearDownClass(cls):
        if cls.wims:
            cls.wims.stop()

    def env(self, **extra):
        env = {"AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://%s/" % self.wims.metadata,
               "AWS_METADATA_SERVICE_NUM_ATTEMPTS": "2", "AWS_METADATA_SERVICE_TIMEOUT": "5"}
        env.update(extra)
        return env

    def imds(self, method, path, headers=None):
        req = urllib.request.Request("http://%s%s" % (self.wims.metadata, path), method=method,
                                     headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def assertAssumedRole(self, arn):
        self.assertTrue(arn.startswith(ASSUMED_ROLE_PREFIX), arn)
        self.assertGreater(len(arn), len(ASSUMED_ROLE_PREFIX), arn)

    def cli_credentials_and_arn(self, env):
        """`aws configure export-credentials` through IMDS, then `aws sts get-caller-identity` signed with them."""
        result = AWS.run(["configure", "export-credentials", "--format", "process"], **env)
        self.assertTrue(result.ok, repr(result))
        creds = result.json()
        self.assertTrue(creds.get("AccessKeyId", "").startswith("ASIA"), creds)
        static = {"AWS_ACCESS_KEY_ID": creds["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
                  "AWS_SESSION_TOKEN": creds["SessionToken"]}
        result = AWS.run(["sts", "get-caller-identity"], endpoint_url=self.wims.endpoints["aws_sts"], **static)
        self.assertTrue(result.ok, repr(result))
        return creds, result.json()["Arn"]

    def boto3(self, env):
        proc = subprocess.run([sys.executable, "-c", BOTO3_SCRIPT, self.wims.endpoints["aws_sts"]],
                              env=AWS.env(**env), capture_output=True, text=True, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        out = json.loads(proc.stdout)
        self.assertEqual(out["method"], "iam-role", out)
        self.assertTrue(out["access_key"].startswith("ASIA"), out)
        self.assertTrue(out["has_token"], out)
        return out

    def credential_gets(self):
        """The status of every GET of the role's credentials so far, from wims's access log (oldest first)."""
        return [e["status"] for e in access_log(self.wims, CREDENTIALS_PATH) if e["method"] == "GET"]


class ImdsTokenApiDisabledTest(ImdsModeTest):
    """`wims up --imds-tokens disabled`: the token PUT answers 403 (shared/spec/metadata-protocols.md B2: the
    token API is absent), so botocore falls back to IMDSv1 and still gets the pod's role. (Debian's botocore 1.29
    and awscli 2.9 predate AWS_EC2_METADATA_V1_DISABLED; the refusal is tested with the JS SDK in aws.test.js.)"""

    WIMS_ARGS = ("--imds-tokens", "disabled")

    def test_token_put_is_403_and_tokenless_gets_are_served(self):
        status, body = self.imds("PUT", TOKEN_PATH, {"X-aws-ec2-metadata-token-ttl-seconds": "60"})
        self.assertEqual(status, 403, body)
        status, body = self.imds("GET", "/latest/meta-data/iam/security-credentials/")
        self.assertEqual((status, body.strip()), (200, ROLE))
        # A made-up token is ignored, not refused: there is no token API to have issued it.
        status, body = self.imds("GET", CREDENTIALS_PATH, {"X-aws-ec2-metadata-token": "not-a-token"})
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["Code"], "Success")

    def test_cli_and_boto3_fall_back_to_v1(self):
        for client in ("cli", "boto3"):
            with self.subTest(client=client):
                puts = [e["status"] for e in access_log(self.wims, TOKEN_PATH)]
                gets = self.credential_gets()
                if client == "cli":
                    _, arn = self.cli_credentials_and_arn(self.env())
                else:
                    arn = self.boto3(self.env())["arn"]
                self.assertAssumedRole(arn)
                new_puts = [e["status"] for e in access_log(self.wims, TOKEN_PATH)][len(puts):]
                new_gets = self.credential_gets()[len(gets):]
                # The client tried IMDSv2 first, was told 403, and got its credentials with a v1 GET.
                self.assertTrue(new_puts and all(s == 403 for s in new_puts), new_puts)
                self.assertIn(200, new_gets)


class ImdsTokensRequiredTest(ImdsModeTest):
    """`wims up --imds-tokens required`: a tokenless GET is 401; the SDKs use IMDSv2 and get the pod's role."""

    WIMS_ARGS = ("--imds-tokens", "required")

    def test_v1_get_is_401_and_v2_get_is_served(self):
        status, body = self.imds("GET", "/latest/meta-data/iam/security-credentials/")
        self.assertEqual(status, 401, body)
        status, token = self.imds("PUT", TOKEN_PATH, {"X-aws-ec2-metadata-token-ttl-seconds": "60"})
        self.assertEqual(status, 200, token)
        status, body = self.imds("GET", "/latest/meta-data/iam/security-credentials/",
                                 {"X-aws-ec2-metadata-token": token})
        self.assertEqual((status, body.strip()), (200, ROLE))

    def test_cli_and_boto3_use_v2(self):
        for client in ("cli", "boto3"):
            with self.subTest(client=client):
                puts = len(access_log(self.wims, TOKEN_PATH))
                gets = len(self.credential_gets())
                if client == "cli":
                    _, arn = self.cli_credentials_and_arn(self.env())
                else:
                    arn = self.boto3(self.env())["arn"]
                self.assertAssumedRole(arn)
                new_puts = [e["status"] for e in access_log(self.wims, TOKEN_PATH)[puts:]]
                new_gets = self.credential_gets()[gets:]
                self.assertIn(200, new_puts)
                # No 401: every credentials GET carried the session token.
                self.assertTrue(new_gets and all(s == 200 for s in new_gets), new_gets)


class ImdsIpv6Test(ImdsModeTest):
    """`wims up --metadata-addr [::1]:0`: the CLI and boto3 pointed at http://[::1]:PORT/ get the pod's role (the
    built-in pod default/demo owns ::1 as well as 127.0.0.1)."""

    METADATA_ADDR = "[::1]:0"

    def test_listener_is_ipv6(self):
        self.assertTrue(self.wims.metadata.startswith("[::1]:"), self.wims.metadata)

    def test_cli_and_boto3_over_ipv6(self):
        # An explicit endpoint beats the endpoint mode (B4/B5); the mode is set too, as an IPv6 node would.
        env = self.env(AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE="IPv6")
        for client in ("cli", "boto3"):
            with self.subTest(client=client):
                before = len(access_log(self.wims, CREDENTIALS_PATH))
                if client == "cli":
                    _, arn = self.cli_credentials_and_arn(env)
                else:
                    arn = self.boto3(env)["arn"]
                self.assertAssumedRole(arn)
                peers = {e["peer"] for e in access_log(self.wims, CREDENTIALS_PATH)[before:]}
                self.assertTrue(peers and all(p.startswith("[::1]") or p.startswith("::1") for p in peers), peers)


class ImdsEmulatorProfileTest(ImdsModeTest):
    """`wims up --imds-profile emulator`: only the credentials paths exist (GKE-on-AWS IMDS emulator)."""

    WIMS_ARGS = ("--imds-profile", "emulator")

    def test_only_credentials_paths(self):
        status, token = self.imds("PUT", TOKEN_PATH, {"X-aws-ec2-metadata-token-ttl-seconds": "60"})
        self.assertEqual(status, 200, token)
        headers = {"X-aws-ec2-metadata-token": token}
        for path, want in (("/latest/meta-data/iam/security-credentials/", 200), (CREDENTIALS_PATH, 200),
                           ("/latest/meta-data/instance-id", 404), ("/latest/meta-data/iam/info", 404),
                           ("/latest/dynamic/instance-identity/document", 404)):
            with self.subTest(path=path):
                status, body = self.imds("GET", path, headers)
                self.assertEqual(status, want, body)

    def test_boto3_gets_credentials(self):
        self.assertAssumedRole(self.boto3(self.env())["arn"])


if __name__ == "__main__":
    unittest.main()
