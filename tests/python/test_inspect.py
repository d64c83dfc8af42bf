"""sspx.inspect: tokens decoded by the C decoders and rendered as text and
HTML, the handshake recorder, and the `python -m sspx decode` body."""

import base64
import io
import sys

import pytest

import sspx
from sspx import inspect as si
from sspx.errors import InvalidToken, LogonDenied

from conftest import handshake

HOSTILE = '<script>alert("x")</script>&<b>'


@pytest.fixture
def tokens(server_cred, client_cred):
    s, c, toks = handshake(server_cred, client_cred, cflags=sspx.IscReq.CONFIDENTIALITY)
    return toks


# ----------------------------------------------------------------- decode


def test_decode_negotiate(tokens):
    tok = si.decode(tokens[0])
    assert tok.name == "NTLM" and tok.kind == "struct"
    assert tok.message_type == "NEGOTIATE_MESSAGE"
    assert tok["MessageType"].kind == "enum" and tok["MessageType"].value == 1
    flags = tok["NegotiateFlags"]
    assert flags.kind == "flags" and (flags.offset, flags.length) == (12, 4)
    assert "NEGOTIATE_UNICODE" in flags.flag_names and "NEGOTIATE_SEAL" in flags.flag_names
    assert all(c.kind == "flag" for c in flags.children)
    assert tok.raw == tokens[0] and tok.package == "NTLM"
    assert "NTLM NEGOTIATE_MESSAGE (40 bytes)" in tok.summary


def test_decode_challenge(tokens):
    tok = si.decode(tokens[1], "NTLM")
    assert tok.message_type == "CHALLENGE_MESSAGE"
    chal = tok["ServerChallenge"]
    assert chal.kind == "bytes" and chal.bytes == tokens[1][24:32] and chal.length == 8
    ti = tok["TargetInfo"]
    assert ti["MsvAvNbDomainName"].text == "TESTDOM"
    assert ti["MsvAvTimestamp"].kind == "uint" and ti["MsvAvTimestamp"].value > 0
    assert tok.find("MsvAvEOL") is not None and tok.find("NoSuchField") is None
    with pytest.raises(KeyError):
        tok["NoSuchField"]
    assert "TargetInfo" in tok and tok.get("Nope") is None
    # the tree is the describe() tree, unchanged
    assert tok.to_dict() == sspx.describe(tokens[1])
    assert si.Token.from_dict(tok.to_dict()) == tok


def test_decode_authenticate(tokens):
    tok = si.decode(tokens[2])
    assert tok.message_type == "AUTHENTICATE_MESSAGE"
    assert tok["UserName"].text == "bob" and tok["DomainName"].text == "TESTDOM"
    assert tok["ResponseKind"].text == "NTLMv2"
    nt = tok["NtChallengeResponse"]
    assert len(nt["NTProofStr"].bytes) == 16
    assert nt["AvPairs"]["MsvAvTargetName"].text == "HTTP/server"
    assert "MIC_PROVIDED" in nt["AvPairs"]["MsvAvFlags"].flag_names
    assert len(tok["MIC"].bytes) == 16
    assert [n.name for n in tok.find_all("MsvAvTimestamp")] == ["MsvAvTimestamp"]


def test_decode_refuses_garbage(tokens):
    with pytest.raises(InvalidToken):
        si.decode(b"not a token")
    with pytest.raises(InvalidToken):
        si.decode(tokens[2][:100])  # fields pointing past the end
    with pytest.raises(TypeError):
        si.decode("TlRMTVNTUAAB")
    bad = si.try_decode(b"\x00garbage<script>")
    assert isinstance(bad, si.Undecodable) and "SEC_E_INVALID_TOKEN" in str(bad)
    assert "0067" in str(bad) or "00 67" in str(bad)
    assert "<script>" not in bad._repr_html_()


