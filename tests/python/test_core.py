"""The sspx package over the C core: MS-NLMP values, loops, every exception
class raised by a real failure, object lifetimes, the raw Windows view."""

import gc
import struct

import pytest

import sspx
from sspx import _sspx, raw
from sspx.errors import (BadBindings, ContextExpired, InvalidHandle, InvalidParameter, InvalidToken,
                         LogonDenied, MessageAltered, NoAuthority, NoCredentials, OutOfSequence,
                         PackageNotFound, SecurityError, UnsupportedFunction)

from conftest import handshake

# MS-NLMP 4.2.4 (NTLMv2): the published messages and values
V2_AUTH = bytes.fromhex(
    "4e544c4d5353500003000000180018006c00000054005400840000000c000c0048000000080008005400000010"
    "0010005c00000010001000d8000000358288e20501280a0000000f44006f006d00610069006e00550073006500"
    "720043004f004d005000550054004500520086c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa68cd0a"
    "b851e51c96aabc927bebef6a1c01010000000000000000000000000000aaaaaaaaaaaaaaaa0000000002000c00"
    "44006f006d00610069006e0001000c005300650072007600650072000000000000000000c5dad2544fc9799094"
    "ce1ce90bc9d03e")
V2_CHAL = bytes.fromhex(
    "4e544c4d53535000020000000c000c003800000033828ae20123456789abcdef00000000000000002400240044"
    "000000060070170000000f53006500720076006500720002000c0044006f006d00610069006e0001000c005300"
    "6500720076006500720000000000")
SERVER_CHALLENGE = bytes.fromhex("0123456789abcdef")
RANDOM_SESSION_KEY = b"\x55" * 16
PLAINTEXT = "Plaintext".encode("utf-16-le")
SEALED = bytes.fromhex("54e50165bf1936dc996020c1811b0f06fb5f")
SIGNATURE = bytes.fromhex("010000007fb38ec5c55d497600000000")


def negotiate(flags):
    return b"NTLMSSP\0" + struct.pack("<II", 1, flags) + b"\0" * 16 + bytes.fromhex("0501280a0000000f")


@pytest.fixture
def hooks():
    yield
    _sspx.test_set_rng_script(None)
    _sspx.test_set_clock(-1)


def test_msnlmp_v2_server(hooks):
    cred = sspx.Credential.server("NTLM", users={"Domain\\User": "Password"})
    ctx = sspx.ServerContext(cred, flags=sspx.AscReq.CONFIDENTIALITY)
    _sspx.test_set_rng_script(SERVER_CHALLENGE)
    challenge = ctx.step(negotiate(0xE2888235))
    assert challenge[24:32] == SERVER_CHALLENGE
    assert ctx.step(V2_AUTH) == b""
    assert ctx.complete and ctx.client_name == "Domain\\User"
    assert ctx.session_key == RANDOM_SESSION_KEY
    assert ctx.unwrap(SIGNATURE + SEALED) == PLAINTEXT


def test_msnlmp_v2_client(hooks):
    cred = sspx.Credential.client("NTLM", user="User", domain="Domain", password="Password",
                                  workstation="COMPUTER")
    ctx = sspx.ClientContext(cred, flags=sspx.IscReq.CONFIDENTIALITY)
    ctx.step()
    _sspx.test_set_clock(0)
    _sspx.test_set_rng_script(b"\xaa" * 8 + RANDOM_SESSION_KEY)
    auth = ctx.step(V2_CHAL)
    assert len(auth) == len(V2_AUTH)
    assert auth[:64] + auth[72:] == V2_AUTH[:64] + V2_AUTH[72:]  # all but our Version field
    assert ctx.wrap(PLAINTEXT) == SIGNATURE + SEALED


@pytest.mark.parametrize("cflags", [0, sspx.IscReq.INTEGRITY, sspx.IscReq.CONFIDENTIALITY,
                                    sspx.IscReq.CONFIDENTIALITY | sspx.IscReq.REPLAY_DETECT])
