"""Kerberos delegation, password credentials and extended errors through the
Python API, against a throwaway Heimdal realm (TEST.LOCAL: alice kinit'd, bob,
the front service HTTP/localhost and a second service HTTP/backend.localhost,
both in the realm's keytab).

ONE realm for the module, the process environment (KRB5_CONFIG, alice's
KRB5CCNAME, KRB5_KTNAME) set before the first Kerberos use. Heimdal's GSS-API
keeps a krb5 context per thread that reads krb5.conf when the thread first
uses GSS (docs/PYTHON_HTTP.md), and pytest's main thread may already be
pinned to test_kerberos.py's realm: so every Kerberos-touching test body runs
in a short-lived thread of its own (``threaded``). Every wait is bounded."""

import base64
import functools
import gc
import os
import pickle
import socket
import threading
import time

import pytest

import sspx
from sspx import raw
from sspx.testing import kerberos_realm

TIMEOUT = 60
FRONT = "HTTP/localhost"
BACKEND = "HTTP/backend.localhost"
KRB5_OID = bytes.fromhex("06092a864886f712010202")  # 1.2.840.113554.1.2.2, DER


@pytest.fixture(scope="module")
def realm():
    # alice's TGT is forwardable: the realm's krb5.conf says so
    with kerberos_realm(services=[BACKEND]) as r:
        yield r


def in_thread(fn, *args, **kw):
    """Run fn in a fresh thread (a fresh Heimdal GSS configuration); return
    its result or raise what it raised. The garbage it leaves in reference
    cycles (pytest.raises' tracebacks hold contexts) is collected in that
    thread too: a context freed on the main thread would give it this realm's
    configuration for good."""
    res = {}

    def run():
        try:
            res["value"] = fn(*args, **kw)
        except BaseException as exc:  # noqa: B902 - handed to the caller
            res["error"] = exc
        finally:
            gc.collect()

    t = threading.Thread(target=run, name="krb-" + getattr(fn, "__name__", "call"))
    t.start()
    t.join(TIMEOUT)
    assert not t.is_alive(), "timed out"
    if "error" in res:
        raise res["error"]
    return res.get("value")


def threaded(test):
    """The test body runs in a fresh thread (see the module's docstring)."""

    @functools.wraps(test)
    def wrapper(*args, **kw):
        return in_thread(test, *args, **kw)

    return wrapper


def front_cred(realm, package="Kerberos", **options):
    if package == "Kerberos":
        options.setdefault("principal", FRONT + "@" + realm.realm)
    return sspx.Credential.server(package, keytab=realm.keytab, **options)


def backend_cred(realm):
    return sspx.Credential.server("Kerberos", keytab=realm.keytab,
                                  principal=BACKEND + "@" + realm.realm)


def handshake(client, server, target=FRONT, cflags=0, sflags=0):
    """client -> server until both are complete; returns (server ctx, client ctx)."""
    sc = sspx.ServerContext(server, flags=sflags)
    cc = sspx.ClientContext(client, target=target, flags=cflags)
    tok = cc.step()
    for _ in range(6):
        tok = sc.step(tok)
        if cc.complete or (sc.complete and not tok):
            break
        tok = cc.step(tok)
        if sc.complete and cc.complete:
            break
    assert sc.complete and cc.complete
    return sc, cc


def krb_error_code(token):
    """The error-code of a GSS-framed KRB-ERROR (60 len <krb5 OID> 03 00 7e
    ...), or None when the token is not one."""
    if len(token) < 20 or token[0] != 0x60:
        return None
    off = 2 + (token[1] & 0x7F if token[1] & 0x80 else 0)
    if token[off:off + len(KRB5_OID)] != KRB5_OID:
        return None
    off += len(KRB5_OID)
    if token[off:off + 3] != b"\x03\x00\x7e":
        return None
    i = token.find(b"\xa6\x03\x02\x01", off)  # error-code [6] INTEGER (small)
    return token[i + 4] if i >= 0 else -1


