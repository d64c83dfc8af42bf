#!/usr/bin/python3
"""Regenerate the Kerberos / Negotiate seed corpora and their fixtures.

  tests/fuzz/make_krb_corpus.py [--build build-fuzz] [--out tests/fuzz/corpus]
                                [--fixtures tests/fuzz/krb]

Needs the fuzz build (cmake --build BUILD --target sspx_fuzz), Heimdal's KDC
and clients (tests/realm), python3-gssapi (MIT) and, for the Samba seeds,
ntlm_auth (winbind).

1. Starts a throwaway Heimdal realm (tests/realm/realm.py: TEST.LOCAL on
   127.0.0.1, users alice and bob, service HTTP/localhost) whose tickets live
   as long as Heimdal allows: the realm's, krbtgt's, alice's and the
   service's max ticket life are set to end before 2038 (Heimdal 7.8 turns a
   later end time into an already expired ticket), then kinit alice.
2. Writes the fixtures (tests/fuzz/krb/): the realm's service keytab (random
   keys of a test-only realm), krb5.conf, and seed_time (now + 60 s: the
   targets pin Heimdal's clock there; every authenticator below is made
   within the 300 s skew of it).
3. Makes tokens with real peers:
   - our client (gen_krb_corpus: InitializeSecurityContextA, Heimdal) on a
     "Kerberos" credential to HTTP/localhost, with and without
     ISC_REQ_MUTUAL_AUTH, with channel bindings, with delegation; and on a
     "Negotiate" credential (Kerberos in SPNEGO; NTLM in SPNEGO; raw NTLM);
   - MIT's GSSAPI (python3-gssapi, in a child process with the realm's
     environment): raw krb5 (mutual or not, channel bindings) and SPNEGO;
   - Samba's ntlm_auth --helper-protocol=gss-spnego-client (NTLM in SPNEGO).
   Multi-leg handshakes run against fuzz_nego_accept itself (SSPX_FUZZ_DUMP=1
   prints the server's token per leg): the target's server is deterministic,
   so the recorded legs replay exactly.
4. Writes the seeds (the three targets' corpus directories are emptied
   first: new keys make the old inputs, fuzzer finds included, stale) and
   checks that each seed gets as far as expected in its target. Inputs of
   open findings (a leak on Heimdal's clock-skew path) go to
   tests/fuzz/crashes/ instead, which CI does not replay.

Everything but the Samba/MIT/our-client randomness is reproducible; the
keytab, the tokens and seed_time change on every run.
"""
import argparse
import base64
import datetime
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "realm"))
from realm import Realm  # noqa: E402

KRB5_CONF = """\
# The krb5.conf of the Kerberos / Negotiate fuzz targets (KRB5_CONFIG, set by
# fuzz_krb_common.h): the acceptor needs no KDC, only the keytab next to this
# file. Written by make_krb_corpus.py.
[libdefaults]
    default_realm = TEST.LOCAL
    dns_lookup_kdc = false
    dns_lookup_realm = false
    dns_canonicalize_hostname = false
    rdns = false
"""

# ISC_REQ_*
DELEGATE, MUTUAL, REPLAY, SEQUENCE, CONF, INTEG = 0x1, 0x2, 0x4, 0x8, 0x10, 0x10000
SEC_E_OK, CONTINUE = 0, 0x00090312

TARGETS = ("fuzz_krb_accept", "fuzz_krb_replay_key", "fuzz_nego_accept")

