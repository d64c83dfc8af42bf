/* Handle misuse: forged, stale, double-freed, wrong-kind and NULL handles
 * give SEC_E_INVALID_HANDLE from every entry point, never a crash; objects
 * outlive handles that other objects still need. */
#include "fixtures.h"

static const char *users;

static void every_entry_point(CtxtHandle *h, SECURITY_STATUS want)
{
    SecBuffer b[2];
    uint8_t sig[16], data[4] = "abc";
    SecBufferDesc d = {SECBUFFER_VERSION, 2, b};
    SecPkgContext_Sizes sz;
    HANDLE tok;
    ULONG qop, attr;
    b[0] = (SecBuffer){16, SECBUFFER_TOKEN, sig};
    b[1] = (SecBuffer){3, SECBUFFER_DATA, data};
    CHECK_ST(MakeSignature(h, 0, &d, 0), want);
    CHECK_ST(VerifySignature(h, &d, 0, &qop), want);
    CHECK_ST(EncryptMessage(h, 0, &d, 0), want);
    CHECK_ST(DecryptMessage(h, &d, 0, &qop), want);
    CHECK_ST(QueryContextAttributesA(h, SECPKG_ATTR_SIZES, &sz), want);
    CHECK_ST(QueryContextAttributesW(h, SECPKG_ATTR_SIZES, &sz), want);
    CHECK_ST(QuerySecurityContextToken(h, &tok), want);
    CHECK_ST(CompleteAuthToken(h, &d), want);
    CHECK_ST(ImpersonateSecurityContext(h), want);
    CHECK_ST(RevertSecurityContext(h), want);
    CHECK_ST(ApplyControlToken(h, &d), want);
    /* as phContext of a handshake call */
    SecBuffer ob = {0, SECBUFFER_TOKEN, NULL};
    SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
    uint8_t junk[40] = "NTLMSSP";
    SecBuffer ib = {sizeof(junk), SECBUFFER_TOKEN, junk};
    SecBufferDesc id = {SECBUFFER_VERSION, 1, &ib};
    CtxtHandle nh;
    CHECK_ST(AcceptSecurityContext(NULL, h, &id, ASC_REQ_ALLOCATE_MEMORY, SECURITY_NATIVE_DREP, &nh,
                                   &od, &attr, NULL),
             want);
    CHECK_ST(InitializeSecurityContextA(NULL, h, NULL, ISC_REQ_ALLOCATE_MEMORY, 0,
                                        SECURITY_NATIVE_DREP, &id, 0, &nh, &od, &attr, NULL),
             want);
    CHECK_ST(DeleteSecurityContext(h), want);
}

static void forged(void)
{
    CtxtHandle h;
    CredHandle c;
    SecPkgCredentials_NamesA n;
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 200; i++) {
        seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
        h.dwLower = (ULONG_PTR)seed;
        h.dwUpper = (ULONG_PTR)(seed * 31);
        if (i % 3 == 0)
            h.dwUpper = 0x53505802; /* right kind tag, random slot */
        if (i % 5 == 0)
            h.dwLower = (ULONG_PTR)(i % 7); /* small slot numbers, generation 0 */
        every_entry_point(&h, SEC_E_INVALID_HANDLE);
        c = h;
        CHECK_ST(FreeCredentialsHandle(&c), SEC_E_INVALID_HANDLE);
        CHECK_ST(QueryCredentialsAttributesA(&c, SECPKG_CRED_ATTR_NAMES, &n), SEC_E_INVALID_HANDLE);
    }
    every_entry_point(NULL, SEC_E_INVALID_HANDLE);
    CHECK_ST(FreeCredentialsHandle(NULL), SEC_E_INVALID_HANDLE);
    SecInvalidateHandle(&h);
    every_entry_point(&h, SEC_E_INVALID_HANDLE);
}

