/*
 * The Kerberos server's accept path: AcceptSecurityContext / sspx_ctx_step
 * on a "Kerberos" inbound credential (the committed keytab, fuzz_krb_common.h)
 * with the fuzz input as the AP-REQ: the replay key, Heimdal's
 * gss_accept_sec_context (ticket and authenticator decryption, checksums,
 * channel bindings, AP-REP), the replay cache, names, session key, message
 * protection on the completed context.
 *
 * The seeds (make_krb_corpus.py) are real AP-REQs for HTTP/localhost made
 * by our client (Heimdal) and by MIT's GSSAPI; they decrypt with the
 * keytab, so mutations reach the code after the decryption.
 *
 * Input: one option byte, then the token.
 *   bit 0     channel bindings (fz_cbt): a SECBUFFER_CHANNEL_BINDINGS buffer
 *             (SSPI) / sspx_ctx_params.channel_bindings (native)
 *   bit 1     SSPI: AcceptSecurityContext with caller SecBufferDescs (and
 *             QueryContextAttributes / QuerySecurityContextToken); otherwise
 *             the native sspx_ctx_new / sspx_ctx_step
 *   bit 2     replay oracle: after a success the same token on a new context
 *             must be refused as a replay (SSPX_ERR_KRB_REPLAY), and accepted
 *             again once the replay window has passed
 *   bit 3     credential 1: principal = HTTP/localhost@TEST.LOCAL and
 *             replay_cache_size = 1 (credential 0: any key of the keytab)
 *   bits 4-5  Heimdal's clock: 0 the seeds' time, 1 one hour later (skew),
 *             2 one hour earlier (ticket not yet valid / skew), 3 twelve
 *             years later (every ticket has ended)
 *   bit 6     ASC_REQ_EXTENDED_ERROR (an error token on failure, checked);
 *             on success: message protection (sign / verify / wrap / unwrap
 *             on the context itself) and, SSPI, the context attributes
 *   bit 7     SSPI: ASC_REQ_ALLOCATE_MEMORY; native: no request flags
 *             (otherwise confidentiality, integrity, replay, sequence, mutual)
 *
 * Determinism and the replay cache: the cache must refuse an accepted
 * authenticator a second time, so an input that succeeded once would fail
 * ever after, and libFuzzer would see its coverage change. Both credentials
 * have replay_window = 1 (the smallest allowed: 0 is refused) and sspx's
 * clock moves 2 s per input, so whatever an input left in the cache has
 * expired when the next one looks, and the next insertion drops it (the
 * eviction code runs too). Each input therefore starts with an empty cache
 * in effect; the refusal of a replay is checked inside one input (bit 2).
 * Heimdal's clock is pinned to the seeds' time (fuzz_krb_common.h).
 */
#include "core/core.h"
#include "fuzz_krb_common.h"

#define NCRED 2

static sspx_cred *g_cred[NCRED];
static uint8_t g_cbt[128];
static size_t g_cbt_len;
static uint64_t g_epoch;

static void cleanup(void)
{
    for (int i = 0; i < NCRED; i++)
        sspx_cred_free(&g_cred[i]);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_install_hooks();
    fzk_init();
    for (int i = 0; i < NCRED; i++) {
        sspx_config *cfg = sspx_config_new();
        FZ_CHECK(cfg);
        fzk_set_keytab(cfg);
        FZ_MUST(sspx_config_set(cfg, "replay_window", "1"));
        if (i == 1) {
            FZ_MUST(sspx_config_set(cfg, "principal", FZK_PRINCIPAL));
            FZ_MUST(sspx_config_set(cfg, "replay_cache_size", "1"));
        }
        FZ_MUST(sspx_cred_acquire("Kerberos", SSPX_CRED_INBOUND, cfg, &g_cred[i]));
        sspx_config_free(&cfg);
    }
    g_cbt_len = fz_cbt(g_cbt, sizeof(g_cbt));
    atexit(cleanup);
    return 0;
}

/* Only alice has tickets in the seeds' realm: a token that verifies with a
 * keytab key and names anybody else would be a forgery. */
static void check_name(const char *name)
{
    FZ_CHECK(name != NULL);
    FZ_CHECK(strcmp(name, "TEST.LOCAL\\alice") == 0);
}

