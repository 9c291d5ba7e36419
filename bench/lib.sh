# Shared by the bench/*/run.sh scripts (sourced, not run): a wims on loopback port 0, nginx serving a
# static copy of a wims response from "$work/www", and one wrk measurement as a Markdown row's cells.
# The caller sets `wims`, `secs` and `work` (a temporary directory) and sources this file, which installs
# the cleanup trap.

ulimit -n 65536 2>/dev/null || true
cleanup() {
  [[ -n "${wims_pid:-}" ]] && kill "$wims_pid" 2>/dev/null && wait "$wims_pid" 2>/dev/null
  [[ -f "$work/nginx.pid" ]] && kill "$(cat "$work/nginx.pid")" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# Starts `wims up` on loopback port 0 and sets `metadata` to its metadata HOST:PORT.
start_wims() {
  "$wims" up --metadata-addr 127.0.0.1:0 --cloud-addr 127.0.0.1:0 --admin-addr 127.0.0.1:0 \
    --state-dir "$work/state" --ready-file "$work/ready.json" --log-level warn --access-log=false \
    >"$work/wims.log" 2>&1 &
  wims_pid=$!
  for _ in $(seq 1 300); do [[ -f "$work/ready.json" ]] && break; sleep 0.1; done
  [[ -f "$work/ready.json" ]] || { cat "$work/wims.log"; exit 1; }
  metadata=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["metadata"])' \
    "$work/ready.json")
}

# Starts nginx (2 workers, no access log) serving "$work/www" with default type $1; sets `nginx_port`.
start_nginx() {
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
  server { listen 127.0.0.1:$nginx_port; root $work/www; default_type $1; }
}
CONF
  nginx -c "$work/nginx.conf"
  for _ in $(seq 1 50); do [[ -f "$work/nginx.pid" ]] && break; sleep 0.1; done
}

# measure CONNECTIONS HEADER URL BYTES: prints the row's cells "requests/s | p50 | p90 | p99 | BYTES", with
# wrk's non-2xx and socket-error lines after BYTES in parentheses when there are any.
measure() {
  local c=$1 header=$2 url=$3 bytes=$4 threads out errs
  threads=$(( c < 2 ? 1 : 2 ))
  out=$(wrk -t"$threads" -c"$c" -d"${secs}s" --latency -H "$header" "$url")
  errs=$(grep -E "Non-2xx|Socket errors" <<<"$out" | tr '\n' ' ' | tr -s ' ' || true)
  echo "$(awk '/Requests\/sec/ {print $2}' <<<"$out") | $(awk '$1=="50%" {print $2}' <<<"$out") |" \
    "$(awk '$1=="90%" {print $2}' <<<"$out") | $(awk '$1=="99%" {print $2}' <<<"$out") |" \
    "$bytes ${errs:+($errs)}"
}
