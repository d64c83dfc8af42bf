/*
 * sspx_cloop: a Lua module with one function, the C handshake loop that
 * bench_lua.lua runs next to the same loop in Lua, in the same process:
 *   sspx_cloop.run(n) -> seconds for n full NTLM handshakes (native API,
 *   contexts created and freed each time, users given by a users file).
 */
#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <sspx/sspx.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run(lua_State *L)
{
    lua_Integer n = luaL_checkinteger(L, 1);
    const char *users = luaL_checkstring(L, 2);
    sspx_config *sc = sspx_config_new(), *cc = sspx_config_new();
    sspx_cred *s = NULL, *c = NULL;
    double t0, t1;
    int ok = sc && cc;
    ok = ok && sspx_config_set(sc, "users_file", users) == SEC_E_OK &&
         sspx_config_set(sc, "netbios_domain", "TESTDOM") == SEC_E_OK &&
         sspx_config_set(cc, "user", "TESTDOM\\bob") == SEC_E_OK &&
         sspx_config_set(cc, "password", "Passw0rd!") == SEC_E_OK &&
         sspx_cred_acquire("NTLM", SSPX_CRED_INBOUND, sc, &s) == SEC_E_OK &&
         sspx_cred_acquire("NTLM", SSPX_CRED_OUTBOUND, cc, &c) == SEC_E_OK;
    sspx_config_free(&sc);
    sspx_config_free(&cc);
    if (!ok)
        return luaL_error(L, "credentials: %s", sspx_last_error_string());
    t0 = now();
    for (lua_Integer i = 0; i < n && ok; i++) {
        sspx_ctx *sx = NULL, *cx = NULL;
        sspx_buf a = {0}, b = {0}, d = {0}, e = {0};
        sspx_ctx_params p = {0x10 /* ISC_REQ_CONFIDENTIALITY */, "HTTP/bench", NULL, 0};
        ok = sspx_ctx_new(s, NULL, &sx) == SEC_E_OK && sspx_ctx_new(c, &p, &cx) == SEC_E_OK &&
             sspx_ctx_step(cx, NULL, 0, &a) > 0 && sspx_ctx_step(sx, a.data, a.len, &b) > 0 &&
             sspx_ctx_step(cx, b.data, b.len, &d) == SEC_E_OK &&
             sspx_ctx_step(sx, d.data, d.len, &e) == SEC_E_OK;
        sspx_buf_free(&a), sspx_buf_free(&b), sspx_buf_free(&d), sspx_buf_free(&e);
        sspx_ctx_free(&sx);
        sspx_ctx_free(&cx);
    }
    t1 = now();
    sspx_cred_free(&s);
    sspx_cred_free(&c);
    if (!ok)
        return luaL_error(L, "handshake failed: %s", sspx_last_error_string());
    lua_pushnumber(L, t1 - t0);
    return 1;
}

int luaopen_sspx_cloop(lua_State *L);
__attribute__((visibility("default"))) int luaopen_sspx_cloop(lua_State *L)
{
    lua_newtable(L);
    lua_pushcfunction(L, run);
    lua_setfield(L, -2, "run");
    return 1;
}