static void msg_ops(sspx_ctx *ctx)
{
    static const uint8_t msg[] = "fuzz message";
    sspx_buf w, u, sig;
    if (sspx_ctx_wrap(ctx, msg, sizeof(msg), &w) == SEC_E_OK) {
        /* our own token: sent by the acceptor, refused by the acceptor */
        FZ_CHECK(sspx_ctx_unwrap(ctx, w.data, w.len, &u) < 0);
        sspx_buf_free(&u);
        sspx_buf_free(&w);
    }
    if (sspx_ctx_sign(ctx, msg, sizeof(msg), &sig) == SEC_E_OK) {
        FZ_CHECK(sspx_ctx_verify(ctx, msg, sizeof(msg), sig.data, sig.len) < 0);
        sspx_buf_free(&sig);
    }
}

static SECURITY_STATUS accept_native(sspx_cred *cred, uint8_t opts, const uint8_t *tok, size_t len)
{
    sspx_ctx *ctx = NULL;
    sspx_ctx_params p;
    sspx_buf out, k;
    SECURITY_STATUS st;
    memset(&p, 0, sizeof(p));
    p.flags = (opts & 0x80) ? 0 : FZ_SREQ | ASC_REQ_MUTUAL_AUTH;
    if (opts & 0x40) /* and on failure a KRB-ERROR */
        p.flags |= ASC_REQ_EXTENDED_ERROR;
    if (opts & 0x01) {
        p.channel_bindings = g_cbt;
        p.channel_bindings_len = g_cbt_len;
    }
    FZ_MUST(sspx_ctx_new(cred, &p, &ctx));
    st = sspx_ctx_step(ctx, tok, len, &out);
    fz_log("native AP-REQ", st);
    if (st < 0) {
        FZ_CHECK(!sspx_ctx_is_complete(ctx));
        /* an error token only when asked for: a GSS-framed KRB-ERROR */
        FZ_CHECK(out.len == 0 || ((p.flags & ASC_REQ_EXTENDED_ERROR) && out.data[0] == 0x60));
    }
    sspx_buf_free(&out);
    if (st == SEC_E_OK) {
        FZ_CHECK(sspx_ctx_is_complete(ctx));
        check_name(sspx_ctx_client_name(ctx));
        FZ_CHECK(sspx_ctx_session_key(ctx, &k) == SEC_E_OK && (k.len == 16 || k.len == 32));
        sspx_buf_free(&k);
        (void)sspx_ctx_flags(ctx);
        FZ_CHECK(sspx_ctx_expiry(ctx) != 0);
        if (opts & 0x40)
            msg_ops(ctx);
        /* a completed context takes no more legs */
        FZ_CHECK(sspx_ctx_step(ctx, tok, len, &out) < 0);
        sspx_buf_free(&out);
    }
    sspx_ctx_free(&ctx);
    return st;
}

static void after_sspi(CtxtHandle *h)
{
    SecPkgContext_NamesA names;
    SecPkgContext_SessionKey key;
    SecPkgContext_Sizes sizes;
    SecPkgContext_Flags flags;
    SecPkgContext_Lifespan life;
    SecPkgContext_NativeNamesA nn;
    HANDLE tok = NULL;
    char buf[256];
    FZ_CHECK(QueryContextAttributesA(h, SECPKG_ATTR_NAMES, &names) == SEC_E_OK);
    check_name(names.sUserName);
    FreeContextBuffer(names.sUserName);
    FZ_CHECK(QueryContextAttributesA(h, SECPKG_ATTR_SESSION_KEY, &key) == SEC_E_OK);
    FZ_CHECK(key.SessionKeyLength == 16 || key.SessionKeyLength == 32);
    FreeContextBuffer(key.SessionKey);
    FZ_CHECK(QueryContextAttributesA(h, SECPKG_ATTR_SIZES, &sizes) == SEC_E_OK);
    FZ_CHECK(QueryContextAttributesA(h, SECPKG_ATTR_FLAGS, &flags) == SEC_E_OK);
    FZ_CHECK(QueryContextAttributesA(h, SECPKG_ATTR_LIFESPAN, &life) == SEC_E_OK);
    if (QueryContextAttributesA(h, SECPKG_ATTR_NATIVE_NAMES, &nn) == SEC_E_OK) {
        FZ_CHECK(strcmp(nn.sClientName, "alice@TEST.LOCAL") == 0);
        FreeContextBuffer(nn.sClientName);
        FreeContextBuffer(nn.sServerName);
    }
    FZ_CHECK(QuerySecurityContextToken(h, &tok) == SEC_E_OK && tok != NULL);
    FZ_CHECK(sspx_token_name(tok, buf, sizeof(buf)) == SEC_E_OK);
    FZ_CHECK(sspx_token_close(tok) == SEC_E_OK);
}

