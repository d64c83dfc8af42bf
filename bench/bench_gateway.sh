#!/bin/sh
# Gateway throughput: bench/bench_gateway.sh [BUILD_DIR] [--requests N] [--conns 1,4]
# Needs the sspx Python package in BUILD_DIR/venv (its ClientContext makes the NTLM tokens).
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
[ $# -gt 0 ] && shift
py="$build/venv/bin/python"
if ! "$py" -c "import sspx" 2>/dev/null; then
  echo "bench_gateway: $py cannot import sspx (install the Python package into $build/venv)" >&2
  exit 2
fi
exec "$py" "$here/bench_gateway.py" "$build" "$@"
