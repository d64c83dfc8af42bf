"""Stub for sspx.raw: the Windows-style calls (statuses returned, not raised)."""

from typing import List, Optional, Sequence, Tuple, Union

from ._context import Credential

__all__: List[str]

SECURITY_NATIVE_DREP: int
SECURITY_NETWORK_DREP: int

class SecBuffer:
    type: Union[str, int]
    data: Optional[bytes]
    def __init__(self, type: Union[str, int], data: Optional[bytes] = ...) -> None: ...
    @property
    def type_value(self) -> int: ...
    @property
    def type_name(self) -> str: ...

class CtxtHandle:
    lower: int
    upper: int
    def __init__(self, lower: int, upper: int) -> None: ...

class Status:
    value: int
    def __init__(self, value: int) -> None: ...
    @property
    def name(self) -> str: ...
    @property
    def failed(self) -> bool: ...
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...

#: (status, context handle, input buffers after the call, output buffers, attrs, expiry)
Result = Tuple[Status, Optional[CtxtHandle], List[SecBuffer], List[SecBuffer], int, int]

def accept_security_context(cred: Optional[Credential], ctx: Optional[CtxtHandle],
                            in_buffers: Sequence[SecBuffer], req_flags: int = ...,
                            data_rep: int = ...) -> Result: ...
def initialize_security_context(cred: Optional[Credential], ctx: Optional[CtxtHandle],
                                target: Optional[str], in_buffers: Sequence[SecBuffer] = ...,
                                req_flags: int = ..., data_rep: int = ...) -> Result: ...
def delete_security_context(ctx: CtxtHandle) -> Status: ...
