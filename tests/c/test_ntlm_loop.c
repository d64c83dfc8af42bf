/* In-process client <-> server NTLM loops through the SSPI entry points,
 * over the flag combinations: integrity, confidentiality, replay/sequence
 * detection, channel bindings, allocate-memory and caller buffers. */
#include "fixtures.h"

static const char *users;

/* A SEC_CHANNEL_BINDINGS blob with application data `app` (tls-server-end-point style). */
static size_t make_cbt(uint8_t *out, const char *app)
{
    size_t n = strlen(app);
    memset(out, 0, 32);
    out[24] = (uint8_t)n; /* cbApplicationDataLength */
    out[28] = 32;         /* dwApplicationDataOffset */
    memcpy(out + 32, app, n);
    return 32 + n;
}

static void name_is(CtxtHandle *ctx, const char *want)
{
    SecPkgContext_NamesA names;
    CHECK_ST(QueryContextAttributesA(ctx, SECPKG_ATTR_NAMES, &names), SEC_E_OK);
    CHECK(strcmp(names.sUserName, want) == 0);
    FreeContextBuffer(names.sUserName);
}

static void keys_equal(t_hs *h)
{
    SecPkgContext_SessionKey a, b;
    CHECK_ST(QueryContextAttributesA(&h->sctx, SECPKG_ATTR_SESSION_KEY, &a), SEC_E_OK);
    CHECK_ST(QueryContextAttributesA(&h->cctx, SECPKG_ATTR_SESSION_KEY, &b), SEC_E_OK);
    CHECK(a.SessionKeyLength == 16 && b.SessionKeyLength == 16);
    CHECK_MEM(a.SessionKey, b.SessionKey, 16);
    FreeContextBuffer(a.SessionKey);
    FreeContextBuffer(b.SessionKey);
}

/* sign on one side, verify on the other, both directions, several messages */
static void sign_both_ways(CtxtHandle *from, CtxtHandle *to, int n)
{
    for (int i = 0; i < n; i++) {
        char msg[64];
        uint8_t sig[16];
        snprintf(msg, sizeof(msg), "message number %d", i);
        SecBuffer b[2] = {{(ULONG)strlen(msg), SECBUFFER_DATA, msg}, {16, SECBUFFER_TOKEN, sig}};
        SecBufferDesc d = {SECBUFFER_VERSION, 2, b};
        ULONG qop;
        CHECK_ST(MakeSignature(from, 0, &d, 0), SEC_E_OK);
        CHECK(b[1].cbBuffer == 16 && sig[0] == 1);
        CHECK_ST(VerifySignature(to, &d, 0, &qop), SEC_E_OK);
    }
}

static void seal_both_ways(CtxtHandle *from, CtxtHandle *to, int n)
{
    for (int i = 0; i < n; i++) {
        char msg[64], orig[64];
        uint8_t sig[16];
        int len = snprintf(msg, sizeof(msg), "secret number %d", i);
        memcpy(orig, msg, (size_t)len);
        SecBuffer b[2] = {{16, SECBUFFER_TOKEN, sig}, {(ULONG)len, SECBUFFER_DATA, msg}};
        SecBufferDesc d = {SECBUFFER_VERSION, 2, b};
        ULONG qop;
        CHECK_ST(EncryptMessage(from, 0, &d, 0), SEC_E_OK);
        CHECK(memcmp(msg, orig, (size_t)len) != 0);
        CHECK_ST(DecryptMessage(to, &d, 0, &qop), SEC_E_OK);
        CHECK_MEM(msg, orig, (size_t)len);
    }
}

