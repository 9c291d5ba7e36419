#!/usr/bin/env bash
# Installs the Debian packages that wims needs to build, run and test, when they are missing.
# Idempotent: `apt-get update` runs at most once, and only when something is missing.
# Usage: scripts/install-deps.sh [--build-only]
set -euo pipefail

build_pkgs=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libboost-system1.81-dev
  libssl-dev libabsl-dev libyaml-cpp-dev libspdlog-dev libfmt-dev libsqlite3-dev
  libnftables-dev libcli11-dev
)
test_pkgs=(
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  python3 python3-google-auth python3-requests python3-boto3 awscli
  python3-yaml python3-cryptography clang-format
  nftables iproute2 procps curl nginx-light wrk
)

pkgs=("${build_pkgs[@]}")
[[ "${1:-}" == "--build-only" ]] || pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js may come from another Debian-format source that bundles npm (and conflicts with Debian's npm).
if [[ "${1:-}" != "--build-only" ]] && ! { command -v node && command -v npm; } >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#pkgs[@]} packages present"
  exit 0
fi

SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
