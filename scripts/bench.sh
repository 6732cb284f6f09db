#!/usr/bin/env bash
# The measurements of BENCHMARKS.md: `make bench`, or scripts/bench.sh [build_dir].
#
# For each catalog size (10,000 and 100,000 models) it starts hub-emulator with a generated
# catalog and catalog-server pinned to one core, and runs catalog-bench pinned to the other:
# memory, Health.Check, GetModel, ListModels (FULL, BASIC, filtered, ordered), BatchGetModels,
# SearchModels, one-call-at-a-time GetModel,
# 10,000 watchers, and at the first size the same watchers on etcd's watch (when etcd is
# installed: scripts/install-deps.sh --bench), pinned like the server. At the largest size it then restarts the server with a short
# --sync_interval and measures GetModel latency while syncs run. Last, the Google Benchmark
# micro-benchmarks. Raw outputs and summary.md land in <build_dir>/bench/.
#
# Environment:
#   BENCH_QUICK=1          smoke run (~1-2 min): 10,000 models, 2 s per scenario, 1,000 watchers,
#                          one sync; exits non-zero if any scenario had no successful call
#   BENCH_SIZES="10000 100000"   catalog sizes (the last one also runs the sync scenario)
#   BENCH_DURATION=5s BENCH_WARMUP=1s BENCH_ROUNDS=3   measured window and warm-up of each
#                          throughput scenario, and how many interleaved rounds of them run
#   BENCH_CONNECTIONS=4 BENCH_OUTSTANDING=16   closed-loop shape
#   BENCH_WATCHERS=10000   streams of the watch scenario
#   BENCH_WATCH_DECODE=fields   how the watch scenarios' client reads an event: 'fields' (the
#                          type and id or key only, for the catalog and etcd alike: the
#                          servers' fan-out compared) or 'message' (each parsed whole)
#   BENCH_WATCH_CLIENT=http2   what reads the watch streams: 'http2' (catalog-bench's own
#                          HTTP/2 reader, under 1 us a message: the servers' figures) or
#                          'grpc' (gRPC's C++ client, about 6 us a message: the client's)
#   BENCH_SYNC_INTERVAL=5s --sync_interval of the server during the sync scenario
#   BENCH_SERVER_CPU=0 BENCH_LOAD_CPU=1   cores for the server and for everything else
#   BENCH_OUT=<dir>        where results go (default <build_dir>/bench)
#   BENCH_COMMIT=<text>    the code's version to record, when the tree is not a git checkout
#   BENCH_SERVER_BIN=<path>  measure this catalog-server instead of the build's (another
#                          version, same harness); BENCH_COMMIT should then name it
#   BENCH_MICRO=0          skip the micro-benchmarks (they measure the build's own code)
#   BENCH_ETCD=0           skip the watch scenario against etcd (skipped anyway without etcd)
#   BENCH_ETCD_BIN=<path>  the etcd to start (default: etcd on PATH)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${1:-build}
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ROOT/$BUILD_DIR" ;; esac
BIN="$BUILD_DIR/bin"
OUT=${BENCH_OUT:-$BUILD_DIR/bench}
QUICK=${BENCH_QUICK:-0}

if [[ "$QUICK" == 1 ]]; then
  SIZES=${BENCH_SIZES:-10000}
  DURATION=${BENCH_DURATION:-2s}
  WARMUP=${BENCH_WARMUP:-1s}
  ROUNDS=${BENCH_ROUNDS:-1}
  LATENCY_DURATION=2s
  WATCHERS=${BENCH_WATCHERS:-1000}
  WATCH_CONNECTIONS=4
  WATCH_ROUNDS=2
  SYNC_INTERVAL=${BENCH_SYNC_INTERVAL:-2s}
  SYNC_COUNT=1
  MICRO_ARGS=(--models=10000 --watchers=1000 --benchmark_min_time=0.05)
