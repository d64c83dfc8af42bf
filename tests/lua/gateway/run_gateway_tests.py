#!/usr/bin/python3
"""Tests of the Lua NTLM gateway (lua/sspx/gateway.lua, examples/gateway.lua).

usage: run_gateway_tests.py BUILD_DIR

Everything runs on 127.0.0.1 with ports chosen by the kernel; every process is
started and stopped here with bounded waits. One line per check, then
"N passed, M failed"; exit status 1 on any failure."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from luatest import (CURL, LUA, Checks, LineHelper, Procs, Raw, build_dir,  # noqa: E402
                     has_authorization, headers_of, hits, launch_gateway, lua_env,
                     start_upstream, unused_port, user_values, write_gateway_conf, www_auth)

BUILD = build_dir(sys.argv[1:])
ENV = lua_env(BUILD)
BOB = "TESTDOM\\bob:Passw0rd!"
CAROL = "TESTDOM\\carol:Carol#123"

check = Checks()
procs = Procs()


def start_gateway(tmp, name, upstream_port, **extra):
    limits = {"handshake_timeout": 2, "idle_timeout": 5, "request_timeout": 3,
              "upstream_timeout": 5}
    limits.update(extra.pop("limits", {}))
    more = "".join(f"  {k} = {v},\n" for k, v in extra.items())
    conf = os.path.join(tmp, name + ".conf.lua")
    write_gateway_conf(conf, upstream_port, limits,
                       '  users = { ["TESTDOM\\\\bob"] = "Passw0rd!", ["TESTDOM\\\\carol"] = "Carol#123" },\n'
                       '  netbios_domain = "TESTDOM",\n' + more)
    return launch_gateway(conf, ENV, procs)


def curl(url, *args, user=None, timeout=20):
    argv = [CURL, "-s", "--noproxy", "*", "--max-time", "15"]
    if user:
        argv += ["--ntlm", "-u", user]
    argv += list(args)
    argv += ["-w", "\n%{http_code}", url]
    r = subprocess.run(argv, env=ENV, capture_output=True, text=True, timeout=timeout)
    body, _, code = r.stdout.rpartition("\n")
    return code, body


class Tokens(LineHelper):
    """NTLM client tokens from the sspx Lua binding (ntlm_tokens.lua)."""

    def __init__(self):
        super().__init__([LUA, os.path.join(HERE, "ntlm_tokens.lua")], ENV, procs)

    def negotiate(self, user, password):
        return self.ask(f"{user} {password}")

    def authenticate(self, challenge):
        return self.ask(challenge)


def challenge_of(hdrs, scheme="NTLM"):
    for k, v in hdrs:
        if k.lower() == "www-authenticate" and v.startswith(scheme + " "):
            return v.split(" ", 1)[1]
    return None


def handshake(conn, tokens, scheme="NTLM", user="TESTDOM\\bob", pw="Passw0rd!", path="/"):
    neg = tokens.negotiate(user, pw)
    st, hdrs, _ = conn.request(path, [("Authorization", f"{scheme} {neg}")])
    ch = challenge_of(hdrs, scheme)
    return st, ch


def main():
    tmp = tempfile.mkdtemp(prefix="sspx-gw-")
    try:
        run(tmp)
    finally:
        procs.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)
    print(check.summary())
    sys.exit(check.status())


def run(tmp):
    up, up_port = start_upstream(ENV, procs)
    gw, port = start_gateway(tmp, "main", up_port)
    base = f"http://127.0.0.1:{port}"
    tokens = Tokens()

    # -- basic NTLM through curl
    code, body = curl(base + "/hello", user=BOB)
    h = headers_of(body)
    check("curl --ntlm bob -> 200 from the upstream", code == "200" and h is not None, code)
    check("upstream sees X-Remote-User: TESTDOM\\bob", h is not None and user_values(h) == ["TESTDOM\\bob"],
          str(h and user_values(h)))
    check("upstream does not see the Authorization header",
          h is not None and not has_authorization(h))
    check("request log line names client, user and status",
          gw.wait_line(lambda ln: "user=TESTDOM\\bob status=200" in ln and "127.0.0.1:" in ln, 5) is not None)
    check("debug log decodes the handshake legs with sspx.inspect",
          gw.wait_line(lambda ln: "MessageType: AUTHENTICATE_MESSAGE" in ln, 5) is not None)

    n0 = hits(up_port)
    code, _ = curl(base + "/x", user="TESTDOM\\bob:wrong")
    check("wrong password -> 401", code == "401", code)
    code, _ = curl(base + "/x", user="TESTDOM\\nobody:Passw0rd!")
    check("unknown user -> 401", code == "401", code)
    code, _ = curl(base + "/x")
    check("no credentials -> 401", code == "401", code)
    check("the upstream saw none of the refused requests", hits(up_port) == n0, f"{n0} -> {hits(up_port)}")

    # -- spoofing the user header
    code, body = curl(base + "/spoof", "-H", "X-Remote-User: admin", "-H", "x-remote-user: admin2",
                      "-H", "X_Remote_User: admin3", "-H", "X-REMOTE-USER: admin4", user=BOB)
    h = headers_of(body) or []
    check("authenticated spoof: upstream sees only the gateway's X-Remote-User",
          code == "200" and user_values(h) == ["TESTDOM\\bob"], str(user_values(h)))
    n0 = hits(up_port)
    code, _ = curl(base + "/spoof", "-H", "X-Remote-User: admin")
    check("unauthenticated spoof -> 401 and no upstream request", code == "401" and hits(up_port) == n0, code)

    # -- two clients at once, different users
    def one(user, out):
        out.append(curl(base + "/who", user=user))
    results = {BOB: [], CAROL: []}
    ths = [threading.Thread(target=one, args=(u, results[u])) for u in (BOB, CAROL) for _ in range(3)]
    for t in ths:
        t.start()
    for t in ths:
        t.join(30)
    okb = len(results[BOB]) == 3 and all(c == "200" and user_values(headers_of(b) or []) == ["TESTDOM\\bob"]
                                         for c, b in results[BOB])
    okc = len(results[CAROL]) == 3 and all(c == "200" and user_values(headers_of(b) or []) == ["TESTDOM\\carol"]
                                           for c, b in results[CAROL])
    check("concurrent curl clients (bob x3, carol x3) each get their own identity", okb and okc,
          str([c for c, _ in results[BOB] + results[CAROL]]))

    # -- oversized headers
    c = Raw(port)
    c.send("GET / HTTP/1.1\r\nHost: gw\r\nX-Big: " + "a" * 20000 + "\r\n\r\n")
    st, _, _ = c.response()
    check("oversized request head -> 431", st == 431, st)
    check("... and the connection is closed", c.closed_within(3) is not None)
    c.close()

    # -- a client stalling mid-handshake is cut off; another completes meanwhile
    stall = Raw(port)
    st, ch = handshake(stall, tokens)
    check("stalling client got the CHALLENGE", st == 401 and ch is not None, st)
    t0 = time.time()
    code, body = curl(base + "/meanwhile", user=CAROL)
    check("another client completes while one stalls",
          code == "200" and user_values(headers_of(body) or []) == ["TESTDOM\\carol"], code)
    waited = stall.closed_within(6)
    total = waited is not None and (time.time() - t0)
    check("the stalled handshake is cut off after handshake_timeout (2 s)",
          waited is not None and 1.0 <= total <= 4.5, f"closed after {total}")
    stall.close()
    tokens.authenticate(ch or "")  # finish the helper's state

    # -- keep-alive with curl: two URLs, one connection
    argv = [CURL, "-s", "--noproxy", "*", "--max-time", "15", "--ntlm", "-u", BOB,
            "-w", "%{http_code} %{num_connects}\n", "-o", os.path.join(tmp, "k1"), base + "/k1",
            "-o", os.path.join(tmp, "k2"), base + "/k2"]
    r = subprocess.run(argv, env=ENV, capture_output=True, text=True, timeout=30)
    w = r.stdout.split()
    bodies = []
    for n in ("k1", "k2"):
        try:
            bodies.append(open(os.path.join(tmp, n)).read())
        except OSError:
            bodies.append("")
    check("keep-alive: two URLs, both 200", w[0::2] == ["200", "200"], r.stdout)
    check("keep-alive: one connection (second num_connects = 0)", w[1::2] == ["1", "0"], r.stdout)
    check("keep-alive: both forwarded with the user header",
          all(user_values(headers_of(b) or []) == ["TESTDOM\\bob"] for b in bodies))

    # -- raw sockets: the context belongs to its connection
    n0 = hits(up_port)
    a, b = Raw(port), Raw(port)
    st, ch = handshake(a, tokens)
    auth = tokens.authenticate(ch)
    st_b, _, _ = b.request("/cross", [("Authorization", "NTLM " + auth)])
    check("NEGOTIATE on connection A + AUTHENTICATE on connection B -> 401", st_b == 401, st_b)
    check("... and the upstream saw nothing", hits(up_port) == n0)
    st_a, _, body = a.request("/own", [("Authorization", "NTLM " + auth)])
    check("the same AUTHENTICATE on connection A -> 200",
          st_a == 200 and user_values(headers_of(body) or []) == ["TESTDOM\\bob"], st_a)
    st2, _, body2 = a.request("/again")
    check("later request on the authenticated connection, no Authorization -> 200 as bob",
          st2 == 200 and user_values(headers_of(body2) or []) == ["TESTDOM\\bob"], st2)
    st3, _, body3 = a.request("/post", method="POST", body=b"hello body")
    j = json.loads(body3) if st3 == 200 else {}
    check("POST with Content-Length body is forwarded", j.get("body") == "hello body", st3)
    st4, _, _ = a.request("/replay", [("Authorization", "NTLM " + auth)])
    check("replaying the AUTHENTICATE on the authenticated connection -> 401", st4 == 401, st4)
    st5, _, _ = a.request("/after-replay")
    check("... which drops the connection's authentication", st5 == 401, st5)
    st6, ch6 = handshake(a, tokens, user="TESTDOM\\carol", pw="Carol#123")
    st7, _, body7 = a.request("/restart", [("Authorization", "NTLM " + tokens.authenticate(ch6))])
    check("a new NEGOTIATE restarts the handshake on the same connection (now carol)",
          st6 == 401 and st7 == 200 and user_values(headers_of(body7) or []) == ["TESTDOM\\carol"], (st6, st7))
    a.close()
    b.close()

    # -- Negotiate carrying raw NTLM (as IIS accepts)
    c = Raw(port)
    st, hdrs, _ = c.request("/")
    offered = www_auth(hdrs)
    check("401 offers WWW-Authenticate: Negotiate and NTLM", offered == ["Negotiate", "NTLM"], offered)
    st, ch = handshake(c, tokens, scheme="Negotiate")
    auth = tokens.authenticate(ch or "")
    st2, _, body = c.request("/nego", [("Authorization", "Negotiate " + auth)])
    check("raw NTLM inside Authorization: Negotiate -> 200",
          st == 401 and ch is not None and st2 == 200
          and user_values(headers_of(body) or []) == ["TESTDOM\\bob"], (st, st2))
    c.close()
    c = Raw(port)
    st, _, _ = c.request("/spnego", [("Authorization", "Negotiate YIIBhwYGKwYBBQUCoIIBezCCAXeg")])
    check("a SPNEGO (Kerberos) token -> 401", st == 401, st)
    c.close()

    # -- framing
    code, body = curl(base + "/chunked", user=BOB)
    check("chunked upstream response relayed", code == "200" and headers_of(body) is not None, code)
    code, body = curl(base + "/close", user=BOB)
    check("close-delimited upstream response relayed", code == "200" and headers_of(body) is not None, code)
    c = Raw(port)
    c.send("POST / HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
    st, _, _ = c.response()
    check("chunked request body -> 411 and close", st == 411 and c.closed_within(3) is not None, st)
    c.close()
    c = Raw(port)
    c.send("GET / HTTP/1.1\r\nHost: gw\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")
    st, _, _ = c.response()
    check("conflicting Content-Length -> 400", st == 400, st)
    c.close()

    # -- a second gateway: small limits, a slow upstream, a dead upstream
    gw2, port2 = start_gateway(tmp, "small", up_port,
                               limits={"max_connections": 2, "upstream_timeout": 1})
    held = [Raw(port2), Raw(port2)]
    time.sleep(0.3)
    third = Raw(port2)
    try:
        st, _, _ = third.response()
    except Exception as e:
        st = repr(e)
    check("max_connections reached -> 503", st == 503, st)
    third.close()
    for x in held:
        x.close()
    time.sleep(0.3)
    code, _ = curl(f"http://127.0.0.1:{port2}/slow", user=BOB)
    check("upstream slower than upstream_timeout -> 504", code == "504", code)
    gw3, port3 = start_gateway(tmp, "dead", unused_port())
    code, _ = curl(f"http://127.0.0.1:{port3}/", user=BOB)
    check("upstream refusing connections -> 502", code == "502", code)
    code, _ = curl(f"http://127.0.0.1:{port3}/")
    check("... while unauthenticated requests still get 401", code == "401", code)

    # -- loopback only
    listening = subprocess.run(["ss", "-ltnp"], capture_output=True, text=True).stdout \
        if shutil.which("ss") else ""
    mine = [ln for ln in listening.splitlines() if f":{port} " in ln]
    check("the gateway listens on 127.0.0.1 only",
          not listening or (mine and all("127.0.0.1:" in ln for ln in mine)), mine)
    check("the gateway process is still running", gw.p.poll() is None)


if __name__ == "__main__":
    main()
