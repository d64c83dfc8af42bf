#!/usr/bin/env python3
"""The full NTLM handshake in Python (sspx.ClientContext/ServerContext,
step x4, contexts created and closed in the loop) against the same loop in C,
measured in the same run.

    build/venv/bin/python bench/bench_python.py            # the table (~15 s)
    build/venv/bin/python bench/bench_python.py --leak 100000

The C loop is compiled once (cached in build-bench/pybench/) from the same
csrc/ sources with the same compiler and flags as the extension (Python's
sysconfig CFLAGS plus setup.py's), and called through ctypes: it drives the
same native API the extension wraps (sspx_ctx_new, sspx_ctx_step x4,
sspx_ctx_free) with the same credentials, flags and users file, so the ratio
is the cost of the Python layer alone. The row "C bench_ntlm" (SSPI entry
points, the -O3 build of bench/run.sh) is shown for reference when
build-bench/bench/bench_ntlm exists.

See bench/README.md ("Python") for what each row means.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import ctypes
import gc
import hashlib
import os
import re
import shlex
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOMAIN, USER, PASSWORD = "TESTDOM", "alice", "Passw0rd!"

C_LOOP = r"""
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <sspx/sspi.h>
#include <sspx/sspx.h>

#define EXPORT __attribute__((visibility("default")))

static sspx_cred *g_srv, *g_cli;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

EXPORT int pybench_setup(const char *users_file, const char *domain, const char *user,
                         const char *password)
{
    sspx_config *cfg = sspx_config_new();
    SECURITY_STATUS st;
    if (!cfg)
        return -1;
    sspx_config_set(cfg, "users_file", users_file);
    sspx_config_set(cfg, "netbios_domain", domain);
    st = sspx_cred_acquire("NTLM", SSPX_CRED_INBOUND, cfg, &g_srv);
    sspx_config_free(&cfg);
    if (st != SEC_E_OK)
        return (int)st;
    cfg = sspx_config_new();
    sspx_config_set(cfg, "user", user);
    sspx_config_set(cfg, "domain", domain);
    sspx_config_set(cfg, "password", password);
    st = sspx_cred_acquire("NTLM", SSPX_CRED_OUTBOUND, cfg, &g_cli);
    sspx_config_free(&cfg);
    return (int)st;
}

EXPORT void pybench_teardown(void)
{
    sspx_cred_free(&g_srv);
    sspx_cred_free(&g_cli);
}

/* n handshakes; with legs != NULL, the time of each of the 8 operations is
 * added to legs[0..7] (new x2, c1, s1, c2, s2, free x2). Returns 0 or the
 * first failing status. */
