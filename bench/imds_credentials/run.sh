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
ulimit -n 65536 || true
cleanup() {
  [[ -n "${wims_pid:-}" ]] && kill "$wims_pid" 2>/dev/null && wait "$wims_pid" 2>/dev/null
  [[ -f "$work/nginx.pid" ]] && kill "$(cat "$work/nginx.pid")" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

"$wims" up --metadata-addr 127.0.0.1:0 --cloud-addr 127.0.0.1:0 --admin-addr 127.0.0.1:0 \
  --state-dir "$work/state" --ready-file "$work/ready.json" --log-level warn --access-log=false \
  >"$work/wims.log" 2>&1 &
wims_pid=$!
for _ in $(seq 1 300); do [[ -f "$work/ready.json" ]] && break; sleep 0.1; done
[[ -f "$work/ready.json" ]] || { cat "$work/wims.log"; exit 1; }
metadata=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["metadata"])' "$work/ready.json")

# IMDSv2: the session token once, the role name, then warm the credentials cache.
token=$(curl -sf -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 21600' "http://$metadata/latest/api/token")
role=$(curl -sf -H "X-aws-ec2-metadata-token: $token" "http://$metadata/latest/meta-data/iam/security-credentials/")
imds_path=/latest/meta-data/iam/security-credentials/$role
curl -sf -H "X-aws-ec2-metadata-token: $token" "http://$metadata$imds_path" >"$work/body"
gce_path=/computeMetadata/v1/instance/service-accounts/default/token
curl -sf -H 'Metadata-Flavor: Google' "http://$metadata$gce_path" >"$work/gce_body"
mkdir -p "$work/www${imds_path%/*}"
cp "$work/body" "$work/www$imds_path"
# nginx workers run as an unprivileged user: let them traverse the temporary directory and read the body.
chmod 711 "$work"; chmod -R a+rX "$work/www"
nginx_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/nginx.conf" <<CONF
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$nginx_port; root $work/www; default_type text/plain; }
}
CONF
nginx -c "$work/nginx.conf"
for _ in $(seq 1 50); do [[ -f "$work/nginx.pid" ]] && break; sleep 0.1; done

echo "| server | path | connections | requests/s | p50 | p90 | p99 | body bytes |"
echo "|---|---|---|---|---|---|---|---|"
for c in 1 100 1000; do
  t=$(( c < 2 ? 1 : 2 ))
  for target in wims-imds wims-gce nginx; do
    case $target in
      wims-imds) url="http://$metadata$imds_path"; header="X-aws-ec2-metadata-token: $token"; what="IMDSv2 credentials"
                 bytes=$(wc -c <"$work/body") ;;
      wims-gce)  url="http://$metadata$gce_path"; header='Metadata-Flavor: Google'; what="GCE token"
                 bytes=$(wc -c <"$work/gce_body") ;;
      nginx)     url="http://127.0.0.1:$nginx_port$imds_path"; header='X-Bench: static'; what="static file"
                 bytes=$(wc -c <"$work/body") ;;
    esac
    out=$(wrk -t"$t" -c"$c" -d"${secs}s" --latency -H "$header" "$url")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1=="50%" {print $2}' <<<"$out"); p90=$(awk '$1=="90%" {print $2}' <<<"$out")
    p99=$(awk '$1=="99%" {print $2}' <<<"$out")
    errs=$(grep -E "Non-2xx|Socket errors" <<<"$out" | tr '\n' ' ' | tr -s ' ' || true)
    echo "| ${target%%-*} | $what | $c | $rps | $p50 | $p90 | $p99 | $bytes ${errs:+($errs)}|"
  done
done
