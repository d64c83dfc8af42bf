--- sspx: the Windows SSPI (AcceptSecurityContext and friends) for Lua 5.4.
-- Every token and key is handled in C (the private module sspx.core); this
-- module adds the friendlier names.
--
--   local sspx = require "sspx"
--   local cred <close> = sspx.credential{ usage = "server", users = "users.txt" }
--   local ctx <close> = cred:server_context()
--   local out, state = ctx:step(token)      -- or nil, message, status_name, status_code
--                                           -- [, error token: ASC_REQ_EXTENDED_ERROR]
--   local dc = ctx:delegated_credential()   -- Kerberos delegation: a client credential
local core = require "sspx.core"

local M = {
  version = core.version,
  status = core.status, -- SEC_E_* / SEC_I_* names -> values (as unsigned 32-bit)
  flags = core.flags,   -- ASC_REQ_*, ASC_RET_*, ISC_REQ_*, ISC_RET_* -> values
  packages = core.packages,
  status_name = core.status_name,
  describe = core.describe,
}

--- A credential: `sspx.credential{ usage = "server"|"client", package = "NTLM",
-- users = "path", lookup = function(user, domain) ... end, <package options> }`.
-- A lookup returns a password, `{ nt_hash = <16 bytes> }`, nil (no such
-- user) or `false, "unavailable"`; if it errors or returns anything else the
-- logon fails. Returns the credential, or nil, message, status name, code.
function M.credential(opts)
  assert(type(opts) == "table", "sspx.credential: expected a table of options")
  return core.credential(opts)
end

--- A server credential: `sspx.server_credential{ users = ..., lookup = ..., ... }`.
function M.server_credential(opts)
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  o.usage = "server"
  return core.credential(o)
end

--- A client credential: `sspx.client_credential{ user = "DOMAIN\\user", password = ... }`;
-- for Kerberos / Negotiate also `{ package = "Kerberos", user = "bob", domain = "REALM",
-- password = ... }` (the TGT is fetched by the first step) or `ccache = ...`.
function M.client_credential(opts)
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  o.usage = "client"
  return core.credential(o)
end

--- Flag values from names: `sspx.flag("ASC_REQ", "CONFIDENTIALITY", "REPLAY_DETECT")`.
function M.flag(prefix, ...)
  local v = 0
  for _, name in ipairs{...} do
    local f = core.flags[prefix .. "_" .. name]
    if not f then error("unknown flag " .. prefix .. "_" .. name, 2) end
    v = v | f
  end
  return v
end

--- The names of the flags set in `value`, for a prefix ("ASC_RET", "ISC_RET", ...).
function M.flag_names(prefix, value)
  local names = {}
  for name, f in pairs(core.flags) do
    if name:sub(1, #prefix + 1) == prefix .. "_" and f ~= 0 and value & f == f then
      names[#names + 1] = name:sub(#prefix + 2)
    end
  end
  table.sort(names)
  return names
end

local function render(node, depth, out)
  local line = string.rep("  ", depth) .. node.name
  if node.kind == "string" then
    line = line .. ": " .. string.format("%q", node.text or "")
  elseif node.kind == "enum" then
    line = line .. ": " .. (node.text or "?") .. " (" .. node.value .. ")"
  elseif node.kind == "uint" or node.kind == "flags" then
    line = line .. string.format(": %d (0x%x)", node.value, node.value)
  elseif node.kind == "bytes" then
    local b = node.bytes or ""
    line = line .. ": " .. (b:sub(1, 32):gsub(".", function(c) return string.format("%02x", c:byte()) end))
    if #b > 32 then line = line .. string.format("... (%d bytes)", #b) end
  end
  if node.length > 0 then line = line .. string.format("  [@%d+%d]", node.offset, node.length) end
  out[#out + 1] = line
  if node.kind == "flags" then
    local names = {}
    for _, k in ipairs(node.children) do names[#names + 1] = k.name end
    if #names > 0 then out[#out + 1] = string.rep("  ", depth + 1) .. table.concat(names, " | ") end
  else
    for _, k in ipairs(node.children) do render(k, depth + 1, out) end
  end
end

--- Decode a token for logs: returns the description table (from the C
-- decoders) and a text rendering; or nil, message, status name, code.
function M.inspect(token, package)
  local d, msg, name, code = core.describe(token, package)
  if not d then return nil, msg, name, code end
  local out = {}
  render(d, 0, out)
  return d, table.concat(out, "\n")
end

return M