static void flag_matrix(void)
{
    static const ULONG creqs[] = {
        0, ISC_REQ_INTEGRITY, ISC_REQ_CONFIDENTIALITY,
        ISC_REQ_INTEGRITY | ISC_REQ_REPLAY_DETECT | ISC_REQ_SEQUENCE_DETECT,
        ISC_REQ_CONFIDENTIALITY | ISC_REQ_INTEGRITY | ISC_REQ_REPLAY_DETECT |
            ISC_REQ_SEQUENCE_DETECT | ISC_REQ_CONNECTION};
    static const ULONG sreqs[] = {0, ASC_REQ_INTEGRITY, ASC_REQ_CONFIDENTIALITY,
                                  ASC_REQ_INTEGRITY | ASC_REQ_REPLAY_DETECT |
                                      ASC_REQ_SEQUENCE_DETECT};
    CredHandle sc, cc;
    CHECK_ST(t_server_cred(&sc, users, 0, SSPX_CBT_WHEN_SUPPLIED), SEC_E_OK);
    CHECK_ST(t_client_cred(&cc, "bob", "TESTDOM", "Passw0rd!"), SEC_E_OK);
    for (size_t i = 0; i < sizeof(creqs) / sizeof(creqs[0]); i++) {
        for (size_t j = 0; j < sizeof(sreqs) / sizeof(sreqs[0]); j++) {
            t_hs h;
            SecPkgContext_Flags fl;
            CHECK_ST(t_handshake(&h, &cc, &sc, creqs[i], sreqs[j], NULL, 0, NULL, 0), SEC_E_OK);
            name_is(&h.sctx, "TESTDOM\\bob");
            keys_equal(&h);
            /* our client always negotiates SIGN; SEAL only on request */
            CHECK(h.sattr & ASC_RET_INTEGRITY);
            CHECK(!!(h.sattr & ASC_RET_CONFIDENTIALITY) == !!(creqs[i] & ISC_REQ_CONFIDENTIALITY));
            CHECK(!!(h.cattr & ISC_RET_CONFIDENTIALITY) == !!(creqs[i] & ISC_REQ_CONFIDENTIALITY));
            CHECK(!!(h.sattr & ASC_RET_REPLAY_DETECT) == !!(sreqs[j] & ASC_REQ_REPLAY_DETECT));
            CHECK(h.sexp.QuadPart != 0);
            CHECK_ST(QueryContextAttributesA(&h.sctx, SECPKG_ATTR_FLAGS, &fl), SEC_E_OK);
            CHECK(fl.Flags == h.sattr);
            sign_both_ways(&h.cctx, &h.sctx, 3);
            sign_both_ways(&h.sctx, &h.cctx, 3);
            if (creqs[i] & ISC_REQ_CONFIDENTIALITY) {
                seal_both_ways(&h.cctx, &h.sctx, 3);
                seal_both_ways(&h.sctx, &h.cctx, 3);
                sign_both_ways(&h.cctx, &h.sctx, 1); /* sign and seal share the stream */
            } else {
                uint8_t sig[16], m[4] = "abc";
                SecBuffer b[2] = {{16, SECBUFFER_TOKEN, sig}, {3, SECBUFFER_DATA, m}};
                SecBufferDesc d = {SECBUFFER_VERSION, 2, b};
                CHECK_ST(EncryptMessage(&h.cctx, 0, &d, 0), SEC_E_UNSUPPORTED_FUNCTION);
            }
            t_hs_free(&h);
        }
    }
    FreeCredentialsHandle(&sc);
    FreeCredentialsHandle(&cc);
}

