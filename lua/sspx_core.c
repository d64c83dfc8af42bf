/*
 * sspx.core: the hand-written Lua 5.4 binding of the native API (sspx.h).
 * The public module is lua/sspx.lua, a thin layer over this one.
 *
 * Conventions (as luaossl and Lua's own liolib do):
 *  - full userdata with metatables; the userdata is created before the C
 *    object, so an error while creating the object cannot leak it;
 *  - one idempotent close serves :close(), __gc and __close;
 *  - misuse (wrong argument types, a closed object) raises an error;
 *  - a failed security operation returns nil, message, status name, status
 *    code (the message carries the core's last-error detail); a failed
 *    server step may add a fifth value, the error token for the client
 *    (ASC_REQ_EXTENDED_ERROR: Kerberos' KRB-ERROR);
 *  - a context keeps its credential alive (the credential userdata is the
 *    context userdata's user value).
 */
#include <lauxlib.h>
#include <lua.h>
#include <stdint.h>
#include <string.h>

#include <sspx/sspi.h>
#include <sspx/sspx.h>

#define CRED_MT "sspx.credential"
#define CTX_MT  "sspx.context"

typedef struct lcred {
    sspx_cred *cred;
    int lookup_ref; /* registry reference of the Lua lookup function, or LUA_NOREF */
} lcred;

typedef struct lctx {
    sspx_ctx *ctx;
    int server;
} lctx;

/* The state running the current library call: a lookup runs on it. */
static _Thread_local lua_State *running_L;
static _Thread_local char lookup_error[256];

/* -------------------------------------------------------------- failures */

/* nil, message, status name, status code */
static int fail(lua_State *L, SECURITY_STATUS st)
{
    const char *name = sspx_status_name(st);
    sspx_error_info e = sspx_last_error();
    lua_pushnil(L);
    if (e.status == st && e.code)
        lua_pushfstring(L, "%s: %s", name ? name : "SSPI error", sspx_last_error_string());
    else
        lua_pushstring(L, sspx_status_message(st));
    if (lookup_error[0] && e.status == st) {
        lua_pushfstring(L, " [lookup: %s]", lookup_error);
        lua_concat(L, 2);
    }
    lua_pushstring(L, name ? name : "?");
    lua_pushinteger(L, (lua_Integer)(uint32_t)st);
    return 4;
}

static lcred *check_cred(lua_State *L, int i)
{
    lcred *c = luaL_checkudata(L, i, CRED_MT);
    if (!c->cred)
        luaL_error(L, "attempt to use a closed credential");
    return c;
}

static lctx *check_ctx(lua_State *L, int i)
{
    lctx *c = luaL_checkudata(L, i, CTX_MT);
    if (!c->ctx)
        luaL_error(L, "attempt to use a closed context");
    return c;
}

/* ---------------------------------------------------------- Lua lookup */

/* Called by the library inside a handshake step, on the thread (and Lua
 * state) running that step. The function returns a password string, a table
 * {nt_hash = <16 bytes>}, nil (no such user) or false, "unavailable"; an
 * error or anything else fails the logon without touching the state. */
