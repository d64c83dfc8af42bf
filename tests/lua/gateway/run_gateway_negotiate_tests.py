#!/usr/bin/python3
"""Tests of the Lua gateway with a Negotiate credential (package = "Negotiate",
keytab = ...): Kerberos through SPNEGO from curl --negotiate, raw NTLM still
offered, NTLM inside SPNEGO and Kerberos from the sspx Lua binding over raw
keep-alive sockets, replays, and the configuration checks.

usage: run_gateway_negotiate_tests.py BUILD_DIR

A throwaway Heimdal realm (tests/realm/realm.py: TEST.LOCAL, alice, service
HTTP/localhost) on 127.0.0.1, the echoing upstream of run_gateway_tests.py
and gateways on ports chosen by the kernel; everything is started and stopped
here with bounded waits. curl is pointed at http://localhost:PORT/ (the
service is HTTP/localhost) with --resolve localhost:PORT:127.0.0.1. One line
per check, then "N passed, M failed"; exit status 1 on any failure."""
import base64
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from luatest import (CURL, LUA, SRC, Checks, LineHelper, Procs, build_dir,  # noqa: E402
                     has_authorization, headers_of, hits, launch_gateway, lua_env,
                     start_upstream, user_values, write_gateway_conf, www_auth)
import luatest  # noqa: E402
sys.path.insert(0, os.path.join(SRC, "tests", "realm"))
from realm import Realm, heimdal_available  # noqa: E402

BUILD = build_dir(sys.argv[1:])
BASE_ENV = lua_env(BUILD)
BOB = "TESTDOM\\bob:Passw0rd!"

check = Checks()
procs = Procs()

# Client tokens from the sspx Lua binding. Lines in:
#   NEW <package> <packages|-> <user|-> <password|->   -> "<base64 first token>"
#   STEP <base64>                                       -> "<base64 or -> <continue|complete>"
# or "ERR <message>" on stdout.
TOKENS_LUA = r'''
local sspx = require "sspx"
local mime = require "mime"
io.stdout:setvbuf("line")
local ctx, cred
local function opt(v) if v ~= "-" then return v end end
for line in io.lines() do
  local ok, err = pcall(function()
    local cmd, rest = line:match("^(%S+)%s*(.*)$")
    if cmd == "NEW" then
      if ctx then ctx:close(); cred:close() end
      local pkg, pkgs, user, pw = rest:match("^(%S+) (%S+) (%S+) (.*)$")
      cred = assert(sspx.client_credential{ package = pkg, packages = opt(pkgs), user = opt(user),
                                            password = opt(pw) })
      ctx = assert(cred:client_context{ target = "HTTP/localhost",
                                        flags = sspx.flag("ISC_REQ", "MUTUAL_AUTH") })
      io.stdout:write(mime.b64((assert(ctx:step()))), "\n")
    elseif cmd == "STEP" then
      local out, state = assert(ctx:step((mime.unb64(rest))))
      io.stdout:write(#out > 0 and mime.b64(out) or "-", " ", state, "\n")
    end
  end)
  if not ok then io.stdout:write("ERR ", tostring(err):gsub("\n", " "), "\n") end
end
'''


class Tokens(LineHelper):
    """The Lua token helper above, one process (one client context at a time)."""

    def __init__(self, path, env):
        super().__init__([LUA, path], env, procs)

    def _ask(self, line):
        ans = self.ask(line)
        if ans.startswith("ERR "):
            raise RuntimeError(ans)
        return ans

    def new(self, package, packages="-", user="-", password="-"):
        return base64.b64decode(self._ask(f"NEW {package} {packages} {user} {password}"))

    def step(self, token):
        out, state = self._ask("STEP " + base64.b64encode(token).decode()).split()
        return (b"" if out == "-" else base64.b64decode(out)), state


def start_gateway(tmp, name, upstream_port, env, body):
    conf = os.path.join(tmp, name + ".conf.lua")
    write_gateway_conf(conf, upstream_port, {"handshake_timeout": 3, "idle_timeout": 5,
                                             "request_timeout": 3, "upstream_timeout": 5}, body)
    return launch_gateway(conf, env, procs)


def lua_config_error(tmp, body, env):
    """gateway.new(config) in a fresh Lua: the error message, or None if it is accepted."""
    script = os.path.join(tmp, "cfg.lua")
    with open(script, "w") as f:
        f.write('local g = require "sspx.gateway"\n'
                'local ok, err = pcall(g.new, { upstream = "127.0.0.1:9", ' + body + ' })\n'
                'io.write(ok and "OK" or tostring(err))\n')
    r = subprocess.run([LUA, script], env=env, capture_output=True, text=True, timeout=20)
    return None if r.stdout == "OK" else (r.stdout or r.stderr)


