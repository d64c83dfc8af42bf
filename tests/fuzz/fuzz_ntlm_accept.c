/*
 * The NTLM server's whole accept path: a server context gets a NEGOTIATE,
 * answers with a CHALLENGE, then gets the fuzz input as AUTHENTICATE.
 *
 * Input: one option byte, then the message(s).
 *   bits 0-1  server credential (fuzz_common.h: 0 default, 1 NTLMv1/LM
 *             allowed, 2 MIC + bindings + 128-bit required, 3 lookup callback)
 *   bit 2     split: the rest is le16 n, a NEGOTIATE of n bytes, then the
 *             AUTHENTICATE; otherwise the NEGOTIATE is our client's and the
 *             rest is the AUTHENTICATE
 *   bit 3     SSPI: AcceptSecurityContext with caller SecBufferDescs (and
 *             QueryContextAttributes / QuerySecurityContextToken on success);
 *             otherwise the native sspx_ctx_new / sspx_ctx_step
 *   bit 4     the server is given channel bindings (fz_cbt)
 *   bit 5     ASC_REQ_ALLOW_NULL_SESSION
 *   bit 6     native: the clock moves 301 s between the legs (an expired
 *             challenge; 61 s past cred 3's limit); SSPI: ASC_REQ_ALLOCATE_MEMORY
 *   bit 7     native: message calls on the completed context; SSPI: a
 *             96-byte output buffer for the first leg (too small for a
 *             CHALLENGE) unless bit 6
 * The rng is reset per input: the server's challenge is always
 * 0123456789abcdef, so gen_corpus's AUTHENTICATE messages verify.
 */
#include "fuzz_common.h"

static sspx_cred *g_scred[FZ_SERVER_CREDS];
static uint8_t g_neg[64];
static size_t g_neg_len;
static uint8_t g_cbt[128];
static size_t g_cbt_len;

static void cleanup(void)
{
    for (int i = 0; i < FZ_SERVER_CREDS; i++)
        sspx_cred_free(&g_scred[i]);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    sspx_cred *cc = NULL;
    sspx_ctx *c = NULL;
    sspx_ctx_params p;
    sspx_buf neg;
    (void)argc;
    (void)argv;
    fz_install_hooks();
    for (int i = 0; i < FZ_SERVER_CREDS; i++)
        fz_server_cred(i, &g_scred[i]);
    fz_client_cred(0, &cc);
    memset(&p, 0, sizeof(p));
    p.flags = FZ_CREQ;
    p.target = FZ_TARGET;
    FZ_MUST(sspx_ctx_new(cc, &p, &c));
    FZ_CHECK(sspx_ctx_step(c, NULL, 0, &neg) == SEC_I_CONTINUE_NEEDED);
    FZ_CHECK(neg.len <= sizeof(g_neg));
    memcpy(g_neg, neg.data, neg.len);
    g_neg_len = neg.len;
    sspx_buf_free(&neg);
    sspx_ctx_free(&c);
    sspx_cred_free(&cc);
    g_cbt_len = fz_cbt(g_cbt, sizeof(g_cbt));
    atexit(cleanup);
    return 0;
}

static void after_native(sspx_ctx *ctx, int msg_ops)
{
    sspx_buf k, w, u, sig;
    const char *name = sspx_ctx_client_name(ctx);
    FZ_CHECK(sspx_ctx_is_complete(ctx));
    FZ_CHECK(name != NULL && *name);
    FZ_CHECK(sspx_ctx_session_key(ctx, &k) == SEC_E_OK && k.len == 16);
    sspx_buf_free(&k);
    (void)sspx_ctx_flags(ctx);
    (void)sspx_ctx_expiry(ctx);
    if (!msg_ops)
        return;
    /* Wrap then unwrap on the same context: the receive keys differ from
     * the send keys, so the unwrap must fail, without advancing anything. */
    static const uint8_t msg[] = "fuzz message";
    if (sspx_ctx_wrap(ctx, msg, sizeof(msg), &w) == SEC_E_OK) {
        FZ_CHECK(w.len == sizeof(msg) + 16);
        (void)sspx_ctx_unwrap(ctx, w.data, w.len, &u);
        sspx_buf_free(&u);
        sspx_buf_free(&w);
    }
    if (sspx_ctx_sign(ctx, msg, sizeof(msg), &sig) == SEC_E_OK) {
        FZ_CHECK(sig.len == 16);
        (void)sspx_ctx_verify(ctx, msg, sizeof(msg), sig.data, sig.len);
        sspx_buf_free(&sig);
    }
}

