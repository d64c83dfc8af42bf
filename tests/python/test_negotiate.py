"""The Negotiate package through the Python API: NTLM inside SPNEGO."""

import sspx


def test_negotiate_ntlm_in_spnego():
    users = {"TESTDOM\\bob": "Passw0rd!"}
    with sspx.Credential.server("Negotiate", users=users, netbios_domain="TESTDOM",
                                packages="ntlm") as s, \
            sspx.Credential.client("Negotiate", user="TESTDOM\\bob", password="Passw0rd!",
                                   packages="ntlm") as c:
        sc = sspx.ServerContext(s)
        cc = sspx.ClientContext(c, target="HTTP/localhost", flags=sspx.IscReq.CONFIDENTIALITY)
        tok = cc.step()
        assert tok[:1] == b"\x60"  # GSS-framed NegTokenInit
        d = sspx.describe(tok)
        assert d["name"]
        while not (sc.complete and cc.complete):
            tok = sc.step(tok)
            if cc.complete:
                break
            tok = cc.step(tok)
        assert sc.complete and sc.client_name == "TESTDOM\\bob"
        info = sc.query("negotiation_info")
        assert info["name"] == "NTLM" and info["state"] == 0  # the package it chose
        assert sc.package == "Negotiate"
        sig = cc.sign(b"hello")
        assert len(sig) == 16  # NTLM's signature, not Negotiate's maximum
        sc.verify(b"hello", sig)
        assert sc.unwrap(cc.wrap(b"sealed")) == b"sealed"


def test_negotiate_options_follow_the_packages():
    """Negotiate splits options by what each package's table lists: Kerberos's
    replay-cache options are known (not refused), unknown keys are refused."""
    with sspx.Credential.server("Negotiate", users={"bob": "pw1"}, packages="ntlm",
                                replay_window=60, netbios_domain="X") as s:
        assert s.package == "Negotiate"
    import pytest

    with pytest.raises(sspx.errors.InvalidParameter):
        sspx.Credential.server("Negotiate", users={"bob": "pw1"}, no_such_option=1)
