-- The Lua NTLM handshake loop against the same loop in C, in one process:
--   LUA_CPATH="build/lua/?.so;build/bench/?.so;;" LUA_PATH="build/lua/?.lua;;" \
--     lua5.4 bench/bench_lua.lua [handshakes-per-round]
-- Both loops: full NTLMv2 handshakes with MIC, client asking for
-- confidentiality, contexts created and freed each time, users from a file.
local sspx = require "sspx"
local cloop = require "sspx_cloop"
local n = tonumber(arg[1]) or 20000
local rounds = 5

local path = os.tmpname()
local f = assert(io.open(path, "w")); f:write("TESTDOM:bob:Passw0rd!\n"); f:close()
local s = assert(sspx.server_credential{ users = path, netbios_domain = "TESTDOM" })
local c = assert(sspx.client_credential{ user = "TESTDOM\\bob", password = "Passw0rd!" })
local conf = sspx.flags.ISC_REQ_CONFIDENTIALITY

local function lua_loop(count)
  local t0 = os.clock()
  for _ = 1, count do
    local sc, cc = s:server_context(), c:client_context{ target = "HTTP/bench", flags = conf }
    local t3 = cc:step(sc:step(cc:step()))
    local _, st = sc:step(t3)
    if st ~= "complete" then error("handshake failed") end
    sc:close(); cc:close()
  end
  return os.clock() - t0
end

local function median(t) table.sort(t); return t[(#t + 1) // 2] end

lua_loop(1000); cloop.run(1000, path) -- warm-up
local tl, tc = {}, {}
for r = 1, rounds do -- interleaved rounds: load on the machine hits both alike
  tc[r] = cloop.run(n, path)
  tl[r] = lua_loop(n)
end
os.remove(path)
local cl, cc_ = median(tl), median(tc)
print(string.format("sspx NTLM handshake: Lua vs C, one process (%s, %d x %d handshakes)", _VERSION, rounds, n))
print(string.format("  %-10s %14s %12s %8s", "loop", "us/handshake", "hs/s", "vs C"))
print(string.format("  %-10s %14.2f %12.0f %8.2f", "C", cc_ / n * 1e6, n / cc_, 1.0))
print(string.format("  %-10s %14.2f %12.0f %8.2f", "Lua", cl / n * 1e6, n / cl, cc_ / cl))
print(string.format("  Lua/C handshake rate: %.2f   target >= 0.80   %s", cc_ / cl, cc_ / cl >= 0.8 and "PASS" or "MISS"))