def test_loop(server_cred, client_cred, cflags):
    s, c, (t1, t2, t3) = handshake(server_cred, client_cred, cflags=cflags)
    assert s.complete and c.complete
    assert s.client_name == "TESTDOM\\bob"
    assert isinstance(s.flags, sspx.AscRet) and sspx.AscRet.INTEGRITY in s.flags
    assert (sspx.AscRet.CONFIDENTIALITY in s.flags) == bool(cflags & sspx.IscReq.CONFIDENTIALITY)
    assert s.session_key == c.session_key and len(s.session_key) == 16
    assert s.expiry is None  # NTLM contexts do not expire
    for i in range(3):
        msg = b"message %d" % i
        c.verify(msg, s.sign(msg))
        s.verify(msg, c.sign(msg))
        if cflags & sspx.IscReq.CONFIDENTIALITY:
            assert s.unwrap(c.wrap(msg)) == msg
            assert c.unwrap(s.wrap(msg)) == msg
    assert s.query("names") == "TESTDOM\\bob"
    assert s.query("sizes")["max_signature"] == 16
    assert s.query("native_names")["client"] == "TESTDOM\\bob"
    assert s.query("negotiation_info")["name"] == "NTLM"
    assert s.query("session_key") == s.session_key


def test_default_domain_and_any_domain(server_cred):
    with sspx.Credential.client("NTLM", user="alice", password="Wonderland1") as c:
        s, _, _ = handshake(server_cred, c)
        assert s.client_name == "TESTDOM\\alice"


def test_users_file(tmp_path):
    f = tmp_path / "users"
    f.write_text("TESTDOM:bob:Passw0rd!\n")
    with sspx.Credential.server("NTLM", users=f, netbios_domain="TESTDOM") as s, \
            sspx.Credential.client("NTLM", user="TESTDOM\\bob", password="Passw0rd!") as c:
        assert handshake(s, c)[0].client_name == "TESTDOM\\bob"


def failing_handshake(server_cred, client_cred, **kw):
    with pytest.raises(SecurityError) as ei:
        handshake(server_cred, client_cred, **kw)
    return ei.value


def test_wrong_password_and_unknown_user(server_cred):
    for user, pw, code in [("TESTDOM\\bob", "wrong", "SSPX_ERR_BAD_PASSWORD"),
                           ("TESTDOM\\eve", "x", "SSPX_ERR_UNKNOWN_USER")]:
        with sspx.Credential.client("NTLM", user=user, password=pw) as c:
            e = failing_handshake(server_cred, c)
            assert type(e) is LogonDenied and isinstance(e, OSError)
            assert e.status == 0x8009030C and e.name == "SEC_E_LOGON_DENIED"
            assert code in e.detail and e.errno == 0x8009030C


def test_tampered_token(server_cred, client_cred):
    s = sspx.ServerContext(server_cred)
    c = sspx.ClientContext(client_cred)
    t3 = bytearray(c.step(s.step(c.step())))
    t3[72] ^= 1  # the MIC
    with pytest.raises(MessageAltered):
        s.step(bytes(t3))
    with pytest.raises(InvalidToken):
        sspx.ServerContext(server_cred).step(b"NTLMSSP\0garbage")
    with pytest.raises(InvalidToken):
        sspx.ServerContext(server_cred).step(b"x" * 4000)


def test_tampered_message(server_cred, client_cred):
    s, c, _ = handshake(server_cred, client_cred, cflags=sspx.IscReq.CONFIDENTIALITY,
                        sflags=sspx.AscReq.REPLAY_DETECT)
    sig = c.sign(b"hello")
    with pytest.raises(MessageAltered):
        s.verify(b"hellO", sig)
    s.verify(b"hello", sig)
    with pytest.raises(OutOfSequence):
        s.verify(b"hello", sig)  # replayed
    w = bytearray(c.wrap(b"secret"))
    w[-1] ^= 1
    with pytest.raises(MessageAltered):
        s.unwrap(bytes(w))


