"""Shared pieces of the interop tests (standard library only).

Every wait is bounded: line reads from helpers, HTTP reads, server start-up
and shutdown all take a timeout, so a hung peer fails the test instead of
hanging ctest.
"""

import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

FAILURES = []


def log(msg):
    print(msg, flush=True)


def check(cond, what, detail=""):
    """Record one check; the script exits non-zero at the end if any failed."""
    if cond:
        log("  ok    %s" % what)
    else:
        log("  FAIL  %s%s" % (what, (": " + detail) if detail else ""))
        FAILURES.append(what)
    return cond


def fatal(msg):
    log("FAIL: " + msg)
    sys.exit(1)


def finish(name):
    if FAILURES:
        log("%s: %d check(s) failed:" % (name, len(FAILURES)))
        for f in FAILURES:
            log("  - " + f)
        sys.exit(1)
    log("%s: all checks passed" % name)
    sys.exit(0)


def require_binary(name, hint):
    """A missing peer is a failure, not a skip: the README's test command
    installs the peers, so their absence means the set-up is broken."""
    path = shutil.which(name)
    if not path:
        fatal("required peer '%s' not found on PATH (%s)" % (name, hint))
    return path


def require_file(path, what):
    if not path or not os.access(path, os.X_OK):
        fatal("%s not found or not executable: %r (build the project first)" % (what, path))
    return path


class TempDir:
    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="sspx-interop-")

    def file(self, name, content):
        p = os.path.join(self.path, name)
        with open(p, "w") as f:
            f.write(content)
        return p

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)


def samba_conf(tmp):
    """A minimal smb.conf with every state directory inside `tmp`, so that
    ntlm_auth neither depends on /etc/samba/smb.conf nor writes outside the
    test's own directory (and works without root)."""
    d = tmp.path
    lines = ["[global]", "  workgroup = TESTDOM"]
    for key, sub in (("lock directory", "lock"), ("state directory", "state"),
                     ("cache directory", "cache"), ("private dir", "private"),
                     ("pid directory", "pid"), ("ncalrpc dir", "ncalrpc")):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
        lines.append("  %s = %s" % (key, os.path.join(d, sub)))
    return tmp.file("smb.conf", "\n".join(lines) + "\n")


class LineProc:
    """A helper process spoken to one line at a time, with timeouts."""

    def __init__(self, argv, name, timeout=15.0):
        self.name = name
        self.timeout = timeout
        self.buf = b""
        self.argv = argv
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, bufsize=0)
        self.err_chunks = []
        # drain stderr so a chatty helper can never block on a full pipe
        self.err_thread = threading.Thread(target=self._drain_err, daemon=True)
        self.err_thread.start()

    def _drain_err(self):
        try:
            for chunk in iter(lambda: self.p.stderr.read(4096), b""):
                self.err_chunks.append(chunk)
        except Exception:
            pass

    def stderr_text(self):
        return b"".join(self.err_chunks).decode("utf-8", "replace")

    def readline(self):
        deadline = time.monotonic() + self.timeout
        fd = self.p.stdout.fileno()
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("%s: no answer within %.0f s" % (self.name, self.timeout))
            r, _, _ = select.select([fd], [], [], left)
            if not r:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                raise EOFError("%s exited (rc=%s); stderr: %s"
                               % (self.name, self.p.poll(), self.stderr_text().strip()[-500:]))
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode("utf-8", "replace").rstrip("\r")

    def ask(self, line):
        """Send one request line, return the one-line answer."""
        self.p.stdin.write((line + "\n").encode())
        self.p.stdin.flush()
        ans = self.readline()
        log("    %-7s <- %-60s -> %s" % (self.name, shorten(line), shorten(ans)))
        return ans

    def close(self):
        try:
            self.p.stdin.close()
        except Exception:
            pass
        try:
            self.p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait(timeout=5)
        return self.p.returncode


def shorten(s, n=60):
    return s if len(s) <= n else s[:n - 3] + "..."


def split_answer(ans):
    """'TT abc' -> ('TT', 'abc'); 'YR' -> ('YR', '')."""
    parts = ans.split(" ", 1)
    return parts[0], parts[1] if len(parts) > 1 else ""