static int lua_lookup(void *ud, const char *user, const char *domain, sspx_secret *out)
{
    lcred *c = ud;
    lua_State *L = running_L;
    int rc = SSPX_LOOKUP_ERROR, top;
    lookup_error[0] = 0;
    if (!L || c->lookup_ref == LUA_NOREF) {
        strcpy(lookup_error, "the lookup ran outside a Lua call");
        return SSPX_LOOKUP_ERROR;
    }
    top = lua_gettop(L);
    if (!lua_checkstack(L, 4)) {
        strcpy(lookup_error, "Lua stack exhausted");
        return SSPX_LOOKUP_ERROR;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, c->lookup_ref);
    lua_pushstring(L, user);
    lua_pushstring(L, domain);
    if (lua_pcall(L, 2, 2, 0) != LUA_OK) {
        const char *m = lua_tostring(L, -1);
        snprintf(lookup_error, sizeof(lookup_error), "the lookup raised: %s", m ? m : "?");
        lua_settop(L, top);
        return SSPX_LOOKUP_ERROR;
    }
    if (lua_isnil(L, -2)) {
        rc = SSPX_LOOKUP_NO_USER;
    } else if (lua_type(L, -2) == LUA_TSTRING) {
        size_t n;
        const char *pw = lua_tolstring(L, -2, &n);
        if (n == 0 || strlen(pw) != n)
            rc = SSPX_LOOKUP_NO_USER; /* empty or NUL-bearing passwords are never accepted */
        else
            rc = sspx_secret_set_password(out, pw) == SEC_E_OK ? SSPX_LOOKUP_FOUND
                                                               : SSPX_LOOKUP_ERROR;
    } else if (lua_type(L, -2) == LUA_TTABLE) {
        size_t n = 0;
        const char *h;
        lua_getfield(L, -2, "nt_hash");
        h = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &n) : NULL;
        if (h && n == 16 && sspx_secret_set_nt_hash(out, (const uint8_t *)h, 16) == SEC_E_OK)
            rc = SSPX_LOOKUP_FOUND;
        else
            strcpy(lookup_error, "the lookup's table has no 16-byte nt_hash");
    } else if (lua_isboolean(L, -2) && !lua_toboolean(L, -2) && lua_type(L, -1) == LUA_TSTRING &&
               strcmp(lua_tostring(L, -1), "unavailable") == 0) {
        rc = SSPX_LOOKUP_UNAVAILABLE;
    } else {
        snprintf(lookup_error, sizeof(lookup_error),
                 "the lookup returned a %s; expected a password, {nt_hash=...} or nil",
                 luaL_typename(L, -2));
    }
    lua_settop(L, top);
    return rc;
}

/* ---------------------------------------------------------- credentials */

/* :close() and __close: free the C credential (contexts made from it keep
 * their own reference). Idempotent. */
static int cred_close(lua_State *L)
{
    lcred *c = luaL_checkudata(L, 1, CRED_MT);
    if (c->cred)
        sspx_cred_free(&c->cred);
    return 0;
}

/* __gc: the same, and the lookup function goes (no context can call it any
 * more: each holds this userdata as its user value). */
static int cred_gc(lua_State *L)
{
    lcred *c = luaL_checkudata(L, 1, CRED_MT);
    cred_close(L);
    if (c->lookup_ref != LUA_NOREF) {
        luaL_unref(L, LUA_REGISTRYINDEX, c->lookup_ref);
        c->lookup_ref = LUA_NOREF;
    }
    return 0;
}

static const char *const own_keys[] = {"package", "usage", "users", "lookup", NULL};

static int is_own_key(const char *k)
{
    for (int i = 0; own_keys[i]; i++)
        if (strcmp(k, own_keys[i]) == 0)
            return 1;
    return 0;
}

/* Raise on option values of the wrong type, before anything is allocated. */
static void check_options(lua_State *L, int t)
{
    lua_pushnil(L);
    while (lua_next(L, t)) {
        int vt = lua_type(L, -1);
        if (lua_type(L, -2) != LUA_TSTRING)
            luaL_error(L, "credential options must have string keys");
        if (!is_own_key(lua_tostring(L, -2)) && vt != LUA_TSTRING && vt != LUA_TNUMBER &&
            vt != LUA_TBOOLEAN)
            luaL_error(L, "option '%s': expected a string, number or boolean", lua_tostring(L, -2));
        lua_pop(L, 1);
    }
}

/* Set every option of the table at `t` (types already checked): -1 on a
 * refused option (the last error says which). Raises nothing. */
static int set_options(lua_State *L, int t, sspx_config *cfg)
{
    lua_pushnil(L);
    while (lua_next(L, t)) {
        const char *k = lua_tostring(L, -2);
        SECURITY_STATUS st = SEC_E_OK;
        if (!is_own_key(k)) {
            if (lua_isboolean(L, -1)) {
                st = sspx_config_set(cfg, k, lua_toboolean(L, -1) ? "1" : "0");
            } else {
                size_t n;
                const char *v = lua_tolstring(L, -1, &n); /* numbers convert in place: a copy */
                st = strlen(v) == n ? sspx_config_set(cfg, k, v)
                                    : sspx_config_set_bytes(cfg, k, (const uint8_t *)v, n);
            }
        }
        lua_pop(L, 1);
        if (st < 0) {
            lua_pop(L, 1);
            return -1;
        }
    }
    return 0;
}

