"""sspx.http / sspx.server with a Negotiate credential (SPNEGO over Kerberos
and NTLM) against a throwaway Heimdal realm: curl --negotiate (Kerberos),
curl --ntlm (raw NTLM, still offered), our own ClientContext("Negotiate")
(NTLM inside SPNEGO, Kerberos inside SPNEGO, raw Kerberos) over keep-alive
raw sockets, replays on other connections, and the WSGI / ASGI middlewares
driven directly.

ONE realm for the whole module, and the process environment (KRB5_CONFIG,
KRB5CCNAME of alice, KRB5_KTNAME) is set before the first Kerberos use.
Heimdal's GSS-API keeps one krb5 context per thread, which reads krb5.conf
when the thread first uses GSS: a GSS call from pytest's main thread here
would pin this realm's KDC port into that thread for the rest of the run and
break test_kerberos.py's realm (observed). So every Kerberos-touching call of
this module (credentials, client contexts, their close, direct middleware
calls) runs in a short-lived thread (``in_thread``), and the server's legs run
in its connection threads. The server binds 127.0.0.1 and curl is pointed at
http://localhost:PORT/ (the service is HTTP/localhost) with --resolve, so it
never tries ::1. Every wait is bounded."""

import asyncio
import base64
import io
import re
import shutil
import socket
import subprocess
import threading

import pytest

import sspx
import sspx.http
import sspx.server
from sspx.testing import kerberos_realm

TIMEOUT = 30
BOB = ("TESTDOM\\bob", "Passw0rd!")


# ------------------------------------------------------------------ fixtures

@pytest.fixture(scope="module")
def realm():
    with kerberos_realm() as r:
        yield r


@pytest.fixture(scope="module")
def cred(realm):
    """Negotiate server credential: the users store goes to NTLM (with
    netbios_domain), the keytab to Kerberos (docs/NEGOTIATE.md)."""
    c = in_thread(sspx.Credential.server, "Negotiate", users={BOB[0]: BOB[1]},
                  netbios_domain="TESTDOM", keytab=realm.keytab)
    try:
        yield c
    finally:
        in_thread(c.close)


@pytest.fixture(autouse=True)
def close_clients():
    """Client contexts are closed at the end of each test, off the main thread."""
    yield
    while _clients:
        in_thread(_clients.pop().close)


def whoami(environ, start_response):
    """REMOTE_USER, AUTH_TYPE and the package the context negotiated."""
    ctx = environ["sspx.context"]
    environ["sspx.test.calls"].append(environ["REMOTE_USER"])
    body = f"{environ['REMOTE_USER']} {environ['AUTH_TYPE']} " \
           f"{ctx.query('package_info')['name']}\n".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


@pytest.fixture
def server(cred):
    out = io.StringIO()
    calls = []

    def app(environ, start_response):
        environ["sspx.test.calls"] = calls
        return whoami(environ, start_response)

    srv = sspx.server.make_server("127.0.0.1", 0, credential=cred, app=app, stream=out).start()
    srv.out, srv.calls = out, calls
    srv.port = srv.server_address[1]
    srv.lurl = f"http://localhost:{srv.port}/"
    try:
        yield srv
    finally:
        srv.close()


# ------------------------------------------------------------------ helpers

def curl(srv, *args, env=None):
    if not shutil.which("curl"):
        pytest.fail("curl is required (apt-get install curl)")
    argv = ["curl", "-s", "-S", "-v", "--max-time", "15",
            "--resolve", f"localhost:{srv.port}:127.0.0.1",
            "-w", "\nHTTP %{http_code}\n", *args]
    if not any(a.startswith("http") for a in args):
        argv.append(srv.lurl)
    return subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, env=env)


def status_of(r):
    m = re.search(r"HTTP (\d{3})\s*$", r.stdout)
    assert m, (r.stdout, r.stderr)
    return int(m.group(1))


def b64(token):
    return base64.b64encode(token).decode()


def www_auth(headers):
    return [v for k, v in headers if k.lower() == "www-authenticate"]


def header_token(headers, scheme="Negotiate"):
    """The token of the ``scheme <base64>`` challenge, or None."""
    for v in www_auth(headers):
        s, _, t = v.partition(" ")
        if s.lower() == scheme.lower() and t:
            return base64.b64decode(t)
    return None