/* Replay and reordering are detected; a failed verify leaves the context usable. */
static void replay_and_order(void)
{
    CredHandle sc, cc;
    t_hs h;
    uint8_t sig[3][16];
    char m[3][8] = {"first", "second", "third"};
    ULONG qop;
    CHECK_ST(t_server_cred(&sc, users, 0, SSPX_CBT_WHEN_SUPPLIED), SEC_E_OK);
    CHECK_ST(t_client_cred(&cc, "bob", "TESTDOM", "Passw0rd!"), SEC_E_OK);
    CHECK_ST(t_handshake(&h, &cc, &sc, ISC_REQ_INTEGRITY | ISC_REQ_REPLAY_DETECT,
                         ASC_REQ_INTEGRITY | ASC_REQ_REPLAY_DETECT | ASC_REQ_SEQUENCE_DETECT, NULL,
                         0, NULL, 0),
             SEC_E_OK);
    SecBuffer b[3][2];
    SecBufferDesc d[3];
    for (int i = 0; i < 3; i++) {
        b[i][0] = (SecBuffer){(ULONG)strlen(m[i]), SECBUFFER_DATA, m[i]};
        b[i][1] = (SecBuffer){16, SECBUFFER_TOKEN, sig[i]};
        d[i] = (SecBufferDesc){SECBUFFER_VERSION, 2, b[i]};
        CHECK_ST(MakeSignature(&h.cctx, 0, &d[i], 0), SEC_E_OK);
    }
    CHECK_ST(VerifySignature(&h.sctx, &d[1], 0, &qop), SEC_E_OUT_OF_SEQUENCE); /* skipped one */
    CHECK_ST(VerifySignature(&h.sctx, &d[0], 0, &qop), SEC_E_OK);
    CHECK_ST(VerifySignature(&h.sctx, &d[0], 0, &qop), SEC_E_OUT_OF_SEQUENCE); /* replay */
    m[1][0] = 'S';                                                             /* tampered */
    CHECK_ST(VerifySignature(&h.sctx, &d[1], 0, &qop), SEC_E_MESSAGE_ALTERED);
    m[1][0] = 's';
    CHECK_ST(VerifySignature(&h.sctx, &d[1], 0, &qop), SEC_E_OK);
    sig[2][5] ^= 1; /* tampered signature */
    CHECK_ST(VerifySignature(&h.sctx, &d[2], 0, &qop), SEC_E_MESSAGE_ALTERED);
    sig[2][5] ^= 1;
    CHECK_ST(VerifySignature(&h.sctx, &d[2], 0, &qop), SEC_E_OK);
    t_hs_free(&h);

    /* sealed: a tampered ciphertext is refused and its bytes are wiped */
    CHECK_ST(t_handshake(&h, &cc, &sc, ISC_REQ_CONFIDENTIALITY, ASC_REQ_CONFIDENTIALITY, NULL, 0,
                         NULL, 0),
             SEC_E_OK);
    char msg[16] = "top secret data";
    uint8_t s[16];
    SecBuffer e[2] = {{16, SECBUFFER_TOKEN, s}, {15, SECBUFFER_DATA, msg}};
    SecBufferDesc ed = {SECBUFFER_VERSION, 2, e};
    char sealed[16];
    CHECK_ST(EncryptMessage(&h.cctx, 0, &ed, 0), SEC_E_OK);
    memcpy(sealed, msg, 15);
    msg[3] ^= 0x40;
    CHECK_ST(DecryptMessage(&h.sctx, &ed, 0, &qop), SEC_E_MESSAGE_ALTERED);
    static const char zero[15];
    CHECK_MEM(msg, zero, 15);
    /* the failure did not advance the receiver: the genuine message still opens */
    memcpy(msg, sealed, 15);
    CHECK_ST(DecryptMessage(&h.sctx, &ed, 0, &qop), SEC_E_OK);
    CHECK_MEM(msg, "top secret data", 15);
    seal_both_ways(&h.cctx, &h.sctx, 2);
    t_hs_free(&h);
    FreeCredentialsHandle(&sc);
    FreeCredentialsHandle(&cc);
}

