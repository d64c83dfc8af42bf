"""Credentials and security contexts: the API most users need.

A server::

    cred = sspx.Credential.server("NTLM", users="users.txt")
    ctx = sspx.ServerContext(cred)
    out = ctx.step(token_from_client)      # b"" when there is nothing to send
    if ctx.complete:
        print(ctx.client_name)             # "DOMAIN\\user"

Every token and key stays in C; these classes hold the C objects and turn
failures into the exceptions of :mod:`sspx.errors`.
"""

from __future__ import annotations

import datetime
import os
import threading
from typing import Callable, Mapping, Optional, Union

from . import _sspx
from .errors import InvalidHandle, SecurityError
from .flags import AscReq, AscRet, IscReq, IscRet

__all__ = ["Credential", "ServerContext", "ClientContext", "ChannelBindings", "Context"]

SEC_I_CONTINUE_NEEDED = 0x00090312
_FILETIME_EPOCH = datetime.datetime(1601, 1, 1, tzinfo=datetime.timezone.utc)
_NEVER = (1 << 63) - 1

Lookup = Callable[[str, str], Union[None, str, bytes]]


def _opt_value(v) -> Union[str, bytes]:
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v)
    if isinstance(v, os.PathLike):
        return os.fspath(v)
    return str(v)


def _dict_lookup(users: Mapping[str, str]) -> Lookup:
    """A lookup over {"DOMAIN\\\\user" or "user": password or 16-byte NT hash}."""
    table = {}
    for key, secret in users.items():
        dom, _, user = key.rpartition("\\")
        table[(dom.upper() if dom else "*", user.upper())] = secret

    def lookup(user: str, domain: str):
        u = user.upper()
        return table.get((domain.upper(), u), table.get(("*", u)))

    return lookup


class Credential:
    """An acquired credential: immutable, shareable by threads and contexts.

    Use :meth:`server` for the accepting side and :meth:`client` for the
    initiating side. ``close()`` (or a ``with`` block) frees it; contexts made
    from it keep it alive until they are closed too.
    """

    def __init__(self, package: str, usage: int, options: Optional[Mapping] = None,
                 lookup: Optional[Lookup] = None):
        cfg = _sspx.sspx_config_new()
        try:
            for key, value in (options or {}).items():
                if value is None:
                    continue
                v = _opt_value(value)
                if isinstance(v, bytes):
                    _sspx.config_set_bytes(cfg, key, v)
                else:
                    _sspx.config_set(cfg, key, v)
            if lookup is not None:
                if not callable(lookup):
                    raise TypeError("lookup must be callable(user, domain)")
                _sspx.config_set_lookup(cfg, lookup)
            _status, self._cred = _sspx.sspx_cred_acquire(package, usage, cfg)
        finally:
            _sspx.config_free(cfg)
        self.package = _sspx.sspx_cred_package(self._cred)
        self.usage = usage
        self._lookup = lookup

    @classmethod
    def server(cls, package: str = "NTLM", users: Union[None, str, os.PathLike, Mapping] = None,
               lookup: Optional[Lookup] = None, **options) -> "Credential":
        """An inbound credential.

        ``users``: a users file path (see docs/USERS.md) or a mapping
        ``{"DOMAIN\\\\user" or "user": password}``; ``lookup``: a callable
        ``lookup(user, domain) -> password (str) | NT hash (16 bytes) | None``
        consulted after the file; it may raise :class:`sspx.errors.NoAuthority`
        to say the directory is unreachable (the handshake then fails with
        NoAuthority, SEC_E_NO_AUTHENTICATING_AUTHORITY); any other exception is
        a logon failure. Other keyword options are the package's
        credential options (``netbios_domain="TESTDOM"``,
        ``channel_bindings="required"``, ``allow_ntlmv1=False``, ...).
        """
        if isinstance(users, Mapping):
            if lookup is not None:
                dict_lookup, user_lookup = _dict_lookup(users), lookup

                def lookup(user, domain):  # noqa: F811 - the dict first, then the callable
                    found = dict_lookup(user, domain)
                    return found if found is not None else user_lookup(user, domain)
            else:
                lookup = _dict_lookup(users)
        elif users is not None:
            options["users_file"] = os.fspath(users)
        return cls(package, _sspx.CRED_INBOUND, options, lookup)

    @classmethod
    def client(cls, package: str = "NTLM", user: Optional[str] = None,
               password: Optional[str] = None, domain: Optional[str] = None,
               **options) -> "Credential":
        """An outbound credential: ``user`` may be "DOMAIN\\\\user"; give
        ``password`` or ``nt_hash=bytes16``."""
        options.update(user=user, password=password, domain=domain)
        return cls(package, _sspx.CRED_OUTBOUND, options)

    @classmethod
    def _adopt(cls, cred, usage: int) -> "Credential":
        """Wrap a credential the C core just made (a delegated one): the new
        object owns the reference."""
        self = cls.__new__(cls)
        self._cred = cred
        self.package = _sspx.sspx_cred_package(cred)
        self.usage = usage
        self._lookup = None
        return self

    def close(self) -> None:
        cred, self._cred = getattr(self, "_cred", None), None
        if cred is not None:
            _sspx.cred_free(cred)

    def __enter__(self) -> "Credential":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        self.close()

    def _handle(self):
        if self._cred is None:
            raise InvalidHandle(0x80090301, "SEC_E_INVALID_HANDLE", "the credential is closed")
        return self._cred

    def __repr__(self) -> str:
        side = {1: "server", 2: "client", 3: "both"}.get(self.usage, "?")
        state = "closed" if self._cred is None else "open"
        return f"<sspx.Credential {self.package} {side} {state}>"


