"""sspx: the Windows SSPI (AcceptSecurityContext and friends) for Python on
Linux. Every token and key is handled in C (libsspx); this package drives it.

    import sspx
    cred = sspx.Credential.server("NTLM", users={"TESTDOM\\\\bob": "Passw0rd!"})
    with sspx.ServerContext(cred) as ctx:
        challenge = ctx.step(negotiate)
        ...
"""

from . import errors, flags, raw
from ._context import ChannelBindings, ClientContext, Context, Credential, ServerContext
from ._sspx import sspx_version as _version
from .errors import (BadBindings, IncompleteMessage, InvalidHandle, InvalidToken, LogonDenied,
                     MessageAltered, NoCredentials, OutOfSequence, SecurityError)
from .flags import AscReq, AscRet, IscReq, IscRet

__version__ = _version()

__all__ = [
    "Credential", "ServerContext", "ClientContext", "Context", "ChannelBindings",
    "AscReq", "AscRet", "IscReq", "IscRet", "SecurityError", "LogonDenied", "InvalidToken",
    "InvalidHandle", "BadBindings", "IncompleteMessage", "MessageAltered", "OutOfSequence",
    "NoCredentials", "errors", "flags", "raw", "packages", "describe",
]


def packages() -> list:
    """The names of the security packages the library provides."""
    from . import _sspx

    return [_sspx.sspx_package_name(i) for i in range(_sspx.sspx_package_count())]


def describe(token: bytes, package: str = None) -> dict:
    """A token decoded by the package's own C decoder, as nested dicts
    (name, kind, offset, length, value, text, bytes, children). See
    :mod:`sspx.inspect` for rendering."""
    from . import _sspx

    return _sspx.describe(package, token)
