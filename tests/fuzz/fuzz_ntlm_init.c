/*
 * The NTLM client's second leg: a client context sends its NEGOTIATE, then
 * gets the fuzz input as CHALLENGE. A successful leg yields an AUTHENTICATE
 * that our own decoder and describer must accept.
 *
 * Input: one option byte, then the CHALLENGE.
 *   bit 0  channel bindings (fz_cbt)
 *   bit 1  ISC_REQ_CONFIDENTIALITY (else integrity only)
 *   bit 2  no target name (else HTTP/server.testdom.test)
 *   bit 3  SSPI: InitializeSecurityContextA with caller SecBufferDescs;
 *          otherwise the native sspx_ctx_new / sspx_ctx_step
 *   bit 4  SSPI: ISC_REQ_ALLOCATE_MEMORY
 *   bit 5  ISC_REQ_IDENTIFY
 *   bit 6  client credential 1 (non-ASCII user, NT hash, no domain,
 *          workstation) instead of TESTDOM\bob
 *   bit 7  the clock moves 301 s between the legs
 */
#include "fuzz_common.h"
#include "wire/ntlm_msg.h"

static sspx_cred *g_ccred[2];
static uint8_t g_cbt[128];
static size_t g_cbt_len;

static void cleanup(void)
{
    sspx_cred_free(&g_ccred[0]);
    sspx_cred_free(&g_ccred[1]);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_install_hooks();
    fz_client_cred(0, &g_ccred[0]);
    fz_client_cred(1, &g_ccred[1]);
    g_cbt_len = fz_cbt(g_cbt, sizeof(g_cbt));
    atexit(cleanup);
    return 0;
}

/* What our client sends must decode and describe. */
static void check_auth(const uint8_t *p, size_t len)
{
    ntlm_authenticate a;
    sspx_desc *d = NULL;
    FZ_CHECK(len >= NTLM_AUTH_HEADER_WITH_MIC - 16 && len <= NTLM_MAX_TOKEN);
    FZ_CHECK(ntlm_decode_authenticate(p, len, &a) == SEC_E_OK);
    FZ_CHECK(a.nt.len > 24 && a.user.len > 0);
    FZ_CHECK(sspx_describe("NTLM", p, len, &d) == SEC_E_OK);
    sspx_desc_free(&d);
}

static void run_native(sspx_cred *cred, uint8_t opts, uint32_t req, const uint8_t *chal, size_t len)
{
    sspx_ctx *ctx = NULL;
    sspx_ctx_params p;
    sspx_buf neg, auth;
    SECURITY_STATUS st;
    memset(&p, 0, sizeof(p));
    p.flags = req;
    p.target = (opts & 0x04) ? NULL : FZ_TARGET;
    if (opts & 0x01) {
        p.channel_bindings = g_cbt;
        p.channel_bindings_len = g_cbt_len;
    }
    FZ_MUST(sspx_ctx_new(cred, &p, &ctx));
    FZ_CHECK(sspx_ctx_step(ctx, NULL, 0, &neg) == SEC_I_CONTINUE_NEEDED);
    sspx_buf_free(&neg);
    if (opts & 0x80)
        fz_clock_offset = 301 * 10000000ULL;
    st = sspx_ctx_step(ctx, chal, len, &auth);
    fz_log("native CHALLENGE", st);
    if (st == SEC_E_OK) {
        sspx_buf k;
        FZ_CHECK(sspx_ctx_is_complete(ctx) && sspx_ctx_client_name(ctx) != NULL);
        check_auth(auth.data, auth.len);
        FZ_CHECK(sspx_ctx_session_key(ctx, &k) == SEC_E_OK && k.len == 16);
        sspx_buf_free(&k);
    } else {
        FZ_CHECK(st < 0 && auth.data == NULL && !sspx_ctx_is_complete(ctx));
    }
    sspx_buf_free(&auth);
    sspx_ctx_free(&ctx);
}

static void run_sspi(sspx_cred *cred, uint8_t opts, uint32_t req, const uint8_t *chal, size_t len)
{
    CredHandle ch;
    CtxtHandle h;
    int alloc = opts & 0x10;
    char *target = (opts & 0x04) ? NULL : (char *)FZ_TARGET;
    ULONG attrs;
    TimeStamp exp;
    uint8_t obuf[NTLM_MAX_TOKEN];
    SecBuffer ob, ib[2];
    SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob}, id = {SECBUFFER_VERSION, 0, ib};
    SECURITY_STATUS st;
    if (alloc)
        req |= ISC_REQ_ALLOCATE_MEMORY;
    sspx_cred_handle(cred, &ch);
    ob = alloc ? (SecBuffer){0, SECBUFFER_TOKEN, NULL}
               : (SecBuffer){sizeof(obuf), SECBUFFER_TOKEN, obuf};
    st = InitializeSecurityContextA(&ch, NULL, target, req, 0, SECURITY_NATIVE_DREP, NULL, 0, &h,
                                    &od, &attrs, &exp);
    FZ_CHECK(st == SEC_I_CONTINUE_NEEDED && ob.cbBuffer > 0);
    if (alloc)
        FreeContextBuffer(ob.pvBuffer);
    if (opts & 0x80)
        fz_clock_offset = 301 * 10000000ULL;
    ib[id.cBuffers++] = (SecBuffer){(ULONG)len, SECBUFFER_TOKEN, (void *)chal};
    if (opts & 0x01)
        ib[id.cBuffers++] = (SecBuffer){(ULONG)g_cbt_len, SECBUFFER_CHANNEL_BINDINGS, g_cbt};
    ob = alloc ? (SecBuffer){0, SECBUFFER_TOKEN, NULL}
               : (SecBuffer){sizeof(obuf), SECBUFFER_TOKEN, obuf};
    st = InitializeSecurityContextA(&ch, &h, target, req, 0, SECURITY_NATIVE_DREP, &id, 0, &h, &od,
                                    &attrs, &exp);
    fz_log("ISC CHALLENGE", st);
    if (st == SEC_E_OK) {
        SecPkgContext_NamesA names;
        check_auth(ob.pvBuffer, ob.cbBuffer);
        FZ_CHECK(QueryContextAttributesA(&h, SECPKG_ATTR_NAMES, &names) == SEC_E_OK);
        FreeContextBuffer(names.sUserName);
    } else {
        FZ_CHECK(st < 0);
    }
    if (alloc && ob.pvBuffer)
        FreeContextBuffer(ob.pvBuffer);
    FZ_CHECK(DeleteSecurityContext(&h) == SEC_E_OK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t opts, *chal;
    uint32_t req;
    if (size < 1)
        return 0;
    fz_reset();
    opts = data[0];
    req = ((opts & 0x02) ? ISC_REQ_CONFIDENTIALITY : 0) | ISC_REQ_INTEGRITY |
          ISC_REQ_REPLAY_DETECT | ISC_REQ_SEQUENCE_DETECT | ((opts & 0x20) ? ISC_REQ_IDENTIFY : 0);
    chal = fz_dup(data + 1, size - 1);
    if (opts & 0x08)
        run_sspi(g_ccred[(opts >> 6) & 1], opts, req, chal, size - 1);
    else
        run_native(g_ccred[(opts >> 6) & 1], opts, req, chal, size - 1);
    free(chal);
    return 0;
}
