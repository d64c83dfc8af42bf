"""sspx.testing (the pytest plugin and its helpers) and the .pyi stubs of the
public API."""

import ast
import importlib
import importlib.metadata
import inspect
import pathlib
import shutil
import subprocess

import pytest

import sspx
import sspx.testing
from sspx import _sspx
from sspx.testing import fixed_clock, fixed_random

pytest_plugins = ["pytester"]

CURL = shutil.which("curl")

# ------------------------------------------------------------ the plugin

PLUGIN_USER_TESTS = r'''
import shutil
import subprocess

import pytest

import sspx

CURL = shutil.which("curl")


def test_users(sspx_users):
    assert sspx_users == {"TESTDOM\\bob": "Passw0rd!", "alice": "Wonderland1"}


def test_handshake_default(sspx_handshake):
    hs = sspx_handshake()
    assert hs.server.complete and hs.client.complete
    assert hs.server.client_name == "TESTDOM\\bob"
    assert hs.server.session_key == hs.client.session_key
    assert [t[8] for t in hs.tokens] == [1, 2, 3]
    s, c, tokens = hs  # a tuple too


def test_handshake_alice_with_flags(sspx_handshake):
    hs = sspx_handshake("alice", "Wonderland1", client_flags=sspx.IscReq.CONFIDENTIALITY)
    assert hs.server.client_name == "TESTDOM\\alice"
    assert hs.server.unwrap(hs.client.wrap(b"x")) == b"x"


def test_handshake_wrong_password(sspx_handshake):
    with pytest.raises(sspx.LogonDenied):
        sspx_handshake("TESTDOM\\bob", "wrong")


def test_credentials(sspx_server_credential, sspx_client_credential_factory):
    assert sspx_server_credential.package == "NTLM"
    c = sspx_client_credential_factory("alice", "Wonderland1")
    assert c.usage == sspx._sspx.CRED_OUTBOUND


def test_bindings(sspx_handshake):
    cb = sspx.ChannelBindings.tls_unique(b"finished")
    assert sspx_handshake(channel_bindings=cb).server.complete
    with pytest.raises(sspx.BadBindings):
        sspx_handshake(server_channel_bindings=cb,
                       client_channel_bindings=sspx.ChannelBindings.tls_unique(b"other"))


def curl(url, user):
    r = subprocess.run([CURL, "-s", "--ntlm", "-u", user, "-o", "-", "-w", "\n%{http_code}", url],
                       capture_output=True, text=True, timeout=30)
    body, _, code = r.stdout.rpartition("\n")
    return int(code), body


@pytest.mark.skipif(CURL is None, reason="curl not installed")
def test_http_server(sspx_http_server):
    assert sspx_http_server.startswith("http://127.0.0.1:") and sspx_http_server.endswith("/")
    assert curl(sspx_http_server + "a", "TESTDOM\\bob:Passw0rd!") == (
        200, "Authenticated as TESTDOM\\bob\n")
    assert curl(sspx_http_server, "alice:Wonderland1")[0] == 200
    assert curl(sspx_http_server, "TESTDOM\\bob:wrong")[0] == 401
    assert curl(sspx_http_server, "TESTDOM\\eve:Passw0rd!")[0] == 401


class TestOverride:
    @pytest.fixture
    def sspx_users(self):
        return {"OTHER\\carol": "Carol#1"}

    def test_override_users(self, sspx_handshake):
        assert sspx_handshake("OTHER\\carol", "Carol#1").server.client_name == "OTHER\\carol"
        with pytest.raises(sspx.LogonDenied):
            sspx_handshake()  # bob is not in the overridden store
'''


def test_entry_point_registered():
    eps = [e for e in importlib.metadata.entry_points(group="pytest11") if e.name == "sspx"]
    assert len(eps) == 1 and eps[0].value == "sspx.testing"
    assert eps[0].load() is sspx.testing


def test_plugin_fixtures_inline(pytester):
    pytester.makepyfile(test_user_suite=PLUGIN_USER_TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=8 if CURL else 7, skipped=0 if CURL else 1)


