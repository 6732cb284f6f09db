#!/usr/bin/env bash
# `make run`: starts catalog-server on its embedded default.
#
# Without OXEN_API_KEY: a hub emulator serving the bundled sample catalog on a
# free local port, and catalog-server syncing from it with a generated key.
# With OXEN_API_KEY: catalog-server syncing from the real hub.
# Every catalog-server flag can be overridden through its MODEL_CATALOG_*
# environment variable (e.g. MODEL_CATALOG_LISTEN=127.0.0.1:6000 make run).
set -euo pipefail
build_dir=${1:-build}
bin="$build_dir/bin"
run_dir="$build_dir/run"
mkdir -p "$run_dir"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 0' INT TERM

# Starts a server in the background and sets `address` from its
# "... listening on ADDRESS" line. Called directly, not in $(...): a subshell
# would record the server's pid in a copy of `pids`, and this script would then
# neither wait for the server nor stop it.
start() {
  local name=$1 out="$run_dir/$1.out"
  shift
  "$@" >"$out" &
  pids+=("$!")
  for _ in $(seq 1 100); do
    if grep -q 'listening on' "$out" 2>/dev/null; then
      address=$(sed -n 's/.* listening on //p' "$out" | head -n 1)
      return 0
    fi
    kill -0 "${pids[-1]}" 2>/dev/null || { echo "$name exited; see its messages above" >&2; exit 1; }
    sleep 0.1
  done
  echo "$name did not start listening" >&2
  exit 1
}

server_args=()
if [[ -n "${OXEN_API_KEY:-}" ]]; then
  echo "OXEN_API_KEY is set: syncing from the real hub"
else
  key_file="$run_dir/hub.key"
  head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$key_file"
  start hub-emulator "$bin/hub-emulator" --listen=127.0.0.1:0 --api_key_file="$key_file"
  hub=$address
  echo "hub emulator (bundled sample catalog): $hub/api/ai"
  server_args+=(--hub_url="$hub/api/ai" --hub_api_key_file="$key_file")
fi

start catalog-server "$bin/catalog-server" "${server_args[@]}"
port=${address##*:}
json_view=$(sed -n 's/^catalog-server JSON view on //p' "$run_dir/catalog-server.out" | head -n 1)
metrics=$(sed -n 's/^catalog-server metrics on //p' "$run_dir/catalog-server.out" | head -n 1)
cat <<EOT
catalog-server listening on $address
${json_view:+JSON view: $json_view}
${metrics:+metrics:   $metrics}

Try it:
  grpcurl -plaintext localhost:$port list
  grpcurl -plaintext -d '{"query": "claude"}' localhost:$port modelcatalog.v1.ModelCatalogService/SearchModels
  grpcurl -plaintext localhost:$port grpc.health.v1.Health/Check
  $bin/catalogctl --server=localhost:$port list
  $bin/catalogctl --server=localhost:$port get claude-sonnet-4-6
${json_view:+  curl -s $json_view/claude-sonnet-4-6}
(no grpcurl? npx buf curl --protocol grpc --http2-prior-knowledge http://localhost:$port/modelcatalog.v1.ModelCatalogService/ListModels)

Ctrl-C stops it.
EOT
wait "${pids[-1]}"
