"""Samba's ntlm_auth as a SPNEGO client (gss-spnego-client: NTLM inside
SPNEGO) against our Negotiate package as the server, driven through
libsspx's SSPI entry points with ctypes (standard library only).

    test_samba_spnego.py --lib build/libsspx.so

ntlm_auth: stdin "YR" -> "YR <b64 NegTokenInit>"; our NegTokenResp goes
back as "TT <b64>"; it answers "KK <b64>" (more), "AF ..." (done) or "NA".
"""

import argparse
import base64
import ctypes as C
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop_common as ic  # noqa: E402

NAME = "samba_spnego"
SECBUFFER_VERSION, SECBUFFER_TOKEN = 0, 2
SECPKG_CRED_INBOUND, SECURITY_NATIVE_DREP = 1, 0x10
SECPKG_ATTR_NAMES, SECPKG_ATTR_SESSION_KEY = 1, 9
SEC_E_OK, SEC_I_CONTINUE_NEEDED = 0, 0x00090312


class SecHandle(C.Structure):
    _fields_ = [("dwLower", C.c_size_t), ("dwUpper", C.c_size_t)]


class SecBuffer(C.Structure):
    _fields_ = [("cbBuffer", C.c_uint32), ("BufferType", C.c_uint32), ("pvBuffer", C.c_void_p)]


class SecBufferDesc(C.Structure):
    _fields_ = [("ulVersion", C.c_uint32), ("cBuffers", C.c_uint32),
                ("pBuffers", C.POINTER(SecBuffer))]


class Names(C.Structure):
    _fields_ = [("sUserName", C.c_char_p)]


class Server:
    def __init__(self, lib, users):
        self.L = L = C.CDLL(lib)
        L.sspx_config_new.restype = C.c_void_p
        L.sspx_config_set.argtypes = [C.c_void_p, C.c_char_p, C.c_char_p]
        L.sspx_config_free.argtypes = [C.POINTER(C.c_void_p)]
        L.sspx_last_error_string.restype = C.c_char_p
        L.AcceptSecurityContext.restype = C.c_int32
        L.AcquireCredentialsHandleA.restype = C.c_int32
        cfg = C.c_void_p(L.sspx_config_new())
        for k, v in (("users_file", users), ("netbios_domain", "TESTDOM"),
                     ("netbios_computer", "SERVER"), ("packages", "ntlm")):
            L.sspx_config_set(cfg, k.encode(), v.encode())
        self.cred = SecHandle()
        st = L.AcquireCredentialsHandleA(None, b"Negotiate", SECPKG_CRED_INBOUND, None, cfg,
                                         None, None, C.byref(self.cred), None)
        L.sspx_config_free(C.byref(cfg))
        if st != SEC_E_OK:
            ic.fatal("AcquireCredentialsHandle(Negotiate): 0x%08x %s" % (st & 0xffffffff, self.err()))
        self.ctx = SecHandle()
        self.have = False

    def err(self):
        s = self.L.sspx_last_error_string()
        return s.decode() if s else ""

    def step(self, tok):
        inb = C.create_string_buffer(tok, len(tok))
        outb = C.create_string_buffer(65536)
        ib = SecBuffer(len(tok), SECBUFFER_TOKEN, C.cast(inb, C.c_void_p))
        ob = SecBuffer(65536, SECBUFFER_TOKEN, C.cast(outb, C.c_void_p))
        idesc = SecBufferDesc(SECBUFFER_VERSION, 1, C.pointer(ib))
        odesc = SecBufferDesc(SECBUFFER_VERSION, 1, C.pointer(ob))
        attrs = C.c_uint32()
        st = self.L.AcceptSecurityContext(
            None if self.have else C.byref(self.cred), C.byref(self.ctx) if self.have else None,
            C.byref(idesc), 0, SECURITY_NATIVE_DREP, C.byref(self.ctx), C.byref(odesc),
            C.byref(attrs), None)
        if st >= 0:
            self.have = True
        return st & 0xffffffff, outb.raw[:ob.cbBuffer]

    def name(self):
        n = Names()
        st = self.L.QueryContextAttributesA(C.byref(self.ctx), SECPKG_ATTR_NAMES, C.byref(n))
        return n.sUserName.decode() if st == 0 and n.sUserName else None

    def close(self):
        if self.have:
            self.L.DeleteSecurityContext(C.byref(self.ctx))
        self.L.FreeCredentialsHandle(C.byref(self.cred))


def run_case(ntlm_auth, conf, lib, users, password):
    client = ic.LineProc([ntlm_auth, "--configfile=" + conf, "--helper-protocol=gss-spnego-client",
                          "--username=bob", "--domain=TESTDOM", "--password=" + password],
                         "samba-cl")
    server = Server(lib, users)
    res = {"status": None, "name": None, "client_last": None, "legs": 0}
    try:
        ans = client.ask("YR")
        while True:
            tag, _, b64 = ans.partition(" ")
            if tag not in ("YR", "KK", "AF") or not b64 or b64 == "*":
                res["client_last"] = ans
                break
            st, out = server.step(base64.b64decode(b64))
            res["legs"] += 1
            ic.log("    sspx-srv -> 0x%08x %s" % (st, server.err() if st >= 0x80000000
                                          else "%d bytes" % len(out)))
            res["status"] = st
            if st not in (SEC_E_OK, SEC_I_CONTINUE_NEEDED):
                break
            if st == SEC_E_OK:
                res["name"] = server.name()
                if out:
                    res["client_last"] = client.ask("TT " + base64.b64encode(out).decode())
                break
            ans = client.ask("TT " + base64.b64encode(out).decode())
    finally:
        client.close()
        server.close()
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", required=True)
    args = ap.parse_args()
    lib = os.path.abspath(args.lib)
    ntlm_auth = ic.require_binary("ntlm_auth", "apt-get install winbind samba-common-bin")
    tmp = ic.TempDir()
    try:
        conf = ic.samba_conf(tmp)
        users = tmp.file("users", "TESTDOM:bob:Passw0rd!\n")
        ic.log("\n[right password] ntlm_auth gss-spnego-client vs sspx Negotiate server")
        r = run_case(ntlm_auth, conf, lib, users, "Passw0rd!")
        ic.check(r["status"] == SEC_E_OK, "sspx server completes", "status %r" % r["status"])
        ic.check(r["name"] == "TESTDOM\\bob", "client name TESTDOM\\bob", "got %r" % r["name"])
        ic.check((r["client_last"] or "").startswith("AF"),
                 "Samba accepts our final NegTokenResp (accept-completed)", "got %r" % r["client_last"])
        ic.log("\n[wrong password]")
        r = run_case(ntlm_auth, conf, lib, users, "wrong")
        ic.check(r["status"] == 0x8009030C, "sspx server answers SEC_E_LOGON_DENIED",
                 "status %r" % r["status"])
    finally:
        tmp.cleanup()
    ic.finish(NAME)


if __name__ == "__main__":
    main()
