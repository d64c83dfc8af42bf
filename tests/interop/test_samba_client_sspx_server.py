#!/usr/bin/python3
"""Samba's ntlm_auth as NTLM CLIENT (ntlmssp-client-1) against our
sspx-ntlm-helper as SERVER (squid-2.5-ntlmssp).

Checks: the right password authenticates as TESTDOM\\bob and both sides
derive the same session key (GK) and report the same NTLMSSP flags (GF); a
wrong password and an unknown user get NA; a '*' users-file entry matches
any domain; and one long-lived server helper survives failures between
handshakes, as it must when Squid keeps it running.

usage: test_samba_client_sspx_server.py --helper PATH
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop_common as ic  # noqa: E402

NAME = "samba_client_sspx_server"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--helper", required=True)
    args = ap.parse_args()
    helper = ic.require_file(args.helper, "sspx-ntlm-helper")
    ntlm_auth = ic.require_binary("ntlm_auth", "apt-get install winbind samba-common-bin")

    tmp = ic.TempDir()
    conf = ic.samba_conf(tmp)
    users = tmp.file("users", "TESTDOM:bob:Passw0rd!\n*:alice:Wonderland1\n")
    server = None
    try:
        # One server process for every case, as Squid would keep it.
        server = ic.LineProc([helper, "--helper-protocol=squid-2.5-ntlmssp", "--users", users],
                             "sspx-srv")

        def samba_client(user, domain, password):
            return ic.LineProc([ntlm_auth, "--configfile=" + conf,
                                "--helper-protocol=ntlmssp-client-1", "--username=" + user,
                                "--domain=" + domain, "--password=" + password], "samba-cl")

        def case(title, user, domain, password):
            ic.log("\n[%s] ntlm_auth client %s\\%s vs sspx server" % (title, domain, user))
            client = samba_client(user, domain, password)
            try:
                return ic.helper_handshake(client, server)
            finally:
                client.close()

        r = case("right password", "bob", "TESTDOM", "Passw0rd!")
        ic.check(r["client_final_tag"] in ("AF", "KK"),
                 "Samba client produced an AUTHENTICATE (answered %s)" % r["client_final_tag"])
        ic.check(r["result"] == "AF" and r["detail"] == "TESTDOM\\bob",
                 "sspx server answers 'AF TESTDOM\\bob'", "got %s %s" % (r["result"], r["detail"]))
        ic.check(r["server_gk"] is not None and r["server_gk"] == r["client_gk"],
                 "session keys equal (GK)", "server %s, client %s" % (r["server_gk"], r["client_gk"]))
        ic.check(r["server_gf"] is not None and r["server_gf"].lower() == (r["client_gf"] or "").lower(),
                 "negotiated flags equal (GF)",
                 "server %s, client %s" % (r["server_gf"], r["client_gf"]))

        r = case("wrong password", "bob", "TESTDOM", "not-the-password")
        ic.check(r["result"] == "NA", "wrong password -> NA",
                 "got %s %s" % (r["result"], r["detail"]))

        r = case("unknown user", "mallory", "TESTDOM", "Passw0rd!")
        ic.check(r["result"] == "NA", "unknown user -> NA",
                 "got %s %s" % (r["result"], r["detail"]))

        r = case("wildcard domain entry", "alice", "ELSEWHERE", "Wonderland1")
        ic.check(r["result"] == "AF" and r["detail"].lower().endswith("\\alice"),
                 "'*:alice' entry authenticates alice from any domain",
                 "got %s %s" % (r["result"], r["detail"]))
        ic.check(r["server_gk"] is not None and r["server_gk"] == r["client_gk"],
                 "session keys equal for alice (GK)")

        r = case("success again after failures", "bob", "testdom", "Passw0rd!")
        ic.check(r["result"] == "AF" and r["detail"].lower() == "testdom\\bob",
                 "same server process authenticates again; domain compared case-blind",
                 "got %s %s" % (r["result"], r["detail"]))

        ic.log("\n[protocol errors]")
        ans = server.ask("KK TlRMTVNTUAADAAAA")
        ic.check(ans.startswith("BH") or ans.startswith("NA"),
                 "KK without a preceding YR is refused", ans)
        ans = server.ask("YR !!!not-base64!!!")
        ic.check(ans.startswith("BH"), "invalid base64 -> BH", ans)
        ans = server.ask("YR")
        ic.check(ans.startswith("BH") or ans.startswith("NA"), "YR without a token is refused", ans)
        ans = server.ask("GK")
        ic.check(ans.startswith("BH"), "GK without a completed handshake -> BH", ans)
        # Samba's 40-byte NEGOTIATE (flags 0x62088205), then a truncated
        # AUTHENTICATE: the server must refuse it, not crash or accept.
        ans = server.ask("YR TlRMTVNTUAABAAAABYIIYgAAAAAoAAAAAAAAACgAAAAGAQAAAAAADw==")
        ic.check(ans.startswith("TT "), "fixed Samba NEGOTIATE -> TT", ans)
        ans = server.ask("KK TlRMTVNTUAADAAAA")
        ic.check(ans.startswith("NA "), "truncated AUTHENTICATE -> NA", ans)
    except (TimeoutError, EOFError) as e:
        ic.check(False, "helpers answered every line", str(e))
    finally:
        if server:
            rc = server.close()
            ic.check(rc == 0, "sspx server helper exits 0 at end of input", "rc=%s" % rc)
        tmp.cleanup()
    ic.finish(NAME)


if __name__ == "__main__":
    main()
