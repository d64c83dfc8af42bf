/*
 * The Negotiate server's accept path over up to three legs: the first-token
 * sniffer (spnego_sniff: SPNEGO NegTokenInit, raw NTLMSSP, GSS-framed or
 * raw Kerberos AP-REQ, NEGOEX, a NegTokenResp out of turn, anything else),
 * mechanism selection, the optimistic token, NegTokenResp legs, the NTLM
 * and Kerberos sub-contexts, mechListMIC verification and generation.
 *
 * The seeds (make_krb_corpus.py) are real handshakes against this target's
 * own server: Samba's ntlm_auth (gss-spnego-client), our Negotiate client
 * (NTLM and Kerberos) and MIT's GSSAPI (krb5 in SPNEGO), raw NTLMSSP and
 * raw AP-REQs. The server is deterministic (fuzz_common.h: the rng restarts
 * with every input, so its CHALLENGE is always the same), so the recorded
 * second legs (NegTokenResp with the NTLM AUTHENTICATE and the mechListMIC)
 * verify and mutations of them reach the MIC code.
 *
 * Input: one option byte, then the legs, each a little-endian 16-bit length
 * and that many bytes (a length past the end takes what is left); at most
 * three legs, the server stops at the first status that is not
 * SEC_I_CONTINUE_NEEDED.
 *   bits 0-1  credential: 0 NTLM (users file) + Kerberos (keytab);
 *             1 NTLM (lookup callback) + Kerberos (principal HTTP/localhost);
 *             2 packages = ntlm; 3 packages = kerberos
 *   bit 2     the server is given channel bindings (fz_cbt)
 *   bit 3     SSPI: AcceptSecurityContext with caller SecBufferDescs (and
 *             QueryContextAttributes on success); otherwise native
 *   bit 4     on success: message protection on the completed context
 *   bit 5     Heimdal's clock one hour after the seeds' (clock skew)
 *   bit 6     SSPI: ASC_REQ_ALLOCATE_MEMORY; native: no request flags
 *   bit 7     sspx's clock moves 301 s after the first leg (an NTLM
 *             challenge older than challenge_max_age)
 *
 * SSPX_FUZZ_DUMP=1 prints "fz-leg N STATUS HEX" per leg (the server's
 * output token), which make_krb_corpus.py uses to drive external clients.
 *
 * Determinism: the Kerberos sub-credential's replay cache would refuse a
 * Kerberos seed the second time it runs. sspx's clock cannot move between
 * inputs here (the NTLM CHALLENGE carries the time, and the recorded
 * AUTHENTICATE's MIC covers the CHALLENGE), so the target gives that
 * credential a fresh, empty cache (through the package's internal structs)
 * at the start of every input. fuzz_krb_accept
 * checks the cache itself.
 */
#include "core/core.h"
#include "fuzz_krb_common.h"
#include "packages/kerberos/krb.h"
#include "packages/negotiate/nego.h"

#define NCRED  4
#define MAXLEG 3

static sspx_cred *g_cred[NCRED];
static uint8_t g_cbt[128];
static size_t g_cbt_len;
static int g_dump;

static void cleanup(void)
{
    for (int i = 0; i < NCRED; i++)
        sspx_cred_free(&g_cred[i]);
}

static void make_cred(int variant, sspx_cred **out)
{
    sspx_config *cfg = sspx_config_new();
    char path[64] = "/tmp/sspx-fuzz-users-XXXXXX";
    int fd = -1;
    FZ_CHECK(cfg);
    if (variant != 3) {
        FZ_MUST(sspx_config_set(cfg, "netbios_domain", "TESTDOM"));
        FZ_MUST(sspx_config_set(cfg, "netbios_computer", "SERVER"));
        FZ_MUST(sspx_config_set(cfg, "dns_domain", "testdom.test"));
        FZ_MUST(sspx_config_set(cfg, "dns_computer", "server.testdom.test"));
    }
    if (variant == 0 || variant == 2) {
        fd = mkstemp(path);
        FZ_CHECK(fd >= 0);
        FZ_CHECK(write(fd, FZ_USERS, strlen(FZ_USERS)) == (ssize_t)strlen(FZ_USERS));
        close(fd);
        FZ_MUST(sspx_config_set(cfg, "users_file", path));
    }
    if (variant == 1)
        FZ_MUST(sspx_config_set_lookup(cfg, fz_lookup, NULL, NULL));
    if (variant != 2) {
        fzk_set_keytab(cfg);
        FZ_MUST(sspx_config_set(cfg, "replay_window", "1"));
    }
    if (variant == 1)
        FZ_MUST(sspx_config_set(cfg, "principal", FZK_PRINCIPAL));
    if (variant == 2)
        FZ_MUST(sspx_config_set(cfg, "packages", "ntlm"));
    if (variant == 3)
        FZ_MUST(sspx_config_set(cfg, "packages", "kerberos"));
    FZ_MUST(sspx_cred_acquire("Negotiate", SSPX_CRED_INBOUND, cfg, out));
    if (fd >= 0)
        unlink(path); /* loaded at acquisition */
    sspx_config_free(&cfg);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_install_hooks();
    fzk_init();
    g_dump = getenv("SSPX_FUZZ_DUMP") != NULL;
    for (int i = 0; i < NCRED; i++)
        make_cred(i, &g_cred[i]);
    g_cbt_len = fz_cbt(g_cbt, sizeof(g_cbt));
    atexit(cleanup);
    return 0;
}

