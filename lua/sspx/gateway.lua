--- sspx.gateway: an HTTP/1.1 reverse proxy that authenticates its clients
-- with NTLM (HTTP "NTLM" and "Negotiate" carrying raw NTLM, as IIS accepts),
-- or with a Negotiate credential (package = "Negotiate", keytab = ...) also
-- SPNEGO (Kerberos, NTLM inside SPNEGO), and forwards authenticated requests to one upstream with the user in a
-- header. LuaSocket, non-blocking sockets, socket.select and one coroutine
-- per client connection. See docs/LUA_GATEWAY.md.
--
--   local gateway = require "sspx.gateway"
--   local gw = assert(gateway.new(gateway.load_config("gateway.conf.lua")))
--   gw:start()   -- binds; gw.host, gw.port
--   gw:run()     -- until gw:stop()
local socket = require "socket"
local mime = require "mime"
local sspx = require "sspx"

local M = { _VERSION = "sspx.gateway 0.1" }

local now = socket.gettime
local fmt = string.format

-------------------------------------------------------------------- config

M.defaults = {
  listen = { host = "127.0.0.1", port = 8080 },
  upstream = nil, -- required: { host = "127.0.0.1", port = 8000 } or "host:port"
  netbios_domain = nil, -- the credential's NetBIOS domain (sspx default "SSPX")
  package = "NTLM", -- the server credential's package: "NTLM" or "Negotiate" (SPNEGO: Kerberos + NTLM)
  keytab = nil, -- Negotiate: the Kerberos keytab (e.g. "FILE:/etc/http.keytab"); KRB5_KTNAME otherwise
  schemes = { "Negotiate", "NTLM" }, -- offered in 401s, in this order
  user_header = "X-Remote-User",
  strip_headers = {}, -- more request headers to drop before forwarding
  credential_options = {}, -- extra NTLM options (docs/NTLM.md), e.g. require_mic = true
  log_level = "info", -- "error" | "warn" | "info" | "debug"
  limits = {
    max_header_bytes = 16384, -- request line + headers -> 431 and close
    max_headers = 100, -- header lines -> 431 and close
    max_body_bytes = 64 * 1024 * 1024, -- Content-Length above -> 413 and close
    max_connections = 256, -- simultaneous client connections -> 503 and close
    handshake_timeout = 10, -- s to the next request while unauthenticated / mid-handshake
    idle_timeout = 60, -- s between requests on an authenticated keep-alive connection
    request_timeout = 10, -- s to receive a whole request head once it started; body stalls
    send_timeout = 30, -- s a write to the client may stall
    upstream_connect_timeout = 5, -- s -> 502
    upstream_timeout = 30, -- s an upstream read/write may stall -> 504
    max_response_header_bytes = 65536, -- upstream head above -> 502
    upstream_pool = 16, -- idle upstream keep-alive connections kept
  },
}

local LEVELS = { error = 1, warn = 2, info = 3, debug = 4 }

local function parse_hostport(v, what)
  if type(v) == "table" then return v.host, v.port end
  if type(v) == "number" then return nil, v end
  if type(v) ~= "string" then error(what .. ": expected \"host:port\" or {host=, port=}", 0) end
  local h, p = v:match("^%[(.*)%]:(%d+)$")
  if not h then h, p = v:match("^(.*):(%d+)$") end
  if not h then error(what .. ": expected \"host:port\", got " .. v, 0) end
  return h, tonumber(p)
end

--- A lookup over an inline table {["DOMAIN\\user"] or ["user"] = password
-- or {nt_hash = 16 bytes}}: names compare case-blind; a key without a domain
-- matches any domain.
function M.table_lookup(users)
  local map = {}
  for k, v in pairs(users) do
    assert(type(k) == "string", "users: keys must be \"DOMAIN\\\\user\" or \"user\"")
    local dom, user = k:match("^(.*)\\([^\\]*)$")
    if not dom then dom, user = "", k end
    map[dom:lower() .. "\\" .. user:lower()] = v
  end
  return function(user, domain)
    local v = map[(domain or ""):lower() .. "\\" .. user:lower()]
    if v == nil then v = map["\\" .. user:lower()] end
    return v
  end
end

--- Read a configuration file: a Lua chunk that returns a table, or sets
-- globals (listen = ..., upstream = ...). Returns the table.
function M.load_config(path)
  local env = setmetatable({}, { __index = _G })
  local chunk, err = loadfile(path, "t", env)
  if not chunk then error("config: " .. err, 0) end
  local t = chunk()
  if type(t) ~= "table" then
    t = {}
    for k, v in pairs(env) do t[k] = v end
  end
  return t
end

local EXTRA_KEYS = { upstream = true, users = true, lookup = true, logger = true, netbios_domain = true,
                     keytab = true }

