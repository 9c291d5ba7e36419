"""Runs the real `aws` CLI (Debian awscli v2) and boto3 against `wims up`, isolated from the host's AWS setup.

Every call gets a fresh environment: no AWS_* variable from the host, empty config and credentials files, region
us-east-1, one attempt (no retry back-off hides a wrong answer), plus whatever the caller adds.
"""
import json
import os
import re
import subprocess
import tempfile

AWS = "/usr/bin/aws"
CALL_TIMEOUT_S = 60
_ERROR_CODE = re.compile(r"An error occurred \(([A-Za-z0-9.]+)\)")


class AwsResult:
    def __init__(self, proc):
        self.returncode = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr

    @property
    def ok(self):
        return self.returncode == 0

    def json(self):
        return json.loads(self.stdout) if self.stdout.strip() else {}

    def error_code(self):
        """The AWS error code the CLI printed ("SignatureDoesNotMatch"), or None."""
        m = _ERROR_CODE.search(self.stderr)
        return m.group(1) if m else None

    def __repr__(self):
        return "aws exit %d\nstdout: %s\nstderr: %s" % (self.returncode, self.stdout, self.stderr)


class AwsEnv:
    """A private HOME with empty AWS config files; builds isolated environments for the CLI and SDKs."""

    def __init__(self):
        self.home = tempfile.mkdtemp(prefix="wims-aws-home-")
        self.config_file = os.path.join(self.home, "config")
        self.credentials_file = os.path.join(self.home, "credentials")
        for path in (self.config_file, self.credentials_file):
            open(path, "w").close()

    def env(self, **extra):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("AWS_", "GOOGLE_", "AZURE_")) and k not in ("HOME",)}
        env.update({
            "HOME": self.home,
            "AWS_CONFIG_FILE": self.config_file,
            "AWS_SHARED_CREDENTIALS_FILE": self.credentials_file,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_MAX_ATTEMPTS": "1",
            "AWS_PAGER": "",
        })
        env.update({k: v for k, v in extra.items() if v is not None})
        return env

    def run(self, args, endpoint_url=None, **extra_env):
        cmd = [AWS] + list(args) + ["--output", "json"]
        if endpoint_url:
            cmd += ["--endpoint-url", endpoint_url]
        proc = subprocess.run(cmd, env=self.env(**extra_env), capture_output=True, text=True,
                              timeout=CALL_TIMEOUT_S)
        return AwsResult(proc)

    def write(self, name, text):
        path = os.path.join(self.home, name)
        with open(path, "w") as f:
            f.write(text)
        return path


def log_tail(text, lines=200):
    return "\n".join(text.splitlines()[-lines:])


class PrintsWimsLogOnFailure:
    """unittest.TestCase mixin: when a test fails or errors, prints the tail of wims's log to stderr.

    The class sets `wims` (a wims_harness.Wims) or overrides `wims_logs()`.
    """

    wims = None

    def wims_logs(self):
        return self.wims.logs() if self.wims is not None else "(wims not started)"

    def run(self, result=None):
        result = result or self.defaultTestResult()
        before = len(result.failures) + len(result.errors)
        out = super().run(result)
        if len(result.failures) + len(result.errors) > before:
            import sys
            sys.stderr.write("\n---- wims log (last 200 lines) for %s ----\n%s\n---- end of wims log ----\n"
                             % (self.id(), log_tail(self.wims_logs())))
        return out
