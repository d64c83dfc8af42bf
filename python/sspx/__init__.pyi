"""Stub for sspx: the Windows SSPI for Python on Linux."""

from typing import Any, Dict, List, Optional

from . import errors as errors
from . import flags as flags
from . import raw as raw
from ._context import ChannelBindings as ChannelBindings
from ._context import ClientContext as ClientContext
from ._context import Context as Context
from ._context import Credential as Credential
from ._context import ServerContext as ServerContext
from .errors import BadBindings as BadBindings
from .errors import IncompleteMessage as IncompleteMessage
from .errors import InvalidHandle as InvalidHandle
from .errors import InvalidToken as InvalidToken
from .errors import LogonDenied as LogonDenied
from .errors import MessageAltered as MessageAltered
from .errors import NoCredentials as NoCredentials
from .errors import OutOfSequence as OutOfSequence
from .errors import SecurityError as SecurityError
from .flags import AscReq as AscReq
from .flags import AscRet as AscRet
from .flags import IscReq as IscReq
from .flags import IscRet as IscRet

__version__: str
__all__: List[str]

def packages() -> List[str]: ...
def describe(token: bytes, package: Optional[str] = ...) -> Dict[str, Any]: ...
