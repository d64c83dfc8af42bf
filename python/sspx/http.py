"""HTTP authentication (NTLM over ``WWW-Authenticate`` / ``Authorization``)
for WSGI and ASGI servers.

    import sspx, sspx.http
    cred = sspx.Credential.server("NTLM", users="users.txt", netbios_domain="TESTDOM")
    app = sspx.http.WSGIAuth(app, cred)     # or sspx.http.ASGIAuth(asgi_app, cred)

NTLM authenticates a **connection**, not a request: the CHALLENGE of one
connection can only be answered on that connection, and once it succeeds the
connection stays authenticated. HTTP frameworks have no standard connection
identity, so the server must give one (see docs/PYTHON_HTTP.md, "Connection
identity"): ``environ["sspx.connection"]`` (WSGI) or
``scope["extensions"]["sspx.connection"]`` (ASGI), an object unique to one TCP
connection, or a ``connection=`` callable. :mod:`sspx.server` does so. Without
connection identity the middleware refuses to run a handshake (500) rather
than guess.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import itertools
import logging
import re
import threading
import time
import weakref
from collections import OrderedDict
from typing import Any, Callable, Iterable, Optional, Tuple

from ._context import ChannelBindings, Credential, ServerContext
from .errors import SecurityError, status_name
from .flags import AscReq

__all__ = ["WSGIAuth", "ASGIAuth", "Authenticator", "Connection", "AuthenticatedUser",
           "LegEvent", "CONNECTION_KEY", "MAX_TOKEN_CHARS"]

log = logging.getLogger("sspx.http")

#: The WSGI environ key / ASGI scope extension name that carries connection identity.
CONNECTION_KEY = "sspx.connection"
#: Longest accepted base64 token in an Authorization header (an NTLM
#: AUTHENTICATE is a few hundred bytes; Kerberos tickets in Negotiate a few KiB).
MAX_TOKEN_CHARS = 64 * 1024

_NTLMSSP = b"NTLMSSP\0"
_GSS_INITIAL = b"\x60"
_B64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_conn_ids = itertools.count(1)


class Connection:
    """A connection identity a server can hand to the middleware: one
    instance per TCP connection, created when it is accepted, ``close()``-d
    when it ends (which frees the connection's security context at once;
    otherwise it is freed when the object is garbage-collected)."""

    __slots__ = ("id", "peer", "closed", "_callbacks", "__weakref__")

    def __init__(self, peer: Any = None):
        self.id = next(_conn_ids)
        self.peer = peer
        self.closed = False
        self._callbacks = []

    def add_close_callback(self, fn: Callable[[], None]) -> None:
        if self.closed:
            fn()
        else:
            self._callbacks.append(fn)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        callbacks, self._callbacks = self._callbacks, []
        for fn in callbacks:
            try:
                fn()
            except Exception:  # pragma: no cover - a callback must not stop the others
                log.exception("connection close callback failed")

    def __repr__(self) -> str:
        return f"<sspx.http.Connection {self.id} {self.peer!r}{' closed' if self.closed else ''}>"


class AuthenticatedUser(str):
    """The authenticated client's "DOMAIN\\\\user" (a ``str``), with the
    attributes Starlette-style apps expect of ``scope["user"]``."""

    is_authenticated = True

    @property
    def display_name(self) -> str:
        return str(self)

    @property
    def identity(self) -> str:
        return str(self)

    @property
    def domain(self) -> str:
        return self.rpartition("\\")[0]

    @property
    def username(self) -> str:
        return self.rpartition("\\")[2]


class LegEvent:
    """What the ``trace`` hook receives: one step of a connection's handshake.

    ``kind``: "in" (a client token, after AcceptSecurityContext ran on it),
    "out" (the server token sent back), "authenticated", "failed", "restart",
    "evicted", "closed". ``status``: the SSPI status name; ``flags``: the
    context's ASC_RET flags (None if unknown); ``token``: the raw token
    (bytes) for "in"/"out"; ``error``: the SecurityError for "failed".
    """

    __slots__ = ("kind", "connection", "scheme", "leg", "token", "status", "flags", "user",
                 "error", "message")

    def __init__(self, kind, connection, scheme="", leg=0, token=b"", status="", flags=None,
                 user=None, error=None, message=""):
        self.kind, self.connection, self.scheme, self.leg = kind, connection, scheme, leg
        self.token, self.status, self.flags, self.user = token, status, flags, user
        self.error, self.message = error, message

    def __repr__(self) -> str:
        return f"<LegEvent {self.kind} leg={self.leg} {self.status} {self.message}>"


class _State:
    """One connection's handshake / authenticated context."""

    __slots__ = ("key", "ref", "ctx", "scheme", "user", "legs", "started", "lock")

    def __init__(self, key, ref):
        self.key = key
        self.ref = ref
        self.ctx: Optional[ServerContext] = None
        self.scheme = ""
        self.user: Optional[str] = None
        self.legs = 0
        self.started = time.monotonic()
        self.lock = threading.RLock()

    def drop(self) -> None:
        ctx, self.ctx, self.user, self.legs = self.ctx, None, None, 0
        if ctx is not None:
            ctx.close()


