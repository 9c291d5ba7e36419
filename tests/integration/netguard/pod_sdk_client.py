"""Runs INSIDE a pod network namespace: real SDK clients with no endpoint override get this pod's credentials
from the default metadata endpoint (169.254.169.254, or AWS's IPv6 fd00:ec2::254 through botocore's own
IPv6 endpoint mode), then check them against the local cloud, whose URL is the only argument.

Prints one JSON object:
  google:       google.auth.default() -> compute_engine.Credentials via 169.254.169.254 / metadata.google.internal
                (email, project, and the tokeninfo email of the access token it got)
  google_ipv6:  the GCE metadata protocol over [fd00:ec2::254] (plain HTTP: google-auth has no IPv6 mode)
  aws:          boto3 default chain -> IMDS at 169.254.169.254 (IMDSv2), then sts:GetCallerIdentity
  aws_ipv6:     the same with AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6 (boto3 -> [fd00:ec2::254])
"""
import json
import os
import sys
import tempfile
import urllib.request

CLOUD = sys.argv[1]


def clean_env():
    for k in list(os.environ):
        if k.startswith(("GOOGLE_", "GCLOUD_", "CLOUDSDK_", "AWS_", "GCE_")) or k == "NO_GCE_CHECK":
            del os.environ[k]
    home = tempfile.mkdtemp(prefix="wims-pod-home-")
    os.environ["HOME"] = home
    os.environ["CLOUDSDK_CONFIG"] = os.path.join(home, "gcloud")  # no gcloud user credentials
    os.environ["AWS_CONFIG_FILE"] = os.path.join(home, "aws-config")  # absent: no profile
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.path.join(home, "aws-credentials")


def get_json(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.read().decode()


def google_default():
    import google.auth
    import google.auth.compute_engine
    import google.auth.transport.requests
    request = google.auth.transport.requests.Request()
    credentials, project = google.auth.default()
    assert isinstance(credentials, google.auth.compute_engine.Credentials), type(credentials)
    credentials.refresh(request)
    info = json.loads(get_json(CLOUD + "/oauth2/v3/tokeninfo?access_token=" + credentials.token))
    return {"email": credentials.service_account_email, "project": project, "token_email": info.get("email")}


def google_ipv6():
    base = "http://[fd00:ec2::254]/computeMetadata/v1/instance/service-accounts/default/"
    h = {"Metadata-Flavor": "Google"}
    token = json.loads(get_json(base + "token", h))["access_token"]
    info = json.loads(get_json(CLOUD + "/oauth2/v3/tokeninfo?access_token=" + token))
    return {"email": get_json(base + "email", h).strip(), "token_email": info.get("email")}


def aws(endpoint_mode=None):
    import boto3
    if endpoint_mode:
        os.environ["AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"] = endpoint_mode
    else:
        os.environ.pop("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", None)
    session = boto3.Session(region_name="us-east-1")
    credentials = session.get_credentials()
    if credentials is None:
        raise RuntimeError("boto3 found no credentials")
    frozen = credentials.get_frozen_credentials()
    me = session.client("sts", endpoint_url=CLOUD + "/aws/").get_caller_identity()
    return {"method": credentials.method, "access_key": frozen.access_key, "arn": me["Arn"]}


def main():
    clean_env()
    out = {}
    for name, fn in (("google", google_default), ("google_ipv6", google_ipv6), ("aws", aws),
                     ("aws_ipv6", lambda: aws("IPv6"))):
        try:
            out[name] = fn()
        except Exception as e:  # report every client, not just the first failure
            out[name] = {"error": "%s: %s" % (type(e).__name__, e)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