static void stale_double_and_kind(void)
{
    CredHandle sc, cc, sc_copy;
    t_hs hs;
    CHECK_ST(t_server_cred(&sc, users, 0, 0), SEC_E_OK);
    CHECK_ST(t_client_cred(&cc, "bob", "TESTDOM", "Passw0rd!"), SEC_E_OK);
    CHECK_ST(t_handshake(&hs, &cc, &sc, ISC_REQ_CONFIDENTIALITY, 0, NULL, 0, NULL, 0), SEC_E_OK);
    CtxtHandle s = hs.sctx, c = hs.cctx;
    /* a credential handle is not a context handle and vice versa */
    every_entry_point((CtxtHandle *)&sc, SEC_E_INVALID_HANDLE);
    SecPkgCredentials_NamesA n;
    CHECK_ST(QueryCredentialsAttributesA((CredHandle *)&s, SECPKG_CRED_ATTR_NAMES, &n),
             SEC_E_INVALID_HANDLE);
    CHECK_ST(FreeCredentialsHandle((CredHandle *)&s), SEC_E_INVALID_HANDLE);
    /* the credential may go while its contexts live on */
    sc_copy = sc;
    CHECK_ST(FreeCredentialsHandle(&sc), SEC_E_OK);
    CHECK_ST(FreeCredentialsHandle(&sc_copy), SEC_E_INVALID_HANDLE); /* double free */
    uint8_t sig[16], data[5] = "abcd";
    SecBuffer b[2] = {{16, SECBUFFER_TOKEN, sig}, {4, SECBUFFER_DATA, data}};
    SecBufferDesc d = {SECBUFFER_VERSION, 2, b};
    ULONG qop, attr;
    CHECK_ST(EncryptMessage(&c, 0, &d, 0), SEC_E_OK);
    CHECK_ST(DecryptMessage(&s, &d, 0, &qop), SEC_E_OK);
    /* a client context handed to AcceptSecurityContext */
    SecBuffer ib = {hs.toklen[2], SECBUFFER_TOKEN, hs.tok[2]}, ob = {0, SECBUFFER_TOKEN, NULL};
    SecBufferDesc id = {SECBUFFER_VERSION, 1, &ib}, od = {SECBUFFER_VERSION, 1, &ob};
    CHECK_ST(AcceptSecurityContext(NULL, &c, &id, 0, SECURITY_NATIVE_DREP, &c, &od, &attr, NULL),
             SEC_E_INVALID_HANDLE);
    CHECK(strcmp(sspx_last_error().name, "SSPX_ERR_WRONG_ROLE") == 0);
    /* stale after delete, double delete, and the slot reused by a new object */
    CHECK_ST(DeleteSecurityContext(&s), SEC_E_OK);
    every_entry_point(&s, SEC_E_INVALID_HANDLE);
    CredHandle again;
    CHECK_ST(t_server_cred(&again, users, 0, 0), SEC_E_OK); /* likely reuses a slot */
    every_entry_point(&s, SEC_E_INVALID_HANDLE);
    CHECK_ST(DeleteSecurityContext(&c), SEC_E_OK);
    CHECK_ST(DeleteSecurityContext(&c), SEC_E_INVALID_HANDLE);
    FreeCredentialsHandle(&again);
    FreeCredentialsHandle(&cc);
}

/* A stale credential handle on the first call gives an invalid handle too. */
static void stale_cred_first_call(void)
{
    CredHandle sc;
    CtxtHandle h;
    ULONG attr;
    CHECK_ST(t_server_cred(&sc, users, 0, 0), SEC_E_OK);
    CHECK_ST(FreeCredentialsHandle(&sc), SEC_E_OK);
    uint8_t neg[40] = "NTLMSSP";
    neg[8] = 1;
    SecBuffer ib = {16, SECBUFFER_TOKEN, neg}, ob = {0, SECBUFFER_TOKEN, NULL};
    SecBufferDesc id = {SECBUFFER_VERSION, 1, &ib}, od = {SECBUFFER_VERSION, 1, &ob};
    CHECK_ST(AcceptSecurityContext(&sc, NULL, &id, ASC_REQ_ALLOCATE_MEMORY, SECURITY_NATIVE_DREP,
                                   &h, &od, &attr, NULL),
             SEC_E_INVALID_HANDLE);
    CHECK_ST(AcceptSecurityContext(NULL, NULL, &id, ASC_REQ_ALLOCATE_MEMORY, SECURITY_NATIVE_DREP,
                                   &h, &od, &attr, NULL),
             SEC_E_INVALID_HANDLE);
    /* malformed SecBufferDesc */
    SecBufferDesc bad = {SECBUFFER_VERSION + 1, 1, &ib};
    CHECK_ST(t_server_cred(&sc, users, 0, 0), SEC_E_OK);
    CHECK_ST(AcceptSecurityContext(&sc, NULL, &bad, ASC_REQ_ALLOCATE_MEMORY, SECURITY_NATIVE_DREP,
                                   &h, &od, &attr, NULL),
             SEC_E_INVALID_PARAMETER);
    SecBufferDesc nobufs = {SECBUFFER_VERSION, 3, NULL};
    CHECK_ST(AcceptSecurityContext(&sc, NULL, &nobufs, ASC_REQ_ALLOCATE_MEMORY,
                                   SECURITY_NATIVE_DREP, &h, &od, &attr, NULL),
             SEC_E_INVALID_PARAMETER);
    FreeCredentialsHandle(&sc);
}

