#!/usr/bin/python3
"""sspx's NTLM and Negotiate packages against gss-ntlmssp (NTLM for MIT's GSS-API), in ONE process.

    /usr/bin/python3 tests/interop/test_ntlm_gssntlmssp.py BUILD_DIR

Imports MIT's gssapi (python3-gssapi) with Debian's gss-ntlmssp plugged in
(/etc/gss/mech.d), then loads BUILD_DIR/libsspx.so with ctypes and drives
sspx through its native API (sspx_cred_acquire / sspx_ctx_new /
sspx_ctx_step, sspx_ctx_wrap / unwrap / sign / verify):

  - gss-ntlmssp SPNEGO initiator -> sspx "Negotiate" acceptor
  - sspx "Negotiate" initiator -> gss-ntlmssp SPNEGO acceptor
  - gss-ntlmssp raw NTLM (1.3.6.1.4.1.311.2.2.10) initiator -> sspx "NTLM" acceptor
  - sspx "NTLM" initiator -> gss-ntlmssp raw NTLM acceptor
  - after each handshake: wrap/unwrap and get_mic/verify_mic both ways, several
    messages each way (the sequence numbers and RC4 states must stay in step)
  - a wrong password refused both ways; a tampered wrapped message refused both ways

Inside SPNEGO both ends exchange a mechListMIC, after which MIT's SPNEGO
resets gss-ntlmssp's RC4 handles (MS-SPNG 3.3.5.1) while the sequence
numbers go on: the first application message carries sequence number 1.

gss-ntlmssp's acceptor reads its users from NTLM_USER_FILE ("DOMAIN:USER:PASSWORD").
Kerberos is kept out of the way (an empty krb5.conf, no ccache, no keytab).
A missing gss-ntlmssp is a failure, not a skip (scripts/test.sh installs it).

One line per check; ends with "N passed, M failed"; exit status 1 on failure.
docs/NEGOTIATE.md ("Interop with gss-ntlmssp") records what interoperates.
"""

import os
import shutil
import struct
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sspx_native import (Sspx, check, finish, hexs, info,  # noqa: E402
                         SEC_E_OK, SEC_I_CONTINUE_NEEDED, SEC_E_INVALID_TOKEN,
                         SEC_E_LOGON_DENIED, SEC_E_MESSAGE_ALTERED, SEC_E_BAD_BINDINGS,
                         INBOUND, OUTBOUND)

ISC_REQ_REPLAY_DETECT = 0x4
ISC_REQ_SEQUENCE_DETECT = 0x8
ISC_REQ_CONFIDENTIALITY = 0x10
ISC_REQ_INTEGRITY = 0x10000
ASC_REQ_REPLAY_DETECT = 0x4
ASC_REQ_SEQUENCE_DETECT = 0x8
ASC_REQ_CONFIDENTIALITY = 0x10
ASC_REQ_INTEGRITY = 0x20000

NTLM_OID = "1.3.6.1.4.1.311.2.2.10"
SPNEGO_OID = "1.3.6.1.5.5.2"
GSSNTLMSSP_SO = "/usr/lib/x86_64-linux-gnu/gssntlmssp/gssntlmssp.so"
DOMAIN, USER, PASSWORD = "TESTDOM", "bob", "Passw0rd!"


def seq_of(sig):
    """SeqNum of an NTLMSSP_MESSAGE_SIGNATURE with extended session security (MS-NLMP 2.2.2.9.2)."""
    return struct.unpack("<I", sig[12:16])[0] if len(sig) >= 16 else None


# ------------------------------------------------------------- handshakes

def gss_complete(gssapi, mit):
    """mit.complete, False when the context failed (python-gssapi raises the failure then)."""
    try:
        return bool(mit.complete)
    except gssapi.exceptions.GSSError:
        return False


def peer_to_sspx(s, gssapi, mit, ours):
    """A gssapi initiator against an sspx acceptor. Returns (sspx status, legs)."""
    tok, st, legs = mit.step(), None, 0
    while tok and legs < 8:
        legs += 1
        st, out = s.step(ours, tok)
        if st not in (SEC_E_OK, SEC_I_CONTINUE_NEEDED):
            break
        legs += 1 if out else 0
        tok = mit.step(out) if (out and not mit.complete) else None
    return st, legs


def sspx_to_peer(s, gssapi, ours, mit):
    """An sspx initiator against a gssapi acceptor. Returns (sspx status, legs, error)."""
    st, tok = s.step(ours, None)
    legs = 1
    while tok and st in (SEC_E_OK, SEC_I_CONTINUE_NEEDED) and legs < 8:
        try:
            out = mit.step(tok)
            # python-gssapi keeps a failure that came with an output token (SPNEGO's
            # reject) and raises it at the next use of the context: surface it here
            mit.complete
        except gssapi.exceptions.GSSError as e:
            return st, legs, e
        legs += 1
        if not out or s.complete(ours):
            break
        st, tok = s.step(ours, out)
        legs += 1 if tok else 0
    return st, legs, None


