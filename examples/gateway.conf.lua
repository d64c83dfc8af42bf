-- Example configuration for examples/gateway.lua (docs/LUA_GATEWAY.md).
-- A Lua chunk returning a table; every key but upstream and users/lookup is optional.
return {
  -- where the gateway listens: loopback unless you say otherwise
  listen = { host = "127.0.0.1", port = 8080 },
  -- where authenticated requests go
  upstream = { host = "127.0.0.1", port = 8000 },

  -- who may log on: a users file (docs/USERS.md) ...
  -- users = "/etc/sspx/users.txt",
  -- ... or an inline table ("DOMAIN\\user" or "user" for any domain) ...
  users = {
    ["TESTDOM\\bob"] = "Passw0rd!",
    ["alice"] = "Wonderland1",
  },
  -- ... or a function: return a password, { nt_hash = <16 bytes> }, nil, or false, "unavailable"
  -- lookup = function(user, domain) if user == "carol" then return "Carol#123" end end,

  netbios_domain = "TESTDOM",
  schemes = { "Negotiate", "NTLM" }, -- offered in 401 answers, in this order
  user_header = "X-Remote-User",      -- "DOMAIN\user"; incoming copies are always stripped
  strip_headers = { "X-Remote-Groups" },
  credential_options = { },           -- NTLM options, e.g. require_mic = true
  log_level = "info",                 -- error | warn | info | debug (debug decodes every token)

  limits = {
    max_header_bytes = 16384,
    max_headers = 100,
    max_body_bytes = 64 * 1024 * 1024,
    max_connections = 256,
    handshake_timeout = 10,
    idle_timeout = 60,
    request_timeout = 10,
    send_timeout = 30,
    upstream_connect_timeout = 5,
    upstream_timeout = 30,
    max_response_header_bytes = 65536,
    upstream_pool = 16,
  },
}
