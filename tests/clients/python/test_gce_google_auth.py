"""Python google-auth (Debian python3-google-auth) against `wims up`: the GKE metadata server path end to end.

google-auth reads GCE_METADATA_* at import time, so the module starts wims first and imports afterwards.
"""
import datetime
import json
import os
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import wims_harness  # noqa: E402
from wims_harness import jwt_claims  # noqa: E402

WIMS = None
google = None
BUCKET = "wims-demo-bucket"
OBJECT = "hello.txt"
GSA = "demo@wims-local.iam.gserviceaccount.com"


def setUpModule():
    global WIMS, google
    home = tempfile.mkdtemp(prefix="wims-home-")
    wims_harness.clean_sdk_env(home)
    WIMS = wims_harness.Wims()
    os.environ["GCE_METADATA_HOST"] = WIMS.metadata
    os.environ["GCE_METADATA_ROOT"] = WIMS.metadata
    os.environ["GCE_METADATA_IP"] = WIMS.metadata
    os.environ["GCE_METADATA_MTLS_MODE"] = "none"
    import google.auth  # noqa: F401
    import google.auth.compute_engine  # noqa: F401
    import google.auth.transport.requests  # noqa: F401
    google = sys.modules["google"]


def tearDownModule():
    if WIMS:
        WIMS.stop()


def read_object(token):
    return WIMS.cloud_request("GET", "/storage/v1/b/%s/o/%s?alt=media" % (BUCKET, OBJECT), token=token)



class GoogleAuthTest(unittest.TestCase):
    def test_default_credentials_read_the_bucket_only_while_allowed(self):
        request = google.auth.transport.requests.Request()
        credentials, project = google.auth.default()
        self.assertEqual(project, "wims-local")
        self.assertIsInstance(credentials, google.auth.compute_engine.Credentials)
        credentials.refresh(request)
        self.assertTrue(credentials.token)
        self.assertGreater(credentials.expiry, datetime.datetime.utcnow() + datetime.timedelta(minutes=5))
        self.assertEqual(credentials.service_account_email, GSA)

        status, body = read_object(credentials.token)
        self.assertEqual(status, 200, body)
        self.assertEqual(body, b"hello from wims\n")

        # Who the token is: the Google service account the pod's KSA is bound to.
        status, body = WIMS.cloud_request("GET", "/oauth2/v3/tokeninfo?access_token=" + credentials.token)
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["email"], GSA)

        # Replace the bucket policy with a binding that expires in a few seconds.
        status, body = WIMS.cloud_request("GET", "/storage/v1/b/%s/iam?optionsRequestedPolicyVersion=3" % BUCKET,
                                          token=WIMS.admin_token)
        self.assertEqual(status, 200, body)
        policy = json.loads(body)
        deadline = datetime.datetime.utcnow().replace(microsecond=0) + datetime.timedelta(seconds=4)
        policy["version"] = 3
        policy["bindings"] = [{
            "role": "roles/storage.objectViewer",
            "members": ["serviceAccount:" + GSA],
            "condition": {"title": "expires", "expression":
                          "request.time < timestamp('%sZ')" % deadline.isoformat()},
        }]
        status, body = WIMS.cloud_request("PUT", "/storage/v1/b/%s/iam" % BUCKET, body=policy,
                                          token=WIMS.admin_token)
        self.assertEqual(status, 200, body)
        status, body = read_object(credentials.token)
        self.assertEqual(status, 200, body)
        # Bounded wait until the condition has passed.
        while datetime.datetime.utcnow() < deadline + datetime.timedelta(seconds=1):
            time.sleep(0.2)
        status, body = read_object(credentials.token)
        self.assertEqual(status, 403, body)

    def test_a_policy_without_the_binding_denies(self):
        request = google.auth.transport.requests.Request()
        credentials, _ = google.auth.default()
        credentials.refresh(request)
        status, _ = WIMS.cloud_request("GET", "/storage/v1/b/%s/o/%s?alt=media" % (BUCKET, "missing.txt"),
                                       token=credentials.token)
        self.assertIn(status, (403, 404))
        status, _ = read_object("ya29.not-a-token")
        self.assertEqual(status, 401)

    def test_id_token_from_the_metadata_identity_endpoint(self):
        # google-auth 1.5 (Debian) has no metadata-backed IDTokenCredentials; it reads the endpoint through its
        # metadata client, as newer versions do.
        from google.auth.compute_engine import _metadata
        request = google.auth.transport.requests.Request()
        token = _metadata.get(request, "instance/service-accounts/default/identity"
                              "?audience=https://example.wims.test&format=full")
        if isinstance(token, bytes):
            token = token.decode()
        claims = jwt_claims(token)
        self.assertEqual(claims["aud"], "https://example.wims.test")
        self.assertEqual(claims["email"], GSA)
        self.assertTrue(claims["email_verified"])
        self.assertGreater(claims["exp"], time.time())
        # format=full carries the node as a Compute Engine instance, agreeing with the metadata server itself.
        engine = claims["google"]["compute_engine"]
        project_number = _metadata.get(request, "project/numeric-project-id")
        if isinstance(project_number, bytes):
            project_number = project_number.decode()
        self.assertEqual(engine["project_number"], int(project_number))
        self.assertEqual(engine["project_id"], _metadata.get_project_id(request))
        hostname = _metadata.get(request, "instance/hostname")
        self.assertTrue(hostname.startswith(engine["instance_name"] + "."), hostname)
        self.assertEqual(engine["instance_id"], str(_metadata.get(request, "instance/id")))
        self.assertTrue(_metadata.get(request, "instance/zone").endswith("/zones/" + engine["zone"]))
        self.assertIsInstance(engine["instance_creation_timestamp"], int)
        self.assertNotIn("license_id", engine)
        with_licenses = jwt_claims(_metadata.get(
            request, "instance/service-accounts/default/identity"
            "?audience=https://example.wims.test&format=full&licenses=TRUE"))
        self.assertIsInstance(with_licenses["google"]["compute_engine"]["license_id"], list)
        standard = jwt_claims(_metadata.get(
            request, "instance/service-accounts/default/identity?audience=https://example.wims.test"))
        self.assertNotIn("google", standard)
        self.assertNotIn("email", standard)

    def test_metadata_values(self):
        from google.auth.compute_engine import _metadata
        request = google.auth.transport.requests.Request()
        self.assertTrue(_metadata.ping(request))
        self.assertEqual(_metadata.get_project_id(request), "wims-local")
        info = _metadata.get_service_account_info(request)
        self.assertEqual(info["email"], GSA)
        self.assertIn("default", info["aliases"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