-- Merge the user's table over the defaults, checking names and types.
local function normalize(cfg)
  local c = {}
  for k, v in pairs(M.defaults) do
    if k ~= "limits" then c[k] = v end
  end
  for k, v in pairs(cfg) do
    if k ~= "limits" then
      if M.defaults[k] == nil and not EXTRA_KEYS[k] then
        error("config: unknown option '" .. tostring(k) .. "'", 0)
      end
      c[k] = v
    end
  end
  c.limits = {}
  for k, v in pairs(M.defaults.limits) do c.limits[k] = v end
  for k, v in pairs(cfg.limits or {}) do
    if M.defaults.limits[k] == nil then error("config: unknown limit '" .. tostring(k) .. "'", 0) end
    if type(v) ~= "number" or v < 0 then error("config: limit '" .. k .. "' must be a number >= 0", 0) end
    c.limits[k] = v
  end
  -- socket.select works on fd_sets: keep client + upstream descriptors below FD_SETSIZE
  if c.limits.max_connections > 480 then error("config: max_connections is at most 480 (select)", 0) end
  c.listen_host, c.listen_port = parse_hostport(c.listen, "listen")
  c.listen_host = c.listen_host or "127.0.0.1"
  c.listen_port = c.listen_port or 8080
  if not c.upstream then error("config: 'upstream' is required", 0) end
  c.upstream_host, c.upstream_port = parse_hostport(c.upstream, "upstream")
  c.upstream_host = c.upstream_host or "127.0.0.1"
  if not c.upstream_port then error("config: upstream port missing", 0) end
  if not LEVELS[c.log_level] then error("config: log_level must be error, warn, info or debug", 0) end
  if type(c.user_header) ~= "string" or not c.user_header:match("^[%w!#$%%&'*+%-.^_`|~]+$") then
    error("config: user_header must be a header name", 0)
  end
  if type(c.package) ~= "string" or (c.package:lower() ~= "ntlm" and c.package:lower() ~= "negotiate") then
    error("config: package must be \"NTLM\" or \"Negotiate\"", 0)
  end
  c.package = c.package:lower() == "ntlm" and "NTLM" or "Negotiate"
  if c.keytab ~= nil and (type(c.keytab) ~= "string" or c.package ~= "Negotiate") then
    error("config: keytab is a path, and only with package = \"Negotiate\"", 0)
  end
  if c.users == nil and c.lookup == nil and c.package == "NTLM" then
    error("config: give 'users' (a file or a table) or 'lookup'", 0)
  end
  local offered = {}
  for _, s in ipairs(c.schemes) do
    local l = s:lower()
    if l ~= "ntlm" and l ~= "negotiate" then error("config: schemes may be \"NTLM\" and \"Negotiate\"", 0) end
    offered[#offered + 1] = l == "ntlm" and "NTLM" or "Negotiate"
  end
  if #offered == 0 then error("config: no scheme in 'schemes'", 0) end
  c.schemes = offered
  return c
end

-------------------------------------------------------------------- event loop

-- One waiter per socket: waiters[sock] = { co = , mode = "r"|"w", deadline = }.
local Loop = {}
Loop.__index = Loop

local function new_loop()
  return setmetatable({ waiters = {}, running = false }, Loop)
end

-- Called inside a coroutine: true when `sock` is ready, false on the deadline.
function Loop:wait(sock, mode, deadline)
  local co = coroutine.running()
  self.waiters[sock] = { co = co, mode = mode, deadline = deadline }
  local ok = coroutine.yield()
  self.waiters[sock] = nil
  return ok
end

function Loop:spawn(fn, onerror, ...)
  local co = coroutine.create(fn)
  self:resume(co, onerror, ...)
  return co
end

local coerr = setmetatable({}, { __mode = "k" })

function Loop:resume(co, onerror, ...)
  if onerror then coerr[co] = onerror end
  local ok, err = coroutine.resume(co, ...)
  if not ok then
    local h = coerr[co]
    if h then h(debug.traceback(co, tostring(err))) end
  end
end

function Loop:step(max_wait)
  local rt, wt, earliest = {}, {}, nil
  for sock, w in pairs(self.waiters) do
    if w.mode == "r" then rt[#rt + 1] = sock else wt[#wt + 1] = sock end
    if w.deadline and (not earliest or w.deadline < earliest) then earliest = w.deadline end
  end
  local t = max_wait or 1
  if earliest then t = math.max(0, math.min(t, earliest - now())) end
  local r, w = socket.select(rt, wt, t)
  local ready = {}
  for _, s in ipairs(r) do ready[#ready + 1] = s end
  for _, s in ipairs(w) do ready[#ready + 1] = s end
  for _, s in ipairs(ready) do
    local wt_ = self.waiters[s]
    if wt_ then
      self.waiters[s] = nil
      self:resume(wt_.co, nil, true)
    end
  end
  local tnow, expired = now(), {}
  for sock, w in pairs(self.waiters) do
    if w.deadline and w.deadline <= tnow then expired[#expired + 1] = sock end
  end
  for _, sock in ipairs(expired) do
    local w = self.waiters[sock]
    if w and w.deadline and w.deadline <= tnow then
      self.waiters[sock] = nil
      self:resume(w.co, nil, false)
    end
  end
end

-------------------------------------------------------------------- buffered non-blocking streams

local Stream = {}
Stream.__index = Stream

local function new_stream(loop, sock)
  sock:settimeout(0)
  return setmetatable({ loop = loop, sock = sock, buf = "", closed = false }, Stream)
end

-- Read more bytes into self.buf; returns true, or nil, "closed"|"timeout"|err.
function Stream:fill(deadline)
  while true do
    local data, err, partial = self.sock:receive(65536)
    local got = data or partial
    if got and #got > 0 then
      self.buf = self.buf .. got
      return true
    end
    if err == "closed" then self.closed = true; return nil, "closed" end
    if err ~= "timeout" and err ~= "wantread" then return nil, err end
    if deadline and now() >= deadline then return nil, "timeout" end
    if not self.loop:wait(self.sock, "r", deadline) then return nil, "timeout" end
  end
end

-- The head of a message (through the blank line): the head, or nil, err with
-- err = "too large" | "closed" | "timeout" | ...; `first_deadline` applies
-- until the first byte, `deadline_after` (seconds) from then on.
function Stream:read_head(max, first_deadline, after)
  local deadline = first_deadline
  local started = #self.buf > 0
  if started and after then deadline = math.min(first_deadline or math.huge, now() + after) end
  while true do
    -- tolerate leading empty lines between messages (RFC 9112 2.2)
    if not started then
      local s = self.buf:match("^[\r\n]*()")
      if s > 1 then self.buf = self.buf:sub(s) end
    end
    local e = self.buf:find("\r?\n\r?\n")
    if e then
      local _, stop = self.buf:find("\r?\n\r?\n")
      if stop > max then return nil, "too large" end
      local head = self.buf:sub(1, stop)
      self.buf = self.buf:sub(stop + 1)
      return head
    end
    if #self.buf > max then return nil, "too large" end
    local ok, err = self:fill(deadline)
    if not ok then
      if err == "closed" and #self.buf == 0 then return nil, "eof" end
      return nil, err
    end
    if not started and #self.buf > 0 and self.buf:find("[^\r\n]") then
      started = true
      if after then deadline = now() + after end
    end
  end
end

-- Exactly n bytes, delivered in pieces to sink(piece) (which may fail: nil, err).
function Stream:read_exact(n, stall, sink)
  while n > 0 do
    if #self.buf == 0 then
      local ok, err = self:fill(now() + stall)
      if not ok then return nil, err end
    end
    local piece = self.buf:sub(1, n)
    self.buf = self.buf:sub(#piece + 1)
    n = n - #piece
    local ok, err = sink(piece)
    if not ok then return nil, err, "sink" end
  end
  return true
end

-- One line (CRLF or LF) of at most max bytes.
function Stream:read_line(max, stall)
  while true do
    local e = self.buf:find("\n", 1, true)
    if e then
      local line = self.buf:sub(1, e)
      self.buf = self.buf:sub(e + 1)
      return line
    end
    if #self.buf > max then return nil, "too large" end
    local ok, err = self:fill(now() + stall)
    if not ok then return nil, err end
  end
end

-- Everything until the peer closes, in pieces.
function Stream:read_all(stall, sink)
  while true do
    if #self.buf > 0 then
      local piece = self.buf
      self.buf = ""
      local ok, err = sink(piece)
      if not ok then return nil, err, "sink" end
    end
    local ok, err = self:fill(now() + stall)
    if not ok then
      if err == "closed" then return true end
      return nil, err
    end
  end
end

function Stream:send(data, stall)
  local i, n = 1, #data
  local deadline = now() + stall
  while i <= n do
    local last, err, lastsent = self.sock:send(data, i)
    if last then
      i = last + 1
    elseif err == "timeout" or err == "wantwrite" then
      i = (lastsent or i - 1) + 1
      if i <= n and not self.loop:wait(self.sock, "w", deadline) then return nil, "timeout" end
    else
      self.closed = true
      return nil, err
    end
  end
  return true
end

function Stream:close()
  self.loop.waiters[self.sock] = nil
  self.sock:close()
  self.closed = true
end

-------------------------------------------------------------------- HTTP helpers

local REASONS = {
  [200] = "OK", [400] = "Bad Request", [401] = "Unauthorized", [403] = "Forbidden",
  [408] = "Request Timeout", [411] = "Length Required", [413] = "Content Too Large",
  [431] = "Request Header Fields Too Large", [500] = "Internal Server Error",
  [501] = "Not Implemented", [502] = "Bad Gateway", [503] = "Service Unavailable",
  [504] = "Gateway Timeout", [505] = "HTTP Version Not Supported",
}

local TOKEN = "^[%w!#$%%&'*+%-.^_`|~]+$"

-- Parse a head into start line parts and a header list {{name, value}, ...};
-- nil, reason on malformed input.
local function parse_head(head)
  local lines = {}
  for line in head:gmatch("([^\n]*)\n") do
    lines[#lines + 1] = line:gsub("\r$", "")
  end
  while #lines > 0 and lines[#lines] == "" do lines[#lines] = nil end
  local start = lines[1]
  if not start then return nil, "empty head" end
  local headers = {}
  for i = 2, #lines do
    local line = lines[i]
    if line:find("^[ \t]") then return nil, "obsolete line folding" end
    local name, value = line:match("^([^:]*):[ \t]*(.-)[ \t]*$")
    if not name or not name:match(TOKEN) then return nil, "malformed header line" end
    if value:find("[%z\r\n]") then return nil, "control character in a header value" end
    headers[#headers + 1] = { name, value }
  end
  return start, headers
end

local function header_get(headers, lname)
  local found
  for _, h in ipairs(headers) do
    if h[1]:lower() == lname then
      if found then return found, true end -- duplicate
      found = h[2]
    end
  end
  return found
end

local function header_all(headers, lname)
  local all = {}
  for _, h in ipairs(headers) do
    if h[1]:lower() == lname then all[#all + 1] = h[2] end
  end
  return all
end

local function has_token(value, tok)
  for t in (value or ""):gmatch("[^,]+") do
    if t:match("^%s*(.-)%s*$"):lower() == tok then return true end
  end
  return false
end

-- "X-Remote-User", "x_remote_user", "X-REMOTE_USER" all name the same thing
-- for CGI/WSGI-style upstreams (HTTP_X_REMOTE_USER): compare on this form.
local function canon(name)
  return name:lower():gsub("_", "-")
end

local HOP = {
  ["connection"] = true, ["keep-alive"] = true, ["proxy-connection"] = true,
  ["proxy-authenticate"] = true, ["proxy-authorization"] = true, ["te"] = true,
  ["trailer"] = true, ["transfer-encoding"] = true, ["upgrade"] = true,
}

-------------------------------------------------------------------- the gateway

local Gateway = {}
Gateway.__index = Gateway

--- A gateway from a configuration table (see M.defaults). Returns the
-- gateway, or raises with a message on a bad configuration.
function M.new(cfg)
  local c = normalize(cfg)
  local self = setmetatable({ cfg = c, limits = c.limits, loop = new_loop(), conns = 0,
                              pool = {}, next_id = 0, stats = { requests = 0, forwarded = 0 } }, Gateway)
  self.level = LEVELS[c.log_level]
  self.logger = c.logger or function(line) io.stderr:write(line, "\n") end
  -- the credential: a users file, an inline table, a lookup function (file first, then lookup)
  local opts = {}
  for k, v in pairs(c.credential_options or {}) do opts[k] = v end
  if c.netbios_domain then opts.netbios_domain = c.netbios_domain end
  opts.package = c.package
  if c.keytab then opts.keytab = c.keytab end
  if type(c.users) == "string" then opts.users = c.users
  elseif type(c.users) == "table" then opts.lookup = M.table_lookup(c.users)
  elseif c.users ~= nil then error("config: users must be a file path or a table", 0) end
  if c.lookup then
    if opts.lookup then error("config: give either an inline users table or lookup, not both", 0) end
    if type(c.lookup) ~= "function" then error("config: lookup must be a function", 0) end
    opts.lookup = c.lookup
  end
  local cred, msg = sspx.server_credential(opts)
  if not cred then error("config: cannot acquire the server credential: " .. tostring(msg), 0) end
  self.cred = cred
  -- a Negotiate credential takes SPNEGO tokens (Kerberos, NTLM inside SPNEGO) too
  self.spnego = c.package == "Negotiate"
  -- the names to strip from requests, in canonical form
  self.strip = { [canon(c.user_header)] = true }
  for _, h in ipairs(c.strip_headers or {}) do self.strip[canon(h)] = true end
  return self
end

function Gateway:log(level, fmtstr, ...)
  if LEVELS[level] <= self.level then
    local ok, line = pcall(fmt, fmtstr, ...)
    self.logger(os.date("!%Y-%m-%dT%H:%M:%SZ") .. " " .. level .. " " .. (ok and line or fmtstr))
  end
end

--- Bind and listen (only on the configured address). Sets self.host, self.port.
function Gateway:start()
  local c = self.cfg
  local host = c.listen_host
  local srv = assert(host:find(":", 1, true) and socket.tcp6() or socket.tcp4())
  assert(srv:setoption("reuseaddr", true))
  local ok, err = srv:bind(host, c.listen_port)
  if not ok then error(fmt("cannot bind %s:%s: %s", host, c.listen_port, err), 0) end
  assert(srv:listen(128))
  srv:settimeout(0)
  self.server = srv
  self.host, self.port = srv:getsockname()
  self.port = tonumber(self.port)
  -- resolve the upstream once, now (the loop must never block on DNS)
  local uh = c.upstream_host
  if not uh:match("^[%d.]+$") and not uh:find(":", 1, true) then
    local ip = socket.dns.toip(uh)
    if not ip then error("cannot resolve upstream host " .. uh, 0) end
    uh = ip
  end
  self.upstream_ip = uh
  self:log("info", "listening on %s:%d, upstream %s:%d", self.host, self.port, uh, c.upstream_port)
  self.loop:spawn(function() self:accept_loop() end,
    function(e) self:log("error", "accept loop: %s", e) end)
  return self
end

function Gateway:run()
  self.loop.running = true
  while self.loop.running do self.loop:step(1) end
  if self.server then self.server:close() end
end

--- Run one turn of the loop (for embedding in another loop).
function Gateway:step(max_wait) self.loop:step(max_wait) end

function Gateway:stop() self.loop.running = false end

function Gateway:accept_loop()
  local srv = self.server
  while true do
    self.loop:wait(srv, "r")
    while true do
      local cl, err = srv:accept()
      if not cl then
        if err ~= "timeout" then self:log("warn", "accept: %s", err) end
        break
      end
      if self.conns >= self.limits.max_connections then
        cl:settimeout(0)
        cl:send("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 20\r\nConnection: close\r\n"
          .. "Retry-After: 1\r\n\r\ntoo many connections")
        cl:close()
        self:log("warn", "503: max_connections (%d) reached", self.limits.max_connections)
      else
        self.conns = self.conns + 1
        self.next_id = self.next_id + 1
        cl:setoption("tcp-nodelay", true) -- responses go out in pieces: no Nagle delays
        local conn = { id = self.next_id, stream = new_stream(self.loop, cl) }
        local ip, port = cl:getpeername()
        conn.peer = fmt("%s:%s", ip or "?", port or "?")
        local function cleanup()
          if conn.ctx then conn.ctx:close(); conn.ctx = nil end
          if conn.upstream then conn.upstream:close(); conn.upstream = nil end
          if not conn.stream.closed then conn.stream:close() end
          if not conn.done then conn.done = true; self.conns = self.conns - 1 end
        end
        self.loop:spawn(function()
          self:serve(conn)
          cleanup()
        end, function(e)
          self:log("error", "connection %s: %s", conn.peer, e)
          cleanup()
        end)
      end
    end
  end
end

-- Send a small complete response. extra: list of "Name: value" lines.
function Gateway:respond(conn, status, extra, body, close)
  body = body or (fmt("%d %s\n", status, REASONS[status] or ""))
  local t = { fmt("HTTP/1.1 %d %s\r\n", status, REASONS[status] or "Status") }
  for _, l in ipairs(extra or {}) do t[#t + 1] = l .. "\r\n" end
  t[#t + 1] = "Content-Type: text/plain; charset=utf-8\r\n"
  t[#t + 1] = fmt("Content-Length: %d\r\n", conn.head_only and 0 or #body)
  if close then t[#t + 1] = "Connection: close\r\n"
  elseif conn.http10 then t[#t + 1] = "Connection: keep-alive\r\n" end
  t[#t + 1] = "\r\n"
  if not conn.head_only then t[#t + 1] = body end
  conn.status = status
  return conn.stream:send(table.concat(t), self.limits.send_timeout)
end

function Gateway:challenges(extra)
  local t = extra or {}
  for _, s in ipairs(self.cfg.schemes) do t[#t + 1] = "WWW-Authenticate: " .. s end
  return t
end

function Gateway:log_request(conn, req, t0)
  self:log("info", "%s %s \"%s %s\" user=%s status=%s %dms", conn.peer, conn.id,
    req and req.method or "-", req and req.target or "-",
    conn.user and conn.user_logged or "-", tostring(conn.status or "-"),
    math.floor((now() - t0) * 1000 + 0.5))
end

function Gateway:debug_token(conn, dir, token)
  if self.level < LEVELS.debug then return end
  local _, text = sspx.inspect(token)
  self:log("debug", "%s %s %s token (%d bytes)\n%s", conn.peer, conn.id, dir, #token,
    text or "(undecodable)")
end

-- The connection loop: one request after another.
function Gateway:serve(conn)
  local L = self.limits
  while true do
    -- which timeout applies while we wait for the next request
    local wait = (conn.user and not conn.ctx) and L.idle_timeout or L.handshake_timeout
    local head, err = conn.stream:read_head(L.max_header_bytes, now() + wait, L.request_timeout)
    local t0 = now()
    if not head then
      if err == "too large" then
        self:respond(conn, 431, nil, nil, true)
        self:log("info", "%s %s 431 request head over %d bytes; closed", conn.peer, conn.id,
          L.max_header_bytes)
      elseif err == "timeout" then
        self:log(conn.ctx and "info" or "debug", "%s %s %s; closed", conn.peer, conn.id,
          conn.ctx and "handshake timed out" or "idle timeout")
      elseif err ~= "eof" and err ~= "closed" then
        self:log("debug", "%s %s read: %s", conn.peer, conn.id, tostring(err))
      end
      return
    end
    conn.status, conn.head_only = nil, false
    local req = {}
    local keep = self:handle(conn, head, req)
    self.stats.requests = self.stats.requests + 1
    self:log_request(conn, req, t0)
    if not keep or conn.stream.closed then return end
  end
end

local function b64dec(s)
  if not s:match("^[A-Za-z0-9+/]+=?=?$") then return nil end
  return (mime.unb64(s))
end

-- One request. Returns true to keep the connection.
function Gateway:handle(conn, head, req)
  local L = self.limits
  local start, headers = parse_head(head)
  if not start then
    self:respond(conn, 400, nil, nil, true)
    return false
  end
  if #headers > L.max_headers then
    self:respond(conn, 431, nil, nil, true)
    return false
  end
  local method, target, version = start:match("^(%S+) (%S+) HTTP/(%d%.%d)$")
  if not method or not method:match(TOKEN) or target:find("[%z\1-\31\127]") then
    self:respond(conn, 400, nil, nil, true)
    return false
  end
  req.method, req.target, req.headers = method, target, headers
  if version ~= "1.1" and version ~= "1.0" then
    self:respond(conn, 505, nil, nil, true)
    return false
  end
  conn.http10 = version == "1.0"
  conn.head_only = method == "HEAD"
  local connection = table.concat(header_all(headers, "connection"), ",")
  local keep = not has_token(connection, "close")
  if conn.http10 then keep = has_token(connection, "keep-alive") end

  -- framing of the request body
  local te = header_all(headers, "transfer-encoding")
  local cls = header_all(headers, "content-length")
  if #te > 0 then
    -- chunked request bodies are not forwarded (documented): 411, and the
    -- body cannot be skipped reliably, so the connection closes
    local chunked = has_token(table.concat(te, ","), "chunked")
    self:respond(conn, chunked and 411 or 501, nil,
      "chunked request bodies are not supported; send Content-Length\n", true)
    return false
  end
  local length = 0
  if #cls > 0 then
    for _, v in ipairs(cls) do
      if not v:match("^%d+$") or (length ~= 0 and tonumber(v) ~= length) or #v > 15 then
        self:respond(conn, 400, nil, nil, true)
        return false
      end
      length = tonumber(v)
    end
  end
  req.length = length
  if length > L.max_body_bytes then
    self:respond(conn, 413, nil, nil, true)
    return false
  end
  local expect = header_get(headers, "expect")
  req.expect_continue = expect and expect:lower() == "100-continue"

  -- authentication
  local authz, dup = header_get(headers, "authorization")
  if dup then
    return self:deny(conn, req, keep, "several Authorization headers")
  end
  if authz then
    local scheme, b64 = authz:match("^(%S+)%s+(%S+)%s*$")
    local ls = scheme and scheme:lower()
    if ls == "ntlm" or ls == "negotiate" then
      local offered = false
      for _, s in ipairs(self.cfg.schemes) do
        if s:lower() == ls then offered = true end
      end
      local token = offered and b64dec(b64)
      if not token then
        return self:deny(conn, req, keep, "bad or unoffered " .. scheme .. " token")
      end
      return self:auth_leg(conn, req, keep, scheme, token)
    end
    -- another scheme (e.g. Basic): ignored; the connection's state decides
  end
  if not conn.user then
    return self:deny(conn, req, keep, nil)
  end
  return self:forward(conn, req, keep)
end

-- Skip the request body (its framing is known); false when it cannot be.
function Gateway:skip_body(conn, req)
  if req.length == 0 then return true end
  if req.expect_continue then return false end -- the client may never send it
  return conn.stream:read_exact(req.length, self.limits.request_timeout, function() return true end)
end

-- 401 with the fresh challenges; the handshake state of the connection is dropped.
function Gateway:deny(conn, req, keep, why)
  if conn.ctx then conn.ctx:close(); conn.ctx = nil end
  if why then
    conn.user, conn.user_logged = nil, nil
    self:log("info", "%s %s authentication failed: %s", conn.peer, conn.id, why)
  end
  if not self:skip_body(conn, req) then keep = false end
  self:respond(conn, 401, self:challenges(), "authentication required\n", not keep)
  return keep
end

local function ntlm_type(token)
  if #token < 12 or token:sub(1, 8) ~= "NTLMSSP\0" then return nil end
  return string.unpack("<I4", token, 9)
end

-- A fresh server context for a handshake that (re)starts on this connection:
-- ctx, or nil after answering 500 (the second result: keep the connection).
function Gateway:fresh_context(conn, req, keep)
  if conn.ctx then conn.ctx:close(); conn.ctx = nil end
  conn.user, conn.user_logged = nil, nil
  local ctx, msg = self.cred:server_context()
  if not ctx then
    self:log("error", "server_context: %s", tostring(msg))
    if not self:skip_body(conn, req) then keep = false end
    self:respond(conn, 500, nil, nil, not keep)
  end
  return ctx, keep
end

-- The handshake continues: the context stays with this connection (it cannot
-- without keep-alive: refused with `no_keepalive`) and the client gets 401
-- with our token.
function Gateway:continue_handshake(conn, req, keep, ctx, scheme, out, no_keepalive)
  if not keep then
    ctx:close()
    return self:deny(conn, req, keep, no_keepalive)
  end
  conn.ctx, conn.ctx_scheme, conn.ctx_started = ctx, scheme, now()
  self:debug_token(conn, "-> " .. scheme, out)
  if not self:skip_body(conn, req) then
    conn.ctx:close(); conn.ctx = nil
    keep = false
  end
  self:respond(conn, 401, { "WWW-Authenticate: " .. scheme .. " " .. mime.b64(out) },
    "authentication continues\n", not keep)
  return keep
end

function Gateway:auth_leg(conn, req, keep, scheme, token)
  local mtype = ntlm_type(token)
  self:debug_token(conn, "<- " .. scheme, token)
  if not mtype then
    if self.spnego and scheme:lower() == "negotiate" then
      return self:spnego_leg(conn, req, keep, scheme, token)
    end
    return self:deny(conn, req, keep, scheme .. " token is not raw NTLM (SPNEGO needs package = \"Negotiate\")")
  end
  if mtype == 1 then
    -- a NEGOTIATE (re)starts the handshake on this connection
    local ctx
    ctx, keep = self:fresh_context(conn, req, keep)
    if not ctx then return keep end
    local out, state, name = ctx:step(token)
    if not out or state ~= "continue" then
      ctx:close()
      return self:deny(conn, req, keep, "NEGOTIATE refused: " .. tostring(state or name))
    end
    return self:continue_handshake(conn, req, keep, ctx, scheme, out,
      "NTLM needs a keep-alive connection")
  end
  -- AUTHENTICATE (or anything else): only on this connection's own pending context
  local ctx = conn.ctx
  if not ctx then
    return self:deny(conn, req, keep, "AUTHENTICATE without a NEGOTIATE on this connection")
  end
  conn.ctx = nil
  local out, state, status = ctx:step(token)
  if not out then
    ctx:close()
    return self:deny(conn, req, keep, fmt("%s", status or state))
  end
  if state ~= "complete" then
    ctx:close()
    return self:deny(conn, req, keep, "unexpected handshake state " .. tostring(state))
  end
  local name = ctx:client_name()
  ctx:close()
  if not name or name:find("[%z\1-\31\127]") then
    -- never let a name with control characters reach a header
    return self:deny(conn, req, keep, "client name with control characters")
  end
  conn.user = name
  conn.user_logged = name
  self:log("debug", "%s %s authenticated as %s (%s)", conn.peer, conn.id, name, scheme)
  return self:forward(conn, req, keep)
end

-- A SPNEGO token under "Negotiate" (Negotiate credential only). A GSS-framed
-- InitialContextToken (0x60: a NegTokenInit, or a raw Kerberos AP-REQ) starts
-- (or restarts) the handshake of this connection; anything else (NegTokenResp)
-- continues this connection's own pending context. Kerberos completes on the
-- first token (its AP-REP goes back with the upstream's response); NTLM inside
-- SPNEGO takes two requests on the same keep-alive connection.
function Gateway:spnego_leg(conn, req, keep, scheme, token)
  local ctx
  if token:byte(1) == 0x60 then
    ctx, keep = self:fresh_context(conn, req, keep)
    if not ctx then return keep end
  else
    ctx = conn.ctx
    if not ctx or conn.ctx_scheme ~= scheme then
      return self:deny(conn, req, keep, "SPNEGO continuation without a handshake on this connection")
    end
    conn.ctx = nil
  end
  local out, state, status = ctx:step(token)
  if not out then
    ctx:close()
    return self:deny(conn, req, keep, fmt("%s (%s)", tostring(status or state), tostring(state)))
  end
  if state == "continue" then
    return self:continue_handshake(conn, req, keep, ctx, scheme, out,
      "the handshake needs a keep-alive connection")
  end
  local name = ctx:client_name()
  ctx:close()
  if not name or name:find("[%z\1-\31\127]") then
    return self:deny(conn, req, keep, "client name with control characters")
  end
  conn.user = name
  conn.user_logged = name
  self:log("debug", "%s %s authenticated as %s (%s, SPNEGO)", conn.peer, conn.id, name, scheme)
  if #out > 0 then
    -- the final token (Kerberos AP-REP, SPNEGO accept-completed + MIC) goes with the response
    self:debug_token(conn, "-> " .. scheme, out)
    req.auth_reply = "WWW-Authenticate: " .. scheme .. " " .. mime.b64(out)
  end
  return self:forward(conn, req, keep)
end

-------------------------------------------------------------------- upstream

function Gateway:upstream_connect()
  local c = self.cfg
  local L = self.limits
  -- an idle pooled connection, unless the upstream closed it meanwhile
  while #self.pool > 0 do
    local s = table.remove(self.pool)
    local r = socket.select({ s.sock }, nil, 0)
    if #r == 0 and #s.buf == 0 then return s, true end
    s:close()
  end
  local sock = self.upstream_ip:find(":", 1, true) and socket.tcp6() or socket.tcp4()
  sock:settimeout(0)
  local ok, err = sock:connect(self.upstream_ip, c.upstream_port)
  if not ok and err == "timeout" then
    if not self.loop:wait(sock, "w", now() + L.upstream_connect_timeout) then
      sock:close()
      return nil, "timeout"
    end
    ok, err = sock:connect(self.upstream_ip, c.upstream_port)
    if not ok and err == "already connected" then ok = true end
  end
  if not ok then
    sock:close()
    return nil, err
  end
  sock:setoption("tcp-nodelay", true)
  return new_stream(self.loop, sock), false
end

function Gateway:upstream_release(s)
  if #self.pool < self.limits.upstream_pool and not s.closed and #s.buf == 0 then
    self.pool[#self.pool + 1] = s
  else
    s:close()
  end
end

-- Build the request head for the upstream.
function Gateway:upstream_head(conn, req)
  local conn_tokens = {}
  for _, v in ipairs(header_all(req.headers, "connection")) do
    for t in v:gmatch("[^,%s]+") do conn_tokens[t:lower()] = true end
  end
  local t = { fmt("%s %s HTTP/1.1\r\n", req.method, req.target) }
  local stripped = 0
  for _, h in ipairs(req.headers) do
    local l = h[1]:lower()
    if self.strip[canon(l)] then
      stripped = stripped + 1
    elseif not HOP[l] and not conn_tokens[l] and l ~= "authorization" and l ~= "expect"
        and l ~= "content-length" and l ~= "x-forwarded-for" then
      t[#t + 1] = h[1] .. ": " .. h[2] .. "\r\n"
    end
  end
  if stripped > 0 then
    self:log("warn", "%s %s stripped %d incoming %s header(s) (user %s)", conn.peer, conn.id,
      stripped, self.cfg.user_header, conn.user)
  end
  if not header_get(req.headers, "host") then t[#t + 1] = "Host: " .. self.cfg.upstream_host .. "\r\n" end
  t[#t + 1] = self.cfg.user_header .. ": " .. conn.user .. "\r\n"
  local ip = conn.peer:match("^(.*):%d+$")
  if not self.strip["x-forwarded-for"] then
    local prior = table.concat(header_all(req.headers, "x-forwarded-for"), ", ")
    t[#t + 1] = "X-Forwarded-For: " .. (prior ~= "" and (prior .. ", ") or "") .. ip .. "\r\n"
  end
  if req.length > 0 or req.method == "POST" or req.method == "PUT" or req.method == "PATCH" then
    t[#t + 1] = fmt("Content-Length: %d\r\n", req.length)
  end
  t[#t + 1] = "\r\n"
  return table.concat(t)
end

-- Forward an authenticated request and relay the response. Returns keep.
function Gateway:forward(conn, req, keep)
  local L = self.limits
  local head = self:upstream_head(conn, req)
  local up, reused, err
  local body_sent = false
  for attempt = 1, 2 do
    up, reused = self:upstream_connect()
    if not up then
      err = reused
      self:log("warn", "%s %s upstream connect: %s", conn.peer, conn.id, tostring(err))
      if not self:skip_body(conn, req) then keep = false end
      self:respond(conn, err == "timeout" and 504 or 502, nil, nil, not keep)
      return keep
    end
    conn.upstream = up
    local ok, e = up:send(head, L.upstream_timeout)
    if ok and req.length > 0 and not body_sent then
      if req.expect_continue then
        local sent = conn.stream:send("HTTP/1.1 100 Continue\r\n\r\n", L.send_timeout)
        if not sent then return false end
        req.expect_continue = false
      end
      body_sent = true
      local rok, rerr, where = conn.stream:read_exact(req.length, L.request_timeout, function(piece)
        return up:send(piece, L.upstream_timeout)
      end)
      if not rok then
        up:close(); conn.upstream = nil
        if where == "sink" then
          self:respond(conn, rerr == "timeout" and 504 or 502, nil, nil, true)
        end
        return false
      end
    end
    if ok then
      local rok, rkeep = self:relay(conn, req, up, keep, reused and attempt == 1 and req.length == 0)
      if rok ~= "retry" then
        conn.upstream = nil
        self.stats.forwarded = self.stats.forwarded + 1
        return rkeep
      end
    end
    up:close(); conn.upstream = nil
    if not reused then
      self:respond(conn, 502, nil, nil, not keep)
      return keep
    end
    -- a pooled connection the upstream had closed: once more on a fresh one
  end
  self:respond(conn, 502, nil, nil, not keep)
  return keep
end

-- Relay the upstream response. Returns true|"retry", keep.
function Gateway:relay(conn, req, up, keep, may_retry)
  local L = self.limits
  local cs = conn.stream
  local head, err, start, headers, code
  repeat
    head, err = up:read_head(L.max_response_header_bytes, now() + L.upstream_timeout, L.upstream_timeout)
    if not head then
      if may_retry and (err == "eof" or err == "closed") then return "retry" end
      self:log("warn", "%s %s upstream response: %s", conn.peer, conn.id, tostring(err))
      up:close()
      self:respond(conn, err == "timeout" and 504 or 502, nil, nil, not keep)
      return true, keep
    end
    start, headers = parse_head(head)
    code = start and tonumber(start:match("^HTTP/1%.[01] (%d%d%d)"))
    if not code then
      up:close()
      self:respond(conn, 502, nil, nil, not keep)
      return true, keep
    end
  until code >= 200 or code == 101
  if code == 101 then
    up:close()
    self:respond(conn, 502, nil, "protocol upgrades are not supported\n", true)
    return true, false
  end
  conn.status = code
  local reason = start:match("^HTTP/1%.[01] %d%d%d ?(.*)$") or ""
  local up10 = start:match("^HTTP/1%.0") ~= nil
  local uconn = table.concat(header_all(headers, "connection"), ",")
  local up_keep = not has_token(uconn, "close")
  if up10 then up_keep = has_token(uconn, "keep-alive") end
  local conn_tokens = {}
  for t in uconn:gmatch("[^,%s]+") do conn_tokens[t:lower()] = true end
  local te = table.concat(header_all(headers, "transfer-encoding"), ",")
  local chunked = has_token(te, "chunked")
  local cl = header_get(headers, "content-length")
  local nobody = req.method == "HEAD" or code == 204 or code == 304
  local mode
  if nobody then mode = "none"
  elseif chunked then mode = "chunked"
  elseif cl then
    if not cl:match("^%d+$") then up:close(); self:respond(conn, 502, nil, nil, not keep); return true, keep end
    mode = "length"
  else
    mode = "close"; up_keep = false
  end
  if mode == "close" and conn.http10 then keep = false end
  local t = { fmt("HTTP/1.1 %d %s\r\n", code, reason) }
  for _, h in ipairs(headers) do
    local l = h[1]:lower()
    if not HOP[l] and not conn_tokens[l] and not (l == "content-length" and mode ~= "length" and mode ~= "none") then
      t[#t + 1] = h[1] .. ": " .. h[2] .. "\r\n"
    end
  end
  if req.auth_reply then t[#t + 1] = req.auth_reply .. "\r\n" end
  local out_chunked = mode == "chunked" or (mode == "close" and not conn.http10)
  if out_chunked then t[#t + 1] = "Transfer-Encoding: chunked\r\n" end
  if not keep then t[#t + 1] = "Connection: close\r\n"
  elseif conn.http10 then t[#t + 1] = "Connection: keep-alive\r\n" end
  t[#t + 1] = "\r\n"
  local ok, e = cs:send(table.concat(t), L.send_timeout)
  if not ok then up:close(); return true, false end
  local to_client = function(piece) return cs:send(piece, L.send_timeout) end
  local rok, rerr = true, nil
  if mode == "length" then
    rok, rerr = up:read_exact(tonumber(cl), L.upstream_timeout, to_client)
  elseif mode == "chunked" then
    -- pass the chunks through as they are, finding the end
    while true do
      local line, lerr = up:read_line(4096, L.upstream_timeout)
      if not line then rok, rerr = nil, lerr; break end
      local size = tonumber(line:match("^%s*(%x+)"), 16)
      if not size then rok, rerr = nil, "bad chunk size"; break end
      if not to_client(line) then rok, rerr = nil, "client"; break end
      if size == 0 then
        -- trailers through the empty line
        repeat
          line, lerr = up:read_line(4096, L.upstream_timeout)
          if not line then rok, rerr = nil, lerr; break end
          if not to_client(line) then rok, rerr = nil, "client"; break end
        until line == "\r\n" or line == "\n"
        break
      end
      rok, rerr = up:read_exact(size, L.upstream_timeout, to_client)
      if not rok then break end
      line, lerr = up:read_line(16, L.upstream_timeout)
      if not line then rok, rerr = nil, lerr; break end
      if not to_client(line) then rok, rerr = nil, "client"; break end
    end
  elseif mode == "close" then
    local sink = to_client
    if out_chunked then
      sink = function(piece) return cs:send(fmt("%x\r\n", #piece) .. piece .. "\r\n", L.send_timeout) end
    end
    rok, rerr = up:read_all(L.upstream_timeout, sink)
    if rok and out_chunked then rok = cs:send("0\r\n\r\n", L.send_timeout) end
  end
  if not rok then
    -- the response is cut: the client cannot frame what follows
    self:log("warn", "%s %s relaying the response: %s", conn.peer, conn.id, tostring(rerr))
    up:close()
    return true, false
  end
  if up_keep and mode ~= "close" then self:upstream_release(up) else up:close() end
  return true, keep
end

--- Run a gateway from a configuration table until stopped.
function M.run(cfg)
  local gw = M.new(cfg)
  gw:start()
  gw:run()
  return gw
end

return M
