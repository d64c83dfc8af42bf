#!/usr/bin/python3
"""Raw-socket HTTP tests of sspx-ntlm-demo (python stdlib sockets); the NTLM
client tokens come from our sspx-ntlm-helper (ntlmssp-client-1).

Checks:
  - NTLM state is bound to the TCP connection: a NEGOTIATE on connection A
    and the AUTHENTICATE on a NEW connection B gets 401 (and the same
    AUTHENTICATE then succeeds on A, so the 401 came from the connection
    change and not from a bad token);
  - a new NEGOTIATE on an authenticated connection restarts its handshake;
  - a request without Authorization gets 401 + 'WWW-Authenticate: NTLM';
  - pipelined requests (one with a body) are answered in order;
  - invalid base64 gets 400; headers over 16 KiB get 431 and a close;
  - an idle connection is closed after --idle-timeout;
  - --max-requests N and --once make the demo exit 0 by themselves;
  - SIGTERM makes it exit 0.

usage: test_demo_raw_http.py --demo PATH --helper PATH
"""
import argparse
import os
import re
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop_common as ic  # noqa: E402

NAME = "demo_raw_http"


class NtlmClient:
    """Client tokens from sspx-ntlm-helper, one handshake at a time."""

    def __init__(self, helper, user="bob", domain="TESTDOM", password="Passw0rd!"):
        self.p = ic.LineProc([helper, "--helper-protocol=ntlmssp-client-1", "--username", user,
                              "--domain", domain, "--password", password], "sspx-cl")

    def negotiate(self):
        tag, tok = ic.split_answer(self.p.ask("YR"))
        if tag != "YR" or not tok:
            raise RuntimeError("client helper: YR -> %s %s" % (tag, tok))
        return tok

    def authenticate(self, challenge):
        tag, tok = ic.split_answer(self.p.ask("TT " + challenge))
        if tag not in ("AF", "KK") or not tok:
            raise RuntimeError("client helper: TT -> %s %s" % (tag, tok))
        return tok

    def close(self):
        self.p.close()


