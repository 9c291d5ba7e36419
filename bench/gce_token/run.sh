#!/usr/bin/env bash
# Cached GCE token requests per second and latency percentiles under 1, 100 and 1,000 concurrent keep-alive
# connections, side by side with nginx serving a static body of the same size (the practical ceiling here).
#
# Usage: bench/gce_token/run.sh [build/wims] [seconds per run, default 10]
# Prints a Markdown table; docs/benchmarks.md records the figures with the machine they came from.
set -euo pipefail
cd "$(dirname "$0")/../.."
wims=${1:-build/wims}
secs=${2:-10}
work=$(mktemp -d)
source bench/lib.sh
start_wims
path=/computeMetadata/v1/instance/service-accounts/default/token
# Warm the cache, and size the static body like the token response.
curl -sf -H 'Metadata-Flavor: Google' "http://$metadata$path" >"$work/body"
mkdir -p "$work/www${path%/*}"
cp "$work/body" "$work/www$path"
start_nginx application/json

echo "| server | connections | requests/s | p50 | p90 | p99 | body bytes |"
echo "|---|---|---|---|---|---|---|"
for c in 1 100 1000; do
  for target in wims nginx; do
    if [[ $target == wims ]]; then url="http://$metadata$path"; else url="http://127.0.0.1:$nginx_port$path"; fi
    echo "| $target | $c | $(measure "$c" 'Metadata-Flavor: Google' "$url" "$(wc -c <"$work/body")")|"
  done
done
