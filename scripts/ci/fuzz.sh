#!/usr/bin/env bash
# CI: builds the libFuzzer targets of tests/fuzz (clang, ASan + UBSan) in build-fuzz/ and runs
# each for a bounded time over its committed seed corpus. Exits non-zero on any crash, sanitizer
# report, property failure or leak; the input that caused it is printed and kept under
# build-fuzz/artifacts/. See tests/fuzz/README.md.
#
#   scripts/ci/fuzz.sh                      every fuzzer, FUZZ_SECONDS (60) each, two at a time
#   FUZZ_SECONDS=600 scripts/ci/fuzz.sh model_json_fuzzer     one fuzzer, longer
#
# Environment: FUZZ_SECONDS, FUZZ_JOBS (fuzzers run at once, default: the cores), BUILD_DIR
# (build-fuzz), JOBS (build parallelism, default: the cores).
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/install-deps.sh --build
scripts/install-deps.sh --sanitizers

BUILD_DIR=${BUILD_DIR:-build-fuzz}
JOBS=${JOBS:-$(nproc)}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_JOBS=${FUZZ_JOBS:-$(nproc)}
all=(model_json_fuzzer model_list_fuzzer page_token_fuzzer resume_token_fuzzer filter_fuzzer
     search_query_fuzzer)
if (($#)); then fuzzers=("$@"); else fuzzers=("${all[@]}"); fi

# Inputs are short: the hub's model objects are about 1 KB, tokens under 100 bytes; filters are
# refused past 2,000 bytes, so a little more reaches that limit.
declare -A max_len=([model_json_fuzzer]=4096 [model_list_fuzzer]=8192
                    [page_token_fuzzer]=512 [resume_token_fuzzer]=128 [filter_fuzzer]=2100
                    [search_query_fuzzer]=256)
declare -A corpus=([model_json_fuzzer]=model_json [model_list_fuzzer]=model_list
                   [page_token_fuzzer]=page_token [resume_token_fuzzer]=resume_token
                   [filter_fuzzer]=filter [search_query_fuzzer]=search_query)
declare -A dict=([model_json_fuzzer]=tests/fuzz/model_json.dict
                 [model_list_fuzzer]=tests/fuzz/model_json.dict
                 [filter_fuzzer]=tests/fuzz/filter.dict)

start=$SECONDS
if [[ ! -f "$BUILD_DIR/build.ninja" ]]; then
  CC=clang-14 CXX=clang++-14 cmake -S . -B "$BUILD_DIR" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only -DNDEBUG" \
    -DMODEL_CATALOG_BUILD_TESTS=OFF -DMODEL_CATALOG_BUILD_BENCHMARKS=OFF -DMODEL_CATALOG_FUZZ=ON \
    -DMODEL_CATALOG_SANITIZE=address,undefined
fi
cmake --build "$BUILD_DIR" -j "$JOBS" --target "${fuzzers[@]}"
echo "fuzz: built in $((SECONDS - start)) s"

symbolizer=$(command -v llvm-symbolizer-14 || command -v llvm-symbolizer)
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:external_symbolizer_path=$symbolizer"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:external_symbolizer_path=$symbolizer"

# Runs one fuzzer: its output goes to $BUILD_DIR/logs/<name>.log, its exit code to <name>.rc.
run() {
  local name=$1 work="$BUILD_DIR/corpus/${corpus[$1]}" artifacts="$BUILD_DIR/artifacts/$1"
  local args=(-max_total_time="$FUZZ_SECONDS" -max_len="${max_len[$name]}" -timeout=10
              -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/")
  [[ -n "${dict[$name]:-}" ]] && args+=(-dict="${dict[$name]}")
  mkdir -p "$work" "$artifacts"
  # New inputs go to the first directory, in the build tree; the committed seeds stay as they are.
  local rc=0
  "$BUILD_DIR/fuzz/$name" "${args[@]}" "$work" "tests/fuzz/corpus/${corpus[$name]}" \
    >"$BUILD_DIR/logs/$name.log" 2>&1 || rc=$?
  echo "$rc" >"$BUILD_DIR/logs/$name.rc"
}

mkdir -p "$BUILD_DIR/logs"
for name in "${fuzzers[@]}"; do
  rm -f "$BUILD_DIR/logs/$name.rc" "$BUILD_DIR/artifacts/$name"/*
  while (($(jobs -rp | wc -l) >= FUZZ_JOBS)); do wait -n || true; done
  run "$name" &
done
wait

failed=0
for name in "${fuzzers[@]}"; do
  log="$BUILD_DIR/logs/$name.log"
  rc=$(cat "$BUILD_DIR/logs/$name.rc" 2>/dev/null || echo missing)
  if [[ "$rc" == 0 ]]; then
    echo "fuzz: $name passed: $(awk '/^stat::number_of_executed_units/{print $2}' "$log") runs" \
      "in ${FUZZ_SECONDS} s, $(grep -oE 'corp: [0-9]+/[0-9a-zA-Z]+' "$log" | tail -1)"
    continue
  fi
  failed=$((failed + 1))
  echo "fuzz: $name FAILED (exit $rc); its log ($log) from the first report:"
  sed -n '/==ERROR\|==== PROPERTY FAILED\|runtime error\|deadly signal\|ERROR: libFuzzer/,$p' "$log" |
    head -200
  for artifact in "$BUILD_DIR/artifacts/$name"/*; do
    [[ -f "$artifact" ]] || continue
    echo "fuzz: the input, base64 (reproduce: $BUILD_DIR/fuzz/$name $artifact):"
    base64 -w 0 "$artifact" | head -c 20000
    echo
  done
done
echo "fuzz: $((SECONDS - start)) s in all"
echo "fuzz: $((${#fuzzers[@]} - failed)) passed, $failed failed"
((failed == 0))