static void channel_bindings(void)
{
    CredHandle sc, sc_req, sc_never, cc;
    uint8_t cb1[64], cb2[64];
    size_t l1 = make_cbt(cb1, "tls-server-end-point:AAAA"),
           l2 = make_cbt(cb2, "tls-server-end-point:BBBB");
    t_hs h;
    CHECK_ST(t_server_cred(&sc, users, 0, SSPX_CBT_WHEN_SUPPLIED), SEC_E_OK);
    CHECK_ST(t_server_cred(&sc_req, users, 0, SSPX_CBT_REQUIRED), SEC_E_OK);
    CHECK_ST(t_server_cred(&sc_never, users, 0, SSPX_CBT_NEVER), SEC_E_OK);
    CHECK_ST(t_client_cred(&cc, "bob", "TESTDOM", "Passw0rd!"), SEC_E_OK);
    /* matching */
    CHECK_ST(t_handshake(&h, &cc, &sc, 0, 0, cb1, (ULONG)l1, cb1, (ULONG)l1), SEC_E_OK);
    t_hs_free(&h);
    CHECK_ST(t_handshake(&h, &cc, &sc_req, 0, 0, cb1, (ULONG)l1, cb1, (ULONG)l1), SEC_E_OK);
    t_hs_free(&h);
    /* mismatch */
    CHECK_ST(t_handshake(&h, &cc, &sc, 0, 0, cb1, (ULONG)l1, cb2, (ULONG)l2), SEC_E_BAD_BINDINGS);
    t_hs_free(&h);
    CHECK_ST(t_handshake(&h, &cc, &sc_req, 0, 0, cb1, (ULONG)l1, cb2, (ULONG)l2),
             SEC_E_BAD_BINDINGS);
    t_hs_free(&h);
    /* client sent none (zeros): accepted when supplied-only, refused when required */
    CHECK_ST(t_handshake(&h, &cc, &sc, 0, 0, NULL, 0, cb2, (ULONG)l2), SEC_E_OK);
    t_hs_free(&h);
    CHECK_ST(t_handshake(&h, &cc, &sc_req, 0, 0, NULL, 0, cb2, (ULONG)l2), SEC_E_BAD_BINDINGS);
    t_hs_free(&h);
    /* required but the application gave none */
    CHECK_ST(t_handshake(&h, &cc, &sc_req, 0, 0, cb1, (ULONG)l1, NULL, 0), SEC_E_BAD_BINDINGS);
    t_hs_free(&h);
    /* never: not checked */
    CHECK_ST(t_handshake(&h, &cc, &sc_never, 0, 0, cb1, (ULONG)l1, cb2, (ULONG)l2), SEC_E_OK);
    t_hs_free(&h);
    /* malformed bindings buffer: offsets outside it */
    uint8_t bad[32] = {0};
    bad[24] = 200;
    bad[28] = 32;
    CHECK_ST(t_handshake(&h, &cc, &sc, 0, 0, cb1, (ULONG)l1, bad, 32), SEC_E_INVALID_PARAMETER);
    t_hs_free(&h);
    FreeCredentialsHandle(&sc);
    FreeCredentialsHandle(&sc_req);
    FreeCredentialsHandle(&sc_never);
    FreeCredentialsHandle(&cc);
}

/* ASC_REQ_ALLOCATE_MEMORY + FreeContextBuffer, and a too-small caller buffer. */
static void buffers(void)
{
    CredHandle sc, cc;
    CtxtHandle cctx, sctx;
    uint8_t neg[256], small[16];
    ULONG attr;
    SecBuffer ob = {sizeof(neg), SECBUFFER_TOKEN, neg}, ib, sob;
    SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob}, id = {SECBUFFER_VERSION, 1, &ib},
                  sod = {SECBUFFER_VERSION, 1, &sob};
    CHECK_ST(t_server_cred(&sc, users, 0, SSPX_CBT_WHEN_SUPPLIED), SEC_E_OK);
    CHECK_ST(t_client_cred(&cc, "bob", "TESTDOM", "Passw0rd!"), SEC_E_OK);
    CHECK_ST(InitializeSecurityContextA(&cc, NULL, NULL, 0, 0, SECURITY_NATIVE_DREP, NULL, 0, &cctx,
                                        &od, &attr, NULL),
             SEC_I_CONTINUE_NEEDED);
    ib = (SecBuffer){ob.cbBuffer, SECBUFFER_TOKEN, neg};
    /* caller's buffer too small: no context is created */
    sob = (SecBuffer){sizeof(small), SECBUFFER_TOKEN, small};
    sctx.dwLower = sctx.dwUpper = 12345;
    CHECK_ST(
        AcceptSecurityContext(&sc, NULL, &id, 0, SECURITY_NATIVE_DREP, &sctx, &sod, &attr, NULL),
        SEC_E_BUFFER_TOO_SMALL);
    CHECK(sctx.dwLower == 12345); /* untouched */
    /* allocate-memory */
    sob = (SecBuffer){0, SECBUFFER_TOKEN, NULL};
    CHECK_ST(AcceptSecurityContext(&sc, NULL, &id, ASC_REQ_ALLOCATE_MEMORY, SECURITY_NETWORK_DREP,
                                   &sctx, &sod, &attr, NULL),
             SEC_I_CONTINUE_NEEDED);
    CHECK(attr & ASC_RET_ALLOCATED_MEMORY);
    CHECK(sob.pvBuffer != NULL && sob.cbBuffer > 48);
    CHECK_ST(FreeContextBuffer(sob.pvBuffer), SEC_E_OK);
    uint8_t *foreign = calloc(1, 64);
    CHECK_ST(FreeContextBuffer(foreign + 16), SEC_E_INVALID_HANDLE); /* not ours */
    free(foreign);
    /* no output buffer at all for a leg that produces a token */
    ib = (SecBuffer){ob.cbBuffer, SECBUFFER_TOKEN, neg};
    CtxtHandle c2;
    SecBufferDesc empty = {SECBUFFER_VERSION, 0, NULL};
    CHECK_ST(
        AcceptSecurityContext(&sc, NULL, &id, 0, SECURITY_NATIVE_DREP, &c2, &empty, &attr, NULL),
        SEC_E_INVALID_PARAMETER);
    DeleteSecurityContext(&sctx);
    DeleteSecurityContext(&cctx);
    FreeCredentialsHandle(&sc);
    FreeCredentialsHandle(&cc);
}

