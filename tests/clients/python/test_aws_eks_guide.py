"""The EKS guide "IAM roles for service accounts" (Amazon VPC CNI plugin) replayed with the real `aws` CLI and boto3
against `wims up --config examples/eks-vpc-cni.yaml`, the world of that guide (kube-system/aws-node).

IAM part: the cluster's OIDC provider, the role with the guide's trust policy, the IPv4 managed policy attached,
the IPv6 policy created and attached, the IPv4 policy detached; SigV4 (SignatureDoesNotMatch) and policy validation
(MalformedPolicyDocument) errors. IRSA part (no IMDS): a service-account token from `wims token` exchanged at the
local STS by `aws sts assume-role-with-web-identity` and by boto3's web-identity provider; `aws sts
get-caller-identity` with the temporary credentials answers the assumed-role ARN; another service account's token
is refused with AccessDenied.

Tests run in name order (test_1_..., test_2_...): each step builds on the previous ones, as in the guide.
"""
import json
import os
import subprocess
import sys
import textwrap
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import aws_cli  # noqa: E402
import wims_harness  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
WORLD = os.path.join(REPO, "examples", "eks-vpc-cni.yaml")
ACCOUNT = "111122223333"
ROLE = "AmazonEKSVPCCNIRole"
ROLE_ARN = "arn:aws:iam::%s:role/%s" % (ACCOUNT, ROLE)
IPV4_POLICY_ARN = "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"
IPV6_POLICY = "AmazonEKS_CNI_IPv6_Policy"
IPV6_POLICY_ARN = "arn:aws:iam::%s:policy/%s" % (ACCOUNT, IPV6_POLICY)
THUMBPRINT = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"

# The IPv6 policy document of the guide, verbatim.
IPV6_POLICY_DOCUMENT = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "ec2:AssignIpv6Addresses",
                "ec2:DescribeInstances",
                "ec2:DescribeTags",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeInstanceTypes",
            ],
            "Resource": "*",
        },
        {
            "Effect": "Allow",
            "Action": ["ec2:CreateTags"],
            "Resource": ["arn:aws:ec2:*:*:network-interface/*"],
        },
    ],
}

WIMS = None
AWS = None


def setUpModule():
    global WIMS, AWS
    AWS = aws_cli.AwsEnv()
    WIMS = wims_harness.Wims(config=WORLD)


def tearDownModule():
    if WIMS:
        WIMS.stop()


def issuer():
    return WIMS.endpoints["oidc_issuer"]


def issuer_host():
    """The issuer without its scheme, as IAM names the provider and the trust-policy keys."""
    return issuer().split("://", 1)[1].rstrip("/")


def provider_arn():
    return "arn:aws:iam::%s:oidc-provider/%s" % (ACCOUNT, issuer_host())


def admin_env():
    return {"AWS_ACCESS_KEY_ID": WIMS.ready["aws_admin_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": WIMS.ready["aws_admin_secret_access_key"]}


def iam(*args, **env):
    merged = admin_env()
    merged.update(env)
    return AWS.run(["iam"] + list(args), endpoint_url=WIMS.endpoints["aws_iam"], **merged)


def sts(*args, **env):
    return AWS.run(["sts"] + list(args), endpoint_url=WIMS.endpoints["aws_sts"], **env)


def service_account_token(ksa):
    """A token of `ksa` ("namespace/name") for audience sts.amazonaws.com, written to a file; returns the path."""
    proc = subprocess.run(
        [os.environ["WIMS_BIN"], "token", ksa, "--audience", "sts.amazonaws.com",
         "--cloud", "http://" + WIMS.cloud, "--admin-token-file", WIMS.ready["admin_token_file"]],
        capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise AssertionError("wims token %s failed (%d): %s" % (ksa, proc.returncode, proc.stderr))
    token = proc.stdout.strip()
    if token.count(".") != 2:
        raise AssertionError("wims token printed no JWT: %r" % proc.stdout)
    return AWS.write(ksa.replace("/", "_") + ".token", token)


def trust_policy():
    host = issuer_host()
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn()},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {
                host + ":aud": "sts.amazonaws.com",
                host + ":sub": "system:serviceaccount:kube-system:aws-node",
            }},
        }],
    }