EXPORT int pybench_run(long n, uint32_t cflags, uint32_t sflags, double *legs)
{
    for (long i = 0; i < n; i++) {
        sspx_ctx *s = NULL, *c = NULL;
        sspx_ctx_params sp, cp;
        sspx_buf t1 = {0}, t2 = {0}, t3 = {0}, t4 = {0};
        SECURITY_STATUS st;
        uint64_t t = legs ? now_ns() : 0, u;
#define LEG(k)                                   \
        if (legs) {                              \
            u = now_ns();                        \
            legs[k] += (double)(u - t);          \
            t = u;                               \
        }
        memset(&sp, 0, sizeof(sp));
        memset(&cp, 0, sizeof(cp));
        sp.flags = sflags;
        cp.flags = cflags;
        cp.target = "HTTP/server";
        if ((st = sspx_ctx_new(g_srv, &sp, &s)) < 0) return (int)st;
        if ((st = sspx_ctx_new(g_cli, &cp, &c)) < 0) return (int)st;
        LEG(0)
        if ((st = sspx_ctx_step(c, NULL, 0, &t1)) < 0) return (int)st;
        LEG(1)
        if ((st = sspx_ctx_step(s, t1.data, t1.len, &t2)) < 0) return (int)st;
        LEG(2)
        if ((st = sspx_ctx_step(c, t2.data, t2.len, &t3)) < 0) return (int)st;
        LEG(3)
        if ((st = sspx_ctx_step(s, t3.data, t3.len, &t4)) < 0) return (int)st;
        LEG(4)
        if (!sspx_ctx_is_complete(s) || !sspx_ctx_is_complete(c)) return -2;
        sspx_buf_free(&t1);
        sspx_buf_free(&t2);
        sspx_buf_free(&t3);
        sspx_buf_free(&t4);
        sspx_ctx_free(&s);
        sspx_ctx_free(&c);
        LEG(5)
    }
    return 0;
}
"""

LEG_NAMES = ["contexts new x2", "client step 1", "server step 1", "client step 2",
             "server step 2", "tokens+contexts freed"]


# ------------------------------------------------------------------ the C loop

def _extension_flags():
    """Compiler and flags the way setuptools builds the extension (setup.py)."""
    cv = sysconfig.get_config_vars()
    cc = shlex.split(cv.get("CC") or "cc")
    cflags = shlex.split(cv.get("CFLAGS") or "") + shlex.split(cv.get("CCSHARED") or "-fPIC")
    cflags += ["-std=c11", "-fvisibility=hidden", "-Wno-missing-field-initializers",
               "-DSSPX_BUILDING_LIBRARY", "-D_GNU_SOURCE",
               "-I" + os.path.join(ROOT, "csrc/include"), "-I" + os.path.join(ROOT, "csrc")]
    try:
        cflags += subprocess.run(["pkg-config", "--cflags-only-I", "libcrypto"], check=True,
                                 capture_output=True, text=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        pass
    return cc, cflags


def _core_sources():
    import glob

    pats = ["csrc/api/*.c", "csrc/core/*.c", "csrc/wire/*.c", "csrc/crypto/*.c",
            "csrc/packages/*/*.c"]
    return sorted(f for p in pats for f in glob.glob(os.path.join(ROOT, p)))


def build_c_loop(build_dir, quiet=False):
    """Compile the core + C_LOOP into a shared library (cached); its path."""
    cc, cflags = _extension_flags()
    srcs = _core_sources()
    os.makedirs(build_dir, exist_ok=True)
    loop_c = os.path.join(build_dir, "pybench_loop.c")
    if not os.path.exists(loop_c) or open(loop_c).read() != C_LOOP:
        with open(loop_c, "w") as f:
            f.write(C_LOOP)
    srcs = srcs + [loop_c]
    h = hashlib.sha256(repr((cc, cflags)).encode())
    headers = []
    for d in ("csrc",):
        for dp, _, fs in os.walk(os.path.join(ROOT, d)):
            headers += [os.path.join(dp, f) for f in fs if f.endswith((".h", ".def"))]
    for f in sorted(headers):
        h.update(open(f, "rb").read())
    hdr_digest = h.hexdigest()[:16]

    def obj_of(src):
        d = hashlib.sha256((hdr_digest + src).encode() + open(src, "rb").read()).hexdigest()[:16]
        return os.path.join(build_dir, f"{os.path.basename(src)[:-2]}.{d}.o")

    objs = [obj_of(s) for s in srcs]
    todo = [(s, o) for s, o in zip(srcs, objs) if not os.path.exists(o)]
    if todo and not quiet:
        print(f"compiling the C loop with the extension's flags ({len(todo)} files, -j2) ...",
              file=sys.stderr)

    def compile_one(pair):
        src, obj = pair
        r = subprocess.run(cc + cflags + ["-c", src, "-o", obj + ".tmp"], capture_output=True,
                           text=True)
        if r.returncode:
            raise RuntimeError(f"compiling {src} failed:\n{r.stderr}")
        os.replace(obj + ".tmp", obj)

    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        list(ex.map(compile_one, todo))
    lib = os.path.join(build_dir, "libpybench.%s.so" % hashlib.sha256("".join(objs).encode())
                       .hexdigest()[:16])
    if not os.path.exists(lib):
        r = subprocess.run(cc + ["-shared", "-o", lib + ".tmp"] + objs + ["-lcrypto", "-lpthread"],
                           capture_output=True, text=True)
        if r.returncode:
            raise RuntimeError("linking the C loop failed:\n" + r.stderr)
        os.replace(lib + ".tmp", lib)
    return lib, " ".join(cc + [f for f in cflags if not f.startswith("-I")])


class CLoop:
    def __init__(self, lib_path, users_file):
        self.lib = ctypes.CDLL(lib_path, mode=ctypes.RTLD_LOCAL)
        self.lib.pybench_setup.argtypes = [ctypes.c_char_p] * 4
        self.lib.pybench_run.argtypes = [ctypes.c_long, ctypes.c_uint32, ctypes.c_uint32,
                                         ctypes.POINTER(ctypes.c_double)]
        st = self.lib.pybench_setup(users_file.encode(), DOMAIN.encode(), USER.encode(),
                                    PASSWORD.encode())
        if st:
            raise RuntimeError(f"C loop setup failed: 0x{st & 0xFFFFFFFF:08X}")

    def run(self, n, cflags, sflags):
        t = time.perf_counter()
        st = self.lib.pybench_run(n, cflags, sflags, None)
        dt = time.perf_counter() - t
        if st:
            raise RuntimeError(f"C loop failed: 0x{st & 0xFFFFFFFF:08X}")
        return dt

    def legs(self, n, cflags, sflags):
        arr = (ctypes.c_double * 8)()
        st = self.lib.pybench_run(n, cflags, sflags, arr)
        if st:
            raise RuntimeError(f"C loop failed: 0x{st & 0xFFFFFFFF:08X}")
        return [arr[i] / n for i in range(len(LEG_NAMES))]


# ------------------------------------------------------------- the Python loop

def py_loop(sspx, n, server, client, cflags, sflags):
    Server, Client = sspx.ServerContext, sspx.ClientContext
    t = time.perf_counter()
    for _ in range(n):
        s = Server(server, flags=sflags)
        c = Client(client, flags=cflags, target="HTTP/server")
        s.step(c.step(s.step(c.step())))
        s.close()
        c.close()
    return time.perf_counter() - t


def py_legs(sspx, n, server, client, cflags, sflags):
    Server, Client = sspx.ServerContext, sspx.ClientContext
    clock = time.perf_counter_ns
    acc = [0] * len(LEG_NAMES)
    for _ in range(n):
        t0 = clock()
        s = Server(server, flags=sflags)
        c = Client(client, flags=cflags, target="HTTP/server")
        t1 = clock()
        a = c.step()
        t2 = clock()
        b = s.step(a)
        t3 = clock()
        a = c.step(b)
        t4 = clock()
        s.step(a)
        t5 = clock()
        s.close()
        c.close()
        t6 = clock()
        for i, (x, y) in enumerate(((t0, t1), (t1, t2), (t2, t3), (t3, t4), (t4, t5), (t5, t6))):
            acc[i] += y - x
    return [v / n for v in acc]


def py_threads(sspx, n, server, client, cflags, sflags, nthreads):
    """n handshakes split over nthreads threads; wall time."""
    barrier = threading.Barrier(nthreads + 1)
    errors = []

    def work(k):
        try:
            barrier.wait()
            py_loop(sspx, k, server, client, cflags, sflags)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    per = n // nthreads
    ts = [threading.Thread(target=work, args=(per,)) for _ in range(nthreads)]
    for t in ts:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in ts:
        t.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - t0, per * nthreads


# ------------------------------------------------------------------- helpers

def rss_kib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def fmt_range(vals, scale=1e6):
    v = sorted(x * scale for x in vals)
    return f"{statistics.median(v):7.2f} [{v[0]:6.2f}..{v[-1]:6.2f}]"


def bench_ntlm_reference(path):
    """sspx's row of bench_ntlm --only-sspx: (us per handshake, hs/s) or None."""
    try:
        out = subprocess.run([path, "--only-sspx", "--rounds", "3", "--seconds", "0.2"],
                             capture_output=True, text=True, timeout=120).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r"^\s*sspx\s+([\d.]+)\s+\[.*?\]\s+(\d+)", out, re.M)
    return (float(m.group(1)), int(m.group(2))) if m else None


