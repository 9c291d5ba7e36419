"""The real `aws` CLI and boto3 get the AWS role of pod default/demo (built-in world: role
arn:aws:iam::111122223333:role/wims-demo) from `wims up`: through the EC2 IMDS emulator (IMDSv2 first, and with
AWS_EC2_METADATA_V1_DISABLED=true) and through the container-credentials endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI
+ AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE). `aws sts get-caller-identity` against the local STS proves the credentials
are real: it answers the assumed-role ARN of the pod's role.

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


if __name__ == "__main__":
    unittest.main()
