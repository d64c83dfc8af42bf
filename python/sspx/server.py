"""A small threaded HTTP/1.1 server for trying and testing NTLM over HTTP.

    python -m sspx serve [--port N] [--host 127.0.0.1] [--users FILE] [--quiet]

It serves WSGI applications with persistent (keep-alive) connections and
gives the :mod:`sspx.http` middleware the connection identity it needs
(``environ["sspx.connection"]``, one :class:`sspx.http.Connection` per TCP
connection, closed when the connection ends). It is a test and demo server:
request bodies are read into memory (at most ``max_body`` bytes), chunked
request bodies are refused, responses are buffered. It listens on 127.0.0.1
unless told otherwise.
"""

from __future__ import annotations

import io
import socket
import sys
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Optional, TextIO
from urllib.parse import unquote

from . import http as _http
from ._context import Credential

__all__ = ["WSGIServer", "make_server", "hello_app", "default_credential", "DEFAULT_USERS",
           "LegPrinter", "render_token"]

#: The embedded user store of ``python -m sspx serve``.
DEFAULT_USERS = {"TESTDOM\\bob": "Passw0rd!", "alice": "Wonderland1"}


def default_credential(users=None) -> Credential:
    """The demo server's credential: domain TESTDOM, the given users file or
    mapping, else :data:`DEFAULT_USERS`."""
    return Credential.server("NTLM", users=users if users is not None else DEFAULT_USERS,
                             netbios_domain="TESTDOM")


def hello_app(environ, start_response):
    """Answers "Hello, DOMAIN\\\\user" to an authenticated request."""
    body = f"Hello, {environ.get('REMOTE_USER', 'anonymous')}\n".encode("utf-8")
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8"),
                              ("Content-Length", str(len(body)))])
    return [body]


# ------------------------------------------------------------ token rendering

def _render_node(node: dict, depth: int, out: list) -> None:
    pad = "  " * depth
    kids = node.get("children") or []
    name = node.get("name", "?")
    if kids and all(k.get("kind") == "flag" for k in kids):
        out.append(f"{pad}{name}: 0x{int(node.get('value') or 0):08x} "
                   + " | ".join(k.get("name", "?") for k in kids))
        return
    val = node.get("text")
    if val is None:
        raw = node.get("bytes") or b""
        if raw:
            val = raw[:32].hex() + ("..." if len(raw) > 32 else "") + f" ({len(raw)} bytes)"
        elif node.get("value") is not None and not kids:
            val = str(node.get("value"))
        else:
            val = ""
    out.append(f"{pad}{name}{': ' + str(val) if val != '' else ''}")
    for k in kids:
        _render_node(k, depth + 1, out)


def render_token(token: bytes, indent: str = "    ") -> str:
    """The token decoded by :func:`sspx.describe`, as indented text
    (``sspx.inspect.render_text`` when that module is present)."""
    import sspx

    try:
        desc = sspx.describe(token)
    except Exception as exc:  # an undecodable token is shown, not fatal
        return f"{indent}(cannot decode: {exc}) {token[:48].hex()}"
    try:
        from . import inspect as _inspect  # the richer renderer, when installed
        render = getattr(_inspect, "render_text", None)
    except ImportError:
        render = None
    if render is not None:
        text = render(desc)
    else:
        lines: list = []
        _render_node(desc, 0, lines)
        text = "\n".join(lines)
    return "\n".join(indent + line for line in str(text).splitlines())


class LegPrinter:
    """A ``trace`` hook printing each handshake leg to a stream."""

    def __init__(self, stream: Optional[TextIO] = None, tokens: bool = True):
        self.stream = stream
        self.tokens = tokens
        self._lock = threading.Lock()

    def __call__(self, ev: "_http.LegEvent") -> None:
        if ev.kind == "closed":
            return  # the server prints its own "[conn N] closed"
        conn = f"[conn {ev.connection.id}]" if isinstance(ev.connection, _http.Connection) \
            else "[conn ?]" if ev.connection is not None else "[server]"
        flags = ""
        if ev.flags is not None:
            names = "|".join(f.name for f in type(ev.flags) if f in ev.flags and f.name)
            flags = f"  flags 0x{int(ev.flags):08x}" + (f" {names}" if names else "")
        if ev.kind == "in":
            head = (f"{conn} leg {ev.leg}  client -> server  {ev.scheme} ({len(ev.token)} bytes)"
                    f"  AcceptSecurityContext: {ev.status}{flags}")
        elif ev.kind == "out":
            head = (f"{conn} leg {ev.leg}  server -> client  {ev.scheme} ({len(ev.token)} bytes)"
                    f"  status: {ev.status}{flags}")
        elif ev.kind == "authenticated":
            head = f"{conn} authenticated: {ev.user} ({ev.scheme}){flags}"
        elif ev.kind == "failed":
            head = f"{conn} authentication failed: {ev.message}"
        else:
            head = f"{conn} {ev.kind}: {ev.message}"
        text = head
        if self.tokens and ev.token and ev.kind in ("in", "out"):
            text += "\n" + render_token(ev.token)
        with self._lock:
            stream = self.stream or sys.stdout
            print(text, file=stream, flush=True)


# ------------------------------------------------------------------ the server

