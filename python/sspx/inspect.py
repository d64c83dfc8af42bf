"""Tokens and handshakes shown to people: the C decoders' descriptions,
rendered as text (terminals, logs) and HTML (Jupyter).

    >>> tok = sspx.inspect.decode(challenge)
    >>> print(tok)                     # every field with its offset and length
    >>> tok["TargetInfo"]["MsvAvTimestamp"].value
    >>> rec = sspx.inspect.Handshake.run(client_ctx, server_ctx)
    >>> print(rec)                     # one row per step: status, tokens, flags

Nothing here reads a wire format: every name, offset, length and value comes
from :func:`sspx.describe` (the package's own decoder in C). This module only
lays the description tree out; all token text is untrusted and is escaped
(quoted in text, ``html.escape``-d in HTML).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import dataclasses
import datetime
import functools
import html
import json
import re
import sys
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Union

__all__ = ["Token", "Undecodable", "Leg", "Handshake", "decode", "try_decode", "render_text",
           "render_html", "main_decode", "parse_token_text", "context_flags"]

#: bytes fields longer than this are shown truncated (the full value stays in ``.bytes``)
HEX_LIMIT = 32
_KINDS = ("struct", "uint", "flags", "flag", "bytes", "string", "enum")
_FILETIME_EPOCH = datetime.datetime(1601, 1, 1, tzinfo=datetime.timezone.utc)


# ----------------------------------------------------------------- tokens


@dataclasses.dataclass(eq=True)
class Token:
    """One node of a token's description (the root is the whole token).

    ``kind`` is one of struct, uint, flags, flag, bytes, string, enum;
    ``offset``/``length`` locate the field in the token; ``value`` is the
    number (uint, flags, flag, enum), ``text`` the string (string, enum
    name), ``bytes`` the raw value (bytes). ``tok["Name"]`` is a child by
    name, ``tok.find("Name")`` searches the whole subtree.
    """

    name: str
    kind: str = "struct"
    offset: int = 0
    length: int = 0
    value: int = 0
    text: Optional[str] = None
    bytes: "bytes" = b""
    children: List["Token"] = dataclasses.field(default_factory=list)
    package: Optional[str] = dataclasses.field(default=None, compare=False)
    raw: Optional["bytes"] = dataclasses.field(default=None, compare=False, repr=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Token":
        """A Token over a :func:`sspx.describe` dict (or a Token, returned as is)."""
        if isinstance(d, Token):
            return d
        return cls(name=str(d.get("name", "")), kind=str(d.get("kind", "struct")),
                   offset=int(d.get("offset", 0) or 0), length=int(d.get("length", 0) or 0),
                   value=int(d.get("value", 0) or 0), text=d.get("text"),
                   bytes=bytes(d.get("bytes") or b""),
                   children=[cls.from_dict(c) for c in d.get("children") or ()])

    def to_dict(self) -> Dict[str, Any]:
        """The description as :func:`sspx.describe` returns it (nested dicts)."""
        return {"name": self.name, "kind": self.kind, "offset": self.offset,
                "length": self.length, "value": self.value, "text": self.text,
                "bytes": self.bytes, "children": [c.to_dict() for c in self.children]}

    def to_json(self, **kw) -> str:
        """The description as JSON (bytes as hex strings)."""
        def conv(d):
            d = dict(d, bytes=d["bytes"].hex(), children=[conv(c) for c in d["children"]])
            return d
        return json.dumps(conv(self.to_dict()), **kw)

    # navigation
    def find(self, name: str) -> Optional["Token"]:
        """The first node called ``name`` in this subtree (depth first), or None."""
        for node in self.walk():
            if node.name == name:
                return node
        return None

    def find_all(self, name: str) -> List["Token"]:
        return [n for n in self.walk() if n.name == name]

    def walk(self) -> Iterator["Token"]:
        """This node and all its descendants, depth first."""
        yield self
        for c in self.children:
            yield from c.walk()

    def __getitem__(self, key: Union[str, int]) -> "Token":
        if isinstance(key, int):
            return self.children[key]
        for c in self.children:
            if c.name == key:
                return c
        raise KeyError(key)

    def __contains__(self, key: str) -> bool:
        return any(c.name == key for c in self.children)

    def __iter__(self) -> Iterator["Token"]:
        return iter(self.children)

    def get(self, key: str, default=None):
        try:
            return self[key]
        except KeyError:
            return default

    # what it is
    @property
    def message_type(self) -> Optional[str]:
        """The text of the first enum among the root's children (for NTLM the
        MessageType: "NEGOTIATE_MESSAGE", ...), or None."""
        for c in self.children:
            if c.kind == "enum" and c.text:
                return c.text
        return None

    @property
    def flag_names(self) -> List[str]:
        """For a flags node: the names of the flags set, as the decoder named them."""
        return [c.name for c in self.children if c.kind == "flag"]

    @property
    def summary(self) -> str:
        """A one-line name: "NTLM CHALLENGE_MESSAGE (174 bytes)"."""
        n = len(self.raw) if self.raw is not None else self.length
        mt = self.message_type
        head = f"{self.name} {mt}" if mt else self.name
        return f"{head} ({n} bytes)"

    @property
    def display_value(self) -> str:
        """The value of this node as one line of text (strings quoted)."""
        return _value_text(self)

    def __str__(self) -> str:
        return render_text(self)

    def __repr__(self) -> str:
        if self.kind == "struct":
            return f"<sspx.inspect.Token {_clean(self.summary)}>"
        return f"<sspx.inspect.Token {_clean(self.name)} {self.kind} = {_value_text(self)}>"

    def _repr_html_(self) -> str:
        return render_html(self)

    def _repr_pretty_(self, p, cycle) -> None:  # IPython's plain-text form
        p.text(str(self))


@dataclasses.dataclass
class Undecodable:
    """Bytes the decoders refused: kept with the decoder's error."""

    data: "bytes"
    error: BaseException
    name: str = "undecodable"

    @property
    def error_text(self) -> str:
        return str(self.error)

    @property
    def summary(self) -> str:
        return f"undecodable ({len(self.data)} bytes)"

    @property
    def message_type(self) -> Optional[str]:
        return None

    def __str__(self) -> str:
        lines = [f"undecodable token ({len(self.data)} bytes): {_clean(self.error_text)}"]
        for i in range(0, min(len(self.data), 256), 16):
            lines.append(f"  {i:04x}  {self.data[i:i + 16].hex(' ')}")
        if len(self.data) > 256:
            lines.append(f"  ... ({len(self.data) - 256} more bytes)")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        e = html.escape
        return (f'<div class="sspx-token sspx-undecodable"><b>{e(self.summary)}</b>: '
                f'{e(self.error_text)}<br><code title="{e(self.data.hex())}">'
                f'{e(_hex(self.data))}</code></div>')


