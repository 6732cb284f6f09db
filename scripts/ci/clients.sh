#!/usr/bin/env bash
# Checks the clients in other languages against the real binaries:
#   1. generates them from proto/ (clients/generate.sh);
#   2. Python: the unittest suite of clients/python (starts hub-emulator and catalog-server);
#   3. Node.js: npm ci and the node --test suite of clients/node (the same);
#   4. Go: go vet, go build and go test (modelcatalog/client, which starts hub-emulator and
#      catalog-server) in GOPATH mode, then the examples against a catalog-server this script
#      starts with caller tokens: list-models lists and searches the catalog (and is refused
#      without a token), cheapest-image-models prints the three cheapest image models.
#
# Usage: scripts/ci/clients.sh
#   MODEL_CATALOG_BIN_DIR  the built binaries (default build/bin: `make build` first)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bin_dir=$(cd "${MODEL_CATALOG_BIN_DIR:-$repo/build/bin}" 2>/dev/null && pwd) ||
  { echo "clients: no ${MODEL_CATALOG_BIN_DIR:-build/bin}: run make build first" >&2; exit 1; }
for b in catalog-server hub-emulator; do
  [[ -x "$bin_dir/$b" ]] || { echo "clients: $bin_dir/$b missing: run make build first" >&2; exit 1; }
done
export MODEL_CATALOG_BIN_DIR="$bin_dir"

started=$SECONDS
step() { echo "clients: [$((SECONDS - started))s] $*"; }
passed=0
failed=0
check() {  # check NAME COMMAND...: runs one check, counts it, keeps going on failure
  local name=$1 t=$SECONDS
  shift
  step "$name"
  if "$@"; then
    passed=$((passed + 1))
    step "$name: ok ($((SECONDS - t))s)"
  else
    failed=$((failed + 1))
    step "$name: FAILED"
  fi
}

"$repo/scripts/install-deps.sh" --clients
"$repo/clients/generate.sh"

python_tests() {
  /usr/bin/python3 -m unittest discover -s "$repo/clients/python/tests" -v
}

node_tests() {
  (cd "$repo/clients/node" && npm ci --no-audit --no-fund --loglevel=error && node --test test/)
}

go_env() {
  GO111MODULE=off GOPATH="$repo/clients/go:/usr/share/gocode" GOFLAGS= \
    GOCACHE="${GOCACHE:-/var/tmp/model-catalog-go-cache}" "$@"
}

go_build() {
  go_env go vet modelcatalog/client modelcatalog/examples/list-models \
    modelcatalog/examples/cheapest-image-models &&
    go_env go build -o "$work/list-models" modelcatalog/examples/list-models &&
    go_env go build -o "$work/cheapest-image-models" modelcatalog/examples/cheapest-image-models
}

go_tests() {
  go_env go test -count=1 -v modelcatalog/client
}

# start OUT ARGV...: starts a server in the background and writes the address of its
# "listening on" line to OUT.address. Not to be called in $(...): the pid must be recorded
# in this shell for the cleanup.
pids=()
start() {
  local out=$1
  shift
  "$@" >"$out" 2>"$out.err" &
  pids+=("$!")
  for _ in $(seq 1 200); do
    if grep -qs ' listening on ' "$out"; then
      sed -n 's/.* listening on //p' "$out" | head -n 1 >"$out.address"
      return 0
    fi
    kill -0 "${pids[-1]}" 2>/dev/null || { cat "$out.err" >&2; return 1; }
    sleep 0.05
  done
  return 1
}

go_example() {
  local hub server expected actual
  printf 'go-token\n' >"$work/tokens"
  printf 'go-token\n' >"$work/token"
  start "$work/hub.out" "$bin_dir/hub-emulator" --listen=127.0.0.1:0 || return 1
  hub=$(cat "$work/hub.out.address")
  start "$work/server.out" env MODEL_CATALOG_METRICS_LISTEN=127.0.0.1:0 MODEL_CATALOG_HTTP_LISTEN=127.0.0.1:0 \
    "$bin_dir/catalog-server" --listen=127.0.0.1:0 --hub_url="$hub/api/ai" --sync_interval=1h \
    --auth_tokens_file="$work/tokens" || return 1
  server=$(cat "$work/server.out.address")
  expected=$(/usr/bin/python3 -c 'import json, sys, urllib.request
data = json.load(urllib.request.urlopen(sys.argv[1] + "/_control/models"))["data"]
print("\n".join(sorted(m["id"] for m in data)))' "$hub")
  actual=$(GRPC_GO_RETRY=on "$work/list-models" -server="$server" -token_file="$work/token" |
    awk '{print $1}')
  [[ -n "$expected" && "$actual" == "$expected" ]] ||
    { echo "Go example listed:"; echo "$actual"; echo "expected:"; echo "$expected"; return 1; } >&2
  [[ "$("$work/list-models" -server="$server" -token_file="$work/token" -search=ÉLAN |
    awk '{print $1}')" == elan-vision-1 ]] ||
    { echo "Go example: search for ÉLAN did not find elan-vision-1" >&2; return 1; }
  # Without the token: refused.
  if "$work/list-models" -server="$server" 2>"$work/anonymous.err"; then
    echo "Go example: listed without a token" >&2
    return 1
  fi
  grep -q Unauthenticated "$work/anonymous.err" || { cat "$work/anonymous.err" >&2; return 1; }

  # The three cheapest image models, computed here from the hub's catalog: models with an
  # image output, by price per image (models without one last), then id; and how many.
  expected=$(/usr/bin/python3 -c 'import json, sys, urllib.request
data = json.load(urllib.request.urlopen(sys.argv[1] + "/_control/models"))["data"]
images = [m for m in data if "image" in ((m.get("capabilities") or {}).get("output") or [])]
price = lambda m: (m.get("pricing") or {}).get("cost_per_image")
images.sort(key=lambda m: (price(m) is None, price(m) or 0, m["id"]))
print("\n".join(m["id"] for m in images[:3]))
print(f"3 of {len(images)} image models")' "$hub")
  actual=$("$work/cheapest-image-models" -server="$server" -token_file="$work/token" \
    2>"$work/cheapest.err" | awk '{print $1}'; cat "$work/cheapest.err")
  [[ "$actual" == "$expected" && "$expected" != *"of 0 image"* ]] ||
    { echo "Go cheapest-image-models printed:"; echo "$actual"; echo "expected:"; echo "$expected"; return 1; } >&2
}

work=$(mktemp -d)
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

check "Python client tests" python_tests
check "Node.js client tests" node_tests
check "Go client build (vet, build)" go_build
check "Go client tests (go test)" go_tests
if [[ -x "$work/list-models" && -x "$work/cheapest-image-models" ]]; then
  check "Go examples against catalog-server" go_example
else
  failed=$((failed + 1))
fi

step "done"
# The closing line CI reads: exactly "<word>: N passed, N failed".
echo "clients: $passed passed, $failed failed"
((failed == 0))
