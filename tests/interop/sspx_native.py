"""libsspx.so's native API through ctypes, for the interop tests that load it
into the same process as another GSS-API implementation (MIT's, through
python3-gssapi): test_krb_gssapi.py, test_ntlm_gssntlmssp.py."""

import ctypes
import sys

SEC_E_OK = 0
SEC_I_CONTINUE_NEEDED = 0x00090312
SEC_E_INVALID_TOKEN = 0x80090308
SEC_E_LOGON_DENIED = 0x8009030C
SEC_E_MESSAGE_ALTERED = 0x8009030F
SEC_E_BAD_BINDINGS = 0x80090346
INBOUND, OUTBOUND = 1, 2

# One line per check, "N passed, M failed" at the end (finish exits 1 on any failure).
_counts = {"passed": 0, "failed": 0}


def check(cond, what, detail=""):
    if cond:
        _counts["passed"] += 1
        print("ok    %s" % what, flush=True)
    else:
        _counts["failed"] += 1
        print("FAIL  %s%s" % (what, (": " + str(detail)) if detail else ""), flush=True)
    return cond


def info(msg):
    print("info  %s" % msg, flush=True)


def finish():
    print("%d passed, %d failed" % (_counts["passed"], _counts["failed"]), flush=True)
    sys.exit(1 if _counts["failed"] else 0)


class SspxBuf(ctypes.Structure):
    _fields_ = [("data", ctypes.POINTER(ctypes.c_uint8)), ("len", ctypes.c_size_t)]


class CtxParams(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint32), ("target", ctypes.c_char_p),
                ("channel_bindings", ctypes.c_void_p), ("channel_bindings_len", ctypes.c_size_t)]


class Sspx:
    """The few native calls the tests need; statuses as unsigned 32-bit."""

    def __init__(self, path):
        L = self.L = ctypes.CDLL(path)
        vp, sz, st = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int32
        buf = ctypes.POINTER(SspxBuf)
        sig = {
            "sspx_config_new": (vp, []),
            "sspx_config_set": (st, [vp, ctypes.c_char_p, ctypes.c_char_p]),
            "sspx_config_free": (None, [ctypes.POINTER(vp)]),
            "sspx_cred_acquire": (st, [ctypes.c_char_p, ctypes.c_uint, vp, ctypes.POINTER(vp)]),
            "sspx_cred_free": (None, [ctypes.POINTER(vp)]),
            "sspx_ctx_new": (st, [vp, ctypes.POINTER(CtxParams), ctypes.POINTER(vp)]),
            "sspx_ctx_free": (None, [ctypes.POINTER(vp)]),
            "sspx_ctx_step": (st, [vp, ctypes.c_char_p, sz, buf]),
            "sspx_ctx_is_complete": (ctypes.c_int, [vp]),
            "sspx_ctx_client_name": (ctypes.c_char_p, [vp]),
            "sspx_ctx_package": (ctypes.c_char_p, [vp]),
            "sspx_ctx_sign": (st, [vp, ctypes.c_char_p, sz, buf]),
            "sspx_ctx_verify": (st, [vp, ctypes.c_char_p, sz, ctypes.c_char_p, sz]),
            "sspx_ctx_wrap": (st, [vp, ctypes.c_char_p, sz, buf]),
            "sspx_ctx_unwrap": (st, [vp, ctypes.c_char_p, sz, buf]),
            "sspx_buf_free": (None, [buf]),
            "sspx_last_error_string": (ctypes.c_char_p, []),
            "sspx_package_count": (sz, []),
            "sspx_package_name": (ctypes.c_char_p, [sz]),
        }
        for name, (res, args) in sig.items():
            f = getattr(L, name)
            f.restype = res
            f.argtypes = args
        self._cbt = None

    def err(self):
        s = self.L.sspx_last_error_string()
        return s.decode() if s else ""

    def packages(self):
        return [self.L.sspx_package_name(i).decode() for i in range(self.L.sspx_package_count())]

    def cred(self, package, usage, options=None):
        cfg = ctypes.c_void_p(self.L.sspx_config_new())
        for k, v in (options or {}).items():
            self.L.sspx_config_set(cfg, k.encode(), v.encode())
        out = ctypes.c_void_p()
        st = self.L.sspx_cred_acquire(package.encode(), usage, cfg, ctypes.byref(out))
        self.L.sspx_config_free(ctypes.byref(cfg))
        if st != SEC_E_OK:
            raise RuntimeError("sspx_cred_acquire: 0x%08x %s" % (st & 0xffffffff, self.err()))
        return out

    def free_cred(self, c):
        self.L.sspx_cred_free(ctypes.byref(c))

    def ctx(self, cred, flags=0, target=None, cbt=None):
        """A context; `cbt`: a SEC_CHANNEL_BINDINGS blob (the library copies it)."""
        self._cbt = ctypes.create_string_buffer(cbt, len(cbt)) if cbt else None
        p = CtxParams(flags, target.encode() if target else None,
                      ctypes.cast(self._cbt, ctypes.c_void_p) if cbt else None,
                      len(cbt) if cbt else 0)
        out = ctypes.c_void_p()
        st = self.L.sspx_ctx_new(cred, ctypes.byref(p), ctypes.byref(out))
        if st != SEC_E_OK:
            raise RuntimeError("sspx_ctx_new: 0x%08x %s" % (st & 0xffffffff, self.err()))
        return out

    def free_ctx(self, c):
        self.L.sspx_ctx_free(ctypes.byref(c))

    def _call(self, fn, *args):
        b = SspxBuf()
        st = fn(*args, ctypes.byref(b)) & 0xffffffff
        data = ctypes.string_at(b.data, b.len) if b.data else b""
        self.L.sspx_buf_free(ctypes.byref(b))
        return st, data

    def step(self, c, tok):
        return self._call(self.L.sspx_ctx_step, c, tok, len(tok) if tok else 0)

    def wrap(self, c, msg):
        return self._call(self.L.sspx_ctx_wrap, c, msg, len(msg))

    def unwrap(self, c, msg):
        return self._call(self.L.sspx_ctx_unwrap, c, msg, len(msg))

    def sign(self, c, msg):
        return self._call(self.L.sspx_ctx_sign, c, msg, len(msg))

    def verify(self, c, msg, sig):
        return self.L.sspx_ctx_verify(c, msg, len(msg), sig, len(sig)) & 0xffffffff

    def complete(self, c):
        return bool(self.L.sspx_ctx_is_complete(c))


def hexs(st):
    return "0x%08x" % st