/* sspx.core.credential{package=, usage="server"|"client", users=path, lookup=fn, <options>} */
static int l_credential(lua_State *L)
{
    lcred *c;
    sspx_config *cfg;
    const char *pkg, *usage;
    unsigned u;
    SECURITY_STATUS st;
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "package");
    pkg = luaL_optstring(L, -1, "NTLM");
    lua_getfield(L, 1, "usage");
    usage = luaL_optstring(L, -1, "server");
    if (strcmp(usage, "server") == 0)
        u = SSPX_CRED_INBOUND;
    else if (strcmp(usage, "client") == 0)
        u = SSPX_CRED_OUTBOUND;
    else
        return luaL_error(L, "usage must be \"server\" or \"client\"");
    lua_getfield(L, 1, "lookup");
    if (!lua_isnil(L, -1))
        luaL_checktype(L, -1, LUA_TFUNCTION);
    lua_getfield(L, 1, "users");
    if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TSTRING)
        return luaL_error(L, "users must be a file path (use lookup = function for a table)");
    check_options(L, 1);

    /* the userdata first: nothing allocated below can leak on an error */
    c = lua_newuserdatauv(L, sizeof(*c), 0);
    c->cred = NULL;
    c->lookup_ref = LUA_NOREF;
    luaL_setmetatable(L, CRED_MT);
    cfg = sspx_config_new();
    if (!cfg)
        return luaL_error(L, "out of memory");
    if (set_options(L, 1, cfg) < 0 ||
        (!lua_isnil(L, -2) && sspx_config_set(cfg, "users_file", lua_tostring(L, -2)) < 0)) {
        sspx_config_free(&cfg);
        return fail(L, sspx_last_error().status);
    }
    if (!lua_isnil(L, -3)) {
        lua_pushvalue(L, -3);
        c->lookup_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        if (sspx_config_set_lookup(cfg, lua_lookup, c, NULL) < 0) {
            sspx_config_free(&cfg);
            return fail(L, sspx_last_error().status);
        }
    }
    st = sspx_cred_acquire(pkg, u, cfg, &c->cred);
    sspx_config_free(&cfg);
    if (st < 0)
        return fail(L, st); /* the userdata is collected; __gc unrefs the lookup */
    return 1;
}

static int cred_package(lua_State *L)
{
    lua_pushstring(L, sspx_cred_package(check_cred(L, 1)->cred));
    return 1;
}

static int cred_tostring(lua_State *L)
{
    lcred *c = luaL_checkudata(L, 1, CRED_MT);
    if (c->cred)
        lua_pushfstring(L, "sspx.credential (%s, %p)", sspx_cred_package(c->cred), (void *)c);
    else
        lua_pushstring(L, "sspx.credential (closed)");
    return 1;
}

/* cred:server_context{flags=, channel_bindings=} / cred:client_context{target=, ...} */
static int new_context(lua_State *L, int server)
{
    lcred *c = check_cred(L, 1);
    lctx *x;
    sspx_ctx_params p;
    size_t cbl = 0;
    SECURITY_STATUS st;
    memset(&p, 0, sizeof(p));
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        lua_getfield(L, 2, "flags");
        p.flags = (uint32_t)luaL_optinteger(L, -1, 0);
        lua_getfield(L, 2, "target");
        p.target = luaL_optstring(L, -1, NULL);
        lua_getfield(L, 2, "channel_bindings");
        p.channel_bindings = (const uint8_t *)luaL_optlstring(L, -1, NULL, &cbl);
        p.channel_bindings_len = cbl;
    }
    x = lua_newuserdatauv(L, sizeof(*x), 1);
    x->ctx = NULL;
    x->server = server;
    luaL_setmetatable(L, CTX_MT);
    lua_pushvalue(L, 1); /* the context keeps its credential alive */
    lua_setiuservalue(L, -2, 1);
    st = sspx_ctx_new(c->cred, &p, &x->ctx);
    if (st < 0)
        return fail(L, st);
    return 1;
}

static int cred_server_context(lua_State *L)
{
    return new_context(L, 1);
}
static int cred_client_context(lua_State *L)
{
    return new_context(L, 0);
}

/* -------------------------------------------------------------- contexts */

