"""Test helpers for code that uses sspx, and a pytest plugin.

Installed with the package as the ``pytest11`` entry point ``sspx``, so in
any test suite (no conftest needed)::

    def test_login(sspx_http_server):            # NTLM-protected, 127.0.0.1
        r = my_client.get(sspx_http_server + "whoami", user="TESTDOM\\\\bob",
                          password="Passw0rd!")
        assert r.status == 200

    def test_tokens(sspx_handshake):
        hs = sspx_handshake("alice", "Wonderland1")
        assert hs.server.client_name == "TESTDOM\\\\alice"

Fixtures (all function-scoped; everything they create is closed at teardown):

- ``sspx_users``: the user store, ``{"TESTDOM\\\\bob": "Passw0rd!", "alice":
  "Wonderland1"}``. Override it in a conftest to test with other users.
- ``sspx_server_credential``: an NTLM server credential over ``sspx_users``,
  NetBIOS domain ``TESTDOM``.
- ``sspx_client_credential_factory``: ``factory(user, password, **options)``
  -> an NTLM client credential.
- ``sspx_handshake``: ``handshake(user="TESTDOM\\\\bob", password="Passw0rd!",
  **kw)`` runs a complete in-process handshake and returns a
  :class:`HandshakeResult` ``(server, client, tokens)``; a failing leg raises
  its :class:`~sspx.errors.SecurityError`.
- ``sspx_http_server``: the base URL (``"http://127.0.0.1:PORT/"``) of a
  running HTTP server (:func:`serve_http`) that authenticates every
  connection with NTLM (``WWW-Authenticate: NTLM``) against
  ``sspx_server_credential``; an authenticated request gets 200 and
  ``Authenticated as DOMAIN\\\\user``.

- ``sspx_realm``: a throwaway Heimdal KDC on 127.0.0.1 (realm ``TEST.LOCAL``,
  users ``alice``/``bob``, service ``HTTP/localhost`` with a keytab) for the
  Kerberos and Negotiate packages; see tests/realm/README.md.

Outside pytest, :class:`NTLMTestServer` and :func:`handshake` do the same,
:func:`kerberos_realm` runs a realm around a block of code (this process's
Kerberos environment pointed at it), and
:func:`fixed_random` / :func:`fixed_clock` pin the library's random source and
clock (process-wide: for tests only) to reproduce published test vectors.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import http.server
import os
import threading
from typing import Any, Iterable, Iterator, List, NamedTuple, Optional, Tuple, Union

from . import _sspx
from ._context import ChannelBindings, ClientContext, Credential, ServerContext
from .errors import SecurityError

__all__ = [
    "DEFAULT_USERS", "DEFAULT_DOMAIN", "HandshakeResult", "handshake", "fixed_random",
    "fixed_clock", "NTLMTestServer", "serve_http", "kerberos_realm",
]

DEFAULT_USERS = {"TESTDOM\\bob": "Passw0rd!", "alice": "Wonderland1"}
DEFAULT_DOMAIN = "TESTDOM"
_RNG_SCRIPT_MAX = 1024  # the extension's script buffer (bindings/sspx.i)
_FILETIME_EPOCH = datetime.datetime(1601, 1, 1, tzinfo=datetime.timezone.utc)

# --------------------------------------------------------------- test hooks


@contextlib.contextmanager
def kerberos_realm(kinit: Optional[str] = "alice", services: Iterable[str] = (),
                   **realm_options: Any) -> Iterator[Any]:
    """A throwaway Heimdal realm (``sspx._realm.Realm(**realm_options)``) for a
    block of code: started on 127.0.0.1, the extra ``services`` added to its
    keytab, ``kinit`` given a ticket, and this process's KRB5_CONFIG,
    KRB5CCNAME, KRB5_KTNAME, KRB5RCACHEDIR pointed at it; all undone at the
    end. Raises ``sspx._realm.RealmError`` when Heimdal is not installed.
    Heimdal reads its configuration once per thread: run Kerberos code for
    one realm in threads of its own when a process uses several."""
    from . import _realm

    why = _realm.heimdal_available()
    if why:
        raise _realm.RealmError(why)
    with _realm.Realm(**realm_options) as realm:
        for spn in services:
            realm.add_service(spn)
        if kinit:
            realm.kinit(kinit)
        set_here = realm.vars(kinit)
        saved = {k: os.environ.get(k) for k in set_here}
        os.environ.update(set_here)
        try:
            yield realm
        finally:  # only what was set here: other changes inside the block stay
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


@contextlib.contextmanager
def fixed_random(data: bytes) -> Iterator[None]:
    """Inside the block the library's random source replays ``data`` (at most
    1024 bytes); once it runs out, the operation needing random bytes fails.
    Process-wide: every thread sees it. The real source is back afterwards."""
    data = bytes(data)
    if len(data) > _RNG_SCRIPT_MAX:
        raise ValueError(f"fixed_random: at most {_RNG_SCRIPT_MAX} bytes, not {len(data)}")
    _sspx.test_set_rng_script(data)
    try:
        yield
    finally:
        _sspx.test_set_rng_script(None)


@contextlib.contextmanager
def fixed_clock(filetime: Union[int, datetime.datetime]) -> Iterator[None]:
    """Inside the block the library's clock stands still at ``filetime``
    (100 ns units since 1601-01-01 UTC, or an aware datetime). Process-wide;
    the real clock is back afterwards."""
    if isinstance(filetime, datetime.datetime):
        if filetime.tzinfo is None:
            raise ValueError("fixed_clock: give an aware datetime (tzinfo=timezone.utc)")
        delta = filetime - _FILETIME_EPOCH
        filetime = (delta.days * 86400 + delta.seconds) * 10_000_000 + delta.microseconds * 10
    filetime = int(filetime)
    if filetime < 0:
        raise ValueError("fixed_clock: the FILETIME must not be negative")
    _sspx.test_set_clock(filetime)
    try:
        yield
    finally:
        _sspx.test_set_clock(-1)


# --------------------------------------------------------------- handshake


class HandshakeResult(NamedTuple):
    """The two complete contexts of :func:`handshake` and the tokens sent
    (NEGOTIATE, CHALLENGE, AUTHENTICATE for NTLM)."""

    server: ServerContext
    client: ClientContext
    tokens: Tuple[bytes, ...]


def handshake(server_credential: Credential, client_credential: Credential, *,
              server_flags: int = 0, client_flags: int = 0, target: Optional[str] = "HTTP/localhost",
              channel_bindings: Union[None, bytes, ChannelBindings] = None,
              server_channel_bindings: Union[None, bytes, ChannelBindings] = None,
              client_channel_bindings: Union[None, bytes, ChannelBindings] = None,
              max_legs: int = 10) -> HandshakeResult:
    """Run a complete in-process handshake between new contexts of the two
    credentials. ``channel_bindings`` gives both sides the same bindings; the
    ``server_``/``client_`` forms set one side. A failing leg raises its
    SecurityError (both contexts are closed then); the caller closes the
    returned contexts."""
    sb = server_channel_bindings if server_channel_bindings is not None else channel_bindings
    cb = client_channel_bindings if client_channel_bindings is not None else channel_bindings
    server = ServerContext(server_credential, flags=server_flags, channel_bindings=sb)
    try:
        client = ClientContext(client_credential, flags=client_flags, target=target,
                               channel_bindings=cb)
    except BaseException:
        server.close()
        raise
    tokens: List[bytes] = []
    try:
        token = client.step()
        for _ in range(max_legs):
            if token:
                tokens.append(token)
            if server.complete and client.complete:
                break
            side = server if len(tokens) % 2 else client
            if not token and side.complete:
                break
            token = side.step(token)
        if not (server.complete and client.complete):
            raise RuntimeError(f"handshake did not complete in {max_legs} legs")
    except BaseException:
        server.close()
        client.close()
        raise
    return HandshakeResult(server, client, tuple(tokens))


# -------------------------------------------------------------- HTTP server


class _NTLMHandler(http.server.BaseHTTPRequestHandler):
    """One instance per TCP connection (HTTP/1.1 keep-alive): NTLM is
    connection-based, so the security context lives in the instance. Once a
    connection has authenticated, its further requests are accepted without
    a header (as IIS does)."""

    protocol_version = "HTTP/1.1"
    server_version = "sspx-test"
    server: "_ThreadingServer"

    def setup(self) -> None:
        super().setup()
        self.ctx: Optional[ServerContext] = None
        self.user: Optional[str] = None

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self._reset()

    def _reset(self) -> None:
        ctx, self.ctx = self.ctx, None
        if ctx is not None:
            ctx.close()

    def log_message(self, format, *args) -> None:  # noqa: A002 - the base class's name
        if self.server.verbose:
            super().log_message(format, *args)

    def _send(self, code: int, body: bytes = b"", headers: Tuple[Tuple[str, str], ...] = ()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _challenge(self, token: Optional[bytes] = None, scheme: str = "NTLM") -> None:
        value = scheme if token is None else f"{scheme} {base64.b64encode(token).decode()}"
        self._send(401, b"Unauthorized\n", (("WWW-Authenticate", value),))

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        auth = self.headers.get("Authorization")
        if auth is None:
            if self.user is not None:
                return self._ok(body)
            return self._challenge()
        scheme, _, b64 = auth.partition(" ")
        if scheme.lower() not in ("ntlm", "negotiate"):
            return self._challenge()
        try:
            token = base64.b64decode(b64.strip(), validate=True)
        except ValueError:
            self._reset()
            return self._send(400, b"bad Authorization header\n")
        if token[:12] == b"NTLMSSP\0\1\0\0\0" or self.ctx is None:
            self._reset()  # a new handshake on this connection
            self.user = None
            self.ctx = ServerContext(self.server.credential, flags=self.server.flags)
        try:
            out = self.ctx.step(token)
        except SecurityError as e:
            self._reset()
            self.server.failures.append(e)
            return self._challenge(None, scheme)
        if self.ctx.complete:
            self.user = self.ctx.client_name
            self.server.logins.append(self.user)
            self._reset()
            extra = (("WWW-Authenticate", f"{scheme} {base64.b64encode(out).decode()}"),) if out else ()
            return self._ok(body, extra)
        return self._challenge(out, scheme)

    def _ok(self, body: bytes, headers: Tuple[Tuple[str, str], ...] = ()) -> None:
        text = f"Authenticated as {self.user}\n".encode()
        if body:
            text += body
        self._send(200, text, headers + (("X-SSPX-User", self.user or ""),))

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = do_PATCH = _handle


class _ThreadingServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    credential: Credential
    flags: int
    verbose: bool
    logins: List[str]
    failures: List[SecurityError]


class NTLMTestServer:
    """A threaded HTTP server on ``host`` (a free port unless ``port``) that
    authenticates connections with NTLM against ``credential``::

        with NTLMTestServer(cred) as srv:
            requests.get(srv.url, auth=HttpNtlmAuth("TESTDOM\\\\bob", "Passw0rd!"))

    ``logins`` lists the names authenticated so far, ``failures`` the
    SecurityErrors of failed handshakes."""

    def __init__(self, credential: Credential, host: str = "127.0.0.1", port: int = 0,
                 flags: int = 0, verbose: bool = False):
        self.credential = credential
        self._httpd = _ThreadingServer((host, port), _NTLMHandler)
        self._httpd.credential = credential
        self._httpd.flags = flags
        self._httpd.verbose = verbose
        self._httpd.logins = []
        self._httpd.failures = []
        self._thread: Optional[threading.Thread] = None
        self.host, self.port = self._httpd.server_address[:2]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    @property
    def logins(self) -> List[str]:
        return self._httpd.logins

    @property
    def failures(self) -> List[SecurityError]:
        return self._httpd.failures

    def start(self) -> "NTLMTestServer":
        if self._thread is None:
            self._thread = threading.Thread(target=self._httpd.serve_forever,
                                            kwargs={"poll_interval": 0.05},
                                            name=f"sspx-test-http-{self.port}", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> "NTLMTestServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _greeting_app(environ, start_response):
    """The WSGI app behind :func:`serve_http` with :mod:`sspx.server`: the
    same answer as :class:`NTLMTestServer`'s."""
    body = f"Authenticated as {environ.get('REMOTE_USER', '')}\n".encode()
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length > 0:
        body += environ["wsgi.input"].read(length)
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8"),
                              ("Content-Length", str(len(body))),
                              ("X-SSPX-User", str(environ.get("REMOTE_USER", "")))])
    return [body]