# ------------------------------------------------------------- delegation

@threaded
def test_delegation_to_a_second_service(realm):
    """client -> front (ASC_REQ_DELEGATE) -> as alice, with the delegated
    TGT, to HTTP/backend.localhost, whose context names TEST.LOCAL\\alice."""
    with front_cred(realm) as fs, backend_cred(realm) as bs, \
            sspx.Credential.client("Kerberos") as alice:
        sc, cc = handshake(alice, fs, cflags=sspx.IscReq.DELEGATE | sspx.IscReq.MUTUAL_AUTH,
                           sflags=sspx.AscReq.DELEGATE)
        assert sspx.AscRet.DELEGATE in sc.flags
        assert sspx.IscRet.DELEGATE in cc.flags
        assert sc.client_name == "TEST.LOCAL\\alice"
        with sc.delegated_credential() as dc:
            assert isinstance(dc, sspx.Credential)
            assert dc.package == "Kerberos" and dc.usage == sspx._sspx.CRED_OUTBOUND
            assert "client open" in repr(dc)
            # the second hop, mutual auth: the backend sees alice
            b_sc, b_cc = handshake(dc, bs, target=BACKEND, cflags=sspx.IscReq.MUTUAL_AUTH)
            assert b_sc.client_name == "TEST.LOCAL\\alice"
            assert b_sc.query("native_names")["client"] == "alice@TEST.LOCAL"
            assert b_cc.client_name == "TEST.LOCAL\\alice"
            assert b_sc.unwrap(b_cc.wrap(b"on behalf of alice")) == b"on behalf of alice"
            # a ticket for the front service is refused by the backend's credential
            with pytest.raises(sspx.errors.LogonDenied):
                sspx.ServerContext(bs).step(sspx.ClientContext(dc, target=FRONT).step())
            # an outbound credential only: AcceptSecurityContext refuses it
            ap_req = sspx.ClientContext(dc, target=BACKEND).step()
            st, h, *_ = raw.accept_security_context(dc, None, [raw.SecBuffer("TOKEN", ap_req)])
            assert st == 0x8009030E and st.name == "SEC_E_NO_CREDENTIALS" and h is None
            # and the classes refuse a credential of the other side
            with pytest.raises(ValueError, match="inbound"):
                sspx.ServerContext(dc)
            with pytest.raises(ValueError, match="outbound"):
                sspx.ClientContext(bs, target=BACKEND)
            with pytest.raises(ValueError, match="no target"):
                sspx.ServerContext(bs, target=BACKEND)
            b_sc.close()
            b_cc.close()
        assert "closed" in repr(dc)
        with pytest.raises(sspx.errors.InvalidHandle):
            sspx.ClientContext(dc, target=BACKEND)
        # each call gives an independent credential; the front context and
        # credential may go first
        d1, d2 = sc.delegated_credential(), sc.delegated_credential()
        d1.close()
        sc.close()
        cc.close()
        fs.close()
        b_sc, _ = handshake(d2, bs, target=BACKEND)
        assert b_sc.client_name == "TEST.LOCAL\\alice"
        d2.close()


@threaded
def test_delegation_through_negotiate(realm):
    """A Negotiate server context that chose Kerberos gives the delegated
    credential too (a Kerberos one)."""
    with front_cred(realm, "Negotiate", packages="kerberos") as fs, backend_cred(realm) as bs, \
            sspx.Credential.client("Negotiate", packages="kerberos") as alice:
        sc, _ = handshake(alice, fs, cflags=sspx.IscReq.DELEGATE | sspx.IscReq.MUTUAL_AUTH,
                          sflags=sspx.AscReq.DELEGATE)
        assert sc.query("negotiation_info")["name"] == "Kerberos"
        assert sspx.AscRet.DELEGATE in sc.flags
        with sc.delegated_credential() as dc:
            assert dc.package == "Kerberos"
            b_sc, _ = handshake(dc, bs, target=BACKEND)
            assert b_sc.client_name == "TEST.LOCAL\\alice"


