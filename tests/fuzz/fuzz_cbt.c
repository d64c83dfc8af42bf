/* SEC_CHANNEL_BINDINGS blobs: sspx_cbt_parse + sspx_cbt_hash on arbitrary
 * bytes (every pointer it returns lies inside the blob), and the same blob
 * given to sspx_ctx_new as a client's channel bindings. */
#include "core/core.h"
#include "fuzz_common.h"

static sspx_cred *g_cc;

static void cleanup(void)
{
    sspx_cred_free(&g_cc);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_install_hooks();
    fz_client_cred(0, &g_cc);
    atexit(cleanup);
    return 0;
}

static void in_range(const uint8_t *base, size_t len, const uint8_t *p, uint32_t n)
{
    if (n == 0) {
        FZ_CHECK(p == NULL);
        return;
    }
    FZ_CHECK(p >= base && (size_t)(p - base) <= len && len - (size_t)(p - base) >= n);
    volatile uint8_t x = p[0];
    x = p[n - 1];
    (void)x;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sspx_cbt cbt;
    uint8_t h[16];
    sspx_ctx *ctx = NULL;
    sspx_ctx_params p;
    SECURITY_STATUS st;
    int parsed;
    fz_reset();
    parsed = sspx_cbt_parse(data, size, &cbt) == SEC_E_OK;
    if (parsed) {
        FZ_CHECK(size >= 32);
        in_range(data, size, cbt.initiator, cbt.initiator_len);
        in_range(data, size, cbt.acceptor, cbt.acceptor_len);
        in_range(data, size, cbt.app, cbt.app_len);
        FZ_CHECK(sspx_cbt_hash(&cbt, h) == SEC_E_OK);
    }
    memset(&p, 0, sizeof(p));
    p.flags = FZ_CREQ;
    p.channel_bindings = data;
    p.channel_bindings_len = size;
    st = sspx_ctx_new(g_cc, &p, &ctx);
    /* an empty blob means "no bindings"; otherwise it must parse */
    FZ_CHECK((st == SEC_E_OK) == (parsed || size == 0));
    if (st == SEC_E_OK) {
        sspx_buf neg;
        FZ_CHECK(sspx_ctx_step(ctx, NULL, 0, &neg) == SEC_I_CONTINUE_NEEDED);
        sspx_buf_free(&neg);
    }
    sspx_ctx_free(&ctx);
    return 0;
}