class _Reply:
    """What the middleware decided for one request."""

    __slots__ = ("status", "headers", "body", "user", "ctx", "close", "scheme")

    def __init__(self, status: int, headers=(), body: bytes = b"", user=None, ctx=None,
                 close=False, scheme=""):
        self.status, self.headers, self.body = status, list(headers), body
        self.user, self.ctx, self.close, self.scheme = user, ctx, close, scheme


_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 500: "Internal Server Error"}


class Authenticator:
    """The framework-neutral core of :class:`WSGIAuth` / :class:`ASGIAuth`:
    the per-connection context map and the handshake state machine.

    ``max_contexts`` bounds the map (default 1024): when it is full, the
    oldest unfinished handshake is evicted first, then the least recently
    used authenticated connection (which must then authenticate again).
    Unfinished handshakes older than ``handshake_timeout`` seconds are
    dropped too.
    """

    def __init__(self, credential: Credential, packages: Iterable[str] = ("NTLM", "Negotiate"),
                 realm: Optional[str] = None, on_failure: Optional[Callable] = None,
                 max_contexts: int = 1024, handshake_timeout: float = 120.0,
                 trace: Optional[Callable[[LegEvent], None]] = None,
                 channel_bindings: Optional[Callable[[Any], Any]] = None,
                 context_flags: int = 0, persistent: bool = True):
        if not isinstance(credential, Credential):
            raise TypeError("credential must be an sspx.Credential (Credential.server(...))")
        if credential.usage & 1 == 0:
            raise ValueError("the credential must be a server (inbound) credential")
        if max_contexts < 1:
            raise ValueError("max_contexts must be at least 1")
        schemes = []
        for p in packages:
            if not isinstance(p, str) or p.lower() not in ("ntlm", "negotiate"):
                raise ValueError(f"unsupported HTTP authentication scheme {p!r} "
                                 "(NTLM and Negotiate are)")
            schemes.append("NTLM" if p.lower() == "ntlm" else "Negotiate")
        if not schemes:
            raise ValueError("packages must name at least one scheme")
        self.credential = credential
        self.schemes = tuple(dict.fromkeys(schemes))
        self.realm = realm
        self.on_failure = on_failure
        self.max_contexts = int(max_contexts)
        self.handshake_timeout = float(handshake_timeout)
        self.trace = trace
        self.channel_bindings = channel_bindings
        self.context_flags = int(context_flags) | int(AscReq.CONNECTION)
        self.persistent = persistent
        # what a 401 offers: NTLM for an NTLM credential; Negotiate only when
        # the credential is a Negotiate one (an NTLM-only server offering
        # Negotiate would invite SPNEGO/Kerberos tokens it cannot take)
        if credential.package.lower() == "negotiate":
            offer = [s for s in ("Negotiate", "NTLM") if s in self.schemes]
        else:
            offer = [s for s in self.schemes if s == "NTLM"] or list(self.schemes)
        self.offer = tuple(offer)
        self._lock = threading.Lock()
        self._tracked = weakref.WeakValueDictionary()
        self._pending: "OrderedDict[Any, _State]" = OrderedDict()
        self._done: "OrderedDict[Any, _State]" = OrderedDict()
        self.evictions = 0

    # -------------------------------------------------------------- the map

    def __len__(self) -> int:
        with self._lock:
            return len(self._pending) + len(self._done)

    @property
    def pending_count(self) -> int:
        return len(self._pending)

    @property
    def authenticated_count(self) -> int:
        return len(self._done)

    def _key(self, conn) -> Tuple[Any, Any]:
        """(map key, weakref or None) for a connection object."""
        try:
            ref = weakref.ref(conn)
        except TypeError:
            hash(conn)  # a plain value (an int, a tuple): must be hashable and never reused
            return ("v", conn), None
        return ("id", id(conn)), ref

    def _get(self, conn, create: bool) -> Optional[_State]:
        key, ref = self._key(conn)
        with self._lock:
            st = self._pending.get(key) or self._done.get(key)
            if st is not None and st.ref is not None and st.ref() is not conn:
                self._remove_locked(st)  # a dead object's id reused: never inherit its state
                st = None
            if st is not None or not create:
                if st is not None and st.key in self._done:
                    self._done.move_to_end(st.key)
                return st
            if getattr(conn, "closed", False) is True:
                return None
            st = _State(key, ref)
            self._pending[key] = st
            dropped = self._expire_locked(keep=st) + self._evict_locked(keep=st)
            track = ref is not None and self._tracked.get(id(conn)) is not conn
            if track:
                self._tracked[id(conn)] = conn
        if track:
            self._track_close(conn, key)
        for old, why in dropped:
            with old.lock:
                old.drop()
            self._emit(LegEvent(why, None, message="context map full: evicted the oldest "
                                "unfinished handshake or least recently used connection"
                                if why == "evicted" else "unfinished handshake timed out"))
        return st

    def _expire_locked(self, keep: _State) -> list:
        now, out = time.monotonic(), []
        for st in list(self._pending.values()):
            if st is not keep and now - st.started > self.handshake_timeout:
                del self._pending[st.key]
                out.append((st, "expired"))
        return out

    def _evict_locked(self, keep: _State) -> list:
        out = []
        while len(self._pending) + len(self._done) > self.max_contexts:
            pending = [k for k in self._pending if self._pending[k] is not keep]
            if pending:
                source, key = self._pending, pending[0]
            elif self._done:
                source, key = self._done, next(iter(self._done))
            else:
                break
            out.append((source.pop(key), "evicted"))
            self.evictions += 1
        return out

    def _remove_locked(self, st: _State) -> None:
        for m in (self._pending, self._done):
            if m.get(st.key) is st:
                del m[st.key]

    def _remove(self, st: _State) -> None:
        with self._lock:
            self._remove_locked(st)
        with st.lock:
            st.drop()

    def _drop_key(self, key) -> None:
        with self._lock:
            st = self._pending.pop(key, None) or self._done.pop(key, None)
        if st is not None:
            with st.lock:
                st.drop()
            self._emit(LegEvent("closed", None, message="connection closed: context freed"))

    def _track_close(self, conn, key) -> None:
        """Free the connection's state when the server closes it or when the
        object is garbage-collected (whichever comes first). Registered once
        per connection object; it drops whatever state the key then holds."""
        wself = weakref.ref(self)

        def closed():
            me = wself()
            if me is not None:
                me._drop_key(key)

        weakref.finalize(conn, closed)
        add = getattr(conn, "add_close_callback", None)
        if callable(add):
            add(closed)

    def connection_closed(self, conn) -> None:
        """Tell the middleware a connection ended: its context is freed now.
        (Servers using :class:`Connection` call ``conn.close()`` instead.)"""
        st = self._get(conn, create=False)
        if st is not None:
            self._remove(st)

    def _emit(self, ev: LegEvent) -> None:
        if self.trace is not None:
            try:
                self.trace(ev)
            except Exception:
                log.exception("sspx.http trace hook failed")

    # ------------------------------------------------------ the state machine

    def _challenge_headers(self):
        return [("WWW-Authenticate", s) for s in self.offer]

    def _text(self, status: int, message: str, headers=(), close=False) -> _Reply:
        body = (message.rstrip("\n") + "\n").encode("utf-8")
        hdrs = [("Content-Type", "text/plain; charset=utf-8")] + list(headers)
        return _Reply(status, hdrs, body, close=close)

    def _unauthorized(self, message: str) -> _Reply:
        if self.realm:
            message = f"{message} ({self.realm})"
        return self._text(401, message, self._challenge_headers())

    def process(self, conn, authorization: Optional[str], request=None) -> _Reply:
        """Decide one request: ``conn`` is the connection identity (or None),
        ``authorization`` the Authorization header value (or None),
        ``request`` the environ/scope given to hooks. A 200 reply means: run
        the application as ``reply.user`` with ``reply.ctx``."""
        if conn is None:
            log.error("sspx.http: no connection identity in the request: NTLM authenticates a "
                      "connection, so the server must put an object unique per TCP connection "
                      "in environ[%r] (WSGI) or scope['extensions'][%r] (ASGI), or the "
                      "middleware must be given connection=callable; see docs/PYTHON_HTTP.md",
                      CONNECTION_KEY, CONNECTION_KEY)
            return self._text(500, "Server misconfiguration: the HTTP server provides no "
                                   "connection identity, which NTLM authentication requires.",
                              close=True)
        if authorization is None or not authorization.strip():
            st = self._get(conn, create=False)
            if st is not None and self.persistent:
                with st.lock:
                    if st.user is not None and st.ctx is not None:
                        return _Reply(200, user=st.user, ctx=st.ctx, scheme=st.scheme)
            return self._unauthorized("Authentication required.")

        scheme, _, b64 = authorization.strip().partition(" ")
        b64 = b64.strip()
        canonical = next((s for s in self.schemes if s.lower() == scheme.lower()), None)
        if canonical is None:
            # another scheme (Basic, Bearer...): not ours; ask for ours
            return self._unauthorized("Authentication required.")
        if not b64 or len(b64) > MAX_TOKEN_CHARS:
            return self._bad(conn, f"Malformed Authorization header: {canonical} needs one "
                                   "base64 token.")
        try:
            # strict: the standard alphabet, whole quads, at most "==" of padding
            if len(b64) % 4 or not _B64.fullmatch(b64):
                raise ValueError("not canonical base64")
            token = binascii.a2b_base64(b64.encode("ascii"), strict_mode=True)
        except (binascii.Error, ValueError, UnicodeError):
            return self._bad(conn, "Malformed Authorization header: the token is not valid "
                                   "base64.")
        if not token:
            return self._bad(conn, "Malformed Authorization header: empty token.")

        st = self._get(conn, create=True)
        if st is None:
            return self._text(400, "The connection is closed.", close=True)
        with st.lock:
            return self._step(conn, st, canonical, token, request)

    def _bad(self, conn, message: str) -> _Reply:
        st = self._get(conn, create=False)
        if st is not None:
            self._remove(st)
        log.info("sspx.http: 400: %s", message)
        return self._text(400, message, close=True)

    def _step(self, conn, st: _State, scheme: str, token: bytes, request) -> _Reply:
        # a first token: a raw NTLM NEGOTIATE, or a GSS-framed
        # InitialContextToken ([APPLICATION 0], 0x60: SPNEGO NegTokenInit or a
        # raw Kerberos AP-REQ; later SPNEGO tokens are NegTokenResp, 0xa1)
        is_first_token = ((token.startswith(_NTLMSSP) and token[8:12] == b"\x01\0\0\0")
                          or token[:1] == _GSS_INITIAL)
        if st.ctx is not None and (is_first_token or st.user is not None or
                                   st.scheme != scheme):
            # a first token restarts; a finished context takes no more tokens;
            # a scheme switch mid-handshake starts over too
            self._emit(LegEvent("restart", conn, scheme, message="new handshake on this "
                                "connection: previous context dropped"))
            st.drop()
            st.started = time.monotonic()
            with self._lock:
                if self._done.pop(st.key, None) is st:
                    self._pending[st.key] = st
                elif st.key in self._pending:
                    self._pending.move_to_end(st.key)
        try:
            if st.ctx is None:
                cb = None
                if self.channel_bindings is not None:
                    cb = self.channel_bindings(request)
                    if isinstance(cb, ChannelBindings):
                        cb = cb.to_bytes()
                st.ctx = ServerContext(self.credential, flags=self.context_flags,
                                       channel_bindings=cb)
                st.scheme = scheme
                st.legs = 0
            ctx = st.ctx
            st.legs += 1
            out = ctx.step(token)
        except SecurityError as exc:
            return self._failed(conn, st, scheme, token, exc, request)
        status = status_name(ctx.last_status)
        flags = _flags(ctx)
        self._emit(LegEvent("in", conn, scheme, st.legs, token, status, flags))
        if ctx.continue_needed:
            if not out:
                return self._failed(conn, st, scheme, token, SecurityError(
                    0x80090304, "SEC_E_INTERNAL_ERROR", "continue needed without a token"),
                    request)
            st.legs += 1
            self._emit(LegEvent("out", conn, scheme, st.legs, out, status, flags))
            hdr = f"{scheme} {base64.b64encode(out).decode('ascii')}"
            return self._text(401, "Continue the handshake on this connection.",
                              [("WWW-Authenticate", hdr)])
        if not ctx.complete:
            return self._failed(conn, st, scheme, token, SecurityError(
                ctx.last_status, status, "unexpected status for an HTTP handshake"), request)
        try:
            user = AuthenticatedUser(ctx.client_name or "")
        except SecurityError as exc:
            return self._failed(conn, st, scheme, token, exc, request)
        st.user = user
        with self._lock:
            if self._pending.pop(st.key, None) is st:
                self._done[st.key] = st
        self._emit(LegEvent("authenticated", conn, scheme, st.legs, b"", status, flags, user=user))
        headers = []
        if out:  # a final (mutual) token: Negotiate sends it with the 200
            headers.append(("WWW-Authenticate", f"{scheme} {base64.b64encode(out).decode()}"))
        return _Reply(200, headers, user=user, ctx=ctx, scheme=scheme)

    def _failed(self, conn, st, scheme, token, exc: SecurityError, request) -> _Reply:
        self._emit(LegEvent("in", conn, scheme, st.legs, token, exc.name, None, error=exc))
        self._emit(LegEvent("failed", conn, scheme, st.legs, b"", exc.name, None, error=exc,
                            message=str(exc)))
        log.info("sspx.http: authentication failed: %s", exc)
        self._remove(st)
        if self.on_failure is not None:
            try:
                self.on_failure(request, exc)
            except Exception:
                log.exception("sspx.http on_failure hook failed")
        return self._unauthorized("Authentication failed.")