class ChannelBindings:
    """A SEC_CHANNEL_BINDINGS value (RFC 5929 application data, usually).

    ``ChannelBindings.tls_server_end_point(cert_der)`` and
    ``ChannelBindings.tls_unique(finished)`` build the usual TLS ones.
    """

    def __init__(self, application_data: bytes = b"", initiator_type: int = 0,
                 initiator: bytes = b"", acceptor_type: int = 0, acceptor: bytes = b""):
        self.application_data = bytes(application_data)
        self.initiator_type = initiator_type
        self.initiator = bytes(initiator)
        self.acceptor_type = acceptor_type
        self.acceptor = bytes(acceptor)

    @classmethod
    def tls_server_end_point(cls, certificate_der: bytes) -> "ChannelBindings":
        """RFC 5929 4.1: "tls-server-end-point:" + hash of the server
        certificate, with the hash of its signature algorithm (SHA-256 for
        MD5 and SHA-1)."""
        import hashlib

        name = _cert_signature_hash(bytes(certificate_der))
        if name in (None, "md5", "sha1"):
            name = "sha256"
        digest = hashlib.new(name, bytes(certificate_der)).digest()
        return cls(b"tls-server-end-point:" + digest)

    @classmethod
    def tls_unique(cls, finished: bytes) -> "ChannelBindings":
        """RFC 5929 3.1: "tls-unique:" + the first Finished message."""
        return cls(b"tls-unique:" + bytes(finished))

    def to_bytes(self) -> bytes:
        """The SEC_CHANNEL_BINDINGS structure followed by its data."""
        import struct

        off = 32
        ioff = off
        aoff = ioff + len(self.initiator)
        doff = aoff + len(self.acceptor)
        head = struct.pack("<8I", self.initiator_type, len(self.initiator), ioff if self.initiator else 0,
                           self.acceptor_type, len(self.acceptor), aoff if self.acceptor else 0,
                           len(self.application_data), doff if self.application_data else 0)
        return head + self.initiator + self.acceptor + self.application_data

    def __bytes__(self) -> bytes:
        return self.to_bytes()

    def __eq__(self, other) -> bool:
        return isinstance(other, ChannelBindings) and self.to_bytes() == other.to_bytes()

    def __repr__(self) -> str:
        return f"ChannelBindings({self.application_data!r})"


_SIG_HASH_OIDS = {
    "1.2.840.113549.1.1.4": "md5", "1.2.840.113549.1.1.5": "sha1",
    "1.2.840.113549.1.1.11": "sha256", "1.2.840.113549.1.1.12": "sha384",
    "1.2.840.113549.1.1.13": "sha512", "1.2.840.10045.4.1": "sha1",
    "1.2.840.10045.4.3.2": "sha256", "1.2.840.10045.4.3.3": "sha384",
    "1.2.840.10045.4.3.4": "sha512",
}