static int ctx_close(lua_State *L)
{
    lctx *x = luaL_checkudata(L, 1, CTX_MT);
    if (x->ctx)
        sspx_ctx_free(&x->ctx);
    return 0;
}

/* Run a library call with the lookup able to reach this Lua state. */
#define WITH_STATE(L, call)            \
    do {                               \
        lua_State *saved_ = running_L; \
        running_L = (L);               \
        lookup_error[0] = 0;           \
        call;                          \
        running_L = saved_;            \
    } while (0)

/* ctx:step(token) -> out, "continue" | "complete"  /  nil, msg, name, code
 * [, error token]: a server context made with ASC_REQ_EXTENDED_ERROR may
 * get, with the failure, a token for the client (Kerberos: a KRB-ERROR). */
static int ctx_step(lua_State *L)
{
    lctx *x = check_ctx(L, 1);
    size_t n = 0;
    const char *in = luaL_optlstring(L, 2, NULL, &n);
    sspx_buf out = {NULL, 0};
    SECURITY_STATUS st;
    int r;
    WITH_STATE(L, st = sspx_ctx_step(x->ctx, (const uint8_t *)in, n, &out));
    /* the buffer is ours on every path (an error token comes with a
     * failure): room on the stack first, so that no push below must grow it */
    if (!lua_checkstack(L, 6)) {
        sspx_buf_free(&out);
        return luaL_error(L, "Lua stack exhausted");
    }
    if (st < 0) {
        r = fail(L, st);
        if (out.len) {
            lua_pushlstring(L, (const char *)out.data, out.len);
            r++;
        }
    } else {
        lua_pushlstring(L, (const char *)out.data, out.len);
        lua_pushstring(L, st == SEC_E_OK ? "complete" : "continue");
        r = 2;
    }
    sspx_buf_free(&out);
    return r;
}

/* ctx:delegated_credential() -> a new client credential holding what the
 * client delegated (Kerberos, Negotiate over Kerberos) / nil, msg, name,
 * code (SEC_E_NO_CREDENTIALS: nothing was delegated). */
static int ctx_delegated_credential(lua_State *L)
{
    lctx *x = check_ctx(L, 1);
    lcred *c;
    SECURITY_STATUS st;
    /* the userdata first: nothing allocated below can leak on an error */
    c = lua_newuserdatauv(L, sizeof(*c), 0);
    c->cred = NULL;
    c->lookup_ref = LUA_NOREF;
    luaL_setmetatable(L, CRED_MT);
    lookup_error[0] = 0; /* no earlier lookup's words on this failure */
    st = sspx_ctx_delegated_cred(x->ctx, &c->cred);
    if (st < 0)
        return fail(L, st);
    return 1;
}

static int ctx_client_name(lua_State *L)
{
    const char *n = sspx_ctx_client_name(check_ctx(L, 1)->ctx);
    if (n)
        lua_pushstring(L, n);
    else
        lua_pushnil(L);
    return 1;
}

static int ctx_is_complete(lua_State *L)
{
    lua_pushboolean(L, sspx_ctx_is_complete(check_ctx(L, 1)->ctx));
    return 1;
}

static int ctx_flags(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)sspx_ctx_flags(check_ctx(L, 1)->ctx));
    return 1;
}

static int ctx_package(lua_State *L)
{
    lua_pushstring(L, sspx_ctx_package(check_ctx(L, 1)->ctx));
    return 1;
}

static int push_buf(lua_State *L, SECURITY_STATUS st, sspx_buf *b)
{
    if (st < 0)
        return fail(L, st);
    lua_pushlstring(L, (const char *)b->data, b->len);
    sspx_buf_free(b);
    return 1;
}

static int ctx_session_key(lua_State *L)
{
    sspx_buf b = {NULL, 0};
    return push_buf(L, sspx_ctx_session_key(check_ctx(L, 1)->ctx, &b), &b);
}

static int ctx_sign(lua_State *L)
{
    lctx *x = check_ctx(L, 1);
    size_t n;
    const char *m = luaL_checklstring(L, 2, &n);
    sspx_buf b = {NULL, 0};
    return push_buf(L, sspx_ctx_sign(x->ctx, (const uint8_t *)m, n, &b), &b);
}