/* Users from a file with NT hashes, wildcard domains, the default domain; and a callback. */
static int lookup_cb(void *ud, const char *user, const char *domain, sspx_secret *out)
{
    (void)domain;
    (*(int *)ud)++;
    if (strcmp(user, "carol") == 0)
        return sspx_secret_set_password(out, "Carol#123") == SEC_E_OK ? SSPX_LOOKUP_FOUND : -1;
    if (strcmp(user, "down") == 0)
        return SSPX_LOOKUP_UNAVAILABLE;
    return SSPX_LOOKUP_NO_USER;
}

static void user_sources(void)
{
    CredHandle sc, cc;
    t_hs h;
    int calls = 0;
    SSPX_SERVER_AUTH_DATA ad;
    /* NT hash of "Passw0rd!" from the file's {NT} form; alice under "*" */
    CHECK_ST(t_server_cred(&sc, users, 0, 0), SEC_E_OK);
    CHECK_ST(t_client_cred(&cc, "hash", "TESTDOM", "Passw0rd!"), SEC_E_OK);
    CHECK_ST(t_handshake(&h, &cc, &sc, 0, 0, NULL, 0, NULL, 0), SEC_E_OK);
    t_hs_free(&h);
    FreeCredentialsHandle(&cc);
    CHECK_ST(t_client_cred(&cc, "alice", "ANYWHERE", "Secret1"), SEC_E_OK);
    CHECK_ST(t_handshake(&h, &cc, &sc, 0, 0, NULL, 0, NULL, 0), SEC_E_OK);
    name_is(&h.sctx, "ANYWHERE\\alice");
    t_hs_free(&h);
    FreeCredentialsHandle(&cc);
    CHECK_ST(t_client_cred(&cc, "bob", "", "Passw0rd!"), SEC_E_OK); /* default domain */
    CHECK_ST(t_handshake(&h, &cc, &sc, 0, 0, NULL, 0, NULL, 0), SEC_E_OK);
    name_is(&h.sctx, "TESTDOM\\bob"); /* the account's domain, not the client's empty one */
    t_hs_free(&h);
    FreeCredentialsHandle(&cc);
    CHECK_ST(t_client_cred(&cc, "BOB", "testdom", "Passw0rd!"), SEC_E_OK);
    CHECK_ST(t_handshake(&h, &cc, &sc, 0, 0, NULL, 0, NULL, 0), SEC_E_OK);
    name_is(&h.sctx, "TESTDOM\\bob"); /* the account's own spelling */
    t_hs_free(&h);
    FreeCredentialsHandle(&cc);
    CHECK_ST(t_client_cred(&cc, "alice", "", "Secret1"), SEC_E_OK);
    CHECK_ST(t_handshake(&h, &cc, &sc, 0, 0, NULL, 0, NULL, 0), SEC_E_OK);
    name_is(&h.sctx, "TESTDOM\\alice"); /* "*" entry, no domain: the server's domain */
    t_hs_free(&h);
    FreeCredentialsHandle(&cc);
    FreeCredentialsHandle(&sc);

    memset(&ad, 0, sizeof(ad));
    ad.Version = SSPX_SERVER_AUTH_DATA_VERSION;
    ad.Lookup = lookup_cb;
    ad.LookupContext = &calls;
    CHECK_ST(AcquireCredentialsHandleA(NULL, "NTLM", SECPKG_CRED_INBOUND, NULL, &ad, NULL, NULL,
                                       &sc, NULL),
             SEC_E_OK);
    CHECK_ST(t_client_cred(&cc, "carol", "X", "Carol#123"), SEC_E_OK);
    CHECK_ST(t_handshake(&h, &cc, &sc, 0, 0, NULL, 0, NULL, 0), SEC_E_OK);
    t_hs_free(&h);
    FreeCredentialsHandle(&cc);
    CHECK_ST(t_client_cred(&cc, "carol", "X", "wrong"), SEC_E_OK);
    CHECK_ST(t_handshake(&h, &cc, &sc, 0, 0, NULL, 0, NULL, 0), SEC_E_LOGON_DENIED);
    t_hs_free(&h);
    FreeCredentialsHandle(&cc);
    CHECK_ST(t_client_cred(&cc, "down", "X", "whatever"), SEC_E_OK);
    CHECK_ST(t_handshake(&h, &cc, &sc, 0, 0, NULL, 0, NULL, 0), SEC_E_NO_AUTHENTICATING_AUTHORITY);
    t_hs_free(&h);
    FreeCredentialsHandle(&cc);
    CHECK(calls == 3);
    FreeCredentialsHandle(&sc);
}

