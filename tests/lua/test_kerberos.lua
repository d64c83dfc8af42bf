-- The Lua binding with Kerberos against a throwaway realm (started by
-- run_kerberos_tests.py, which sets KRB5_CONFIG, alice's KRB5CCNAME,
-- KRB5_KTNAME and SSPX_TEST_KEYTAB): delegation to a second service,
-- password credentials, extended-error tokens, and their refusals.
local sspx = require "sspx"
local T = {}

local KEYTAB = assert(os.getenv("SSPX_TEST_KEYTAB"), "SSPX_TEST_KEYTAB (run_kerberos_tests.py)")
local FRONT, BACKEND = "HTTP/localhost", "HTTP/backend.localhost"
local KRB5_OID = "\x06\x09\x2a\x86\x48\x86\xf7\x12\x01\x02\x02"
local F = sspx.flags

local function server(principal, package, extra)
  local o = { package = package or "Kerberos", keytab = KEYTAB }
  if o.package == "Kerberos" then o.principal = (principal or FRONT) .. "@TEST.LOCAL" end
  for k, v in pairs(extra or {}) do o[k] = v end
  return assert(sspx.server_credential(o))
end

local function client(opts)
  local o = { package = "Kerberos" }
  for k, v in pairs(opts or {}) do o[k] = v end
  return assert(sspx.client_credential(o))
end

-- client -> server until both are complete
local function handshake(c, s, target, cflags, sflags)
  local sc = assert(s:server_context{ flags = sflags or 0 })
  local cc = assert(c:client_context{ target = target or FRONT, flags = cflags or 0 })
  local tok = assert(cc:step())
  for _ = 1, 6 do
    tok = assert(sc:step(tok))
    if cc:complete() or (sc:complete() and tok == "") then break end
    tok = assert(cc:step(tok))
    if sc:complete() and cc:complete() then break end
  end
  assert(sc:complete() and cc:complete(), "handshake incomplete")
  return sc, cc
end