def curl(port, paths, *args, env):
    """curl -v to http://localhost:PORT/<path>... ; (codes, bodies, stderr)."""
    argv = [CURL, "-s", "-S", "-v", "--noproxy", "*", "--max-time", "15",
            "--resolve", f"localhost:{port}:127.0.0.1", *args]
    for p in paths:
        argv += ["-w", "\n%{http_code}\n", f"http://localhost:{port}{p}"]
    r = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30)
    parts = re.split(r"\n(\d{3})\n", r.stdout)
    bodies, codes = parts[0:-1:2], parts[1::2]
    return codes, bodies, r.stderr


class Raw(luatest.Raw):
    """luatest.Raw for http://localhost:PORT/: GET with an optional Authorization, the
    body decoded as latin-1."""

    host = "localhost"

    def request(self, path="/", authorization=None):
        headers = [("Authorization", authorization)] if authorization else []
        st, hdrs, body = super().request(path, headers)
        return st, hdrs, body.decode("latin-1")


def nego_token(hdrs):
    for v in www_auth(hdrs):
        s, _, t = v.partition(" ")
        if s == "Negotiate" and t:
            return base64.b64decode(t)
    return None


def b64(t):
    return base64.b64encode(t).decode()


def main():
    why = heimdal_available()
    if why:
        print("cannot run:", why)
        print("0 passed, 1 failed")
        sys.exit(1)
    tmp = tempfile.mkdtemp(prefix="sspx-gwneg-")
    try:
        with Realm() as realm:
            realm.kinit("alice")
            run(tmp, realm)
    finally:
        procs.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)
    print(check.summary())
    sys.exit(check.status())