def _flags(ctx):
    try:
        return ctx.flags
    except SecurityError:
        return None


def _wsgi_status(code: int) -> str:
    return f"{code} {_REASONS.get(code, 'Error')}"


def _default_wsgi_connection(environ):
    return environ.get(CONNECTION_KEY)


def _default_asgi_connection(scope):
    ext = scope.get("extensions") or {}
    conn = ext.get(CONNECTION_KEY)
    if conn is None:
        conn = scope.get(CONNECTION_KEY)
    return conn


class WSGIAuth(Authenticator):
    """WSGI middleware: ``WSGIAuth(app, credential, packages=("NTLM", "Negotiate"),
    realm=None, on_failure=None, *, connection=None, max_contexts=1024, ...)``.

    The wrapped app runs only for authenticated connections, with
    ``environ["REMOTE_USER"]`` = "DOMAIN\\\\user", ``environ["AUTH_TYPE"]`` =
    the scheme and ``environ["sspx.context"]`` = the :class:`ServerContext`.
    ``connection(environ)`` returns the connection identity (default:
    ``environ["sspx.connection"]``). ``on_failure(environ, error)`` is called
    for each failed handshake (auditing); ``trace(LegEvent)`` for each leg.
    """

    def __init__(self, app, credential: Credential, packages=("NTLM", "Negotiate"),
                 realm: Optional[str] = None, on_failure: Optional[Callable] = None, *,
                 connection: Optional[Callable[[dict], Any]] = None, **options):
        super().__init__(credential, packages, realm, on_failure, **options)
        self.app = app
        self.connection = connection or _default_wsgi_connection

    def __call__(self, environ, start_response):
        reply = self.process(self.connection(environ), environ.get("HTTP_AUTHORIZATION"),
                             environ)
        if reply.status == 200:
            environ["REMOTE_USER"] = str(reply.user)
            environ["AUTH_TYPE"] = reply.scheme
            environ["sspx.context"] = reply.ctx
            if not reply.headers:
                return self.app(environ, start_response)

            def start(status, headers, exc_info=None):
                return start_response(status, list(headers) + reply.headers, exc_info)

            return self.app(environ, start)
        headers = reply.headers + [("Content-Length", str(len(reply.body)))]
        if reply.close:
            headers.append(("Connection", "close"))
        start_response(_wsgi_status(reply.status), headers)
        return [b"" if environ.get("REQUEST_METHOD") == "HEAD" else reply.body]


