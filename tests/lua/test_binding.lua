-- The Lua binding over the C core: loops, the MS-NLMP values, failure
-- paths (nil, msg, status), misuse (errors), lifetimes (__close/__gc).
local sspx = require "sspx"
local core = require "sspx.core"
local T = {}

local function unhex(h)
  return (h:gsub("%s", ""):gsub("..", function(x) return string.char(tonumber(x, 16)) end))
end

local users = { ["TESTDOM\\bob"] = "Passw0rd!", ["*\\alice"] = "Wonderland1" }
local function lookup(user, domain)
  return users[domain:upper() .. "\\" .. user] or users["*\\" .. user]
end

local function server(opts)
  local o = { lookup = lookup, netbios_domain = "TESTDOM" }
  for k, v in pairs(opts or {}) do o[k] = v end
  return assert(sspx.server_credential(o))
end

local function client(user, pw)
  return assert(sspx.client_credential{ user = user, password = pw })
end

local function handshake(s, c, sopts, copts)
  local sc, cc = s:server_context(sopts), c:client_context(copts)
  local t1 = assert(cc:step())
  local t2, st2 = sc:step(t1)
  assert(st2 == "continue", "server leg 1: " .. tostring(st2))
  local t3 = assert(cc:step(t2))
  local t4, st, name, code = sc:step(t3)
  return sc, cc, t4, st, name, code
end

