#!/usr/bin/env bash
# Installs every Debian package model-catalog needs to build, test and run.
# Shared by the Makefile, CI and the Dockerfile's build stage, so that a fresh
# Debian bookworm machine needs nothing but this repository.
#
#   scripts/install-deps.sh            build + test toolchain (default)
#   scripts/install-deps.sh --build    only what a Release build needs
set -euo pipefail

build_packages=(
  build-essential cmake ninja-build pkg-config ca-certificates
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler grpc-proto
  libabsl-dev libcurl4-openssl-dev rapidjson-dev
)
test_packages=(
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-grpcio python3-protobuf
  nodejs npm
)

packages=("${build_packages[@]}")
[[ "${1:-}" == "--build" ]] || packages+=("${test_packages[@]}")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# A machine may already have Node.js from elsewhere; Debian's is only needed when none is on PATH.
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=()
  for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || filtered+=("$p"); done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Node.js tools the checks use (buf), pinned by package-lock.json.
if [[ "${1:-}" != "--build" ]]; then
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  if [[ ! -x "$here/node_modules/.bin/buf" ]]; then
    echo "install-deps: installing Node.js tools (npm ci)"
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