def _sspx_server_module():
    """:mod:`sspx.server` if it is there with what we use, else None."""
    try:
        from . import server
    except Exception:  # noqa: BLE001 - absent or broken: the built-in server then
        return None
    make = getattr(server, "make_server", None)
    cls = getattr(server, "WSGIServer", None)
    if make is None or cls is None or not all(hasattr(cls, a) for a in ("start", "close", "url")):
        return None
    return server


@contextlib.contextmanager
def serve_http(credential: Credential, host: str = "127.0.0.1") -> Iterator[str]:
    """Run an NTLM-authenticating HTTP server on a free port of ``host`` in a
    background thread for the block; yields its base URL. An authenticated
    request gets 200 and "Authenticated as DOMAIN\\user" (then the request
    body). Uses :mod:`sspx.server` (the WSGI server with :mod:`sspx.http`)
    when present, else :class:`NTLMTestServer`."""
    server = _sspx_server_module()
    if server is None:
        with NTLMTestServer(credential, host=host) as srv:
            yield srv.url
        return
    srv = server.make_server(host, 0, credential=credential, app=_greeting_app, verbose=False)
    srv.start()
    try:
        yield srv.url
    finally:
        srv.close()


# ------------------------------------------------------------ pytest plugin

try:
    import pytest
except ImportError:  # the helpers above work without pytest
    pytest = None  # type: ignore[assignment]

