#!/usr/bin/python3
"""Build the rock as a luarocks user would, and test what it installed.

usage: run_rockspec_build.py

Copies csrc/ and lua/ of the source tree to a temporary directory (the build
writes build-rock/ there, never into the checkout), runs
``luarocks --lua-version 5.4 --tree T make lua/sspx-0.1.0-1.rockspec`` in it
(HOME pointed at the temp dir: no user configuration read or written), then
checks the installed module: it loads, lists NTLM and Negotiate, and Kerberos
exactly when pkg-config finds Heimdal, with a RUNPATH to Heimdal's library
dir; when it has Kerberos, run_kerberos_tests.py runs the Lua Kerberos tests
against it (a throwaway realm). One line per check, "N passed, M failed"."""
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from luatest import SRC, Checks  # noqa: E402

LUAROCKS = shutil.which("luarocks")
check = Checks()


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=600,
                          stdin=subprocess.DEVNULL, **kw)


def main():
    if not check("luarocks installed", LUAROCKS is not None, "apt-get install luarocks"):
        return
    heimdal = run(["pkg-config", "--exists", "heimdal-gssapi", "heimdal-krb5"]).returncode == 0
    libdir = run(["pkg-config", "--variable=libdir", "heimdal-krb5"]).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="sspx-rock-") as tmp:
        src, tree = os.path.join(tmp, "src"), os.path.join(tmp, "tree")
        for d in ("csrc", "lua"):
            shutil.copytree(os.path.join(SRC, d), os.path.join(src, d),
                            ignore=shutil.ignore_patterns("*.o", "__pycache__"))
        env = dict(os.environ, HOME=tmp)
        p = run([LUAROCKS, "--lua-version", "5.4", "--tree", tree, "make",
                 "lua/sspx-0.1.0-1.rockspec"], cwd=src, env=env)
        if not check("luarocks make", p.returncode == 0, (p.stdout + p.stderr)[-3000:]):
            return
        so = os.path.join(tree, "lib", "lua", "5.4", "sspx", "core.so")
        check("sspx/core.so installed", os.path.exists(so))
        for f in ("sspx.lua", os.path.join("sspx", "gateway.lua")):
            check(f + " installed", os.path.exists(os.path.join(tree, "share", "lua", "5.4", f)))
        lenv = dict(os.environ, LUA_CPATH=f"{tree}/lib/lua/5.4/?.so;;",
                    LUA_PATH=f"{tree}/share/lua/5.4/?.lua;;")
        p = run(["lua5.4", "-e", 'local s = require "sspx"; require "sspx.gateway"; '
                 'print(table.concat(s.packages(), ","))'], env=lenv)
        pkgs = p.stdout.strip().split(",")
        check("the module loads", p.returncode == 0, p.stderr)
        check("NTLM and Negotiate", "NTLM" in pkgs and "Negotiate" in pkgs, p.stdout)
        check("Kerberos %s (pkg-config %s Heimdal)" % ("in" if heimdal else "not in",
                                                        "finds" if heimdal else "does not find"),
              ("Kerberos" in pkgs) == heimdal, p.stdout)
        if heimdal:
            d = run(["readelf", "-d", so]).stdout
            check("RUNPATH to Heimdal's " + libdir, libdir and libdir in d, d)
            p = run([sys.executable, os.path.join(HERE, "run_kerberos_tests.py"),
                     "--lua-tree", tree])
            sys.stdout.write(p.stdout)
            check("the Lua Kerberos tests against the rock's module", p.returncode == 0,
                  p.stderr[-2000:])


if __name__ == "__main__":
    try:
        main()
    finally:
        print(check.summary())
    sys.exit(check.status())
