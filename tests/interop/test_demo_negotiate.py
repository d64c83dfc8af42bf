#!/usr/bin/python3
"""curl --negotiate against sspx-ntlm-demo --negotiate, over a throwaway
Heimdal realm (tests/realm), all on loopback.

Checks: with alice's ticket curl (MIT's GSS-API, SPNEGO) gets 200 and a body
naming TEST.LOCAL\\alice, the demo chose Kerberos and printed the legs, and
the 200 carries the server's last SPNEGO token (accept-completed with the
AP-REP: curl asks for mutual authentication); without a ticket 401; with
no ticket but gss-ntlmssp's NTLM credentials (NTLM_USER_FILE) curl's SPNEGO
falls back to NTLM and the demo authenticates TESTDOM\\bob through its
Negotiate package; a wrong NTLM password gets 401.

usage: test_demo_negotiate.py --demo PATH
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "realm"))
import interop_common as ic  # noqa: E402
from realm import Realm  # noqa: E402

NAME = "demo_negotiate"
MARK = "@@sspx@@"


def curl(curl_bin, url, env, timeout=20):
    """curl --negotiate -u : (headers dumped); returns (http_code, headers, body)."""
    argv = [curl_bin, "-q", "-sS", "--noproxy", "*", "--max-time", "15", "--negotiate",
            "-u", ":", "-D", "-", "-w", "\n%s%%{http_code}\n" % MARK, url]
    p = subprocess.run(argv, capture_output=True, timeout=timeout, env=env)
    out = p.stdout.decode("utf-8", "replace")
    m = re.search(r"\n%s(\d+)\n$" % re.escape(MARK), out)
    code = int(m.group(1)) if m else 0
    head, _, body = out[:m.start() if m else len(out)].rpartition("\r\n\r\n")
    return code, head, body


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--demo", required=True)
    args = ap.parse_args()
    demo = ic.require_file(args.demo, "sspx-ntlm-demo")
    curl_bin = ic.require_binary("curl", "apt-get install curl")
    ic.require_file("/usr/lib/heimdal-servers/kdc", "Heimdal's KDC (apt-get install heimdal-kdc)")

    with Realm() as r, tempfile.TemporaryDirectory() as tmp:
        r.kinit("alice")
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        env.update(r.vars("alice"))
        os.environ.update(r.vars("alice"))  # the demo server inherits KRB5_CONFIG
        srv = ic.DemoServer(demo, ["--negotiate", "--keytab", r.keytab])
        try:
            url = "http://localhost:%d/" % srv.port  # curl's service: HTTP@localhost
            ic.log("demo listening on %s (Negotiate)" % url)

            ic.log("\n[alice's ticket] curl --negotiate -u :")
            m = srv.mark()
            code, head, body = curl(curl_bin, url, env)
            ic.check(code == 200, "HTTP 200", "%d %r" % (code, head))
            ic.check("TEST.LOCAL\\alice" in body, "body names TEST.LOCAL\\alice", repr(body))
            ic.check(srv.wait_for(r"authenticated: TEST\.LOCAL\\alice \(package Kerberos\)", m)
                     is not None, "demo: authenticated TEST.LOCAL\\alice with Kerberos")
            ic.check(re.search(r"200 OK(.|\n)*WWW-Authenticate: Negotiate \S+", head) is not None,
                     "the 200 carries the server's last token", head)
            ic.check(srv.wait_for(r"NegState: accept-completed", m) is not None,
                     "demo printed the SPNEGO answer decoded")

            ic.log("\n[no ticket, no NTLM credentials]")
            env2 = dict(env, KRB5CCNAME="FILE:" + os.path.join(tmp, "none"))
            env2.pop("NTLM_USER_FILE", None)
            code, head, body = curl(curl_bin, url, env2)
            ic.check(code == 401, "HTTP 401", "%d" % code)

            ic.log("\n[no ticket, gss-ntlmssp with bob's NTLM credentials]")
            users = os.path.join(tmp, "ntlm_users")
            for label, pw, want in (("right", "Passw0rd!", 200), ("wrong", "nope", 401)):
                with open(users, "w") as f:
                    f.write("TESTDOM:bob:%s\n" % pw)
                m = srv.mark()
                code, head, body = curl(curl_bin, url, dict(env2, NTLM_USER_FILE=users))
                ic.check(code == want, "%s NTLM password: HTTP %d" % (label, want),
                         "%d %r" % (code, body))
                if want == 200:
                    ic.check("TESTDOM\\bob" in body, "body names TESTDOM\\bob", repr(body))
                    ic.check(srv.wait_for(r"authenticated: TESTDOM\\bob \(package NTLM\)", m)
                             is not None, "demo: NTLM inside SPNEGO")
        finally:
            srv.stop()
    ic.finish(NAME)


if __name__ == "__main__":
    main()
