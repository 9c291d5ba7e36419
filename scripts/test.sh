#!/usr/bin/env bash
# Builds and runs every test:
#   1. installs missing Debian packages and the pinned npm test clients (tests/clients/node, lockfile), and
#      checks the formatting (clang-format, Google base, 100 columns);
#   2. builds wims, its tools and the system-test binaries (RelWithDebInfo, -Wall -Wextra -Werror) and
#      runs the integration, real-client and netns tests against them;
#   3. builds the unit tests with ASan+UBSan (-Werror too) and runs them.
# Each test runs once, in the configuration that checks it best: unit tests under the sanitizers,
# system tests against the optimised binary that ships. `cmake --build build` still builds every
# target and `ctest --test-dir build` runs them all, for development.
# Network-namespace tests need root; they skip themselves otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${WIMS_JOBS:-$(nproc)}
start=$(date +%s)

scripts/install-deps.sh
if [[ -f tests/clients/node/package-lock.json ]]; then
  (cd tests/clients/node && npm ci --no-audit --no-fund --loglevel=error)
fi

echo "== format (clang-format, .clang-format)"
mapfile -t sources < <(find src tests bench -name '*.cc' -o -name '*.h' | grep -v node_modules | sort)
clang-format --dry-run --Werror "${sources[@]}"
echo "== module graph (CMake DEPS == include graph, no cycle)"
scripts/check-module-deps.py

echo "== build (werror): wims and the system tests"
scripts/build.sh --target wims_system_tests
echo "== headers (each compiles on its own, -fsyntax-only)"
scripts/check-headers.sh build
echo "== tests (integration, clients, netns)"
ctest --test-dir build --output-on-failure --no-tests=error -j "$jobs" --timeout 300 \
  -L '^(integration|clients|netns)$'

echo "== build (asan+ubsan)"
# -g1: line tables are all ASan/UBSan reports need, and compile faster than full debug info.
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DWIMS_SANITIZE=ON \
  -DWIMS_BUILD_TESTS=ON -DWIMS_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan -j "$jobs" --target wims_unit_tests
echo "== unit tests (asan+ubsan)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure --no-tests=error -j "$jobs" -L unit --timeout 300

echo "== all tests passed in $(( $(date +%s) - start )) s"