@threaded
def test_no_delegation_when_not_asked(realm):
    both = sspx.IscReq.DELEGATE | sspx.IscReq.MUTUAL_AUTH
    with front_cred(realm) as fs, sspx.Credential.client("Kerberos") as alice:
        # the server did not ask
        sc, _ = handshake(alice, fs, cflags=both, sflags=0)
        assert sspx.AscRet.DELEGATE not in sc.flags
        with pytest.raises(sspx.errors.NoCredentials) as ei:
            sc.delegated_credential()
        assert ei.value.code == "SSPX_ERR_KRB_NO_DELEGATION"
        assert ei.value.status == 0x8009030E and ei.value.name == "SEC_E_NO_CREDENTIALS"
        # the client did not delegate
        sc, _ = handshake(alice, fs, cflags=sspx.IscReq.MUTUAL_AUTH, sflags=sspx.AscReq.DELEGATE)
        assert sspx.AscRet.DELEGATE not in sc.flags
        with pytest.raises(sspx.errors.NoCredentials):
            sc.delegated_credential()
        # not complete yet
        sc = sspx.ServerContext(fs, flags=sspx.AscReq.DELEGATE)
        with pytest.raises(sspx.errors.InvalidHandle):
            sc.delegated_credential()
        # a closed context
        sc.close()
        with pytest.raises(sspx.errors.InvalidHandle):
            sc.delegated_credential()
    # a ticket that is not forwardable cannot be delegated
    path = realm.kinit("alice", ccache=os.path.join(realm.dir, "ccache.nofwd"),
                       extra=["--no-forwardable"])
    try:
        with front_cred(realm) as fs, \
                sspx.Credential.client("Kerberos", ccache="FILE:" + path) as nofwd:
            sc, _ = handshake(nofwd, fs, cflags=both, sflags=sspx.AscReq.DELEGATE)
            assert sc.client_name == "TEST.LOCAL\\alice"
            assert sspx.AscRet.DELEGATE not in sc.flags
            with pytest.raises(sspx.errors.NoCredentials):
                sc.delegated_credential()
    finally:
        os.unlink(path)


def test_no_delegation_with_ntlm():
    """NTLM cannot delegate: UnsupportedFunction."""
    with sspx.Credential.server("NTLM", users={"TESTDOM\\bob": "Passw0rd!"}) as s, \
            sspx.Credential.client("NTLM", user="TESTDOM\\bob", password="Passw0rd!") as c:
        sc = sspx.ServerContext(s, flags=sspx.AscReq.DELEGATE)
        cc = sspx.ClientContext(c, flags=sspx.IscReq.DELEGATE)
        sc.step(cc.step(sc.step(cc.step())))
        assert sc.complete
        with pytest.raises(sspx.errors.UnsupportedFunction):
            sc.delegated_credential()
        assert not hasattr(cc, "delegated_credential")  # a server context's business


# --------------------------------------------------- password credentials

@threaded
def test_password_credentials(realm):
    """user/password/domain options: the TGT is fetched on the first step."""
    with front_cred(realm) as fs:
        for opts in ({"user": "bob", "password": "Bob#Pw22", "domain": "test.local"},
                     {"user": "bob@TEST.LOCAL", "password": "Bob#Pw22"},
                     {"user": "bob", "password": "Bob#Pw22"}):  # the default realm
            with sspx.Credential.client("Kerberos", **opts) as bob:
                sc, cc = handshake(bob, fs, cflags=sspx.IscReq.MUTUAL_AUTH)
                assert sc.client_name == "TEST.LOCAL\\bob", opts
                if "domain" in opts or "@" in opts["user"]:
                    # without a realm the client context names "bob" (the
                    # option as given; the core does not take the KDC's spelling)
                    assert cc.client_name == "TEST.LOCAL\\bob", opts
        # delegation with a password credential's TGT
        with backend_cred(realm) as bs, \
                sspx.Credential.client("Kerberos", user="bob", password="Bob#Pw22",
                                       domain="TEST.LOCAL") as bob:
            sc, _ = handshake(bob, fs, cflags=sspx.IscReq.DELEGATE, sflags=sspx.AscReq.DELEGATE)
            with sc.delegated_credential() as dc:
                b_sc, _ = handshake(dc, bs, target=BACKEND)
                assert b_sc.client_name == "TEST.LOCAL\\bob"


