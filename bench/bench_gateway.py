#!/usr/bin/env python3
"""Throughput of the Lua NTLM gateway (lua/sspx/gateway.lua) against the same
upstream reached directly.

usage: BUILD/venv/bin/python bench/bench_gateway.py [BUILD_DIR] [--requests N] [--conns 1,4]
(bench/bench_gateway.sh runs it with build/venv/bin/python.)

A small fast keep-alive upstream (upstream_fast.py below, selectors, canned
200 responses) runs in its own process. Each client process opens one
keep-alive connection; through the gateway it first authenticates with NTLM
(tokens from the sspx Python package: sspx.ClientContext), then sends N GET
requests one after another on that connection; the clock covers the N
requests only. Prints direct req/s, gateway req/s and the ratio per
connection count."""
import argparse
import base64
import multiprocessing
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, ".."))

UPSTREAM = r'''
import selectors, socket, sys
RESP = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nhello, world\n")
sel = selectors.DefaultSelector()
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0)); srv.listen(128); srv.setblocking(False)
sel.register(srv, selectors.EVENT_READ, None)
print("PORT", srv.getsockname()[1], flush=True)
bufs = {}
while True:
    for key, _ in sel.select():
        if key.data is None:
            c, _ = srv.accept(); c.setblocking(False)
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sel.register(c, selectors.EVENT_READ, 1); bufs[c] = b""
            continue
        c = key.fileobj
        try:
            d = c.recv(65536)
        except ConnectionError:
            d = b""
        if not d:
            sel.unregister(c); c.close(); bufs.pop(c, None); continue
        b = bufs[c] + d
        out = []
        while b"\r\n\r\n" in b:
            _, b = b.split(b"\r\n\r\n", 1)   # GETs without bodies
            out.append(RESP)
        bufs[c] = b
        if out:
            c.sendall(b"".join(out))
'''


def read_response(s, buf):
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            raise EOFError("closed")
        buf += d
    head, buf = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        hdrs.setdefault(k.strip().lower(), []).append(v.strip())
    n = int(hdrs.get("content-length", ["0"])[0])
    while len(buf) < n:
        buf += s.recv(65536)
    return status, hdrs, buf[n:]


def worker(port, n, auth, q, ready, go):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = b""
    if auth:
        import sspx
        cred = sspx.Credential.client(user="TESTDOM\\bob", password="Passw0rd!")
        ctx = sspx.ClientContext(cred)
        tok = ctx.step(None)
        s.sendall(b"GET / HTTP/1.1\r\nHost: b\r\nAuthorization: NTLM " + base64.b64encode(tok) + b"\r\n\r\n")
        st, hdrs, buf = read_response(s, buf)
        ch = [v for v in hdrs.get("www-authenticate", []) if v.startswith("NTLM ")][0][5:]
        tok = ctx.step(base64.b64decode(ch))
        s.sendall(b"GET / HTTP/1.1\r\nHost: b\r\nAuthorization: NTLM " + base64.b64encode(tok) + b"\r\n\r\n")
        st, hdrs, buf = read_response(s, buf)
        assert st == 200, st
    req = b"GET /bench HTTP/1.1\r\nHost: b\r\n\r\n"
    ready.release()
    go.wait()
    t0 = time.perf_counter()
    for _ in range(n):
        s.sendall(req)
        st, _, buf = read_response(s, buf)
        if st != 200:
            raise RuntimeError(f"status {st}")
    q.put((n, time.perf_counter() - t0))
    s.close()


def measure(port, conns, n, auth):
    """Aggregate req/s: all clients connect (and authenticate) first, then
    start together; the clock runs from the start signal to the last reply."""
    q = multiprocessing.Queue()
    ready, go = multiprocessing.Semaphore(0), multiprocessing.Event()
    ps = [multiprocessing.Process(target=worker, args=(port, n, auth, q, ready, go))
          for _ in range(conns)]
    for p in ps:
        p.start()
    for _ in ps:
        ready.acquire(timeout=60)
    t0 = time.perf_counter()
    go.set()
    res = [q.get(timeout=300) for _ in ps]
    wall = time.perf_counter() - t0
    for p in ps:
        p.join(30)
    if os.environ.get("BENCH_DEBUG"):
        print("debug", conns, n, wall, res, file=sys.stderr)
    return sum(r[0] for r in res) / wall, wall


def start(argv, env, marker):
    p = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    end = time.time() + 10
    while time.time() < end:
        line = p.stdout.readline()
        if not line:
            break
        if marker in line:
            return p, line
    p.kill()
    raise SystemExit(f"cannot start {argv}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build", nargs="?", default=os.path.join(SRC, "build"))
    ap.add_argument("--requests", type=int, default=5000)
    ap.add_argument("--conns", default="1,4")
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    env = dict(os.environ, LUA_CPATH=f"{build}/lua/?.so;;",
               LUA_PATH=f"{SRC}/lua/?.lua;{build}/lua/?.lua;;")
    tmp = tempfile.mkdtemp(prefix="sspx-gwbench-")
    procs = []
    try:
        up, line = start([sys.executable, "-c", UPSTREAM], env, "PORT ")
        procs.append(up)
        up_port = int(line.split()[1])
        conf = os.path.join(tmp, "gw.conf.lua")
        with open(conf, "w") as f:
            f.write('return { listen = { host = "127.0.0.1", port = 0 }, '
                    f'upstream = {{ host = "127.0.0.1", port = {up_port} }}, '
                    'users = { ["TESTDOM\\\\bob"] = "Passw0rd!" }, netbios_domain = "TESTDOM", '
                    'log_level = "warn" }\n')
        gw, _ = start([shutil.which("lua5.4") or "lua5.4", "-e", f"CONF=[[{conf}]]", "-e",
                       "local g=require'sspx.gateway'; local gw=g.new(g.load_config(CONF)); gw:start();"
                       " io.stdout:write('PORT ', gw.port, '\\n'); io.stdout:flush(); gw:run()"],
                      env, "PORT ")
        procs.append(gw)
        # the gateway's port: ask the line again (the -e script printed it)
        gw_port = int(_.split()[1])
        print(f"requests per connection: {a.requests}; GET, keep-alive, one request in flight per connection")
        print(f"{'conns':>5} | {'direct req/s':>12} | {'gateway req/s':>13} | {'ratio':>5}")
        print("-" * 46)
        for c in [int(x) for x in a.conns.split(",")]:
            measure(up_port, c, 200, False)  # warm-up
            d, _w = measure(up_port, c, a.requests, False)
            measure(gw_port, c, 200, True)
            g, _w = measure(gw_port, c, a.requests, True)
            print(f"{c:>5} | {d:>12.0f} | {g:>13.0f} | {g / d:>5.2f}")
        if shutil.which("wrk"):
            r = subprocess.run(["wrk", "-t1", "-c4", "-d3s", f"http://127.0.0.1:{up_port}/"],
                               capture_output=True, text=True, timeout=30)
            rps = [ln for ln in r.stdout.splitlines() if "Requests/sec" in ln]
            print(f"(reference: wrk -c4 straight at the upstream: {rps[0].split()[-1] if rps else '?'} req/s; "
                  "wrk cannot do NTLM, so it cannot go through the gateway)")
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