/* A fresh replay cache for the Kerberos sub-credential (see the top of the
 * file). Every input: krb_rcache_mem_count, which would tell whether the
 * last input left anything, is declared in krb_rcache.h but not defined; a
 * new empty store costs two small allocations. */
static void reset_rcache(sspx_cred *cred)
{
    nego_cred *nc = cred->state;
    kerb_cred *kc;
    if (!nc->sub[NEGO_KRB])
        return;
    kc = nc->sub[NEGO_KRB]->state;
    kc->rcache->destroy(kc->rcache);
    kc->rcache = NULL;
    FZ_CHECK(krb_rcache_mem_new(64, &kc->rcache) == SEC_E_OK);
}

static void dump(int leg, SECURITY_STATUS st, const uint8_t *p, size_t n)
{
    if (!g_dump)
        return;
    fprintf(stderr, "fz-leg %d 0x%08x ", leg, (unsigned)st);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "%02x", p[i]);
    fprintf(stderr, " %s\n", st < 0 ? sspx_last_error_string() : "");
}

static void msg_ops(sspx_ctx *ctx)
{
    static const uint8_t msg[] = "fuzz message";
    sspx_buf w, u, sig;
    if (sspx_ctx_wrap(ctx, msg, sizeof(msg), &w) == SEC_E_OK) {
        (void)sspx_ctx_unwrap(ctx, w.data, w.len, &u); /* our own: refused */
        sspx_buf_free(&u);
        sspx_buf_free(&w);
    }
    if (sspx_ctx_sign(ctx, msg, sizeof(msg), &sig) == SEC_E_OK) {
        (void)sspx_ctx_verify(ctx, msg, sizeof(msg), sig.data, sig.len);
        sspx_buf_free(&sig);
    }
}

static void run_native(sspx_cred *cred, uint8_t opts, uint8_t **leg, const size_t *len, int nleg)
{
    sspx_ctx *ctx = NULL;
    sspx_ctx_params p;
    sspx_buf out, k;
    SECURITY_STATUS st = SEC_I_CONTINUE_NEEDED;
    memset(&p, 0, sizeof(p));
    p.flags = (opts & 0x40) ? 0 : FZ_SREQ;
    if (opts & 0x04) {
        p.channel_bindings = g_cbt;
        p.channel_bindings_len = g_cbt_len;
    }
    FZ_MUST(sspx_ctx_new(cred, &p, &ctx));
    for (int i = 0; i < nleg && st == SEC_I_CONTINUE_NEEDED; i++) {
        if (i == 1 && (opts & 0x80))
            fz_clock_offset = 301 * 10000000ULL;
        st = sspx_ctx_step(ctx, leg[i], len[i], &out);
        fz_log("native leg", st);
        dump(i + 1, st, out.data, out.len);
        if (st == SEC_I_CONTINUE_NEEDED)
            FZ_CHECK(out.len > 0 && !sspx_ctx_is_complete(ctx));
        sspx_buf_free(&out);
    }
    if (st == SEC_E_OK) {
        const char *name = sspx_ctx_client_name(ctx);
        FZ_CHECK(sspx_ctx_is_complete(ctx));
        FZ_CHECK(name != NULL && *name);
        if (!strcmp(sspx_ctx_package(ctx), "Kerberos"))
            FZ_CHECK(strcmp(name, "TEST.LOCAL\\alice") == 0);
        if (sspx_ctx_session_key(ctx, &k) == SEC_E_OK)
            FZ_CHECK(k.len > 0);
        sspx_buf_free(&k);
        if (opts & 0x10)
            msg_ops(ctx);
        FZ_CHECK(sspx_ctx_step(ctx, leg[0], len[0], &out) < 0);
        sspx_buf_free(&out);
    } else if (st < 0) {
        FZ_CHECK(!sspx_ctx_is_complete(ctx));
    }
    sspx_ctx_free(&ctx);
}