@threaded
def test_password_credentials_negotiate(realm):
    """Negotiate hands the identity to its Kerberos part."""
    with front_cred(realm, "Negotiate", packages="kerberos") as fs, \
            sspx.Credential.client("Negotiate", user="bob", password="Bob#Pw22",
                                   domain="TEST.LOCAL") as bob:
        sc, _ = handshake(bob, fs, cflags=sspx.IscReq.MUTUAL_AUTH)
        assert sc.client_name == "TEST.LOCAL\\bob"
        assert sc.query("negotiation_info")["name"] == "Kerberos"


@threaded
def test_password_refused(realm):
    """A wrong password or unknown user: the credential is acquired, the
    first step fails with LogonDenied."""
    for user, pw in (("bob", "not-bobs"), ("alice", "Bob#Pw22"), ("nosuchuser", "x")):
        with sspx.Credential.client("Kerberos", user=user, password=pw,
                                    domain="TEST.LOCAL") as c:
            cc = sspx.ClientContext(c, target=FRONT)
            with pytest.raises(sspx.errors.LogonDenied) as ei:
                cc.step()
            assert ei.value.code.startswith("SSPX_ERR_KRB"), ei.value.detail
            assert not cc.complete
    # option checks at acquisition
    with pytest.raises(sspx.errors.InvalidParameter):
        sspx.Credential.client("Kerberos", password="Bob#Pw22")  # no user
    with pytest.raises(sspx.errors.InvalidParameter):
        sspx.Credential.client("Kerberos", user="bob")  # no password
    with pytest.raises(sspx.errors.InvalidParameter):
        sspx.Credential.client("Kerberos", user="bob", password="Bob#Pw22",
                               ccache=os.environ["KRB5CCNAME"])  # one or the other
    with pytest.raises(sspx.errors.InvalidParameter):
        sspx.Credential.client("Kerberos", domain="TEST.LOCAL")  # a domain alone


