#!/usr/bin/env bash
# Configures and builds wims in build/ (RelWithDebInfo, -Werror). Extra args go to the CMake configure step.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${WIMS_JOBS:-$(nproc)}
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWIMS_WERROR=ON "$@" >/dev/null
cmake --build build -j "$jobs"
