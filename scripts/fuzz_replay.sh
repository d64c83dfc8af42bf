#!/usr/bin/env bash
# Build the libFuzzer targets (tests/fuzz) with clang + ASan + UBSan in
# build-fuzz/ and replay every target over its committed corpus
# (tests/fuzz/corpus/<target>/, each input once). Exit status non-zero when a
# target crashes, leaks, trips UBSan or a fuzz invariant. This is what CI runs.
#
#   scripts/fuzz_replay.sh                 replay (CI)
#   scripts/fuzz_replay.sh --fuzz SECONDS  fuzz each target for SECONDS instead,
#                                          one at a time, new inputs into
#                                          build-fuzz/fuzz-scratch/<target>/
#                                          (never into the committed corpus)
#   scripts/fuzz_replay.sh --no-build ...  use the existing build-fuzz/
#   FUZZ_TARGETS="fuzz_cbt fuzz_ntlm_av"   only these targets
#   FUZZ_BUILD_DIR=dir                     another build directory
#   FUZZ_CORPUS=dir                        corpora other than tests/fuzz/corpus
#                                          (dir/<target>/)
#
# The library is built with -fsanitize=fuzzer-no-link (coverage for libFuzzer)
# through CMAKE_C_FLAGS; SSPX_SANITIZE=ON adds -fsanitize=address,undefined
# -fno-sanitize-recover=all to everything.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}
CORPUS=${FUZZ_CORPUS:-$ROOT/tests/fuzz/corpus}
FUZZ_SECONDS=""
DO_BUILD=1

while [ $# -gt 0 ]; do
  case "$1" in
    --fuzz) FUZZ_SECONDS=${2:?--fuzz needs SECONDS}; shift 2 ;;
    --no-build) DO_BUILD=0; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "fuzz_replay.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

if ! command -v clang >/dev/null; then
  echo "fuzz_replay.sh: clang not found (apt-get install clang libclang-rt-14-dev)" >&2
  exit 2
fi

if [ "$DO_BUILD" = 1 ]; then
  mkdir -p "$BUILD"
  CC=clang cmake -S "$ROOT" -B "$BUILD" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSSPX_FUZZ=ON -DSSPX_SANITIZE=ON \
    "-DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link" \
    -DSSPX_BUILD_TESTS=OFF -DSSPX_BUILD_BENCH=OFF -DSSPX_BUILD_EXAMPLES=OFF >"$BUILD/configure.log" 2>&1 \
    || { cat "$BUILD/configure.log" >&2; exit 1; }
  cmake --build "$BUILD" -j2 --target sspx_fuzz
fi

BIN=$BUILD/tests/fuzz
if [ -n "${FUZZ_TARGETS:-}" ]; then
  TARGETS=$FUZZ_TARGETS
else
  TARGETS=$(cat "$BIN/fuzz_targets.txt")
fi

# ASan: leaks are errors; abort on the first report; full stacks through
# Heimdal (no frame pointers), whose two known leaks tests/lsan.supp names.
# UBSan: print stacks.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=0:fast_unwind_on_malloc=0}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$ROOT/tests/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

LOGDIR=$BUILD/fuzz-logs
mkdir -p "$LOGDIR"
fail=0
summary=()
for t in $TARGETS; do
  exe=$BIN/$t
  dir=$CORPUS/$t
  log=$LOGDIR/$t.log
  if [ ! -x "$exe" ]; then
    summary+=("$t: not built, FAILED"); fail=1; continue
  fi
  if [ ! -d "$dir" ]; then
    summary+=("$t: no corpus directory $dir, FAILED"); fail=1; continue
  fi
  n=$(find "$dir" -maxdepth 1 -type f | wc -l)
  if [ -z "$FUZZ_SECONDS" ]; then
    # -runs=0: execute the corpus once, no mutation. Run inside the corpus
    # directory's parent so that crash-* files land in the log directory.
    if (cd "$LOGDIR" && "$exe" -runs=0 -rss_limit_mb=4096 "$dir") >"$log" 2>&1; then
      summary+=("$t: $n inputs replayed, OK")
    else
      summary+=("$t: $n inputs replayed, FAILED (see $log)")
      fail=1
      echo "---- $t ----" >&2
      grep -E "ERROR:|runtime error:|invariant failed|SUMMARY:|#[0-9]+ 0x" "$log" | head -40 >&2 || tail -40 "$log" >&2
    fi
  else
    scratch=$BUILD/fuzz-scratch/$t
    crashes=$BUILD/fuzz-crashes/$t
    mkdir -p "$scratch" "$crashes"
    # new inputs go to the scratch dir (first corpus dir); the committed
    # corpus is read only
    if (cd "$crashes" && "$exe" -max_total_time="$FUZZ_SECONDS" -max_len=4096 \
          -rss_limit_mb=4096 -print_final_stats=1 "$scratch" "$dir") >"$log" 2>&1; then
      stats=$(grep -E "^stat::number_of_executed_units|^stat::average_exec_per_sec" "$log" \
              | awk -F: '{printf "%s=%s ", $3, $4}' | tr -d ' \t' | sed 's/=/: /g')
      cov=$(grep -E "^#[0-9]+" "$log" | tail -1 | grep -oE "cov: [0-9]+ ft: [0-9]+" || true)
      summary+=("$t: fuzzed ${FUZZ_SECONDS}s, $(ls "$scratch" | wc -l) scratch inputs, $cov, OK")
    else
      summary+=("$t: fuzzing FAILED, reproducer in $crashes (see $log)")
      fail=1
    fi
  fi
done

printf '%s\n' "${summary[@]}"
if [ "$fail" != 0 ]; then
  echo "fuzz_replay.sh: FAILED" >&2
  exit 1
fi