def test_bad_bindings(server_cred, client_cred):
    a = sspx.ChannelBindings(b"tls-server-end-point:" + b"A" * 32)
    b = sspx.ChannelBindings(b"tls-server-end-point:" + b"B" * 32)
    s, _, _ = handshake(server_cred, client_cred, scb=a, ccb=a)
    assert s.complete
    e = failing_handshake(server_cred, client_cred, scb=a, ccb=b)
    assert type(e) is BadBindings
    with sspx.Credential.server("NTLM", users={"bob": "pw1"}, channel_bindings="required") as req, \
            sspx.Credential.client("NTLM", user="bob", password="pw1") as c:
        assert type(failing_handshake(req, c, scb=a)) is BadBindings  # client sent none


def test_channel_bindings_helpers():
    cb = sspx.ChannelBindings.tls_unique(b"\x01\x02")
    data = cb.to_bytes()
    assert struct.unpack("<8I", data[:32])[6:] == (len(b"tls-unique:\x01\x02"), 32)
    assert data[32:] == b"tls-unique:\x01\x02"
    assert bytes(cb) == data and cb == sspx.ChannelBindings(b"tls-unique:\x01\x02")


def test_stale_handles(server_cred, client_cred):
    s, c, _ = handshake(server_cred, client_cred)
    s.close()
    with pytest.raises(InvalidHandle):
        s.sign(b"x")
    with pytest.raises(InvalidHandle):
        s.step(b"x")
    s.close()  # idempotent
    server_cred.close()
    with pytest.raises(InvalidHandle):
        sspx.ServerContext(server_cred)
    st, h, _, outs, _, _ = raw.accept_security_context(None, raw.CtxtHandle(12345, 678),
                                                        [raw.SecBuffer("TOKEN", b"x")])
    assert st == 0x80090301 and st.name == "SEC_E_INVALID_HANDLE"


def test_context_outlives_credential(users):
    cred = sspx.Credential.server("NTLM", users=users, netbios_domain="TESTDOM")
    client = sspx.Credential.client("NTLM", user="TESTDOM\\bob", password="Passw0rd!")
    s = sspx.ServerContext(cred)
    c = sspx.ClientContext(client)
    t1 = c.step()
    del cred
    gc.collect()
    s.step(c.step(s.step(t1)))  # the context still holds its credential
    assert s.client_name == "TESTDOM\\bob"


def test_arguments():
    with pytest.raises(NoCredentials):
        sspx.Credential.server("NTLM")
    with pytest.raises(PackageNotFound):
        sspx.Credential.server("NoSuchPackage", users={"a": "b"})
    with pytest.raises(InvalidParameter):
        sspx.Credential.server("NTLM", users={"a": "b"}, no_such_option=1)
    with pytest.raises(NoCredentials):
        sspx.Credential.client("NTLM", user="bob", password="")
    with pytest.raises(TypeError):
        sspx.Credential.server("NTLM", lookup=42)
    with sspx.Credential.server("NTLM", users={"a": "b"}) as cred:
        ctx = sspx.ServerContext(cred)
        with pytest.raises(TypeError):
            ctx.step("a str is not a token")
        with pytest.raises(UnsupportedFunction):
            ctx.query("stream_sizes" if False else 4)  # SECPKG_ATTR_STREAM_SIZES


def test_lookup_callable():
    calls = []

    def lookup(user, domain):
        calls.append((user, domain))
        if user == "carol":
            return "Carol#123"
        if user == "hash":
            return bytes.fromhex("FC525C9683E8FE067095BA2DDC971889")  # NT hash of Passw0rd!
        if user == "boom":
            raise RuntimeError("directory exploded")
        if user == "garbage":
            return 12345
        return None

    with sspx.Credential.server("NTLM", lookup=lookup, netbios_domain="X") as s:
        for user, pw in [("carol", "Carol#123"), ("hash", "Passw0rd!")]:
            with sspx.Credential.client("NTLM", user=user, password=pw, domain="D") as c:
                assert handshake(s, c)[0].client_name == "D\\" + user
        for user, text in [("boom", "directory exploded"), ("garbage", "int")]:
            with sspx.Credential.client("NTLM", user=user, password="x") as c:
                e = failing_handshake(s, c)
                assert type(e) is LogonDenied
                assert "LOOKUP_FAILED" in e.detail and text in e.lookup_error
        with sspx.Credential.client("NTLM", user="nobody", password="x") as c:
            assert type(failing_handshake(s, c)) is LogonDenied
    assert ("carol", "D") in calls


