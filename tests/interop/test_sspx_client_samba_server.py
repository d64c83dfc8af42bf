#!/usr/bin/python3
"""Our sspx-ntlm-helper as NTLM CLIENT (ntlmssp-client-1) against Samba's
ntlm_auth as SERVER (squid-2.5-ntlmssp, checking against its own
--username/--domain/--password).

Checks: the right password gets AF and both sides derive the same session
key (GK); wrong passwords get NA; our client answers a CHALLENGE the way
Samba's own client does (AF <token>). (ntlm_auth's stand-alone server checks
only the password it was given, not the user name, so "unknown user" is not
a meaningful case against it.)

usage: test_sspx_client_samba_server.py --helper PATH
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop_common as ic  # noqa: E402

NAME = "sspx_client_samba_server"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--helper", required=True)
    args = ap.parse_args()
    helper = ic.require_file(args.helper, "sspx-ntlm-helper")
    ntlm_auth = ic.require_binary("ntlm_auth", "apt-get install winbind samba-common-bin")

    tmp = ic.TempDir()
    conf = ic.samba_conf(tmp)
    try:
        def case(title, user, domain, password):
            ic.log("\n[%s] sspx client %s\\%s vs ntlm_auth server (TESTDOM\\bob)"
                   % (title, domain, user))
            server = ic.LineProc([ntlm_auth, "--configfile=" + conf,
                                  "--helper-protocol=squid-2.5-ntlmssp", "--username=bob",
                                  "--domain=TESTDOM", "--password=Passw0rd!"], "samba-srv")
            client = ic.LineProc([helper, "--helper-protocol=ntlmssp-client-1",
                                  "--username", user, "--domain", domain,
                                  "--password", password], "sspx-cl")
            try:
                return ic.helper_handshake(client, server)
            finally:
                crc = client.close()
                server.close()
                ic.check(crc == 0, "sspx client helper exits 0 at end of input", "rc=%s" % crc)

        r = case("right password", "bob", "TESTDOM", "Passw0rd!")
        ic.check(r["client_final_tag"] == "AF",
                 "sspx client answers TT with 'AF <AUTHENTICATE>' like Samba 4's client",
                 "answered %s" % r["client_final_tag"])
        ic.check(r["result"] == "AF", "Samba server answers AF",
                 "got %s %s" % (r["result"], r["detail"]))
        ic.check(r["detail"].lower() == "testdom\\bob", "Samba reports TESTDOM\\bob", r["detail"])
        ic.check(r["server_gk"] is not None and r["server_gk"] == r["client_gk"],
                 "session keys equal (GK)", "server %s, client %s" % (r["server_gk"], r["client_gk"]))
        ic.log("    (GF: Samba server %s, sspx client %s; Samba drops NEGOTIATE_TARGET_INFO"
               " from its negotiated set, so they are shown, not compared)"
               % (r["server_gf"], r["client_gf"]))

        r = case("wrong password", "bob", "TESTDOM", "not-the-password")
        ic.check(r["result"] == "NA", "wrong password -> NA",
                 "got %s %s" % (r["result"], r["detail"]))

        r = case("short wrong password", "bob", "TESTDOM", "x")
        ic.check(r["result"] == "NA", "another wrong password -> NA",
                 "got %s %s" % (r["result"], r["detail"]))
    except (TimeoutError, EOFError) as e:
        ic.check(False, "helpers answered every line", str(e))
    finally:
        tmp.cleanup()
    ic.finish(NAME)


if __name__ == "__main__":
    main()