def test_text_form(tokens):
    text = str(si.decode(tokens[1]))
    for want in ("CHALLENGE_MESSAGE", "NEGOTIATE_UNICODE", "NEGOTIATE_TARGET_INFO",
                 "MsvAvNbDomainName", '"TESTDOM"', "MsvAvTimestamp", "UTC", "ServerChallenge",
                 tokens[1][24:32].hex()):
        assert want in text, want
    # offsets and lengths: the ServerChallenge line shows 24 and 8
    line = next(ln for ln in text.splitlines() if "ServerChallenge" in ln)
    assert line.split()[1:3] == ["24", "8"]
    # render_text on the plain dict gives the same
    assert si.render_text(sspx.describe(tokens[1])) == text
    auth = str(si.decode(tokens[2]))
    for want in ("AUTHENTICATE_MESSAGE", "NTLMv2", "NTProofStr", "AvPairs", "MIC_PROVIDED",
                 "MsvAvTargetName", '"HTTP/server"', '"bob"', "MIC"):
        assert want in auth, want


def test_long_bytes_truncated():
    t = si.Token("Blob", "bytes", 0, 200, bytes=bytes(range(200)))
    text = si.render_text(si.Token("R", children=[t]))
    assert "... (200 bytes)" in text and bytes(range(200)).hex() not in text
    assert bytes(range(200)).hex() in si.render_html(si.Token("R", children=[t]))  # in title