if pytest is not None:

    @pytest.fixture
    def sspx_users() -> dict:
        """The user store of the sspx fixtures: override to change users."""
        return dict(DEFAULT_USERS)

    @pytest.fixture
    def sspx_server_credential(sspx_users) -> Iterator[Credential]:
        """An NTLM server credential over ``sspx_users`` (domain TESTDOM)."""
        with Credential.server("NTLM", users=sspx_users, netbios_domain=DEFAULT_DOMAIN) as cred:
            yield cred

    @pytest.fixture
    def sspx_client_credential_factory():
        """``factory(user, password, **options)`` -> an NTLM client credential."""
        made: List[Credential] = []

        def factory(user: str, password: str, **options) -> Credential:
            cred = Credential.client("NTLM", user=user, password=password, **options)
            made.append(cred)
            return cred

        yield factory
        for cred in made:
            cred.close()

    @pytest.fixture
    def sspx_handshake(sspx_server_credential, sspx_client_credential_factory):
        """``handshake(user="TESTDOM\\\\bob", password="Passw0rd!", *,
        server_credential=None, client_credential=None, **kw)`` ->
        HandshakeResult; ``kw`` as :func:`sspx.testing.handshake`."""
        results: List[HandshakeResult] = []

        def run(user: str = "TESTDOM\\bob", password: str = "Passw0rd!", *,
                server_credential: Optional[Credential] = None,
                client_credential: Optional[Credential] = None, **kw) -> HandshakeResult:
            if client_credential is None:
                client_credential = sspx_client_credential_factory(user, password)
            result = handshake(server_credential or sspx_server_credential, client_credential,
                               **kw)
            results.append(result)
            return result

        yield run
        for r in results:
            r.server.close()
            r.client.close()

    @pytest.fixture
    def sspx_http_server(sspx_server_credential) -> Iterator[str]:
        """The base URL of a running NTLM-authenticating HTTP server."""
        with serve_http(sspx_server_credential) as url:
            yield url

    @pytest.fixture
    def sspx_realm():
        """A throwaway Heimdal KDC (realm TEST.LOCAL on 127.0.0.1, a free port):
        users alice/Alice#Pw1 and bob/Bob#Pw22 (alice already kinit'd), service
        HTTP/localhost in ``realm.keytab``. ``realm.env(user=None)`` gives
        KRB5_CONFIG, KRB5CCNAME, KRB5_KTNAME and KRB5RCACHEDIR for subprocesses;
        ``realm.kinit(user, lifetime="2s")``, ``realm.add_user(name, pw)`` and
        ``realm.add_service(spn)`` work while it runs. Fails (does not skip)
        when Heimdal's KDC and clients are not installed. Stopped and removed
        at teardown."""
        from . import _realm

        why = _realm.heimdal_available()
        if why:
            pytest.fail(why)
        with _realm.Realm() as realm:
            realm.kinit("alice")
            yield realm