def _cert_signature_hash(der: bytes) -> Optional[str]:
    """The hash of a certificate's signatureAlgorithm (2nd element of the
    outer SEQUENCE), or None if it cannot be read."""

    def tlv(buf, i):
        if i + 2 > len(buf):
            raise ValueError
        tag, n = buf[i], buf[i + 1]
        i += 2
        if n & 0x80:
            k = n & 0x7F
            if k == 0 or k > 4 or i + k > len(buf):
                raise ValueError
            n = int.from_bytes(buf[i:i + k], "big")
            i += k
        if i + n > len(buf):
            raise ValueError
        return tag, i, i + n

    try:
        _, start, end = tlv(der, 0)
        _, _, tbs_end = tlv(der, start)          # tbsCertificate
        _, alg_start, _ = tlv(der, tbs_end)      # signatureAlgorithm
        tag, oid_start, oid_end = tlv(der, alg_start)
        if tag != 0x06:
            return None
        raw = der[oid_start:oid_end]
        arcs, v = [raw[0] // 40, raw[0] % 40], 0
        for b in raw[1:]:
            v = v << 7 | (b & 0x7F)
            if not b & 0x80:
                arcs.append(v)
                v = 0
        return _SIG_HASH_OIDS.get(".".join(map(str, arcs)))
    except (ValueError, IndexError):
        return None


class Context:
    """A security context (one connection's handshake and its keys).

    Calls on one context are serialised inside the library; a context is
    safe to share, but a handshake is one connection's.
    """

    _server = True

    def __init__(self, credential: Credential, flags: int = 0, target: Optional[str] = None,
                 channel_bindings: Union[None, bytes, ChannelBindings] = None):
        if isinstance(channel_bindings, ChannelBindings):
            channel_bindings = channel_bindings.to_bytes()
        # the library takes the role from the credential: refuse a mismatch here
        need = 1 if self._server else 2  # SECPKG_CRED_INBOUND / OUTBOUND
        if not getattr(credential, "usage", need) & need:
            raise ValueError("%s needs a%s credential, not a %s-only one" % (
                type(self).__name__, "n inbound (server)" if self._server else "n outbound (client)",
                "client" if self._server else "server"))
        if self._server and target is not None:
            raise ValueError("a ServerContext takes no target")
        self.credential = credential  # keeps the Python object alive as long as we are
        # calls in flight, and a close() that came during one (see _call)
        self._mutex = threading.Lock()
        self._busy = 0
        self._closing = None
        _status, self._ctx = _sspx.ctx_new(credential._handle(), int(flags), target,
                                           channel_bindings)
        self.package = credential.package
        self.last_status = 0
        self.legs = 0

    def step(self, token: Optional[bytes] = None) -> bytes:
        """Run one leg: give the peer's token (None or b"" for a client's
        first call); returns the token to send (b"" when there is none).
        Raises a :class:`~sspx.errors.SecurityError` on failure."""
        if token is not None and isinstance(token, str):
            raise TypeError("token must be bytes, not str")
        st, out = self._call(_sspx.ctx_step, token or None)
        self.last_status = st
        self.legs += 1
        return out

    def _call(self, fn, *args):
        """fn(c_context, *args), the context kept alive for the call: a
        close() from another thread, or from a lookup callback inside this very
        call, frees the C context only when the last call in flight returns."""
        with self._mutex:
            ctx = self._h()
            self._busy += 1
        try:
            return fn(ctx, *args)
        finally:
            with self._mutex:
                self._busy -= 1
                late = self._closing if self._busy == 0 else None
                if late is not None:
                    self._closing = None
            if late is not None:
                _sspx.ctx_free(late)

    @property
    def complete(self) -> bool:
        """True once the handshake has finished successfully."""
        try:
            return bool(self._call(_sspx.sspx_ctx_is_complete))
        except InvalidHandle:
            return False

    @property
    def continue_needed(self) -> bool:
        return self.last_status == SEC_I_CONTINUE_NEEDED

    @property
    def client_name(self) -> Optional[str]:
        """ "DOMAIN\\\\user" once complete (server: the authenticated client)."""
        return self._call(_sspx.sspx_ctx_client_name)

    @property
    def session_key(self) -> bytes:
        return self._call(_sspx.sspx_ctx_session_key)[1]

    @property
    def expiry(self) -> Optional[datetime.datetime]:
        """When the context expires (UTC), or None if never."""
        ft = self._call(_sspx.sspx_ctx_expiry)
        if ft >= _NEVER or ft <= 0:
            return None
        return _FILETIME_EPOCH + datetime.timedelta(microseconds=ft // 10)

    def sign(self, message: bytes) -> bytes:
        """A detached signature of ``message``."""
        return self._call(_sspx.ctx_sign, message)[1]

    def verify(self, message: bytes, signature: bytes) -> None:
        """Raise MessageAltered / OutOfSequence unless ``signature`` matches."""
        self._call(_sspx.sspx_ctx_verify, message, signature)

    def wrap(self, message: bytes) -> bytes:
        """Seal (encrypt and sign): signature || ciphertext."""
        return self._call(_sspx.sspx_ctx_wrap, message)[1]

    def unwrap(self, data: bytes) -> bytes:
        """Open what the peer's :meth:`wrap` produced."""
        return self._call(_sspx.sspx_ctx_unwrap, data)[1]

    _ATTRS = {
        "sizes": 0, "names": 1, "lifespan": 2, "flags": 14, "session_key": 9,
        "package_info": 10, "negotiation_info": 12, "native_names": 13,
    }

    def query(self, attribute: Union[str, int]):
        """QueryContextAttributes: by name ("names", "sizes", "flags",
        "session_key", "lifespan", "package_info", "negotiation_info",
        "native_names") or by SECPKG_ATTR_* number."""
        attr = self._ATTRS[attribute] if isinstance(attribute, str) else int(attribute)
        return self._call(_sspx.query_attr, attr)

    def close(self) -> None:
        mutex = getattr(self, "_mutex", None)
        if mutex is None:  # __init__ did not get that far
            return
        with mutex:
            ctx, self._ctx = getattr(self, "_ctx", None), None
            if ctx is not None and self._busy:
                self._closing, ctx = ctx, None  # the last call in flight frees it
        if ctx is not None:
            _sspx.ctx_free(ctx)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        self.close()

    def _h(self):
        if self._ctx is None:
            raise InvalidHandle(0x80090301, "SEC_E_INVALID_HANDLE", "the context is closed")
        return self._ctx

    def __repr__(self) -> str:
        state = ("closed" if self._ctx is None else "complete" if self.complete
                 else f"after {self.legs} leg(s)")
        return f"<sspx.{type(self).__name__} {self.package} {state}>"


class ServerContext(Context):
    """The accepting side: ``ServerContext(cred, flags=AscReq..., channel_bindings=...)``.

    With ``flags=AscReq.EXTENDED_ERROR`` a failed :meth:`step` may raise an
    exception whose ``token`` (bytes) is an error token for the client
    (Kerberos: a KRB-ERROR), to be sent as a handshake token would be.
    """

    @property
    def flags(self) -> AscRet:
        return AscRet(self._call(_sspx.sspx_ctx_flags))

    def delegated_credential(self) -> Credential:
        """The credential the client delegated (Kerberos, or Negotiate that
        chose Kerberos): a new outbound :class:`Credential` holding the
        client's forwarded TGT, to use with :class:`ClientContext` to reach a
        further service as the client. Needs a complete context made with
        ``AscReq.DELEGATE`` and a client that asked for ``IscReq.DELEGATE``
        with a forwardable ticket. Each call gives an independent
        credential; close it when done.

        Raises :class:`~sspx.errors.NoCredentials` when nothing was
        delegated, :class:`~sspx.errors.InvalidHandle` before the handshake
        is complete, :class:`~sspx.errors.UnsupportedFunction` for packages
        without delegation (NTLM)."""
        _status, cred = self._call(_sspx.sspx_ctx_delegated_cred)
        return Credential._adopt(cred, _sspx.CRED_OUTBOUND)


class ClientContext(Context):
    """The initiating side: ``ClientContext(cred, target="HTTP/host", flags=IscReq...)``."""

    _server = False

    @property
    def flags(self) -> IscRet:
        return IscRet(self._call(_sspx.sspx_ctx_flags))


# keep the names importable for type checkers
_unused = (AscReq, IscReq, SecurityError)
