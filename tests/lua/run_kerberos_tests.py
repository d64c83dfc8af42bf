#!/usr/bin/python3
"""The Lua binding's Kerberos tests (test_kerberos.lua, test_kerberos_kdc_down.lua)
against a throwaway Heimdal realm.

usage: run_kerberos_tests.py BUILD_DIR [--valgrind]
       run_kerberos_tests.py --lua-tree TREE     (a luarocks tree: the rock's build)

Starts tests/realm/realm.py's realm (TEST.LOCAL on 127.0.0.1: alice kinit'd
with a forwardable TGT, bob, HTTP/localhost) and adds HTTP/backend.localhost
to its keytab; runs tests/lua/runner.lua on test_kerberos.lua with the realm's
environment, then on test_kerberos_kdc_down.lua with KRB5_CONFIG =
"<krb5.conf>:<extra>", the extra file naming DOWN.TEST whose KDC is a closed
127.0.0.1 port. Prints the runners' lines and "N passed, M failed" for both;
exit 1 on any failure. The realm is stopped on every path; waits are bounded."""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from luatest import LUA, SRC, Checks, build_dir, lua_paths, unused_port  # noqa: E402

argv = sys.argv[1:]
TREE = None
if "--lua-tree" in argv:
    i = argv.index("--lua-tree")
    TREE = os.path.abspath(argv[i + 1])
    del argv[i:i + 2]
args = [a for a in argv if not a.startswith("--")]
BUILD = build_dir(args)
VALGRIND = "--valgrind" in argv
TIMEOUT = 600 if VALGRIND else 120
sys.path.insert(0, os.path.join(SRC, "tests", "realm"))
from realm import Realm, heimdal_available  # noqa: E402


def run(files, env):
    argv = [LUA, os.path.join(HERE, "runner.lua")] + [os.path.join(HERE, f) for f in files]
    if VALGRIND:
        # Heimdal keeps per-thread and per-process state it never frees:
        # only definite leaks count, as for lua.binding_valgrind
        argv = ["valgrind", "--quiet", "--error-exitcode=3", "--leak-check=full",
                "--errors-for-leak-kinds=definite", "--show-possibly-lost=no",
                ] + argv
    try:
        p = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        print("FAIL %s: timed out after %d s" % (" ".join(files), TIMEOUT))
        return 0, 1
    sys.stdout.write(p.stdout)
    sys.stdout.write(p.stderr)
    m = re.search(r"^(\d+) passed, (\d+) failed$", p.stdout, re.M)
    if not m:
        print("FAIL %s: no summary line (exit %d)" % (" ".join(files), p.returncode))
        return 0, 1
    ok, bad = int(m.group(1)), int(m.group(2))
    if p.returncode != 0 and bad == 0:
        print("FAIL %s: exit %d (valgrind?)" % (" ".join(files), p.returncode))
        bad = 1
    return ok, bad


def main():
    why = heimdal_available()
    if why:
        print("FAIL: " + why)
        print("0 passed, 1 failed")
        return 1
    total = Checks()
    with Realm() as realm:
        realm.kinit("alice")
        realm.add_service("HTTP/backend.localhost")
        env = realm.env("alice", base=dict(os.environ))
        if TREE:  # the module luarocks built and installed, not the CMake one
            env.update(LUA_CPATH=f"{TREE}/lib/lua/5.4/?.so;;",
                       LUA_PATH=f"{TREE}/share/lua/5.4/?.lua;;")
        else:
            env.update(lua_paths(BUILD))
        env["SSPX_TEST_KEYTAB"] = realm.keytab
        env["SSPX_TEST_DOCS"] = os.path.join(SRC, "docs", "LUA.md")
        total.add(*run(["test_kerberos.lua"], env))
        extra = os.path.join(realm.dir, "down.conf")
        with open(extra, "w") as f:
            f.write("[realms]\n    DOWN.TEST = {\n        kdc = 127.0.0.1:%d\n    }\n"
                    % unused_port())
        down = dict(env, KRB5_CONFIG=realm.krb5_conf + ":" + extra)
        total.add(*run(["test_kerberos_kdc_down.lua"], down))
    print(total.summary())
    return total.status()


if __name__ == "__main__":
    sys.exit(main())
