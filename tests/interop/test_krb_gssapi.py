#!/usr/bin/python3
"""sspx's Kerberos package against MIT's GSS-API (python3-gssapi), in ONE process.

    /usr/bin/python3 tests/interop/test_krb_gssapi.py BUILD_DIR

Starts a throwaway Heimdal realm (tests/realm/realm.py), imports MIT's gssapi
first, then loads BUILD_DIR/libsspx.so with ctypes (so both GSS-API libraries
live in the process: libsspx binds Heimdal's versioned symbols), and drives
sspx through its native API (sspx_cred_acquire / sspx_ctx_new / sspx_ctx_step,
sspx_ctx_wrap / unwrap / sign / verify):

  - MIT initiator (raw krb5) -> sspx acceptor, with and without mutual auth
  - MIT initiator (SPNEGO) -> sspx "Negotiate", when that package is registered
  - sspx initiator -> MIT acceptor (the service keytab via KRB5_KTNAME)
  - MIT wrap -> sspx unwrap, sspx wrap -> MIT unwrap, both directions
  - MIT get_mic -> sspx verify, sspx sign -> MIT verify_mic, both directions
  - an AP-REQ accepted by sspx is refused the second time (replay cache)

One line per check; ends with "N passed, M failed"; exit status 1 on failure.
docs/KERBEROS.md ("Interop with MIT") says what interoperates and how.
"""

import ctypes
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sspx_native import (Sspx, check, finish, hexs, info,  # noqa: E402
                         SEC_E_OK, SEC_I_CONTINUE_NEEDED, SEC_E_INVALID_TOKEN,
                         SEC_E_LOGON_DENIED, SEC_E_MESSAGE_ALTERED, SEC_E_BAD_BINDINGS,
                         INBOUND, OUTBOUND)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "realm"))

ISC_REQ_MUTUAL_AUTH = 0x2
ISC_REQ_REPLAY_DETECT = 0x4
ISC_REQ_SEQUENCE_DETECT = 0x8
ISC_REQ_CONFIDENTIALITY = 0x10
ISC_REQ_INTEGRITY = 0x10000


def cfx_header(tok):
    """RFC 4121 4.2.6.2 wrap token header fields: (flags, ec, rrc) or None."""
    if len(tok) < 16 or tok[0:2] != b"\x05\x04":
        return None
    flags = tok[2]
    ec, rrc = struct.unpack(">HH", tok[4:8])
    return flags, ec, rrc


def protection(s, gssapi, ours, mit, who):
    """Message protection between a complete sspx context and a complete MIT one."""
    msg = b"hello from MIT to sspx " + who.encode()
    # MIT wrap -> sspx unwrap
    w = mit.wrap(msg, True)
    info("%s: MIT wrap token %d bytes, header (flags, EC, RRC) = %s" %
         (who, len(w.message), cfx_header(w.message)))
    st, plain = s.unwrap(ours, w.message)
    check(st == SEC_E_OK and plain == msg, "%s: MIT wrap -> sspx unwrap" % who,
          "%s %s" % (hexs(st), s.err()))
    # sspx wrap -> MIT unwrap
    msg2 = b"hello from sspx to MIT " + who.encode()
    st, tok = s.wrap(ours, msg2)
    check(st == SEC_E_OK, "%s: sspx wrap" % who, s.err())
    info("%s: sspx wrap token %d bytes, header (flags, EC, RRC) = %s" %
         (who, len(tok), cfx_header(tok)))
    try:
        u = mit.unwrap(tok)
        check(u.message == msg2 and u.encrypted, "%s: sspx wrap -> MIT unwrap" % who)
    except gssapi.exceptions.GSSError as e:
        check(False, "%s: sspx wrap -> MIT unwrap" % who, e)
    # MIC both ways
    mic = mit.get_signature(msg)
    check(s.verify(ours, msg, mic) == SEC_E_OK, "%s: MIT get_mic -> sspx verify" % who, s.err())
    check(s.verify(ours, msg + b"!", mit.get_signature(msg)) != SEC_E_OK,
          "%s: altered message fails sspx verify" % who)
    st, sig = s.sign(ours, msg2)
    check(st == SEC_E_OK, "%s: sspx sign" % who, s.err())
    try:
        mit.verify_signature(msg2, sig)
        check(True, "%s: sspx sign -> MIT verify_mic" % who)
    except gssapi.exceptions.GSSError as e:
        check(False, "%s: sspx sign -> MIT verify_mic" % who, e)
    # several messages in a row, both directions, to exercise the sequence numbers
    ok = True
    for i in range(5):
        m = b"msg %d" % i
        st, p = s.unwrap(ours, mit.wrap(m, True).message)
        ok = ok and st == SEC_E_OK and p == m
        st, t = s.wrap(ours, m)
        ok = ok and st == SEC_E_OK and mit.unwrap(t).message == m
    check(ok, "%s: five more wraps each way in sequence" % who)