static void run_native(sspx_cred *cred, uint8_t opts, const uint8_t *neg, size_t neg_len,
                       const uint8_t *auth, size_t auth_len)
{
    sspx_ctx *ctx = NULL;
    sspx_ctx_params p;
    sspx_buf out;
    SECURITY_STATUS st;
    memset(&p, 0, sizeof(p));
    p.flags = FZ_SREQ | ((opts & 0x20) ? ASC_REQ_ALLOW_NULL_SESSION : 0);
    if (opts & 0x10) {
        p.channel_bindings = g_cbt;
        p.channel_bindings_len = g_cbt_len;
    }
    FZ_MUST(sspx_ctx_new(cred, &p, &ctx));
    st = sspx_ctx_step(ctx, neg, neg_len, &out);
    fz_log("native NEGOTIATE", st);
    FZ_CHECK(st == SEC_I_CONTINUE_NEEDED ? out.len > 0 : out.data == NULL);
    sspx_buf_free(&out);
    if (st == SEC_I_CONTINUE_NEEDED) {
        FZ_CHECK(!sspx_ctx_is_complete(ctx) && sspx_ctx_client_name(ctx) == NULL);
        if (opts & 0x40)
            fz_clock_offset = 301 * 10000000ULL;
        st = sspx_ctx_step(ctx, auth, auth_len, &out);
        fz_log("native AUTHENTICATE", st);
        FZ_CHECK(out.len == 0); /* NTLM's last leg has no token */
        sspx_buf_free(&out);
        if (st == SEC_E_OK) {
            after_native(ctx, opts & 0x80);
            /* a completed context takes no more legs */
            FZ_CHECK(sspx_ctx_step(ctx, auth, auth_len, &out) < 0);
            sspx_buf_free(&out);
        } else {
            FZ_CHECK(st < 0 && !sspx_ctx_is_complete(ctx));
        }
    }
    sspx_ctx_free(&ctx);
}

static void after_sspi(CtxtHandle *h)
{
    SecPkgContext_NamesA names;
    SecPkgContext_NamesW wnames;
    SecPkgContext_SessionKey key;
    SecPkgContext_Sizes sizes;
    SecPkgContext_Flags flags;
    SecPkgContext_Lifespan life;
    SecPkgContext_NativeNamesA nn;
    HANDLE tok = NULL;
    char buf[600];
    FZ_CHECK(QueryContextAttributesA(h, SECPKG_ATTR_NAMES, &names) == SEC_E_OK);
    FZ_CHECK(names.sUserName && *names.sUserName);
    FreeContextBuffer(names.sUserName);
    if (QueryContextAttributesW(h, SECPKG_ATTR_NAMES, &wnames) == SEC_E_OK)
        FreeContextBuffer(wnames.sUserName);
    FZ_CHECK(QueryContextAttributesA(h, SECPKG_ATTR_SESSION_KEY, &key) == SEC_E_OK);
    FZ_CHECK(key.SessionKeyLength == 16);
    FreeContextBuffer(key.SessionKey);
    FZ_CHECK(QueryContextAttributesA(h, SECPKG_ATTR_SIZES, &sizes) == SEC_E_OK);
    FZ_CHECK(QueryContextAttributesA(h, SECPKG_ATTR_FLAGS, &flags) == SEC_E_OK);
    FZ_CHECK(QueryContextAttributesA(h, SECPKG_ATTR_LIFESPAN, &life) == SEC_E_OK);
    if (QueryContextAttributesA(h, SECPKG_ATTR_NATIVE_NAMES, &nn) == SEC_E_OK) {
        FreeContextBuffer(nn.sClientName);
        FreeContextBuffer(nn.sServerName);
    }
    FZ_CHECK(QuerySecurityContextToken(h, &tok) == SEC_E_OK && tok != NULL);
    FZ_CHECK(sspx_token_name(tok, buf, sizeof(buf)) == SEC_E_OK);
    FZ_CHECK(sspx_token_close(tok) == SEC_E_OK);
}

