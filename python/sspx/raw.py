"""The Windows-style calls, for people who want to see exactly what the SSPI
documentation describes: buffers with their types, statuses returned (not
raised), handles as values.

    status, ctx, inputs, outputs, attrs, expiry = sspx.raw.accept_security_context(
        cred, None, [SecBuffer("TOKEN", negotiate)], AscReq.ALLOCATE_MEMORY)
"""

from __future__ import annotations

import dataclasses
from typing import List, Optional, Sequence, Tuple, Union

from . import _sspx
from .errors import status_name
from .flags import BUFFER_NAMES, BUFFER_TYPES

__all__ = ["SecBuffer", "CtxtHandle", "accept_security_context", "initialize_security_context",
           "delete_security_context", "SECURITY_NATIVE_DREP", "SECURITY_NETWORK_DREP", "Status"]

SECURITY_NATIVE_DREP = 0x10
SECURITY_NETWORK_DREP = 0x0


@dataclasses.dataclass
class SecBuffer:
    """One SecBuffer: its type (a SECBUFFER_* name like "TOKEN", or a number)
    and its bytes (None for an empty buffer to be filled)."""

    type: Union[str, int]
    data: Optional[bytes] = None

    @property
    def type_value(self) -> int:
        if isinstance(self.type, int):
            return self.type
        return BUFFER_TYPES[self.type.upper().removeprefix("SECBUFFER_")]

    @property
    def type_name(self) -> str:
        return "SECBUFFER_" + BUFFER_NAMES.get(self.type_value & 0x0FFFFFFF, str(self.type_value))

    def __repr__(self) -> str:
        n = "None" if self.data is None else f"{len(self.data)} bytes"
        return f"SecBuffer({self.type_name}, {n})"


@dataclasses.dataclass(frozen=True)
class CtxtHandle:
    """A CtxtHandle (dwLower, dwUpper) as the library gave it."""

    lower: int
    upper: int


@dataclasses.dataclass(frozen=True)
class Status:
    """A SECURITY_STATUS with its name; compares equal to its int value."""

    value: int

    @property
    def name(self) -> str:
        return status_name(self.value)

    @property
    def failed(self) -> bool:
        return bool(self.value & 0x80000000)

    def __eq__(self, other) -> bool:
        if isinstance(other, Status):
            return self.value == other.value
        return isinstance(other, int) and (other & 0xFFFFFFFF) == self.value

    def __hash__(self) -> int:
        return hash(self.value)

    def __repr__(self) -> str:
        return f"{self.name} (0x{self.value:08X})"


Result = Tuple[Status, Optional[CtxtHandle], List[SecBuffer], List[SecBuffer], int, int]


def _step(server: bool, cred, ctx: Optional[CtxtHandle], buffers: Sequence[SecBuffer],
          req_flags: int, data_rep: int, target: Optional[str]) -> Result:
    handle = None if ctx is None else (ctx.lower, ctx.upper)
    pairs = [(b.type_value, b.data) for b in buffers]
    c = cred._handle() if cred is not None else None
    st, h, ins, outs, attrs, expiry = _sspx.raw_step(1 if server else 0, c, handle, pairs,
                                                      int(req_flags), data_rep, target)
    return (Status(st & 0xFFFFFFFF), None if h is None else CtxtHandle(*h),
            [SecBuffer(t, d) for t, d in ins], [SecBuffer(t, d) for t, d in outs], attrs, expiry)


def accept_security_context(cred, ctx: Optional[CtxtHandle], in_buffers: Sequence[SecBuffer],
                            req_flags: int = 0, data_rep: int = SECURITY_NATIVE_DREP) -> Result:
    """AcceptSecurityContext: returns (status, ctx, input buffers after the
    call, output buffers [TOKEN, ALERT], attrs, expiry)."""
    return _step(True, cred, ctx, in_buffers, req_flags, data_rep, None)


def initialize_security_context(cred, ctx: Optional[CtxtHandle], target: Optional[str],
                                in_buffers: Sequence[SecBuffer] = (), req_flags: int = 0,
                                data_rep: int = SECURITY_NATIVE_DREP) -> Result:
    """InitializeSecurityContextA, the same way."""
    return _step(False, cred, ctx, in_buffers, req_flags, data_rep, target)


def delete_security_context(ctx: CtxtHandle) -> Status:
    return Status(_sspx.raw_delete(ctx.lower, ctx.upper) & 0xFFFFFFFF)