def run(tmp, realm):
    alice_env = realm.env("alice", base=BASE_ENV)
    empty_env = realm.env(ccache=os.path.join(tmp, "empty.ccache"), base=BASE_ENV)
    gw_env = realm.env(ccache=os.path.join(tmp, "gw.ccache"), base=BASE_ENV)
    up, up_port = start_upstream(BASE_ENV, procs)
    lua_users = '  users = { ["TESTDOM\\\\bob"] = "Passw0rd!" },\n  netbios_domain = "TESTDOM",\n'
    gw, port = start_gateway(tmp, "nego", up_port, gw_env,
                             f'  package = "Negotiate",\n  keytab = "{realm.keytab}",\n' + lua_users)
    tok_path = os.path.join(tmp, "tokens.lua")
    with open(tok_path, "w") as f:
        f.write(TOKENS_LUA)
    tokens = Tokens(tok_path, alice_env)

    # -- the challenge
    c = Raw(port)
    st, hdrs, _ = c.request("/")
    check("401 offers WWW-Authenticate: Negotiate and NTLM", st == 401
          and www_auth(hdrs) == ["Negotiate", "NTLM"], (st, www_auth(hdrs)))
    c.close()

    # -- curl --negotiate (Kerberos in SPNEGO)
    codes, bodies, err = curl(port, ["/hello"], "--negotiate", "-u", ":", env=alice_env)
    h = headers_of(bodies[0]) if bodies else None
    check("curl --negotiate (alice's ticket) -> 200 from the upstream", codes == ["200"] and h is not None,
          (codes, err[-600:]))
    check("upstream sees X-Remote-User: TEST.LOCAL\\alice", user_values(h) == ["TEST.LOCAL\\alice"],
          user_values(h))
    check("upstream does not see the Authorization header", h is not None and not has_authorization(h))
    check("curl got the final SPNEGO token (accept-completed, AP-REP) with the 200",
          re.search(r"< WWW-Authenticate: Negotiate \S+", err) is not None, err[-600:])
    check("request log line names TEST.LOCAL\\alice",
          gw.wait_line(lambda ln: "user=TEST.LOCAL\\alice status=200" in ln, 5) is not None)

    codes, bodies, err = curl(port, ["/a", "/b"], "--negotiate", "-u", ":", env=alice_env)
    check("curl --negotiate, two URLs on one connection -> 200, 200 as alice",
          codes == ["200", "200"] and all(user_values(headers_of(b)) == ["TEST.LOCAL\\alice"]
                                          for b in bodies)
          and err.count("Connected to localhost") == 1, (codes, err[-400:]))

    n0 = hits(up_port)
    codes, _, err = curl(port, ["/noticket"], "--negotiate", "-u", ":", env=empty_env)
    check("curl --negotiate without a ticket -> 401", codes == ["401"], (codes, err[-400:]))
    check("... and the upstream was not hit", hits(up_port) == n0, f"{n0} -> {hits(up_port)}")

    # -- curl's Kerberos token replayed on another connection
    codes, _, err = curl(port, ["/first"], "--negotiate", "-u", ":", env=alice_env)
    sent = re.findall(r"> Authorization: Negotiate (\S+)", err)
    n0 = hits(up_port)
    c = Raw(port)
    st, hdrs, _ = c.request("/replay", "Negotiate " + sent[0]) if sent else (None, [], "")
    st2, _, _ = c.request("/replay2")
    check("curl's Kerberos token replayed on a second connection -> 401 (replay cache)",
          codes == ["200"] and len(sent) == 1 and st == 401 and st2 == 401, (codes, len(sent), st, st2))
    check("... and the upstream was not hit", hits(up_port) == n0, f"{n0} -> {hits(up_port)}")
    c.close()

    # -- NTLM is still offered
    codes, bodies, err = curl(port, ["/ntlm"], "--ntlm", "-u", BOB, env=alice_env)
    check("curl --ntlm bob against the Negotiate credential -> 200, X-Remote-User: TESTDOM\\bob",
          codes == ["200"] and user_values(headers_of(bodies[0])) == ["TESTDOM\\bob"], (codes, err[-400:]))
    n0 = hits(up_port)
    codes, _, _ = curl(port, ["/ntlm"], "--ntlm", "-u", "TESTDOM\\bob:wrong", env=alice_env)
    check("curl --ntlm wrong password -> 401, no upstream hit", codes == ["401"] and hits(up_port) == n0,
          codes)

    # -- spoofing the user header with Kerberos
    codes, bodies, _ = curl(port, ["/spoof"], "--negotiate", "-u", ":", "-H", "X-Remote-User: admin",
                            "-H", "X_Remote_User: admin2", env=alice_env)
    check("Kerberos + spoofed X-Remote-User: upstream sees only TEST.LOCAL\\alice",
          codes == ["200"] and user_values(headers_of(bodies[0])) == ["TEST.LOCAL\\alice"],
          user_values(headers_of(bodies[0]) if bodies else None))

    # -- NTLM inside SPNEGO (sspx Lua client, Negotiate restricted to NTLM), keep-alive
    c = Raw(port)
    first = tokens.new("Negotiate", "ntlm", "TESTDOM\\bob", "Passw0rd!")
    st, hdrs, _ = c.request("/spnego-ntlm", "Negotiate " + b64(first))
    chal = nego_token(hdrs)
    ok1 = first[:1] == b"\x60" and b"NTLMSSP\0" in first and st == 401 and chal is not None \
        and chal[:1] == b"\xa1"
    resp, state = tokens.step(chal) if chal else (b"", "")
    st2, hdrs2, body2 = c.request("/spnego-ntlm", "Negotiate " + b64(resp))
    final = nego_token(hdrs2)
    fstate = tokens.step(final)[1] if final else None
    check("NTLM inside SPNEGO: NegTokenInit -> 401 + NegTokenResp(CHALLENGE)", ok1, (st, first[:1]))
    check("NTLM inside SPNEGO: NegTokenResp(AUTHENTICATE, MIC) -> 200 as TESTDOM\\bob",
          st2 == 200 and user_values(headers_of(body2)) == ["TESTDOM\\bob"], st2)
    check("... the 200 carries accept-completed + MIC, which the client verifies",
          final is not None and fstate == "complete", fstate)
    st3, _, body3 = c.request("/again")
    check("... the connection stays authenticated", st3 == 200
          and user_values(headers_of(body3)) == ["TESTDOM\\bob"], st3)
    c.close()

    # -- a SPNEGO continuation on another connection
    a, b = Raw(port), Raw(port)
    first = tokens.new("Negotiate", "ntlm", "TESTDOM\\bob", "Passw0rd!")
    st, hdrs, _ = a.request("/x", "Negotiate " + b64(first))
    resp, _ = tokens.step(nego_token(hdrs))
    n0 = hits(up_port)
    stb, _, _ = b.request("/x", "Negotiate " + b64(resp))
    sta, _, bodya = a.request("/x", "Negotiate " + b64(resp))
    check("SPNEGO continuation on another connection -> 401; on its own -> 200",
          stb == 401 and sta == 200 and user_values(headers_of(bodya)) == ["TESTDOM\\bob"]
          and hits(up_port) == n0 + 1, (stb, sta))
    a.close()
    b.close()

    # -- Kerberos from the Lua client: SPNEGO and raw AP-REQ; replays
    for pkg, packages in (("Negotiate", "kerberos"), ("Kerberos", "-")):
        a, b = Raw(port), Raw(port)
        token = tokens.new(pkg, packages)
        st, hdrs, body = a.request("/krb", "Negotiate " + b64(token))
        final = nego_token(hdrs)
        fstate = tokens.step(final)[1] if final else None
        check(f"{pkg} (Lua client) Kerberos token -> 200 as TEST.LOCAL\\alice, mutual auth completes",
              st == 200 and user_values(headers_of(body)) == ["TEST.LOCAL\\alice"] and fstate == "complete",
              (st, fstate))
        n0 = hits(up_port)
        stb, _, _ = b.request("/krb", "Negotiate " + b64(token))
        sta, _, _ = a.request("/krb", "Negotiate " + b64(token))
        sta2, _, _ = a.request("/krb")
        check(f"{pkg}: the same token on a second connection -> 401; again on the first -> 401, "
              "which drops its authentication", stb == 401 and sta == 401 and sta2 == 401
              and hits(up_port) == n0, (stb, sta, sta2))
        a.close()
        b.close()

    # -- a new NegTokenInit restarts an unfinished SPNEGO handshake
    c = Raw(port)
    first = tokens.new("Negotiate", "ntlm", "TESTDOM\\bob", "Passw0rd!")
    st, _, _ = c.request("/r", "Negotiate " + b64(first))
    token = tokens.new("Negotiate", "kerberos")
    st2, _, body = c.request("/r", "Negotiate " + b64(token))
    check("a fresh NegTokenInit mid-handshake restarts it (Kerberos -> 200 as alice)",
          st == 401 and st2 == 200 and user_values(headers_of(body)) == ["TEST.LOCAL\\alice"], (st, st2))
    c.close()

    # -- a garbage SPNEGO token
    c = Raw(port)
    st, hdrs, _ = c.request("/g", "Negotiate YIIBhwYGKwYBBQUCoIIBezCCAXeg")
    check("a truncated NegTokenInit -> 401 with fresh challenges", st == 401
          and www_auth(hdrs) == ["Negotiate", "NTLM"], st)
    c.close()
    check("refused SPNEGO handshakes are logged with a reason",
          gw.wait_line(lambda ln: "authentication failed" in ln and "SEC_E" in ln, 5) is not None)

    # -- a Kerberos-only gateway (keytab, no users), Negotiate offered alone
    gw2, port2 = start_gateway(tmp, "krbonly", up_port, gw_env,
                               f'  package = "Negotiate",\n  keytab = "{realm.keytab}",\n'
                               '  schemes = { "Negotiate" },\n')
    codes, bodies, err = curl(port2, ["/k"], "--negotiate", "-u", ":", env=alice_env)
    check("Kerberos-only gateway (keytab, no users): curl --negotiate -> 200 as alice",
          codes == ["200"] and user_values(headers_of(bodies[0])) == ["TEST.LOCAL\\alice"], (codes, err[-300:]))
    c = Raw(port2)
    st, hdrs, _ = c.request("/")
    check("... and its 401 offers Negotiate only", st == 401 and www_auth(hdrs) == ["Negotiate"],
          www_auth(hdrs))
    c.close()

    # -- configuration
    e = lua_config_error(tmp, f'package = "Negotiate", keytab = "{tmp}/missing.keytab"', gw_env)
    check("config: a missing keytab file is refused at start", e is not None and "credential" in e, e)
    e = lua_config_error(tmp, f'keytab = "{realm.keytab}", users = {{ bob = "x" }}', gw_env)
    check("config: keytab without package = \"Negotiate\" is refused", e is not None and "keytab" in e, e)
    e = lua_config_error(tmp, 'package = "Kerberos", users = { bob = "x" }', gw_env)
    check("config: package other than NTLM/Negotiate is refused", e is not None and "package" in e, e)
    e = lua_config_error(tmp, 'users = { bob = "x" }', gw_env)
    check("config: the NTLM default is unchanged", e is None, e)

    # -- an NTLM gateway still refuses SPNEGO
    gw3, port3 = start_gateway(tmp, "ntlmonly", up_port, gw_env, lua_users)
    c = Raw(port3)
    token = tokens.new("Negotiate", "kerberos")
    st, _, _ = c.request("/k", "Negotiate " + b64(token))
    check("an NTLM-credential gateway refuses a Kerberos SPNEGO token (401)", st == 401, st)
    c.close()
    check("the gateways are still running", all(g.p.poll() is None for g in (gw, gw2, gw3)))


if __name__ == "__main__":
    main()