static int ctx_verify(lua_State *L)
{
    lctx *x = check_ctx(L, 1);
    size_t n, sn;
    const char *m = luaL_checklstring(L, 2, &n), *s = luaL_checklstring(L, 3, &sn);
    SECURITY_STATUS st = sspx_ctx_verify(x->ctx, (const uint8_t *)m, n, (const uint8_t *)s, sn);
    if (st < 0)
        return fail(L, st);
    lua_pushboolean(L, 1);
    return 1;
}

static int ctx_wrap(lua_State *L)
{
    lctx *x = check_ctx(L, 1);
    size_t n;
    const char *m = luaL_checklstring(L, 2, &n);
    sspx_buf b = {NULL, 0};
    return push_buf(L, sspx_ctx_wrap(x->ctx, (const uint8_t *)m, n, &b), &b);
}

static int ctx_unwrap(lua_State *L)
{
    lctx *x = check_ctx(L, 1);
    size_t n;
    const char *m = luaL_checklstring(L, 2, &n);
    sspx_buf b = {NULL, 0};
    return push_buf(L, sspx_ctx_unwrap(x->ctx, (const uint8_t *)m, n, &b), &b);
}

/* ctx:query(name) through QueryContextAttributesA on the context's handle */
static int ctx_query(lua_State *L)
{
    static const char *const names[] = {
        "sizes",       "names",        "lifespan",         "flags",
        "session_key", "package_info", "negotiation_info", "native_names",
        NULL};
    static const ULONG attrs[] = {SECPKG_ATTR_SIZES,
                                  SECPKG_ATTR_NAMES,
                                  SECPKG_ATTR_LIFESPAN,
                                  SECPKG_ATTR_FLAGS,
                                  SECPKG_ATTR_SESSION_KEY,
                                  SECPKG_ATTR_PACKAGE_INFO,
                                  SECPKG_ATTR_NEGOTIATION_INFO,
                                  SECPKG_ATTR_NATIVE_NAMES};
    lctx *x = check_ctx(L, 1);
    int i = luaL_checkoption(L, 2, NULL, names);
    CtxtHandle h;
    SECURITY_STATUS st;
    union {
        SecPkgContext_Sizes sizes;
        SecPkgContext_Flags flags;
        SecPkgContext_NamesA names;
        SecPkgContext_SessionKey key;
        SecPkgContext_Lifespan life;
        SecPkgContext_PackageInfoA pkg;
        SecPkgContext_NegotiationInfoA nego;
        SecPkgContext_NativeNamesA native;
    } u;
    memset(&u, 0, sizeof(u));
    sspx_ctx_handle(x->ctx, &h);
    st = QueryContextAttributesA(&h, attrs[i], &u);
    if (st < 0)
        return fail(L, st);
    switch (attrs[i]) {
    case SECPKG_ATTR_SIZES:
        lua_createtable(L, 0, 4);
        lua_pushinteger(L, u.sizes.cbMaxToken);
        lua_setfield(L, -2, "max_token");
        lua_pushinteger(L, u.sizes.cbMaxSignature);
        lua_setfield(L, -2, "max_signature");
        lua_pushinteger(L, u.sizes.cbBlockSize);
        lua_setfield(L, -2, "block_size");
        lua_pushinteger(L, u.sizes.cbSecurityTrailer);
        lua_setfield(L, -2, "security_trailer");
        break;
    case SECPKG_ATTR_FLAGS:
        lua_pushinteger(L, u.flags.Flags);
        break;
    case SECPKG_ATTR_NAMES:
        lua_pushstring(L, u.names.sUserName);
        FreeContextBuffer(u.names.sUserName);
        break;
    case SECPKG_ATTR_SESSION_KEY:
        lua_pushlstring(L, (const char *)u.key.SessionKey, u.key.SessionKeyLength);
        FreeContextBuffer(u.key.SessionKey);
        break;
    case SECPKG_ATTR_LIFESPAN:
        lua_createtable(L, 0, 2);
        lua_pushinteger(L, (lua_Integer)u.life.tsStart.QuadPart);
        lua_setfield(L, -2, "start");
        lua_pushinteger(L, (lua_Integer)u.life.tsExpiry.QuadPart);
        lua_setfield(L, -2, "expiry");
        break;
    case SECPKG_ATTR_PACKAGE_INFO:
    case SECPKG_ATTR_NEGOTIATION_INFO: {
        SecPkgInfoA *p =
            attrs[i] == SECPKG_ATTR_PACKAGE_INFO ? u.pkg.PackageInfo : u.nego.PackageInfo;
        lua_createtable(L, 0, 5);
        lua_pushstring(L, p->Name);
        lua_setfield(L, -2, "name");
        lua_pushstring(L, p->Comment);
        lua_setfield(L, -2, "comment");
        lua_pushinteger(L, p->cbMaxToken);
        lua_setfield(L, -2, "max_token");
        lua_pushinteger(L, p->fCapabilities);
        lua_setfield(L, -2, "capabilities");
        if (attrs[i] == SECPKG_ATTR_NEGOTIATION_INFO) {
            lua_pushinteger(L, u.nego.NegotiationState);
            lua_setfield(L, -2, "state");
        }
        FreeContextBuffer(p);
        break;
    }
    default: /* SECPKG_ATTR_NATIVE_NAMES */
        lua_createtable(L, 0, 2);
        lua_pushstring(L, u.native.sClientName);
        lua_setfield(L, -2, "client");
        lua_pushstring(L, u.native.sServerName);
        lua_setfield(L, -2, "server");
        FreeContextBuffer(u.native.sClientName);
        FreeContextBuffer(u.native.sServerName);
        break;
    }
    return 1;
}