static SECURITY_STATUS accept_sspi(sspx_cred *cred, uint8_t opts, uint8_t *tok, size_t len)
{
    CredHandle ch;
    CtxtHandle h;
    int alloc = opts & 0x80;
    ULONG req = FZ_SREQ | ASC_REQ_MUTUAL_AUTH | (alloc ? ASC_REQ_ALLOCATE_MEMORY : 0) |
                ((opts & 0x40) ? ASC_REQ_EXTENDED_ERROR : 0);
    ULONG attrs = 0;
    TimeStamp exp;
    uint8_t obuf[4096];
    SecBuffer ob, ib[3];
    SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob}, id = {SECBUFFER_VERSION, 0, ib};
    SECURITY_STATUS st;

    sspx_cred_handle(cred, &ch);
    memset(&h, 0, sizeof(h));
    ib[id.cBuffers++] = (SecBuffer){(ULONG)len, SECBUFFER_TOKEN, tok};
    if (opts & 0x01)
        ib[id.cBuffers++] = (SecBuffer){(ULONG)g_cbt_len, SECBUFFER_CHANNEL_BINDINGS, g_cbt};
    ib[id.cBuffers++] = (SecBuffer){0, SECBUFFER_EMPTY, NULL};
    ob = alloc ? (SecBuffer){0, SECBUFFER_TOKEN, NULL}
               : (SecBuffer){sizeof(obuf), SECBUFFER_TOKEN, obuf};
    st = AcceptSecurityContext(&ch, NULL, &id, req, SECURITY_NATIVE_DREP, &h, &od, &attrs, &exp);
    fz_log("ASC AP-REQ", st);
    if (st < 0 && ob.cbBuffer) { /* only an error token the caller asked for */
        FZ_CHECK((req & ASC_REQ_EXTENDED_ERROR) && (attrs & ASC_RET_EXTENDED_ERROR));
        FZ_CHECK(((uint8_t *)ob.pvBuffer)[0] == 0x60);
    }
    if (alloc && ob.pvBuffer) {
        FZ_CHECK(st >= 0 || (attrs & ASC_RET_EXTENDED_ERROR));
        FreeContextBuffer(ob.pvBuffer);
    }
    if (st == SEC_E_OK) {
        FZ_CHECK(exp.QuadPart != 0);
        after_sspi(&h);
    }
    if (st >= 0)
        FZ_CHECK(DeleteSecurityContext(&h) == SEC_E_OK);
    return st;
}

static SECURITY_STATUS accept_once(sspx_cred *cred, uint8_t opts, uint8_t *tok, size_t len)
{
    return (opts & 0x02) ? accept_sspi(cred, opts, tok, len) : accept_native(cred, opts, tok, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const long long late[4] = {0, 3600, -3600, 12LL * 365 * 86400};
    sspx_cred *cred;
    uint8_t opts, *tok;
    SECURITY_STATUS st;
    if (size < 1)
        return 0;
    opts = data[0];
    data++;
    size--;
    fz_reset();
    /* 2 s per input, replay_window 1 s: see the top of the file */
    fz_clock_offset = ++g_epoch * 2 * 10000000ULL;
    fzk_pin_clock(late[(opts >> 4) & 3]);
    cred = g_cred[(opts >> 3) & 1];
    tok = fz_dup(data, size); /* exact size: a read past it is an ASan report */
    st = accept_once(cred, opts, tok, size);
    if ((opts & 0x04) && st == SEC_E_OK) {
        SECURITY_STATUS again = accept_once(cred, opts, tok, size);
        FZ_CHECK(again < 0 && sspx_last_error().code == SSPX_ERR_KRB_REPLAY);
        fz_clock_offset += 10000000ULL; /* the window has passed */
        again = accept_once(cred, opts, tok, size);
        FZ_CHECK(again == SEC_E_OK);
    }
    free(tok);
    return 0;
}
