"""Exceptions raised by sspx: one class per common SSPI status.

Every exception is a :class:`SecurityError` (an :class:`OSError`) with

- ``status``: the SECURITY_STATUS value as an unsigned 32-bit int (0x8009030C),
- ``name``: its symbolic name ("SEC_E_LOGON_DENIED"),
- ``detail``: the core's last-error detail ("ntlm_server.c:256: logon denied
  (SSPX_ERR_BAD_PASSWORD)"), naming the check that failed,
- ``code``: the core's own error name ("SSPX_ERR_BAD_PASSWORD"), or "",
- ``token``: an error token for the peer, or b"": a failed server step whose
  context was made with ``AscReq.EXTENDED_ERROR`` may carry one (Kerberos: a
  GSS-framed KRB-ERROR) for the server to send to the client.

The classes are raised by the C extension itself (see bindings/sspx.i).
"""

from __future__ import annotations

__all__ = [
    "SecurityError",
    "LogonDenied",
    "InvalidToken",
    "InvalidHandle",
    "BadBindings",
    "IncompleteMessage",
    "MessageAltered",
    "OutOfSequence",
    "NoCredentials",
    "NoAuthority",
    "ContextExpired",
    "BufferTooSmall",
    "UnsupportedFunction",
    "InvalidParameter",
    "PackageNotFound",
    "InternalError",
    "status_name",
]


class SecurityError(OSError):
    """An SSPI call failed. ``status`` is the SEC_E_* value."""

    status: int = 0
    name: str = ""

    def __init__(self, status: int, name: str = "", message: str = "", detail: str = "",
                 code: str = "", file: str = "", line: int = 0):
        status &= 0xFFFFFFFF
        super().__init__(status, message or name or f"SSPI status 0x{status:08X}")
        self.status = status
        self.name = name or f"0x{status:08X}"
        self.detail = detail
        self.code = code
        self.file = file
        self.line = line
        self.lookup_error = ""  # what a Python user lookup raised, if that caused it
        self.token = b""  # an error token for the peer (ASC_REQ_EXTENDED_ERROR), if any

    def __str__(self) -> str:
        s = f"{self.name} (0x{self.status:08X}): {self.strerror}"
        if self.detail:
            s += f" [{self.detail}]"
        if self.lookup_error:
            s += f" [lookup: {self.lookup_error}]"
        return s

    def __reduce__(self):
        return (type(self), (self.status, self.name, self.strerror, self.detail, self.code,
                             self.file, self.line),
                {"lookup_error": self.lookup_error, "token": self.token})


class LogonDenied(SecurityError):
    """SEC_E_LOGON_DENIED: wrong password, unknown user, or a failed lookup."""


class InvalidToken(SecurityError):
    """SEC_E_INVALID_TOKEN: malformed, truncated, oversized or out-of-place token."""


class InvalidHandle(SecurityError):
    """SEC_E_INVALID_HANDLE: a closed, stale or wrong-kind credential or context."""


class BadBindings(SecurityError):
    """SEC_E_BAD_BINDINGS: channel bindings missing or not matching."""


class IncompleteMessage(SecurityError):
    """SEC_E_INCOMPLETE_MESSAGE: more bytes are needed."""


class MessageAltered(SecurityError):
    """SEC_E_MESSAGE_ALTERED: a signature or MIC does not match."""


class OutOfSequence(SecurityError):
    """SEC_E_OUT_OF_SEQUENCE: a replayed or reordered message."""


class NoCredentials(SecurityError):
    """SEC_E_NO_CREDENTIALS: no usable user store or identity."""


class NoAuthority(SecurityError):
    """SEC_E_NO_AUTHENTICATING_AUTHORITY: the user lookup said it is unavailable."""


class ContextExpired(SecurityError):
    """SEC_E_CONTEXT_EXPIRED: for NTLM, a challenge answered too late."""


class BufferTooSmall(SecurityError):
    """SEC_E_BUFFER_TOO_SMALL."""


class UnsupportedFunction(SecurityError):
    """SEC_E_UNSUPPORTED_FUNCTION: the package or context does not do that."""


class InvalidParameter(SecurityError):
    """SEC_E_INVALID_PARAMETER: a bad argument or an unknown option."""


class PackageNotFound(SecurityError):
    """SEC_E_SECPKG_NOT_FOUND."""


class InternalError(SecurityError):
    """SEC_E_INTERNAL_ERROR."""


_BY_STATUS = {
    0x8009030C: LogonDenied,
    0x80090308: InvalidToken,
    0x80090301: InvalidHandle,
    0x80090346: BadBindings,
    0x80090318: IncompleteMessage,
    0x8009030F: MessageAltered,
    0x80090310: OutOfSequence,
    0x8009030E: NoCredentials,
    0x80090311: NoAuthority,
    0x80090317: ContextExpired,
    0x80090321: BufferTooSmall,
    0x80090302: UnsupportedFunction,
    0x8009035D: InvalidParameter,
    0x80090305: PackageNotFound,
    0x80090304: InternalError,
}


def status_name(status: int) -> str:
    """The symbolic name of a status ("SEC_I_CONTINUE_NEEDED"), or its hex."""
    from . import _sspx

    return _sspx.sspx_status_name(_signed(status)) or f"0x{status & 0xFFFFFFFF:08X}"


def _signed(status: int) -> int:
    status &= 0xFFFFFFFF
    return status - (1 << 32) if status & 0x80000000 else status


def _from_c(status, name, message, code, detail, file, line):
    """Called by the extension to build the exception it raises."""
    cls = _BY_STATUS.get(status & 0xFFFFFFFF, SecurityError)
    exc = cls(status, name, message, detail, code, file, line)
    if cls is LogonDenied or code == "SSPX_ERR_LOOKUP_FAILED":
        from . import _sspx

        exc.lookup_error = _sspx.last_lookup_error() if code == "SSPX_ERR_LOOKUP_FAILED" else ""
    return exc
