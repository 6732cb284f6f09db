#!/usr/bin/env bash
# Checks the clients as their users get them: each package is built, installed outside the
# repository (a temporary folder) and run against a real catalog-server.
#   1. generates the stubs from proto/ (clients/generate.sh);
#   2. Python: the unittest suite of clients/python; then the wheel, built offline, installed
#      into a fresh virtual environment, runs the examples;
#   3. Node.js: npm ci and the node --test suite of clients/node; then the `npm pack` tarball,
#      installed into a scratch project, runs the examples;
#   4. Go, in modules mode without network (clients/go/debian-modules.sh): go vet and go test
#      of the module; then a program of its own module that requires it builds the examples:
#      list-models lists and searches the catalog (and is refused without a token),
#      cheapest-image-models prints the three cheapest image models, watch-models watches
#      the image models (below);
#   5. C++: `cmake --install` into a prefix; the installed binaries print the version; a program
#      built against the installed package (find_package(ModelCatalogApi)) runs the example.
# Every example's "three cheapest image models" is checked against those computed here from
# the hub emulator's catalog, and every package's version against VERSION. Every language's
# watch-models example (Python and Node.js installed, Go built in the program above) watches
# the image models until current twice, keeping its versions in a file: the first run gets
# one INITIAL event per image model, the second, from the versions saved, the marker alone.
#
# Usage: scripts/ci/clients.sh
#   MODEL_CATALOG_BIN_DIR    the built binaries (default build/bin: `make build` first)
#   MODEL_CATALOG_BUILD_DIR  the build tree `cmake --install` reads (default: the binaries' parent)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bin_dir=$(cd "${MODEL_CATALOG_BIN_DIR:-$repo/build/bin}" 2>/dev/null && pwd) ||
  { echo "clients: no ${MODEL_CATALOG_BIN_DIR:-build/bin}: run make build first" >&2; exit 1; }
for b in catalog-server hub-emulator; do
  [[ -x "$bin_dir/$b" ]] || { echo "clients: $bin_dir/$b missing: run make build first" >&2; exit 1; }
done
build_dir=$(cd "${MODEL_CATALOG_BUILD_DIR:-$bin_dir/..}" && pwd)
export MODEL_CATALOG_BIN_DIR="$bin_dir"
version=$(cat "$repo/VERSION")

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

# Everything installed goes here, outside the repository.
work=$(mktemp -d)
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# start OUT ARGV...: starts a server in the background and writes the address of its
# "listening on" line to OUT.address. Not to be called in $(...): the pid must be recorded
# in this shell for the cleanup.
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

# One hub emulator; a catalog-server open to all, and one that wants caller tokens.
printf 'client-token\n' >"$work/tokens"
printf 'client-token\n' >"$work/token"
start "$work/hub.out" "$bin_dir/hub-emulator" --listen=127.0.0.1:0
hub=$(cat "$work/hub.out.address")
server_env=(env MODEL_CATALOG_METRICS_LISTEN=127.0.0.1:0 MODEL_CATALOG_HTTP_LISTEN=127.0.0.1:0)
start "$work/open.out" "${server_env[@]}" "$bin_dir/catalog-server" --listen=127.0.0.1:0 \
  --hub_url="$hub/api/ai" --sync_interval=1h
server=$(cat "$work/open.out.address")
start "$work/tokens.out" "${server_env[@]}" "$bin_dir/catalog-server" --listen=127.0.0.1:0 \
  --hub_url="$hub/api/ai" --sync_interval=1h --auth_tokens_file="$work/tokens"
token_server=$(cat "$work/tokens.out.address")

