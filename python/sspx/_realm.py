#!/usr/bin/python3
"""A throwaway Heimdal Kerberos realm on 127.0.0.1, for tests.

Standard library only; runs under /usr/bin/python3. Needs Debian's
``heimdal-kdc`` and ``heimdal-clients`` (``apt-get install -y heimdal-kdc
heimdal-clients``). MIT clients (curl, python3-gssapi) read the same
krb5.conf, ccache and keytab.

    from realm import Realm
    with Realm() as r:                       # temp dir, free port, KDC running
        ccache = r.kinit("alice")            # FILE ccache path
        subprocess.run(["curl", "--negotiate", "-u", ":", url], env=r.env("alice"))

What ``start()`` does, in the realm directory ``r.dir``:

- writes ``krb5.conf`` (library and KDC config in one file; DNS and reverse
  DNS off, TCP only, KDC at 127.0.0.1:PORT, ``localhost`` in the realm);
- ``kstash`` a random master key into ``m-key``;
- ``kadmin.heimdal -l --config-file=krb5.conf init`` the database (ALWAYS with
  ``--config-file``: without it ``kadmin -l`` edits the system database in
  /var/lib/heimdal-kdc even when KRB5_CONFIG points elsewhere);
- adds the users (password keys) and services (random keys), exports every
  service key into ``service.keytab``;
- starts ``/usr/lib/heimdal-servers/kdc`` on 127.0.0.1:PORT only, in its own
  process group, and waits (bounded) until it answers on TCP.

``stop()`` kills the KDC's process group and removes the directory (only what
it created, if the directory existed before) unless ``keep=True``.

CLI::

    realm.py start [--dir D] [--port N] [--user NAME:PASSWORD]... [--service SPN]...
                   [--kinit USER] [--env-file F] [--keep]
        prints ``export VAR=value`` lines, then ``# realm ready``, and runs until
        SIGTERM/SIGINT (then stops the realm);
    realm.py check
        a self-test: start, kinit, klist, wrong password, keytab, stop.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import Dict, Iterable, List, Mapping, Optional

__all__ = ["Realm", "RealmError", "DEFAULT_USERS", "DEFAULT_SERVICES", "heimdal_available"]

DEFAULT_REALM = "TEST.LOCAL"
DEFAULT_USERS = {"alice": "Alice#Pw1", "bob": "Bob#Pw22"}
DEFAULT_SERVICES = ["HTTP/localhost"]

KDC = "/usr/lib/heimdal-servers/kdc"
KINIT = "kinit.heimdal"
KADMIN = "kadmin.heimdal"
KSTASH = "kstash"
HEIMTOOLS = "heimtools"
KTUTIL = "ktutil"  # Debian's alternative; heimdal-clients provides it

START_TIMEOUT = 10.0  # seconds for the KDC to answer
CMD_TIMEOUT = 30.0    # seconds for one kadmin/kinit/kstash run


class RealmError(RuntimeError):
    """A step of setting up or using the realm failed."""


def _which(name: str) -> Optional[str]:
    if os.path.isabs(name):
        return name if os.access(name, os.X_OK) else None
    return shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")


def heimdal_available() -> Optional[str]:
    """None if every Heimdal tool the fixture needs is installed, else a reason."""
    missing = [t for t in (KDC, KINIT, KADMIN, KSTASH, HEIMTOOLS, KTUTIL) if not _which(t)]
    if missing:
        return ("missing Heimdal tools: %s (apt-get install -y heimdal-kdc heimdal-clients)"
                % ", ".join(missing))
    return None


def _free_port(host: str = "127.0.0.1") -> int:
    """A port free on both TCP and UDP at ``host`` right now (the KDC binds both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
            t.bind((host, 0))
            port = t.getsockname()[1]
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                    u.bind((host, port))
            except OSError:
                continue
            return port
    raise RealmError("no free port found on %s" % host)


class Realm:
    """A Heimdal KDC for one realm, on 127.0.0.1, in a directory of its own.

    dir:      the realm directory; None -> a new temp dir (removed by stop()).
              A given directory is created if missing; stop() removes it if it
              created it, else only the entries that were not there before.
    realm:    the realm name (upper case by convention).
    users:    {name: password}; names without '@' get '@REALM'.
    services: service principals ("HTTP/localhost") with random keys, all
              exported to ``keytab`` (DIR/service.keytab).
    max_ticket_life, max_renewable_life: the realm's limits (kadmin ``init``),
              Heimdal time strings: "1d", "10 minutes", "30s", ...
    port:     0 -> a free port (TCP+UDP) at start().
    clockskew: None -> library default (300 s); else written to [libdefaults]
              ``clockskew`` (seconds). An acceptor that checks a ticket's end
              time allows this much skew, so an expiry test with a short wait
              wants it small (e.g. 1). NOTE: MIT's GSS acceptor (python3-gssapi)
              was seen accepting a token whose ticket had expired even with
              clockskew=1; see README.
    keep:     keep the directory after stop().
    """

    def __init__(self, dir: Optional[str] = None, realm: str = DEFAULT_REALM,
                 users: Optional[Mapping[str, str]] = None,
                 services: Optional[Iterable[str]] = None,
                 max_ticket_life: str = "1d", max_renewable_life: str = "1w",
                 port: int = 0, host: str = "127.0.0.1", clockskew: Optional[int] = None,
                 keep: bool = False, start_timeout: float = START_TIMEOUT):
        self.realm = realm
        self.users: Dict[str, str] = dict(DEFAULT_USERS if users is None else users)
        self.services: List[str] = list(DEFAULT_SERVICES if services is None else services)
        self.max_ticket_life = max_ticket_life
        self.max_renewable_life = max_renewable_life
        self.port = int(port)
        self.host = host
        self.clockskew = clockskew
        self.keep = keep
        self.start_timeout = start_timeout
        self._dir_arg = dir
        self.dir: Optional[str] = None
        self._created_dir = False
        self._preexisting: set = set()
        self._kdc: Optional[subprocess.Popen] = None
        self._last_ccache: Optional[str] = None

    # ------------------------------------------------------------ paths

    def _path(self, name: str) -> str:
        if self.dir is None:
            raise RealmError("realm not started")
        return os.path.join(self.dir, name)

    @property
    def krb5_conf(self) -> str:
        return self._path("krb5.conf")

    @property
    def keytab(self) -> str:
        return self._path("service.keytab")

    @property
    def kdc_log(self) -> str:
        return self._path("kdc.log")

    @property
    def kdc_pid(self) -> Optional[int]:
        return self._kdc.pid if self._kdc is not None else None

    @property
    def running(self) -> bool:
        return self._kdc is not None and self._kdc.poll() is None

    def principal(self, name: str) -> str:
        """``name`` with ``@REALM`` added when it has no realm."""
        return name if "@" in name else "%s@%s" % (name, self.realm)

    def ccache_path(self, user: str) -> str:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in user.split("@")[0])
        return self._path("ccache.%s" % safe)

    # ------------------------------------------------------------ environment

    def env(self, user: Optional[str] = None, ccache: Optional[str] = None,
            base: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
        """The environment for a subprocess (a copy of ``base``, default
        os.environ, plus the realm's variables):

        KRB5_CONFIG    DIR/krb5.conf
        KRB5CCNAME     FILE:<ccache>: ``ccache`` if given, else ``user``'s
                       ccache (see kinit), else the last kinit's, else
                       DIR/ccache (empty)
        KRB5_KTNAME    FILE:DIR/service.keytab (for acceptors)
        KRB5RCACHEDIR  DIR (MIT's replay cache would otherwise go to /var/tmp)
        """
        env = dict(os.environ if base is None else base)
        env.update(self.vars(user=user, ccache=ccache))
        return env

    def vars(self, user: Optional[str] = None, ccache: Optional[str] = None) -> Dict[str, str]:
        """Only the realm's variables (see env())."""
        if ccache is None:
            if user is not None:
                ccache = self.ccache_path(user)
            else:
                ccache = self._last_ccache or self._path("ccache")
        return {
            "KRB5_CONFIG": self.krb5_conf,
            "KRB5CCNAME": ccache if ":" in ccache else "FILE:" + ccache,
            "KRB5_KTNAME": "FILE:" + self.keytab,
            "KRB5RCACHEDIR": self.dir or "",
        }

    def exports(self, user: Optional[str] = None) -> str:
        """``export VAR=value`` lines for a shell."""
        return "".join("export %s=%s\n" % (k, shlex.quote(v))
                       for k, v in self.vars(user=user).items())

    # ------------------------------------------------------------ config

    def _write(self, name: str, text: str, mode: int = 0o644) -> str:
        path = self._path(name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        return path

    def _krb5_conf_text(self) -> str:
        d = self.dir
        skew = "" if self.clockskew is None else "    clockskew = %d\n" % int(self.clockskew)
        return (
            "[libdefaults]\n"
            "    default_realm = {realm}\n"
            "    dns_lookup_kdc = false\n"
            "    dns_lookup_realm = false\n"
            "    dns_canonicalize_hostname = false\n"
            "    rdns = false\n"
            "    forwardable = true\n"
            "    use_fallback = false\n"
            "    udp_preference_limit = 1\n"
            "    ignore_acceptor_hostname = false\n"
            "{skew}"
            "\n[realms]\n"
            "    {realm} = {{\n"
            "        kdc = {host}:{port}\n"
            "    }}\n"
            "\n[domain_realm]\n"
            "    localhost = {realm}\n"
            "    .localhost = {realm}\n"
            "\n[kdc]\n"
            "    database = {{\n"
            "        dbname = {d}/heimdal\n"
            "        realm = {realm}\n"
            "        mkey_file = {d}/m-key\n"
            "        acl_file = {d}/kadmind.acl\n"
            "    }}\n"
            "    addresses = {host}\n"
            "    ports = {port}\n"
            "    detach = false\n"
            "\n[logging]\n"
            "    kdc = FILE:{d}/kdc.log\n"
            "    kadmin = FILE:{d}/kadmin.log\n"
        ).format(realm=self.realm, host=self.host, port=self.port, d=d, skew=skew)

    # ------------------------------------------------------------ commands

    def _run(self, argv: List[str], input: Optional[str] = None, check: bool = True,
             env: Optional[Mapping[str, str]] = None) -> subprocess.CompletedProcess:
        e = dict(self.env() if env is None else env)
        try:
            p = subprocess.run(argv, input=input, stdin=None if input is not None
                               else subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, universal_newlines=True, env=e,
                               timeout=CMD_TIMEOUT)
        except subprocess.TimeoutExpired as exc:
            raise RealmError("%s timed out after %ss" % (argv[0], CMD_TIMEOUT)) from exc
        if check and p.returncode != 0:
            raise RealmError("%s failed (exit %d): %s" % (
                " ".join(shlex.quote(a) for a in argv), p.returncode,
                (p.stderr or p.stdout).strip()))
        return p

    def kadmin(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run ``kadmin.heimdal -l --config-file=DIR/krb5.conf ARGS`` (local
        database access; --config-file is what keeps it off the system DB)."""
        return self._run([KADMIN, "-l", "--config-file=" + self.krb5_conf] + list(args),
                         check=check)

    def add_user(self, name: str, password: str, max_ticket_life: Optional[str] = None,
                 max_renewable_life: Optional[str] = None) -> str:
        """Add a user principal with a password; works while the KDC runs."""
        args = ["add", "--password=" + password, "--use-defaults"]
        if max_ticket_life:
            args.append("--max-ticket-life=" + max_ticket_life)
        if max_renewable_life:
            args.append("--max-renewable-life=" + max_renewable_life)
        princ = self.principal(name)
        self.kadmin(*args, princ)
        self.users[name] = password
        return princ

    def add_service(self, spn: str, keytab: Optional[str] = None) -> str:
        """Add a service principal with a random key and export it to
        ``keytab`` (default: the realm's service keytab)."""
        princ = self.principal(spn)
        self.kadmin("add", "--random-key", "--use-defaults", princ)
        self.kadmin("ext_keytab", "-k", keytab or self.keytab, princ)
        if spn not in self.services:
            self.services.append(spn)
        return princ

    def set_password(self, name: str, password: str) -> None:
        self.kadmin("passwd", "--password=" + password, self.principal(name))
        self.users[name] = password

    def kinit(self, user: str, password: Optional[str] = None, ccache: Optional[str] = None,
              lifetime: Optional[str] = None, renewable_life: Optional[str] = None,
              start_time: Optional[str] = None, extra: Iterable[str] = ()) -> str:
        """Get a TGT for ``user`` with Heimdal's kinit into a FILE ccache
        (default DIR/ccache.<user>) and return the ccache path. The password
        goes through stdin (``--password-file=STDIN``), never a file.

        lifetime: Heimdal time string ("30s", "2 minutes"; "1s" works). The
        KDC grants min(requested, principal max, realm max). A short lifetime
        then a wait gives an expired ticket: ``heimtools klist -t`` exits 1
        and MIT's initiator fails with "Ticket expired".
        start_time: a postdated ticket (``--start-time``; not yet valid).
        Raises RealmError when kinit fails (e.g. a wrong password)."""
        if password is None:
            password = self.users[user]
        path = ccache or self.ccache_path(user)
        argv = [KINIT, "--password-file=STDIN", "--cache=FILE:" + path, "--no-afslog"]
        if lifetime:
            argv.append("--lifetime=" + lifetime)
        if renewable_life:
            argv += ["--renewable", "--renewable-life=" + renewable_life]
        if start_time:
            argv.append("--start-time=" + start_time)
        argv += list(extra)
        argv.append(self.principal(user))
        self._run(argv, input=password + "\n", env=self.env(ccache=path))
        self._last_ccache = path
        return path

    def klist(self, ccache: Optional[str] = None, user: Optional[str] = None) -> str:
        """``heimtools klist`` of a ccache; its output (raises if it fails)."""
        return self._run([HEIMTOOLS, "klist"], env=self.env(user=user, ccache=ccache)).stdout

    def keytab_list(self, keytab: Optional[str] = None) -> str:
        return self._run([KTUTIL, "--keytab=" + (keytab or self.keytab), "list"]).stdout

    # ------------------------------------------------------------ life cycle

    def start(self) -> "Realm":
        if self._kdc is not None:
            raise RealmError("realm already started")
        why = heimdal_available()
        if why:
            raise RealmError(why)
        if self._dir_arg is None:
            self.dir = tempfile.mkdtemp(prefix="sspx-realm-")
            self._created_dir = True
        else:
            self.dir = os.path.abspath(self._dir_arg)
            if os.path.isdir(self.dir):
                self._preexisting = set(os.listdir(self.dir))
                self._created_dir = False
            else:
                os.makedirs(self.dir)
                self._created_dir = True
        try:
            self._setup()
        except BaseException:
            self.stop(force_cleanup=True)
            raise
        return self

    def _setup(self) -> None:
        fixed_port = self.port != 0
        attempts = 1 if fixed_port else 3
        if not fixed_port:
            self.port = _free_port(self.host)
        self._write("krb5.conf", self._krb5_conf_text())
        self._write("kadmind.acl", "")
        self._run([KSTASH, "--random-key", "--key-file=" + self._path("m-key")])
        self.kadmin("init", "--realm-max-ticket-life=" + self.max_ticket_life,
                    "--realm-max-renewable-life=" + self.max_renewable_life, self.realm)
        for name, pw in list(self.users.items()):
            self.kadmin("add", "--password=" + pw, "--use-defaults", self.principal(name))
        for spn in self.services:
            self.kadmin("add", "--random-key", "--use-defaults", self.principal(spn))
        if self.services:
            self.kadmin("ext_keytab", "-k", self.keytab,
                        *[self.principal(s) for s in self.services])
        for attempt in range(attempts):
            if attempt:  # the port was taken between choosing and binding
                self.port = _free_port(self.host)
                self._write("krb5.conf", self._krb5_conf_text())
            if self._start_kdc():
                return
        raise RealmError("KDC did not start on %s:%d; log:\n%s"
                         % (self.host, self.port, self._read_log()))

    def _read_log(self) -> str:
        try:
            with open(self.kdc_log) as f:
                return f.read()[-4000:]
        except OSError:
            return "(no kdc.log)"

    def _start_kdc(self) -> bool:
        out = open(self._path("kdc.out"), "ab")
        try:
            self._kdc = subprocess.Popen(
                [KDC, "--config-file=" + self.krb5_conf, "--addresses=" + self.host,
                 "--ports=%d" % self.port],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                env=self.env(), start_new_session=True, cwd=self.dir)
        finally:
            out.close()
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._kdc.poll() is not None:
                self._kdc = None
                return False
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    pass
            except OSError:
                time.sleep(0.05)
                continue
            # bound on TCP; a failed UDP bind is logged, and the KDC goes on
            if "Address already in use" in self._read_log():
                self._kill_kdc()
                return False
            return True
        self._kill_kdc()
        return False

    def _kill_kdc(self, timeout: float = 5.0) -> None:
        p, self._kdc = self._kdc, None
        if p is None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(p.pid, sig)  # its own session: pgid == pid
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout=timeout)
                break
            except subprocess.TimeoutExpired:
                continue
        if p.poll() is None:
            p.wait()
        # anything left in the group (there should be nothing) goes too
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def stop(self, force_cleanup: bool = False) -> None:
        """Kill the KDC (its process group); remove the directory unless keep."""
        self._kill_kdc()
        if self.dir is None or (self.keep and not force_cleanup):
            return
        if self._created_dir:
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            for name in set(os.listdir(self.dir)) - self._preexisting:
                p = os.path.join(self.dir, name)
                if os.path.isdir(p) and not os.path.islink(p):
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    try:
                        os.unlink(p)
                    except OSError:
                        pass

    def __enter__(self) -> "Realm":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return "<Realm %s %s:%s dir=%s %s>" % (self.realm, self.host, self.port, self.dir,
                                             "running" if self.running else "stopped")


# ---------------------------------------------------------------- CLI


def _cmd_start(args) -> int:
    users = dict(DEFAULT_USERS)
    if args.user:
        users = {}
        for spec in args.user:
            name, sep, pw = spec.partition(":")
            if not sep:
                print("--user wants NAME:PASSWORD, not %r" % spec, file=sys.stderr)
                return 2
            users[name] = pw
    realm = Realm(dir=args.dir, realm=args.realm, users=users,
                  services=args.service or None, port=args.port, keep=args.keep,
                  max_ticket_life=args.max_ticket_life,
                  max_renewable_life=args.max_renewable_life)
    stop = {"sig": None}

    def on_signal(signum, frame):
        stop["sig"] = signum

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        realm.start()
        if args.kinit:
            realm.kinit(args.kinit)
        text = realm.exports()
        text += "# realm %s kdc %s:%d pid %d dir %s\n" % (
            realm.realm, realm.host, realm.port, realm.kdc_pid, realm.dir)
        if args.env_file:
            tmp = args.env_file + ".tmp"
            with open(tmp, "w") as f:
                f.write(text)
            os.replace(tmp, args.env_file)  # appears whole
        sys.stdout.write(text + "# realm ready\n")
        sys.stdout.flush()
        while stop["sig"] is None:
            if not realm.running:
                print("# KDC exited; log:\n" + realm._read_log(), file=sys.stderr)
                return 1
            time.sleep(0.2)
        return 0
    except RealmError as exc:
        print("realm: %s" % exc, file=sys.stderr)
        return 1
    finally:
        realm.stop()
        if args.env_file and not args.keep:
            try:
                os.unlink(args.env_file)
            except OSError:
                pass


def self_check(verbose: bool = True) -> int:
    """Start a realm, kinit, klist, wrong password, keytab, stop. Returns the
    number of failed checks."""
    failed = 0
    passed = 0

    def check(cond, what, detail=""):
        nonlocal failed, passed
        if cond:
            passed += 1
        else:
            failed += 1
        if verbose:
            print("  %s  %s%s" % ("ok  " if cond else "FAIL", what,
                                  "" if cond or not detail else ": " + detail), flush=True)
        return cond

    realm = Realm()
    try:
        realm.start()
        check(realm.running, "KDC running on 127.0.0.1:%d" % realm.port)
        cc = realm.kinit("alice")
        out = realm.klist(ccache=cc)
        check("krbtgt/%s@%s" % (realm.realm, realm.realm) in out, "kinit alice; klist shows TGT", out)
        try:
            realm.kinit("alice", password="wrong")
            check(False, "wrong password refused")
        except RealmError:
            check(True, "wrong password refused")
        kt = realm.keytab_list()
        check("HTTP/localhost@" + realm.realm in kt, "keytab lists HTTP/localhost", kt)
    except RealmError as exc:
        check(False, "realm", str(exc))
    finally:
        pid, d = realm.kdc_pid, realm.dir
        realm.stop()
        gone = True
        if pid is not None:
            try:
                os.kill(pid, 0)
                gone = False
            except ProcessLookupError:
                pass
        check(gone and (d is None or not os.path.exists(d)), "stopped: no KDC, no files")
    print("%d passed, %d failed" % (passed, failed))
    return failed


def main(argv: Optional[List[str]] = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="A throwaway Heimdal Kerberos realm on 127.0.0.1")
    sub = ap.add_subparsers(dest="cmd")
    s = sub.add_parser("start", help="start a realm, print env exports, run until SIGTERM/SIGINT")
    s.add_argument("--dir", help="realm directory (default: a temp dir)")
    s.add_argument("--port", type=int, default=0, help="KDC port (default: a free one)")
    s.add_argument("--realm", default=DEFAULT_REALM)
    s.add_argument("--user", action="append", metavar="NAME:PASSWORD",
                   help="a user (repeatable; replaces the defaults alice, bob)")
    s.add_argument("--service", action="append", metavar="SPN",
                   help="a service principal (repeatable; default HTTP/localhost)")
    s.add_argument("--kinit", metavar="USER", help="kinit this user; KRB5CCNAME is its ccache")
    s.add_argument("--env-file", help="also write the exports to this file (removed at stop)")
    s.add_argument("--max-ticket-life", default="1d")
    s.add_argument("--max-renewable-life", default="1w")
    s.add_argument("--keep", action="store_true", help="keep the directory after stop")
    sub.add_parser("check", help="self-test")
    args = ap.parse_args(argv)
    if args.cmd == "start":
        return _cmd_start(args)
    if args.cmd == "check":
        return 1 if self_check() else 0
    ap.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