def helper_handshake(client, server):
    """Drive one NTLM handshake between an ntlmssp-client-1 helper and a
    squid-2.5-ntlmssp helper. Returns a dict of what happened."""
    res = {"result": None, "detail": "", "client_gk": None, "server_gk": None,
           "client_gf": None, "server_gf": None, "client_final_tag": None}
    tag, neg = split_answer(client.ask("YR"))
    if tag != "YR" or not neg:
        res["result"], res["detail"] = "client-error", "client answered %r to YR" % tag
        return res
    tag, chal = split_answer(server.ask("YR " + neg))
    if tag != "TT" or not chal:
        res["result"], res["detail"] = "server-error", "server answered %s %s to YR" % (tag, chal)
        return res
    tag, auth = split_answer(client.ask("TT " + chal))
    res["client_final_tag"] = tag
    # Samba 4.x answers AF <token>, older versions KK <token>: both carry
    # the AUTHENTICATE that the server side wants as KK.
    if tag not in ("AF", "KK") or not auth:
        res["result"], res["detail"] = "client-error", "client answered %s %s to TT" % (tag, auth)
        return res
    tag, text = split_answer(server.ask("KK " + auth))
    res["result"], res["detail"] = tag, text
    if tag == "AF":
        t, k = split_answer(server.ask("GK"))
        res["server_gk"] = k if t == "GK" else None
        t, k = split_answer(client.ask("GK"))
        res["client_gk"] = k if t == "GK" else None
        t, f = split_answer(server.ask("GF"))
        res["server_gf"] = f if t == "GF" else None
        t, f = split_answer(client.ask("GF"))
        res["client_gf"] = f if t == "GF" else None
    return res


# ------------------------------------------------------------- demo server

class DemoServer:
    """sspx-ntlm-demo on 127.0.0.1 with a free port; its stdout is collected
    by a thread so the pipe never fills and tests can search it."""

    def __init__(self, binary, args=(), start_timeout=10.0):
        self.binary = binary
        self.lines = []
        self.lock = threading.Lock()
        self.p = subprocess.Popen([binary, "--port", "0"] + list(args),
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=0)
        self.port = None
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        deadline = time.monotonic() + start_timeout
        while time.monotonic() < deadline and self.port is None:
            with self.lock:
                for ln in self.lines:
                    m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", ln)
                    if m:
                        self.port = int(m.group(1))
                        break
            if self.p.poll() is not None and self.port is None:
                break
            time.sleep(0.02)
        if self.port is None:
            self.stop()
            fatal("demo server did not start; output:\n" + self.output())

    def _read(self):
        buf = b""
        for chunk in iter(lambda: self.p.stdout.read(4096), b""):
            buf += chunk
            while b"\n" in buf:
                ln, buf = buf.split(b"\n", 1)
                with self.lock:
                    self.lines.append(ln.decode("utf-8", "replace"))
        if buf:
            with self.lock:
                self.lines.append(buf.decode("utf-8", "replace"))

    def output(self):
        with self.lock:
            return "\n".join(self.lines)

    def mark(self):
        with self.lock:
            return len(self.lines)

    def output_since(self, mark):
        with self.lock:
            return "\n".join(self.lines[mark:])

    def wait_for(self, pattern, since=0, timeout=5.0):
        """Wait until a line matching `pattern` appears after `since`."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while time.monotonic() < deadline:
            with self.lock:
                for ln in self.lines[since:]:
                    if rx.search(ln):
                        return ln
            time.sleep(0.02)
        return None

    def url(self, path="/"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def wait_exit(self, timeout=5.0):
        try:
            return self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            if self.wait_exit(5.0) is None:
                self.p.kill()
                self.p.wait(timeout=5)
        self.reader.join(timeout=5)
        return self.p.returncode


# ------------------------------------------------------------ raw HTTP

class HttpConn:
    """One TCP connection to the demo, speaking just enough HTTP/1.1."""

    def __init__(self, port, timeout=10.0):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def send_raw(self, data):
        self.s.sendall(data)

    def request(self, path="/", auth=None, method="GET", extra=""):
        hdr = "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n" % (method, path)
        if auth:
            hdr += "Authorization: %s\r\n" % auth
        hdr += extra + "\r\n"
        self.s.sendall(hdr.encode())
        return self.read_response(head=(method == "HEAD"))

    def _fill(self):
        chunk = self.s.recv(65536)
        if not chunk:
            raise EOFError("connection closed by the server")
        self.buf += chunk

    def read_response(self, head=False):
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head_bytes, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head_bytes.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            headers.setdefault(k.strip().lower(), []).append(v.strip())
        n = 0 if head else int(headers.get("content-length", ["0"])[0])
        while len(self.buf) < n:
            self._fill()
        body, self.buf = self.buf[:n], self.buf[n:]
        return status, headers, body.decode("utf-8", "replace")

    def is_closed_by_peer(self, timeout=3.0):
        """True if the server closed the connection (EOF) within `timeout`."""
        self.s.settimeout(timeout)
        try:
            return self.s.recv(1) == b""
        except socket.timeout:
            return False
        except OSError:
            return True

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def ntlm_challenge_of(headers):
    """The base64 challenge in 'WWW-Authenticate: NTLM <b64>', or None."""
    for v in headers.get("www-authenticate", []):
        if v.startswith("NTLM "):
            return v[5:].strip()
    return None
