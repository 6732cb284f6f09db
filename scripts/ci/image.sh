#!/usr/bin/env bash
# Builds the container image from the Dockerfile with buildah (no Docker engine needed) and
# checks it:
#   1. the runtime image is complete: `ldd` finds every shared library of every binary,
#      catalog-server and catalogctl answer --help, the default user is the non-root 65532;
#   2. it serves: hub-emulator (from the image) serves the bundled sample catalog on
#      127.0.0.1, catalog-server runs inside the image with its hub key in a mounted file,
#      and the Python client (clients/python) on the host lists, searches (Unicode case
#      folding, with utf8proc's tables) and health-checks it; SIGTERM stops it with exit 0.
#
# Usage (as root): scripts/ci/image.sh
#   MODEL_CATALOG_IMAGE_CACHE  where the debootstrapped base rootfs, buildah's storage and
#                              the build tree live between runs
#                              (default /var/tmp/model-catalog-image-cache)
#   MODEL_CATALOG_IMAGE        the tag built (default localhost/model-catalog:ci)
#   BUILD_JOBS                 compile jobs inside the build stage (default 2)
#   MODEL_CATALOG_IMAGE_NO_BUILD=1   only check an image built before
# The base image is made once with debootstrap and cached; the build stage's package layer
# is cached too (buildah --layers), and its build tree is a cache mount, so a second run
# compiles only the sources that changed. Removing the cache directory starts afresh.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cache=${MODEL_CATALOG_IMAGE_CACHE:-/var/tmp/model-catalog-image-cache}
image=${MODEL_CATALOG_IMAGE:-localhost/model-catalog:ci}
jobs=${BUILD_JOBS:-2}
# Storage above this size is wiped before a build (vfs keeps a full copy per layer).
max_storage_kb=$((20 * 1024 * 1024))