def leak(sspx, n, server, client, cflags, sflags, store):
    print(f"RSS over {n} Python handshakes (users {store}; contexts created and closed "
          f"in the loop; gc.collect() before each reading)")
    marks = sorted({0, n // 10, n // 2, n})
    done = 0
    py_loop(sspx, 1000, server, client, cflags, sflags)  # warm-up: caches, allocator pools
    base = None
    print(f"  {'handshakes':>10}  {'RSS KiB':>9}  {'growth KiB':>10}")
    t0 = time.perf_counter()
    for m in marks:
        if m > done:
            py_loop(sspx, m - done, server, client, cflags, sflags)
            done = m
        gc.collect()
        r = rss_kib()
        base = r if base is None else base
        print(f"  {m:>10}  {r:>9}  {r - base:>+10}")
    dt = time.perf_counter() - t0
    print(f"  {n} handshakes in {dt:.1f} s ({dt / max(n, 1) * 1e6:.2f} us each)")
    return rss_kib() - base


# ---------------------------------------------------------------------- main

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds; median reported")
    ap.add_argument("--seconds", type=float, default=0.25,
                    help="target length of one measurement (default 0.25)")
    ap.add_argument("--store", choices=["file", "dict"], default="file",
                    help="the Python server's users: the users file (C lookup, as the C loop) "
                         "or a dict (a Python lookup callable)")
    ap.add_argument("--leak", type=int, metavar="N", help="run N handshakes, print RSS, exit")
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build-bench", "pybench"),
                    help="where the C loop is compiled (cached)")
    ap.add_argument("--bench-ntlm", default=os.path.join(ROOT, "build-bench", "bench", "bench_ntlm"),
                    help="bench_ntlm binary for the reference row ('' to skip)")
    args = ap.parse_args(argv)

    import sspx

    fd, users_file = tempfile.mkstemp(prefix="sspx-pybench-users.")
    with os.fdopen(fd, "w") as f:
        f.write(f"{DOMAIN}:{USER}:{PASSWORD}\n")
    try:
        cflags = int(sspx.IscReq.INTEGRITY | sspx.IscReq.CONFIDENTIALITY)
        sflags = int(sspx.AscReq.INTEGRITY | sspx.AscReq.CONFIDENTIALITY)
        client = sspx.Credential.client("NTLM", user=f"{DOMAIN}\\{USER}", password=PASSWORD)
        server_file = sspx.Credential.server("NTLM", users=users_file, netbios_domain=DOMAIN)
        server_dict = sspx.Credential.server("NTLM", users={f"{DOMAIN}\\{USER}": PASSWORD},
                                             netbios_domain=DOMAIN)
        server = server_file if args.store == "file" else server_dict
        # a correct handshake first
        s = sspx.ServerContext(server, flags=sflags)
        c = sspx.ClientContext(client, flags=cflags, target="HTTP/server")
        s.step(c.step(s.step(c.step())))
        assert s.complete and c.complete and s.client_name == f"{DOMAIN}\\{USER}"
        assert s.session_key == c.session_key
        s.close()
        c.close()

        if args.leak:
            grew = leak(sspx, args.leak, server, client, cflags, sflags, args.store)
            print(f"  growth from 0 to {args.leak} (after a 1000-handshake warm-up): {grew} KiB")
            return 0

        lib, how = build_c_loop(args.build_dir)
        cl = CLoop(lib, users_file)
        print("sspx NTLM handshake: Python vs C, one process, one run")
        print(f"  Python {sys.version.split()[0]}, sspx {sspx.__version__}, "
              f"load avg {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
        print(f"  C loop: {os.path.relpath(lib, ROOT)} = csrc/ + the native-API loop, built like "
              f"the extension:\n    {how}")
        print("  handshake: NTLMv2, client ISC_REQ_INTEGRITY|CONFIDENTIALITY, server "
              "ASC_REQ_INTEGRITY|CONFIDENTIALITY;\n  contexts created and freed in every "
              "handshake; credentials acquired once")

        # calibrate on the slower (Python) loop; the C loop gets the same count
        n = 200
        while True:
            dt = py_loop(sspx, n, server, client, cflags, sflags)
            if dt >= args.seconds / 4 or n > 10_000_000:
                break
            n *= 2
        n = max(200, int(n * args.seconds / max(dt, 1e-9)))

        rows = {"py": [], "py_other": [], "c": [], "py2": [], "c2": []}
        other = server_dict if server is server_file else server_file
        for _ in range(args.rounds):
            rows["c"].append(cl.run(n, cflags, sflags) / n)
            rows["py"].append(py_loop(sspx, n, server, client, cflags, sflags) / n)
            rows["py_other"].append(py_loop(sspx, n, other, client, cflags, sflags) / n)
            dt, done = py_threads(sspx, n, server, client, cflags, sflags, 2)
            rows["py2"].append(dt / done)
            ts = [threading.Thread(target=cl.run, args=(n // 2, cflags, sflags)) for _ in range(2)]
            t0 = time.perf_counter()
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            rows["c2"].append((time.perf_counter() - t0) / (n // 2 * 2))
        nl = max(1000, n // 4)
        c_legs = cl.legs(nl, cflags, sflags)
        p_legs = py_legs(sspx, nl, server, client, cflags, sflags)
        ref = bench_ntlm_reference(args.bench_ntlm) if args.bench_ntlm and os.path.exists(
            args.bench_ntlm) else None

        med = {k: statistics.median(v) for k, v in rows.items()}
        other_name = "dict" if args.store == "file" else "file"
        print()
        print(f"Handshakes (median of {args.rounds} rounds [min..max], {n} handshakes each)")
        print(f"  {'loop':<34} {'us/handshake':>22} {'hs/s':>9} {'vs C':>6}")
        lines = [
            ("C (native API, ctypes-called)", "c"),
            (f"Python (users {args.store})", "py"),
            (f"Python (users {other_name})", "py_other"),
            ("Python, 2 threads (wall/hs)", "py2"),
            ("C, 2 threads (wall/hs)", "c2"),
        ]
        for label, k in lines:
            print(f"  {label:<34} {fmt_range(rows[k]):>22} {1 / med[k]:>9.0f} "
                  f"{med['c'] / med[k]:>6.2f}")
        if ref:
            print(f"  {'C bench_ntlm (SSPI API, -O3)':<34} {ref[0]:>7.2f}{'':>15} {ref[1]:>9} "
                  f"{'':>6}  (reference: other build)")
        ratio = med["c"] / med["py"]
        print()
        print(f"  Python/C handshake rate: {ratio:.2f}   target >= 0.60   "
              f"{'PASS' if ratio >= 0.6 else 'MISS'}")
        print(f"  Python overhead per handshake: {(med['py'] - med['c']) * 1e6:.2f} us "
              f"(~{(med['py'] - med['c']) * 1e6 / 6:.2f} us per wrapped call: 2 new, 4 steps)")
        print(f"  2 threads vs 1: Python {med['py'] / med['py2']:.2f}x the handshake rate, "
              f"C {med['c'] / med['c2']:.2f}x")
        print()
        print(f"Per leg (mean over {nl} timed handshakes; clock reads included)")
        print(f"  {'leg':<24} {'C us':>8} {'Python us':>10} {'overhead us':>12}")
        for name, c_us, p_us in zip(LEG_NAMES, c_legs, p_legs):
            print(f"  {name:<24} {c_us / 1e3:>8.2f} {p_us / 1e3:>10.2f} {(p_us - c_us) / 1e3:>12.2f}")
        print(f"  {'total':<24} {sum(c_legs) / 1e3:>8.2f} {sum(p_legs) / 1e3:>10.2f} "
              f"{(sum(p_legs) - sum(c_legs)) / 1e3:>12.2f}")
        print(f"\n  load avg at end: {os.getloadavg()[0]:.2f}")
        return 0
    finally:
        os.unlink(users_file)


if __name__ == "__main__":
    sys.exit(main())