# -------------------------------------------------------- message protection

def protection(s, gssapi, ours, mit, who, spnego):
    """Message protection between a complete sspx context and a complete gss-ntlmssp one."""
    first = 1 if spnego else 0  # after the mechListMIC (sequence number 0) the numbers go on
    # 1. sspx sign -> peer verify_mic (the first application message from sspx)
    msg = b"sspx to gss-ntlmssp, signed: " + who.encode()
    st, sig = s.sign(ours, msg)
    check(st == SEC_E_OK and len(sig) == 16, "%s: sspx sign" % who, "%s %s" % (hexs(st), s.err()))
    info("%s: sspx's first signature: %s (SeqNum %s)" % (who, sig.hex(), seq_of(sig)))
    check(seq_of(sig) == first, "%s: sspx's first signature carries SeqNum %d" % (who, first),
          seq_of(sig))
    try:
        mit.verify_signature(msg, sig)
        check(True, "%s: sspx sign -> gss-ntlmssp verify_mic" % who)
    except gssapi.exceptions.GSSError as e:
        check(False, "%s: sspx sign -> gss-ntlmssp verify_mic" % who, e)
    # 2. peer get_mic -> sspx verify (the first application message from the peer)
    msg = b"gss-ntlmssp to sspx, signed: " + who.encode()
    mic = mit.get_signature(msg)
    info("%s: gss-ntlmssp's first signature: %s (SeqNum %s)" % (who, mic.hex(), seq_of(mic)))
    check(seq_of(mic) == first,
          "%s: gss-ntlmssp's first signature carries SeqNum %d" % (who, first), seq_of(mic))
    check(s.verify(ours, msg + b"!", mic) == SEC_E_MESSAGE_ALTERED,
          "%s: an altered message fails sspx verify (SEC_E_MESSAGE_ALTERED)" % who)
    st = s.verify(ours, msg, mic)
    check(st == SEC_E_OK, "%s: gss-ntlmssp get_mic -> sspx verify" % who,
          "%s %s" % (hexs(st), s.err()))
    # 3. sspx wrap -> peer unwrap
    msg = b"sspx to gss-ntlmssp, sealed: " + who.encode()
    st, tok = s.wrap(ours, msg)
    check(st == SEC_E_OK and len(tok) == 16 + len(msg), "%s: sspx wrap" % who,
          "%s %s" % (hexs(st), s.err()))
    try:
        u = mit.unwrap(tok)
        check(u.message == msg and u.encrypted, "%s: sspx wrap -> gss-ntlmssp unwrap" % who)
    except gssapi.exceptions.GSSError as e:
        check(False, "%s: sspx wrap -> gss-ntlmssp unwrap" % who, e)
    # 4. peer wrap -> sspx unwrap
    msg = b"gss-ntlmssp to sspx, sealed: " + who.encode()
    w = mit.wrap(msg, True)
    check(w.encrypted and len(w.message) == 16 + len(msg), "%s: gss-ntlmssp wrap (sealed)" % who)
    st, plain = s.unwrap(ours, w.message)
    check(st == SEC_E_OK and plain == msg, "%s: gss-ntlmssp wrap -> sspx unwrap" % who,
          "%s %s" % (hexs(st), s.err()))
    # 5. several more, both directions, interleaved: the sequence numbers matter
    bad = []
    for i in range(6):
        m = b"message %d of %s" % (i, who.encode())
        st, p = s.unwrap(ours, mit.wrap(m, True).message)
        if st != SEC_E_OK or p != m:
            bad.append("peer wrap %d -> sspx: %s" % (i, hexs(st)))
        st, t = s.wrap(ours, m)
        try:
            if st != SEC_E_OK or mit.unwrap(t).message != m:
                bad.append("sspx wrap %d -> peer" % i)
        except gssapi.exceptions.GSSError as e:
            bad.append("sspx wrap %d -> peer: %s" % (i, e))
        st = s.verify(ours, m, mit.get_signature(m))
        if st != SEC_E_OK:
            bad.append("peer mic %d -> sspx: %s" % (i, hexs(st)))
        st, sg = s.sign(ours, m)
        try:
            mit.verify_signature(m, sg)
        except gssapi.exceptions.GSSError as e:
            bad.append("sspx sign %d -> peer: %s" % (i, e))
    check(not bad, "%s: six more wraps and MICs each way, in sequence" % who, "; ".join(bad[:3]))
    # 6. a tampered sealed message from the peer: refused, and the context still in step
    m = b"tamper with me: " + who.encode()
    w = bytearray(mit.wrap(m, True).message)
    w[20] ^= 0x01
    st, p = s.unwrap(ours, bytes(w))
    check(st == SEC_E_MESSAGE_ALTERED and p == b"",
          "%s: a tampered gss-ntlmssp wrap -> sspx unwrap refused (SEC_E_MESSAGE_ALTERED)" % who,
          "%s %r" % (hexs(st), p))
    w[20] ^= 0x01
    st, p = s.unwrap(ours, bytes(w))
    check(st == SEC_E_OK and p == m, "%s: the untampered message still unwraps after that" % who,
          "%s %s" % (hexs(st), s.err()))
    # 7. a tampered sealed message from sspx: gss-ntlmssp refuses it (its context then
    #    moved on: last)
    st, t = s.wrap(ours, m)
    t = bytearray(t)
    t[-1] ^= 0x01
    try:
        mit.unwrap(bytes(t))
        check(False, "%s: a tampered sspx wrap -> gss-ntlmssp unwrap refused" % who)
    except gssapi.exceptions.GSSError as e:
        check(True, "%s: a tampered sspx wrap -> gss-ntlmssp unwrap refused (%s)" %
              (who, str(e).splitlines()[0][:60]))