class EksGuideTest(aws_cli.PrintsWimsLogOnFailure, unittest.TestCase):
    def wims_logs(self):
        return WIMS.logs()

    def assertOk(self, result):
        self.assertTrue(result.ok, repr(result))
        return result.json()

    def attached(self):
        out = self.assertOk(iam("list-attached-role-policies", "--role-name", ROLE))
        return sorted(p["PolicyArn"] for p in out["AttachedPolicies"])

    # ---- IAM: the guide ----

    def test_1_oidc_provider_for_the_cluster_issuer(self):
        # The guide first checks whether the cluster's provider exists, and creates it only if not.
        listed = self.assertOk(iam("list-open-id-connect-providers"))
        arns = [p["Arn"] for p in listed["OpenIDConnectProviderList"]]
        if provider_arn() not in arns:
            created = self.assertOk(iam("create-open-id-connect-provider", "--url", issuer(),
                                        "--client-id-list", "sts.amazonaws.com",
                                        "--thumbprint-list", THUMBPRINT))
            self.assertEqual(created["OpenIDConnectProviderArn"], provider_arn())
        got = self.assertOk(iam("get-open-id-connect-provider", "--open-id-connect-provider-arn", provider_arn()))
        self.assertEqual(got["Url"], issuer_host())
        self.assertIn("sts.amazonaws.com", got["ClientIDList"])

    def test_2_create_role_with_the_guide_trust_policy(self):
        path = AWS.write("aws-vpc-cni-trust-policy.json", json.dumps(trust_policy(), indent=4))
        created = iam("create-role", "--role-name", ROLE, "--assume-role-policy-document", "file://" + path)
        if created.error_code() == "EntityAlreadyExists":
            # `wims up` seeds a role for every role ARN the world names (aws-node's annotation); then the guide's
            # trust policy goes in with UpdateAssumeRolePolicy.
            self.assertOk(iam("update-assume-role-policy", "--role-name", ROLE, "--policy-document", "file://" + path))
        else:
            created = self.assertOk(created)
            self.assertEqual(created["Role"]["Arn"], ROLE_ARN)
            self.assertTrue(created["Role"]["RoleId"].startswith("AROA"), created)
        got = self.assertOk(iam("get-role", "--role-name", ROLE))
        self.assertEqual(got["Role"]["Arn"], ROLE_ARN)
        # The CLI URL-decodes and parses the document: it is the trust policy we sent.
        self.assertEqual(got["Role"]["AssumeRolePolicyDocument"], trust_policy())

    def test_3_attach_the_ipv4_managed_policy(self):
        self.assertOk(iam("attach-role-policy", "--role-name", ROLE, "--policy-arn", IPV4_POLICY_ARN))
        self.assertEqual(self.attached(), [IPV4_POLICY_ARN])

    def test_4_create_and_attach_the_ipv6_policy_then_detach_ipv4(self):
        path = AWS.write("vpc-cni-ipv6-policy.json", json.dumps(IPV6_POLICY_DOCUMENT, indent=4))
        created = self.assertOk(iam("create-policy", "--policy-name", IPV6_POLICY,
                                    "--policy-document", "file://" + path))
        self.assertEqual(created["Policy"]["Arn"], IPV6_POLICY_ARN)
        self.assertOk(iam("attach-role-policy", "--role-name", ROLE, "--policy-arn", IPV6_POLICY_ARN))
        self.assertEqual(self.attached(), sorted([IPV4_POLICY_ARN, IPV6_POLICY_ARN]))
        self.assertOk(iam("detach-role-policy", "--role-name", ROLE, "--policy-arn", IPV4_POLICY_ARN))
        self.assertEqual(self.attached(), [IPV6_POLICY_ARN])
        # Detaching what is not attached is NoSuchEntity, as on AWS.
        again = iam("detach-role-policy", "--role-name", ROLE, "--policy-arn", IPV4_POLICY_ARN)
        self.assertEqual(again.error_code(), "NoSuchEntity", repr(again))

    # ---- IRSA without IMDS ----

    def test_5_cli_assume_role_with_web_identity_and_get_caller_identity(self):
        token_file = service_account_token("kube-system/aws-node")
        assumed = self.assertOk(sts("assume-role-with-web-identity", "--role-arn", ROLE_ARN,
                                    "--role-session-name", "s1",
                                    "--web-identity-token", "file://" + token_file))
        want_arn = "arn:aws:sts::%s:assumed-role/%s/s1" % (ACCOUNT, ROLE)
        self.assertEqual(assumed["AssumedRoleUser"]["Arn"], want_arn)
        self.assertEqual(assumed["SubjectFromWebIdentityToken"], "system:serviceaccount:kube-system:aws-node")
        self.assertEqual(assumed["Audience"], "sts.amazonaws.com")
        creds = assumed["Credentials"]
        self.assertTrue(creds["AccessKeyId"].startswith("ASIA"), creds)

        temporary = {"AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
                     "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
                     "AWS_SESSION_TOKEN": creds["SessionToken"]}
        me = self.assertOk(sts("get-caller-identity", **temporary))
        self.assertEqual(me["Arn"], want_arn)
        self.assertEqual(me["Account"], ACCOUNT)

        tampered = dict(temporary, AWS_SECRET_ACCESS_KEY=creds["SecretAccessKey"][:-1] + "x")
        refused = sts("get-caller-identity", **tampered)
        self.assertEqual(refused.error_code(), "SignatureDoesNotMatch", repr(refused))

    def test_6_boto3_web_identity_provider(self):
        token_file = service_account_token("kube-system/aws-node")
        script = textwrap.dedent("""
            import functools, json, sys
            import boto3, botocore.session
            from botocore import configprovider
            from botocore.credentials import AssumeRoleWithWebIdentityProvider, CredentialResolver
            sts_url = sys.argv[1]
            bs = botocore.session.get_session()
            # botocore >= 1.31 reads AWS_ENDPOINT_URL_STS for the client its web-identity provider creates;
            # older ones (Debian 12's) need a provider whose STS client is created with the endpoint.
            native = "ignore_configured_endpoint_urls" in configprovider.BOTOCORE_DEFAUT_SESSION_VARIABLES
            if not native:
                provider = AssumeRoleWithWebIdentityProvider(
                    load_config=lambda: bs.full_config,
                    client_creator=functools.partial(bs.create_client, endpoint_url=sts_url),
                    profile_name="default")
                bs.register_component("credential_provider", CredentialResolver([provider]))
            session = boto3.Session(botocore_session=bs)
            credentials = session.get_credentials()
            frozen = credentials.get_frozen_credentials()
            me = session.client("sts", endpoint_url=sts_url).get_caller_identity()
            print(json.dumps({"method": credentials.method, "access_key": frozen.access_key,
                              "arn": me["Arn"], "native_endpoint_env": native}))
        """)
        env = AWS.env(AWS_ROLE_ARN=ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE=token_file,
                      AWS_ROLE_SESSION_NAME="boto3-irsa", AWS_ENDPOINT_URL_STS=WIMS.endpoints["aws_sts"])
        proc = subprocess.run([sys.executable, "-c", script, WIMS.endpoints["aws_sts"]], env=env,
                              capture_output=True, text=True, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        out = json.loads(proc.stdout)
        self.assertEqual(out["method"], "assume-role-with-web-identity")
        self.assertTrue(out["access_key"].startswith("ASIA"), out)
        self.assertEqual(out["arn"], "arn:aws:sts::%s:assumed-role/%s/boto3-irsa" % (ACCOUNT, ROLE))

    def test_7_another_service_account_is_access_denied(self):
        token_file = service_account_token("kube-system/default")
        refused = sts("assume-role-with-web-identity", "--role-arn", ROLE_ARN, "--role-session-name", "s2",
                      "--web-identity-token", "file://" + token_file)
        self.assertEqual(refused.error_code(), "AccessDenied", repr(refused))

    # ---- errors ----

    def test_8_wrong_admin_secret_is_signature_does_not_match(self):
        refused = iam("list-roles", AWS_SECRET_ACCESS_KEY=WIMS.ready["aws_admin_secret_access_key"] + "x")
        self.assertEqual(refused.error_code(), "SignatureDoesNotMatch", repr(refused))
        unknown = iam("list-roles", AWS_ACCESS_KEY_ID="AKIAUNKNOWNKEY000000")
        self.assertEqual(unknown.error_code(), "InvalidClientTokenId", repr(unknown))

    def test_9_malformed_policies_are_refused(self):
        cases = {
            "bad-effect": json.dumps({"Version": "2012-10-17",
                                      "Statement": [{"Effect": "Maybe", "Action": "s3:*", "Resource": "*"}]}),
            "bad-version": json.dumps({"Version": "2099-01-01",
                                       "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
            "not-json": '{"Version": "2012-10-17", "Statement": [',
        }
        for name, document in cases.items():
            with self.subTest(name):
                path = AWS.write(name + ".json", document)
                refused = iam("create-policy", "--policy-name", "wims-" + name, "--policy-document", "file://" + path)
                self.assertEqual(refused.error_code(), "MalformedPolicyDocument", repr(refused))


if __name__ == "__main__":
    unittest.main()
