-- luarocks make lua/sspx-0.1.0-1.rockspec   (from the repository root)
package = "sspx"
version = "0.1.0-1"
source = { url = "git+file://." }
description = {
  summary = "Windows SSPI (AcceptSecurityContext and friends) for Lua 5.4: NTLM, Negotiate, Kerberos",
  detailed = [[
    The sspx C core (token processing and crypto on OpenSSL 3) compiled into one Lua module,
    sspx.core, with the public module sspx and the NTLM-authenticating gateway sspx.gateway.
    The Kerberos package (over Heimdal) is compiled in when pkg-config finds heimdal-gssapi and
    heimdal-krb5 (Debian: heimdal-multidev); without them the rock has NTLM and Negotiate.
  ]],
  license = "MIT",
}
dependencies = { "lua >= 5.4, < 5.5" }
external_dependencies = { OPENSSL = { header = "openssl/evp.h", library = "crypto" } }
-- the make backend: lua/Makefile lists the sources (every csrc/**.c) and asks
-- pkg-config for Heimdal, which the builtin backend cannot do
build = {
  type = "make",
  makefile = "lua/Makefile",
  build_variables = {
    CC = "$(CC)",
    CFLAGS = "$(CFLAGS)",
    LIBFLAG = "$(LIBFLAG)",
    LUA_INCDIR = "$(LUA_INCDIR)",
    OPENSSL_INCDIR = "$(OPENSSL_INCDIR)",
    OPENSSL_LIBDIR = "$(OPENSSL_LIBDIR)",
  },
  install_pass = false, -- luarocks installs the files below
  install = {
    lib = { ["sspx.core"] = "build-rock/sspx/core.so" },
    lua = { ["sspx"] = "lua/sspx.lua", ["sspx.gateway"] = "lua/sspx/gateway.lua" },
  },
}