/* The native API drives the same handshake. */
static void native_api(void)
{
    sspx_config *scfg = sspx_config_new(), *ccfg = sspx_config_new();
    sspx_cred *s = NULL, *c = NULL;
    sspx_ctx *sx = NULL, *cx = NULL;
    sspx_buf t1 = {0}, t2 = {0}, t3 = {0}, t4 = {0}, w = {0}, u = {0}, sig = {0}, key = {0};
    sspx_ctx_params cp = {ISC_REQ_CONFIDENTIALITY, "HTTP/x", NULL, 0};
    CHECK_ST(sspx_config_set(scfg, "users_file", users), SEC_E_OK);
    CHECK_ST(sspx_config_set(scfg, "netbios_domain", "TESTDOM"), SEC_E_OK);
    CHECK_ST(sspx_config_set(ccfg, "user", "TESTDOM\\bob"), SEC_E_OK);
    CHECK_ST(sspx_config_set(ccfg, "password", "Passw0rd!"), SEC_E_OK);
    CHECK_ST(sspx_cred_acquire("NTLM", SSPX_CRED_INBOUND, scfg, &s), SEC_E_OK);
    CHECK_ST(sspx_cred_acquire("ntlm", SSPX_CRED_OUTBOUND, ccfg, &c), SEC_E_OK);
    sspx_config_free(&scfg);
    sspx_config_free(&ccfg);
    CHECK(scfg == NULL);
    CHECK_ST(sspx_ctx_new(s, NULL, &sx), SEC_E_OK);
    CHECK_ST(sspx_ctx_new(c, &cp, &cx), SEC_E_OK);
    CHECK_ST(sspx_ctx_step(cx, NULL, 0, &t1), SEC_I_CONTINUE_NEEDED);
    CHECK_ST(sspx_ctx_step(sx, t1.data, t1.len, &t2), SEC_I_CONTINUE_NEEDED);
    CHECK(!sspx_ctx_is_complete(sx) && sspx_ctx_client_name(sx) == NULL);
    CHECK_ST(sspx_ctx_step(cx, t2.data, t2.len, &t3), SEC_E_OK);
    CHECK_ST(sspx_ctx_step(sx, t3.data, t3.len, &t4), SEC_E_OK);
    CHECK(t4.len == 0);
    CHECK(sspx_ctx_is_complete(sx) && sspx_ctx_is_complete(cx));
    CHECK(sspx_ctx_client_name(sx) && strcmp(sspx_ctx_client_name(sx), "TESTDOM\\bob") == 0);
    CHECK(sspx_ctx_flags(sx) & ASC_RET_CONFIDENTIALITY);
    CHECK(strcmp(sspx_ctx_package(sx), "NTLM") == 0);
    CHECK_ST(sspx_ctx_session_key(sx, &key), SEC_E_OK);
    CHECK(key.len == 16);
    CHECK_ST(sspx_ctx_wrap(cx, (const uint8_t *)"hello", 5, &w), SEC_E_OK);
    CHECK_ST(sspx_ctx_unwrap(sx, w.data, w.len, &u), SEC_E_OK);
    CHECK(u.len == 5 && memcmp(u.data, "hello", 5) == 0);
    sspx_buf_free(&u);
    CHECK_ST(sspx_ctx_unwrap(sx, w.data, w.len, &u), SEC_E_MESSAGE_ALTERED); /* replay */
    CHECK_ST(sspx_ctx_sign(sx, (const uint8_t *)"abc", 3, &sig), SEC_E_OK);
    CHECK_ST(sspx_ctx_verify(cx, (const uint8_t *)"abd", 3, sig.data, sig.len),
             SEC_E_MESSAGE_ALTERED);
    CHECK_ST(sspx_ctx_verify(cx, (const uint8_t *)"abc", 3, sig.data, sig.len), SEC_E_OK);
    /* the SSPI handle of a native context works with the Windows-style calls */
    CtxtHandle h;
    SecPkgContext_NamesA n;
    sspx_ctx_handle(sx, &h);
    CHECK_ST(QueryContextAttributesA(&h, SECPKG_ATTR_NAMES, &n), SEC_E_OK);
    FreeContextBuffer(n.sUserName);
    sspx_buf *bufs[] = {&t1, &t2, &t3, &t4, &w, &u, &sig, &key};
    for (size_t i = 0; i < 8; i++)
        sspx_buf_free(bufs[i]);
    sspx_ctx_free(&sx);
    sspx_ctx_free(&cx);
    CHECK(sx == NULL);
    CHECK_ST(QueryContextAttributesA(&h, SECPKG_ATTR_NAMES, &n), SEC_E_INVALID_HANDLE);
    sspx_cred_free(&s);
    sspx_cred_free(&c);
}