def _balanced(page):
    """Every opened tag closed, in order (void tags aside)."""
    from html.parser import HTMLParser

    stack = []

    class P(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag not in ("br", "img", "hr"):
                stack.append(tag)

        def handle_endtag(self, tag):
            assert stack and stack.pop() == tag, (tag, stack)

    P().feed(page)
    return not stack


def test_html_form(tokens):
    h = si.decode(tokens[2])._repr_html_()
    assert _balanced(h)
    assert h.startswith("<style>") and "<table>" in h and "</table>" in h
    for want in ("AUTHENTICATE_MESSAGE", "NtChallengeResponse", "MsvAvTargetName",
                 "MIC_PROVIDED", "NEGOTIATE_SEAL", "&quot;bob&quot;"):
        assert want in h, want


def test_hostile_user_name_escaped(server_cred):
    with sspx.Credential.client("NTLM", user=HOSTILE, domain="EVIL\nDOM",
                                password="x") as cred:
        c = sspx.ClientContext(cred, target="HTTP/<img src=x>")
        s = sspx.ServerContext(server_cred)
        rec = si.Handshake()
        with pytest.raises(LogonDenied):
            rec.run(c, s)
    auth = rec.legs[2].output
    assert auth.message_type == "AUTHENTICATE_MESSAGE"
    assert auth["UserName"].text == HOSTILE
    h = auth._repr_html_()
    assert "<script>" not in h and "<img" not in h and "<b>&lt;" not in h
    assert "&lt;script&gt;" in h
    for page in (rec._repr_html_(), rec.legs[2]._repr_html_()):
        assert "<script>" not in page and "<img" not in page
        assert _balanced(page)
    text = str(auth)
    assert '"<script>alert(\\"x\\")</script>&<b>"' in text
    assert '"EVIL\\nDOM"' in text  # a newline in a name cannot break the lines
    assert all(ln.startswith(("NTLM", "  ")) for ln in text.splitlines())


# --------------------------------------------------------------- recorder


def test_recorder_success(server_cred, client_cred):
    c = sspx.ClientContext(client_cred, target="HTTP/server",
                           flags=sspx.IscReq.CONFIDENTIALITY)
    s = sspx.ServerContext(server_cred)
    rec = si.Handshake()
    t1 = rec.step(c, None)
    t2 = rec.step(s, t1)
    t3 = rec.step(c, t2)
    assert rec.step(s, t3) == b""
    rows = rec.table()
    assert [r["leg"] for r in rows] == [1, 2, 3, 4]
    assert [r["direction"] for r in rows] == ["client -> server", "server -> client"] * 2
    assert [r["status"] for r in rows] == ["SEC_I_CONTINUE_NEEDED"] * 2 + ["SEC_E_OK"] * 2
    assert [r["output"].split(" ")[1] for r in rows[:3]] == [
        "NEGOTIATE_MESSAGE", "CHALLENGE_MESSAGE", "AUTHENTICATE_MESSAGE"]
    assert rows[0]["input"] == "" and rows[3]["output"] == ""
    assert "ASC_RET_CONFIDENTIALITY" in rows[3]["flags"]
    assert "ASC_RET_INTEGRITY" in rows[3]["flags"]
    assert "ISC_RET_CONFIDENTIALITY" in rows[2]["flags"]
    assert rows[3]["complete"] and rows[3]["error"] == ""
    assert rec.complete and rec.status == "SEC_E_OK"
    assert rec.legs[1].output_bytes == t2 and rec.legs[1].input.raw == t1
    assert rec.legs[3].flags_value == int(s.flags)
    text = str(rec)
    for want in ("client -> server", "CHALLENGE_MESSAGE", "SEC_E_OK", "ASC_RET_INTEGRITY"):
        assert want in text
    h = rec._repr_html_()
    assert "<table>" in h and "AUTHENTICATE_MESSAGE" in h and "SEC_I_CONTINUE_NEEDED" in h
    assert "MsvAvTimestamp" in rec.report()
    assert s.client_name == "TESTDOM\\bob"
    assert si.context_flags(s) == rows[3]["flags"]
    assert si.context_flags(0x800, side="client") == ["ISC_RET_CONNECTION"]
    with pytest.raises(ValueError):
        si.context_flags(0x800)


def test_recorder_run_wrong_password(server_cred):
    with sspx.Credential.client("NTLM", user="TESTDOM\\bob", password="wrong") as cred:
        c = sspx.ClientContext(cred)
        s = sspx.ServerContext(server_cred)
        with pytest.raises(LogonDenied) as info:
            si.Handshake.run(c, s)
    rec = info.value.handshake
    rows = rec.table()
    assert len(rows) == 4
    assert rows[-1]["status"] == "SEC_E_LOGON_DENIED"
    assert "SSPX_ERR_BAD_PASSWORD" in rows[-1]["error"]
    assert rows[-1]["input"].startswith("NTLM AUTHENTICATE_MESSAGE")
    assert rec.legs[-1].failed and not rec.complete
    assert "SEC_E_LOGON_DENIED" in str(rec) and "SEC_E_LOGON_DENIED" in rec._repr_html_()
    # check=False keeps the recorder instead of raising
    with sspx.Credential.client("NTLM", user="TESTDOM\\bob", password="wrong") as cred:
        rec2 = si.Handshake().run(sspx.ClientContext(cred), sspx.ServerContext(server_cred),
                                  check=False)
    assert rec2.status == "SEC_E_LOGON_DENIED"


def test_recorder_run_success(server_cred, client_cred):
    c = sspx.ClientContext(client_cred)
    s = sspx.ServerContext(server_cred)
    rec = si.Handshake.run(c, s)
    assert isinstance(rec, si.Handshake) and rec.complete
    assert [leg.side for leg in rec] == ["client", "server", "client", "server"]
    assert c.complete and s.complete


def test_recorder_undecodable_input(server_cred):
    s = sspx.ServerContext(server_cred)
    rec = si.Handshake()
    with pytest.raises(InvalidToken):
        rec.step(s, b"<garbage>\x00\x01")
    leg = rec.legs[0]
    assert leg.status == "SEC_E_INVALID_TOKEN" and leg.failed
    assert isinstance(leg.input, si.Undecodable)
    assert "3c67617262616765" in str(leg).replace(" ", "")
    assert "<garbage>" not in rec._repr_html_()


def test_record_external_legs(tokens):
    rec = si.Handshake()
    rec.record("client -> server", output=tokens[0], status=0x00090312)
    rec.record("server", input=tokens[0], output=tokens[1], status="SEC_I_CONTINUE_NEEDED")
    rec.record("client", input=tokens[1], output=tokens[2], status=0, flags=0x800)
    rows = rec.table()
    assert [r["status"] for r in rows] == ["SEC_I_CONTINUE_NEEDED"] * 2 + ["SEC_E_OK"]
    assert rows[2]["flags"] == ["ISC_RET_CONNECTION"]
    with pytest.raises(ValueError):
        rec.record("sideways")


# -------------------------------------------------------------------- CLI


def test_main_decode_base64(tokens, capsys):
    assert si.main_decode([base64.b64encode(tokens[1]).decode()]) == 0
    out = capsys.readouterr().out
    assert "CHALLENGE_MESSAGE" in out and "MsvAvTimestamp" in out


def test_main_decode_hex_and_subcommand(tokens, capsys):
    assert si.main_decode(["decode", tokens[0].hex()]) == 0
    assert "NEGOTIATE_MESSAGE" in capsys.readouterr().out
    assert si.main_decode([tokens[0].hex(" ").upper()]) == 0
    assert "NEGOTIATE_UNICODE" in capsys.readouterr().out


@pytest.mark.parametrize("form", ["NTLM {}", "Negotiate {}", "Authorization: NTLM {}",
                                  "WWW-Authenticate: Negotiate {}"])
def test_main_decode_header(tokens, capsys, form):
    assert si.main_decode([form.format(base64.b64encode(tokens[2]).decode())]) == 0
    out = capsys.readouterr().out
    assert "AUTHENTICATE_MESSAGE" in out and '"bob"' in out


def test_main_decode_stdin_and_json(tokens, capsys, monkeypatch):
    stdin = io.TextIOWrapper(io.BytesIO(base64.b64encode(tokens[1]) + b"\n"))
    monkeypatch.setattr(sys, "stdin", stdin)
    assert si.main_decode(["--json", "-"]) == 0
    import json

    tree = json.loads(capsys.readouterr().out)
    assert tree["name"] == "NTLM" and tree["children"][0]["text"] == "CHALLENGE_MESSAGE"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(tokens[0])))
    assert si.main_decode(["-"]) == 0  # raw bytes on stdin
    assert "NEGOTIATE_MESSAGE" in capsys.readouterr().out