# python3-gssapi (MIT), run in a child with the realm's environment; prints
# NAME HEX lines. Channel bindings: fz_cbt's (no addresses, application data
# "tls-server-end-point:" + a0..bf).
MIT_SCRIPT = r"""
import gssapi, gssapi.raw
app = b"tls-server-end-point:" + bytes(range(0xa0, 0xc0))
cb = gssapi.raw.ChannelBindings(application_data=app)
name = gssapi.Name("HTTP@localhost", gssapi.NameType.hostbased_service)
krb5 = gssapi.Mechanism.from_sasl_name("GS2-KRB5")
spnego = gssapi.OID.from_int_seq("1.3.6.1.5.5.2")
F = gssapi.RequirementFlag
cases = [
    ("mit_krb5_mutual", krb5, [F.mutual_authentication, F.out_of_sequence_detection], None),
    ("mit_krb5_nomutual", krb5, [F.out_of_sequence_detection], None),
    ("mit_krb5_conf_integ", krb5, [F.mutual_authentication, F.confidentiality, F.integrity,
                                   F.replay_detection], None),
    ("mit_krb5_cbt", krb5, [F.mutual_authentication], cb),
    ("mit_krb5_deleg", krb5, [F.mutual_authentication, F.delegate_to_peer], None),
    ("mit_spnego", spnego, [F.mutual_authentication, F.out_of_sequence_detection], None),
    ("mit_spnego_cbt", spnego, [F.mutual_authentication], cb),
]
for n, mech, flags, bindings in cases:
    ctx = gssapi.SecurityContext(name=name, mech=mech, flags=flags, usage="initiate",
                                 channel_bindings=bindings)
    print(n, ctx.step().hex(), flush=True)
"""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def legs_input(opt, legs):
    out = bytes([opt])
    for tok in legs:
        out += struct.pack("<H", len(tok)) + tok
    return out


class Tool:
    """The fuzz targets (run on one input) and our client helper."""

    def __init__(self, build, fixtures, realm):
        self.bin = os.path.join(build, "tests", "fuzz")
        self.fixtures = fixtures
        self.realm = realm
        self.tmp = tempfile.mkdtemp(prefix="sspx-krb-corpus-")

    def target_env(self):
        env = dict(os.environ)
        for k in ("KRB5_CONFIG", "KRB5CCNAME", "KRB5_KTNAME"):
            env.pop(k, None)
        env["SSPX_FUZZ_KRB_DIR"] = self.fixtures
        env["ASAN_OPTIONS"] = "detect_leaks=0"
        return env

    def run_target(self, target, data):
        """[(leg, status, token_hex, error)] from fuzz_nego_accept's dump, or
        the verbose status lines of another target."""
        path = os.path.join(self.tmp, "input")
        with open(path, "wb") as f:
            f.write(data)
        env = self.target_env()
        env["SSPX_FUZZ_DUMP"] = "1"
        env["SSPX_FUZZ_VERBOSE"] = "1"
        p = subprocess.run([os.path.join(self.bin, target), path], env=env,
                           capture_output=True, timeout=60)
        err = p.stderr.decode(errors="replace")
        if p.returncode != 0:
            raise RuntimeError("%s failed on %s:\n%s" % (target, data.hex(), err[-3000:]))
        return err

    def nego_legs(self, opt, legs):
        res = []
        for line in self.run_target("fuzz_nego_accept", legs_input(opt, legs)).splitlines():
            if line.startswith("fz-leg "):
                f = line.split(" ", 4)
                res.append((int(f[1]), int(f[2], 16), f[3], f[4] if len(f) > 4 else ""))
        return res

    def client(self, package, flags, cbt=False, opts=()):
        argv = [os.path.join(self.bin, "gen_krb_corpus"), package, "%x" % flags,
                "1" if cbt else "0"] + list(opts)
        return LineClient(argv, self.realm.env("alice"))


