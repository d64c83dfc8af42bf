#!/usr/bin/env bash
# The sspx NTLM demo, from a fresh Debian 12 or an existing checkout:
#   bash scripts/demo.sh
#
# 1. installs what building and running the demo needs (apt-get, only the
#    packages that are missing; sudo only when not root),
# 2. configures (first time only) and builds sspx-ntlm-demo into build/ -j2,
# 3. starts sspx-ntlm-demo on 127.0.0.1 with a free port; it prints every
#    NTLM leg (status, context flags, decoded token) to this terminal,
# 4. runs curl --ntlm against it with the right and a wrong password,
# 5. stops the server,
# 6. starts a throwaway Kerberos realm (Heimdal's KDC on 127.0.0.1, user alice
#    with a ticket, the service HTTP/localhost in a keytab), the server again
#    with --negotiate, and curl --negotiate against it (Kerberos inside
#    SPNEGO, mutual authentication), then without a ticket; stops both.
# Running it again is quick: nothing is installed or reconfigured twice.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD="$ROOT/build"
PACKAGES=(cmake make gcc libc6-dev pkg-config libssl-dev curl
    heimdal-multidev heimdal-kdc heimdal-clients python3)

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'demo.sh: %s\n' "$*" >&2; exit 1; }

# ------------------------------------------------------------ 1. packages
missing=()
if command -v dpkg-query >/dev/null 2>&1; then
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$p")
    done
else
    # not Debian: just check the tools and hope the headers are there
    for t in cmake make gcc pkg-config curl python3; do
        command -v "$t" >/dev/null 2>&1 || missing+=("$t")
    done