/* The token HANDLE of QuerySecurityContextToken. */
static void tokens(void)
{
    CredHandle sc, cc;
    t_hs hs;
    HANDLE tok;
    char name[64];
    CHECK_ST(t_server_cred(&sc, users, 0, 0), SEC_E_OK);
    CHECK_ST(t_client_cred(&cc, "bob", "TESTDOM", "Passw0rd!"), SEC_E_OK);
    CHECK_ST(t_handshake(&hs, &cc, &sc, 0, 0, NULL, 0, NULL, 0), SEC_E_OK);
    CHECK_ST(QuerySecurityContextToken(&hs.cctx, &tok), SEC_E_INVALID_HANDLE); /* client side */
    CHECK_ST(QuerySecurityContextToken(&hs.sctx, &tok), SEC_E_OK);
    t_hs_free(&hs);
    CHECK_ST(sspx_token_name(tok, name, sizeof(name)), SEC_E_OK); /* outlives the context */
    CHECK(strcmp(name, "TESTDOM\\bob") == 0);
    CHECK_ST(sspx_token_name(tok, name, 4), SEC_E_BUFFER_TOO_SMALL);
    CHECK_ST(sspx_token_close(tok), SEC_E_OK);
    CHECK_ST(sspx_token_close(tok), SEC_E_INVALID_HANDLE);
    CHECK_ST(sspx_token_name(tok, name, sizeof(name)), SEC_E_INVALID_HANDLE);
    CHECK_ST(sspx_token_name((HANDLE)(uintptr_t)0xdeadbeef, name, sizeof(name)),
             SEC_E_INVALID_HANDLE);
    FreeCredentialsHandle(&sc);
    FreeCredentialsHandle(&cc);
}

/* A context freed from inside its own call (a lookup callback closing it,
 * as a Lua or Python front end can): the call finishes on a live object and
 * the context is gone afterwards; under ASan any use after free shows. */
static sspx_ctx *g_victim;
static int g_freed;

static int freeing_lookup(void *ud, const char *user, const char *domain, sspx_secret *out)
{
    (void)ud;
    (void)domain;
    if (g_victim) {
        sspx_ctx_free(&g_victim);
        g_freed++;
    }
    return strcmp(user, "bob") == 0 && sspx_secret_set_password(out, "Passw0rd!") == SEC_E_OK
               ? SSPX_LOOKUP_FOUND
               : SSPX_LOOKUP_NO_USER;
}

static void freed_during_call(void)
{
    sspx_config *scfg = sspx_config_new(), *ccfg = sspx_config_new();
    sspx_cred *sc = NULL, *cc = NULL;
    sspx_ctx *c = NULL, *s = NULL;
    sspx_buf t1 = {0}, t2 = {0}, t3 = {0};
    sspx_ctx_params cp = {0};
    CHECK(sspx_config_set_lookup(scfg, freeing_lookup, NULL, NULL) == SEC_E_OK);
    CHECK(sspx_config_set(ccfg, "user", "bob") == SEC_E_OK &&
          sspx_config_set(ccfg, "domain", "TESTDOM") == SEC_E_OK &&
          sspx_config_set(ccfg, "password", "Passw0rd!") == SEC_E_OK);
    CHECK_ST(sspx_cred_acquire("NTLM", SECPKG_CRED_INBOUND, scfg, &sc), SEC_E_OK);
    CHECK_ST(sspx_cred_acquire("NTLM", SECPKG_CRED_OUTBOUND, ccfg, &cc), SEC_E_OK);
    cp.target = "HTTP/server";
    CHECK_ST(sspx_ctx_new(cc, &cp, &c), SEC_E_OK);
    CHECK_ST(sspx_ctx_new(sc, NULL, &s), SEC_E_OK);
    CHECK_ST(sspx_ctx_step(c, NULL, 0, &t1), SEC_I_CONTINUE_NEEDED);
    CHECK_ST(sspx_ctx_step(s, t1.data, t1.len, &t2), SEC_I_CONTINUE_NEEDED);
    CHECK_ST(sspx_ctx_step(c, t2.data, t2.len, &t3), SEC_E_OK);
    g_victim = s; /* the lookup frees the server context in the middle of the last leg */
    g_freed = 0;
    sspx_buf fin = {0};
    SECURITY_STATUS st = sspx_ctx_step(s, t3.data, t3.len, &fin);
    CHECK(g_freed == 1 && g_victim == NULL);
    CHECK(st == SEC_E_OK); /* the leg itself completed on the still-live object */
    sspx_buf_free(&fin);
    sspx_buf_free(&t1);
    sspx_buf_free(&t2);
    sspx_buf_free(&t3);
    sspx_ctx_free(&c);
    sspx_cred_free(&sc);
    sspx_cred_free(&cc);
    sspx_config_free(&scfg);
    sspx_config_free(&ccfg);
}

int main(void)
{
    users = t_users_file("TESTDOM:bob:Passw0rd!\n");
    RUN(forged);
    RUN(stale_double_and_kind);
    RUN(stale_cred_first_call);
    RUN(tokens);
    RUN(freed_during_call);
    t_users_free(users);
    return t_done();
}
