#!/usr/bin/env bash
# Quick start: install what is missing, build, and run `wims up` on the embedded default world.
# Any arguments are passed to `wims up` (e.g. --config examples/gke-two-namespaces.yaml).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --build-only
scripts/build.sh --target wims -DWIMS_BUILD_TESTS=OFF -DWIMS_BUILD_BENCH=OFF
exec build/wims up "$@"