def www_auth(headers):
    return headers.get("www-authenticate", [])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--demo", required=True)
    ap.add_argument("--helper", required=True)
    args = ap.parse_args()
    demo = ic.require_file(args.demo, "sspx-ntlm-demo")
    helper = ic.require_file(args.helper, "sspx-ntlm-helper")

    cl = NtlmClient(helper)
    srv = ic.DemoServer(demo, ["--idle-timeout", "2"])
    conns = []
    try:
        ic.log("demo listening on %s" % srv.url())

        ic.log("\n[no Authorization]")
        a = ic.HttpConn(srv.port)
        conns.append(a)
        st, h, _ = a.request("/")
        ic.check(st == 401 and www_auth(h) == ["NTLM"],
                 "401 with 'WWW-Authenticate: NTLM'", "%s %s" % (st, www_auth(h)))

        ic.log("\n[NEGOTIATE on connection A, AUTHENTICATE on a new connection B]")
        st, h, _ = a.request("/", "NTLM " + cl.negotiate())
        chal = ic.ntlm_challenge_of(h)
        ic.check(st == 401 and chal, "A: NEGOTIATE -> 401 with an NTLM challenge",
                 "%s %s" % (st, www_auth(h)))
        auth = cl.authenticate(chal)
        b = ic.HttpConn(srv.port)
        conns.append(b)
        m = srv.mark()
        st, h, body = b.request("/", "NTLM " + auth)
        ic.check(st == 401, "B: AUTHENTICATE on a new connection -> 401", "%s %r" % (st, body))
        ic.check(www_auth(h) == ["NTLM"], "B: 401 carries a bare 'WWW-Authenticate: NTLM'",
                 repr(www_auth(h)))
        ic.check(srv.wait_for(r"authentication failed: ", m) is not None,
                 "demo printed the failure on B")
        ic.log("    demo: %s" % (srv.wait_for(r"authentication failed: ", m) or "").strip())
        st, _, body = a.request("/", "NTLM " + auth)
        ic.check(st == 200 and "TESTDOM\\bob" in body,
                 "A: the same AUTHENTICATE on the original connection -> 200 TESTDOM\\bob",
                 "%s %r" % (st, body))
        st, _, body = a.request("/again")
        ic.check(st == 200 and "TESTDOM\\bob" in body,
                 "A: next request without a header stays authenticated", "%s %r" % (st, body))
        st, _, body = b.request("/")
        ic.check(st == 401, "B: still unauthenticated", "%s %r" % (st, body))

        ic.log("\n[new NEGOTIATE on an authenticated connection restarts it]")
        m = srv.mark()
        st, h, _ = a.request("/", "NTLM " + cl.negotiate())
        chal = ic.ntlm_challenge_of(h)
        ic.check(st == 401 and chal, "A: second NEGOTIATE -> 401 with a fresh challenge",
                 "%s %s" % (st, www_auth(h)))
        ic.check(srv.wait_for(r"restarting this connection's context", m) is not None,
                 "demo printed the restart")
        st, _, body = a.request("/", "NTLM " + cl.authenticate(chal))
        ic.check(st == 200 and "TESTDOM\\bob" in body, "A: restarted handshake -> 200",
                 "%s %r" % (st, body))

        ic.log("\n[HEAD and HTTP/1.0]")
        st, h, _ = a.request("/", method="HEAD")
        ic.check(st == 200, "HEAD on the authenticated connection -> 200", str(st))
        c = ic.HttpConn(srv.port)
        conns.append(c)
        c.send_raw(b"GET / HTTP/1.0\r\n\r\n")
        st, h, _ = c.read_response()
        ic.check(st == 401 and h.get("connection") == ["close"] and c.is_closed_by_peer(),
                 "HTTP/1.0 without keep-alive -> 401, then the server closes",
                 "%s %s" % (st, h.get("connection")))

        ic.log("\n[pipelining]")
        p = ic.HttpConn(srv.port)
        conns.append(p)
        # three requests in one write, the second with a body to skip
        p.send_raw(b"GET /p1 HTTP/1.1\r\nHost: x\r\n\r\n"
                   b"POST /p2 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
                   b"GET /p3 HTTP/1.1\r\nHost: x\r\n\r\n")
        codes = [p.read_response()[0] for _ in range(3)]
        ic.check(codes == [401, 401, 401], "three pipelined requests get three answers in order",
                 repr(codes))
        ic.check(srv.wait_for(r"GET /p3 HTTP/1.1", 0) is not None, "demo parsed the third request")

        ic.log("\n[malformed input]")
        d = ic.HttpConn(srv.port)
        conns.append(d)
        st, _, _ = d.request("/", "NTLM !!!not*base64!!!")
        ic.check(st == 400, "invalid base64 in Authorization -> 400", str(st))
        e = ic.HttpConn(srv.port)
        conns.append(e)
        e.send_raw(b"GET / HTTP/1.1\r\nHost: x\r\nX-Filler: " + b"a" * (17 * 1024) + b"\r\n\r\n")
        try:
            st, _, _ = e.read_response()
        except (EOFError, OSError) as ex:
            st = "no response (%s)" % ex
        ic.check(st == 431, "request header over 16 KiB -> 431", str(st))
        ic.check(e.is_closed_by_peer(), "... and the connection is closed")
        f = ic.HttpConn(srv.port)
        conns.append(f)
        st, _, _ = f.request("/", "NTLM " + "TlRMTVNTUAADAAAA")
        ic.check(st == 401, "truncated AUTHENTICATE on a fresh connection -> 401", str(st))
        ic.check(srv.p.poll() is None,
                 "demo still running after malformed input")

        ic.log("\n[idle timeout]")
        g = ic.HttpConn(srv.port)
        conns.append(g)
        t0 = time.monotonic()
        closed = g.is_closed_by_peer(timeout=6)
        ic.check(closed, "idle connection closed by the server (--idle-timeout 2)",
                 "after %.1f s" % (time.monotonic() - t0))
    except (TimeoutError, EOFError, OSError, RuntimeError) as ex:
        ic.check(False, "raw HTTP exchange completed", repr(ex))
    finally:
        for c in conns:
            c.close()
        rc = srv.stop()
        ic.check(rc == 0, "demo exits 0 on SIGTERM", "rc=%s" % rc)
        cl.close()

    ic.log("\n[--max-requests 2]")
    srv = ic.DemoServer(demo, ["--max-requests", "2"])
    try:
        a = ic.HttpConn(srv.port)
        a.request("/")
        a.request("/")
        rc = srv.wait_exit(5)
        ic.check(rc == 0, "demo exits 0 by itself after 2 requests", "rc=%s" % rc)
        a.close()
    finally:
        srv.stop()

    ic.log("\n[--once]")
    srv = ic.DemoServer(demo, ["--once"])
    try:
        a = ic.HttpConn(srv.port)
        st, _, _ = a.request("/")
        ic.check(srv.p.poll() is None, "demo still running while the first connection is open")
        a.close()
        rc = srv.wait_exit(5)
        ic.check(rc == 0, "demo exits 0 after the first connection closed", "rc=%s" % rc)
    finally:
        srv.stop()

    ic.log("\n[listening address]")
    srv = ic.DemoServer(demo)
    try:
        ln = srv.wait_for(r"listening on", 0) or ""
        ic.check("127.0.0.1" in ln, "demo announces 127.0.0.1 only", ln)
        # Reaching the port through another local address must fail: the
        # socket is bound to loopback 127.0.0.1, not to 0.0.0.0.
        other = None
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.connect(("192.0.2.1", 9))  # no packet is sent for UDP connect
            other = s.getsockname()[0]
            s.close()
        except OSError:
            pass
        if other and not other.startswith("127."):
            try:
                socket.create_connection((other, srv.port), timeout=2).close()
                reached = True
            except OSError:
                reached = False
            ic.check(not reached, "not reachable via %s" % other)
        else:
            ic.log("    (no non-loopback address on this host; bind checked via the banner)")
    finally:
        srv.stop()
    ic.finish(NAME)


if __name__ == "__main__":
    main()