fi
if ((${#missing[@]})); then
    command -v apt-get >/dev/null 2>&1 ||
        die "missing ${missing[*]} and no apt-get to install them"
    SUDO=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || die "missing ${missing[*]}: run as root or install sudo"
        SUDO=(sudo)
    fi
    apt_get() { "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "$@"; }
    say "Installing ${missing[*]}"
    # update only when there are no package lists yet, or an install fails
    # because the lists are stale; never more than once
    if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
        apt_get update
        apt_get install -y --no-install-recommends "${missing[@]}"
    elif ! apt_get install -y --no-install-recommends "${missing[@]}"; then
        apt_get update
        apt_get install -y --no-install-recommends "${missing[@]}"
    fi
fi

# --------------------------------------------------------------- 2. build
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
    say "Configuring build/"
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo
elif grep -q '^SSPX_BUILD_EXAMPLES:BOOL=OFF' "$BUILD/CMakeCache.txt"; then
    cmake -S "$ROOT" -B "$BUILD" -DSSPX_BUILD_EXAMPLES=ON
elif ! grep -q '^HEIMDAL_FOUND:INTERNAL=1' "$BUILD/CMakeCache.txt"; then
    cmake -S "$ROOT" -B "$BUILD" # Heimdal installed since: the Kerberos package too
fi
say "Building sspx-ntlm-demo"
cmake --build "$BUILD" -j2 --target sspx-ntlm-demo
DEMO="$BUILD/examples/sspx-ntlm-demo"
[ -x "$DEMO" ] || die "build did not produce $DEMO"

# --------------------------------------------------------------- 3. server
LOG=$(mktemp /tmp/sspx-demo-log.XXXXXX)
SERVER_PID=""
REALM_PID=""
REALM_DIR=""
stop_pid() {
    if [ -n "$1" ] && kill -0 "$1" 2>/dev/null; then
        kill -TERM "$1" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$1" 2>/dev/null || true
    fi
}
cleanup() {
    stop_pid "$SERVER_PID"
    stop_pid "$REALM_PID"
    rm -f "$LOG"
    [ -n "$REALM_DIR" ] && rm -rf "$REALM_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Start the server with these options; its own output goes to this terminal
# (through tee) and to $LOG, where this script finds the port and follows
# the connections.
start_server() {
    : >"$LOG"
    "$DEMO" --port 0 "$@" > >(tee -a "$LOG") 2>&1 &
    SERVER_PID=$!
    PORT=""
    for _ in $(seq 100); do
        PORT=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$LOG")
        [ -n "$PORT" ] && break
        kill -0 "$SERVER_PID" 2>/dev/null || die "the demo server exited at start-up"
        sleep 0.1
    done
    [ -n "$PORT" ] || die "the demo server did not report its port"
}
stop_server() {
    say "Stopping the server (SIGTERM)"
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
    sleep 0.2 # let tee print the server's last lines
}

say "Starting sspx-ntlm-demo --port 0 (127.0.0.1 only, default users file)"
start_server
URL="http://127.0.0.1:$PORT/"

# Run one curl (its options after the title), wait (bounded) until the
# server logged the connection's close so its legs are on screen before
# curl's result, then show the result.
run_curl() {
    local title=$1 closed_before out code body
    shift
    say "$title: curl $* $URL"
    closed_before=$(grep -c '\] closed (' "$LOG" || true)
    out=$(curl -q -sS --noproxy '*' --max-time 15 "$@" \
        -w '\n%{http_code}' "$URL" 2>&1) || true
    for _ in $(seq 50); do
        [ "$(grep -c '\] closed (' "$LOG" || true)" -gt "$closed_before" ] && break
        sleep 0.1
    done
    code=${out##*$'\n'}
    body=${out%$'\n'*}
    printf '\033[1m<== curl: HTTP %s, body: %s\033[0m\n' "$code" "${body%$'\n'}"
}

# ---------------------------------------------------------------- 4. curl
run_curl "Right password" --ntlm -u 'TESTDOM\bob:Passw0rd!'
run_curl "Wrong password" --ntlm -u 'TESTDOM\bob:not-the-password'

# ---------------------------------------------------------------- 5. stop
stop_server

# ------------------------------------------------------ 6. Kerberos, SPNEGO
if ! grep -q '^HEIMDAL_FOUND:INTERNAL=1' "$BUILD/CMakeCache.txt" ||
    [ ! -x /usr/lib/heimdal-servers/kdc ]; then
    say "No Heimdal here: the Kerberos part is left out (apt-get install heimdal-multidev heimdal-kdc heimdal-clients)"
    exit 0
fi
say "Starting a throwaway Kerberos realm TEST.LOCAL (Heimdal KDC on 127.0.0.1; alice has a ticket)"
REALM_DIR=$(mktemp -d /tmp/sspx-demo-realm.XXXXXX)
python3 "$ROOT/tests/realm/realm.py" start --dir "$REALM_DIR/realm" --port 0 --kinit alice \
    --env-file "$REALM_DIR/env" >"$REALM_DIR/out" 2>&1 &
REALM_PID=$!
for _ in $(seq 300); do
    grep -q '^# realm ready' "$REALM_DIR/out" && break
    kill -0 "$REALM_PID" 2>/dev/null || { cat "$REALM_DIR/out" >&2; die "the realm did not start"; }
    sleep 0.1
done
grep -q '^# realm ready' "$REALM_DIR/out" || die "the realm was not ready in 30 s"
# KRB5_CONFIG, KRB5CCNAME (alice's ticket), KRB5_KTNAME (HTTP/localhost's key)
set -a
# shellcheck disable=SC1091
. "$REALM_DIR/env"
set +a
grep '^# realm ' "$REALM_DIR/out" | sed 's/^# //'

say "Starting sspx-ntlm-demo --negotiate --keytab (Kerberos from the keytab, NTLM from the users)"
start_server --negotiate --keytab "$KRB5_KTNAME"
# curl names the service after the host: HTTP@localhost, in the realm's keytab
URL="http://localhost:$PORT/"
run_curl "alice's Kerberos ticket, inside SPNEGO" --negotiate -u :
KRB5CCNAME=FILE:/nonexistent run_curl "No ticket at all" --negotiate -u :
stop_server
say "Stopping the realm"
stop_pid "$REALM_PID"
REALM_PID=""
say "Done. Build tree: $BUILD; run the interop tests with: ctest --test-dir build -L interop"
