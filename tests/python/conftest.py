"""Shared fixtures of the Python test suite (the installed sspx package)."""

import pytest

import sspx


@pytest.fixture
def users():
    return {"TESTDOM\\bob": "Passw0rd!", "alice": "Wonderland1"}


@pytest.fixture
def server_cred(users):
    with sspx.Credential.server("NTLM", users=users, netbios_domain="TESTDOM") as cred:
        yield cred


@pytest.fixture
def client_cred():
    with sspx.Credential.client("NTLM", user="TESTDOM\\bob", password="Passw0rd!") as cred:
        yield cred


def handshake(server_cred, client_cred, sflags=0, cflags=0, target="HTTP/server", scb=None,
              ccb=None):
    """One full NTLM handshake; returns (server ctx, client ctx, tokens)."""
    s = sspx.ServerContext(server_cred, flags=sflags, channel_bindings=scb)
    c = sspx.ClientContext(client_cred, flags=cflags, target=target, channel_bindings=ccb)
    t1 = c.step()
    t2 = s.step(t1)
    t3 = c.step(t2)
    t4 = s.step(t3)
    assert t4 == b""
    return s, c, (t1, t2, t3)
