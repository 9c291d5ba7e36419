#!/usr/bin/env bash
# Configures and builds wims in build/ (RelWithDebInfo, -Werror, unity build).
# Usage: scripts/build.sh [--target T]... [-DVAR=VALUE]...
#   --target T   build T (repeatable; default: every target)
#   -D...        CMake configure settings; tests and benchmarks are on unless one of these turns
#                them off (every run states them, so a quick start's -DWIMS_BUILD_TESTS=OFF never
#                sticks to a later test run).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${WIMS_JOBS:-$(nproc)}
targets=()
settings=()
while (($#)); do
  case "$1" in
    --target) targets+=(--target "$2"); shift 2 ;;
    *) settings+=("$1"); shift ;;
  esac
done
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWIMS_WERROR=ON \
  -DWIMS_BUILD_TESTS=ON -DWIMS_BUILD_BENCH=ON ${settings[@]+"${settings[@]}"} >/dev/null
cmake --build build -j "$jobs" ${targets[@]+"${targets[@]}"}
