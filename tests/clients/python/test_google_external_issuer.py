"""`wims up` as the cloud of a real cluster: the world file names an EXTERNAL cluster issuer (cluster.issuerUrl) and
its keys (cluster.jwksUrl, or cluster.jwksFile), and the local Google STS exchanges that issuer's Kubernetes
service-account tokens for federated tokens that then impersonate a Google service account bound with
roles/iam.workloadIdentityUser to the KSA's principal. The issuer is a tiny one served by this test on 127.0.0.1:0
(RSA key made here; the helper of test_aws_external_issuer.py). The embedded issuer stays trusted; a token signed by
another key, with a kid the JWKS lacks, or of another issuer, is refused with invalid_grant. The AWS side trusts the
same issuer: the role a declared KSA names is seeded with a trust policy for both issuers.
"""
import json
import os
import shutil
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

from cryptography.hazmat.primitives.asymmetric import rsa

sys.path.insert(0, os.path.dirname(__file__))
import aws_cli  # noqa: E402
import wims_harness  # noqa: E402
from test_aws_external_issuer import KID, ExternalIssuer, int_b64url, sign_jwt  # noqa: E402

PROJECT = "wims-local"
PROJECT_NUMBER = 123456789012
POOL = PROJECT + ".svc.id.goog"
CLUSTER_URL = "https://container.googleapis.com/v1/projects/%s/locations/us-central1/clusters/real" % PROJECT
AUDIENCE = "identitynamespace:%s:%s" % (POOL, CLUSTER_URL)
GSA = "ext-app@%s.iam.gserviceaccount.com" % PROJECT
PRINCIPAL = ("principal://iam.googleapis.com/projects/%d/locations/global/workloadIdentityPools/%s/subject/ns/ext/sa/app"
             % (PROJECT_NUMBER, POOL))
ROLE_ARN = "arn:aws:iam::111122223333:role/ext-app"
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"


def world_yaml(issuer_url, keys_line):
    # ext/app is declared only for its AWS role annotation (the seeded role); the Google side maps the external
    # token from its own claims and would accept undeclared KSAs as well (ext/other below).
    return """cluster:
  name: real
  location: us-central1
  issuerUrl: %s
  %s
namespaces: [default, ext]
serviceAccounts:
  - namespace: ext
    name: app
    annotations:
      eks.amazonaws.com/role-arn: %s
google:
  serviceAccounts:
    - email: %s
      bindings:
        - role: roles/iam.workloadIdentityUser
          members: ["%s"]
""" % (issuer_url, keys_line, ROLE_ARN, GSA, PRINCIPAL)