def closed_port():
    """A 127.0.0.1 port nothing listens on (bound, then closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_kdc(realm, tmp_path):
    """A realm whose KDC is a closed 127.0.0.1 port, and a realm nobody
    knows: NoAuthority from the step, not from the credential. KRB5_CONFIG
    is "orig:extra" while the attempts run, each in a fresh thread."""
    extra = tmp_path / "down.conf"
    extra.write_text("[realms]\n    DOWN.TEST = {\n        kdc = 127.0.0.1:%d\n    }\n"
                     % closed_port())
    orig = os.environ["KRB5_CONFIG"]
    os.environ["KRB5_CONFIG"] = "%s:%s" % (orig, extra)
    try:
        def attempt(domain):
            # returns plain values, never the exception: its traceback holds
            # the context, which would then be freed on the main thread, and
            # Heimdal would give that thread this realm's configuration
            with sspx.Credential.client("Kerberos", user="alice", password="Alice#Pw1",
                                        domain=domain) as c:
                cc = sspx.ClientContext(c, target=FRONT)
                t0 = time.monotonic()
                with pytest.raises(sspx.errors.NoAuthority) as ei:
                    cc.step()
                took = time.monotonic() - t0
                cc.close()
                return took, ei.value.code, ei.value.status, ei.value.detail

        took, code, status, detail = in_thread(attempt, "DOWN.TEST")
        assert code == "SSPX_ERR_KRB_NO_AUTHORITY", detail
        assert status == 0x80090311
        assert took < 30
        _, code, _, detail = in_thread(attempt, "NO-SUCH-REALM.TEST")
        assert code == "SSPX_ERR_KRB_NO_AUTHORITY", detail
        # the realm's own KDC still answers through the joined configuration
        def ok():
            with front_cred(realm) as fs, \
                    sspx.Credential.client("Kerberos", user="alice", password="Alice#Pw1",
                                           domain="TEST.LOCAL") as c:
                return handshake(c, fs)[0].client_name

        assert in_thread(ok) == "TEST.LOCAL\\alice"
    finally:
        os.environ["KRB5_CONFIG"] = orig


# --------------------------------------------------------- extended errors

@threaded
def test_extended_error_token(realm):
    """ASC_REQ_EXTENDED_ERROR: the failure raises as usual, and the exception
    carries a GSS-framed KRB-ERROR for the client in ``.token``."""
    with front_cred(realm) as fs, sspx.Credential.client("Kerberos") as alice:
        bad = bytearray(sspx.ClientContext(alice, target=FRONT).step())
        bad[-20] ^= 1  # inside the authenticator's ciphertext
        bad = bytes(bad)
        # without the flag: no token
        with pytest.raises(sspx.errors.LogonDenied) as ei:
            sspx.ServerContext(fs).step(bad)
        assert ei.value.token == b""
        # with it: KRB_AP_ERR_BAD_INTEGRITY (31)
        sc = sspx.ServerContext(fs, flags=sspx.AscReq.EXTENDED_ERROR)
        with pytest.raises(sspx.errors.LogonDenied) as ei:
            sc.step(bad)
        tok = ei.value.token
        assert isinstance(tok, bytes) and tok[:1] == b"\x60"
        i = tok.find(KRB5_OID)
        assert 0 < i < 6 and tok[i + len(KRB5_OID):i + len(KRB5_OID) + 2] == b"\x03\x00"
        assert krb_error_code(tok) == 31
        assert not sc.complete
        # the token survives pickling (an exception handed between processes)
        again = pickle.loads(pickle.dumps(ei.value))
        assert type(again) is sspx.errors.LogonDenied and again.token == tok
        assert again.detail == ei.value.detail
        # the Windows-style view: the same token in the output TOKEN buffer
        st, _, _, outs, attrs, _ = raw.accept_security_context(
            fs, None, [raw.SecBuffer("TOKEN", bad)], sspx.AscReq.EXTENDED_ERROR)
        assert st.name == "SEC_E_LOGON_DENIED" and attrs & sspx.AscRet.EXTENDED_ERROR
        assert krb_error_code(outs[0].data) == 31
        # a replayed AP-REQ: KRB_AP_ERR_REPEAT (34)
        good = sspx.ClientContext(alice, target=FRONT).step()
        sspx.ServerContext(fs).step(good)
        with pytest.raises(sspx.errors.InvalidToken) as ei:
            sspx.ServerContext(fs, flags=sspx.AscReq.EXTENDED_ERROR).step(good)
        assert krb_error_code(ei.value.token) == 34
        # garbage: KRB_ERR_GENERIC (60)
        with pytest.raises(sspx.errors.InvalidToken) as ei:
            sspx.ServerContext(fs, flags=sspx.AscReq.EXTENDED_ERROR).step(b"\x41" * 40)
        assert krb_error_code(ei.value.token) == 60
        # a success with the flag set: the usual (empty) output, no error
        sc = sspx.ServerContext(fs, flags=sspx.AscReq.EXTENDED_ERROR)
        assert sc.step(sspx.ClientContext(alice, target=FRONT).step()) == b""
        assert sc.complete and sc.client_name == "TEST.LOCAL\\alice"


def test_no_error_token_without_kerberos():
    """NTLM has no error token: the flag changes nothing; client contexts
    never get one."""
    with sspx.Credential.server("NTLM", users={"TESTDOM\\bob": "Passw0rd!"}) as s, \
            sspx.Credential.client("NTLM", user="TESTDOM\\bob", password="wrong") as c:
        sc = sspx.ServerContext(s, flags=sspx.AscReq.EXTENDED_ERROR)
        cc = sspx.ClientContext(c)
        t2 = sc.step(cc.step())
        with pytest.raises(sspx.errors.LogonDenied) as ei:
            sc.step(cc.step(t2))
        assert ei.value.token == b""
        # a client context never gets one
        cc = sspx.ClientContext(c)
        cc.step()
        with pytest.raises(sspx.errors.InvalidToken) as ei:
            cc.step(b"\x41" * 40)
        assert ei.value.token == b""
    assert sspx.errors.SecurityError(0x8009030C).token == b""


# ------------------------------------------------------------------ memory

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@threaded
def test_rss_flat_error_tokens_and_delegated_credentials(realm):
    """The error token handed over with an exception, and delegated
    credentials made and dropped, are freed: RSS stays flat."""
    with front_cred(realm) as fs, sspx.Credential.client("Kerberos") as alice:
        sc, _ = handshake(alice, fs, cflags=sspx.IscReq.DELEGATE, sflags=sspx.AscReq.DELEGATE)

        def errors(n):
            for _ in range(n):
                try:
                    sspx.ServerContext(fs, flags=sspx.AscReq.EXTENDED_ERROR).step(b"\x41" * 40)
                except sspx.errors.InvalidToken as e:
                    assert len(e.token) > 40

        def delegated(n):
            for _ in range(n):
                sc.delegated_credential().close()

        for run, warm, n in ((errors, 1000, 20000), (delegated, 200, 2000)):
            run(warm)
            gc.collect()
            r0 = rss()
            run(n)
            gc.collect()
            grew = rss() - r0
            assert grew < 1 << 20, f"{run.__name__}: RSS grew by {grew >> 10} KiB over {n}"


# ----------------------------------------------------- docs/PYTHON.md examples

def doc_example(name, replace=()):
    """The ```python block after ``<!-- example: NAME -->`` in docs/PYTHON.md,
    compiled (with the (old, new) replacements made first)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs",
                        "PYTHON.md")
    with open(path) as f:
        text = f.read()
    marker = "<!-- example: %s -->" % name
    assert marker in text, marker
    block = text.split(marker, 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    for old, new in replace:
        assert old in block, old
        block = block.replace(old, new)
    return compile(block, "docs/PYTHON.md:" + name, "exec")


@threaded
def test_docs_examples(realm):
    with sspx.Credential.client("Kerberos") as alice, backend_cred(realm) as bs:
        # delegation: the backend sees alice
        ns = {"keytab": realm.keytab, "token_from_client": sspx.ClientContext(
            alice, target=FRONT, flags=sspx.IscReq.DELEGATE).step()}
        exec(doc_example("delegation"), ns)
        b = sspx.ServerContext(bs)
        b.step(ns["token_for_backend"])
        assert b.client_name == "TEST.LOCAL\\alice"
        # password: bob's token; with another password, the except branch
        ns = {}
        exec(doc_example("password"), ns)
        with front_cred(realm) as fs:
            s = sspx.ServerContext(fs)
            s.step(ns["token"])
            assert s.client_name == "TEST.LOCAL\\bob"
        ns = {}
        exec(doc_example("password", [('password="Bob#Pw22"', 'password="wrong"')]), ns)
        assert ns["token"] is None
        # extended errors: a tampered token -> 401 with a KRB-ERROR; a good one -> 200
        bad = bytearray(sspx.ClientContext(alice, target=FRONT).step())
        bad[-20] ^= 1
        ns = {"keytab": realm.keytab, "token_from_client": bytes(bad)}
        exec(doc_example("extended-error"), ns)
        assert ns["status"] == 401 and ns["header"].startswith("Negotiate Y")  # 0x60
        assert krb_error_code(base64.b64decode(ns["header"].split()[1])) == 31
        ns = {"keytab": realm.keytab,
              "token_from_client": sspx.ClientContext(alice, target=FRONT).step()}
        exec(doc_example("extended-error"), ns)
        assert ns["status"] == 200 and "header" not in ns
