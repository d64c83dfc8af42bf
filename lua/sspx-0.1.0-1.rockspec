-- luarocks make lua/sspx-0.1.0-1.rockspec   (from the repository root)
package = "sspx"
version = "0.1.0-1"
source = { url = "git+file://." }
description = {
  summary = "Windows SSPI (AcceptSecurityContext and friends) for Lua 5.4: NTLM server and client",
  detailed = [[
    The sspx C core (token processing and crypto on OpenSSL 3) compiled into one Lua module,
    sspx.core, with the public module sspx and the NTLM-authenticating gateway sspx.gateway.
  ]],
  license = "MIT",
}
dependencies = { "lua >= 5.4, < 5.5" }
external_dependencies = { OPENSSL = { header = "openssl/evp.h", library = "crypto" } }
build = {
  type = "builtin",
  modules = {
    ["sspx.core"] = {
      sources = {
        "lua/sspx_core.c",
        "csrc/api/accept_security_context.c", "csrc/api/acquire_credentials_handle.c",
        "csrc/api/complete_auth_token.c", "csrc/api/delete_security_context.c",
        "csrc/api/free_context_buffer.c", "csrc/api/free_credentials_handle.c",
        "csrc/api/init_security_interface.c", "csrc/api/initialize_security_context.c",
        "csrc/api/message.c", "csrc/api/packages.c", "csrc/api/query_context_attributes.c",
        "csrc/api/query_credentials_attributes.c", "csrc/api/query_security_context_token.c",
        "csrc/api/unsupported.c", "csrc/api/wide.c",
        "csrc/core/cbt.c", "csrc/core/config.c", "csrc/core/desc.c", "csrc/core/error.c",
        "csrc/core/handle.c", "csrc/core/mem.c", "csrc/core/native.c", "csrc/core/object.c",
        "csrc/core/registry.c", "csrc/core/rng_clock.c", "csrc/core/step.c", "csrc/core/users.c",
        "csrc/crypto/crypto.c",
        "csrc/packages/ntlm/ntlm_client.c", "csrc/packages/ntlm/ntlm_crypto.c",
        "csrc/packages/ntlm/ntlm_msgsec.c", "csrc/packages/ntlm/ntlm_pkg.c",
        "csrc/packages/ntlm/ntlm_server.c",
        "csrc/packages/negotiate/nego_client.c", "csrc/packages/negotiate/nego_pkg.c",
        "csrc/packages/negotiate/nego_server.c",
        "csrc/wire/der.c", "csrc/wire/ntlm_describe.c", "csrc/wire/ntlm_msg.c",
        "csrc/wire/spnego_msg.c", "csrc/wire/utf.c",
      },
      defines = { "SSPX_BUILDING_LIBRARY", "_GNU_SOURCE" },
      incdirs = { "csrc/include", "csrc", "lua", "$(OPENSSL_INCDIR)" },
      libdirs = { "$(OPENSSL_LIBDIR)" },
      libraries = { "crypto", "pthread" },
    },
    ["sspx"] = "lua/sspx.lua",
    ["sspx.gateway"] = "lua/sspx/gateway.lua",
  },
}
