#!/usr/bin/env bash
# Cached AWS IMDS credentials requests per second and latency percentiles under 1, 100 and 1,000 concurrent
# keep-alive connections, beside the GCE token path of the same wims and nginx serving a static body of the
# IMDS response's size (the practical ceiling here). Same load tool and method as bench/gce_token/run.sh.
#
# The IMDS path is the IMDSv2 one the SDKs take: one `PUT /latest/api/token` (TTL 21600) before the run, then
# every request is `GET /latest/meta-data/iam/security-credentials/ROLE` with `X-aws-ec2-metadata-token`
# (the token is verified and its pod binding checked on every request; the credentials come from the cache,
# warmed by one GET before the run).
#
# Usage: bench/imds_credentials/run.sh [build/wims] [seconds per run, default 10]
# Prints a Markdown table; docs/benchmarks.md records the figures with the machine they came from.
set -euo pipefail
cd "$(dirname "$0")/../.."
wims=${1:-build/wims}
secs=${2:-10}
work=$(mktemp -d)
source bench/lib.sh
start_wims

# IMDSv2: the session token once, the role name, then warm the credentials cache.
token=$(curl -sf -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 21600' "http://$metadata/latest/api/token")
role=$(curl -sf -H "X-aws-ec2-metadata-token: $token" "http://$metadata/latest/meta-data/iam/security-credentials/")
imds_path=/latest/meta-data/iam/security-credentials/$role
curl -sf -H "X-aws-ec2-metadata-token: $token" "http://$metadata$imds_path" >"$work/body"
gce_path=/computeMetadata/v1/instance/service-accounts/default/token
curl -sf -H 'Metadata-Flavor: Google' "http://$metadata$gce_path" >"$work/gce_body"
mkdir -p "$work/www${imds_path%/*}"
cp "$work/body" "$work/www$imds_path"
start_nginx text/plain

echo "| server | path | connections | requests/s | p50 | p90 | p99 | body bytes |"
echo "|---|---|---|---|---|---|---|---|"
for c in 1 100 1000; do
  for target in wims-imds wims-gce nginx; do
    case $target in
      wims-imds) url="http://$metadata$imds_path"; header="X-aws-ec2-metadata-token: $token"; what="IMDSv2 credentials"
                 bytes=$(wc -c <"$work/body") ;;
      wims-gce)  url="http://$metadata$gce_path"; header='Metadata-Flavor: Google'; what="GCE token"
                 bytes=$(wc -c <"$work/gce_body") ;;
      nginx)     url="http://127.0.0.1:$nginx_port$imds_path"; header='X-Bench: static'; what="static file"
                 bytes=$(wc -c <"$work/body") ;;
    esac
    echo "| ${target%%-*} | $what | $c | $(measure "$c" "$header" "$url" "$bytes")|"
  done
done
