#!/usr/bin/env lua5.4
-- The sspx NTLM gateway: lua5.4 examples/gateway.lua config.lua
-- (an HTTP reverse proxy that authenticates clients with NTLM and forwards
-- them to an upstream with the user in X-Remote-User; docs/LUA_GATEWAY.md)
local gateway = require "sspx.gateway"

local path = arg[1]
if not path or path == "-h" or path == "--help" then
  io.stderr:write("usage: lua5.4 examples/gateway.lua CONFIG.lua\n")
  os.exit(path and 0 or 2)
end

local ok, err = pcall(function()
  local gw = gateway.new(gateway.load_config(path))
  gw:start()
  -- SIGTERM / SIGINT stop the loop cleanly when lua-posix is there
  local okp, psignal = pcall(require, "posix.signal")
  if okp then
    local stop = function() gw:stop() end
    psignal.signal(psignal.SIGTERM, stop)
    psignal.signal(psignal.SIGINT, stop)
  end
  gw:run()
  gw:log("info", "stopped")
end)
if not ok then
  io.stderr:write("gateway: ", tostring(err), "\n")
  os.exit(1)
end
