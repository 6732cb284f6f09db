#!/usr/bin/env bash
# Generates the clients' code from proto/ (and the standard gRPC health protocol):
#   python  clients/python/modelcatalog_client/_gen/   message and service stubs
#   go      clients/go/src/modelcatalog/gen/go/        message and service stubs (GOPATH layout)
# The Node.js client loads the .proto files at run time and needs nothing generated.
# Generated code is not committed (each folder's .gitignore); run this after changing proto/.
#
# Usage: clients/generate.sh [python] [go]      (no argument: all of them)
# Needs protoc with grpc_python_plugin (protobuf-compiler, protobuf-compiler-grpc), the
# health proto (grpc-proto), and for Go protoc-gen-go and protoc-gen-go-grpc:
# scripts/install-deps.sh --clients installs them.
set -euo pipefail
clients=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
proto_root="$clients/../proto"
grpc_proto_root=${MODEL_CATALOG_GRPC_PROTO_DIR:-/usr/share/grpc-proto}
protos=(modelcatalog/v1/model.proto modelcatalog/v1/catalog_service.proto)
health=grpc/health/v1/health.proto

generate_python() {
  # The same generator the wheel's build runs (python/setup.py).
  /usr/bin/python3 "$clients/python/generate_stubs.py" "$clients/python/modelcatalog_client/_gen"
  echo "generate: Python stubs in python/modelcatalog_client/_gen"
}

generate_go() {
  local out="$clients/go/src"
  rm -rf "$out/modelcatalog/gen"
  mkdir -p "$out"
  # go_package in the protos is modelcatalog/gen/go/modelcatalog/v1: with GOPATH=clients/go
  # the package lands at that import path.
  protoc -I "$proto_root" --go_out="$out" --go-grpc_out="$out" \
    --plugin=protoc-gen-go="$(command -v protoc-gen-go)" \
    --plugin=protoc-gen-go-grpc="$(command -v protoc-gen-go-grpc)" "${protos[@]}"
  # The client package embeds the shared service config.
  cp "$clients/service_config.json" "$out/modelcatalog/client/service_config.json"
  echo "generate: Go stubs in go/src/modelcatalog/gen/go/modelcatalog/v1"
}

targets=("$@")
((${#targets[@]})) || targets=(python go)
for t in "${targets[@]}"; do
  case "$t" in
    python) generate_python ;;
    go) generate_go ;;
    node) echo "generate: the Node.js client loads proto/ at run time" ;;
    *) echo "usage: $0 [python] [go] [node]" >&2; exit 2 ;;
  esac
done
