"""Integration tests of the real `wims` binary: command line, `wims up` on loopback port 0 (IPv4 and IPv6),
the ready file, caller identification by source address, the GCE protocol over real sockets, persistence of
the local cloud's state across restarts, `wims token`, metrics and graceful shutdown."""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "clients", "python"))
import wims_harness  # noqa: E402
from wims_harness import http_request as get, jwt_claims  # noqa: E402

WIMS_BIN = os.environ["WIMS_BIN"]
FLAVOR = {"Metadata-Flavor": "Google"}


def run(*args, timeout=30):
    return subprocess.run([WIMS_BIN, *args], capture_output=True, text=True, timeout=timeout)




class CommandLineTest(unittest.TestCase):
    def test_help_and_version(self):
        r = run("--help")
        self.assertEqual(r.returncode, 0)
        for cmd in ("up", "token", "netguard"):
            self.assertIn(cmd, r.stdout)
        r = run("up", "--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("--metadata-addr", r.stdout)
        r = run("--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^wims \d+\.\d+\.\d+")

    def test_unknown_flags_exit_2(self):
        for args in (["--bogus"], ["up", "--bogus"], ["token", "default/demo", "--nope"], ["nosuchcommand"], []):
            with self.subTest(args=args):
                r = run(*args)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertTrue(r.stderr.strip())

    def test_bad_config_reports_every_problem(self):
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
            f.write("project:\n  id: wims-local\n  number: 1\npods:\n"
                    "  - namespace: default\n    name: a\n    ips: [\"10.0.0.x\"]\n"
                    "    serviceAccountName: nope\n")
        try:
            r = run("up", "--config", f.name, "--state-dir", tempfile.mkdtemp())
        finally:
            os.unlink(f.name)
        self.assertEqual(r.returncode, 1)
        self.assertIn("is not an IP address", r.stderr)
        self.assertIn("nope", r.stderr)
        self.assertRegex(r.stderr, r"\.yaml:\d+: pods\[0\]")


class UpTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.wims = wims_harness.Wims()

    @classmethod
    def tearDownClass(cls):
        cls.wims.stop()

    def test_ready_file_lists_bound_addresses_and_endpoints(self):
        ready = self.wims.ready
        for key in ("metadata", "cloud", "admin"):
            self.assertRegex(ready[key], r"^127\.0\.0\.1:\d+$")
            self.assertNotEqual(ready[key].split(":")[1], "0")
        for key in ("oidc_issuer", "google_sts", "gce_metadata", "google_storage"):
            self.assertTrue(ready["endpoints"][key].startswith("http://"))
        resp, body = get(ready["admin"], "/readyz")
        self.assertEqual(resp.status, 200)
        resp, body = get(ready["admin"], "/healthz")
        self.assertEqual(resp.status, 200)

    def test_gce_identity_and_errors_over_real_sockets(self):
        m = self.wims.metadata
        resp, body = get(m, "/computeMetadata/v1/project/project-id", FLAVOR)
        self.assertEqual((resp.status, body), (200, b"wims-local"))
        self.assertEqual(resp.getheader("Metadata-Flavor"), "Google")
        resp, _ = get(m, "/computeMetadata/v1/project/project-id")
        self.assertEqual(resp.status, 403)
        resp, _ = get(m, "/computeMetadata/v1/project/project-id", {**FLAVOR, "X-Forwarded-For": "1.2.3.4"})
        self.assertEqual(resp.status, 403)
        resp, body = get(m, "/computeMetadata/v1/instance/service-accounts/default/token", FLAVOR)
        self.assertEqual(resp.status, 200, body)
        token = json.loads(body)
        self.assertEqual(token["token_type"], "Bearer")
        self.assertIsInstance(token["expires_in"], int)
        self.assertGreater(token["expires_in"], 300)
        resp, body = get(m, "/computeMetadata/v1/instance/service-accounts/default/identity?audience=aud-1",
                         FLAVOR)
        self.assertEqual(resp.status, 200, body)
        self.assertEqual(jwt_claims(body.decode())["aud"], "aud-1")

    def test_paths_are_canonicalised_before_routing(self):
        m = self.wims.metadata
        for path in ("/computeMetadata/v1/../v1/project/project-id", "/computeMetadata//v1/project/project-id",
                     "/computeMetadata/v1/project/%2e%2e/project/project-id",
                     "/computeMetadata/v1/project\\project-id", "/computeMetadata/v1/project%2Fproject-id",
                     "/computeMetadata/v1/project/project-id%00"):
            with self.subTest(path=path):
                resp, body = get(m, path, FLAVOR)
                self.assertIn(resp.status, (400, 404), body)
                self.assertNotEqual(body, b"wims-local")
        # Percent-encoded unreserved characters are the same URI (RFC 3986 6.2.2.2), so they are served.
        resp, body = get(m, "/computeMetadata/v1/project/project%2Did", FLAVOR)
        self.assertEqual((resp.status, body), (200, b"wims-local"))
        # The cloud listener keeps %2F encoded (Cloud Storage object names with '/'), so it reaches storage
        # as one object name instead of being refused; the metadata listener above never accepts it.
        auth = {"Authorization": "Bearer " + self.wims.admin_token}
        resp, body = get(self.wims.cloud, "/storage/v1/b/wims-demo-bucket/o/hello.txt?alt=media", auth)
        self.assertEqual((resp.status, body), (200, b"hello from wims\n"))
        resp, body = get(self.wims.cloud, "/storage/v1/b/wims-demo-bucket/o/dir%2Fhello.txt?alt=media", auth)
        self.assertEqual(resp.status, 404, body)
        self.assertEqual(json.loads(body)["error"]["errors"][0]["reason"], "notFound")
        resp, body = get(self.wims.cloud, "/storage/v1/b/wims-demo-bucket/o/..%2F..%2Fx", auth)
        self.assertEqual(resp.status, 404, body)

    def test_regression_transfer_encoding_identity_is_refused_not_smuggled(self):
        # Issue 12 section 4 defect 2: this printf on one connection printed 405, then 200 with the email.
        host, port = self.wims.metadata.rsplit(":", 1)
        smuggled = (b"POST /computeMetadata/v1/ HTTP/1.1\r\nHost: x\r\nMetadata-Flavor: Google\r\n"
                    b"Transfer-Encoding: identity\r\n\r\n"
                    b"GET /computeMetadata/v1/instance/service-accounts/default/email HTTP/1.1\r\nHost: x\r\n"
                    b"Metadata-Flavor: Google\r\nConnection: close\r\n\r\n")
        with socket.create_connection((host.strip("[]"), int(port)), timeout=10) as conn:
            conn.sendall(smuggled)
            answer = b""
            while chunk := conn.recv(65536):  # until the server closes (10 s bound per read)
                answer += chunk
        self.assertTrue(answer.startswith(b"HTTP/1.1 400 "), answer)
        self.assertEqual(answer.count(b"HTTP/1.1 "), 1, answer)
        self.assertNotIn(b"iam.gserviceaccount.com", answer)

    def test_unknown_caller_is_refused(self):
        # 127.0.0.2 is no pod of the default world: never the demo pod's identity.
        resp, body = get(self.wims.metadata, "/computeMetadata/v1/instance/service-accounts/default/token",
                         FLAVOR, source="127.0.0.2")
        self.assertEqual(resp.status, 403, body)
        self.assertNotIn(b"access_token", body)

    def test_token_command_mints_a_reviewable_token(self):
        r = run("token", "default/demo", "--audience", "sts.amazonaws.com", "--duration", "15m", "--pod", "demo",
                "--cloud", "http://" + self.wims.cloud, "--admin-token-file",
                os.path.join(self.wims.dir, "state", "admin-token"))
        self.assertEqual(r.returncode, 0, r.stderr)
        token = r.stdout.strip()
        claims = jwt_claims(token)
        self.assertEqual(claims["sub"], "system:serviceaccount:default:demo")
        self.assertEqual(claims["aud"], ["sts.amazonaws.com"])
        self.assertEqual(claims["exp"] - claims["iat"], 900)
        self.assertEqual(claims["kubernetes.io"]["pod"]["name"], "demo")
        status, body = self.wims.cloud_request(
            "POST", "/apis/authentication.k8s.io/v1/tokenreviews",
            body={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
                  "spec": {"token": token, "audiences": ["sts.amazonaws.com"]}}, token=self.wims.admin_token)
        self.assertEqual(status, 201, body)
        self.assertTrue(json.loads(body)["status"]["authenticated"])
        r = run("token", "default/nosuch", "--audience", "x", "--cloud", "http://" + self.wims.cloud,
                "--admin-token-file", os.path.join(self.wims.dir, "state", "admin-token"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("nosuch", r.stderr)

    def test_metrics_count_requests(self):
        get(self.wims.metadata, "/computeMetadata/v1/project/project-id", FLAVOR)
        resp, body = get(self.wims.ready["admin"], "/metrics")
        self.assertEqual(resp.status, 200)
        text = body.decode()
        self.assertIn("wims_http_requests_total", text)
        self.assertIn("wims_http_request_duration_seconds_bucket", text)


class Ipv6AndRestartTest(unittest.TestCase):
    def test_dual_stack_listener_and_state_survives_restart(self):
        state = tempfile.mkdtemp(prefix="wims-state-")
        ready_path = os.path.join(state, "..", os.path.basename(state) + "-ready.json")

        def start():
            proc = subprocess.Popen([WIMS_BIN, "up", "--metadata-addr", "[::]:0", "--cloud-addr", "[::1]:0",
                                     "--admin-addr", "127.0.0.1:0", "--state-dir", state,
                                     "--ready-file", ready_path], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            for _ in range(600):
                if os.path.exists(ready_path):
                    break
                time.sleep(0.05)
            with open(ready_path) as f:
                return proc, json.load(f)

        def stop(proc):
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(timeout=20), 0)
            self.assertFalse(os.path.exists(ready_path))

        proc, ready = start()
        try:
            port = ready["metadata"].rsplit(":", 1)[1]
            # The demo pod is 127.0.0.1 and ::1: both families reach the [::] listener and are identified.
            for host in ("127.0.0.1", "[::1]"):
                resp, body = get(host + ":" + port, "/computeMetadata/v1/instance/service-accounts/default/email",
                                 FLAVOR)
                self.assertEqual((resp.status, body), (200, b"demo@wims-local.iam.gserviceaccount.com"))
            resp, jwks1 = get(ready["cloud"], "/oidc/wims/openid/v1/jwks")
            self.assertEqual(resp.status, 200)
        finally:
            stop(proc)
        proc, ready = start()
        try:
            resp, jwks2 = get(ready["cloud"], "/oidc/wims/openid/v1/jwks")
            kids1 = {k["kid"] for k in json.loads(jwks1)["keys"]}
            kids2 = {k["kid"] for k in json.loads(jwks2)["keys"]}
            self.assertEqual(kids1, kids2)
        finally:
            stop(proc)


if __name__ == "__main__":
    unittest.main(verbosity=2)
