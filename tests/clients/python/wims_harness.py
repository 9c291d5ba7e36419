"""Starts the real `wims up` binary on loopback port 0 and reads its ready file.

Used by the client tests: each test module starts one wims with a fresh state directory, drives it with a
real SDK, and stops it. The binary path comes from $WIMS_BIN (CTest sets it).
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request

READY_TIMEOUT_S = 30


class Wims:
    def __init__(self, extra_args=(), config=None, metadata_addr="127.0.0.1:0"):
        """`extra_args` are appended to `wims up` (e.g. ["--imds-tokens", "required"]); `metadata_addr` is the
        metadata listener (e.g. "[::1]:0" for the IPv6 endpoint)."""
        self.dir = tempfile.mkdtemp(prefix="wims-client-test-")
        self.ready_file = os.path.join(self.dir, "ready.json")
        self.log_path = os.path.join(self.dir, "wims.log")
        args = [os.environ["WIMS_BIN"], "up",
                "--metadata-addr", metadata_addr, "--cloud-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0",
                "--state-dir", os.path.join(self.dir, "state"), "--ready-file", self.ready_file]
        if config:
            args += ["--config", config]
        args += list(extra_args)
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not os.path.exists(self.ready_file):
            if self.proc.poll() is not None:
                raise RuntimeError("wims exited early:\n" + self.logs())
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("wims not ready in time:\n" + self.logs())
            time.sleep(0.05)
        with open(self.ready_file) as f:
            self.ready = json.load(f)
        self.endpoints = self.ready["endpoints"]
        self.metadata = self.ready["metadata"]
        self.cloud = self.ready["cloud"]
        self.admin_token = self.ready.get("admin_token")

    def logs(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

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