/* A DOMAIN\user with non-ASCII characters, through UTF-16 and upper-casing. */
static void unicode_names(void)
{
    CredHandle sc, cc;
    t_hs h;
    const char *f = t_users_file("M\xc3\x9cNCHEN:j\xc3\xbcrgen:P\xc3\xa4ss\xe2\x82\xac\n");
    CHECK_ST(t_server_cred(&sc, f, 0, 0), SEC_E_OK);
    CHECK_ST(t_client_cred(&cc, "J\xc3\x9cRGEN",
                           "m\xc3\xbc"
                           "nchen",
                           "P\xc3\xa4ss\xe2\x82\xac"),
             SEC_E_OK);
    CHECK_ST(t_handshake(&h, &cc, &sc, 0, 0, NULL, 0, NULL, 0), SEC_E_LOGON_DENIED);
    /* user names compare case-blind only in ASCII in the users file: exact-case works */
    t_hs_free(&h);
    FreeCredentialsHandle(&cc);
    CHECK_ST(t_client_cred(&cc, "j\xc3\xbcrgen", "M\xc3\x9cNCHEN", "P\xc3\xa4ss\xe2\x82\xac"),
             SEC_E_OK);
    CHECK_ST(t_handshake(&h, &cc, &sc, 0, 0, NULL, 0, NULL, 0), SEC_E_OK);
    name_is(&h.sctx, "M\xc3\x9cNCHEN\\j\xc3\xbcrgen");
    t_hs_free(&h);
    FreeCredentialsHandle(&cc);
    FreeCredentialsHandle(&sc);
    t_users_free(f);
}

int main(void)
{
    users = t_users_file("# test users\nTESTDOM:bob:Passw0rd!\n*:alice:Secret1\n"
                         "TESTDOM:hash:{NT}FC525C9683E8FE067095BA2DDC971889\n");
    RUN(flag_matrix);
    RUN(replay_and_order);
    RUN(channel_bindings);
    RUN(buffers);
    RUN(user_sources);
    RUN(native_api);
    RUN(unicode_names);
    t_users_free(users);
    return t_done();
}