started=$SECONDS
step() { echo "image: [$((SECONDS - started))s] $*"; }
passed=0
ok() { passed=$((passed + 1)); }  # counts a check that passed; any failure exits at once
fail() { echo "image: FAIL: $*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || fail "run as root (buildah in chroot isolation, debootstrap)"
"$repo/scripts/install-deps.sh" --image

# buildah's own storage, apart from any other user of containers on the machine. vfs needs
# no kernel overlay support.
mkdir -p "$cache/storage" "$cache/run"
cat >"$cache/storage.conf" <<EOF
[storage]
driver = "vfs"
graphroot = "$cache/storage"
runroot = "$cache/run"
EOF
export CONTAINERS_STORAGE_CONF="$cache/storage.conf" STORAGE_DRIVER=vfs BUILDAH_ISOLATION=chroot
# buildah keeps the Dockerfile's cache mounts (the build tree) under $TMPDIR/buildah-cache.
mkdir -p "$cache/tmp"
export TMPDIR="$cache/tmp"

# descendant_named PID NAME: the pid of a process named NAME below PID. buildah run
# (chroot isolation) runs its command a few processes below itself and does not pass
# signals on, so servers in the image are stopped through this.
descendant_named() {  # descendant_named PID NAME
  ps -e -o pid=,ppid=,comm= | awk -v root="$1" -v name="$2" '
    { parent[$1] = $2; comm[$1] = $3 }
    END {
      for (p in parent) {
        if (comm[p] != name) continue
        for (q = parent[p]; q > 1; q = parent[q]) if (q == root) { print p; exit }
      }
    }'
}

containers=()
pids=()  # buildah run processes of servers started in the image
work=$(mktemp -d)
cleanup() {
  local pid c name child
  for pid in "${pids[@]}"; do
    for name in catalog-server hub-emulator; do
      child=$(descendant_named "$pid" "$name")
      [[ -z "$child" ]] || kill -TERM "$child" 2>/dev/null || true
    done
  done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  for c in "${containers[@]}"; do buildah rm "$c" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

if [[ -d "$cache/storage/vfs" ]] && (($(du -sk "$cache/storage" | cut -f1) > max_storage_kb)); then
  step "storage over $((max_storage_kb / 1024 / 1024)) GiB: removing every image"
  buildah rm --all >/dev/null
  buildah rmi --all --force >/dev/null || true
fi

# --- the base image: debian:bookworm(-slim), made locally with debootstrap ---
# No registry is reachable, so the Dockerfile's FROM debian:bookworm-slim is this rootfs.
# Its apt sources are the host's (the same Debian archive), like the official image's
# bookworm, bookworm-updates and bookworm-security.
make_rootfs_tar() {
  local tar=$1 rootfs="$work/rootfs" mirror security
  mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  mirror=${mirror:-http://deb.debian.org/debian}
  step "debootstrap bookworm (minbase) from $mirror"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -n 30 "$work/debootstrap.log" >&2; fail "debootstrap"; }
  rm -f "$rootfs/etc/apt/sources.list"
  if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
    grep -v '^#' /etc/apt/sources.list.d/debian.sources >"$rootfs/etc/apt/sources.list.d/debian.sources"
  else
    security=${mirror%/debian}/debian-security
    printf 'Types: deb\nURIs: %s\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\nTypes: deb\nURIs: %s\nSuites: bookworm-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$mirror" "$security" >"$rootfs/etc/apt/sources.list.d/debian.sources"
  fi
  # An archive snapshot's Release files are past their Valid-Until; apt in the image must
  # accept them when the host's apt does.
  local valid
  eval "$(apt-config shell valid Acquire::Check-Valid-Until)"
  if [[ "${valid:-}" == false ]]; then
    echo 'Acquire::Check-Valid-Until "false";' >"$rootfs/etc/apt/apt.conf.d/99check-valid-until"
  fi
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log
  tar -C "$rootfs" --numeric-owner -cf "$tar.tmp" .
  mv "$tar.tmp" "$tar"
  rm -rf "$rootfs"
}

base_tar="$cache/debian-bookworm-minbase.tar"
if ! buildah inspect --type image docker.io/library/debian:bookworm-slim >/dev/null 2>&1; then
  [[ -f "$base_tar" ]] || make_rootfs_tar "$base_tar"
  step "importing the base image"
  c=$(buildah from scratch)
  containers+=("$c")
  buildah add --quiet "$c" "$base_tar" / >/dev/null
  buildah config --cmd /bin/bash --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$c"
  buildah commit --quiet "$c" docker.io/library/debian:bookworm >/dev/null
  buildah tag docker.io/library/debian:bookworm docker.io/library/debian:bookworm-slim
fi

# --- the image ---
if [[ "${MODEL_CATALOG_IMAGE_NO_BUILD:-}" == 1 ]]; then
  step "checking $image as built before"
else
  # The Dockerfile bind-mounts the sources into its build step, which buildah's layer cache
  # does not look into: their digest, as a build argument, reruns the step when they change.
  digest=$(cd "$repo" && git ls-files -z --cached --others --exclude-standard |
    xargs -0 sha256sum 2>/dev/null | sha256sum | cut -c1-16)
  step "building $image (Release, -j$jobs, sources $digest)"
  build_started=$SECONDS
  buildah bud --isolation chroot --pull-never --layers --build-arg BUILD_JOBS="$jobs" \
    --build-arg SOURCE_DIGEST="$digest" \
    -f "$repo/Dockerfile" -t "$image" "$repo" >"$cache/build.log" 2>&1 ||
    { tail -n 60 "$cache/build.log" >&2; fail "buildah bud (whole log: $cache/build.log)"; }
  step "built in $((SECONDS - build_started))s (log: $cache/build.log)"
fi

# Echoes a new working container of the image; the caller adds it to `containers`.
new_container() { buildah from --pull-never "$image"; }
# run_in [buildah run options] CONTAINER -- ARGV...: runs in the image as its default user.
run_in() { buildah run --isolation chroot "$@"; }

# --- 1. the runtime image is complete ---
step "checking the runtime image"
c=$(new_container)
containers+=("$c")
[[ "$(buildah inspect --format '{{.OCIv1.Config.User}}' "$c")" == "65532:65532" ]] || fail "image user is not 65532:65532"
[[ "$(buildah inspect --format '{{.OCIv1.Config.Entrypoint}}' "$c")" == '[/usr/local/bin/catalog-server]' ]] ||
  fail "entrypoint is not exec-form catalog-server"
ok
[[ "$(run_in "$c" -- id -u)" == 65532 ]] || fail "processes in the image do not run as 65532"
ok
# missing_libraries CONTAINER: what `ldd` cannot find for the image's binaries.
missing_libraries() {
  local binary
  for binary in catalog-server hub-emulator catalogctl; do
    run_in "$1" -- ldd "/usr/local/bin/$binary" | sed -n "s|^\s*\(.*not found\)|$binary: \1|p" ||
      echo "$binary: ldd failed"
  done
}
missing=$(missing_libraries "$c")
[[ -z "$missing" ]] || { echo "$missing" >&2; fail "the runtime image lacks shared libraries"; }
ok
# The check itself: it must notice a library taken out of the image.
broken=$(new_container)
containers+=("$broken")
run_in --user 0:0 "$broken" -- rm -f /usr/lib/x86_64-linux-gnu/libcurl.so.4
grep -q 'catalog-server: libcurl.so.4 => not found' <<<"$(missing_libraries "$broken")" ||
  fail "the shared library check did not notice a missing libcurl"
ok
# Abseil's help flags exit 1 by convention: check what they print.
run_in "$c" -- /usr/local/bin/catalog-server --version >/dev/null || fail "catalog-server --version"
run_in "$c" -- /usr/local/bin/catalog-server --helpfull >"$work/help.txt" 2>&1 || true
grep -q -- '-hub_url' "$work/help.txt" || { cat "$work/help.txt" >&2; fail "catalog-server --helpfull"; }
run_in "$c" -- /usr/local/bin/catalogctl --help >"$work/help.txt" 2>&1 || true
grep -q 'catalogctl \[flags\] list' "$work/help.txt" || { cat "$work/help.txt" >&2; fail "catalogctl --help"; }
run_in "$c" -- /usr/local/bin/hub-emulator --helpfull >"$work/help.txt" 2>&1 || true
grep -q -- '-api_key_file' "$work/help.txt" || { cat "$work/help.txt" >&2; fail "hub-emulator --helpfull"; }
ok
run_in "$c" -- test -f /etc/ssl/certs/ca-certificates.crt || fail "CA certificates are missing"
ok

# --- 2. it serves ---
# start NAME FILE [buildah run options] CONTAINER -- ARGV...: starts a server inside the
# image in the background and echoes the address of its "listening on" line.
start() {
  local name=$1 out=$2
  shift 2
  run_in "$@" >"$out" 2>"$out.err" &
  pids+=("$!")
  for _ in $(seq 1 300); do
    if grep -qs ' listening on ' "$out"; then
      sed -n 's/.* listening on //p' "$out" | head -n 1
      return 0
    fi
    kill -0 "${pids[-1]}" 2>/dev/null || { cat "$out.err" >&2; fail "$name exited"; }
    sleep 0.1
  done
  cat "$out.err" >&2
  fail "$name did not start listening"
}

step "starting hub-emulator and catalog-server in the image"
secrets="$work/secrets"
mkdir -p "$secrets"
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$secrets/hub-api-key"
chmod 0755 "$secrets" && chmod 0644 "$secrets/hub-api-key"
hub_container=$(new_container)
server_container=$(new_container)
containers+=("$hub_container" "$server_container")
# Not in $(...): start records the server's pid for cleanup.
start hub-emulator "$work/hub.out" -v "$secrets:/etc/model-catalog/secrets:ro" \
  "$hub_container" -- /usr/local/bin/hub-emulator --listen=127.0.0.1:0 \
  --api_key_file=/etc/model-catalog/secrets/hub-api-key >"$work/hub.address"
hub=$(cat "$work/hub.address")
start catalog-server "$work/server.out" -v "$secrets:/etc/model-catalog/secrets:ro" \
  --env MODEL_CATALOG_LISTEN=127.0.0.1:0 --env MODEL_CATALOG_METRICS_LISTEN=127.0.0.1:0 \
  --env MODEL_CATALOG_HTTP_LISTEN=127.0.0.1:0 \
  --env MODEL_CATALOG_HUB_URL="$hub/api/ai" \
  --env MODEL_CATALOG_HUB_API_KEY_FILE=/etc/model-catalog/secrets/hub-api-key \
  "$server_container" -- /usr/local/bin/catalog-server >"$work/server.address"
server=$(cat "$work/server.address")
server_pid=${pids[-1]}
step "hub-emulator at $hub, catalog-server at $server"

"$repo/clients/generate.sh" python >/dev/null
PYTHONPATH="$repo/clients/python" /usr/bin/python3 - "$server" <<'EOF' || fail "the server in the image did not answer as expected"
import sys
import modelcatalog_client as mc

channel = mc.connect(sys.argv[1])
mc.wait_for_serving(channel, timeout=30)
stub = mc.catalog_stub(channel)
ids = [m.id for m in mc.iter_models(stub, page_size=5)]
assert len(ids) >= 10, ids
assert {"claude-sonnet-4-6", "acme-support-bot", "acme-illustrator"} <= set(ids), ids
# "ÉLAN" matches "Élan Vision" only when the server folds case beyond ASCII (utf8proc).
found = [m.display_name for m in mc.iter_search(stub, "ÉLAN")]
assert "Élan Vision" in found, found
print(f"image check: {len(ids)} models listed, Unicode search ok")
EOF
ok

# The HTTP listeners ("catalog-server metrics on URL", "catalog-server JSON view on URL").
metrics=$(sed -n 's/^catalog-server metrics on //p' "$work/server.out" | head -n 1)
json_view=$(sed -n 's/^catalog-server JSON view on //p' "$work/server.out" | head -n 1)
[[ -n "$metrics" && -n "$json_view" ]] || fail "catalog-server did not print its HTTP listeners"
/usr/bin/python3 - "$metrics" "$json_view" <<'EOF' || fail "the HTTP listeners did not answer as expected"
import json, sys, urllib.error, urllib.request
metrics = urllib.request.urlopen(sys.argv[1], timeout=10).read().decode()
assert "modelcatalog_catalog_models 17" in metrics, metrics[:2000]
models = json.load(urllib.request.urlopen(sys.argv[2], timeout=10))
assert len(models["data"]) == 17, models
# The catalog's content is on the JSON view's port only.
try:
    urllib.request.urlopen(sys.argv[1].replace("/metrics", "/v1/models"), timeout=10)
    raise AssertionError("the metrics port served /v1/models")
except urllib.error.HTTPError as error:
    assert error.code == 404, error
print("image check: /metrics and /v1/models ok")
EOF
ok

step "stopping catalog-server with SIGTERM"
server_process=$(descendant_named "$server_pid" catalog-server)
[[ -n "$server_process" ]] || fail "cannot find the catalog-server process"
kill -TERM "$server_process"
code=0
wait "$server_pid" || code=$?
[[ $code -eq 0 ]] || { cat "$work/server.out.err" >&2; fail "catalog-server exited $code on SIGTERM"; }
grep -q 'stopped' "$work/server.out.err" || fail "catalog-server did not log its stop"
ok

step "OK: $image built and serving ($(buildah images --format '{{.Size}}' "$image"))"
# The closing line CI reads: exactly "<word>: N passed, N failed".
echo "image: $passed passed, 0 failed"