def http_post(url, data, headers=None):
    req = urllib.request.Request(url, data=data, method="POST", headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


class ExternalClusterIssuerMixin:
    """The checks, for a world whose keys line comes from keys_line(issuer, dir)."""

    @classmethod
    def setUpClass(cls):
        cls.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cls.issuer = ExternalIssuer(cls.key)
        cls.dir = tempfile.mkdtemp(prefix="wims-external-issuer-")
        config = os.path.join(cls.dir, "world.yaml")
        with open(config, "w") as f:
            f.write(world_yaml(cls.issuer.url, cls.keys_line()))
        try:
            cls.wims = wims_harness.Wims(config=config)
        except Exception:
            cls.issuer.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.wims.stop()
        cls.issuer.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def external_token(self, key=None, kid=KID, sa="app", **overrides):
        now = int(time.time())
        claims = {"iss": self.issuer.url, "sub": "system:serviceaccount:ext:" + sa, "aud": [POOL],
                  "iat": now, "nbf": now, "exp": now + 600,
                  "kubernetes.io": {"namespace": "ext", "serviceaccount": {"name": sa, "uid": "uid-of-" + sa},
                                    "pod": {"name": sa + "-7d9f", "uid": "pod-uid-" + sa}}}
        claims.update(overrides)
        return sign_jwt(key or self.key, kid, claims)

    def exchange(self, subject_token, audience=AUDIENCE):
        form = urllib.parse.urlencode({
            "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
            "requested_token_type": "urn:ietf:params:oauth:token-type:access_token",
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
            "subject_token": subject_token, "audience": audience, "scope": CLOUD_PLATFORM}).encode()
        status, body = http_post("http://" + self.wims.cloud + "/v1/token", form,
                                 {"Content-Type": "application/x-www-form-urlencoded"})
        return status, json.loads(body)

    def generate_access_token(self, federated):
        return self.wims.cloud_request(
            "POST", "/v1/projects/-/serviceAccounts/%s:generateAccessToken" % GSA,
            body={"scope": [CLOUD_PLATFORM]}, token=federated)

    def test_external_token_impersonates_the_bound_google_service_account(self):
        status, body = self.exchange(self.external_token())
        self.assertEqual(status, 200, body)
        self.assertEqual(body["issued_token_type"], "urn:ietf:params:oauth:token-type:access_token")
        self.assertEqual(body["token_type"], "Bearer")
        status, raw = self.generate_access_token(body["access_token"])
        self.assertEqual(status, 200, raw)
        self.assertTrue(json.loads(raw)["accessToken"])

    def test_unbound_ksa_of_the_external_cluster_is_denied_impersonation(self):
        # The exchange itself succeeds (the STS knows nothing of the cluster's KSAs) ...
        status, body = self.exchange(self.external_token(sa="other"))
        self.assertEqual(status, 200, body)
        # ... but ext/other holds no roles/iam.workloadIdentityUser on the GSA.
        status, raw = self.generate_access_token(body["access_token"])
        self.assertEqual(status, 403, raw)

    def test_embedded_issuer_stays_trusted(self):
        status, raw = self.wims.cloud_request(
            "POST", "/api/v1/namespaces/default/serviceaccounts/default/token",
            body={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                  "spec": {"audiences": [POOL], "expirationSeconds": 600}},
            token=self.wims.admin_token)
        self.assertEqual(status, 201, raw)
        local = json.loads(raw)["status"]["token"]
        status, body = self.exchange(local)
        self.assertEqual(status, 200, body)

    def test_foreign_tokens_are_refused(self):
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cases = (
            ("another key, same kid", self.external_token(key=other), "The subject token signature is invalid."),
            ("kid not in the JWKS", self.external_token(kid="not-in-the-jwks"), "is not among the keys"),
            ("another issuer", self.external_token(iss="https://evil.example.com"),
             "does not match the expected issuer"),
            ("expired", self.external_token(iat=int(time.time()) - 7200, nbf=int(time.time()) - 7200,
                                            exp=int(time.time()) - 3600), "has expired"),
        )
        for name, token, description in cases:
            with self.subTest(name):
                status, body = self.exchange(token)
                self.assertEqual(status, 400, body)
                self.assertEqual(body["error"], "invalid_grant", body)
                self.assertIn(description, body["error_description"])

    def test_aws_sts_trusts_the_external_issuer(self):
        now = int(time.time())
        token = sign_jwt(self.key, KID, {"iss": self.issuer.url, "sub": "system:serviceaccount:ext:app",
                                         "aud": "sts.amazonaws.com", "iat": now, "nbf": now, "exp": now + 600})
        form = urllib.parse.urlencode({"Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15",
                                       "RoleArn": ROLE_ARN, "RoleSessionName": "ext",
                                       "WebIdentityToken": token}).encode()
        status, raw = http_post(self.wims.endpoints["aws_sts"], form,
                                {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 200, raw)
        self.assertIn(b"assumed-role/ext-app/ext", raw)
        forged = sign_jwt(rsa.generate_private_key(public_exponent=65537, key_size=2048), KID,
                          {"iss": self.issuer.url, "sub": "system:serviceaccount:ext:app",
                           "aud": "sts.amazonaws.com", "iat": now, "nbf": now, "exp": now + 600})
        form = urllib.parse.urlencode({"Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15",
                                       "RoleArn": ROLE_ARN, "RoleSessionName": "ext",
                                       "WebIdentityToken": forged}).encode()
        status, raw = http_post(self.wims.endpoints["aws_sts"], form,
                                {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 400, raw)
        self.assertIn(b"InvalidIdentityToken", raw)


class JwksUrlTest(ExternalClusterIssuerMixin, aws_cli.PrintsWimsLogOnFailure, unittest.TestCase):
    """cluster.jwksUrl: the JWKS is fetched over HTTP (no discovery needed)."""

    @classmethod
    def keys_line(cls):
        return "jwksUrl: %s/keys" % cls.issuer.url

    def test_jwks_is_fetched_from_the_configured_url(self):
        status, _ = self.exchange(self.external_token())
        self.assertEqual(status, 200)
        self.assertIn("/issuer/keys", self.issuer.requests)


class JwksFileTest(ExternalClusterIssuerMixin, aws_cli.PrintsWimsLogOnFailure, unittest.TestCase):
    """cluster.jwksFile (relative to the world file): the keys come from the file, the issuer is never asked."""

    @classmethod
    def keys_line(cls):
        public = cls.key.public_key().public_numbers()
        jwks = {"keys": [{"kty": "RSA", "alg": "RS256", "use": "sig", "kid": KID,
                          "n": int_b64url(public.n), "e": int_b64url(public.e)}]}
        with open(os.path.join(cls.dir, "jwks.json"), "w") as f:
            json.dump(jwks, f)
        return "jwksFile: jwks.json"

    def test_issuer_is_never_contacted(self):
        status, _ = self.exchange(self.external_token())
        self.assertEqual(status, 200)
        self.assertEqual(self.issuer.requests, [])


if __name__ == "__main__":
    unittest.main()
