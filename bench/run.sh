#!/usr/bin/env bash
# Build bench_ntlm (Release, -j2) in build-bench/ and run it.
#
#   bash bench/run.sh [bench_ntlm options]   the tables (see bench/README.md);
#                                            SSPX_BENCH_PYTHON=1: bench_python.py after it
#   bash bench/run.sh --callgrind [N]        profile N sspx handshakes (default 2000)
#   bash bench/run.sh --callgrind-seal [N]   the same, each with one sealed message each way
#
# SSPX_BENCH_KERBEROS=1: bench_kerberos too, after bench_ntlm (needs Heimdal
# and its KDC; starts a throwaway realm; see bench/README.md)
#
# SSPX_BENCH_BUILD_DIR overrides the build directory.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SSPX_BENCH_BUILD_DIR:-$root/build-bench}"
log="$(mktemp /tmp/sspx-bench-build.XXXXXX)"
trap 'rm -f "$log"' EXIT

# -g does not change the generated code; it gives callgrind line numbers.
# Warnings of the library are not errors here: a benchmark run should not
# fail on a -O3-only warning in code under work.
if ! cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_FLAGS_RELEASE="-O3 -DNDEBUG -g" -DSSPX_WERROR=ON \
    -DSSPX_BUILD_TESTS=OFF -DSSPX_BUILD_EXAMPLES=OFF -DSSPX_BUILD_BENCH=ON >"$log" 2>&1 ||
  ! cmake --build "$build" --target bench_ntlm -j2 >>"$log" 2>&1; then
  cat "$log" >&2
  echo "bench/run.sh: build failed" >&2
  exit 1
fi
bin="$build/bench/bench_ntlm"

case "${1:-}" in
--callgrind | --callgrind-seal)
  mode="$1"
  n="${2:-2000}"
  if ! command -v valgrind >/dev/null; then
    echo "bench/run.sh: valgrind not found (apt-get install valgrind)" >&2
    exit 1
  fi
  if [ "$mode" = --callgrind ]; then
    fn=run_handshakes flag=--profile
  else
    fn=run_handshakes_seal flag=--profile-seal
  fi
  out="$build/callgrind.$fn.out"
  valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect="$fn" \
    "$bin" "$flag" "$n" 2>"$log.vg" | tail -n 1
  total=$(sed -n 's/^summary: *//p; s/^totals: *//p' "$out" | head -n 1)
  rm -f "$log.vg"
  echo "callgrind: $total instructions in $n handshakes = $((total / n)) per handshake ($fn)"
  echo "output: $out"
  echo
  # one line per function (callgrind_annotate repeats some under a second
  # file spelling without the object name), minus the frames above the loop
  filter() {
    sed -n '/^Ir/,$p' | grep -E '^ *[0-9,]+ \(.*\]$' |
      grep -vE 'libc-start|below main|:main |ld-linux|PROGRAM TOTALS'
  }
  echo "== top 40 by inclusive cost (unnamed libcrypto/legacy addresses: see bench/README.md)"
  # (head closes the pipe early: not an error)
  callgrind_annotate --inclusive=yes "$out" 2>/dev/null | filter | head -n 40 || true
  echo
  echo "== top 30 by self cost"
  callgrind_annotate "$out" 2>/dev/null | filter | head -n 30 || true
  ;;
*)
  rm -f "$log" # (no exec: the EXIT trap would not run)
  "$bin" "$@"
  if [ "${SSPX_BENCH_KERBEROS:-}" = 1 ]; then
    echo
    if cmake --build "$build" --target bench_kerberos -j2 >/dev/null 2>&1; then
      "$build/bench/bench_kerberos" "$root"
    else
      echo "bench/run.sh: bench_kerberos not built (no Heimdal, or a build error:" \
        "cmake --build $build --target bench_kerberos)" >&2
    fi
  fi
  # SSPX_BENCH_PYTHON=1 (build/venv's python) or =/path/to/python: the Python
  # benchmark too (bench/bench_python.py; the sspx package must be installed)
  if [ -n "${SSPX_BENCH_PYTHON:-}" ]; then
    py="$SSPX_BENCH_PYTHON"
    [ "$py" = 1 ] && py="$root/build/venv/bin/python"
    echo
    "$py" "$root/bench/bench_python.py" --bench-ntlm "$bin"
  fi
  ;;
esac