else
  SIZES=${BENCH_SIZES:-"10000 100000"}
  DURATION=${BENCH_DURATION:-5s}
  WARMUP=${BENCH_WARMUP:-1s}
  ROUNDS=${BENCH_ROUNDS:-3}
  LATENCY_DURATION=10s
  WATCHERS=${BENCH_WATCHERS:-10000}
  WATCH_CONNECTIONS=16
  WATCH_ROUNDS=5
  SYNC_INTERVAL=${BENCH_SYNC_INTERVAL:-5s}
  SYNC_COUNT=3
  MICRO_ARGS=(--models="$(echo $SIZES | tr ' ' ',')" --watchers="$WATCHERS" --benchmark_min_time=0.5)
fi
CONNECTIONS=${BENCH_CONNECTIONS:-4}
WATCH_DECODE=${BENCH_WATCH_DECODE:-fields}
WATCH_CLIENT=${BENCH_WATCH_CLIENT:-http2}
OUTSTANDING=${BENCH_OUTSTANDING:-16}
SERVER_CPU=${BENCH_SERVER_CPU:-0}
LOAD_CPU=${BENCH_LOAD_CPU:-1}
LARGEST=$(echo $SIZES | tr ' ' '\n' | sort -n | tail -1)
FIRST=$(echo $SIZES | awk '{print $1}')

log() { echo "bench: $*" >&2; }

# --- build what is missing ---
if [[ ! -f "$BUILD_DIR/build.ninja" && ! -f "$BUILD_DIR/Makefile" ]]; then
  log "configuring $BUILD_DIR (Release)"
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
log "building catalog-server, hub-emulator, catalog-bench, catalog-micro-bench in $BUILD_DIR"
cmake --build "$BUILD_DIR" --target catalog-server hub-emulator catalog-bench catalog-micro-bench \
  -j "$(nproc)" >/dev/null

# --- pinning ---
PIN_SERVER=() PIN_LOAD=()
if command -v taskset >/dev/null && (( $(nproc) >= 2 )) &&
    taskset -c "$SERVER_CPU" true 2>/dev/null && taskset -c "$LOAD_CPU" true 2>/dev/null; then
  PIN_SERVER=(taskset -c "$SERVER_CPU")
  PIN_LOAD=(taskset -c "$LOAD_CPU")
else
  log "warning: fewer than 2 cores, no taskset, or cpus $SERVER_CPU/$LOAD_CPU not allowed here: nothing is pinned, ratios are not comparable"
fi

# etcd's watch, measured with the same watchers as WatchDeployments (catalog-bench starts
# and stops it, pinned to the server's core).
ETCD_BIN=${BENCH_ETCD_BIN:-$(command -v etcd || true)}
if [[ "${BENCH_ETCD:-1}" == 0 ]]; then
  ETCD_BIN=""
elif [[ -z "$ETCD_BIN" || ! -x "$ETCD_BIN" ]]; then
  log "no etcd installed (scripts/install-deps.sh --bench): the watch scenario against etcd is skipped"
  ETCD_BIN=""
fi

