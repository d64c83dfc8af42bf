"""The ASC_REQ/ASC_RET/ISC_REQ/ISC_RET flags of sspi.h as enum.IntFlag
classes, with the values taken from the C header through the extension."""

from __future__ import annotations

import enum

from . import _sspx

_TABLE = _sspx.constant_table()


def _members(prefix: str) -> dict:
    return {k[len(prefix):]: v for k, v in sorted(_TABLE.items(), key=lambda kv: kv[1])
            if k.startswith(prefix)}


AscReq = enum.IntFlag("AscReq", _members("ASC_REQ_"), module=__name__)
AscReq.__doc__ = "AcceptSecurityContext's fContextReq (ASC_REQ_*)."
AscRet = enum.IntFlag("AscRet", _members("ASC_RET_"), module=__name__)
AscRet.__doc__ = "AcceptSecurityContext's *pfContextAttr (ASC_RET_*)."
IscReq = enum.IntFlag("IscReq", _members("ISC_REQ_"), module=__name__)
IscReq.__doc__ = "InitializeSecurityContext's fContextReq (ISC_REQ_*)."
IscRet = enum.IntFlag("IscRet", _members("ISC_RET_"), module=__name__)
IscRet.__doc__ = "InitializeSecurityContext's *pfContextAttr (ISC_RET_*)."

#: SECBUFFER_* types by name (SECBUFFER_TOKEN -> 2, ...), and back.
BUFFER_TYPES = {k[len("SECBUFFER_"):]: v for k, v in _TABLE.items() if k.startswith("SECBUFFER_")}
BUFFER_NAMES = {}
for _k, _v in sorted(BUFFER_TYPES.items()):
    BUFFER_NAMES.setdefault(_v, _k)

__all__ = ["AscReq", "AscRet", "IscReq", "IscRet", "BUFFER_TYPES", "BUFFER_NAMES"]