static void after_sspi(CtxtHandle *h)
{
    SecPkgContext_NamesA names;
    SecPkgContext_SessionKey key;
    SecPkgContext_Sizes sizes;
    SecPkgContext_NegotiationInfoA ni;
    SecPkgContext_PackageInfoA pi;
    FZ_CHECK(QueryContextAttributesA(h, SECPKG_ATTR_NAMES, &names) == SEC_E_OK);
    FZ_CHECK(names.sUserName && *names.sUserName);
    FreeContextBuffer(names.sUserName);
    if (QueryContextAttributesA(h, SECPKG_ATTR_SESSION_KEY, &key) == SEC_E_OK)
        FreeContextBuffer(key.SessionKey);
    FZ_CHECK(QueryContextAttributesA(h, SECPKG_ATTR_SIZES, &sizes) == SEC_E_OK);
    if (QueryContextAttributesA(h, SECPKG_ATTR_NEGOTIATION_INFO, &ni) == SEC_E_OK)
        FreeContextBuffer(ni.PackageInfo);
    if (QueryContextAttributesA(h, SECPKG_ATTR_PACKAGE_INFO, &pi) == SEC_E_OK)
        FreeContextBuffer(pi.PackageInfo);
}

static void run_sspi(sspx_cred *cred, uint8_t opts, uint8_t **leg, const size_t *len, int nleg)
{
    CredHandle ch;
    CtxtHandle h;
    int have = 0, alloc = opts & 0x40;
    ULONG req = FZ_SREQ | (alloc ? ASC_REQ_ALLOCATE_MEMORY : 0);
    ULONG attrs = 0;
    TimeStamp exp;
    static uint8_t obuf[16384];
    SecBuffer ob, ib[3];
    SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob}, id = {SECBUFFER_VERSION, 0, ib};
    SECURITY_STATUS st = SEC_I_CONTINUE_NEEDED;

    sspx_cred_handle(cred, &ch);
    memset(&h, 0, sizeof(h));
    for (int i = 0; i < nleg && st == SEC_I_CONTINUE_NEEDED; i++) {
        if (i == 1 && (opts & 0x80))
            fz_clock_offset = 301 * 10000000ULL;
        id.cBuffers = 0;
        ib[id.cBuffers++] = (SecBuffer){(ULONG)len[i], SECBUFFER_TOKEN, leg[i]};
        if (opts & 0x04)
            ib[id.cBuffers++] = (SecBuffer){(ULONG)g_cbt_len, SECBUFFER_CHANNEL_BINDINGS, g_cbt};
        ib[id.cBuffers++] = (SecBuffer){0, SECBUFFER_EMPTY, NULL};
        ob = alloc ? (SecBuffer){0, SECBUFFER_TOKEN, NULL}
                   : (SecBuffer){sizeof(obuf), SECBUFFER_TOKEN, obuf};
        st = AcceptSecurityContext(&ch, have ? &h : NULL, &id, req, SECURITY_NATIVE_DREP, &h, &od,
                                   &attrs, &exp);
        fz_log("ASC leg", st);
        dump(i + 1, st, st >= 0 ? ob.pvBuffer : NULL, st >= 0 ? ob.cbBuffer : 0);
        if (alloc && ob.pvBuffer) {
            FZ_CHECK(st >= 0);
            FreeContextBuffer(ob.pvBuffer);
        }
        /* SECBUFFER_EXTRA, when written, points into the input token */
        SecBuffer *e = &ib[id.cBuffers - 1];
        if (e->BufferType == SECBUFFER_EXTRA)
            FZ_CHECK(e->cbBuffer <= len[i] && (uint8_t *)e->pvBuffer >= leg[i] &&
                     (uint8_t *)e->pvBuffer + e->cbBuffer == leg[i] + len[i]);
        if (st >= 0)
            have = 1;
    }
    if (st == SEC_E_OK)
        after_sspi(&h);
    if (have)
        FZ_CHECK(DeleteSecurityContext(&h) == SEC_E_OK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t opts, *leg[MAXLEG];
    size_t len[MAXLEG];
    int nleg = 0;
    sspx_cred *cred;
    if (size < 1)
        return 0;
    opts = data[0];
    data++;
    size--;
    while (nleg < MAXLEG && size >= 2) {
        size_t n = (size_t)data[0] | (size_t)data[1] << 8;
        data += 2;
        size -= 2;
        if (n > size)
            n = size;
        /* exact-size copies: a read past a leg is an ASan report */
        leg[nleg] = fz_dup(data, n);
        len[nleg++] = n;
        data += n;
        size -= n;
    }
    if (nleg == 0)
        return 0;
    fz_reset();
    fzk_pin_clock((opts & 0x20) ? 3600 : 0);
    cred = g_cred[opts & 3];
    reset_rcache(cred);
    if (opts & 0x08)
        run_sspi(cred, opts, leg, len, nleg);
    else
        run_native(cred, opts, leg, len, nleg);
    for (int i = 0; i < nleg; i++)
        free(leg[i]);
    return 0;
}
