#!/usr/bin/env bash
# Peak RSS of the pod index (reflector + index, client side only; the fake API server runs in a child
# process). Usage: bench/kube_index/run.sh [path/to/kube_index_bench]
# Build: cmake -S . -B build -G Ninja -DWIMS_BUILD_BENCH=ON && cmake --build build --target kube_index_bench
set -euo pipefail
bench="${1:-build/bench/kube_index/kube_index_bench}"
for args in "--service-accounts 1000 --pods-on-node 110" \
            "--service-accounts 100000 --pods-on-node 110" \
            "--service-accounts 1000 --pods-on-node 10000" \
            "--service-accounts 10000 --pods-on-node 10000"; do
  # shellcheck disable=SC2086
  "$bench" $args
done