@pytest.mark.parametrize("garbage", ["!!! not a token !!!", "TlRMTVNTUAAB", "abc",
                                     base64.b64encode(b"hello world").decode(), "NTLM"])
def test_main_decode_garbage(capsys, garbage):
    assert si.main_decode([garbage]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("sspx decode: ")
    assert "Traceback" not in captured.err


def test_main_decode_usage(capsys):
    assert si.main_decode([]) == 2
    assert "usage" in capsys.readouterr().err


# ------------------------------------------------------ Kerberos tokens
#
# Real Kerberos tokens from a throwaway Heimdal realm (TEST.LOCAL, alice
# kinit'd, HTTP/localhost in the keytab). Heimdal's GSS-API pins a thread to
# the first realm it sees (tests/python/test_kerberos_delegation.py), so the
# handshakes run in one short-lived thread that closes everything it made;
# decoding is pure parsing and runs here.


def _in_thread(fn):
    import gc
    import threading

    res = {}

    def run():
        try:
            res["value"] = fn()
        except BaseException as exc:  # noqa: B902 - handed to the caller
            res["error"] = exc
        finally:
            gc.collect()

    t = threading.Thread(target=run, name="inspect-krb")
    t.start()
    t.join(60)
    assert not t.is_alive(), "timed out"
    if "error" in res:
        raise res["error"]
    return res["value"]


def _kerberos_handshakes(realm):
    out = {}
    front = f"HTTP/localhost@{realm.realm}"
    with sspx.Credential.server("Kerberos", keytab=realm.keytab, principal=front) as s, \
            sspx.Credential.client("Kerberos") as c:
        # mutual authentication: AP-REQ (mutual-required), AP-REP
        cc = sspx.ClientContext(c, target="HTTP/localhost", flags=sspx.IscReq.MUTUAL_AUTH)
        sc = sspx.ServerContext(s)
        out["ap_req_mutual"] = cc.step()
        out["ap_rep"] = sc.step(out["ap_req_mutual"])
        cc.step(out["ap_rep"])
        assert cc.complete and sc.complete
        # none: the AP-REQ alone
        cc = sspx.ClientContext(c, target="HTTP/localhost")
        out["ap_req"] = cc.step()
        assert sspx.ServerContext(s).step(out["ap_req"]) == b""
        # a tampered authenticator: the server's KRB-ERROR rides on the exception
        cc = sspx.ClientContext(c, target="HTTP/localhost")
        bad = bytearray(cc.step())
        bad[-20] ^= 1
        try:
            sspx.ServerContext(s, flags=sspx.AscReq.EXTENDED_ERROR).step(bytes(bad))
        except sspx.errors.SecurityError as exc:
            out["krb_error"] = exc.token
            out["krb_error_status"] = exc.name
    with sspx.Credential.server("Negotiate", keytab=realm.keytab) as s, \
            sspx.Credential.client("Negotiate") as c:
        rec = si.Handshake()
        rec.run(sspx.ClientContext(c, target="HTTP/localhost", flags=sspx.IscReq.MUTUAL_AUTH),
                sspx.ServerContext(s))
        out["nego_init"] = rec.legs[0].output_bytes
        out["nego_resp"] = rec.legs[1].output_bytes
        out["nego_table"] = str(rec)
        out["nego_report"] = rec.report()
    return out


@pytest.fixture(scope="module")
def krb_tokens():
    from sspx.testing import kerberos_realm

    with kerberos_realm() as realm:
        yield _in_thread(lambda: _kerberos_handshakes(realm))


def test_decode_kerberos_ap_req(krb_tokens):
    raw = krb_tokens["ap_req_mutual"]
    tok = si.decode(raw)  # recognised: the Kerberos describer
    assert tok.name == "Kerberos" and tok.package == "Kerberos"
    assert tok.message_type == "AP-REQ" and tok["MessageType"].value == 14
    assert tok.summary == f"Kerberos AP-REQ ({len(raw)} bytes)"
    assert tok["ThisMech"].text == "1.2.840.113554.1.2.2 (Kerberos 5)"
    assert tok["TokId"].text == "KRB_AP_REQ" and tok["TokId"].value == 0x0100
    assert tok["Pvno"].value == 5
    assert tok["ApOptions"].kind == "flags"
    assert tok["ApOptions"].flag_names == ["mutual-required"]
    ticket = tok["Ticket"]
    assert ticket["Realm"].text == "TEST.LOCAL"
    assert ticket["SName"].text == "HTTP/localhost"
    assert [n.text for n in ticket["SName"].find_all("NameString")] == ["HTTP", "localhost"]
    etype = ticket["EncPart"]["EType"]
    assert (etype.kind, etype.value, etype.text) == ("enum", 18, "aes256-cts-hmac-sha1-96")
    assert ticket["EncPart"]["Kvno"].value >= 1
    cipher = tok["Authenticator"]["Cipher"]
    assert cipher.kind == "bytes" and cipher.bytes == raw[cipher.offset:cipher.offset + cipher.length]
    assert cipher.offset + cipher.length == len(raw)  # the authenticator ends the token
    assert tok["Authenticator"].get("Kvno") is None
    assert si.decode(raw, "Kerberos").to_dict() == tok.to_dict()
    # without mutual authentication: no flag set
    plain = si.decode(krb_tokens["ap_req"])
    assert plain["ApOptions"].flag_names == [] and plain["ApOptions"].value == 0
    text = str(tok)
    for want in ("Kerberos AP-REQ", '"TEST.LOCAL"', '"HTTP/localhost"', "mutual-required",
                 "aes256-cts-hmac-sha1-96 (18)", "KRB_NT_PRINCIPAL"):
        assert want in text, want
    html = tok._repr_html_()
    assert "HTTP/localhost" in html and "aes256-cts-hmac-sha1-96" in html


def test_decode_kerberos_ap_rep(krb_tokens):
    tok = si.decode(krb_tokens["ap_rep"])
    assert tok.message_type == "AP-REP" and tok["TokId"].text == "KRB_AP_REP"
    assert tok["EncPart"]["EType"].value == 18
    assert tok.find("Ticket") is None and tok.find("ApOptions") is None


def test_decode_kerberos_error(krb_tokens, capsys):
    assert krb_tokens["krb_error_status"] == "SEC_E_LOGON_DENIED"
    tok = si.decode(krb_tokens["krb_error"])
    assert tok.message_type == "KRB-ERROR" and tok["TokId"].text == "KRB_ERROR"
    code = tok["ErrorCode"]
    assert (code.kind, code.value, code.text) == ("enum", 31, "KRB_AP_ERR_BAD_INTEGRITY")
    assert tok["Realm"].text == "TEST.LOCAL" and tok["SName"].text == "HTTP/localhost"
    assert tok["STime"].kind == "string" and tok["STime"].text.endswith(" UTC")
    assert 0 <= tok["Susec"].value < 1000000
    # the command line shows the same
    assert si.main_decode(["Negotiate " + base64.b64encode(krb_tokens["krb_error"]).decode()]) == 0
    out = capsys.readouterr().out
    assert "Kerberos KRB-ERROR" in out and "KRB_AP_ERR_BAD_INTEGRITY (31)" in out


def test_decode_negotiate_kerberos(krb_tokens):
    init = si.decode(krb_tokens["nego_init"])
    assert init.name == "SPNEGO" and init.message_type == "NegTokenInit"
    inner = init["MechToken"]["Kerberos"]
    assert inner.message_type == "AP-REQ"
    assert inner["Ticket"]["SName"].text == "HTTP/localhost"
    assert inner["ApOptions"].flag_names == ["mutual-required"]
    # the inner tree's offsets are into the SPNEGO token
    mt = init["MechToken"]
    assert (inner.offset, inner.length) == (mt.offset, mt.length)
    c = inner["Ticket"]["EncPart"]["Cipher"]
    assert krb_tokens["nego_init"][c.offset:c.offset + c.length] == c.bytes
    resp = si.decode(krb_tokens["nego_resp"])
    assert resp["ResponseToken"]["Kerberos"].message_type == "AP-REP"
    # the recorder's table names the SPNEGO messages; the report shows the inner trees
    assert "SPNEGO NegTokenInit" in krb_tokens["nego_table"]
    assert "SEC_E_OK" in krb_tokens["nego_table"]
    for want in ("AP-REQ (14)", "AP-REP (15)", '"HTTP/localhost"'):
        assert want in krb_tokens["nego_report"], want


def test_decode_kerberos_refuses_damage(krb_tokens):
    raw = krb_tokens["ap_req"]
    for n in list(range(0, 40)) + list(range(len(raw) - 40, len(raw))):
        with pytest.raises(InvalidToken):
            si.decode(raw[:n], "Kerberos")
    with pytest.raises(InvalidToken):
        si.decode(raw + b"\x00", "Kerberos")
    bad = si.try_decode(raw[:-1])
    assert isinstance(bad, si.Undecodable) and "SEC_E_INVALID_TOKEN" in str(bad)
    # an NTLM token is no Kerberos token
    with pytest.raises(InvalidToken):
        si.decode(b"NTLMSSP\x00\x01\x00\x00\x00\x07\x82\x08\xa2", "Kerberos")
