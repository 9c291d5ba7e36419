"""Starts the real `wims up` binary on loopback port 0 and reads its ready file; plus the small helpers every
Python test of the real binary shares (a raw HTTP request from a chosen source address, waiting for a ready
file, reading JWT claims).

Used by the client tests and the integration tests (tests/integration/*): each test module starts one wims with
a fresh state directory, drives it with a real SDK or raw HTTP, and stops it. The binary path comes from
$WIMS_BIN (CTest sets it).
"""
import base64
import http.client
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request

READY_TIMEOUT_S = 30


def http_request(hostport, path, headers=None, source=None, method="GET", body=None):
    """One request on a fresh connection to "host:port" (IPv6 hosts in brackets), from local address `source`
    when given (identity is decided by it). Returns (http.client.HTTPResponse, body bytes)."""
    host, port = hostport.rsplit(":", 1)
    conn = http.client.HTTPConnection(host.strip("[]"), int(port), timeout=10,
                                      source_address=(source, 0) if source else None)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp, resp.read()
    finally:
        conn.close()


def jwt_claims(token):
    """The payload of a compact JWS, unverified."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def wait_for_json_file(path, proc, what, log_path, timeout=READY_TIMEOUT_S):
    """Waits for the ready file a process writes once it listens, and returns it parsed; raises with the
    process's log when it exits first or the time is up (the process is then left to the caller to stop)."""
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if proc.poll() is not None:
            raise RuntimeError("%s exited early:\n%s" % (what, open(log_path).read()))
        if time.monotonic() > deadline:
            raise RuntimeError("%s not ready in time:\n%s" % (what, open(log_path).read()))
        time.sleep(0.05)
    with open(path) as f:
        return json.load(f)


class Process:
    """A binary under test: started with stdout and stderr in `log_path`, ready once it has written the JSON
    `ready_file` (parsed into `self.ready`), stopped with SIGTERM and killed after `stop_timeout` seconds."""

    def __init__(self, args, what, ready_file, log_path, env=None, stop_timeout=15):
        self.what = what
        self.ready_file = ready_file
        self.log_path = log_path
        self.stop_timeout = stop_timeout
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        try:
            self.ready = wait_for_json_file(ready_file, self.proc, what, log_path)
        except RuntimeError:
            self.stop()
            raise

    def logs(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        """Stops the process (once); returns its exit code, or None when it had to be killed."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.log.close()
                return None
        self.log.close()
        return self.proc.returncode


class Wims(Process):
    def __init__(self, extra_args=(), config=None, metadata_addr="127.0.0.1:0"):
        """`extra_args` are appended to `wims up` (e.g. ["--imds-tokens", "required"]); `metadata_addr` is the
        metadata listener (e.g. "[::1]:0" for the IPv6 endpoint)."""
        self.dir = tempfile.mkdtemp(prefix="wims-client-test-")
        ready_file = os.path.join(self.dir, "ready.json")
        args = [os.environ["WIMS_BIN"], "up",
                "--metadata-addr", metadata_addr, "--cloud-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0",
                "--state-dir", os.path.join(self.dir, "state"), "--ready-file", ready_file]
        if config:
            args += ["--config", config]
        args += list(extra_args)
        super().__init__(args, "wims up", ready_file, os.path.join(self.dir, "wims.log"))
        self.endpoints = self.ready["endpoints"]
        self.metadata = self.ready["metadata"]
        self.cloud = self.ready["cloud"]
        self.admin_token = self.ready.get("admin_token")

    def stop(self):
        code = super().stop()
        shutil.rmtree(self.dir, ignore_errors=True)
        return code

    def cloud_request(self, method, path, body=None, token=None, headers=None):
        """A request to the local cloud; returns (status, bytes)."""
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        req = urllib.request.Request("http://" + self.cloud + path, data=data, method=method)
        if token:
            req.add_header("Authorization", "Bearer " + token)
        if body is not None and not isinstance(body, bytes):
            req.add_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()


def clean_sdk_env(home):
    """Removes credentials an SDK could pick up instead of the metadata server."""
    for k in list(os.environ):
        if k.startswith(("GOOGLE_", "GCLOUD_", "CLOUDSDK_", "AWS_", "AZURE_", "IDENTITY_", "MSI_", "IMDS_")):
            del os.environ[k]
        if k in ("GCE_METADATA_HOST", "GCE_METADATA_IP", "GCE_METADATA_ROOT", "NO_GCE_CHECK"):
            del os.environ[k]
    os.environ["HOME"] = home
    os.environ["CLOUDSDK_CONFIG"] = os.path.join(home, "gcloud")
