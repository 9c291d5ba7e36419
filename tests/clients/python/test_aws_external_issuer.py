"""An OIDC provider registered for an EXTERNAL issuer (not wims's embedded one) is usable with the local STS: the real
`aws` CLI registers http://127.0.0.1:PORT/issuer (a tiny OIDC issuer served by this test: discovery + JWKS, RSA key
made here) with `aws iam create-open-id-connect-provider`, creates a role that trusts it, and exchanges a token signed
by that key with `aws sts assume-role-with-web-identity`. wims fetches the discovery document and JWKS over HTTP
(aws/http_jwks_token_verifier.h, the fallback of the in-process verifier in cli/aws_stack.cc). A token signed by
another key with the same kid, or with a kid the JWKS does not have, is refused with InvalidIdentityToken.
"""
import base64
import http.server
import json
import os
import sys
import threading
import time
import unittest

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

sys.path.insert(0, os.path.dirname(__file__))
import aws_cli  # noqa: E402
import wims_harness  # noqa: E402

ACCOUNT = "111122223333"
ROLE = "ExternalIssuerRole"
ROLE_ARN = "arn:aws:iam::%s:role/%s" % (ACCOUNT, ROLE)
SUBJECT = "system:serviceaccount:ext:app"
KID = "external-key-1"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def int_b64url(n):
    return b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))


def sign_jwt(key, kid, claims):
    header = {"alg": "RS256", "typ": "JWT", "kid": kid}
    signing_input = (b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())).encode()
    signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return signing_input.decode() + "." + b64url(signature)


class ExternalIssuer:
    """OIDC discovery + JWKS on 127.0.0.1:0 under /issuer; counts the requests it serves."""

    def __init__(self, key):
        self.requests = []
        public = key.public_key().public_numbers()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests.append(self.path)
                if self.path == "/issuer/.well-known/openid-configuration":
                    body = {"issuer": outer.url, "jwks_uri": outer.url + "/keys",
                            "response_types_supported": ["id_token"], "subject_types_supported": ["public"],
                            "id_token_signing_alg_values_supported": ["RS256"]}
                elif self.path == "/issuer/keys":
                    body = {"keys": [{"kty": "RSA", "alg": "RS256", "use": "sig", "kid": KID,
                                      "n": int_b64url(public.n), "e": int_b64url(public.e)}]}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/issuer" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class ExternalIssuerTest(aws_cli.PrintsWimsLogOnFailure, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.aws = aws_cli.AwsEnv()
        cls.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cls.issuer = ExternalIssuer(cls.key)
        cls.wims = wims_harness.Wims()
        host = cls.issuer.url.split("://", 1)[1]
        cls.provider_arn = "arn:aws:iam::%s:oidc-provider/%s" % (ACCOUNT, host)
        created = cls.iam("create-open-id-connect-provider", "--url", cls.issuer.url,
                          "--client-id-list", "sts.amazonaws.com", "--thumbprint-list", "0" * 40)
        if not created.ok:
            raise AssertionError(repr(created))
        trust = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Federated": cls.provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {host + ":aud": "sts.amazonaws.com", host + ":sub": SUBJECT}}}]}
        created = cls.iam("create-role", "--role-name", ROLE, "--assume-role-policy-document", json.dumps(trust))
        if not created.ok:
            raise AssertionError(repr(created))

    @classmethod
    def tearDownClass(cls):
        cls.wims.stop()
        cls.issuer.stop()

    @classmethod
    def iam(cls, *args):
        return cls.aws.run(["iam"] + list(args), endpoint_url=cls.wims.endpoints["aws_iam"],
                           AWS_ACCESS_KEY_ID=cls.wims.ready["aws_admin_access_key_id"],
                           AWS_SECRET_ACCESS_KEY=cls.wims.ready["aws_admin_secret_access_key"])

    def token(self, key=None, kid=KID, **overrides):
        now = int(time.time())
        claims = {"iss": self.issuer.url, "sub": SUBJECT, "aud": "sts.amazonaws.com", "iat": now, "nbf": now,
                  "exp": now + 600}
        claims.update(overrides)
        return self.aws.write("external-%d.token" % time.monotonic_ns(), sign_jwt(key or self.key, kid, claims))

    def assume(self, token_file, session="ext"):
        return self.aws.run(["sts", "assume-role-with-web-identity", "--role-arn", ROLE_ARN,
                             "--role-session-name", session, "--web-identity-token", "file://" + token_file],
                            endpoint_url=self.wims.endpoints["aws_sts"])

    def test_provider_is_registered_for_the_external_issuer(self):
        got = self.iam("get-open-id-connect-provider", "--open-id-connect-provider-arn", self.provider_arn)
        self.assertTrue(got.ok, repr(got))
        self.assertEqual(got.json()["ClientIDList"], ["sts.amazonaws.com"])

    def test_token_of_the_external_issuer_is_accepted(self):
        result = self.assume(self.token(), session="ext-ok")
        self.assertTrue(result.ok, repr(result))
        out = result.json()
        want_arn = "arn:aws:sts::%s:assumed-role/%s/ext-ok" % (ACCOUNT, ROLE)
        self.assertEqual(out["AssumedRoleUser"]["Arn"], want_arn)
        self.assertEqual(out["SubjectFromWebIdentityToken"], SUBJECT)
        self.assertEqual(out["Provider"], self.provider_arn)
        # wims fetched the issuer's discovery document and JWKS.
        self.assertIn("/issuer/.well-known/openid-configuration", self.issuer.requests)
        self.assertIn("/issuer/keys", self.issuer.requests)
        # The credentials are real: GetCallerIdentity signed with them answers the assumed role.
        creds = out["Credentials"]
        me = self.aws.run(["sts", "get-caller-identity"], endpoint_url=self.wims.endpoints["aws_sts"],
                          AWS_ACCESS_KEY_ID=creds["AccessKeyId"], AWS_SECRET_ACCESS_KEY=creds["SecretAccessKey"],
                          AWS_SESSION_TOKEN=creds["SessionToken"])
        self.assertTrue(me.ok, repr(me))
        self.assertEqual(me.json()["Arn"], want_arn)

    def test_forged_or_unknown_key_is_refused(self):
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        for name, token_file in (("another key, same kid", self.token(key=other)),
                                 ("unknown kid", self.token(kid="not-in-the-jwks"))):
            with self.subTest(name):
                result = self.assume(token_file)
                self.assertEqual(result.error_code(), "InvalidIdentityToken", repr(result))

    def test_wrong_subject_is_access_denied(self):
        result = self.assume(self.token(sub="system:serviceaccount:ext:other"))
        self.assertEqual(result.error_code(), "AccessDenied", repr(result))


if __name__ == "__main__":
    unittest.main()
