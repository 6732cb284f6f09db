#!/usr/bin/env bash
# CI: the whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/) and
# under ThreadSanitizer (build-tsan/), built with clang-14. Every instrumented process, the
# binaries the end-to-end tests start included, writes its reports (symbolized, file:line) under
# <build dir>/sanitizer-reports/; the script fails when a test fails or any report was written,
# and prints the reports. What TSan needs and what is suppressed: tests/sanitizers/README.md.
#
#   scripts/ci/sanitizers.sh              both
#   scripts/ci/sanitizers.sh asan|tsan    one
#   scripts/ci/sanitizers.sh tsan -R Watch   extra arguments go to ctest
#
# Environment: JOBS (build and test parallelism, default: the cores).
set -euo pipefail
cd "$(dirname "$0")/../.."
here=$(pwd)
scripts/install-deps.sh
scripts/install-deps.sh --sanitizers

JOBS=${JOBS:-$(nproc)}
flavors=(asan tsan)
if [[ "${1:-}" == asan || "${1:-}" == tsan ]]; then
  flavors=("$1")
  shift
fi
ctest_args=("$@")

symbolizer=$(command -v llvm-symbolizer-14 || command -v llvm-symbolizer)

failed=0
run() {
  local flavor=$1 dir="build-$1" sanitize reports
  case "$flavor" in
    asan) sanitize=address,undefined ;;
    tsan) sanitize=thread ;;
  esac
  reports="$here/$dir/sanitizer-reports"
  local start=$SECONDS
  if [[ ! -f "$dir/build.ninja" ]]; then
    # -O1 and line tables: reports name file:line, at a fraction of a full debug build's cost.
    CC=clang-14 CXX=clang++-14 cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only -DNDEBUG" \
      -DMODEL_CATALOG_SANITIZE="$sanitize" -DMODEL_CATALOG_BUILD_BENCHMARKS=OFF
  fi
  cmake --build "$dir" -j "$JOBS"
  local built=$SECONDS
  echo "sanitizers: $flavor built in $((built - start)) s"

  rm -rf "$reports"
  mkdir -p "$reports"
  local status=0
  (
    case "$flavor" in
      asan)
        # One log_path for both: the runtimes share it (the last one set wins).
        export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1:log_path=$reports/asan-ubsan:external_symbolizer_path=$symbolizer"
        export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$reports/asan-ubsan:external_symbolizer_path=$symbolizer"
        export LSAN_OPTIONS="suppressions=$here/tests/sanitizers/lsan.supp:print_suppressions=0"
        ;;
      tsan)
        export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:ignore_noninstrumented_modules=1:suppressions=$here/tests/sanitizers/tsan.supp:print_suppressions=0:log_path=$reports/tsan:external_symbolizer_path=$symbolizer"
        ;;
    esac
    ctest --test-dir "$dir" --output-on-failure -j "$JOBS" "${ctest_args[@]}"
  ) || status=$?
  echo "sanitizers: $flavor tests ran in $((SECONDS - built)) s (ctest exit $status)"

  local files=("$reports"/*)
  if [[ -e "${files[0]}" ]]; then
    status=1
    echo "sanitizers: $flavor: ${#files[@]} report(s):"
    for f in "${files[@]}"; do
      echo "---- $f"
      head -n 150 "$f"
    done
  fi
  if ((status)); then
    failed=$((failed + 1))
    echo "sanitizers: $flavor FAILED"
  else
    echo "sanitizers: $flavor clean"
  fi
}

for flavor in "${flavors[@]}"; do run "$flavor"; done
echo "sanitizers: $((${#flavors[@]} - failed)) passed, $failed failed"
((failed == 0))
