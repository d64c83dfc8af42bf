/*
 * NTLM message security on the receiving side: completed contexts (made
 * once, deterministically) get fuzzed sealed messages and signatures.
 *
 * Input: option byte, parameter byte, then the bytes.
 *   bits 0-1  receiving context (fuzz_common.h fz_sealed_ctx): 0 server,
 *             1 client, 2 client without KEY_EXCH, 3 client without ESS
 *   bit 2     verify a detached signature (else unwrap / DecryptMessage)
 *   bit 3     SSPI: DecryptMessage / VerifySignature with the data in two
 *             SECBUFFER_DATA buffers split at the parameter byte; else the
 *             native sspx_ctx_unwrap / sspx_ctx_verify
 *   bit 4     SSPI: the second data buffer is READONLY_WITH_CHECKSUM
 *   bit 5     SSPI: an extra SECBUFFER_PADDING buffer
 * Native verify: the parameter byte is the signature's length (the
 * signature comes first, then the message). Unwrap and SSPI: the first 16
 * bytes (or fewer) are the signature.
 *
 * A failed check leaves a context unchanged; a successful one advances its
 * receive sequence, so the context is then rebuilt to keep every input
 * independent of the ones before it.
 */
#include "fuzz_common.h"

static sspx_cred *g_cc, *g_sc;
static sspx_ctx *g_recv[4], *g_peer[4];

static void build(int v)
{
    sspx_ctx_free(&g_recv[v]);
    sspx_ctx_free(&g_peer[v]);
    fz_sealed_ctx(v, g_cc, g_sc, &g_recv[v], &g_peer[v]);
}

static void cleanup(void)
{
    for (int v = 0; v < 4; v++) {
        sspx_ctx_free(&g_recv[v]);
        sspx_ctx_free(&g_peer[v]);
    }
    sspx_cred_free(&g_cc);
    sspx_cred_free(&g_sc);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_install_hooks();
    fz_client_cred(0, &g_cc);
    fz_server_cred(0, &g_sc);
    for (int v = 0; v < 4; v++)
        build(v);
    atexit(cleanup);
    return 0;
}

static SECURITY_STATUS run_sspi(sspx_ctx *ctx, uint8_t opts, uint8_t param, const uint8_t *p,
                                size_t n)
{
    CtxtHandle h;
    SecBuffer b[4];
    SecBufferDesc d = {SECBUFFER_VERSION, 0, b};
    size_t sl = n < 16 ? n : 16, dl = n - sl, split = param <= dl ? param : dl;
    uint8_t *sig = fz_dup(p, sl), *d1 = fz_dup(p + sl, split),
            *d2 = fz_dup(p + sl + split, dl - split);
    uint8_t pad[4] = {0};
    ULONG qop = 0;
    SECURITY_STATUS st;
    sspx_ctx_handle(ctx, &h);
    b[d.cBuffers++] = (SecBuffer){(ULONG)sl, SECBUFFER_TOKEN, sig};
    b[d.cBuffers++] = (SecBuffer){(ULONG)split, SECBUFFER_DATA, d1};
    b[d.cBuffers++] =
        (SecBuffer){(ULONG)(dl - split),
                    SECBUFFER_DATA | ((opts & 0x10) ? SECBUFFER_READONLY_WITH_CHECKSUM : 0), d2};
    if (opts & 0x20)
        b[d.cBuffers++] = (SecBuffer){sizeof(pad), SECBUFFER_PADDING, pad};
    if (opts & 0x04)
        st = VerifySignature(&h, &d, 0, &qop);
    else
        st = DecryptMessage(&h, &d, 0, &qop);
    free(sig);
    free(d1);
    free(d2);
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t opts, param;
    int v;
    SECURITY_STATUS st;
    if (size < 2)
        return 0;
    fz_reset();
    opts = data[0];
    param = data[1];
    data += 2;
    size -= 2;
    v = opts & 3;
    if (opts & 0x08) {
        st = run_sspi(g_recv[v], opts, param, data, size);
    } else if (opts & 0x04) {
        size_t sl = param <= size ? param : size;
        uint8_t *sig = fz_dup(data, sl), *msg = fz_dup(data + sl, size - sl);
        st = sspx_ctx_verify(g_recv[v], msg, size - sl, sig, sl);
        FZ_CHECK(st != SEC_E_OK || sl == 16);
        free(sig);
        free(msg);
    } else {
        sspx_buf out;
        uint8_t *in = fz_dup(data, size);
        st = sspx_ctx_unwrap(g_recv[v], in, size, &out);
        if (st == SEC_E_OK)
            FZ_CHECK(size >= 16 && out.len == size - 16);
        else
            FZ_CHECK(out.data == NULL && out.len == 0);
        sspx_buf_free(&out);
        free(in);
    }
    fz_log("unseal", st);
    if (st == SEC_E_OK) {
        /* the sequence moved on: start again from the initial state */
        build(v);
    }
    return 0;
}