-- the error-code of a GSS-framed KRB-ERROR (60 len <krb5 OID> 03 00 7e ...), or nil
local function krb_error_code(tok)
  if type(tok) ~= "string" or #tok < 20 or tok:byte(1) ~= 0x60 then return nil end
  local off = 3
  if tok:byte(2) & 0x80 ~= 0 then off = off + (tok:byte(2) & 0x7f) end
  if tok:sub(off, off + #KRB5_OID - 1) ~= KRB5_OID then return nil end
  off = off + #KRB5_OID
  if tok:sub(off, off + 2) ~= "\x03\x00\x7e" then return nil end
  local i = tok:find("\xa6\x03\x02\x01", off, true) -- error-code [6] INTEGER (small)
  return i and tok:byte(i + 4) or -1
end

local function expect_fail(want, ...)
  local n = select("#", ...)
  local v, msg, name, code = ...
  assert(v == nil, "expected a failure, got " .. tostring(v))
  assert(name == want, "expected " .. want .. ", got " .. tostring(name) .. ": " .. tostring(msg))
  assert(type(msg) == "string" and math.type(code) == "integer" and code == sspx.status[want])
  return msg, n, select(5, ...)
end

function T.delegation_to_a_second_service()
  local fs, bs, alice = server(), server(BACKEND), client()
  local sc, cc = handshake(alice, fs, FRONT, F.ISC_REQ_DELEGATE | F.ISC_REQ_MUTUAL_AUTH,
                           F.ASC_REQ_DELEGATE)
  assert(sc:flags() & F.ASC_RET_DELEGATE ~= 0 and cc:flags() & F.ISC_RET_DELEGATE ~= 0)
  assert(sc:client_name() == "TEST.LOCAL\\alice")
  local dc <close> = assert(sc:delegated_credential())
  assert(dc:package() == "Kerberos")
  assert(tostring(dc):match("^sspx.credential %(Kerberos"))
  -- the second hop, as alice
  local bsc, bcc = handshake(dc, bs, BACKEND, F.ISC_REQ_MUTUAL_AUTH)
  assert(bsc:client_name() == "TEST.LOCAL\\alice", bsc:client_name())
  assert(bsc:query("native_names").client == "alice@TEST.LOCAL")
  assert(bsc:unwrap(bcc:wrap("on behalf of alice")) == "on behalf of alice")
  -- a ticket for the front service is refused by the backend
  local other = assert(dc:client_context{ target = FRONT })
  expect_fail("SEC_E_LOGON_DENIED", bs:server_context():step((assert(other:step()))))
  -- each call an independent credential; the front context may go first
  local d2 = assert(sc:delegated_credential())
  dc:close()
  sc:close(); cc:close(); fs:close()
  local bsc2 = handshake(d2, bs, BACKEND)
  assert(bsc2:client_name() == "TEST.LOCAL\\alice")
  d2:close()
  assert(tostring(d2) == "sspx.credential (closed)")
  assert(not pcall(d2.client_context, d2, { target = BACKEND }))
end

function T.delegation_through_negotiate()
  local fs = server(nil, "Negotiate", { packages = "kerberos" })
  local alice = client{ package = "Negotiate", packages = "kerberos" }
  local sc = handshake(alice, fs, FRONT, F.ISC_REQ_DELEGATE, F.ASC_REQ_DELEGATE)
  assert(sc:query("negotiation_info").name == "Kerberos")
  local dc = assert(sc:delegated_credential())
  assert(dc:package() == "Kerberos")
  local bsc = handshake(dc, server(BACKEND), BACKEND)
  assert(bsc:client_name() == "TEST.LOCAL\\alice")
end

function T.no_delegation_when_not_asked()
  local fs, alice = server(), client()
  local both = F.ISC_REQ_DELEGATE | F.ISC_REQ_MUTUAL_AUTH
  -- the server did not ask
  local sc, cc = handshake(alice, fs, FRONT, both, 0)
  assert(sc:flags() & F.ASC_RET_DELEGATE == 0)
  local msg = expect_fail("SEC_E_NO_CREDENTIALS", sc:delegated_credential())
  assert(msg:find("SSPX_ERR_KRB_NO_DELEGATION", 1, true), msg)
  -- a client context has none
  expect_fail("SEC_E_INVALID_HANDLE", cc:delegated_credential())
  -- the client did not delegate
  sc = handshake(alice, fs, FRONT, F.ISC_REQ_MUTUAL_AUTH, F.ASC_REQ_DELEGATE)
  expect_fail("SEC_E_NO_CREDENTIALS", sc:delegated_credential())
  -- not complete yet
  sc = assert(fs:server_context{ flags = F.ASC_REQ_DELEGATE })
  expect_fail("SEC_E_INVALID_HANDLE", sc:delegated_credential())
  -- a closed context is misuse
  sc:close()
  assert(not pcall(sc.delegated_credential, sc))
  -- NTLM cannot delegate
  local ns = assert(sspx.server_credential{ lookup = function() return "Passw0rd!" end })
  local nc = assert(sspx.client_credential{ user = "TESTDOM\\bob", password = "Passw0rd!" })
  local nsc, ncc = ns:server_context{ flags = F.ASC_REQ_DELEGATE }, nc:client_context()
  assert(nsc:step((assert(ncc:step((assert(nsc:step((assert(ncc:step()))))))))))
  assert(nsc:complete())
  expect_fail("SEC_E_UNSUPPORTED_FUNCTION", nsc:delegated_credential())
end

function T.password_credentials()
  local fs = server()
  for _, o in ipairs{ { user = "bob", password = "Bob#Pw22", domain = "test.local" },
                      { user = "bob@TEST.LOCAL", password = "Bob#Pw22" },
                      { user = "bob", password = "Bob#Pw22" } } do
    local sc = handshake(client(o), fs, FRONT, F.ISC_REQ_MUTUAL_AUTH)
    assert(sc:client_name() == "TEST.LOCAL\\bob", sc:client_name())
  end
  -- Negotiate hands the identity to Kerberos
  local nsc = handshake(client{ package = "Negotiate", user = "bob", password = "Bob#Pw22",
                                domain = "TEST.LOCAL" },
                        server(nil, "Negotiate", { packages = "kerberos" }))
  assert(nsc:client_name() == "TEST.LOCAL\\bob")
  assert(nsc:query("negotiation_info").name == "Kerberos")
  -- a password credential's TGT can be delegated
  local sc = handshake(client{ user = "bob", password = "Bob#Pw22", domain = "TEST.LOCAL" }, fs,
                       FRONT, F.ISC_REQ_DELEGATE, F.ASC_REQ_DELEGATE)
  local bsc = handshake(assert(sc:delegated_credential()), server(BACKEND), BACKEND)
  assert(bsc:client_name() == "TEST.LOCAL\\bob")
end

function T.password_refused()
  -- the credential is made; the first step asks the KDC and fails
  for _, up in ipairs{ { "bob", "not-bobs" }, { "alice", "Bob#Pw22" }, { "nosuchuser", "x" } } do
    local c = client{ user = up[1], password = up[2], domain = "TEST.LOCAL" }
    local cc = assert(c:client_context{ target = FRONT })
    local msg, n = expect_fail("SEC_E_LOGON_DENIED", cc:step())
    assert(msg:find("SSPX_ERR_KRB", 1, true), msg)
    assert(n == 4) -- no error token on a client
    assert(not cc:complete())
  end
  -- options refused at acquisition
  expect_fail("SEC_E_INVALID_PARAMETER",
              sspx.client_credential{ package = "Kerberos", password = "Bob#Pw22" })
  expect_fail("SEC_E_INVALID_PARAMETER", sspx.client_credential{ package = "Kerberos", user = "bob" })
  expect_fail("SEC_E_INVALID_PARAMETER",
              sspx.client_credential{ package = "Kerberos", user = "bob", password = "Bob#Pw22",
                                      ccache = os.getenv("KRB5CCNAME") })
  expect_fail("SEC_E_INVALID_PARAMETER",
              sspx.client_credential{ package = "Kerberos", domain = "TEST.LOCAL" })
end

function T.extended_error_token()
  local fs, alice = server(), client()
  local tok = assert(assert(alice:client_context{ target = FRONT }):step())
  local p = #tok - 19 -- inside the authenticator's ciphertext
  local bad = tok:sub(1, p - 1) .. string.char(tok:byte(p) ~ 1) .. tok:sub(p + 1)
  -- without the flag: four values, no token
  local _, n = expect_fail("SEC_E_LOGON_DENIED", fs:server_context():step(bad))
  assert(n == 4)
  -- with it: the status and a KRB-ERROR (KRB_AP_ERR_BAD_INTEGRITY, 31) as the fifth value
  local sc = fs:server_context{ flags = F.ASC_REQ_EXTENDED_ERROR }
  local _, n5, etok = expect_fail("SEC_E_LOGON_DENIED", sc:step(bad))
  assert(n5 == 5 and type(etok) == "string")
  assert(etok:byte(1) == 0x60)
  local i = etok:find(KRB5_OID, 1, true)
  assert(i and i < 6 and etok:sub(i + #KRB5_OID, i + #KRB5_OID + 1) == "\x03\x00")
  assert(krb_error_code(etok) == 31)
  assert(not sc:complete())
  assert(sspx.inspect(etok) or true) -- describing it never crashes
  -- a replayed AP-REQ: KRB_AP_ERR_REPEAT (34)
  local good = assert(assert(alice:client_context{ target = FRONT }):step())
  assert(fs:server_context():step(good))
  local _, _, rtok = expect_fail("SEC_E_INVALID_TOKEN",
                                 fs:server_context{ flags = F.ASC_REQ_EXTENDED_ERROR }:step(good))
  assert(krb_error_code(rtok) == 34)
  -- garbage: KRB_ERR_GENERIC (60)
  local _, _, gtok = expect_fail("SEC_E_INVALID_TOKEN",
                                 fs:server_context{ flags = F.ASC_REQ_EXTENDED_ERROR }:step(("A"):rep(40)))
  assert(krb_error_code(gtok) == 60)
  -- success with the flag: as usual
  sc = fs:server_context{ flags = F.ASC_REQ_EXTENDED_ERROR }
  local out, state = sc:step((assert(assert(alice:client_context{ target = FRONT }):step())))
  assert(out == "" and state == "complete" and sc:client_name() == "TEST.LOCAL\\alice")
  -- NTLM has no error token
  local ns = assert(sspx.server_credential{ lookup = function() return "Passw0rd!" end })
  local nc = assert(sspx.client_credential{ user = "TESTDOM\\bob", password = "wrong" })
  local nsc, ncc = ns:server_context{ flags = F.ASC_REQ_EXTENDED_ERROR }, nc:client_context()
  local t2 = assert(nsc:step((assert(ncc:step()))))
  local _, n4 = expect_fail("SEC_E_LOGON_DENIED", nsc:step((assert(ncc:step(t2)))))
  assert(n4 == 4)
end

-- docs/LUA.md's examples, as they are: the ```lua block after
-- "<!-- example: NAME -->", run with the globals the text names (keytab,
-- token_from_client); `return <names>` is appended to read its locals.
local DOCS = assert(os.getenv("SSPX_TEST_DOCS"), "SSPX_TEST_DOCS (run_kerberos_tests.py)")

local function doc_example(name, returns, env, replace)
  local f = assert(io.open(DOCS))
  local text = f:read("a")
  f:close()
  local marker = "<!-- example: " .. name .. " -->"
  local at = assert(text:find(marker, 1, true), marker)
  local block = assert(text:match("```lua\n(.-)```", at), "no lua block after " .. marker)
  for old, new in pairs(replace or {}) do
    local i, j = block:find(old, 1, true)
    assert(i, old)
    block = block:sub(1, i - 1) .. new .. block:sub(j + 1)
  end
  setmetatable(env, { __index = _G })
  local chunk = assert(load(block .. "\nreturn " .. returns, "docs/LUA.md:" .. name, "t", env))
  return chunk()
end

function T.docs_examples()
  local alice = client()
  local function first(flags)
    return assert(assert(alice:client_context{ target = FRONT, flags = flags or 0 }):step())
  end
  -- delegation: the backend sees alice
  local tok = doc_example("delegation", "token_for_backend",
                          { keytab = KEYTAB, token_from_client = first(F.ISC_REQ_DELEGATE) })
  local b = server(BACKEND):server_context()
  assert(b:step(tok))
  assert(b:client_name() == "TEST.LOCAL\\alice")
  -- password: bob's token; a wrong password takes the failure branch
  local token = doc_example("password", "token", {})
  local s = server():server_context()
  assert(s:step(token))
  assert(s:client_name() == "TEST.LOCAL\\bob")
  local t2, err, status = doc_example("password", "token, err, status", {},
                                      { ['password = "Bob#Pw22"'] = 'password = "wrong"' })
  assert(t2 == nil and status == "SEC_E_LOGON_DENIED" and err:find("SSPX_ERR_KRB", 1, true))
  -- extended errors: a tampered token -> 401 with a KRB-ERROR; a good one -> 200
  local good = first()
  local p = #good - 19
  local bad = good:sub(1, p - 1) .. string.char(good:byte(p) ~ 1) .. good:sub(p + 1)
  local hs, header = doc_example("extended-error", "http_status, header",
                                 { keytab = KEYTAB, token_from_client = bad })
  assert(hs == 401 and header:sub(1, 11) == "Negotiate Y", header) -- base64 of 0x60...
  assert(krb_error_code(require("mime").unb64(header:sub(11))) == 31)
  hs, header = doc_example("extended-error", "http_status, header",
                           { keytab = KEYTAB, token_from_client = good })
  assert(hs == 200 and header == nil)
end

return T