def main():
    if len(sys.argv) < 2:
        print("usage: test_krb_gssapi.py BUILD_DIR", file=sys.stderr)
        sys.exit(2)
    lib = os.path.join(os.path.abspath(sys.argv[1]), "libsspx.so")
    import gssapi  # MIT's, loaded before libsspx on purpose
    from realm import Realm

    with Realm() as r:
        r.kinit("alice")
        os.environ.update(r.vars("alice"))
        s = Sspx(lib)
        pkgs = s.packages()
        info("sspx packages: %s" % ", ".join(pkgs))
        check("Kerberos" in pkgs, "sspx lists Kerberos")
        acc_cred = s.cred("Kerberos", INBOUND)
        ini_cred = s.cred("Kerberos", OUTBOUND)
        target = gssapi.Name("HTTP@localhost", gssapi.NameType.hostbased_service)
        F = gssapi.RequirementFlag

        # 1. MIT initiator (krb5) -> sspx acceptor
        for mutual in (True, False):
            flags = F.integrity | F.confidentiality | F.replay_detection | F.out_of_sequence_detection
            if mutual:
                flags |= F.mutual_authentication
            mit = gssapi.SecurityContext(name=target, usage="initiate",
                                         mech=gssapi.MechType.kerberos, flags=flags)
            tok = mit.step()
            ours = s.ctx(acc_cred)
            st, out = s.step(ours, tok)
            who = "MIT krb5 -> sspx (%s)" % ("mutual" if mutual else "no mutual")
            check(st == SEC_E_OK and s.L.sspx_ctx_is_complete(ours),
                  "%s: accepted" % who, "%s %s" % (hexs(st), s.err()))
            name = s.L.sspx_ctx_client_name(ours)
            check(name == b"TEST.LOCAL\\alice", "%s: client TEST.LOCAL\\alice" % who, name)
            if mutual:
                check(len(out) > 0, "%s: AP-REP returned" % who)
                mit.step(out)
            else:
                check(out == b"", "%s: no AP-REP" % who)
            check(mit.complete, "%s: MIT context complete" % who)
            if mutual:
                protection(s, gssapi, ours, mit, who)
                # the same AP-REQ again, on a new sspx context: refused
                again = s.ctx(acc_cred)
                st, _ = s.step(again, tok)
                check(st == SEC_E_INVALID_TOKEN and "REPLAY" in s.err(),
                      "%s: the same AP-REQ again -> SEC_E_INVALID_TOKEN (replay)" % who,
                      "%s %s" % (hexs(st), s.err()))
                s.free_ctx(again)
            s.free_ctx(ours)

        # 1b. channel bindings: MIT's RFC 4121 checksum against sspx's acceptor
        #     with channel_bindings=required (it reads the client's Bnd itself)
        app = b"tls-server-end-point:" + bytes(range(32))
        blob = struct.pack("<8I", 0, 0, 0, 0, 0, 0, len(app), 32) + app
        req_cred = s.cred("Kerberos", INBOUND, {"channel_bindings": "required"})
        for label, mit_app, want in (("matching", app, SEC_E_OK),
                                     ("none", None, SEC_E_BAD_BINDINGS),
                                     ("other", app + b"!", SEC_E_BAD_BINDINGS)):
            cb = gssapi.raw.ChannelBindings(application_data=mit_app) if mit_app else None
            mit = gssapi.SecurityContext(name=target, usage="initiate",
                                         mech=gssapi.MechType.kerberos,
                                         flags=F.integrity, channel_bindings=cb)
            ours = s.ctx(req_cred, cbt=blob)
            st, _ = s.step(ours, mit.step())
            check(st == want, "MIT krb5 bindings %s -> sspx (channel_bindings=required): %s"
                  % (label, hexs(want)), "%s %s" % (hexs(st), s.err()))
            s.free_ctx(ours)
        s.L.sspx_cred_free(ctypes.byref(req_cred))

        # 2. MIT initiator (SPNEGO) -> sspx Negotiate, if the package exists
        if "Negotiate" in pkgs:
            nego_cred = s.cred("Negotiate", INBOUND)
            spnego = gssapi.OID.from_int_seq("1.3.6.1.5.5.2")
            mit = gssapi.SecurityContext(name=target, usage="initiate", mech=spnego,
                                         flags=F.mutual_authentication | F.integrity)
            ours = s.ctx(nego_cred)
            tok, st, legs = mit.step(), None, 0
            while tok is not None and legs < 5:
                legs += 1
                st, out = s.step(ours, tok)
                if st not in (SEC_E_OK, SEC_I_CONTINUE_NEEDED):
                    break
                tok = mit.step(out) if (out and not mit.complete) else None
            check(st == SEC_E_OK and s.L.sspx_ctx_is_complete(ours),
                  "MIT SPNEGO -> sspx Negotiate: accepted", "%s %s" % (hexs(st or 0), s.err()))
            check(s.L.sspx_ctx_client_name(ours) == b"TEST.LOCAL\\alice",
                  "MIT SPNEGO -> sspx Negotiate: client TEST.LOCAL\\alice",
                  s.L.sspx_ctx_client_name(ours))
            check(mit.complete, "MIT SPNEGO -> sspx Negotiate: MIT context complete")
            s.free_ctx(ours)
            s.L.sspx_cred_free(ctypes.byref(nego_cred))
        else:
            info("no Negotiate package registered: SPNEGO not tried")

        # 3. sspx initiator -> MIT acceptor (KRB5_KTNAME)
        for mutual in (True, False):
            who = "sspx -> MIT krb5 (%s)" % ("mutual" if mutual else "no mutual")
            req = ISC_REQ_CONFIDENTIALITY | ISC_REQ_INTEGRITY | ISC_REQ_REPLAY_DETECT | \
                ISC_REQ_SEQUENCE_DETECT | (ISC_REQ_MUTUAL_AUTH if mutual else 0)
            ours = s.ctx(ini_cred, req, "HTTP/localhost")
            st, tok = s.step(ours, None)
            check(st == (SEC_I_CONTINUE_NEEDED if mutual else SEC_E_OK) and tok[:1] == b"\x60",
                  "%s: AP-REQ" % who, "%s %s" % (hexs(st), s.err()))
            mit = gssapi.SecurityContext(usage="accept")
            try:
                out = mit.step(tok)
            except gssapi.exceptions.GSSError as e:
                check(False, "%s: MIT accepts" % who, e)
                s.free_ctx(ours)
                continue
            check(mit.complete, "%s: MIT accepts" % who)
            check(str(mit.initiator_name) == "alice@TEST.LOCAL",
                  "%s: MIT sees alice@TEST.LOCAL" % who, mit.initiator_name)
            if mutual:
                check(bool(out), "%s: AP-REP from MIT" % who)
                st, _ = s.step(ours, out)
                check(st == SEC_E_OK and s.L.sspx_ctx_is_complete(ours),
                      "%s: sspx takes the AP-REP" % who, "%s %s" % (hexs(st), s.err()))
                protection(s, gssapi, ours, mit, who)
            else:
                check(not out, "%s: no AP-REP" % who)
            s.free_ctx(ours)

        s.L.sspx_cred_free(ctypes.byref(acc_cred))
        s.L.sspx_cred_free(ctypes.byref(ini_cred))
    finish()


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except Exception as e:  # a crash is a failure with its reason, not a traceback-only exit
        import traceback
        traceback.print_exc()
        check(False, "unexpected exception", e)
        finish()