# The three cheapest image models, computed here from the hub's catalog: models with an image
# output, by price per image (models without one last), then id; and how many.
expected_cheapest=$(/usr/bin/python3 -c 'import json, sys, urllib.request
data = json.load(urllib.request.urlopen(sys.argv[1] + "/_control/models"))["data"]
images = [m for m in data if "image" in ((m.get("capabilities") or {}).get("output") or [])]
price = lambda m: (m.get("pricing") or {}).get("cost_per_image")
images.sort(key=lambda m: (price(m) is None, price(m) or 0, m["id"]))
print("\n".join(m["id"] for m in images[:3]))
print(f"3 of {len(images)} image models")' "$hub")
[[ "$expected_cheapest" != *"of 0 image"* ]] || { echo "clients: the hub has no image models" >&2; exit 1; }

# cheapest NAME COMMAND...: COMMAND prints the three cheapest image models (ids first on
# stdout, the count on stderr), as computed above.
cheapest() {
  local name=$1 actual
  shift
  actual=$("$@" 2>"$work/cheapest.err" | awk '{print $1}'; cat "$work/cheapest.err")
  [[ "$actual" == "$expected_cheapest" ]] ||
    { echo "$name printed:"; echo "$actual"; echo "expected:"; echo "$expected_cheapest"; return 1; } >&2
}

# The image models' ids, sorted, as computed here from the hub's catalog.
expected_images=$(/usr/bin/python3 -c 'import json, sys, urllib.request
data = json.load(urllib.request.urlopen(sys.argv[1] + "/_control/models"))["data"]
print("\n".join(sorted(m["id"] for m in data
                       if "image" in ((m.get("capabilities") or {}).get("output") or []))))' "$hub")

# watch_example NAME COMMAND...: COMMAND, a watch-models example given --server,
# --filter=capabilities.output:image, --versions=FILE and --until_current, prints an INITIAL
# line per image model; run again from the versions it saved, nothing but its marker.
watch_example() {
  local name=$1 versions="$work/$1.versions" first second held
  shift
  held="$(wc -l <<<"$expected_images") models held"
  set -- "$@" --server="$server" --filter=capabilities.output:image --versions="$versions" \
    --until_current
  rm -f "$versions"
  first=$("$@" 2>"$work/watch.err" | awk '$1 == "INITIAL" {print $2}' | sort) &&
    [[ "$first" == "$expected_images" && "$(cat "$work/watch.err")" == "$held" ]] ||
    { echo "$name printed:"; echo "$first"; cat "$work/watch.err"; echo "expected:";
      echo "$expected_images"; echo "$held"; return 1; } >&2
  second=$("$@" 2>"$work/watch.err") &&
    [[ -z "$second" && "$(cat "$work/watch.err")" == "$held" ]] ||
    { echo "$name, from its saved versions, printed:"; echo "$second"; cat "$work/watch.err";
      return 1; } >&2
}

# --- Python ---
python_tests() {
  /usr/bin/python3 -m unittest discover -s "$repo/clients/python/tests" -v
}

python_package() {
  local venv="$work/python/venv" installed
  mkdir -p "$work/python/app"
  # Offline: Debian's setuptools and wheel build it; the stubs are generated while it builds.
  /usr/bin/python3 -m pip wheel --quiet --no-deps --no-build-isolation "$repo/clients/python" \
    -w "$work/python/dist" || return 1
  # --system-site-packages: the requirements (grpcio, protobuf) are Debian's.
  /usr/bin/python3 -m venv --system-site-packages "$venv" &&
    "$venv/bin/pip" install --quiet --no-index "$work/python/dist/modelcatalog_client-$version-py3-none-any.whl" ||
    return 1
  cp "$repo/clients/python/examples/cheapest_image_models.py" \
    "$repo/clients/python/examples/watch_models.py" "$work/python/app/"
  installed=$(cd "$work/python/app" && "$venv/bin/python" -c 'import importlib.metadata as md
import modelcatalog_client
print(modelcatalog_client.__file__, md.version("modelcatalog-client"))')
  [[ "$installed" == "$venv/"*" $version" ]] ||
    { echo "Python package: imported $installed, not version $version from $venv" >&2; return 1; }
  cheapest "Python example (installed wheel)" \
    "$venv/bin/python" "$work/python/app/cheapest_image_models.py" --server="$server" &&
    watch_example python-watch-models "$venv/bin/python" "$work/python/app/watch_models.py"
}

# --- Node.js ---
node_tests() {
  (cd "$repo/clients/node" && npm ci --no-audit --no-fund --loglevel=error && node --test test/)
}

node_package() {
  local app="$work/node/app" tarball found
  mkdir -p "$work/node/pack" "$app"
  (cd "$repo/clients/node" && npm pack --silent --pack-destination "$work/node/pack" >/dev/null) ||
    return 1
  tarball="$work/node/pack/model-catalog-client-$version.tgz"
  [[ -f "$tarball" ]] || { echo "Node.js package: no $tarball" >&2; ls "$work/node/pack" >&2; return 1; }
  # Its dependencies from npm's cache when `npm ci` above filled it.
  (cd "$app" && npm init -y >/dev/null &&
    npm install --prefer-offline --no-audit --no-fund --loglevel=error "$tarball") || return 1
  found=$(cd "$app" && node -e "const mc = require('@model-catalog/client');
console.log(mc.PROTO_DIR, require('@model-catalog/client/package.json').version)")
  [[ "$found" == "$app/node_modules/@model-catalog/client/proto $version" ]] ||
    { echo "Node.js package: loaded $found" >&2; return 1; }
  cheapest "Node.js example (installed package)" \
    node "$app/node_modules/@model-catalog/client/examples/cheapest-image-models.js" --server="$server" &&
    watch_example node-watch-models node "$app/node_modules/@model-catalog/client/examples/watch-models.js"
}

# --- Go, modules mode, no network ---
go_env() {
  GOFLAGS=-mod=mod GOPROXY=off GO111MODULE=on \
    GOCACHE="${GOCACHE:-/var/tmp/model-catalog-go-cache}" "$@"
}
go_module="$repo/clients/go/src/modelcatalog"

go_module_checks() {
  # The module's own go.mod, pointed at Debian's sources in a copy: the repository's stays as
  # users see it.
  mkdir -p "$work/go/module"
  cp "$go_module/go.mod" "$work/go/module/go.mod"
  "$repo/clients/go/debian-modules.sh" "$work/go/module/go.mod" "$work/go/placeholders" &&
    (cd "$go_module" && go_env go vet -modfile="$work/go/module/go.mod" ./... &&
      go_env go test -count=1 -v -modfile="$work/go/module/go.mod" ./client)
}

go_program() {
  local app="$work/go/app" example
  for example in list-models cheapest-image-models watch-models; do
    mkdir -p "$app/$example"
    cp "$go_module/examples/$example/main.go" "$app/$example/"
  done
  cat >"$app/go.mod" <<GO
module example.com/catalog-examples

go 1.19

require modelcatalog v0.0.0

replace modelcatalog => $go_module
GO
  "$repo/clients/go/debian-modules.sh" "$app/go.mod" "$work/go/placeholders" &&
    (cd "$app" && go_env go build -o "$work/go/bin/" ./...)
}

go_examples() {
  local expected actual
  actual=$("$work/go/bin/list-models" -version)
  [[ "$actual" == "list-models $version" ]] ||
    { echo "Go example: -version printed \"$actual\"" >&2; return 1; }
  expected=$(/usr/bin/python3 -c 'import json, sys, urllib.request
data = json.load(urllib.request.urlopen(sys.argv[1] + "/_control/models"))["data"]
print("\n".join(sorted(m["id"] for m in data)))' "$hub")
  actual=$(GRPC_GO_RETRY=on "$work/go/bin/list-models" -server="$token_server" -token_file="$work/token" |
    awk '{print $1}')
  [[ -n "$expected" && "$actual" == "$expected" ]] ||
    { echo "Go example listed:"; echo "$actual"; echo "expected:"; echo "$expected"; return 1; } >&2
  [[ "$("$work/go/bin/list-models" -server="$token_server" -token_file="$work/token" -search=ÉLAN |
    awk '{print $1}')" == elan-vision-1 ]] ||
    { echo "Go example: search for ÉLAN did not find elan-vision-1" >&2; return 1; }
  # Without the token: refused.
  if "$work/go/bin/list-models" -server="$token_server" 2>"$work/anonymous.err"; then
    echo "Go example: listed without a token" >&2
    return 1
  fi
  grep -q Unauthenticated "$work/anonymous.err" || { cat "$work/anonymous.err" >&2; return 1; }
  cheapest "Go cheapest-image-models" \
    "$work/go/bin/cheapest-image-models" -server="$token_server" -token_file="$work/token" &&
    watch_example go-watch-models "$work/go/bin/watch-models"
}

# --- C++ ---
cpp_package() {
  local prefix="$work/cpp/prefix" binary printed
  cmake --install "$build_dir" --prefix "$prefix" >"$work/cpp-install.log" ||
    { cat "$work/cpp-install.log" >&2; return 1; }
  for binary in catalog-server catalogctl; do
    printed=$("$prefix/bin/$binary" --version)
    [[ "$printed" == "$binary $version" ]] ||
      { echo "C++ package: $binary --version printed \"$printed\"" >&2; return 1; }
  done
  [[ "$("$prefix/bin/catalogctl" --server="$server" --output=json get flux-2-dev |
    /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["model"]["id"])')" == flux-2-dev ]] ||
    { echo "C++ package: the installed catalogctl did not get flux-2-dev" >&2; return 1; }
  cmake -S "$repo/clients/cpp/examples/cheapest-image-models" -B "$work/cpp/build" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" >"$work/cpp-build.log" &&
    cmake --build "$work/cpp/build" >>"$work/cpp-build.log" ||
    { cat "$work/cpp-build.log" >&2; return 1; }
  cheapest "C++ example (installed package)" \
    "$work/cpp/build/cheapest-image-models" --server="$token_server" --token_file="$work/token"
}

check "Python client tests" python_tests
check "Python package: wheel, virtual environment, example" python_package
check "Node.js client tests" node_tests
check "Node.js package: npm pack, scratch project, example" node_package
check "Go module: vet, test (modules mode, offline)" go_module_checks
check "Go program requiring the module: build (modules mode, offline)" go_program
if [[ -x "$work/go/bin/list-models" && -x "$work/go/bin/cheapest-image-models" &&
  -x "$work/go/bin/watch-models" ]]; then
  check "Go examples against catalog-server" go_examples
else
  failed=$((failed + 1))
fi
check "C++ package: cmake --install, find_package(ModelCatalogApi), example" cpp_package

step "done"
# The closing line CI reads: exactly "<word>: N passed, N failed".
echo "clients: $passed passed, $failed failed"
((failed == 0))
