#!/usr/bin/python3
"""Regenerate the seed corpora under tests/fuzz/corpus/.

  tests/fuzz/make_corpus.py [--build build-fuzz] [--out tests/fuzz/corpus]

1. `gen_corpus write OUT` (our client's and server's messages, MS-NLMP 4.2,
   curl, edge cases, channel bindings, users files, sealed messages).
2. Samba, when `ntlm_auth` is installed (Debian: winbind):
   - its NEGOTIATE: ntlm_auth --helper-protocol=ntlmssp-client-1
     --username=bob --domain=TESTDOM --password=x, stdin "YR";
   - a whole Samba handshake against our server: ntlm_auth as bob with the
     fuzz users file's password gets our server's CHALLENGE (the fuzz
     targets' deterministic one, from `gen_corpus challenge`) and answers
     with an AUTHENTICATE, which `gen_corpus verify` checks. fuzz_ntlm_accept
     gets it in split form (Samba NEGOTIATE + Samba AUTHENTICATE).
   The Samba AUTHENTICATE has a random client challenge: re-running this
   script changes those seeds (each one still verifies).
The fuzz-found inputs added with -merge=1 (files named by SHA-1) are not
touched by this script.
"""
import argparse
import base64
import os
import shutil
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def put(out, target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def samba_negotiate(user, domain, password):
    p = subprocess.run(
        ["ntlm_auth", "--helper-protocol=ntlmssp-client-1", "--username=" + user,
         "--domain=" + domain, "--password=" + password],
        input=b"YR\n", capture_output=True, timeout=30)
    for line in p.stdout.decode().splitlines():
        if line.startswith("YR "):
            return base64.b64decode(line[3:])
    raise RuntimeError("ntlm_auth gave no NEGOTIATE: %r %r" % (p.stdout, p.stderr))


def samba_handshake(gen, user, domain, password):
    p = subprocess.Popen(
        ["ntlm_auth", "--helper-protocol=ntlmssp-client-1", "--username=" + user,
         "--domain=" + domain, "--password=" + password],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        p.stdin.write(b"YR\n")
        p.stdin.flush()
        line = p.stdout.readline().decode().strip()
        if not line.startswith("YR "):
            raise RuntimeError("ntlm_auth: %r" % line)
        neg = base64.b64decode(line[3:])
        chal = bytes.fromhex(subprocess.run([gen, "challenge", neg.hex()], check=True,
                                            capture_output=True).stdout.decode().strip())
        p.stdin.write(b"TT " + base64.b64encode(chal) + b"\n")
        p.stdin.flush()
        line = p.stdout.readline().decode().strip()
        if not (line.startswith("KK ") or line.startswith("AF ")):
            raise RuntimeError("ntlm_auth answered the CHALLENGE with %r" % line)
        auth = base64.b64decode(line[3:])
    finally:
        p.stdin.close()
        p.wait(timeout=30)
    return neg, chal, auth


def nt_response(auth):
    ln, _, off = struct.unpack_from("<HHI", auth, 20)
    return auth[off:off + ln]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build-fuzz"))
    ap.add_argument("--out", default=os.path.join(HERE, "corpus"))
    a = ap.parse_args()
    gen = os.path.join(a.build, "tests", "fuzz", "gen_corpus")
    if not os.access(gen, os.X_OK):
        sys.exit("%s not built: cmake --build %s --target sspx_fuzz" % (gen, a.build))
    subprocess.run([gen, "write", a.out], check=True)

    if not shutil.which("ntlm_auth"):
        print("ntlm_auth not found: no Samba seeds", file=sys.stderr)
        return
    neg = samba_negotiate("bob", "TESTDOM", "x")
    print("Samba NEGOTIATE (%d bytes): %s" % (len(neg), neg.hex()), file=sys.stderr)
    put(a.out, "fuzz_ntlm_negotiate", "samba_negotiate", neg)
    put(a.out, "fuzz_ntlm_describe", "samba_negotiate", neg)

    neg, chal, auth = samba_handshake(gen, "bob", "TESTDOM", "Passw0rd!")
    v = subprocess.run([gen, "verify", neg.hex(), auth.hex()], capture_output=True)
    print("Samba AUTHENTICATE (%d bytes) against our server: %s"
          % (len(auth), v.stdout.decode().strip()), file=sys.stderr)
    put(a.out, "fuzz_ntlm_challenge", "sspx_challenge_for_samba", chal)
    put(a.out, "fuzz_ntlm_authenticate", "samba_authenticate", auth)
    put(a.out, "fuzz_ntlm_describe", "samba_authenticate", auth)
    put(a.out, "fuzz_ntlm_av", "samba_ntlmv2_response", nt_response(auth))
    put(a.out, "fuzz_ntlm_init", "native_sspx_challenge_for_samba", b"\x00" + chal)
    split = struct.pack("<H", len(neg)) + neg + auth
    put(a.out, "fuzz_ntlm_accept", "split_samba", b"\x04" + split)
    put(a.out, "fuzz_ntlm_accept", "split_samba_sspi", b"\x0c" + split)
    put(a.out, "fuzz_ntlm_accept", "split_samba_msgops", b"\x84" + split)


if __name__ == "__main__":
    main()