def test_describe():
    d = sspx.describe(V2_AUTH)
    names = []

    def walk(n):
        names.append(n["name"])
        for k in n["children"]:
            walk(k)

    walk(d)
    assert "NTProofStr" in names and "MsvAvNbDomainName" in names
    with pytest.raises(InvalidToken):
        sspx.describe(b"not a token at all")


def test_raw_view(server_cred, client_cred):
    c = sspx.ClientContext(client_cred)
    st, h, ins, outs, attrs, expiry = raw.accept_security_context(
        server_cred, None, [raw.SecBuffer("TOKEN", c.step())], sspx.AscReq.ALLOCATE_MEMORY)
    assert st == 0x00090312 and st.name == "SEC_I_CONTINUE_NEEDED" and not st.failed
    assert outs[0].type_name == "SECBUFFER_TOKEN" and outs[0].data.startswith(b"NTLMSSP\0\2")
    assert attrs & sspx.AscRet.ALLOCATED_MEMORY and expiry == 0
    st, h2, _, outs, _, expiry = raw.accept_security_context(
        server_cred, h, [raw.SecBuffer("TOKEN", c.step(outs[0].data))])
    assert st == 0 and h2 == h and outs[0].data == b"" and expiry != 0
    assert raw.delete_security_context(h) == 0
    assert raw.delete_security_context(h) == 0x80090301


def test_lookup_unavailable():
    def lookup(user, domain):
        raise NoAuthority(0x80090311, "SEC_E_NO_AUTHENTICATING_AUTHORITY", "directory down")

    with sspx.Credential.server("NTLM", lookup=lookup) as s, \
            sspx.Credential.client("NTLM", user="bob", password="x") as c:
        e = failing_handshake(s, c)
        assert type(e) is NoAuthority and e.status == 0x80090311
        assert "AUTHORITY_UNAVAILABLE" in e.detail


def test_challenge_expired(hooks, server_cred, client_cred):
    s = sspx.ServerContext(server_cred)
    c = sspx.ClientContext(client_cred)
    _sspx.test_set_clock(133_000_000_000_000_000)
    t3 = c.step(s.step(c.step()))
    _sspx.test_set_clock(133_000_000_000_000_000 + 301 * 10_000_000)  # 301 s later
    with pytest.raises(ContextExpired) as ei:
        s.step(t3)
    assert ei.value.name == "SEC_E_CONTEXT_EXPIRED"


@pytest.mark.parametrize("digest", ["sha256", "sha384"])
def test_tls_server_end_point(tmp_path, digest):
    """RFC 5929 4.1 from a real certificate made by openssl: the hash of the
    certificate with its signature algorithm's hash (SHA-256 for SHA-1/MD5)."""
    import hashlib
    import subprocess

    key, crt = tmp_path / "k.pem", tmp_path / "c.der"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(crt), "-outform", "DER", "-days", "1", "-subj", "/CN=localhost",
                    f"-{digest}"], check=True, capture_output=True, timeout=60)
    der = crt.read_bytes()
    cb = sspx.ChannelBindings.tls_server_end_point(der)
    assert cb.application_data == b"tls-server-end-point:" + hashlib.new(digest, der).digest()
    # and it works as bindings on both sides of a handshake
    with sspx.Credential.server("NTLM", users={"bob": "pw1"}, channel_bindings="required") as s, \
            sspx.Credential.client("NTLM", user="bob", password="pw1") as c:
        assert handshake(s, c, scb=cb, ccb=cb)[0].complete
