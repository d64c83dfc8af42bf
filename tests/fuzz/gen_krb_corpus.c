/*
 * The client side of make_krb_corpus.py (not a fuzz target): our own client,
 * through InitializeSecurityContextA, as a line-oriented helper process.
 *
 *   gen_krb_corpus PACKAGE ISC_FLAGS_HEX CBT [KEY=VALUE]...
 *
 * Acquires an outbound PACKAGE credential with the KEY=VALUE options (none:
 * the Kerberos ccache of KRB5CCNAME), then prints one line per leg:
 *   STATUS_HEX TOKEN_HEX      ("-" for an empty token)
 * first for the first call, then for each line read from stdin (the server's
 * token in hex, "-" for none). CBT = 1: the first call gets fuzz_common.h's
 * channel bindings (fz_cbt) in a SECBUFFER_CHANNEL_BINDINGS buffer. The
 * target is HTTP/localhost. Exits at EOF or after a failed call (exit 1).
 *
 * The realm's environment (KRB5_CONFIG, KRB5CCNAME) comes from the caller;
 * the rng and clock are the real ones.
 */
#include "fuzz_common.h"

static void put_hex(SECURITY_STATUS st, const uint8_t *p, size_t n)
{
    printf("%08x ", (unsigned)st);
    if (!n)
        printf("-");
    for (size_t i = 0; i < n; i++)
        printf("%02x", p[i]);
    printf("\n");
    fflush(stdout);
}

static size_t unhex(const char *h, uint8_t *out, size_t cap)
{
    size_t n = 0;
    for (; h[0] && h[1] && h[0] != '\n' && h[0] != '-'; h += 2) {
        unsigned v;
        FZ_CHECK(n < cap && sscanf(h, "%2x", &v) == 1);
        out[n++] = (uint8_t)v;
    }
    return n;
}

int main(int argc, char **argv)
{
    static uint8_t in[65536], out[65536];
    static char line[2 * 65536 + 16];
    uint8_t cbt[128];
    size_t cbt_len = 0, in_len = 0;
    sspx_config *cfg;
    sspx_cred *cred = NULL;
    CredHandle ch;
    CtxtHandle h;
    int have = 0;
    unsigned long flags;
    if (argc < 4) {
        fprintf(stderr, "usage: %s PACKAGE ISC_FLAGS_HEX CBT [KEY=VALUE]...\n", argv[0]);
        return 2;
    }
    flags = strtoul(argv[2], NULL, 16);
    if (argv[3][0] == '1')
        cbt_len = fz_cbt(cbt, sizeof(cbt));
    cfg = sspx_config_new();
    FZ_CHECK(cfg);
    for (int i = 4; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        FZ_CHECK(eq != NULL);
        *eq = 0;
        FZ_MUST(sspx_config_set(cfg, argv[i], eq + 1));
    }
    FZ_MUST(sspx_cred_acquire(argv[1], SSPX_CRED_OUTBOUND, cfg, &cred));
    sspx_config_free(&cfg);
    sspx_cred_handle(cred, &ch);
    memset(&h, 0, sizeof(h));
    for (;;) {
        SecBuffer ib[2], ob = {sizeof(out), SECBUFFER_TOKEN, out};
        SecBufferDesc id = {SECBUFFER_VERSION, 0, ib}, od = {SECBUFFER_VERSION, 1, &ob};
        ULONG attrs = 0;
        TimeStamp exp;
        SECURITY_STATUS st;
        if (have)
            ib[id.cBuffers++] = (SecBuffer){(ULONG)in_len, SECBUFFER_TOKEN, in};
        else if (cbt_len)
            ib[id.cBuffers++] = (SecBuffer){(ULONG)cbt_len, SECBUFFER_CHANNEL_BINDINGS, cbt};
        st = InitializeSecurityContextA(&ch, have ? &h : NULL, (SEC_CHAR *)"HTTP/localhost",
                                        (ULONG)flags, 0, SECURITY_NATIVE_DREP,
                                        id.cBuffers ? &id : NULL, 0, &h, &od, &attrs, &exp);
        if (st < 0) {
            fprintf(stderr, "gen_krb_corpus: InitializeSecurityContextA: 0x%08x %s\n", (unsigned)st,
                    sspx_last_error_string());
            put_hex(st, NULL, 0);
            break;
        }
        have = 1;
        put_hex(st, out, ob.cbBuffer);
        if (!fgets(line, sizeof(line), stdin))
            break;
        in_len = unhex(line, in, sizeof(in));
    }
    if (have)
        DeleteSecurityContext(&h);
    sspx_cred_free(&cred);
    return 0;
}
