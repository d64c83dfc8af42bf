"""The Kerberos package (first step) through the Python API, against a
throwaway Heimdal realm (one for the module: the library reads krb5.conf once
per process, so a second realm on another port would not be seen)."""

import pytest

import sspx
from sspx.testing import kerberos_realm


@pytest.fixture(scope="module")
def realm_env():
    with kerberos_realm() as realm:
        yield realm


def test_kerberos_loop(realm_env):
    assert "Kerberos" in sspx.packages()
    with sspx.Credential.server("Kerberos") as s, sspx.Credential.client("Kerberos") as c:
        sc = sspx.ServerContext(s)
        cc = sspx.ClientContext(c, target="HTTP/localhost",
                                flags=sspx.IscReq.MUTUAL_AUTH | sspx.IscReq.CONFIDENTIALITY)
        ap_req = cc.step()
        assert ap_req[:1] == b"\x60"  # GSS-API framing
        ap_rep = sc.step(ap_req)
        assert sc.complete and ap_rep  # mutual authentication: an AP-REP
        cc.step(ap_rep)
        assert cc.complete
        assert sc.client_name == "TEST.LOCAL\\alice"
        assert sc.session_key == cc.session_key
        assert sc.unwrap(cc.wrap(b"over kerberos")) == b"over kerberos"
        cc.verify(b"signed", sc.sign(b"signed"))
        assert sc.query("package_info")["name"] == "Kerberos"


def test_kerberos_bad_bindings(realm_env):
    a = sspx.ChannelBindings(b"tls-server-end-point:" + b"A" * 32)
    b = sspx.ChannelBindings(b"tls-server-end-point:" + b"B" * 32)
    with sspx.Credential.server("Kerberos") as s, sspx.Credential.client("Kerberos") as c:
        sc = sspx.ServerContext(s, channel_bindings=a)
        cc = sspx.ClientContext(c, target="HTTP/localhost", channel_bindings=b)
        with pytest.raises(sspx.BadBindings):
            sc.step(cc.step())


def test_kerberos_garbage_token(realm_env):
    with sspx.Credential.server("Kerberos") as s:
        with pytest.raises(sspx.InvalidToken):
            sspx.ServerContext(s).step(b"\x60\x03\x06\x01\x00")