def decode(token: "bytes", package: Optional[str] = None) -> Token:
    """The token's description by the C decoder of ``package`` (found from the
    bytes when None), as a :class:`Token`. Raises the decoder's
    :class:`~sspx.errors.SecurityError` (InvalidToken, ...) when it refuses."""
    from . import describe

    if isinstance(token, str):
        raise TypeError("token must be bytes; for base64/hex text use parse_token_text()")
    data = bytes(token)
    tok = Token.from_dict(describe(data, package))
    tok.package = package or tok.name
    tok.raw = data
    return tok


def try_decode(token: "bytes", package: Optional[str] = None) -> Union[Token, Undecodable]:
    """:func:`decode`, or an :class:`Undecodable` holding the bytes and the
    decoder's error."""
    from .errors import PackageNotFound, SecurityError, UnsupportedFunction

    data = bytes(token)
    try:
        return decode(data, package)
    except (PackageNotFound, UnsupportedFunction) as exc:
        if package is None:
            return Undecodable(data, exc)
        try:  # no decoder for that package: let the decoders recognise the bytes
            return decode(data, None)
        except SecurityError:
            return Undecodable(data, exc)
    except (SecurityError, ValueError, TypeError) as exc:
        return Undecodable(data, exc)


# --------------------------------------------------------------- rendering


def _clean(s: str) -> str:
    """Untrusted text on one line: control and non-printable characters escaped."""
    out = []
    for ch in s:
        if ch.isprintable():
            out.append(ch)
        elif ch in "\n\r\t":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch])
        else:
            o = ord(ch)
            out.append(f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}" if o < 0x10000
                       else f"\\U{o:08x}")
    return "".join(out)