static int ctx_tostring(lua_State *L)
{
    lctx *x = luaL_checkudata(L, 1, CTX_MT);
    if (!x->ctx)
        lua_pushstring(L, "sspx.context (closed)");
    else
        lua_pushfstring(L, "sspx.context (%s %s, %s)", sspx_ctx_package(x->ctx),
                        x->server ? "server" : "client",
                        sspx_ctx_is_complete(x->ctx) ? "complete" : "in progress");
    return 1;
}

/* ------------------------------------------------------------ describe */

static void push_desc(lua_State *L, const sspx_desc *d)
{
    static const char *const kinds[] = {"struct", "uint", "flags", "bytes",
                                        "string", "enum", "flag"};
    size_t n = sspx_desc_child_count(d), bl = 0;
    const uint8_t *b = sspx_desc_bytes(d, &bl);
    int kind = (int)sspx_desc_get_kind(d);
    luaL_checkstack(L, 4, "description too deep");
    lua_createtable(L, 0, 8);
    lua_pushstring(L, sspx_desc_name(d));
    lua_setfield(L, -2, "name");
    lua_pushstring(L, kind >= 0 && kind < 7 ? kinds[kind] : "struct");
    lua_setfield(L, -2, "kind");
    lua_pushinteger(L, (lua_Integer)sspx_desc_offset(d));
    lua_setfield(L, -2, "offset");
    lua_pushinteger(L, (lua_Integer)sspx_desc_length(d));
    lua_setfield(L, -2, "length");
    lua_pushinteger(L, (lua_Integer)sspx_desc_uint(d));
    lua_setfield(L, -2, "value");
    if (sspx_desc_text(d)) {
        lua_pushstring(L, sspx_desc_text(d));
        lua_setfield(L, -2, "text");
    }
    if (b) {
        lua_pushlstring(L, (const char *)b, bl);
        lua_setfield(L, -2, "bytes");
    }
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        push_desc(L, sspx_desc_child(d, i));
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "children");
}

/* sspx.core.describe(token [, package]) -> table | nil, msg, name, code */
static int l_describe(lua_State *L)
{
    size_t n;
    const char *tok = luaL_checklstring(L, 1, &n);
    const char *pkg = luaL_optstring(L, 2, NULL);
    sspx_desc *d = NULL;
    SECURITY_STATUS st = sspx_describe(pkg, (const uint8_t *)tok, n, &d);
    if (st < 0)
        return fail(L, st);
    push_desc(L, d);
    sspx_desc_free(&d);
    return 1;
}

/* ------------------------------------------------------- test hooks */

static uint8_t rng_script[1024];
static size_t rng_len, rng_pos;
static uint64_t clock_value;