def test_plugin_fixtures_fresh_process(pytester):
    """A new interpreter finds the plugin through its entry point alone."""
    pytester.makepyfile(test_user_suite=PLUGIN_USER_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--fixtures")
    result.stdout.fnmatch_lines(["*sspx_handshake*", "*sspx_http_server*"])
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-k", "handshake or users")
    result.assert_outcomes(passed=5)


def test_fixtures_directly(sspx_handshake, sspx_server_credential):
    hs = sspx_handshake("alice", "Wonderland1")
    assert hs.server.client_name == "TESTDOM\\alice"
    assert hs.server.credential is sspx_server_credential


def curl(url, user, *extra):
    r = subprocess.run([CURL, "-s", "--ntlm", "-u", user, "-o", "-", "-w", "\n%{http_code}", *extra,
                        url], capture_output=True, text=True, timeout=30)
    body, _, code = r.stdout.rpartition("\n")
    return int(code), body


@pytest.mark.skipif(CURL is None, reason="curl not installed")
def test_http_server_curl(sspx_server_credential):
    with sspx.testing.NTLMTestServer(sspx_server_credential) as srv:
        assert curl(srv.url + "x", "TESTDOM\\bob:Passw0rd!") == (200, "Authenticated as TESTDOM\\bob\n")
        assert curl(srv.url, "TESTDOM\\bob:wrong") == (401, "Unauthorized\n")
        # a POST body is read and echoed after the greeting: the connection stays in sync
        code, body = curl(srv.url, "alice:Wonderland1", "-d", "payload")
        assert (code, body) == (200, "Authenticated as TESTDOM\\alice\npayload")
        assert srv.logins == ["TESTDOM\\bob", "TESTDOM\\alice"]
        assert len(srv.failures) == 1 and isinstance(srv.failures[0], sspx.LogonDenied)
        assert "BAD_PASSWORD" in srv.failures[0].detail
    assert curl(srv.url, "alice:Wonderland1", "--max-time", "5")[0] == 0  # stopped: no answer


@pytest.mark.skipif(CURL is None, reason="curl not installed")
@pytest.mark.parametrize("backend", ["sspx.server", "builtin"])
def test_serve_http_backends(backend, monkeypatch, sspx_server_credential):
    if backend == "builtin":
        monkeypatch.setattr(sspx.testing, "_sspx_server_module", lambda: None)
    elif sspx.testing._sspx_server_module() is None:
        pytest.skip("sspx.server is not there (yet)")
    with sspx.testing.serve_http(sspx_server_credential) as url:
        assert curl(url + "p?q=1", "TESTDOM\\bob:Passw0rd!") == (200, "Authenticated as TESTDOM\\bob\n")
        assert curl(url, "TESTDOM\\bob:Passw0rd", "-d", "x")[0] == 401
        assert curl(url, "alice:Wonderland1", "-d", "payload") == (
            200, "Authenticated as TESTDOM\\alice\npayload")


def test_http_server_connection_state(sspx_server_credential):
    """NTLM state is per TCP connection: one keep-alive connection handshakes
    and stays authenticated; a new connection must start over."""
    import http.client

    hs_client = sspx.Credential.client("NTLM", user="TESTDOM\\bob", password="Passw0rd!")
    with sspx.testing.NTLMTestServer(sspx_server_credential) as srv:
        conn = http.client.HTTPConnection(srv.host, srv.port, timeout=10)
        conn.request("GET", "/")
        r = conn.getresponse()
        r.read()
        assert r.status == 401 and r.getheader("WWW-Authenticate") == "NTLM"
        ctx = sspx.ClientContext(hs_client, target="HTTP/127.0.0.1")
        import base64

        conn.request("GET", "/", headers={"Authorization": "NTLM " + base64.b64encode(ctx.step()).decode()})
        r = conn.getresponse()
        r.read()
        assert r.status == 401
        challenge = base64.b64decode(r.getheader("WWW-Authenticate").split()[1])
        auth = ctx.step(challenge)
        conn.request("GET", "/", headers={"Authorization": "NTLM " + base64.b64encode(auth).decode()})
        r = conn.getresponse()
        assert r.status == 200 and r.read() == b"Authenticated as TESTDOM\\bob\n"
        conn.request("GET", "/again")  # same connection, no header: still authenticated
        r = conn.getresponse()
        assert r.status == 200 and r.getheader("X-SSPX-User") == "TESTDOM\\bob"
        r.read()
        conn.close()
        other = http.client.HTTPConnection(srv.host, srv.port, timeout=10)
        other.request("GET", "/")
        r = other.getresponse()
        r.read()
        assert r.status == 401
        # an AUTHENTICATE without a NEGOTIATE first on this connection fails cleanly
        other.request("GET", "/", headers={"Authorization": "NTLM " + base64.b64encode(auth).decode()})
        r = other.getresponse()
        r.read()
        assert r.status == 401
        other.close()
        ctx.close()
    hs_client.close()


# ------------------------------------------------------------------ hooks

def test_fixed_random(sspx_server_credential, sspx_client_credential_factory):
    challenge = bytes(range(8))
    negotiate = sspx.ClientContext(sspx_client_credential_factory("alice", "Wonderland1")).step()
    with fixed_random(challenge):
        t2 = sspx.ServerContext(sspx_server_credential).step(negotiate)
        assert t2[24:32] == challenge
        with pytest.raises(sspx.SecurityError):  # the script ran out
            sspx.ServerContext(sspx_server_credential).step(negotiate)
    t2 = sspx.ServerContext(sspx_server_credential).step(negotiate)
    assert t2[24:32] != challenge  # the real source is back
    with pytest.raises(ValueError):
        with fixed_random(b"x" * 1025):
            pass


def _timestamp_of(challenge):
    """MsvAvTimestamp (AvId 7) of a CHALLENGE's target info, as a FILETIME."""
    import struct

    ln, _, off = struct.unpack_from("<HHI", challenge, 40)
    info = challenge[off:off + ln]
    i = 0
    while i + 4 <= len(info):
        av, n = struct.unpack_from("<HH", info, i)
        if av == 7:
            return struct.unpack_from("<Q", info, i + 4)[0]
        i += 4 + n
    return None


def test_fixed_clock(sspx_server_credential):
    import datetime

    client = sspx.Credential.client("NTLM", user="alice", password="Wonderland1")
    with fixed_clock(0x01D0000000000000):
        t2 = sspx.ServerContext(sspx_server_credential).step(sspx.ClientContext(client).step())
        assert _timestamp_of(t2) == 0x01D0000000000000
    when = datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    with fixed_clock(when):
        t2 = sspx.ServerContext(sspx_server_credential).step(sspx.ClientContext(client).step())
        assert _timestamp_of(t2) == 132224078450000000  # 2020-01-02T03:04:05Z
    t2 = sspx.ServerContext(sspx_server_credential).step(sspx.ClientContext(client).step())
    assert _timestamp_of(t2) > 132224078450000000  # the real clock again
    with pytest.raises(ValueError):
        with fixed_clock(datetime.datetime(2020, 1, 1)):
            pass
    client.close()


# ------------------------------------------------------------------ stubs

PKG = pathlib.Path(sspx.__file__).parent
STUBBED = ["sspx", "sspx._context", "sspx.errors", "sspx.flags", "sspx.raw"]


def _stub_path(modname):
    name = "__init__" if modname == "sspx" else modname.split(".")[1]
    return PKG / f"{name}.pyi"


def _public_surface(tree):
    """Top-level public names of a stub: {name: ast node}."""
    names = {}
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            names[node.name] = node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names[node.target.id] = node
        elif isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    names[t.id] = node
        elif isinstance(node, ast.ImportFrom):
            for a in node.names:
                if a.asname is not None and a.asname == a.name:  # explicit re-export
                    names[a.asname] = node
    return {k: v for k, v in names.items() if not k.startswith("_") or k in ("__version__", "__all__")}


def _instance_attrs(cls):
    """Names assigned as self.<name> in the class's (and its bases') source."""
    found = set()
    for klass in cls.__mro__:
        if klass.__module__.split(".")[0] != "sspx":
            continue
        try:
            src = inspect.getsource(klass)
        except (OSError, TypeError):
            continue
        for node in ast.walk(ast.parse(inspect.cleandoc("\n" + src) if src[0] == " " else src)):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id == "self"):
                found.add(node.attr)
    return found


