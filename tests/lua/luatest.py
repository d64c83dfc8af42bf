"""What the Python drivers of the Lua tests share (run_kerberos_tests.py,
run_rockspec_build.py, gateway/run_gateway_tests.py,
gateway/run_gateway_negotiate_tests.py): the check counter and its
"ok   - name" / "FAIL - name: detail" lines and "N passed, M failed" summary,
the environment that finds the sspx Lua module, processes whose output a
thread collects, line-protocol helper processes, and for the gateway tests
the echoing upstream (gateway/upstream.py), the gateway launcher, a raw
keep-alive HTTP/1.1 socket and the helpers that read the upstream's echo.

The drivers import it after inserting tests/lua/ in sys.path. Standard
library only; loopback only; every wait is bounded."""
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", ".."))
LUA = shutil.which("lua5.4") or "lua5.4"
CURL = shutil.which("curl") or "curl"


class Checks:
    """The pass/fail counter: check(name, ok, detail) prints one line and counts it."""

    def __init__(self):
        self.passed = self.failed = 0

    def __call__(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"ok   - {name}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL - {name}" + (f": {detail}" if detail else ""), flush=True)
        return ok

    def add(self, passed, failed):
        """Counts of checks made elsewhere (a sub-runner's summary)."""
        self.passed += passed
        self.failed += failed

    def summary(self):
        return f"{self.passed} passed, {self.failed} failed"

    def status(self):
        """The exit status: 1 on any failure."""
        return 1 if self.failed else 0


def build_dir(args):
    """BUILD_DIR from the first of args, else <source>/build."""
    return os.path.abspath(args[0] if args else os.path.join(SRC, "build"))


def lua_paths(build):
    """LUA_CPATH and LUA_PATH that find the sspx module built in `build`."""
    return {"LUA_CPATH": f"{build}/lua/?.so;;",
            "LUA_PATH": f"{SRC}/lua/?.lua;{build}/lua/?.lua;;"}


def lua_env(build):
    """os.environ with lua_paths(build) and no HTTP proxy."""
    env = dict(os.environ, **lua_paths(build))
    for k in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        env.pop(k, None)
    env["NO_PROXY"] = "*"
    return env


