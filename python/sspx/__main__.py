"""python -m sspx: small tools.

    python -m sspx serve [--port N] [--host 127.0.0.1] [--users FILE] [--quiet]
    python -m sspx decode <base64|hex>
"""

from __future__ import annotations

import argparse
import base64
import binascii
import signal
import sys
import threading


def _decode_arg(text: str) -> bytes:
    t = text.strip()
    for prefix in ("NTLM ", "Negotiate ", "ntlm ", "negotiate "):
        if t.startswith(prefix):
            t = t[len(prefix):].strip()
    if len(t) % 2 == 0 and all(c in "0123456789abcdefABCDEF" for c in t):
        return bytes.fromhex(t)
    try:
        return base64.b64decode(t, validate=True)
    except (binascii.Error, ValueError):
        raise SystemExit(f"sspx decode: not base64 or hex: {text[:40]!r}")


def decode(argv) -> int:
    try:
        from . import inspect as _inspect
        main_decode = getattr(_inspect, "main_decode", None)
    except ImportError:
        main_decode = None
    if main_decode is not None:
        return main_decode(list(argv)) or 0
    p = argparse.ArgumentParser(prog="python -m sspx decode",
                                description="Decode an NTLM token (base64 or hex).")
    p.add_argument("token", help="the token: base64 (optionally after 'NTLM ') or hex")
    args = p.parse_args(argv)
    from .server import render_token

    print(render_token(_decode_arg(args.token), indent=""))
    return 0


def serve(argv) -> int:
    p = argparse.ArgumentParser(prog="python -m sspx serve",
                                description="An HTTP/1.1 NTLM test server answering "
                                            "'Hello, DOMAIN\\user'.")
    p.add_argument("--port", type=int, default=8080, help="TCP port (0: any free port)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: loopback only)")
    p.add_argument("--users", metavar="FILE",
                   help="users file (docs/USERS.md); default: TESTDOM\\bob / Passw0rd!, "
                        "alice (any domain) / Wonderland1")
    p.add_argument("--quiet", action="store_true", help="do not print connections and legs")
    args = p.parse_args(argv)

    from .server import default_credential, make_server

    cred = default_credential(args.users)
    srv = make_server(args.host, args.port, cred, verbose=not args.quiet)
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    srv.start()
    print(f"sspx test server listening on {srv.url}", flush=True)
    if not args.quiet:
        print("try: curl --ntlm -u 'TESTDOM\\bob:Passw0rd!' " + srv.url, flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        srv.close()
        cred.close()
        print("sspx test server stopped", flush=True)
    return 0


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = {"serve": serve, "decode": decode}
    if not argv or argv[0] not in commands:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    return commands[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main())