def test_stubs_shipped():
    for mod in STUBBED:
        assert _stub_path(mod).is_file(), mod
    assert (PKG / "py.typed").is_file()
    text = (pathlib.Path(__file__).parents[2] / "setup.py").read_text()
    assert '"py.typed", "*.pyi"' in text


@pytest.mark.parametrize("modname", STUBBED)
def test_stub_matches_runtime(modname):
    mod = importlib.import_module(modname)
    tree = ast.parse(_stub_path(modname).read_text())
    surface = _public_surface(tree)
    assert surface, modname
    missing = [n for n in surface if not hasattr(mod, n)]
    assert not missing, f"{modname}.pyi names that do not exist at runtime: {missing}"
    # every name the runtime exports is in the stub
    for name in getattr(mod, "__all__", []):
        assert name in surface, f"{modname}.__all__ has {name!r}, the stub does not"
    # classes: methods, properties and attributes
    for name, node in surface.items():
        if not isinstance(node, ast.ClassDef):
            continue
        cls = getattr(mod, name)
        assert inspect.isclass(cls), f"{modname}.{name} is not a class at runtime"
        attrs = None
        for item in node.body:
            if isinstance(item, ast.FunctionDef):
                assert hasattr(cls, item.name), f"{modname}.{name}.{item.name} missing at runtime"
                is_prop = any(isinstance(d, ast.Name) and d.id == "property" for d in item.decorator_list)
                rt = inspect.getattr_static(cls, item.name)
                assert isinstance(rt, property) == is_prop, f"{modname}.{name}.{item.name}: property?"
                if not is_prop and callable(rt) and item.name not in ("__init__",):
                    # parameter names agree (positional ones in order)
                    fn = getattr(cls, item.name)
                    try:
                        params = list(inspect.signature(fn).parameters)
                    except (TypeError, ValueError):
                        continue
                    stub_params = [a.arg for a in item.args.args + item.args.kwonlyargs]
                    if stub_params and stub_params[0] in ("self", "cls"):
                        stub_params = stub_params[1:]
                    if params and params[0] in ("self", "cls"):
                        params = params[1:]
                    assert [p for p in params if p not in ("args", "exc", "options")] == \
                        [p for p in stub_params if p not in ("exc",)], (modname, name, item.name)
            elif isinstance(item, (ast.AnnAssign, ast.Assign)):
                target = item.target if isinstance(item, ast.AnnAssign) else item.targets[0]
                if issubclass(cls, sspx.flags.enum.Enum):
                    member = cls.__members__.get(target.id)
                    assert member is not None, f"{name}.{target.id} missing"
                    if isinstance(item, ast.Assign):
                        assert int(member) == ast.literal_eval(item.value), f"{name}.{target.id}"
                    continue
                if hasattr(cls, target.id) or target.id in getattr(cls, "__dataclass_fields__", {}):
                    continue
                attrs = _instance_attrs(cls) if attrs is None else attrs
                assert target.id in attrs, f"{modname}.{name}.{target.id} is never set at runtime"
        if issubclass(cls, sspx.flags.enum.Enum):
            declared = {i.target.id if isinstance(i, ast.AnnAssign) else i.targets[0].id
                        for i in node.body if isinstance(i, (ast.AnnAssign, ast.Assign))}
            assert set(cls.__members__) <= declared, f"{name}: members missing from the stub"
    # functions: same parameter names
    for name, node in surface.items():
        if isinstance(node, ast.FunctionDef):
            fn = getattr(mod, name)
            stub_params = [a.arg for a in node.args.args + node.args.kwonlyargs]
            assert list(inspect.signature(fn).parameters) == stub_params, (modname, name)


def test_64bit_flags_keep_their_value():
    """sspi.h's 64-bit flags (*_MESSAGES, ISC_*_DEFERRED_CRED_VALIDATION,
    ISC_*_NO_POST_HANDSHAKE_AUTH) keep their bits above 31."""
    assert int(sspx.IscReq.MESSAGES) == _sspx.constant_table()["ISC_REQ_MESSAGES"] == 1 << 32
    assert int(sspx.AscRet.MESSAGES) == 1 << 32
    assert int(sspx.IscRet.NO_POST_HANDSHAKE_AUTH) == 1 << 34


def test_realm_fixture(sspx_realm):
    """The plugin's throwaway KDC: alice has a TGT, the keytab holds the service."""
    import subprocess

    env = sspx_realm.env("alice")
    out = subprocess.run(["heimtools", "klist"], env={**env, "PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and "krbtgt/TEST.LOCAL@TEST.LOCAL" in out.stdout, out.stderr
    assert "HTTP/localhost@TEST.LOCAL" in sspx_realm.keytab_list()
