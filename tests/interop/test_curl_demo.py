#!/usr/bin/python3
"""curl --ntlm against sspx-ntlm-demo (started on 127.0.0.1 with --port 0).

Checks: the right password gets 200 and a body naming TESTDOM\\bob; a wrong
password and an unknown user get 401; alice without a domain (matched by the
'*' entry) gets 200; two URLs in one curl run both get 200 over ONE
connection (num_connects 1 then 0, and the demo saw a single connection);
the demo accepted curl's 32-byte NEGOTIATE (flags 0x00088206, OEM, no
VERSION) and printed every leg.

usage: test_curl_demo.py --demo PATH
"""
import argparse
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop_common as ic  # noqa: E402

NAME = "curl_demo"
MARK = "@@sspx@@"


def curl(curl_bin, user, urls, timeout=20):
    """Run curl --ntlm; returns [(http_code, num_connects, body), ...]."""
    # -q: ignore ~/.curlrc; --noproxy: loopback must never go through a proxy
    argv = [curl_bin, "-q", "-sS", "--noproxy", "*", "--max-time", "15", "--ntlm",
            "-u", user, "-w", "\n%s%%{http_code} %%{num_connects}\n" % MARK] + urls
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    p = subprocess.run(argv, capture_output=True, timeout=timeout, env=env)
    out = p.stdout.decode("utf-8", "replace")
    res = []
    for m in re.finditer(r"(.*?)\n%s(\d+) (\d+)\n" % re.escape(MARK), out, re.S):
        res.append((int(m.group(2)), int(m.group(3)), m.group(1)))
    if p.returncode != 0 and p.returncode != 22:
        ic.log("    curl rc=%d stderr=%s" % (p.returncode, p.stderr.decode().strip()))
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--demo", required=True)
    args = ap.parse_args()
    demo = ic.require_file(args.demo, "sspx-ntlm-demo")
    curl_bin = ic.require_binary("curl", "apt-get install curl")

    srv = ic.DemoServer(demo)
    try:
        ic.log("demo listening on %s" % srv.url())

        ic.log("\n[right password] curl --ntlm -u 'TESTDOM\\bob:Passw0rd!'")
        m = srv.mark()
        r = curl(curl_bin, "TESTDOM\\bob:Passw0rd!", [srv.url("/")])
        ic.check(len(r) == 1 and r[0][0] == 200, "HTTP 200", repr(r))
        ic.check(len(r) == 1 and "TESTDOM\\bob" in r[0][2], "body names TESTDOM\\bob",
                 repr(r[0][2] if r else None))
        ic.check(srv.wait_for(r"authenticated: TESTDOM\\bob", m) is not None,
                 "demo printed 'authenticated: TESTDOM\\bob'")
        out = srv.output_since(m)
        ic.check(re.search(r"leg 1 .*client -> server .*NEGOTIATE \(32 bytes\).*"
                           r"SEC_I_CONTINUE_NEEDED", out) is not None,
                 "curl's 32-byte NEGOTIATE accepted (leg 1, SEC_I_CONTINUE_NEEDED)")
        ic.check("NegotiateFlags: 0x00088206" in out,
                 "demo rendered curl's NEGOTIATE flags 0x00088206 (OEM, no VERSION)")
        ic.check(re.search(r"leg 2 .*server -> client .*CHALLENGE", out) is not None,
                 "leg 2 (CHALLENGE) printed")
        ic.check(re.search(r"leg 3 .*client -> server .*AUTHENTICATE.*SEC_E_OK\s+attrs 0x[0-9a-f]{8}",
                           out) is not None, "leg 3 (AUTHENTICATE) -> SEC_E_OK with attrs printed")

        ic.log("\n[wrong password] curl --ntlm -u 'TESTDOM\\bob:wrong'")
        m = srv.mark()
        r = curl(curl_bin, "TESTDOM\\bob:wrong", [srv.url("/")])
        ic.check(len(r) == 1 and r[0][0] == 401, "HTTP 401", repr(r))
        ic.check(srv.wait_for(r"authentication failed: SEC_E_LOGON_DENIED", m) is not None,
                 "demo printed the failure with SEC_E_LOGON_DENIED")

        ic.log("\n[unknown user] curl --ntlm -u 'TESTDOM\\mallory:Passw0rd!'")
        m = srv.mark()
        r = curl(curl_bin, "TESTDOM\\mallory:Passw0rd!", [srv.url("/")])
        ic.check(len(r) == 1 and r[0][0] == 401, "HTTP 401", repr(r))
        ic.check(srv.wait_for(r"authentication failed: ", m) is not None,
                 "demo printed the failure")

        ic.log("\n[no domain] curl --ntlm -u 'alice:Wonderland1'")
        m = srv.mark()
        r = curl(curl_bin, "alice:Wonderland1", [srv.url("/")])
        ic.check(len(r) == 1 and r[0][0] == 200, "HTTP 200", repr(r))
        ic.check(len(r) == 1 and "alice" in r[0][2], "body names alice",
                 repr(r[0][2] if r else None))
        ic.log("    (body: %r)" % (r[0][2] if r else None))

        ic.log("\n[keep-alive] curl --ntlm -u 'TESTDOM\\bob:Passw0rd!' URL1 URL2")
        m = srv.mark()
        r = curl(curl_bin, "TESTDOM\\bob:Passw0rd!", [srv.url("/one"), srv.url("/two")])
        ic.check(len(r) == 2 and r[0][0] == 200 and r[1][0] == 200, "both URLs HTTP 200",
                 repr(r))
        ic.check(len(r) == 2 and r[0][1] == 1 and r[1][1] == 0,
                 "curl reused the connection (num_connects 1, then 0)", repr(r))
        ic.check(all("TESTDOM\\bob" in x[2] for x in r), "both bodies name TESTDOM\\bob")
        srv.wait_for(r"closed", m)
        out = srv.output_since(m)
        conns = set(re.findall(r"\[conn (\d+)\] opened", out))
        ic.check(len(conns) == 1, "demo saw exactly one connection for both URLs",
                 "connections: %s" % sorted(conns))
        ic.check(re.search(r"GET /two HTTP/1.1", out) is not None and
                 "connection already authenticated as TESTDOM\\bob" in out,
                 "second request answered on the already-authenticated connection")
    finally:
        rc = srv.stop()
        ic.check(rc == 0, "demo exits 0 on SIGTERM", "rc=%s" % rc)
        ic.check("shutting down" in srv.output(), "demo printed its shutdown")
    ic.finish(NAME)


if __name__ == "__main__":
    main()