class ASGIAuth(Authenticator):
    """ASGI middleware (HTTP and WebSocket scopes; lifespan passes through).

    The wrapped app runs with ``scope["user"]`` = an :class:`AuthenticatedUser`
    (a ``str`` "DOMAIN\\\\user" with ``is_authenticated`` / ``display_name``,
    as Starlette apps expect), ``scope["sspx.context"]`` = the
    :class:`ServerContext` and ``scope["sspx.scheme"]``. ``connection(scope)``
    returns the connection identity (default:
    ``scope["extensions"]["sspx.connection"]``, then ``scope["sspx.connection"]``).
    An unauthenticated WebSocket is closed (403) before the app sees it.
    Handshake legs run in the loop's default executor (``offload=False``:
    inline), so a slow user lookup does not block the event loop.
    """

    def __init__(self, app, credential: Credential, packages=("NTLM", "Negotiate"),
                 realm: Optional[str] = None, on_failure: Optional[Callable] = None, *,
                 connection: Optional[Callable[[dict], Any]] = None, offload: bool = True,
                 **options):
        super().__init__(credential, packages, realm, on_failure, **options)
        self.app = app
        self.connection = connection or _default_asgi_connection
        self.offload = offload

    async def __call__(self, scope, receive, send):
        kind = scope.get("type")
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        authz = None
        for name, value in scope.get("headers") or ():
            if name.lower() == b"authorization":
                authz = value.decode("latin-1")
                break
        conn = self.connection(scope)
        if authz is not None and conn is not None and self.offload:
            # a token runs AcceptSecurityContext (and maybe a user lookup that
            # does I/O): keep it off the event loop
            reply = await asyncio.get_running_loop().run_in_executor(
                None, self.process, conn, authz, scope)
        else:
            reply = self.process(conn, authz, scope)
        if reply.status == 200:
            scope = dict(scope)
            scope["user"] = reply.user
            scope["sspx.context"] = reply.ctx
            scope["sspx.scheme"] = reply.scheme
            if reply.headers and kind == "http":
                extra = [(k.lower().encode("latin-1"), v.encode("latin-1"))
                         for k, v in reply.headers]

                async def send_with(message):
                    if message.get("type") == "http.response.start":
                        message = dict(message)
                        message["headers"] = list(message.get("headers") or []) + extra
                    await send(message)

                await self.app(scope, receive, send_with)
            else:
                await self.app(scope, receive, send)
            return
        if kind == "websocket":
            # close before accept: the server answers the upgrade with 403
            await send({"type": "websocket.close", "code": 1008})
            return
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers]
        headers.append((b"content-length", str(len(reply.body)).encode()))
        if reply.close:
            headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body",
                    "body": b"" if scope.get("method") == "HEAD" else reply.body})
