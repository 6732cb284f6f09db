#!/usr/bin/env bash
# Points a go.mod at Debian's Go sources (/usr/share/gocode/src, the golang-*-dev packages), so
# that a modules-mode build needs no network: GOFLAGS=-mod=mod GOPROXY=off go build ./...
#
# Usage: clients/go/debian-modules.sh GO_MOD PLACEHOLDER_DIR
#   GO_MOD           the go.mod to edit (go mod edit -replace ...)
#   PLACEHOLDER_DIR  where to write the placeholder modules (see below); made if missing
#
# Two kinds of replace:
#  - each module Debian packages with its go.mod: replaced by its source folder, whatever
#    version the module graph asks for (Debian has one version of each);
#  - each module the graph names that Debian does not package (or packages without a go.mod):
#    replaced by a placeholder, a folder holding only `module <path>`. grpc 1.33's go.mod
#    predates module graph pruning (it says go 1.11), so Go reads the requirements of every
#    module below it, xDS's and the linters' among them, although the client imports no
#    package of theirs. A placeholder holds no package: were any imported, the build would fail
#    with "no required module provides package", not build something else.
set -euo pipefail
(($# == 2)) || { echo "usage: $0 GO_MOD PLACEHOLDER_DIR" >&2; exit 2; }
go_mod=$1
placeholders=$2
gocode=${MODEL_CATALOG_GOCODE:-/usr/share/gocode/src}

debian_modules=(
  google.golang.org/grpc google.golang.org/protobuf google.golang.org/genproto
  github.com/golang/protobuf github.com/google/go-cmp
  golang.org/x/net golang.org/x/oauth2 golang.org/x/sys golang.org/x/text
)
placeholder_modules=(
  github.com/cncf/udpa/go github.com/envoyproxy/go-control-plane github.com/google/uuid
  github.com/golang/glog cloud.google.com/go/compute/metadata google.golang.org/appengine
  golang.org/x/term golang.org/x/lint golang.org/x/tools golang.org/x/mod honnef.co/go/tools
)

edits=()
for m in "${debian_modules[@]}"; do
  [[ -f "$gocode/$m/go.mod" ]] ||
    { echo "debian-modules: $gocode/$m/go.mod missing: scripts/install-deps.sh --clients" >&2; exit 1; }
  edits+=("-replace=$m=$gocode/$m")
done
mkdir -p "$placeholders"
placeholders=$(cd "$placeholders" && pwd)
for m in "${placeholder_modules[@]}"; do
  mkdir -p "$placeholders/$m"
  printf 'module %s\n' "$m" >"$placeholders/$m/go.mod"
  edits+=("-replace=$m=$placeholders/$m")
done
go mod edit "${edits[@]}" "$go_mod"