# ------------------------------------------------------------------- cases

def main():
    if len(sys.argv) < 2:
        print("usage: test_ntlm_gssntlmssp.py BUILD_DIR", file=sys.stderr)
        sys.exit(2)
    lib = os.path.join(os.path.abspath(sys.argv[1]), "libsspx.so")
    tmp = tempfile.mkdtemp(prefix="sspx-gssntlmssp-")
    try:
        run(lib, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


def run(lib, tmp):
    users = os.path.join(tmp, "users")
    with open(users, "w") as f:
        f.write("%s:%s:%s\n" % (DOMAIN, USER, PASSWORD))
    krb5conf = os.path.join(tmp, "krb5.conf")
    with open(krb5conf, "w") as f:
        f.write("[libdefaults]\n default_realm = NOWHERE.INVALID\n"
                " dns_lookup_kdc = false\n dns_lookup_realm = false\n")
    os.environ.update({
        "NTLM_USER_FILE": users,  # gss-ntlmssp's acceptor (and default initiator) users
        "KRB5_CONFIG": krb5conf,
        "KRB5CCNAME": "FILE:" + os.path.join(tmp, "no-ccache"),
        "KRB5_KTNAME": "FILE:" + os.path.join(tmp, "no-keytab"),
    })
    os.environ.pop("SSPX_NTLM_USERS", None)

    import gssapi  # MIT's, loaded before libsspx on purpose
    import gssapi.raw as graw

    ntlm = gssapi.OID.from_int_seq(NTLM_OID)
    spnego = gssapi.OID.from_int_seq(SPNEGO_OID)
    mechs = [m.dotted_form for m in graw.indicate_mechs()]
    info("MIT GSS-API mechanisms: %s" % ", ".join(mechs))
    if not check(NTLM_OID in mechs and os.path.exists(GSSNTLMSSP_SO),
                 "gss-ntlmssp is installed and registered with MIT's GSS-API",
                 "apt-get install gss-ntlmssp (%s %s; NTLM %s among MIT's mechanisms)" %
                 (GSSNTLMSSP_SO, "present" if os.path.exists(GSSNTLMSSP_SO) else "missing",
                  "listed" if NTLM_OID in mechs else "not listed")):
        return

    s = Sspx(lib)
    pkgs = s.packages()
    info("sspx packages: %s" % ", ".join(pkgs))
    check("NTLM" in pkgs and "Negotiate" in pkgs, "sspx lists NTLM and Negotiate")

    F = gssapi.RequirementFlag
    gflags = F.integrity | F.confidentiality | F.replay_detection | F.out_of_sequence_detection
    iflags = ISC_REQ_CONFIDENTIALITY | ISC_REQ_INTEGRITY | ISC_REQ_REPLAY_DETECT | \
        ISC_REQ_SEQUENCE_DETECT
    aflags = ASC_REQ_CONFIDENTIALITY | ASC_REQ_INTEGRITY | ASC_REQ_REPLAY_DETECT | \
        ASC_REQ_SEQUENCE_DETECT
    target = gssapi.Name("HTTP@server.testdom", gssapi.NameType.hostbased_service)
    user = gssapi.Name("%s\\%s" % (DOMAIN, USER), gssapi.NameType.user)
    srv_opts = {"users_file": users, "netbios_domain": DOMAIN, "netbios_computer": "SERVER"}

    def peer_initiator_cred(password, mech):
        c = graw.acquire_cred_with_password(user, password.encode(), usage="initiate",
                                            mechs=[mech]).creds
        if mech == spnego:
            graw.set_neg_mechs(c, [ntlm])  # SPNEGO offers NTLM only
        return gssapi.Credentials(c)

    def peer_acceptor_cred(mech):
        c = gssapi.Credentials(usage="accept", mechs=[mech])
        if mech == spnego:
            graw.set_neg_mechs(c, [ntlm])
        return c

    cases = [
        # (label, spnego?, sspx package, peer mech)
        ("SPNEGO", True, "Negotiate", spnego),
        ("raw NTLM", False, "NTLM", ntlm),
    ]
    for label, is_spnego, pkg, mech in cases:
        # ---- gss-ntlmssp initiator -> sspx acceptor
        who = "gss-ntlmssp %s -> sspx %s" % (label, pkg)
        opts = dict(srv_opts)
        if pkg == "Negotiate":
            opts["packages"] = "ntlm"
        acc_cred = s.cred(pkg, INBOUND, opts)
        mit = gssapi.SecurityContext(name=target, usage="initiate", mech=mech, flags=gflags,
                                     creds=peer_initiator_cred(PASSWORD, mech))
        ours = s.ctx(acc_cred, aflags)
        st, legs = peer_to_sspx(s, gssapi, mit, ours)
        info("%s: %d tokens" % (who, legs))
        ok = check(st == SEC_E_OK and s.complete(ours), "%s: accepted" % who,
                   "%s %s" % (hexs(st or 0), s.err()))
        check(mit.complete, "%s: gss-ntlmssp context complete" % who)
        name = s.L.sspx_ctx_client_name(ours)
        check(name == ("%s\\%s" % (DOMAIN, USER)).encode(),
              "%s: client %s\\%s" % (who, DOMAIN, USER), name)
        check(mit.mech.dotted_form == NTLM_OID,
              "%s: NTLM negotiated (%s)" % (who, mit.mech.dotted_form))
        if ok and mit.complete:
            protection(s, gssapi, ours, mit, who, is_spnego)
        s.free_ctx(ours)

        # wrong password: refused by sspx
        mit = gssapi.SecurityContext(name=target, usage="initiate", mech=mech, flags=gflags,
                                     creds=peer_initiator_cred("wrong-" + PASSWORD, mech))
        ours = s.ctx(acc_cred, aflags)
        st, _ = peer_to_sspx(s, gssapi, mit, ours)
        check(st == SEC_E_LOGON_DENIED and not s.complete(ours),
              "%s: a wrong password is refused by sspx (SEC_E_LOGON_DENIED)" % who,
              "%s %s" % (hexs(st or 0), s.err()))
        s.free_ctx(ours)
        s.free_cred(acc_cred)

        # ---- sspx initiator -> gss-ntlmssp acceptor
        who = "sspx %s -> gss-ntlmssp %s" % (pkg, label)
        copts = {"user": USER, "domain": DOMAIN, "password": PASSWORD}
        if pkg == "Negotiate":
            copts["packages"] = "ntlm"
        ini_cred = s.cred(pkg, OUTBOUND, copts)
        mit = gssapi.SecurityContext(usage="accept", creds=peer_acceptor_cred(mech))
        ours = s.ctx(ini_cred, iflags, "HTTP/server.testdom")
        st, legs, e = sspx_to_peer(s, gssapi, ours, mit)
        info("%s: %d tokens" % (who, legs))
        check(e is None and mit.complete, "%s: gss-ntlmssp accepts" % who, e)
        ok = check(st == SEC_E_OK and s.complete(ours), "%s: sspx context complete" % who,
                   "%s %s" % (hexs(st or 0), s.err()))
        if mit.complete:
            # gss-ntlmssp's display name counts its terminating NUL
            seen = str(mit.initiator_name).rstrip("\0")
            check(seen.lower() == ("%s\\%s" % (DOMAIN, USER)).lower(),
                  "%s: gss-ntlmssp sees %s\\%s" % (who, DOMAIN, USER), repr(seen))
            check(mit.mech.dotted_form == NTLM_OID,
                  "%s: NTLM negotiated (%s)" % (who, mit.mech.dotted_form))
        if ok and mit.complete:
            protection(s, gssapi, ours, mit, who, is_spnego)
        s.free_ctx(ours)
        s.free_cred(ini_cred)

        # wrong password: refused by gss-ntlmssp
        copts["password"] = "wrong-" + PASSWORD
        bad_cred = s.cred(pkg, OUTBOUND, copts)
        mit = gssapi.SecurityContext(usage="accept", creds=peer_acceptor_cred(mech))
        ours = s.ctx(bad_cred, iflags, "HTTP/server.testdom")
        st, legs, e = sspx_to_peer(s, gssapi, ours, mit)
        check(e is not None and not gss_complete(gssapi, mit),
              "%s: a wrong password is refused by gss-ntlmssp (%s)" %
              (who, str(e).splitlines()[0][:60] if e else "accepted!"))
        s.free_ctx(ours)
        s.free_cred(bad_cred)


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