class LineClient:
    """gen_krb_corpus as a client: first() then step(server_token)."""

    def __init__(self, argv, env):
        env = dict(env)
        env["ASAN_OPTIONS"] = "detect_leaks=0"
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=env)

    def _read(self):
        line = self.p.stdout.readline().decode().strip()
        if not line:
            raise RuntimeError("gen_krb_corpus: no answer: %s" % self.p.stderr.read().decode())
        st, tok = line.split(" ")
        st = int(st, 16)
        if st >= 0x80000000:
            raise RuntimeError("gen_krb_corpus: 0x%08x" % st)
        return st, b"" if tok == "-" else bytes.fromhex(tok)

    def first(self):
        return self._read()[1]

    def step(self, server_tok):
        self.p.stdin.write((server_tok.hex() or "-").encode() + b"\n")
        self.p.stdin.flush()
        return self._read()[1]

    def close(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        self.p.wait(timeout=30)


class SambaClient:
    """ntlm_auth --helper-protocol=gss-spnego-client as bob."""

    def __init__(self, tmp, password="Passw0rd!"):
        d = os.path.join(tmp, "samba")
        lines = ["[global]", "  workgroup = TESTDOM"]
        for key, sub in (("lock directory", "lock"), ("state directory", "state"),
                         ("cache directory", "cache"), ("private dir", "private"),
                         ("pid directory", "pid"), ("ncalrpc dir", "ncalrpc")):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
            lines.append("  %s = %s" % (key, os.path.join(d, sub)))
        conf = os.path.join(d, "smb.conf")
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.p = subprocess.Popen(
            ["ntlm_auth", "--configfile=" + conf, "--helper-protocol=gss-spnego-client",
             "--username=bob", "--domain=TESTDOM", "--password=" + password],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def _ask(self, line):
        self.p.stdin.write(line.encode() + b"\n")
        self.p.stdin.flush()
        ans = self.p.stdout.readline().decode().strip()
        tag, _, b64 = ans.partition(" ")
        if tag not in ("YR", "KK", "AF") or not b64 or b64 == "*":
            raise RuntimeError("ntlm_auth answered %r" % ans)
        return base64.b64decode(b64)

    def first(self):
        return self._ask("YR")

    def step(self, server_tok):
        return self._ask("TT " + base64.b64encode(server_tok).decode())

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=30)


def handshake(tool, opt, client, max_legs=3):
    """Run `client` against fuzz_nego_accept's server (credential opt & 3):
    the legs and the server's statuses."""
    legs = [client.first()]
    while True:
        res = tool.nego_legs(opt, legs)
        st, out = res[-1][1], bytes.fromhex(res[-1][2])
        if st != CONTINUE or len(legs) == max_legs:
            return legs, res
        legs.append(client.step(out))


def gss_unframe(tok):
    """The inner bytes of a GSS-framed token after the OID and TOK_ID."""
    assert tok[0] == 0x60
    n, i = tok[1], 2
    if n & 0x80:
        i = 2 + (n & 0x7f)
    olen = tok[i + 1]
    return tok[i + 2 + olen + 2:]


def der(tag, body):
    n = len(body)
    if n < 0x80:
        return bytes([tag, n]) + body
    ln = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(ln)]) + ln + body


def short_cipher_apreq(n):
    """A GSS-framed AP-REQ (no valid ticket) whose authenticator cipher has
    n bytes."""
    ticket = der(0x61, der(0x30, der(0xa0, der(0x02, b"\x05"))))
    enc = der(0x30, der(0xa0, der(0x02, b"\x12")) + der(0xa2, der(0x04, bytes(range(n)))))
    body = (der(0xa0, der(0x02, b"\x05")) + der(0xa1, der(0x02, b"\x0e")) +
            der(0xa2, der(0x03, bytes(5))) + der(0xa3, ticket) + der(0xa4, enc))
    krb5_oid = bytes.fromhex("06092a864886f712010202")
    return der(0x60, krb5_oid + b"\x01\x00" + der(0x6e, der(0x30, body)))