def unused_port():
    """A 127.0.0.1 TCP port nothing listens on (bound, then closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Procs(list):
    """The processes a driver started (anything with stop()), stopped at the end."""

    def stop_all(self):
        for p in self:
            try:
                p.stop()
            except Exception:
                pass


class Proc:
    """A subprocess whose output lines (stdout and stderr) are collected by a thread."""

    def __init__(self, argv, env, procs=None, **kw):
        self.p = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True, **kw)
        if procs is not None:
            procs.append(self)
        self.lines = []
        self.cv = threading.Condition()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.p.stdout:
            with self.cv:
                self.lines.append(line.rstrip("\n"))
                self.cv.notify_all()
        with self.cv:
            self.cv.notify_all()

    def wait_line(self, pred, timeout=10):
        """The first truthy pred(line) over the lines so far and to come, or None."""
        end = time.time() + timeout
        with self.cv:
            while True:
                for ln in self.lines:
                    r = pred(ln)
                    if r:
                        return r
                left = end - time.time()
                if left <= 0 or (self.p.poll() is not None and not self.lines):
                    return None
                self.cv.wait(min(left, 0.2))

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(5)


class LineHelper:
    """A helper process that answers each line on its stdin with one line on its stdout."""

    def __init__(self, argv, env, procs=None):
        self.p = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        if procs is not None:
            procs.append(self)

    def ask(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        return self.p.stdout.readline().strip()

    def stop(self):
        if self.p.poll() is None:
            self.p.stdin.close()
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()


# ------------------------------------------------------------ the gateway tests

def start_upstream(env, procs):
    """gateway/upstream.py on a kernel-chosen port: (Proc, port); exit 1 if it does not start."""
    up = Proc([sys.executable, os.path.join(HERE, "gateway", "upstream.py")], env, procs)
    port = up.wait_line(lambda ln: ln.startswith("PORT ") and int(ln.split()[1]))
    if not port:
        print("cannot start the upstream:", up.lines)
        sys.exit(1)
    return up, port


def write_gateway_conf(path, upstream_port, limits, extra=""):
    """A configuration file for examples/gateway.lua: listening on a kernel-chosen
    127.0.0.1 port, the upstream on 127.0.0.1:upstream_port, debug log, limits (a dict),
    then extra (lines "  key = value,\n" of the Lua table)."""
    lim = ", ".join(f"{k} = {v}" for k, v in limits.items())
    with open(path, "w") as f:
        f.write(f"""return {{
  listen = {{ host = "127.0.0.1", port = 0 }},
  upstream = {{ host = "127.0.0.1", port = {upstream_port} }},
  log_level = "debug",
  limits = {{ {lim} }},
{extra}}}
""")


def launch_gateway(conf, env, procs):
    """examples/gateway.lua on the configuration file conf: (Proc, port); exit 1 if it
    does not start."""
    gw = Proc([LUA, os.path.join(SRC, "examples", "gateway.lua"), conf], env, procs)
    port = gw.wait_line(lambda ln: "listening on 127.0.0.1:" in ln
                        and int(ln.split("listening on 127.0.0.1:")[1].split(",")[0]))
    if not port:
        print("cannot start the gateway:", "\n".join(gw.lines))
        sys.exit(1)
    return gw, port


def hits(up_port):
    """How many requests the upstream has served."""
    with socket.create_connection(("127.0.0.1", up_port), timeout=5) as s:
        s.sendall(b"GET /__hits HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    return json.loads(data.split(b"\r\n\r\n", 1)[1])["hits"]


def headers_of(body):
    """The request headers the upstream echoed in body, [(name, value)], or None."""
    try:
        return json.loads(body)["headers"]
    except Exception:
        return None


def user_values(hdrs):
    """The values of every spelling of X-Remote-User in hdrs (None: none)."""
    return [v for k, v in (hdrs or []) if k.lower().replace("_", "-") == "x-remote-user"]


def has_authorization(hdrs):
    return any(k.lower() == "authorization" for k, _ in (hdrs or []))


def www_auth(hdrs):
    """The WWW-Authenticate values of a response's headers, in order."""
    return [v for k, v in hdrs if k.lower() == "www-authenticate"]


class Raw:
    """A raw HTTP/1.1 client connection to 127.0.0.1:port (keep-alive)."""

    host = "gw"  # the Host header of request()

    def __init__(self, port, timeout=10):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data if isinstance(data, bytes) else data.encode())

    def request(self, path="/", headers=(), method="GET", body=b""):
        """Sends a request, reads its response: (status, [(name, value)], body bytes)."""
        h = f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n"
        for k, v in headers:
            h += f"{k}: {v}\r\n"
        if body or method == "POST":
            h += f"Content-Length: {len(body)}\r\n"
        self.send(h.encode() + b"\r\n" + body)
        return self.response()

    def _fill(self):
        b = self.s.recv(65536)
        if not b:
            raise EOFError
        self.buf += b

    def response(self):
        """Reads one Content-Length-framed response: (status, headers, body bytes)."""
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        hdrs = [tuple(x.split(": ", 1)) for x in lines[1:]]
        n = int(dict((k.lower(), v) for k, v in hdrs).get("content-length", "0"))
        while len(self.buf) < n:
            self._fill()
        body, self.buf = self.buf[:n], self.buf[n:]
        return status, hdrs, body

    def closed_within(self, seconds):
        """Seconds until the peer closes (None if it does not within `seconds`)."""
        t0 = time.time()
        self.s.settimeout(seconds)
        try:
            while True:
                b = self.s.recv(65536)
                if not b:
                    return time.time() - t0
        except (socket.timeout, TimeoutError):
            return None
        except ConnectionResetError:
            return time.time() - t0

    def close(self):
        self.s.close()