def _quote(s: str) -> str:
    return '"' + _clean(s).replace('"', '\\"') + '"'


def _hex(b: "bytes", limit: int = HEX_LIMIT) -> str:
    if len(b) <= limit:
        return b.hex()
    return f"{b[:limit].hex()}... ({len(b)} bytes)"


def _filetime(name: str, v: int) -> Optional[str]:
    """A FILETIME shown as a date when the decoder named the field a time stamp."""
    if "timestamp" not in name.lower() or not 0 < v < (1 << 63):
        return None
    try:
        t = _FILETIME_EPOCH + datetime.timedelta(microseconds=v // 10)
    except OverflowError:
        return None
    return t.strftime("%Y-%m-%d %H:%M:%S.%f UTC")


def _value_text(t: Token) -> str:
    k = t.kind
    if k == "string":
        return _quote(t.text if t.text is not None else "")
    if k == "enum":
        return f"{_clean(t.text)} ({t.value})" if t.text else str(t.value)
    if k == "flags":
        return f"0x{t.value:08X}"
    if k == "flag":
        return f"0x{t.value:08X}"
    if k == "uint":
        if t.text:
            return f"{t.value} ({_clean(t.text)})"
        when = _filetime(t.name, t.value)
        if when:
            return f"{t.value} ({when})"
        return str(t.value) if t.value < 10 else f"{t.value} (0x{t.value:X})"
    if k == "bytes":
        s = _hex(t.bytes) if t.bytes else ("(empty)" if not t.length else "")
        if t.text:
            s = f"{s} {_quote(t.text)}".strip()
        return s
    # struct (or a kind this version does not know)
    parts = []
    if t.text:
        parts.append(_quote(t.text))
    if t.bytes:
        parts.append(_hex(t.bytes))
    return " ".join(parts)


def _rows(t: Token, depth: int = 0) -> Iterator[tuple]:
    yield depth, t
    for c in t.children:
        if t.kind == "flags" and c.kind == "flag":
            continue  # shown on the flags line
        yield from _rows(c, depth + 1)


def render_text(desc: Union[Token, Mapping[str, Any]], width: int = 100) -> str:
    """A description (a :func:`sspx.describe` dict or a :class:`Token`) as
    lines of text: every field with its offset and length in the token, flags
    by name, strings quoted, bytes in hex (long ones truncated)."""
    tok = Token.from_dict(desc)
    rows = list(_rows(tok))
    namew = min(max(len(_clean(n.name)) + 2 * d for d, n in rows), 40)
    lines = [f"{_clean(tok.summary)}",
             f"  {'field':<{namew}} {'offset':>6} {'len':>5}  value"]
    for depth, n in rows[1:]:
        label = "  " * (depth - 1) + _clean(n.name)
        val = _value_text(n)
        lines.append(f"  {label:<{namew}} {n.offset:>6} {n.length:>5}  {val}".rstrip())
        if n.kind == "flags":
            indent = " " * (2 + namew + 15)
            line = ""
            for name in (_clean(c.name) for c in n.children if c.kind == "flag"):
                if line and len(indent) + len(line) + len(name) + 3 > width:
                    lines.append(indent + line + " |")
                    line = ""
                line = f"{line} | {name}" if line else name
            if line:
                lines.append(indent + line)
    return "\n".join(lines)


_CSS = ("<style>.sspx-token table{border-collapse:collapse;font-size:90%}"
        ".sspx-token td,.sspx-token th{padding:1px 8px;text-align:left;vertical-align:top;"
        "border-bottom:1px solid #eee}.sspx-token td.n{text-align:right;font-family:monospace}"
        ".sspx-token code{font-size:95%}.sspx-flag{display:inline-block;margin:0 4px 2px 0;"
        "padding:0 3px;background:#eef;border-radius:3px;font-family:monospace}</style>")


def render_html(desc: Union[Token, Mapping[str, Any]]) -> str:
    """The description as an HTML table (for Jupyter); every string from the
    token is escaped."""
    e = html.escape
    tok = Token.from_dict(desc)
    out = [_CSS, '<div class="sspx-token"><table>',
           f'<caption style="text-align:left"><b>{e(tok.summary)}</b></caption>',
           "<tr><th>field</th><th>offset</th><th>length</th><th>kind</th><th>value</th></tr>"]
    for depth, n in list(_rows(tok))[1:]:
        if n.kind == "flags":
            flags = "".join(f'<span class="sspx-flag">{e(c.name)}</span>'
                            for c in n.children if c.kind == "flag")
            val = f"<code>{e(_value_text(n))}</code><br>{flags}"
        elif n.kind == "bytes" and n.bytes:
            val = f'<code title="{e(n.bytes.hex())}">{e(_value_text(n))}</code>'
        else:
            val = f"<code>{e(_value_text(n))}</code>" if _value_text(n) else ""
        pad = 0.2 + 1.2 * (depth - 1)
        name = f"<b>{e(n.name)}</b>" if n.children else e(n.name)
        out.append(f'<tr><td style="padding-left:{pad:.1f}em">{name}</td>'
                   f'<td class="n">{n.offset}</td><td class="n">{n.length}</td>'
                   f"<td>{e(n.kind)}</td><td>{val}</td></tr>")
    out.append("</table></div>")
    return "".join(out)


# -------------------------------------------------------------- handshakes


def _side_of(ctx) -> str:
    from ._context import ClientContext, ServerContext

    if isinstance(ctx, ServerContext):
        return "server"
    if isinstance(ctx, ClientContext):
        return "client"
    return "server" if getattr(ctx, "_server", True) else "client"


_DIRECTIONS = {"client": "client -> server", "server": "server -> client"}


def _flag_names(value: int, side: str) -> List[str]:
    from .flags import AscRet, IscRet

    cls, prefix = (AscRet, "ASC_RET_") if side == "server" else (IscRet, "ISC_RET_")
    names, rest = [], value
    for name, member in cls.__members__.items():
        v = int(member)
        if v and v & (v - 1) == 0 and value & v:
            names.append(prefix + name)
            rest &= ~v
    if rest:
        names.append(f"0x{rest:08X}")
    return names


def context_flags(ctx_or_value, side: Optional[str] = None) -> List[str]:
    """The names of a context's flags: ``context_flags(server_ctx)`` ->
    ["ASC_RET_CONFIDENTIALITY", ...]; or of a value, with ``side`` "server"
    (ASC_RET_) or "client" (ISC_RET_)."""
    if isinstance(ctx_or_value, int):
        if side not in ("server", "client"):
            raise ValueError("give side='server' or side='client' with a flags value")
        return _flag_names(int(ctx_or_value), side)
    return _flag_names(int(ctx_or_value.flags), side or _side_of(ctx_or_value))


def _status_text(status) -> str:
    from .errors import status_name

    if status is None:
        return ""
    if isinstance(status, str):
        return status
    return status_name(int(status))


@dataclasses.dataclass
class Leg:
    """One recorded step: which side ran it, the token it got and the one it
    produced (decoded), the status and the context flags afterwards."""

    index: int
    side: str
    status: str
    status_value: Optional[int] = None
    flags: List[str] = dataclasses.field(default_factory=list)
    flags_value: int = 0
    input: Union[Token, Undecodable, None] = None
    output: Union[Token, Undecodable, None] = None
    input_bytes: Optional["bytes"] = None
    output_bytes: Optional["bytes"] = None
    error: Optional[BaseException] = None
    complete: bool = False

    @property
    def direction(self) -> str:
        """The way this step's output goes: "client -> server" or "server -> client"."""
        return _DIRECTIONS.get(self.side, self.side)

    @property
    def failed(self) -> bool:
        return self.error is not None

    @property
    def error_text(self) -> str:
        return "" if self.error is None else str(self.error)

    def row(self) -> Dict[str, Any]:
        return {"leg": self.index, "side": self.side, "direction": self.direction,
                "input": _summary(self.input), "output": _summary(self.output),
                "status": self.status, "flags": list(self.flags), "complete": self.complete,
                "error": self.error_text}

    def __str__(self) -> str:
        lines = [f"leg {self.index}: {self.side} ({self.direction}) {self.status}"]
        if self.flags:
            lines.append("  flags: " + " | ".join(self.flags))
        if self.error is not None:
            lines.append("  error: " + _clean(self.error_text))
        for label, tok in (("input", self.input), ("output", self.output)):
            if tok is not None:
                lines.append(f"  {label}:")
                lines.extend("    " + ln for ln in str(tok).splitlines())
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        e = html.escape
        parts = [f'<div class="sspx-leg"><b>leg {self.index}</b>: {e(self.side)} '
                 f'({e(self.direction)}) <code>{e(self.status)}</code>']
        if self.flags:
            parts.append("<br>flags: " + " ".join(
                f"<code>{e(f)}</code>" for f in self.flags))
        if self.error is not None:
            parts.append(f"<br>error: {e(self.error_text)}")
        for label, tok in (("input", self.input), ("output", self.output)):
            if tok is not None:
                parts.append(f"<details><summary>{label}: {e(tok.summary)}</summary>"
                             f"{tok._repr_html_()}</details>")
        parts.append("</div>")
        return "".join(parts)


def _summary(tok) -> str:
    return "" if tok is None else _clean(tok.summary)


class _either:
    """A method that called on the class runs on a new instance."""

    def __init__(self, fn):
        self.fn = fn
        functools.update_wrapper(self, fn)

    def __get__(self, obj, cls):
        return functools.partial(self.fn, obj if obj is not None else cls())


_COLUMNS = (("leg", "#"), ("direction", "direction"), ("input", "input"),
            ("output", "output"), ("status", "status"), ("flags", "context flags"))


class Handshake:
    """A recorder of the legs of a handshake.

        rec = Handshake()
        t1 = rec.step(client, None)      # calls client.step(None) and logs the leg
        t2 = rec.step(server, t1)
        ...
        print(rec)                       # a table; rec.legs: the Leg objects

    ``Handshake.run(client, server)`` drives a whole in-process loop.
    :meth:`record` logs a leg that ran elsewhere (an HTTP server, say).
    """

    def __init__(self, package: Optional[str] = None):
        self.package = package
        self.legs: List[Leg] = []

    def step(self, ctx, token: Optional["bytes"] = None) -> "bytes":
        """``ctx.step(token)``, recorded. The exception the step raises is
        recorded, then re-raised."""
        side = _side_of(ctx)
        package = self.package or getattr(ctx, "package", None)
        try:
            out = ctx.step(token)
        except Exception as exc:
            self._add(side, token, None, getattr(exc, "name", None) or type(exc).__name__,
                      getattr(exc, "status", None), self._ctx_flags(ctx), exc, False, package)
            raise
        status = getattr(ctx, "last_status", None)
        complete = bool(getattr(ctx, "complete", False))
        self._add(side, token, out, _status_text(status), status, self._ctx_flags(ctx), None,
                  complete, package)
        return out

    @staticmethod
    def _ctx_flags(ctx) -> Optional[int]:
        try:
            return int(ctx.flags)
        except Exception:  # a closed or failed context has none to give
            return None

    def record(self, side: str, input: Optional["bytes"] = None,
               output: Optional["bytes"] = None, status=None, flags: Optional[int] = None,
               error: Optional[BaseException] = None, complete: bool = False,
               package: Optional[str] = None) -> Leg:
        """Log a leg run elsewhere: ``side`` is "client" or "server" (the one
        that ran it) or a direction ("client -> server"); ``status`` a
        SECURITY_STATUS or its name; ``flags`` the context's ASC_RET_/ISC_RET_
        value."""
        s = side.strip().lower()
        if s.startswith("client ->") or s.startswith("client->"):
            s = "client"
        elif s.startswith("server ->") or s.startswith("server->"):
            s = "server"
        if s not in ("client", "server"):
            raise ValueError(f"side must be 'client' or 'server', not {side!r}")
        if status is None and error is not None:
            status = getattr(error, "name", None) or type(error).__name__
        return self._add(s, input, output, _status_text(status),
                         None if status is None or isinstance(status, str) else int(status),
                         flags, error, complete, package or self.package)

    def _add(self, side, token_in, token_out, status, status_value, flags, error, complete,
             package) -> Leg:
        tin = bytes(token_in) if token_in else None
        tout = bytes(token_out) if token_out else None
        leg = Leg(index=len(self.legs) + 1, side=side, status=status,
                  status_value=None if status_value is None else int(status_value) & 0xFFFFFFFF,
                  flags=_flag_names(flags, side) if flags else [],
                  flags_value=flags or 0,
                  input=try_decode(tin, package) if tin else None,
                  output=try_decode(tout, package) if tout else None,
                  input_bytes=tin, output_bytes=tout, error=error, complete=complete)
        self.legs.append(leg)
        return leg

    @_either
    def run(self, client, server, max_legs: int = 16, check: bool = True) -> "Handshake":
        """Drive the whole loop in-process (the client starts; each token goes
        to the other side until one side has nothing to send), recording every
        leg. Returns the recorder; on failure the exception is re-raised (with
        ``exc.handshake`` set to the recorder) unless ``check=False``.
        ``Handshake.run(...)`` makes a new recorder."""
        try:
            token = self.step(client, None)
            peer, other = server, client
            for _ in range(max_legs):
                if not token:
                    break
                token = self.step(peer, token)
                peer, other = other, peer
            else:
                raise RuntimeError(f"the handshake did not finish in {max_legs} legs")
        except Exception as exc:
            if check:
                try:
                    exc.handshake = self
                except AttributeError:
                    pass
                raise
        return self

    # views
    @property
    def complete(self) -> bool:
        return bool(self.legs) and self.legs[-1].complete and not self.legs[-1].failed

    @property
    def status(self) -> str:
        """The last leg's status name ("" before any)."""
        return self.legs[-1].status if self.legs else ""

    def table(self) -> List[Dict[str, Any]]:
        """One plain dict per leg: leg, side, direction, input, output (token
        summaries), status, flags (names), complete, error."""
        return [leg.row() for leg in self.legs]

    def __iter__(self) -> Iterator[Leg]:
        return iter(self.legs)

    def __getitem__(self, i: int) -> Leg:
        return self.legs[i]

    def __str__(self) -> str:
        rows = [[h for _, h in _COLUMNS]]
        for r in self.table():
            rows.append([str(r["leg"]), r["direction"], r["input"] or "-", r["output"] or "-",
                         r["status"], " | ".join(r["flags"])])
        widths = [max(len(r[i]) for r in rows) for i in range(len(_COLUMNS) - 1)]
        lines = []
        for r in rows:
            cells = [c.ljust(w) for c, w in zip(r, widths)] + [r[-1]]
            lines.append("  ".join(cells).rstrip())
        lines.insert(1, "  ".join("-" * w for w in widths) + "  " + "-" * 13)
        errors = [leg for leg in self.legs if leg.error is not None]
        for leg in errors:
            lines.append(f"leg {leg.index} failed: {_clean(leg.error_text)}")
        return "\n".join(lines)

    def report(self) -> str:
        """The table followed by every leg with its decoded tokens."""
        return "\n\n".join([str(self)] + [str(leg) for leg in self.legs])

    def __repr__(self) -> str:
        return f"<sspx.inspect.Handshake {len(self.legs)} leg(s) {self.status}>"

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(str(self))

    def _repr_html_(self) -> str:
        e = html.escape
        out = [_CSS, '<div class="sspx-token sspx-handshake"><table>',
               "<tr>" + "".join(f"<th>{e(h)}</th>" for _, h in _COLUMNS) + "</tr>"]
        for leg in self.legs:
            cells = [str(leg.index), leg.direction]
            row = [f'<td class="n">{e(cells[0])}</td>', f"<td>{e(cells[1])}</td>"]
            for tok in (leg.input, leg.output):
                if tok is None:
                    row.append("<td>-</td>")
                else:
                    row.append(f"<td><details><summary>{e(tok.summary)}</summary>"
                               f"{tok._repr_html_()}</details></td>")
            status = f"<code>{e(leg.status)}</code>"
            if leg.error is not None:
                status += f'<br><small>{e(leg.error_text)}</small>'
            row.append(f"<td>{status}</td>")
            row.append("<td>" + "".join(f'<span class="sspx-flag">{e(f)}</span>'
                                        for f in leg.flags) + "</td>")
            out.append("<tr>" + "".join(row) + "</tr>")
        out.append("</table></div>")
        return "".join(out)


# --------------------------------------------------------------------- CLI

_HEADER = re.compile(
    r"^(?:(?:proxy-)?(?:authorization|www-authenticate|authenticate)\s*:\s*)?"
    r"(?:ntlm|negotiate|kerberos)\s+(\S+)$", re.IGNORECASE)
_HEXCHARS = re.compile(r"^(?:0x)?[0-9a-fA-F\s:]+$")
_B64CHARS = re.compile(r"^[A-Za-z0-9+/_\-\s]+=*\s*$")


def parse_token_text(text: str) -> List["bytes"]:
    """The candidate byte strings a pasted token may stand for, most likely
    first: hex, base64, or the HTTP header forms "NTLM <base64>",
    "Negotiate <base64>", "Authorization: NTLM <base64>". Raises ValueError
    when the text is none of these."""
    s = text.strip()
    m = _HEADER.match(s)
    if m:
        s = m.group(1)
    out: List[bytes] = []
    if s and _HEXCHARS.match(s):
        h = re.sub(r"[\s:]", "", s)
        if h[:2].lower() == "0x":
            h = h[2:]
        if h and len(h) % 2 == 0:
            out.append(bytes.fromhex(h))
    if s and _B64CHARS.match(s):
        b = re.sub(r"\s", "", s).rstrip("=").replace("-", "+").replace("_", "/")
        if len(b) % 4 != 1:
            try:
                data = base64.b64decode(b + "=" * (-len(b) % 4), validate=True)
            except (binascii.Error, ValueError):
                data = b""
            if data and data not in out:
                out.append(data)
    if not out:
        raise ValueError("not base64, hex, or an 'NTLM <base64>' / 'Negotiate <base64>' header")
    return out


def _read_arg(arg: str) -> Union[str, "bytes"]:
    if arg != "-":
        return arg
    stream = getattr(sys.stdin, "buffer", None)
    data = stream.read() if stream is not None else sys.stdin.read()
    if isinstance(data, bytes):
        try:
            return data.decode("ascii")
        except UnicodeDecodeError:
            return data  # raw bytes on stdin
    return data


def main_decode(argv: Optional[Sequence[str]] = None) -> int:
    """``python -m sspx decode <base64|hex|->``: print each token's
    description. Returns the exit status (0; 1 when a token cannot be read
    or decoded; 2 for a usage error)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["decode"]:
        argv = argv[1:]
    parser = argparse.ArgumentParser(
        prog="python -m sspx decode",
        description="Decode SSPI tokens (NTLM messages) with the library's own decoders. "
                    "TOKEN is base64, hex, an HTTP header value like 'NTLM TlRMTVNT...', or '-' "
                    "for standard input (text, or the raw token bytes).")
    parser.add_argument("tokens", nargs="+", metavar="TOKEN")
    parser.add_argument("-p", "--package", default=None, help="the package's decoder (default: "
                        "recognised from the bytes)")
    parser.add_argument("--json", action="store_true", help="print the description as JSON")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    from .errors import SecurityError

    status = 0
    for n, arg in enumerate(args.tokens):
        label = "stdin" if arg == "-" else f"token {n + 1}" if len(args.tokens) > 1 else "token"
        text = _read_arg(arg)
        if isinstance(text, bytes):
            candidates = [text]
        else:
            try:
                candidates = parse_token_text(text)
            except ValueError as exc:
                shown = _clean(text.strip()[:60]) + ("..." if len(text.strip()) > 60 else "")
                print(f"sspx decode: {label}: {exc}: {shown!r}", file=sys.stderr)
                status = 1
                continue
        tok, first_err = None, None
        for data in candidates:
            try:
                tok = decode(data, args.package)
                break
            except SecurityError as exc:
                first_err = first_err or (data, exc)
        if tok is None:
            data, exc = first_err
            print(f"sspx decode: {label}: {len(data)} bytes that no decoder accepts: "
                  f"{exc.name}: {_clean(exc.strerror or '')}", file=sys.stderr)
            print(f"sspx decode: the bytes: {_hex(data)}", file=sys.stderr)
            status = 1
            continue
        if n:
            print()
        print(tok.to_json(indent=1) if args.json else render_text(tok))
    return status