function T.loop_and_messages()
  local s, c = server(), client("TESTDOM\\bob", "Passw0rd!")
  for _, f in ipairs{ 0, sspx.flag("ISC_REQ", "INTEGRITY"), sspx.flag("ISC_REQ", "CONFIDENTIALITY", "REPLAY_DETECT") } do
    local sc, cc, out, st = handshake(s, c, nil, { flags = f, target = "HTTP/gw" })
    assert(st == "complete" and out == "", tostring(st))
    assert(sc:complete() and cc:complete())
    assert(sc:client_name() == "TESTDOM\\bob")
    assert(sc:flags() & sspx.flags.ASC_RET_INTEGRITY ~= 0)
    assert(sc:session_key() == cc:session_key() and #sc:session_key() == 16)
    for i = 1, 3 do
      local m = "message " .. i
      assert(cc:verify(m, sc:sign(m)) == true)
      if f & sspx.flags.ISC_REQ_CONFIDENTIALITY ~= 0 then
        assert(sc:unwrap(cc:wrap(m)) == m)
        assert(cc:unwrap(sc:wrap(m)) == m)
      end
    end
    assert(sc:query("names") == "TESTDOM\\bob")
    assert(sc:query("sizes").max_signature == 16)
    assert(sc:query("negotiation_info").name == "NTLM")
    assert(sc:query("native_names").client == "TESTDOM\\bob")
    sc:close(); cc:close()
  end
end

function T.any_domain_user_and_users_file()
  local s = server()
  local sc = handshake(s, client("alice", "Wonderland1"))
  assert(sc:client_name() == "TESTDOM\\alice", sc:client_name())
  local path = os.tmpname()
  local f = assert(io.open(path, "w")); f:write("TESTDOM:carol:Carol#123\n"); f:close()
  local fs = assert(sspx.server_credential{ users = path, netbios_domain = "TESTDOM" })
  os.remove(path)
  assert(handshake(fs, client("TESTDOM\\carol", "Carol#123")):client_name() == "TESTDOM\\carol")
end

-- MS-NLMP 4.2.4: the published NTLMv2 AUTHENTICATE accepted, the session
-- key and the sealed message as published; and our client's AUTHENTICATE.
local V2_AUTH = unhex[[
4e544c4d5353500003000000180018006c00000054005400840000000c000c0048000000080008005400000010
0010005c00000010001000d8000000358288e20501280a0000000f44006f006d00610069006e00550073006500
720043004f004d005000550054004500520086c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa68cd0a
b851e51c96aabc927bebef6a1c01010000000000000000000000000000aaaaaaaaaaaaaaaa0000000002000c00
44006f006d00610069006e0001000c005300650072007600650072000000000000000000c5dad2544fc9799094
ce1ce90bc9d03e]]
local V2_CHAL = unhex[[
4e544c4d53535000020000000c000c003800000033828ae20123456789abcdef00000000000000002400240044
000000060070170000000f53006500720076006500720002000c0044006f006d00610069006e0001000c005300
6500720076006500720000000000]]
local PLAIN = "P\0l\0a\0i\0n\0t\0e\0x\0t\0"
local SEALED = unhex"010000007fb38ec5c55d497600000000 54e50165bf1936dc996020c1811b0f06fb5f"

function T.msnlmp_v2_server()
  local s = assert(sspx.server_credential{ lookup = function(u, d)
    if u == "User" and d == "Domain" then return "Password" end end })
  local sc <close> = s:server_context{ flags = sspx.flags.ASC_REQ_CONFIDENTIALITY }
  core._test_set_rng(unhex"0123456789abcdef")
  local neg = "NTLMSSP\0" .. string.pack("<I4I4", 1, 0xE2888235) .. string.rep("\0", 16) .. unhex"0501280a0000000f"
  local chal, st = sc:step(neg)
  core._test_set_rng(nil)
  assert(st == "continue" and chal:sub(25, 32) == unhex"0123456789abcdef")
  local out, st2 = sc:step(V2_AUTH)
  assert(st2 == "complete", tostring(out))
  assert(sc:client_name() == "Domain\\User")
  assert(sc:session_key() == string.rep("\x55", 16))
  assert(sc:unwrap(SEALED) == PLAIN)
end

function T.msnlmp_v2_client()
  local c = assert(sspx.client_credential{ user = "User", domain = "Domain", password = "Password", workstation = "COMPUTER" })
  local cc <close> = c:client_context{ flags = sspx.flags.ISC_REQ_CONFIDENTIALITY }
  assert(cc:step())
  core._test_set_clock(0)
  core._test_set_rng(string.rep("\xaa", 8) .. string.rep("\x55", 16))
  local auth, st = cc:step(V2_CHAL)
  core._test_set_rng(nil)
  core._test_set_clock(nil)
  assert(st == "complete")
  assert(#auth == #V2_AUTH)
  assert(auth:sub(1, 64) .. auth:sub(73) == V2_AUTH:sub(1, 64) .. V2_AUTH:sub(73), "AUTHENTICATE differs")
  assert(cc:wrap(PLAIN) == SEALED)
end

local function expect_fail(want_name, ok, msg, name, code)
  assert(ok == nil, "expected a failure, got " .. tostring(ok))
  assert(type(msg) == "string" and #msg > 0)
  assert(name == want_name, "status " .. tostring(name) .. " (" .. tostring(msg) .. ")")
  assert(code == sspx.status[want_name], "code " .. tostring(code))
end

function T.failure_paths_return_nil_msg_status()
  local s = server()
  -- wrong password, unknown user
  local _, _, o, m, n, c = handshake(s, client("TESTDOM\\bob", "wrong"))
  expect_fail("SEC_E_LOGON_DENIED", o, m, n, c)
  assert(m:find("SSPX_ERR_BAD_PASSWORD", 1, true))
  _, _, o, m, n, c = handshake(s, client("TESTDOM\\eve", "x"))
  expect_fail("SEC_E_LOGON_DENIED", o, m, n, c)
  -- tampered MIC
  local sc, cc = s:server_context(), client("TESTDOM\\bob", "Passw0rd!"):client_context()
  local t3 = cc:step(sc:step(cc:step()))
  expect_fail("SEC_E_MESSAGE_ALTERED", sc:step(t3:sub(1, 72) .. string.char(t3:byte(73) ~ 1) .. t3:sub(74)))
  -- garbage, truncated, oversized tokens
  expect_fail("SEC_E_INVALID_TOKEN", s:server_context():step("NTLMSSP\0"))
  expect_fail("SEC_E_INVALID_TOKEN", s:server_context():step(string.rep("x", 4000)))
  -- a completed context takes no more tokens
  local sc2 = handshake(s, client("TESTDOM\\bob", "Passw0rd!"))
  expect_fail("SEC_E_INVALID_TOKEN", sc2:step(t3))
  -- channel bindings mismatch
  local cb1 = string.pack("<I4I4I4I4I4I4I4I4", 0, 0, 0, 0, 0, 0, 8, 32) .. "AAAAAAAA"
  local cb2 = string.pack("<I4I4I4I4I4I4I4I4", 0, 0, 0, 0, 0, 0, 8, 32) .. "BBBBBBBB"
  _, _, o, m, n, c = handshake(s, client("TESTDOM\\bob", "Passw0rd!"), { channel_bindings = cb1 }, { channel_bindings = cb2 })
  expect_fail("SEC_E_BAD_BINDINGS", o, m, n, c)
  -- tampered and replayed messages
  local a, b = handshake(s, client("TESTDOM\\bob", "Passw0rd!"), { flags = sspx.flags.ASC_REQ_REPLAY_DETECT },
    { flags = sspx.flags.ISC_REQ_CONFIDENTIALITY })
  local sig = b:sign("hello")
  expect_fail("SEC_E_MESSAGE_ALTERED", a:verify("hellO", sig))
  assert(a:verify("hello", sig))
  expect_fail("SEC_E_OUT_OF_SEQUENCE", a:verify("hello", sig))
  -- credential failures
  expect_fail("SEC_E_NO_CREDENTIALS", sspx.server_credential{})
  expect_fail("SEC_E_SECPKG_NOT_FOUND", sspx.server_credential{ package = "Nope", lookup = lookup })
  expect_fail("SEC_E_INVALID_PARAMETER", sspx.server_credential{ lookup = lookup, no_such_option = 1 })
  expect_fail("SEC_E_NO_CREDENTIALS", sspx.client_credential{ user = "bob", password = "" })
  expect_fail("SEC_E_INVALID_TOKEN", sspx.describe("not a token"))
end

function T.lookup_errors_never_crash()
  local calls = 0
  local s = assert(sspx.server_credential{ lookup = function(u)
    calls = calls + 1
    if u == "boom" then error("directory exploded") end
    if u == "table" then return { nt_hash = "short" } end
    if u == "hash" then return { nt_hash = unhex"FC525C9683E8FE067095BA2DDC971889" } end
    if u == "down" then return false, "unavailable" end
    if u == "func" then return print end
    return nil
  end })
  for _, case in ipairs{ { "boom", "directory exploded" }, { "table", "nt_hash" }, { "func", "function" } } do
    local _, _, o, m, n, c = handshake(s, client(case[1], "x"))
    expect_fail("SEC_E_LOGON_DENIED", o, m, n, c)
    assert(m:find(case[2], 1, true), m)
  end
  local _, _, o, m, n, c = handshake(s, client("down", "x"))
  expect_fail("SEC_E_NO_AUTHENTICATING_AUTHORITY", o, m, n, c)
  assert(select(4, handshake(s, client("hash", "Passw0rd!"))) == "complete")
  assert(calls == 5)
  -- a lookup running inside a coroutine
  local co = coroutine.wrap(function()
    return select(4, handshake(s, client("hash", "Passw0rd!")))
  end)
  assert(co() == "complete")
end

function T.misuse_raises()
  local s = server()
  local function raises(f, pattern)
    local ok, err = pcall(f)
    assert(not ok, "expected an error")
    assert(tostring(err):find(pattern), tostring(err))
  end
  raises(function() sspx.credential("not a table") end, "table")
  raises(function() core.credential{ usage = "sideways" } end, "usage")
  raises(function() core.credential{ lookup = 42 } end, "function expected")
  raises(function() core.credential{ users = {} } end, "file path")
  raises(function() core.credential{ lookup = lookup, netbios_domain = {} } end, "netbios_domain")
  local ctx = s:server_context()
  raises(function() ctx:step({}) end, "string expected")
  raises(function() ctx:query("no_such_attribute") end, "invalid option")
  raises(function() s.server_context(ctx) end, "sspx.credential expected")
  ctx:close()
  raises(function() ctx:step("x") end, "closed context")
  raises(function() ctx:client_name() end, "closed context")
  s:close()
  raises(function() s:server_context() end, "closed credential")
  raises(function() sspx.flag("ASC_REQ", "NOPE") end, "unknown flag")
  assert(getmetatable(ctx) == "sspx")
end

function T.close_gc_lifetimes()
  -- contexts keep their credential alive; close is idempotent; __close works
  local ctxs = {}
  do
    local s = server()
    for i = 1, 3 do ctxs[i] = s:server_context() end
  end
  collectgarbage("collect")
  for _, ctx in ipairs(ctxs) do
    local c = client("TESTDOM\\bob", "Passw0rd!"):client_context()
    local out, st = ctx:step(c:step(ctx:step(c:step())))
    assert(st == "complete" and ctx:client_name() == "TESTDOM\\bob")
  end
  do
    local s <close> = server()
    local x <close> = s:server_context()
    x:close() -- then __close closes it again: a no-op
    s:close()
  end
  for i = 1, 2000 do -- many objects left to __gc, also half-finished handshakes
    local s = server()
    local x = s:server_context()
    if i % 2 == 0 then x:step(client("TESTDOM\\bob", "Passw0rd!"):client_context():step()) end
  end
  collectgarbage("collect")
  collectgarbage("collect")
  assert(tostring(ctxs[1]):find("complete"))
  ctxs[1]:close()
  assert(tostring(ctxs[1]) == "sspx.context (closed)")
end

function T.constants_and_inspect()
  assert(sspx.status.SEC_E_OK == 0)
  assert(sspx.status.SEC_E_LOGON_DENIED == 0x8009030C)
  assert(sspx.status.SEC_E_INVALID_HANDLE == 0x80090301)
  assert(sspx.status.SEC_I_CONTINUE_NEEDED == 0x00090312)
  assert(sspx.flags.ASC_REQ_ALLOCATE_MEMORY == 0x100)
  assert(sspx.flags.ISC_REQ_CONFIDENTIALITY == 0x10)
  assert(sspx.flags.ASC_REQ_MESSAGES == 1 << 32)
  assert(sspx.status_name(0x8009030C) == "SEC_E_LOGON_DENIED")
  local d, text = sspx.inspect(V2_AUTH)
  assert(d.name == "NTLM" and text:find("AUTHENTICATE_MESSAGE") and text:find("NTProofStr"))
  local function find(node, name)
    if node.name == name then return node end
    for _, k in ipairs(node.children) do
      local f = find(k, name)
      if f then return f end
    end
  end
  assert(find(d, "UserName").text == "User")
  assert(find(d, "NegotiateFlags").value == 0xE2888235)
  local n, msg, name = sspx.inspect("garbage")
  assert(n == nil and name == "SEC_E_INVALID_TOKEN" and msg)
end

return T
