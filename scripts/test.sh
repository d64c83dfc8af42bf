#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what it
# needs, builds with -Werror, runs the C tests, the ABI checks and the
# interop tests against real peers (Samba's ntlm_auth, curl), then the C
# tests again under AddressSanitizer + UndefinedBehaviorSanitizer, replays
# every fuzz corpus under the same sanitizers, and checks the formatting.
#
#   bash scripts/test.sh            everything
#   SSPX_QUICK=1 bash scripts/test.sh   skip the sanitizer and fuzz stages
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=2

# ------------------------------------------------------------- packages
packages=(cmake make pkg-config gcc g++ libc6-dev clang libclang-rt-14-dev clang-format libssl-dev
    heimdal-multidev curl winbind samba-common-bin mingw-w64-x86-64-dev ca-certificates
    swig python3-dev python3-venv python3-pip python3-setuptools python3-pytest python3-requests
    python3-requests-ntlm python3-nbclient python3-nbformat python3-ipykernel
    lua5.4 liblua5.4-dev lua-socket lua-posix luarocks valgrind wrk
    heimdal-kdc heimdal-clients python3-gssapi gss-ntlmssp)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "== installing: ${missing[*]}"
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

stage_pass=0
stage_fail=0
failed=()
stage() { # name, command...
    local name=$1
    shift
    echo
    echo "== $name"
    if "$@"; then
        stage_pass=$((stage_pass + 1))
    else
        stage_fail=$((stage_fail + 1))
        failed+=("$name")
        echo "!! stage failed: $name"
    fi
}

# ------------------------------------------------- build + tests (gcc)
build_main() {
    cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSSPX_WERROR=ON -DSSPX_PYTHON=ON >/dev/null &&
        cmake --build build -j"$jobs"
}
# -O3 sees more (false) maybe-uninitialized paths than -O2: the library must
# build warning-free there too (the benchmarks use -O3)
build_o3() {
    cmake -S . -B build-o3 -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE="-O3 -DNDEBUG" \
        -DSSPX_WERROR=ON -DSSPX_BUILD_TESTS=OFF -DSSPX_BUILD_EXAMPLES=OFF -DSSPX_LUA=OFF >/dev/null &&
        cmake --build build-o3 -j"$jobs" --target sspx sspx_static
}
run_ctest() { ctest --test-dir build --output-on-failure -j1 --timeout 300; }

# ---------------------------------------- the same under ASan + UBSan
build_asan() {
    CC=clang cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSSPX_SANITIZE=ON \
        -DSSPX_BUILD_BENCH=OFF -DSSPX_BUILD_EXAMPLES=OFF >/dev/null &&
        cmake --build build-asan -j"$jobs"
}
run_asan() {
    # slow unwinding: Heimdal has no frame pointers, and its own leaks are
    # suppressed by name (tests/lsan.supp)
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:fast_unwind_on_malloc=0 \
        LSAN_OPTIONS=suppressions=$root/tests/lsan.supp \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --test-dir build-asan --output-on-failure -j1 -L c -LE abi --timeout 600
}

build_tsan() {
    CC=clang cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DSSPX_TSAN=ON \
        -DSSPX_BUILD_BENCH=OFF -DSSPX_BUILD_EXAMPLES=OFF >/dev/null &&
        cmake --build build-tsan -j"$jobs" --target test_threads
}
run_tsan() { TSAN_OPTIONS=halt_on_error=1 ./build-tsan/tests/test_threads; }

# The Python package, installed with Debian's /usr/bin/python3 into a venv
# that sees Debian's python3-* packages (pip would refuse the system one),
# without network: pip install --no-build-isolation --no-index .
build_python() {
    rm -rf build/venv &&
        /usr/bin/python3 -m venv --system-site-packages build/venv &&
        build/venv/bin/python -m pip install -q --no-build-isolation --no-index .
}
run_pytest() {
    (cd tests/python && ../../build/venv/bin/python -m pytest -q -p no:cacheprovider .) |
        tee build/pytest.log
    return "${PIPESTATUS[0]}"
}

format_check() {
    local files
    files=$(git ls-files '*.c' '*.h' | grep -v '^tests/fuzz/corpus/')
    # shellcheck disable=SC2086
    clang-format --dry-run -Werror $files
}

stage "build (gcc, -Wall -Wextra -Werror)" build_main
stage "ctest: C tests, ABI checks, interop with real peers" run_ctest
stage "build (gcc -O3, -Werror)" build_o3
stage "Python package (pip install --no-build-isolation)" build_python
stage "pytest" run_pytest
if [ -z "${SSPX_QUICK:-}" ]; then
    stage "build (clang, ASan + UBSan)" build_asan
    stage "ctest under ASan + UBSan" run_asan
    stage "build (clang, ThreadSanitizer)" build_tsan
    stage "concurrency tests under ThreadSanitizer" run_tsan
    if [ -x scripts/fuzz_replay.sh ] || [ -f scripts/fuzz_replay.sh ]; then
        stage "fuzz corpora replayed under ASan + UBSan" bash scripts/fuzz_replay.sh
    else
        stage "fuzz corpora replayed under ASan + UBSan" false
    fi
fi
stage "clang-format" format_check

echo
echo "stages: ${stage_pass} passed, ${stage_fail} failed${failed:+: ${failed[*]}}"
# the closing line counts ctest's tests of the main build and pytest's
total=$(ctest --test-dir build -N 2>/dev/null | sed -n 's/^Total Tests: //p')
py=$(sed -n 's/^\([0-9][0-9]*\) passed.*/\1/p' build/pytest.log 2>/dev/null | tail -1)
total=$((${total:-0} + ${py:-0}))
if ((stage_fail)); then
    echo "${total:-0} tests; some stages failed"
    exit 1
fi
echo "${total:-0} passed, 0 failed"