static void run_sspi(sspx_cred *cred, uint8_t opts, const uint8_t *neg, size_t neg_len,
                     const uint8_t *auth, size_t auth_len)
{
    CredHandle ch;
    CtxtHandle h;
    int have = 0, alloc = opts & 0x40;
    ULONG req = FZ_SREQ | ((opts & 0x20) ? ASC_REQ_ALLOW_NULL_SESSION : 0) |
                (alloc ? ASC_REQ_ALLOCATE_MEMORY : 0);
    ULONG attrs = 0;
    TimeStamp exp;
    uint8_t obuf[4096];
    SecBuffer ob, ib[3];
    SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob}, id = {SECBUFFER_VERSION, 0, ib};
    SECURITY_STATUS st;

    sspx_cred_handle(cred, &ch);
    memset(&h, 0, sizeof(h));
    id.cBuffers = 0;
    ib[id.cBuffers++] = (SecBuffer){(ULONG)neg_len, SECBUFFER_TOKEN, (void *)neg};
    if (opts & 0x10)
        ib[id.cBuffers++] = (SecBuffer){(ULONG)g_cbt_len, SECBUFFER_CHANNEL_BINDINGS, g_cbt};
    ib[id.cBuffers++] = (SecBuffer){0, SECBUFFER_EMPTY, NULL};
    ob = (SecBuffer){(opts & 0x80) ? 96 : sizeof(obuf), SECBUFFER_TOKEN, obuf};
    if (alloc)
        ob = (SecBuffer){0, SECBUFFER_TOKEN, NULL};
    st = AcceptSecurityContext(&ch, NULL, &id, req, SECURITY_NATIVE_DREP, &h, &od, &attrs, &exp);
    fz_log("ASC NEGOTIATE", st);
    if (alloc && ob.pvBuffer) {
        FZ_CHECK(st >= 0);
        FreeContextBuffer(ob.pvBuffer);
    }
    if (st >= 0)
        have = 1;
    if (st == SEC_I_CONTINUE_NEEDED) {
        FZ_CHECK(ob.cbBuffer > 0);
        ib[0] = (SecBuffer){(ULONG)auth_len, SECBUFFER_TOKEN, (void *)auth};
        ib[id.cBuffers - 1] = (SecBuffer){0, SECBUFFER_EMPTY, NULL};
        ob = alloc ? (SecBuffer){0, SECBUFFER_TOKEN, NULL}
                   : (SecBuffer){sizeof(obuf), SECBUFFER_TOKEN, obuf};
        st = AcceptSecurityContext(&ch, &h, &id, req, SECURITY_NATIVE_DREP, &h, &od, &attrs, &exp);
        fz_log("ASC AUTHENTICATE", st);
        if (alloc && ob.pvBuffer)
            FreeContextBuffer(ob.pvBuffer);
        /* SECBUFFER_EXTRA, when written, points into the input token */
        SecBuffer *e = &ib[id.cBuffers - 1];
        if (e->BufferType == SECBUFFER_EXTRA)
            FZ_CHECK(e->cbBuffer <= auth_len && (const uint8_t *)e->pvBuffer >= auth &&
                     (const uint8_t *)e->pvBuffer + e->cbBuffer == auth + auth_len);
        if (st == SEC_E_OK) {
            FZ_CHECK(exp.QuadPart != 0);
            after_sspi(&h);
        }
    }
    if (have)
        FZ_CHECK(DeleteSecurityContext(&h) == SEC_E_OK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t opts;
    const uint8_t *neg = g_neg, *auth;
    size_t neg_len = g_neg_len, auth_len;
    uint8_t *negc, *authc;
    if (size < 1)
        return 0;
    fz_reset();
    opts = data[0];
    data++;
    size--;
    if (opts & 0x04) {
        if (size < 2)
            return 0;
        neg_len = (size_t)data[0] | (size_t)data[1] << 8;
        data += 2;
        size -= 2;
        if (neg_len > size)
            neg_len = size;
        neg = data;
        data += neg_len;
        size -= neg_len;
    }
    auth = data;
    auth_len = size;
    /* exact-size copies: a read past either message is an ASan report */
    negc = fz_dup(neg, neg_len);
    authc = fz_dup(auth, auth_len);
    if (opts & 0x08)
        run_sspi(g_scred[opts & 3], opts, negc, neg_len, authc, auth_len);
    else
        run_native(g_scred[opts & 3], opts, negc, neg_len, authc, auth_len);
    free(negc);
    free(authc);
    return 0;
}