static int script_rng(void *ud, uint8_t *out, size_t n)
{
    (void)ud;
    if (rng_len - rng_pos < n)
        return -1;
    memcpy(out, rng_script + rng_pos, n);
    rng_pos += n;
    return 0;
}

static uint64_t fixed_clock(void *ud)
{
    (void)ud;
    return clock_value;
}

/* sspx.core._test_set_rng(script | nil), for tests only */
static int l_test_set_rng(lua_State *L)
{
    size_t n;
    const char *s = luaL_optlstring(L, 1, NULL, &n);
    if (!s) {
        sspx_test_set_rng(NULL, NULL);
        return 0;
    }
    luaL_argcheck(L, n <= sizeof(rng_script), 1, "script longer than 1024 bytes");
    memcpy(rng_script, s, n);
    rng_len = n;
    rng_pos = 0;
    sspx_test_set_rng(script_rng, NULL);
    return 0;
}

/* sspx.core._test_set_clock(filetime | nil), for tests only */
static int l_test_set_clock(lua_State *L)
{
    if (lua_isnoneornil(L, 1)) {
        sspx_test_set_clock(NULL, NULL);
        return 0;
    }
    clock_value = (uint64_t)luaL_checkinteger(L, 1);
    sspx_test_set_clock(fixed_clock, NULL);
    return 0;
}

static int l_packages(lua_State *L)
{
    size_t n = sspx_package_count();
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_pushstring(L, sspx_package_name(i));
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int l_status_name(lua_State *L)
{
    const char *n = sspx_status_name((SECURITY_STATUS)(int32_t)(uint32_t)luaL_checkinteger(L, 1));
    if (n)
        lua_pushstring(L, n);
    else
        lua_pushnil(L);
    return 1;
}

/* ------------------------------------------------------------- module */

static void push_constants(lua_State *L)
{
    lua_createtable(L, 0, 100);
#define SSPX_K(n)                                   \
    lua_pushinteger(L, (lua_Integer)(uint32_t)(n)); \
    lua_setfield(L, -2, #n);
#include "status_names.h"
#undef SSPX_K
    lua_setfield(L, -2, "status");
    lua_createtable(L, 0, 120);
#define SSPX_K(n)                         \
    lua_pushinteger(L, (lua_Integer)(n)); \
    lua_setfield(L, -2, #n);
#include "flag_names.h"
#undef SSPX_K
    lua_setfield(L, -2, "flags");
}

static const luaL_Reg cred_methods[] = {
    {"server_context", cred_server_context},
    {"client_context", cred_client_context},
    {"package", cred_package},
    {"close", cred_close},
    {NULL, NULL},
};

static const luaL_Reg ctx_methods[] = {
    {"step", ctx_step},
    {"client_name", ctx_client_name},
    {"complete", ctx_is_complete},
    {"flags", ctx_flags},
    {"package", ctx_package},
    {"session_key", ctx_session_key},
    {"sign", ctx_sign},
    {"verify", ctx_verify},
    {"wrap", ctx_wrap},
    {"unwrap", ctx_unwrap},
    {"query", ctx_query},
    {"delegated_credential", ctx_delegated_credential},
    {"close", ctx_close},
    {NULL, NULL},
};

static const luaL_Reg funcs[] = {
    {"credential", l_credential},
    {"describe", l_describe},
    {"packages", l_packages},
    {"status_name", l_status_name},
    {"_test_set_rng", l_test_set_rng},
    {"_test_set_clock", l_test_set_clock},
    {NULL, NULL},
};

static void new_class(lua_State *L, const char *name, const luaL_Reg *methods, lua_CFunction close,
                      lua_CFunction gc, lua_CFunction tostring)
{
    luaL_newmetatable(L, name);
    lua_newtable(L); /* luaL_newlib needs an array, not a pointer */
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, close);
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushstring(L, "sspx"); /* getmetatable() does not give the metatable away */
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
}

SSPX_API int luaopen_sspx_core(lua_State *L)
{
    new_class(L, CRED_MT, cred_methods, cred_close, cred_gc, cred_tostring);
    new_class(L, CTX_MT, ctx_methods, ctx_close, ctx_close, ctx_tostring);
    luaL_newlib(L, funcs);
    push_constants(L);
    lua_pushstring(L, sspx_version());
    lua_setfield(L, -2, "version");
    return 1;
}