class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60  # an idle keep-alive connection is closed after this many seconds

    def setup(self):
        super().setup()
        self.conn_id = _http.Connection(peer=self.client_address)
        self.server._track(self.connection, True)
        self.server._say(f"[conn {self.conn_id.id}] accepted from "
                         f"{self.client_address[0]}:{self.client_address[1]}")

    def finish(self):
        try:
            super().finish()
        finally:
            self.server._track(self.connection, False)
            self.conn_id.close()  # frees this connection's security context now
            self.server._say(f"[conn {self.conn_id.id}] closed")

    def log_message(self, fmt, *args):
        if self.server.verbose:
            self.server._say(f"[conn {self.conn_id.id}] " + (fmt % args))

    def log_request(self, code="-", size="-"):
        if self.server.verbose:
            self.server._say(f"[conn {self.conn_id.id}] {self.command} {self.path} -> {code}")

    def _plain(self, code: int, message: str) -> None:
        body = (message + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.close_connection = True

    def _run(self):
        srv = self.server
        if self.headers.get("Transfer-Encoding", "identity").lower() != "identity":
            return self._plain(411, "chunked request bodies are not supported; send "
                                    "Content-Length")
        try:
            length = int(self.headers.get("Content-Length") or 0)
            if length < 0:
                raise ValueError
        except ValueError:
            return self._plain(400, "bad Content-Length")
        if length > srv.max_body:
            return self._plain(413, "request body too large")
        body = self.rfile.read(length) if length else b""
        if len(body) != length:
            self.close_connection = True
            return
        path, _, query = self.path.partition("?")
        host, port = srv.server_address[:2]
        environ = {
            "REQUEST_METHOD": self.command, "SCRIPT_NAME": "",
            "PATH_INFO": unquote(path, "latin-1"), "QUERY_STRING": query,
            "SERVER_NAME": str(host), "SERVER_PORT": str(port),
            "SERVER_PROTOCOL": self.request_version, "SERVER_SOFTWARE": "sspx.server",
            "REMOTE_ADDR": self.client_address[0], "REMOTE_PORT": str(self.client_address[1]),
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(length) if length else "",
            "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": False,
            "wsgi.run_once": False, _http.CONNECTION_KEY: self.conn_id,
        }
        for name, value in self.headers.items():
            key = "HTTP_" + name.upper().replace("-", "_")
            if key in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH") or "_" in name:
                continue  # never let "X_Foo" spoof "X-Foo"
            environ[key] = f"{environ[key]}, {value}" if key in environ else value
        state = {}

        def start_response(status, headers, exc_info=None):
            if exc_info and state.get("sent"):
                raise exc_info[1].with_traceback(exc_info[2])
            state["status"], state["headers"] = status, list(headers)
            return lambda data: state.setdefault("chunks", []).append(data)

        try:
            result = srv.app(environ, start_response)
            try:
                chunks = state.setdefault("chunks", [])
                chunks.extend(bytes(c) for c in result)
            finally:
                close = getattr(result, "close", None)
                if close:
                    close()
            if "status" not in state:
                raise RuntimeError("the application did not call start_response")
        except Exception:
            srv._say(f"[conn {self.conn_id.id}] application error:\n{traceback.format_exc()}")
            return self._plain(500, "Internal Server Error")
        payload = b"".join(state["chunks"])
        code, _, reason = state["status"].partition(" ")
        self.send_response(int(code), reason or None)
        have_length = False
        for k, v in state["headers"]:
            lk = k.lower()
            if lk == "content-length":
                have_length = True
            if lk == "connection" and "close" in v.lower():
                self.close_connection = True
            if lk in ("server", "date"):
                continue
            self.send_header(k, v)
        if not have_length:
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
        self.wfile.flush()

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _run


class WSGIServer(ThreadingHTTPServer):
    """A threaded HTTP/1.1 WSGI server with keep-alive and connection
    identity (``environ["sspx.connection"]``). ``close()`` stops it and
    closes every open connection."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, app, verbose: bool = True, max_body: int = 16 << 20,
                 stream: Optional[TextIO] = None):
        self.app = app
        self.verbose = verbose
        self.max_body = max_body
        self.stream = stream
        self._socks = set()
        self._socks_lock = threading.Lock()
        self._thread: Optional[threading.Thread] = None
        self._out_lock = threading.Lock()
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port}/"

    def _say(self, text: str) -> None:
        if self.verbose:
            with self._out_lock:
                print(text, file=self.stream or sys.stdout, flush=True)

    def _track(self, sock, add: bool) -> None:
        with self._socks_lock:
            (self._socks.add if add else self._socks.discard)(sock)

    def start(self) -> "WSGIServer":
        """Serve in a background thread."""
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="sspx.server", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving, close open connections, release the port."""
        if self._thread is not None:
            self.shutdown()
            self._thread.join(10)
            self._thread = None
        with self._socks_lock:
            socks = list(self._socks)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def make_server(host: str = "127.0.0.1", port: int = 0, credential: Optional[Credential] = None,
                app: Optional[Callable] = None, verbose: bool = True, tokens: bool = True,
                stream: Optional[TextIO] = None, **auth_options) -> WSGIServer:
    """A :class:`WSGIServer` serving ``app`` (default :func:`hello_app`)
    behind :class:`sspx.http.WSGIAuth` with ``credential`` (default
    :func:`default_credential`). Legs are printed when ``verbose``. The
    middleware is ``server.auth``."""
    cred = credential if credential is not None else default_credential()
    if verbose:
        auth_options.setdefault("trace", LegPrinter(stream, tokens=tokens))
    auth = _http.WSGIAuth(app or hello_app, cred, **auth_options)
    srv = WSGIServer((host, port), auth, verbose=verbose, stream=stream)
    srv.auth = auth
    srv.credential = cred
    return srv