def max_life():
    """Heimdal time string for a ticket life ending ~1 Dec 2037."""
    end = datetime.datetime(2037, 12, 1, tzinfo=datetime.timezone.utc)
    days = (end - datetime.datetime.now(datetime.timezone.utc)).days
    if days < 2:
        sys.exit("too close to 2038 for long-lived Heimdal tickets")
    return "%dd" % days


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build-fuzz"))
    ap.add_argument("--out", default=os.path.join(HERE, "corpus"))
    ap.add_argument("--fixtures", default=os.path.join(HERE, "krb"))
    ap.add_argument("--crashes", default=os.path.join(HERE, "crashes"),
                    help="where the reproducers of open findings go ('' for nowhere)")
    a = ap.parse_args()
    for exe in ("fuzz_krb_accept", "fuzz_nego_accept", "gen_krb_corpus"):
        if not os.access(os.path.join(a.build, "tests", "fuzz", exe), os.X_OK):
            sys.exit("%s not built: cmake --build %s --target sspx_fuzz" % (exe, a.build))

    life = max_life()
    seeds = {t: {} for t in TARGETS}
    leaks = {}
    fixtures = tempfile.mkdtemp(prefix="sspx-krb-fixtures-")
    realm = Realm(max_ticket_life=life, max_renewable_life=life).start()
    tool = Tool(a.build, fixtures, realm)
    t0 = int(time.time())
    try:
        for p in ("krbtgt/%s" % realm.realm, "alice", "bob", "HTTP/localhost"):
            realm.kadmin("modify", "--max-ticket-life=" + life, "--max-renewable-life=" + life,
                         realm.principal(p))
        realm.kinit("alice", lifetime=life, extra=["--forwardable"])
        log(realm.klist(user="alice"))
        shutil.copyfile(realm.keytab, os.path.join(fixtures, "service.keytab"))
        with open(os.path.join(fixtures, "krb5.conf"), "w") as f:
            f.write(KRB5_CONF)
        with open(os.path.join(fixtures, "seed_time"), "w") as f:
            f.write("%d\n" % (t0 + 60))

        # ---------------------------------------------------- AP-REQs
        apreq = {}
        for name, flags, cbt in (
                ("sspx_plain", 0, False),
                ("sspx_mutual", MUTUAL, False),
                ("sspx_mutual_conf", MUTUAL | REPLAY | SEQUENCE | CONF | INTEG, False),
                ("sspx_cbt", MUTUAL | CONF | INTEG, True),
                ("sspx_deleg", MUTUAL | DELEGATE, False)):
            c = tool.client("Kerberos", flags, cbt)
            apreq[name] = c.first()
            c.close()
        mit = subprocess.run([sys.executable, "-c", MIT_SCRIPT], env=realm.env("alice"),
                             capture_output=True, timeout=60)
        if mit.returncode != 0:
            raise RuntimeError("python3-gssapi: %s" % mit.stderr.decode())
        mit_tok = dict((ln.split()[0], bytes.fromhex(ln.split()[1]))
                       for ln in mit.stdout.decode().splitlines())
        for n, tok in mit_tok.items():
            if n.startswith("mit_krb5"):
                apreq[n] = tok

        ka = seeds["fuzz_krb_accept"]
        for n, tok in apreq.items():
            cb = 0x01 if "cbt" in n else 0
            ka[n] = bytes([cb]) + tok
            ka[n + "_sspi"] = bytes([cb | 0x02 | 0x40]) + tok
        ka["sspx_mutual_replay"] = bytes([0x04]) + apreq["sspx_mutual"]
        ka["mit_krb5_mutual_replay_sspi_cred1"] = bytes([0x04 | 0x02 | 0x08]) + apreq[
            "mit_krb5_mutual"]
        ka["sspx_mutual_msgops"] = bytes([0x40]) + apreq["sspx_mutual_conf"]
        ka["sspx_mutual_cred1_alloc"] = bytes([0x08 | 0x02 | 0x80]) + apreq["sspx_mutual"]
        ka["sspx_cbt_missing"] = bytes([0x00]) + apreq["sspx_cbt"]
        ka["sspx_cbt_unexpected"] = bytes([0x01]) + apreq["sspx_mutual"]
        # Heimdal answers a skewed / not yet valid authenticator with a
        # KRB-ERROR token that sspx does not free: open finding, kept in
        # tests/fuzz/crashes/ (not replayed) until fixed (crashes/README.md)
        leaks["fuzz_krb_accept-skew-leak.bin"] = bytes([0x10]) + apreq["sspx_mutual"]
        leaks["fuzz_krb_accept-notyet-leak.bin"] = bytes([0x20]) + apreq["sspx_mutual"]
        ka["sspx_expired"] = bytes([0x30]) + apreq["sspx_mutual"]
        ka["sspx_raw_apreq"] = bytes([0x00]) + gss_unframe(apreq["sspx_mutual"])
        ka["mit_spnego_not_krb"] = bytes([0x00]) + mit_tok["mit_spnego"]
        ka["empty"] = bytes([0x00])

        rk = seeds["fuzz_krb_replay_key"]
        for n in ("sspx_plain", "sspx_cbt", "mit_krb5_mutual", "mit_krb5_deleg"):
            rk[n] = apreq[n]
        rk["sspx_raw_apreq"] = gss_unframe(apreq["sspx_mutual"])
        rk["mit_spnego"] = mit_tok["mit_spnego"]
        # a short authenticator cipher (16..31 bytes: the key is its SHA-256)
        rk["short_cipher"] = short_cipher_apreq(20)
        rk["cipher_15"] = short_cipher_apreq(15)

        # ---------------------------------------------------- Negotiate
        na = seeds["fuzz_nego_accept"]
        expect = {}

        def add(name, opt, legs, want):
            na[name] = legs_input(opt, legs)
            expect[name] = want

        # one leg: Kerberos raw / in SPNEGO
        add("raw_krb_gss", 0x00, [apreq["sspx_mutual"]], SEC_E_OK)
        add("raw_krb_gss_cred3_sspi", 0x03 | 0x08 | 0x10, [apreq["mit_krb5_mutual"]], SEC_E_OK)
        add("raw_krb_unframed", 0x00, [gss_unframe(apreq["sspx_mutual"])], None)
        add("mit_spnego_krb", 0x00, [mit_tok["mit_spnego"]], SEC_E_OK)
        add("mit_spnego_krb_cbt", 0x04 | 0x08, [mit_tok["mit_spnego_cbt"]], SEC_E_OK)
        leaks["fuzz_nego_accept-skew-leak.bin"] = legs_input(0x20, [mit_tok["mit_spnego"]])
        add("mit_spnego_ntlm_only_cred", 0x02, [mit_tok["mit_spnego"]], None)

        # our Negotiate client: Kerberos in SPNEGO (optimistic token)
        c = tool.client("Negotiate", MUTUAL | CONF | INTEG)
        legs, res = handshake(tool, 0x00, c)
        c.close()
        add("sspx_spnego_krb", 0x00, legs, res[-1][1])
        add("sspx_spnego_krb_sspi_msgops", 0x08 | 0x10, legs, res[-1][1])
        c = tool.client("Negotiate", MUTUAL | CONF | INTEG, cbt=True)
        legs, res = handshake(tool, 0x04, c)
        c.close()
        add("sspx_spnego_krb_cbt", 0x04, legs, res[-1][1])

        ntlm_opts = ["user=bob", "domain=TESTDOM", "password=Passw0rd!"]
        # our Negotiate client, NTLM only: NegTokenInit(NEGOTIATE), then
        # NegTokenResp(AUTHENTICATE + mechListMIC)
        for name, opt, cbt in (("sspx_spnego_ntlm", 0x00, False),
                               ("sspx_spnego_ntlm_sspi", 0x08, False),
                               ("sspx_spnego_ntlm_cbt", 0x04, True),
                               ("sspx_spnego_ntlm_lookup", 0x01, False),
                               ("sspx_spnego_ntlm_ntlmonly", 0x02, False)):
            c = tool.client("Negotiate", CONF | INTEG, cbt, ntlm_opts + ["packages=ntlm"])
            legs, res = handshake(tool, opt, c)
            c.close()
            add(name, opt, legs, res[-1][1])
        # both mechanisms offered, the server has NTLM only: it picks the
        # second mechanism (mechListMIC required)
        c = tool.client("Negotiate", CONF | INTEG, False, ntlm_opts)
        legs, res = handshake(tool, 0x02, c)
        c.close()
        add("sspx_spnego_krb_ntlm_to_ntlmonly", 0x02, legs, res[-1][1])
        # raw NTLM through Negotiate
        c = tool.client("NTLM", CONF | INTEG, False, ntlm_opts)
        legs, res = handshake(tool, 0x00, c)
        c.close()
        add("raw_ntlm", 0x00, legs, res[-1][1])
        add("raw_ntlm_sspi_msgops", 0x08 | 0x10, legs, res[-1][1])

        # Samba's SPNEGO client
        if shutil.which("ntlm_auth"):
            for name, opt in (("samba_spnego", 0x00), ("samba_spnego_sspi_msgops", 0x18),
                              ("samba_spnego_lookup", 0x01)):
                c = SambaClient(tool.tmp)
                legs, res = handshake(tool, opt, c)
                c.close()
                add(name, opt, legs, res[-1][1])
                if name == "samba_spnego":
                    add("samba_spnego_expired_challenge", 0x80, legs, None)
        else:
            log("ntlm_auth not found: no Samba seeds")

        # first-token sniffer, the other kinds
        add("negoex_first", 0x00, [b"NEGOEXTS" + bytes(40)], None)
        add("negtokenresp_first", 0x00, [bytes.fromhex("a1073005a0030a0100")], None)
        add("garbage_first", 0x00, [b"\x30\x03\x02\x01\x05"], None)

        # ---------------------------------------------------- check
        bad = 0
        for name, data in sorted(ka.items()):
            out = tool.run_target("fuzz_krb_accept", data)
            sts = [ln.strip() for ln in out.splitlines() if "AP-REQ:" in ln]
            log("fuzz_krb_accept/%s: %s" % (name, " | ".join(sts)))
        for name, data in sorted(na.items()):
            res = [ln for ln in tool.run_target("fuzz_nego_accept", data).splitlines()
                   if ln.startswith("fz-leg ")]
            last = int(res[-1].split(" ")[2], 16) if res else None
            detail = res[-1].split(" ", 4)[4] if res and len(res[-1].split(" ", 4)) > 4 else ""
            ok = expect[name] is None or last == expect[name]
            if expect[name] is not None and last != SEC_E_OK:
                ok = False
            if not ok:
                bad += 1
            log("fuzz_nego_accept/%s: %d legs, last 0x%08x %s%s" % (
                name, len(res), last if last is not None else 0, detail.strip(),
                "" if ok else "  <-- UNEXPECTED"))
        if bad:
            log("%d Negotiate seeds did not complete" % bad)
        if int(time.time()) - t0 > 240:
            raise RuntimeError("seed generation took longer than the clock skew allows")

        # ---------------------------------------------------- write
        for t in TARGETS:
            d = os.path.join(a.out, t)
            if os.path.isdir(d):
                shutil.rmtree(d)
            os.makedirs(d)
            for name, data in seeds[t].items():
                with open(os.path.join(d, name), "wb") as f:
                    f.write(data)
            log("%s: %d seeds" % (t, len(seeds[t])))
        if a.crashes:
            for name, data in leaks.items():
                with open(os.path.join(a.crashes, name), "wb") as f:
                    f.write(data)
            log("%d open-finding reproducers in %s" % (len(leaks), a.crashes))
        os.makedirs(a.fixtures, exist_ok=True)
        for n in ("service.keytab", "krb5.conf", "seed_time"):
            shutil.copyfile(os.path.join(fixtures, n), os.path.join(a.fixtures, n))
        log("fixtures in %s (seed_time %d)" % (a.fixtures, t0 + 60))
    finally:
        realm.stop()
        shutil.rmtree(tool.tmp, ignore_errors=True)
        shutil.rmtree(fixtures, ignore_errors=True)


if __name__ == "__main__":
    main()
