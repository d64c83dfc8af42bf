-- Password credentials whose KDC cannot be reached: run by
-- run_kerberos_tests.py with KRB5_CONFIG = "<realm's krb5.conf>:<extra>",
-- the extra file naming a realm DOWN.TEST whose KDC is a closed 127.0.0.1
-- port. The credential is made; the first step fails with
-- SEC_E_NO_AUTHENTICATING_AUTHORITY.
local sspx = require "sspx"
local T = {}

assert(os.getenv("KRB5_CONFIG"):find(":", 1, true), "KRB5_CONFIG: orig:extra (run_kerberos_tests.py)")

local function attempt(domain)
  local c = assert(sspx.client_credential{ package = "Kerberos", user = "alice",
                                           password = "Alice#Pw1", domain = domain })
  local cc = assert(c:client_context{ target = "HTTP/localhost" })
  local t0 = os.time()
  local v, msg, name, code = cc:step()
  assert(v == nil and name == "SEC_E_NO_AUTHENTICATING_AUTHORITY", tostring(name) .. ": " .. tostring(msg))
  assert(code == sspx.status.SEC_E_NO_AUTHENTICATING_AUTHORITY)
  assert(msg:find("SSPX_ERR_KRB_NO_AUTHORITY", 1, true), msg)
  assert(os.time() - t0 < 30)
  assert(not cc:complete())
end

function T.unreachable_kdc() attempt("DOWN.TEST") end

function T.unknown_realm() attempt("NO-SUCH-REALM.TEST") end

-- the realm's own KDC still answers through the joined configuration
function T.reachable_realm_still_works()
  local s = assert(sspx.server_credential{ package = "Kerberos", keytab = os.getenv("SSPX_TEST_KEYTAB") })
  local c = assert(sspx.client_credential{ package = "Kerberos", user = "alice",
                                           password = "Alice#Pw1", domain = "TEST.LOCAL" })
  local sc = s:server_context()
  assert(sc:step((assert(assert(c:client_context{ target = "HTTP/localhost" }):step()))))
  assert(sc:client_name() == "TEST.LOCAL\\alice")
end

return T