class Raw:
    """One keep-alive HTTP/1.1 connection spoken to by hand."""

    def __init__(self, srv):
        self.sock = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        self.buf = b""

    def request(self, authorization=None, path="/"):
        lines = [f"GET {path} HTTP/1.1", "Host: localhost"]
        if authorization is not None:
            lines.append(f"Authorization: {authorization}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed by the server")
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = [tuple(x.strip() for x in line.split(":", 1)) for line in lines[1:]]
        length = int(next((v for k, v in headers if k.lower() == "content-length"), "0"))
        while len(self.buf) < length:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("short body")
            self.buf += chunk
        body, self.buf = self.buf[:length], self.buf[length:]
        return status, headers, body

    def close(self):
        self.sock.close()


def in_thread(fn, *args, **kwargs):
    """Run ``fn`` in a fresh thread (Heimdal's GSS context is per thread: the
    client side of these tests does not touch the main thread's)."""
    res = {}

    def run():
        try:
            res["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            res["error"] = exc

    t = threading.Thread(target=run)
    t.start()
    t.join(TIMEOUT)
    assert not t.is_alive(), "client thread hung"
    if "error" in res:
        raise res["error"]
    return res["value"]


_clients = []


class Client:
    """A client context for HTTP/localhost whose every call runs in a
    short-lived thread (see the module docstring)."""

    def __init__(self, package, **options):
        def make():
            cred = sspx.Credential.client(package, **options)
            try:
                return sspx.ClientContext(cred, target="HTTP/localhost",
                                          flags=sspx.IscReq.MUTUAL_AUTH)
            finally:
                cred.close()  # the context keeps what it needs
        self.ctx = in_thread(make)
        _clients.append(self)

    def step(self, token=None):
        return in_thread(self.ctx.step, token)

    @property
    def complete(self):
        return in_thread(lambda: self.ctx.complete)

    def close(self):
        self.ctx.close()


def negotiate_client(packages, **kw):
    """A Negotiate client (ccache from KRB5CCNAME), restricted to ``packages``."""
    return Client("Negotiate", packages=packages, **kw)


def kerberos_token(package="Negotiate"):
    """A fresh first token of alice for HTTP/localhost and its client:
    SPNEGO NegTokenInit with a Kerberos AP-REQ (Negotiate) or a raw GSS AP-REQ
    (Kerberos)."""
    cc = negotiate_client("kerberos") if package == "Negotiate" else Client("Kerberos")
    return cc, cc.step()


def run_handshake(conn, ctx, scheme="Negotiate", first=None):
    """Drive ``ctx`` over the keep-alive connection ``conn`` until a final
    status; returns (status, headers, body, legs). The server's final token
    (mutual authentication, accept-completed + MIC) is given to the client."""
    token = first if first is not None else ctx.step()
    legs = 0
    while True:
        legs += 1
        st, hdrs, body = conn.request(f"{scheme} {b64(token)}")
        answer = header_token(hdrs, scheme)
        if st != 401 or answer is None:
            if st == 200 and answer is not None:
                ctx.step(answer)
            return st, hdrs, body, legs
        assert legs < 6, "handshake does not end"
        token = ctx.step(answer)


# ------------------------------------------------------------ curl (Kerberos)

def test_challenge_offers_negotiate_then_ntlm(server):
    a = Raw(server)
    try:
        st, hdrs, _ = a.request()
        assert st == 401 and www_auth(hdrs) == ["Negotiate", "NTLM"]
    finally:
        a.close()


def test_curl_negotiate_kerberos(server, realm):
    r = curl(server, "--negotiate", "-u", ":", env=realm.env("alice"))
    assert status_of(r) == 200, r.stderr
    assert r.stdout.splitlines()[0] == "TEST.LOCAL\\alice Negotiate Kerberos"
    assert server.calls == ["TEST.LOCAL\\alice"]
    assert "authenticated: TEST.LOCAL\\alice (Negotiate)" in server.out.getvalue()
    # curl saw and accepted the server's mutual-authentication token with the 200
    assert re.search(r"< WWW-Authenticate: Negotiate \S+", r.stderr)


def test_curl_negotiate_two_urls_one_connection(server, realm):
    r = curl(server, "--negotiate", "-u", ":", server.lurl + "a", server.lurl + "b",
             env=realm.env("alice"))
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("TEST.LOCAL\\alice Negotiate Kerberos") == 2, r.stdout
    assert server.out.getvalue().count("accepted from") == 1  # one TCP connection


def test_curl_negotiate_without_ticket(server, realm, tmp_path):
    empty = str(tmp_path / "empty.ccache")  # no such ccache: no TGT
    r = curl(server, "--negotiate", "-u", ":", env=realm.env(ccache=empty))
    assert status_of(r) == 401
    assert server.calls == []
    assert "authenticated:" not in server.out.getvalue()


def test_curl_negotiate_token_replayed_on_another_connection(server, realm):
    """curl's own Kerberos token, taken from its trace, replayed on a raw
    connection: refused by the acceptor's replay cache."""
    r = curl(server, "--negotiate", "-u", ":", env=realm.env("alice"))
    assert status_of(r) == 200
    (token,) = re.findall(r"> Authorization: Negotiate (\S+)", r.stderr)
    b = Raw(server)
    try:
        st, hdrs, _ = b.request("Negotiate " + token)
        assert st == 401 and www_auth(hdrs) == ["Negotiate", "NTLM"]
        assert b.request()[0] == 401
    finally:
        b.close()
    assert server.calls == ["TEST.LOCAL\\alice"]
    assert "authentication failed" in server.out.getvalue()


# --------------------------------------------------------------- curl (NTLM)

def test_curl_ntlm_against_negotiate_credential(server, realm):
    r = curl(server, "--ntlm", "-u", "%s:%s" % BOB, env=realm.env("alice"))
    assert status_of(r) == 200, r.stderr
    assert r.stdout.splitlines()[0] == "TESTDOM\\bob NTLM NTLM"


def test_curl_ntlm_wrong_password(server, realm):
    r = curl(server, "--ntlm", "-u", "TESTDOM\\bob:nope", env=realm.env("alice"))
    assert status_of(r) == 401
    assert server.calls == []


# --------------------------------------------------------------- raw sockets

def test_ntlm_in_spnego_keep_alive(server):
    ctx = negotiate_client("ntlm", user=BOB[0], password=BOB[1])
    first = ctx.step()
    assert first[:1] == b"\x60" and b"NTLMSSP\0" in first  # NegTokenInit carrying NTLM
    a = Raw(server)
    try:
        st, hdrs, body, legs = run_handshake(a, ctx, first=first)
        assert (st, body) == (200, b"TESTDOM\\bob Negotiate NTLM\n")
        assert legs == 2  # NegTokenInit(NEGOTIATE), NegTokenResp(AUTHENTICATE, MIC)
        # the 200 carried accept-completed + the server's MIC, which the client checked
        assert header_token(hdrs) is not None and ctx.complete
        # the connection stays authenticated; a new handshake on it works too
        assert a.request()[:3:2] == (200, b"TESTDOM\\bob Negotiate NTLM\n")
        ctx2 = negotiate_client("ntlm", user=BOB[0], password=BOB[1])
        assert run_handshake(a, ctx2)[0] == 200 and ctx2.complete
    finally:
        a.close()
    assert server.calls == ["TESTDOM\\bob"] * 3


def test_ntlm_in_spnego_wrong_password(server):
    ctx = negotiate_client("ntlm", user=BOB[0], password="nope")
    a = Raw(server)
    try:
        st, hdrs, _, _ = run_handshake(a, ctx)
        assert st == 401 and www_auth(hdrs) == ["Negotiate", "NTLM"]
        assert a.request()[0] == 401
    finally:
        a.close()
    assert server.calls == []


def test_ntlm_in_spnego_continuation_on_another_connection(server):
    ctx = negotiate_client("ntlm", user=BOB[0], password=BOB[1])
    a, b = Raw(server), Raw(server)
    try:
        st, hdrs, _ = a.request("Negotiate " + b64(ctx.step()))
        assert st == 401
        resp = ctx.step(header_token(hdrs))  # NegTokenResp(AUTHENTICATE)
        st, hdrs, _ = b.request("Negotiate " + b64(resp))
        assert st == 401 and www_auth(hdrs) == ["Negotiate", "NTLM"]
        st, _, body = a.request("Negotiate " + b64(resp))
        assert (st, body) == (200, b"TESTDOM\\bob Negotiate NTLM\n")
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize("package", ["Negotiate", "Kerberos"])
def test_kerberos_token_replayed_on_second_connection(server, package):
    """SPNEGO(Kerberos) or a raw AP-REQ under the Negotiate scheme: accepted
    once with a mutual-authentication answer; the same token on a second
    connection (and again on the first) is a replay: 401."""
    ctx, token = kerberos_token(package)
    a, b = Raw(server), Raw(server)
    try:
        st, hdrs, body = a.request("Negotiate " + b64(token))
        assert (st, body) == (200, b"TEST.LOCAL\\alice Negotiate Kerberos\n")
        answer = header_token(hdrs)
        assert answer is not None
        if package == "Negotiate":
            assert answer[:1] == b"\xa1"  # NegTokenResp(accept-completed, AP-REP)
        ctx.step(answer)
        assert ctx.complete
        st, hdrs, _ = b.request("Negotiate " + b64(token))
        assert st == 401 and www_auth(hdrs) == ["Negotiate", "NTLM"]
        assert b.request()[0] == 401
        # replayed on the authenticated connection: refused, authentication dropped
        assert a.request("Negotiate " + b64(token))[0] == 401
        assert a.request()[0] == 401
    finally:
        a.close()
        b.close()
    assert server.calls == ["TEST.LOCAL\\alice"]


def test_new_spnego_init_restarts_mid_handshake(server):
    """A fresh NegTokenInit on a connection whose NTLM-in-SPNEGO handshake is
    unfinished starts a new handshake (as a raw NTLM NEGOTIATE does)."""
    ntlm = negotiate_client("ntlm", user=BOB[0], password=BOB[1])
    a = Raw(server)
    try:
        st, _, _ = a.request("Negotiate " + b64(ntlm.step()))
        assert st == 401
        krb, token = kerberos_token()
        st, hdrs, body = a.request("Negotiate " + b64(token))
        assert (st, body) == (200, b"TEST.LOCAL\\alice Negotiate Kerberos\n")
        krb.step(header_token(hdrs))
        assert krb.complete
    finally:
        a.close()


# --------------------------------------------------- the middlewares directly

def test_wsgi_direct_kerberos(cred):
    calls = []

    def app(environ, start_response):
        environ["sspx.test.calls"] = calls
        return whoami(environ, start_response)

    mw = sspx.http.WSGIAuth(app, cred)
    conn = sspx.http.Connection()

    def call(authorization=None):
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", sspx.http.CONNECTION_KEY: conn}
        if authorization:
            environ["HTTP_AUTHORIZATION"] = authorization
        got = {}

        def start_response(status, headers, exc_info=None):
            got["status"], got["headers"] = int(status.split()[0]), headers
        body = b"".join(mw(environ, start_response))
        return got["status"], got["headers"], body

    st, hdrs, _ = call()
    assert st == 401 and www_auth(hdrs) == ["Negotiate", "NTLM"]
    ctx, token = kerberos_token()
    st, hdrs, body = in_thread(call, "Negotiate " + b64(token))
    assert (st, body) == (200, b"TEST.LOCAL\\alice Negotiate Kerberos\n")
    ctx.step(header_token(hdrs))
    assert ctx.complete
    assert in_thread(call)[0] == 200  # the app queries the context: off the main thread
    in_thread(conn.close)  # frees the server context
    assert len(mw) == 0 and calls == ["TEST.LOCAL\\alice"] * 2


def test_asgi_direct_kerberos(cred):
    async def app(scope, receive, send):
        body = f"{scope['user']} {scope['sspx.scheme']}".encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    mw = sspx.http.ASGIAuth(app, cred)  # offload: legs run in the executor's threads
    conn = sspx.http.Connection()

    def call(authorization=None):
        scope = {"type": "http", "method": "GET", "path": "/", "headers": [],
                 "extensions": {sspx.http.CONNECTION_KEY: conn}}
        if authorization:
            scope["headers"].append((b"authorization", authorization.encode()))
        sent = []

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            sent.append(message)

        asyncio.run(mw(scope, receive, send))
        headers = [(k.decode(), v.decode()) for k, v in sent[0]["headers"]]
        return sent[0]["status"], headers, b"".join(m.get("body", b"") for m in sent[1:])

    ctx, token = kerberos_token()
    st, hdrs, body = call("Negotiate " + b64(token))
    assert (st, body) == (200, b"TEST.LOCAL\\alice Negotiate")
    ctx.step(header_token(hdrs))
    assert ctx.complete
    in_thread(conn.close)
    assert len(mw) == 0
