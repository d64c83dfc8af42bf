-- NTLM client tokens for the raw-socket tests, from the sspx Lua binding:
-- reads "DOMAIN\user password" on a line, prints the NEGOTIATE (base64); then
-- reads a CHALLENGE (base64) and prints the AUTHENTICATE; repeats.
local sspx = require "sspx"
local mime = require "mime"
io.stdout:setvbuf("line")
for line in io.lines() do
  local user, pw = line:match("^(%S+) (.*)$")
  local cred = assert(sspx.client_credential{ user = user, password = pw })
  local ctx = assert(cred:client_context())
  io.stdout:write((mime.b64((assert(ctx:step())))), "\n")
  local ch = io.read("l")
  local out = assert(ctx:step((mime.unb64(ch))))
  io.stdout:write((mime.b64(out)), "\n")
  ctx:close(); cred:close()
end
