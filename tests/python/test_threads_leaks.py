"""Threads, the GIL, misbehaving user lookups, and memory: many handshakes at
once on one credential without cross-talk, the GIL released around the C
calls, bad lookups failing cleanly, RSS flat over tens of thousands of
handshakes, objects really freed."""

import gc
import os
import platform
import subprocess
import sys
import threading
import time
import weakref

import pytest

import sspx
from sspx.errors import LogonDenied

DOMAIN = "TESTDOM"
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def hs(server_cred, client_cred, cflags=0):
    s = sspx.ServerContext(server_cred)
    c = sspx.ClientContext(client_cred, flags=cflags, target="HTTP/server")
    try:
        s.step(c.step(s.step(c.step())))
    except BaseException:
        s.close()
        c.close()
        raise
    return s, c


@pytest.fixture
def users_file(tmp_path):
    p = tmp_path / "users"
    p.write_text("".join(f"{DOMAIN}:user{i}:Pw-{i}!\n" for i in range(8)))
    return p


# ------------------------------------------------------------- threads

@pytest.mark.parametrize("store", ["dict", "file"])  # Python lookup callable / C users file
def test_threads_no_crosstalk(store, users_file):
    nthreads, per_thread = 8, 300
    users = {f"{DOMAIN}\\user{i}": f"Pw-{i}!" for i in range(nthreads)}
    server = (sspx.Credential.server("NTLM", users=users, netbios_domain=DOMAIN) if store == "dict"
              else sspx.Credential.server("NTLM", users=users_file, netbios_domain=DOMAIN))
    barrier = threading.Barrier(nthreads)
    errors, keys = [], [set() for _ in range(nthreads)]

    def worker(i):
        try:
            good = sspx.Credential.client("NTLM", user=f"{DOMAIN}\\user{i}", password=f"Pw-{i}!")
            bad = sspx.Credential.client("NTLM", user=f"{DOMAIN}\\user{i}", password="wrong")
            barrier.wait()
            for n in range(per_thread):
                if n % 10 == 9:  # failures interleaved: per-thread error details stay right
                    with pytest.raises(LogonDenied) as ei:
                        hs(server, bad)
                    assert "SSPX_ERR_BAD_PASSWORD" in ei.value.detail, ei.value.detail
                    assert ei.value.lookup_error == ""
                    continue
                s, c = hs(server, good, cflags=sspx.IscReq.CONFIDENTIALITY)
                assert s.client_name == f"{DOMAIN}\\user{i}", (i, s.client_name)
                assert s.session_key == c.session_key
                msg = b"thread %d message %d" % (i, n)
                assert s.unwrap(c.wrap(msg)) == msg
                keys[i].add(s.session_key)
                s.close()
                c.close()
            good.close()
            bad.close()
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            errors.append((i, e))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(nthreads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    server.close()
    assert not errors, errors[:3]
    assert all(len(k) == per_thread - per_thread // 10 for k in keys)
    assert len(set().union(*keys)) == sum(len(k) for k in keys)  # all session keys distinct


def test_gil_released_in_acquire(tmp_path):
    """A credential acquisition blocked in C (fopen of a FIFO as the users
    file, which waits for a writer) lets the main thread run Python and a
    full handshake meanwhile: the GIL is released around the C call. Not
    timing-based: a watchdog process unblocks the FIFO after 30 s if the main
    thread cannot run, and the order of events shows which one did."""
    fifo = tmp_path / "users.fifo"
    os.mkfifo(fifo)
    state = {"main_ran": False}
    watchdog = subprocess.Popen([sys.executable, "-c",
                                 "import os,sys,time; time.sleep(30); "
                                 "fd=os.open(sys.argv[1], os.O_WRONLY); os.close(fd)", str(fifo)])

    def acquire():
        state["tid"] = threading.get_native_id()
        state["entered"] = True
        try:
            sspx.Credential.server("NTLM", users=fifo)
        except sspx.SecurityError as e:  # a FIFO is not a regular file: refused once opened
            state["error"] = e
        state["main_ran_before_return"] = state["main_ran"]

    t = threading.Thread(target=acquire)
    try:
        t.start()
        # wait (sleeping: GIL free) until the thread sits in openat(2) in C
        openat = {"x86_64": "257", "aarch64": "56"}.get(platform.machine())
        deadline = time.monotonic() + (20 if openat else 0.5)
        while time.monotonic() < deadline and t.is_alive():
            if "tid" in state and openat:
                try:
                    with open(f"/proc/self/task/{state['tid']}/syscall") as f:
                        if f.read().split()[0] == openat:
                            break
                except (OSError, IndexError):
                    pass
            time.sleep(0.01)
        assert t.is_alive(), "the acquisition returned before the main thread could run"
        # the main thread runs Python and C while the other is blocked in C
        with sspx.Credential.server("NTLM", users={"bob": "pw"}) as s, \
                sspx.Credential.client("NTLM", user="bob", password="pw") as c:
            srv, cli = hs(s, c)
            assert srv.client_name.endswith("\\bob")
            srv.close()
            cli.close()
        state["main_ran"] = True
        fd = os.open(fifo, os.O_WRONLY)  # unblock the reader
        os.close(fd)
        t.join(30)
        assert not t.is_alive()
        assert state["main_ran_before_return"] is True
        assert isinstance(state.get("error"), sspx.SecurityError)
    finally:
        watchdog.kill()
        watchdog.wait()


def _spin_while(work):
    """Run ``work()`` in this thread while a second thread counts in pure
    Python, under a switch interval of 100 s: the other thread can then only
    run when this one releases the GIL by itself (in a C call that drops
    it), never by preemption. Returns how far the counter moved meanwhile."""
    counter = [0]
    stop = threading.Event()
    started = threading.Event()

    def spinner():
        started.set()
        while not stop.is_set():
            counter[0] += 1
            time.sleep(0)  # hands the GIL back at once

    old = sys.getswitchinterval()
    t = threading.Thread(target=spinner, daemon=True)
    t.start()
    started.wait()
    sys.setswitchinterval(100.0)
    try:
        before = counter[0]
        work()
        moved = counter[0] - before
    finally:
        sys.setswitchinterval(old)
        stop.set()
        t.join(10)
    return moved


def test_gil_released_during_handshakes(users_file):
    """Another Python thread runs *during* a loop of handshakes in this
    thread: only possible when the extension releases the GIL around its C
    calls. The control: a pure-Python loop of the same length lets it run
    not at all."""
    with sspx.Credential.server("NTLM", users=users_file, netbios_domain=DOMAIN) as s, \
            sspx.Credential.client("NTLM", user="user1", password="Pw-1!") as c:

        def handshakes():
            for _ in range(3000):
                srv, cli = hs(s, c)
                srv.close()
                cli.close()

        def python_only():
            deadline = time.perf_counter() + 0.05
            x = 0
            while time.perf_counter() < deadline:
                x += sum(range(100))

        assert _spin_while(python_only) == 0  # the control: no preemption at 100 s
        assert _spin_while(handshakes) > 0


def test_blocked_lookup_does_not_block_other_credentials():
    """While one thread sits inside a Python user lookup (called by C during
    its AcceptSecurityContext), handshakes on another credential complete in
    another thread: no library-wide lock is held across the callback and the
    callback does not deadlock against the GIL."""
    entered, release = threading.Event(), threading.Event()

    def slow_lookup(user, domain):
        entered.set()
        assert release.wait(30), "never released"
        return "Passw0rd!" if user == "bob" else None

    result = {}
    with sspx.Credential.server("NTLM", lookup=slow_lookup) as blocked, \
            sspx.Credential.server("NTLM", users={"alice": "Wonderland1"}) as free, \
            sspx.Credential.client("NTLM", user="bob", password="Passw0rd!") as bob, \
            sspx.Credential.client("NTLM", user="alice", password="Wonderland1") as alice:

        def blocked_handshake():
            try:
                srv, cli = hs(blocked, bob)
                result["name"] = srv.client_name
            except BaseException as e:  # noqa: BLE001
                result["error"] = e

        t = threading.Thread(target=blocked_handshake)
        t.start()
        assert entered.wait(30)
        others = []
        for _ in range(50):  # on another credential: they complete meanwhile
            srv, cli = hs(free, alice)
            others.append(srv.client_name)
        # the same credential is not locked either (the legs without a lookup)
        srv = sspx.ServerContext(blocked)
        cli = sspx.ClientContext(alice)
        assert srv.step(cli.step())[8] == 2  # a CHALLENGE
        srv.close()
        cli.close()
        assert t.is_alive()  # still inside the lookup
        release.set()
        t.join(30)
    assert others == [others[0]] * 50 and others[0].endswith("\\alice")
    assert result.get("name", result.get("error")).endswith("\\bob")


# ------------------------------------------------------- bad lookups

class Garbage:
    """An object a lookup returns that is none of the allowed kinds."""


LIVE_GARBAGE = weakref.WeakSet()


def _garbage():
    g = Garbage()
    LIVE_GARBAGE.add(g)
    return g


def _raising(user, domain):
    raise RuntimeError("directory exploded")


BAD_LOOKUPS = {
    "raises": (_raising,
               ["the lookup raised", "RuntimeError", "directory exploded"]),
    "int": (lambda u, d: 12345, ["returned int"]),
    "list": (lambda u, d: ["Passw0rd!"], ["returned list"]),
    "bytes15": (lambda u, d: b"\x11" * 15, ["returned bytes"]),
    "bytearray16": (lambda u, d: bytearray(16), ["returned bytearray"]),
    "surrogate_str": (lambda u, d: "\ud800", ["unencodable password"]),
    "object": (lambda u, d: _garbage(), ["returned Garbage"]),
}


@pytest.mark.parametrize("kind", sorted(BAD_LOOKUPS))
def test_bad_lookup_fails_cleanly(kind):
    fn, words = BAD_LOOKUPS[kind]
    refs0 = sys.getrefcount(fn)
    with sspx.Credential.server("NTLM", lookup=fn) as s, \
            sspx.Credential.client("NTLM", user="bob", password="Passw0rd!") as c:
        for i in range(300):
            with pytest.raises(LogonDenied) as ei:
                hs(s, c)
            e = ei.value
            assert e.code == "SSPX_ERR_LOOKUP_FAILED" and "LOOKUP_FAILED" in e.detail
            for w in words:
                assert w in e.lookup_error, (kind, e.lookup_error)
            if i == 0:
                assert "lookup:" in str(e)
        # a good handshake on another credential in between is not blamed on the lookup
        with sspx.Credential.server("NTLM", users={"bob": "Passw0rd!"}) as good:
            srv, _ = hs(good, c)
            assert srv.client_name.endswith("\\bob")
            with sspx.Credential.client("NTLM", user="bob", password="no") as wrong:
                with pytest.raises(LogonDenied) as ei:
                    hs(good, wrong)
                assert ei.value.lookup_error == ""
    del s, ei, e
    gc.collect()
    assert sys.getrefcount(fn) == refs0  # the credential gave its reference back
    assert len(LIVE_GARBAGE) == 0  # what the lookup returned was released


def test_slow_lookup_succeeds():
    calls = []

    def slow(user, domain):
        calls.append(threading.get_ident())
        time.sleep(0.2)
        return "Passw0rd!" if user == "bob" else None

    with sspx.Credential.server("NTLM", lookup=slow, netbios_domain=DOMAIN) as s, \
            sspx.Credential.client("NTLM", user="bob", password="Passw0rd!") as c:
        results = []

        def one():
            srv, _ = hs(s, c)
            results.append(srv.client_name)

        threads = [threading.Thread(target=one) for _ in range(4)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        elapsed = time.monotonic() - t0
    assert results == [f"{DOMAIN}\\bob"] * 4
    assert len(set(calls)) == 4  # the lookup ran on each handshake's own thread
    assert elapsed < 0.2 * 4 * 0.9  # they overlapped (serialised: >= 0.8 s)


def test_lookup_returning_none_and_empty():
    with sspx.Credential.server("NTLM", lookup=lambda u, d: None if u == "a" else "") as s:
        for user in ("a", "b"):
            with sspx.Credential.client("NTLM", user=user, password="x") as c:
                with pytest.raises(LogonDenied) as ei:
                    hs(s, c)
                assert "UNKNOWN_USER" in ei.value.detail and ei.value.lookup_error == ""


# --------------------------------------------------------------- memory

def _loop(n, server, client, wrong=None, seal_every=10):
    for i in range(n):
        if wrong is not None:
            try:
                hs(server, wrong)
            except LogonDenied:
                pass
            else:
                raise AssertionError("the wrong password was accepted")
            continue
        s, c = hs(server, client, cflags=sspx.IscReq.CONFIDENTIALITY)
        if i % seal_every == 0:
            s.unwrap(c.wrap(b"x" * 64))
            c.verify(b"m", s.sign(b"m"))
        s.close()
        c.close()


def _growth(run, warmup, n):
    run(warmup)
    gc.collect()
    r0 = rss()
    run(n)
    gc.collect()
    return rss() - r0


LIMIT = 2 << 20  # 2 MiB


@pytest.mark.parametrize("store", ["dict", "file"])
def test_rss_flat_successful_handshakes(store, users_file):
    server = (sspx.Credential.server("NTLM", users={"user3": "Pw-3!"}, netbios_domain=DOMAIN)
              if store == "dict" else
              sspx.Credential.server("NTLM", users=users_file, netbios_domain=DOMAIN))
    client = sspx.Credential.client("NTLM", user=f"{DOMAIN}\\user3", password="Pw-3!")
    grew = _growth(lambda n: _loop(n, server, client), 3000, 25000)
    server.close()
    client.close()
    assert grew < LIMIT, f"RSS grew by {grew / 1024:.0f} KiB over 25000 handshakes"


def test_rss_flat_failures():
    def boom(user, domain):
        raise RuntimeError("no directory")

    with sspx.Credential.server("NTLM", users={"bob": "Passw0rd!"}) as s, \
            sspx.Credential.server("NTLM", lookup=boom) as raising, \
            sspx.Credential.client("NTLM", user="bob", password="wrong") as wrong, \
            sspx.Credential.client("NTLM", user="bob", password="Passw0rd!") as right:
        grew = _growth(lambda n: (_loop(n, s, None, wrong=wrong), _loop(n, raising, None, wrong=right)),
                       1000, 8000)
    assert grew < LIMIT, f"RSS grew by {grew / 1024:.0f} KiB over 16000 failed handshakes"


def test_rss_flat_credentials():
    """Acquiring and freeing credentials (with a Python lookup) in a loop."""
    lookup = {"bob": "pw"}.get

    def run(n):
        for _ in range(n):
            with sspx.Credential.server("NTLM", lookup=lambda u, d: lookup(u), netbios_domain="X"):
                pass
            with sspx.Credential.client("NTLM", user="bob", password="pw"):
                pass

    grew = _growth(run, 1000, 10000)
    assert grew < LIMIT, f"RSS grew by {grew / 1024:.0f} KiB over 10000 credential pairs"


# ------------------------------------------------------------ lifetimes

class Lookup:
    def __call__(self, user, domain):
        return "pw" if user == "bob" else None


def test_credential_freed_after_its_contexts():
    lookup = Lookup()
    base = sys.getrefcount(lookup)
    cred = sspx.Credential.server("NTLM", lookup=lookup)
    assert sys.getrefcount(lookup) == base + 2  # the Python object and the C credential
    client = sspx.Credential.client("NTLM", user="bob", password="pw")
    s, c = hs(cred, client)
    wref = weakref.ref(cred)
    cred.close()  # the C credential lives on in the open server context
    assert sys.getrefcount(lookup) == base + 2
    assert s.sign(b"still usable") and s.client_name.endswith("\\bob")
    s.close()  # the last C reference: the credential is freed, its lookup released
    assert sys.getrefcount(lookup) == base + 1
    c.close()
    del cred, s
    gc.collect()
    assert wref() is None
    assert sys.getrefcount(lookup) == base

    # never closed explicitly: dropping every Python reference frees it all
    cred = sspx.Credential.server("NTLM", lookup=lookup)
    s, c = hs(cred, client)
    wref = weakref.ref(cred)
    del cred, s, c
    gc.collect()
    assert wref() is None and sys.getrefcount(lookup) == base
    client.close()


def test_close_during_a_step_from_another_thread():
    """close() while a step is inside the library (a slow lookup): the step
    finishes on a live context, the C context is freed when it returns, and
    the Python object is closed from then on."""
    import time

    entered = threading.Event()

    def lookup(user, domain):
        entered.set()
        time.sleep(0.2)
        return "Passw0rd!" if user == "bob" else None

    with sspx.Credential.server("NTLM", lookup=lookup) as s_cred, \
            sspx.Credential.client("NTLM", user="bob", domain="TESTDOM",
                                   password="Passw0rd!") as c_cred:
        sc = sspx.ServerContext(s_cred)
        cc = sspx.ClientContext(c_cred, target="HTTP/server")
        t3 = cc.step(sc.step(cc.step()))
        closer = threading.Thread(target=lambda: (entered.wait(5), sc.close()))
        closer.start()
        assert sc.step(t3) == b""  # the last leg completed
        closer.join(5)
        assert "closed" in repr(sc) and not sc.complete
        with pytest.raises(sspx.errors.InvalidHandle):
            sc.step(b"NTLMSSP\0")
        cc.close()