mkdir -p "$OUT"
rm -f "$OUT"/results.jsonl "$OUT"/*.out "$OUT"/*.err "$OUT"/*.log "$OUT"/*.txt "$OUT"/micro.json \
  "$OUT"/summary.md

# --- the machine and the code ---
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  if [[ -n "${BENCH_COMMIT:-}" ]]; then
    echo "commit: $BENCH_COMMIT"
  else
    echo "commit: $(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet HEAD -- services clients proto 2>/dev/null || echo ' (+ uncommitted changes in services/clients/proto)')"
  fi
  echo "cores: $(nproc)"
  echo "cpu: $(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1)"
  echo "memory: $(free -h 2>/dev/null | awk '/^Mem:/{print $2}')"
  echo "kernel: $(uname -sr)"
  cxx=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt" | head -1)
  echo "compiler: $("${cxx:-c++}" --version 2>/dev/null | head -1)"
  echo "build type: $(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt" | head -1)"
  echo "grpc: $(dpkg-query -W -f='${Version}' libgrpc++-dev 2>/dev/null || pkg-config --modversion grpc++ 2>/dev/null || echo unknown)"
  echo "protobuf: $(dpkg-query -W -f='${Version}' libprotobuf-dev 2>/dev/null || echo unknown)"
  echo "pinning: server and then micro-benchmarks on cpu ${PIN_SERVER[2]:-none}, load generator and hub emulator on cpu ${PIN_LOAD[2]:-none}"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "mode: $([[ "$QUICK" == 1 ]] && echo quick || echo full), sizes: $SIZES, $ROUNDS round(s) of $DURATION after $WARMUP warm-up, ${CONNECTIONS}x${OUTSTANDING} outstanding, $WATCHERS watchers"
  echo "etcd: $([[ -n "$ETCD_BIN" ]] && "$ETCD_BIN" --version 2>/dev/null | head -1 || echo 'not measured')"
} > "$OUT/machine.txt"
cat "$OUT/machine.txt" >&2

# --- processes: started here, stopped here, by pid ---
HUB_PID="" SERVER_PID=""
stop_pid() {
  local pid=$1
  [[ -n "$pid" ]] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}
cleanup() { stop_pid "$SERVER_PID"; stop_pid "$HUB_PID"; }
trap cleanup EXIT

# Waits for a line matching $2 in file $1 and prints what follows $3 on it.
wait_for_line() {
  local file=$1 pattern=$2 pid=$3
  for _ in $(seq 1 600); do
    if grep -q "$pattern" "$file" 2>/dev/null; then
      sed -n "s/.*$pattern//p" "$file" | head -1
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || { log "process $pid exited; see $file and its .err"; return 1; }
    sleep 0.1
  done
  log "timed out waiting for '$pattern' in $file"
  return 1
}

# The emulator stands in for a hub on another machine: at nice 19 its rendering of the
# catalog (76 MB at 100,000 models) takes only CPU time the load generator leaves over.
start_hub() {
  local n=$1
  "${PIN_LOAD[@]}" nice -n 19 "$BIN/hub-emulator" --listen=127.0.0.1:0 --generate_models="$n" \
    --log_level=warning >"$OUT/hub-$n.out" 2>"$OUT/hub-$n.err" &
  HUB_PID=$!
  HUB_URL=$(wait_for_line "$OUT/hub-$n.out" "hub-emulator listening on " "$HUB_PID")
}

# The poller is parked (--deployment_poll_interval=1h): the generated catalog keeps thousands
# of deployments "deploying" or "deactivating" for ever, which the server would otherwise poll
# one hub call each, every 2 s, on the measured core (see BENCHMARKS.md).
start_server() {
  local name=$1 sync_interval=$2
  # No JSON view (set in the environment, which a server build without one ignores).
  MODEL_CATALOG_HTTP_LISTEN= "${PIN_SERVER[@]}" "${BENCH_SERVER_BIN:-$BIN/catalog-server}" \
    --listen=127.0.0.1:0 --metrics_listen=127.0.0.1:0 \
    --hub_url="$HUB_URL/api/ai" --sync_interval="$sync_interval" --deployment_poll_interval=1h \
    --log_level=warning >"$OUT/server-$name.out" 2>"$OUT/server-$name.err" &
  SERVER_PID=$!
  SERVER_ADDR=$(wait_for_line "$OUT/server-$name.out" "catalog-server listening on " "$SERVER_PID")
}

status=0
for n in $SIZES; do
  log "--- $n models ---"
  start_hub "$n"
  start_server "$n" 1h
  # etcd's watch once, right after WatchDeployments in the same catalog-bench run (the catalog
  # server idle meanwhile, etcd stopped before and after): the two side by side.
  etcd_args=()
  if [[ -n "$ETCD_BIN" && "$n" == "$FIRST" ]]; then
    etcd_args=(--etcd_binary="$ETCD_BIN" --etcd_cpu="${PIN_SERVER[2]:--1}" --etcd_log="$OUT/etcd.log")
  fi
  if ! "${PIN_LOAD[@]}" "$BIN/catalog-bench" --server="$SERVER_ADDR" --server_pid="$SERVER_PID" \
      --hub_url="$HUB_URL" --label="$n" --expect_models="$n" --json_out="$OUT/results.jsonl" \
      --scenarios=memory,health,get_model,list_models,list_models_basic,list_filtered,list_ordered,batch_get,search_models,search_typo,estimate_cost,estimate_filtered,validate_request,health_latency,get_model_latency,watch,watch_models${etcd_args[0]:+,watch_etcd} \
      --connections="$CONNECTIONS" --outstanding="$OUTSTANDING" --duration="$DURATION" \
      --warmup="$WARMUP" --rounds="$ROUNDS" --latency_duration="$LATENCY_DURATION" \
      --watchers="$WATCHERS" \
      --watch_connections="$WATCH_CONNECTIONS" --watch_rounds="$WATCH_ROUNDS" \
      --watch_decode="$WATCH_DECODE" --watch_client="$WATCH_CLIENT" \
      "${etcd_args[@]+"${etcd_args[@]}"}" \
      | tee "$OUT/catalog-bench-$n.txt"; then
    log "catalog-bench failed at $n models"
    status=1
  fi
  stop_pid "$SERVER_PID"; SERVER_PID=""

  if [[ "$n" == "$LARGEST" ]]; then
    # GetModel latency during syncs: open loop at a tenth of the GetModel throughput just
    # measured at this size (2000/s when unknown). A quarter kept the sender's own core busy
    # enough that it went out late by 1 ms at p99, which the latencies would have counted.
    rate=$(python3 - "$OUT/results.jsonl" "$n" <<'EOF' 2>/dev/null || echo 2000
import json, sys
rate = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["run"] == sys.argv[2] and r["scenario"] == "get_model":
        rate = r.get("ok_per_second", 0) / 10
print(int(rate) if rate >= 100 else 2000)
EOF
)
    log "--- $n models, sync every $SYNC_INTERVAL, GetModel at $rate/s ---"
    start_server "$n-sync" "$SYNC_INTERVAL"
    if ! "${PIN_LOAD[@]}" "$BIN/catalog-bench" --server="$SERVER_ADDR" --server_pid="$SERVER_PID" \
        --hub_url="$HUB_URL" --label="$n" --expect_models="$n" --json_out="$OUT/results.jsonl" \
        --scenarios=sync --sync_rate="$rate" --sync_count="$SYNC_COUNT" --warmup="$WARMUP" \
        --connections="$CONNECTIONS" | tee "$OUT/catalog-bench-$n-sync.txt"; then
      log "catalog-bench sync failed at $n models"
      status=1
    fi
    # What a live call (an activation) costs while a sync is applied on a saturated core: a
    # thread at nice 19 keeps the server's core busy; the sync, at idle priority, gets a
    # small share of it.
    log "--- $n models, sync every $SYNC_INTERVAL, activations on a saturated core ---"
    if ! "${PIN_LOAD[@]}" "$BIN/catalog-bench" --server="$SERVER_ADDR" --server_pid="$SERVER_PID" \
        --hub_url="$HUB_URL" --label="$n" --expect_models="$n" --json_out="$OUT/results.jsonl" \
        --scenarios=live_during_sync --sync_count="$SYNC_COUNT" --warmup="$WARMUP" \
        --live_spin_cpu="${SERVER_CPU:--1}" \
        | tee "$OUT/catalog-bench-$n-live.txt"; then
      log "catalog-bench live_during_sync failed at $n models"
      status=1
    fi
    stop_pid "$SERVER_PID"; SERVER_PID=""
  fi
  stop_pid "$HUB_PID"; HUB_PID=""
done

if [[ "${BENCH_MICRO:-1}" != 0 ]]; then
  log "--- micro-benchmarks ---"
  if ! "${PIN_SERVER[@]}" "$BIN/catalog-micro-bench" "${MICRO_ARGS[@]}" \
      --benchmark_out="$OUT/micro.json" --benchmark_out_format=json | tee "$OUT/micro.txt"; then
    log "catalog-micro-bench failed"
    status=1
  fi
fi

echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.txt"
python3 "$ROOT/benchmarks/summarize.py" "$OUT" > "$OUT/summary.md" || status=1
cat "$OUT/summary.md"
log "results in $OUT (summary.md, results.jsonl, micro.json, catalog-bench-*.txt)"
exit $status
