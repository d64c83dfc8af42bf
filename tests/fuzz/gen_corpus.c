/*
 * Seed corpus generator for the fuzz targets (not a fuzz target itself).
 *
 *   gen_corpus write DIR            write every seed this program can make
 *                                   into DIR/<target>/ (see make_corpus.py)
 *   gen_corpus challenge NEG_HEX    our server's CHALLENGE (credential 0, the
 *                                   fuzz targets' deterministic rng/clock) for
 *                                   a NEGOTIATE, in hex
 *   gen_corpus verify NEG_HEX AUTH_HEX
 *                                   run that server over NEGOTIATE then
 *                                   AUTHENTICATE; prints the status, exit 0
 *                                   when the AUTHENTICATE verifies
 *
 * Messages come from our own client and server run with the same
 * credentials, rng and clock as the targets (fuzz_common.h), so the
 * AUTHENTICATE seeds verify inside fuzz_ntlm_accept, plus the MS-NLMP 4.2
 * examples, curl's NEGOTIATE and truncated / oversized edge cases.
 */
#include <errno.h>
#include <sys/stat.h>

#include "fuzz_common.h"
#include "wire/ntlm_msg.h"

static const char *g_dir;
static int g_count;

/* ------------------------------------------------------------- helpers */

static size_t unhex(const char *h, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (; *h; h++) {
        int v;
        if (*h >= '0' && *h <= '9')
            v = *h - '0';
        else if (*h >= 'a' && *h <= 'f')
            v = *h - 'a' + 10;
        else if (*h >= 'A' && *h <= 'F')
            v = *h - 'A' + 10;
        else
            continue; /* spaces for reading */
        if (hi < 0) {
            hi = v;
        } else {
            FZ_CHECK(n < cap);
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    FZ_CHECK(hi < 0);
    return n;
}

static void mkdir_p(const char *p)
{
    if (mkdir(p, 0755) != 0 && errno != EEXIST) {
        perror(p);
        exit(1);
    }
}

/* DIR/target/name = [opt bytes] + p */
static void put2(const char *target, const char *name, const uint8_t *pre, size_t npre,
                 const uint8_t *p, size_t n)
{
    char path[512];
    FILE *f;
    snprintf(path, sizeof(path), "%s/%s", g_dir, target);
    mkdir_p(path);
    snprintf(path, sizeof(path), "%s/%s/%s", g_dir, target, name);
    f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(1);
    }
    FZ_CHECK((npre == 0 || fwrite(pre, 1, npre, f) == npre) && (n == 0 || fwrite(p, 1, n, f) == n));
    fclose(f);
    g_count++;
}

static void put(const char *target, const char *name, const uint8_t *p, size_t n)
{
    put2(target, name, NULL, 0, p, n);
}

static void put_opt(const char *target, const char *name, uint8_t opt, const uint8_t *p, size_t n)
{
    put2(target, name, &opt, 1, p, n);
}

/* fuzz_ntlm_accept split form: opt, le16 len, NEGOTIATE, AUTHENTICATE */
static void put_split(const char *name, uint8_t opt, const uint8_t *neg, size_t nlen,
                      const uint8_t *auth, size_t alen)
{
    uint8_t buf[8192];
    FZ_CHECK(3 + nlen + alen <= sizeof(buf));
    buf[0] = opt | 0x04;
    buf[1] = (uint8_t)nlen;
    buf[2] = (uint8_t)(nlen >> 8);
    memcpy(buf + 3, neg, nlen);
    memcpy(buf + 3 + nlen, auth, alen);
    put("fuzz_ntlm_accept", name, buf, 3 + nlen + alen);
}

/* A message to the decoder and describe targets. */
static void put_msg(const char *target, const char *name, const uint8_t *p, size_t n)
{
    put(target, name, p, n);
    put("fuzz_ntlm_describe", name, p, n);
}

/* ------------------------------------------------------- known messages */

/* curl's type-1 message: signature, type 1, flags 0x00088206, two empty
 * fields, no Version: 32 bytes. (The hex this was taken from had one more
 * 00 byte; that 33-byte form is kept as a seed of its own.) */
#define CURL_NEG    "4e544c4d53535000010000000682080000000000000000000000000000000000"
#define CURL_NEG_33 CURL_NEG "00"
#define SPEC_V1_CHAL                                                                        \
    "4e544c4d53535000020000000c000c0038000000338202e20123456789abcdef000000000000000000000" \
    "00000000000060070170000000f530065007200760065007200"
#define SPEC_V1_AUTH                                                                        \
    "4e544c4d5353500003000000180018006c00000018001800840000000c000c0048000000080008005400"  \
    "000010001000 5c000000100010009c000000358280e20501280a0000000f44006f006d00610069006e00" \
    "550073006500720043004f00 4d005000550054004500520098def7b87f88aa5dafe2df779688a172def1" \
    "1c7d5ccdef1367c43011f30298a2ad35ece6 4f16331c44bdbed927841f94518822b1b3f350c8958682ec" \
    "bb3e3cb7"
#define SPEC_V2_CHAL                                                                         \
    "4e544c4d53535000020000000c000c003800000033828ae20123456789abcdef0000000000000000240024" \
    "0044000000060070170000000f53006500720076006500720002000c0044006f006d00610069006e000100" \
    "0c0053006500720076006500720000000000"
#define SPEC_V2_AUTH                                                                          \
    "4e544c4d5353500003000000180018006c00000054005400840000000c000c00480000000800080054000"   \
    "00010001000 5c00000010001000d8000000358288e20501280a0000000f44006f006d00610069006e0055"  \
    "0073006500720043004f00 4d005000550054004500520086c35097ac9cec102554764a57cccc19aaaaaa"   \
    "aaaaaaaaaa68cd0ab851e51c96aabc927b ebef6a1c01010000000000000000000000000000aaaaaaaaaa"   \
    "aaaaaa0000000002000c0044006f006d00610069006e00 01000c0053006500720076006500720000000000" \
    "00000000c5dad2544fc9799094ce1ce90bc9d03e"

/* ----------------------------------------------------------- handshakes */

static sspx_cred *g_sc[FZ_SERVER_CREDS], *g_cc[2];
static uint8_t g_cbt[128];
static size_t g_cbt_len;

/* Our server's CHALLENGE for `neg` (fresh context, rng reset). */
static size_t server_challenge(int cred, const uint8_t *neg, size_t nlen, uint8_t *out, size_t cap,
                               sspx_ctx **keep)
{
    sspx_ctx *s = NULL;
    sspx_ctx_params p;
    sspx_buf ch;
    size_t n;
    memset(&p, 0, sizeof(p));
    p.flags = FZ_SREQ;
    fz_reset();
    FZ_MUST(sspx_ctx_new(g_sc[cred], &p, &s));
    FZ_MUST(sspx_ctx_step(s, neg, nlen, &ch));
    FZ_CHECK(ch.len <= cap);
    memcpy(out, ch.data, ch.len);
    n = ch.len;
    sspx_buf_free(&ch);
    if (keep)
        *keep = s;
    else
        sspx_ctx_free(&s);
    return n;
}

/* Our client's AUTHENTICATE for an arbitrary CHALLENGE. */
static size_t client_auth(int cred, uint32_t req, const uint8_t *cbt, size_t cbt_len,
                          const uint8_t *chal, size_t clen, uint8_t *neg_out, size_t *neg_len,
                          uint8_t *out, size_t cap)
{
    sspx_ctx *c = NULL;
    sspx_ctx_params p;
    sspx_buf neg, auth;
    size_t n;
    memset(&p, 0, sizeof(p));
    p.flags = req;
    p.target = FZ_TARGET;
    p.channel_bindings = cbt;
    p.channel_bindings_len = cbt_len;
    fz_reset();
    FZ_MUST(sspx_ctx_new(g_cc[cred], &p, &c));
    FZ_CHECK(sspx_ctx_step(c, NULL, 0, &neg) == SEC_I_CONTINUE_NEEDED);
    if (neg_out) {
        memcpy(neg_out, neg.data, neg.len);
        *neg_len = neg.len;
    }
    sspx_buf_free(&neg);
    FZ_MUST(sspx_ctx_step(c, chal, clen, &auth));
    FZ_CHECK(auth.len <= cap);
    memcpy(out, auth.data, auth.len);
    n = auth.len;
    sspx_buf_free(&auth);
    sspx_ctx_free(&c);
    return n;
}

/* Does `auth` verify against server credential `cred` after `neg`? */
static SECURITY_STATUS server_verify(int cred, uint32_t sreq, const uint8_t *scbt, size_t scbt_len,
                                     const uint8_t *neg, size_t nlen, const uint8_t *auth,
                                     size_t alen)
{
    sspx_ctx *s = NULL;
    sspx_ctx_params p;
    sspx_buf o;
    SECURITY_STATUS st;
    memset(&p, 0, sizeof(p));
    p.flags = sreq;
    p.channel_bindings = scbt;
    p.channel_bindings_len = scbt_len;
    fz_reset();
    FZ_MUST(sspx_ctx_new(g_sc[cred], &p, &s));
    FZ_CHECK(sspx_ctx_step(s, neg, nlen, &o) == SEC_I_CONTINUE_NEEDED);
    sspx_buf_free(&o);
    st = sspx_ctx_step(s, auth, alen, &o);
    sspx_buf_free(&o);
    sspx_ctx_free(&s);
    return st;
}

static void setup(void)
{
    fz_install_hooks();
    for (int i = 0; i < FZ_SERVER_CREDS; i++)
        fz_server_cred(i, &g_sc[i]);
    fz_client_cred(0, &g_cc[0]);
    fz_client_cred(1, &g_cc[1]);
    g_cbt_len = fz_cbt(g_cbt, sizeof(g_cbt));
}

static void teardown(void)
{
    for (int i = 0; i < FZ_SERVER_CREDS; i++)
        sspx_cred_free(&g_sc[i]);
    sspx_cred_free(&g_cc[0]);
    sspx_cred_free(&g_cc[1]);
}

/* NtChallengeResponse of an AUTHENTICATE, for fuzz_ntlm_av */
static void put_nt_response(const char *name, const uint8_t *auth, size_t len)
{
    ntlm_authenticate a;
    FZ_MUST(ntlm_decode_authenticate(auth, len, &a));
    put("fuzz_ntlm_av", name, a.nt.p, a.nt.len);
}

static void put_target_info(const char *name, const uint8_t *chal, size_t len)
{
    ntlm_challenge c;
    FZ_MUST(ntlm_decode_challenge(chal, len, &c));
    put("fuzz_ntlm_av", name, c.target_info.p, c.target_info.len);
}

/* ------------------------------------------------------------ the seeds */

static void seeds_messages(void)
{
    uint8_t neg[64], chal[1024], auth[NTLM_MAX_TOKEN], buf[4096], tmp[NTLM_MAX_TOKEN];
    size_t nlen, clen, alen, n;
    static const uint8_t version[8] = {10, 0, 0x63, 0x45, 0, 0, 0, 15};
    const char *F_NEG = "fuzz_ntlm_negotiate", *F_CH = "fuzz_ntlm_challenge",
               *F_AU = "fuzz_ntlm_authenticate", *F_AC = "fuzz_ntlm_accept",
               *F_IN = "fuzz_ntlm_init";

    /* our handshake: NEGOTIATE, CHALLENGE (credential 0), AUTHENTICATE */
    fz_hs h;
    fz_handshake(&h, g_cc[0], g_sc[0], NULL, 0, NULL, 0, NULL, 1);
    FZ_CHECK(h.sst == SEC_E_OK);
    memcpy(neg, h.tok[0].data, nlen = h.tok[0].len);
    memcpy(chal, h.tok[1].data, clen = h.tok[1].len);
    memcpy(auth, h.tok[2].data, alen = h.tok[2].len);
    fz_hs_free(&h);
    put_msg(F_NEG, "sspx_negotiate", neg, nlen);
    put_msg(F_CH, "sspx_challenge", chal, clen);
    put_msg(F_AU, "sspx_authenticate", auth, alen);
    put_target_info("sspx_target_info", chal, clen);
    put_nt_response("sspx_ntlmv2_response", auth, alen);
    put_opt(F_AC, "native_sspx_auth", 0x00, auth, alen);
    put_opt(F_AC, "native_sspx_auth_msgops", 0x80, auth, alen);
    put_opt(F_AC, "native_sspx_auth_expired", 0x40, auth, alen);
    put_opt(F_AC, "native_sspx_auth_lookup", 0x03, auth, alen);
    put_opt(F_AC, "native_sspx_auth_strict_nocbt", 0x02, auth, alen);
    put_opt(F_AC, "sspi_sspx_auth", 0x08, auth, alen);
    put_opt(F_AC, "sspi_sspx_auth_alloc", 0x48, auth, alen);
    put_opt(F_AC, "sspi_sspx_auth_smallbuf", 0x88, auth, alen);
    put_split("split_sspx", 0x00, neg, nlen, auth, alen);
    put_split("split_sspx_sspi", 0x08, neg, nlen, auth, alen);
    FZ_CHECK(server_verify(0, FZ_SREQ, NULL, 0, neg, nlen, auth, alen) == SEC_E_OK);
    put_opt(F_IN, "native_sspx_challenge", 0x00, chal, clen);
    put_opt(F_IN, "native_sspx_challenge_conf_cbt", 0x03, chal, clen);
    put_opt(F_IN, "native_sspx_challenge_cred1_notarget", 0x44, chal, clen);
    put_opt(F_IN, "sspi_sspx_challenge", 0x0a, chal, clen);
    put_opt(F_IN, "sspi_sspx_challenge_alloc_cbt", 0x1b, chal, clen);
    put_opt(F_IN, "native_sspx_challenge_identify", 0x22, chal, clen);

    /* with channel bindings on both sides */
    fz_handshake(&h, g_cc[0], g_sc[0], g_cbt, g_cbt_len, g_cbt, g_cbt_len, NULL, 1);
    FZ_CHECK(h.sst == SEC_E_OK);
    put_msg(F_AU, "sspx_authenticate_cbt", h.tok[2].data, h.tok[2].len);
    put_nt_response("sspx_ntlmv2_response_cbt", h.tok[2].data, h.tok[2].len);
    put_opt(F_AC, "native_sspx_auth_cbt", 0x10, h.tok[2].data, h.tok[2].len);
    put_opt(F_AC, "native_sspx_auth_cbt_strict", 0x12, h.tok[2].data, h.tok[2].len);
    put_opt(F_AC, "sspi_sspx_auth_cbt_strict", 0x1a, h.tok[2].data, h.tok[2].len);
    FZ_CHECK(server_verify(2, FZ_SREQ, g_cbt, g_cbt_len, h.tok[0].data, h.tok[0].len, h.tok[2].data,
                           h.tok[2].len) == SEC_E_OK);
    fz_hs_free(&h);

    /* credential 1: non-ASCII user, no domain, NT hash, workstation: the
     * server knows no such user, the seed still reaches the lookup */
    fz_handshake(&h, g_cc[1], g_sc[0], NULL, 0, NULL, 0, NULL, 1);
    put_msg(F_AU, "sspx_authenticate_cred1", h.tok[2].data, h.tok[2].len);
    put_opt(F_AC, "native_sspx_auth_cred1", 0x00, h.tok[2].data, h.tok[2].len);
    fz_hs_free(&h);

    /* OEM: a NEGOTIATE without UNICODE, the server answers in OEM */
    n = ntlm_encode_negotiate(buf, sizeof(buf), 0xa2088206u, (ntlm_bytes){NULL, 0},
                              (ntlm_bytes){NULL, 0}, version); /* OEM|REQ_TARGET|NTLM|... */
    FZ_CHECK(n);
    put_msg(F_NEG, "oem_negotiate", buf, n);
    clen = server_challenge(0, buf, n, chal, sizeof(chal), NULL);
    put_msg(F_CH, "sspx_challenge_oem", chal, clen);
    put_opt(F_IN, "native_sspx_challenge_oem", 0x00, chal, clen);
    alen = client_auth(0, FZ_CREQ & ~(uint32_t)ISC_REQ_CONFIDENTIALITY, NULL, 0, chal, clen, NULL,
                       NULL, auth, sizeof(auth));
    put_msg(F_AU, "sspx_authenticate_oem", auth, alen);
    /* the OEM client AUTHENTICATE's MIC covers our client's NEGOTIATE, not
     * this one: a split seed with both */
    put_split("split_oem", 0x00, buf, n, auth, alen);

    /* NEGOTIATE with OEM domain and workstation supplied */
    n = ntlm_encode_negotiate(buf, sizeof(buf), 0xe2083207u,
                              (ntlm_bytes){(const uint8_t *)"TESTDOM", 7},
                              (ntlm_bytes){(const uint8_t *)"WS01", 4}, version);
    put_msg(F_NEG, "oem_supplied_negotiate", buf, n);
    /* the 16-byte form and the anonymous flag */
    n = ntlm_encode_negotiate(buf, sizeof(buf), 0x00000a05u, (ntlm_bytes){NULL, 0},
                              (ntlm_bytes){NULL, 0}, version);
    put(F_NEG, "negotiate_16", buf, 16);
    put_msg(F_NEG, "anonymous_negotiate", buf, n);

    /* curl's 32-byte NEGOTIATE (flags 0x00088206, no Version) */
    n = unhex(CURL_NEG, buf, sizeof(buf));
    FZ_CHECK(n == 32 && buf[12] == 0x06 && buf[13] == 0x82 && buf[14] == 0x08 && buf[15] == 0);
    put_msg(F_NEG, "curl_negotiate", buf, n);
    {
        uint8_t b33[40];
        size_t n33 = unhex(CURL_NEG_33, b33, sizeof(b33));
        FZ_CHECK(n33 == 33);
        put(F_NEG, "curl_negotiate_33_trailing_byte", b33, n33);
    }
    memcpy(tmp, buf, n);
    size_t curl_len = n;
    clen = server_challenge(0, tmp, curl_len, chal, sizeof(chal), NULL);
    put_msg(F_CH, "sspx_challenge_for_curl", chal, clen);

    /* MS-NLMP 4.2 examples */
    uint8_t v1c[256], v1a[512], v2c[256], v2a[512];
    size_t v1cl = unhex(SPEC_V1_CHAL, v1c, sizeof(v1c)),
           v1al = unhex(SPEC_V1_AUTH, v1a, sizeof(v1a));
    size_t v2cl = unhex(SPEC_V2_CHAL, v2c, sizeof(v2c)),
           v2al = unhex(SPEC_V2_AUTH, v2a, sizeof(v2a));
    put_msg(F_CH, "msnlmp_v1_challenge", v1c, v1cl);
    put_msg(F_AU, "msnlmp_v1_authenticate", v1a, v1al);
    put_msg(F_CH, "msnlmp_v2_challenge", v2c, v2cl);
    put_msg(F_AU, "msnlmp_v2_authenticate", v2a, v2al);
    put_target_info("msnlmp_v2_target_info", v2c, v2cl);
    put_nt_response("msnlmp_v2_response", v2a, v2al);
    put_opt(F_IN, "native_msnlmp_v1_challenge", 0x00, v1c, v1cl);
    put_opt(F_IN, "native_msnlmp_v2_challenge", 0x02, v2c, v2cl);
    put_opt(F_IN, "sspi_msnlmp_v2_challenge", 0x0b, v2c, v2cl);
    /* the spec's messages verify against the targets' server: its first
     * challenge is the spec's 0123456789abcdef */
    put_opt(F_AC, "native_msnlmp_v2_auth", 0x00, v2a, v2al);
    put_opt(F_AC, "native_msnlmp_v2_auth_lookup", 0x03, v2a, v2al);
    put_opt(F_AC, "sspi_msnlmp_v2_auth", 0x08, v2a, v2al);
    put_opt(F_AC, "native_msnlmp_v1_auth_legacy", 0x01, v1a, v1al);
    put_opt(F_AC, "native_msnlmp_v1_auth_refused", 0x00, v1a, v1al);
    put_split("split_curl_msnlmp_v2", 0x00, tmp, curl_len, v2a, v2al);
    put_split("split_curl_msnlmp_v1_legacy", 0x01, tmp, curl_len, v1a, v1al);
    SECURITY_STATUS st2 = server_verify(0, FZ_SREQ, NULL, 0, neg, nlen, v2a, v2al);
    SECURITY_STATUS st1 = server_verify(1, FZ_SREQ, NULL, 0, neg, nlen, v1a, v1al);
    fprintf(stderr, "MS-NLMP 4.2 NTLMv2 AUTHENTICATE against the fuzz server: %s\n",
            sspx_status_name(st2));
    fprintf(stderr, "MS-NLMP 4.2 NTLMv1 AUTHENTICATE against the fuzz server (v1 allowed): %s\n",
            sspx_status_name(st1));
    if (st1 < 0)
        fprintf(stderr, "  (%s)\n", sspx_last_error_string());
    /* our client against the spec's challenges (no MsvAvTimestamp: no MIC) */
    alen = client_auth(0, FZ_CREQ, NULL, 0, v2c, v2cl, NULL, NULL, auth, sizeof(auth));
    put_msg(F_AU, "sspx_authenticate_to_msnlmp_v2", auth, alen);
    put_nt_response("sspx_ntlmv2_response_no_timestamp", auth, alen);

    /* anonymous AUTHENTICATE: empty user and NT response, LM = Z(1) */
    {
        static const uint8_t z1[1] = {0};
        static const uint8_t key[16] = {0x5a};
        n = ntlm_encode_authenticate(buf, sizeof(buf), 0xa2888a35u, (ntlm_bytes){z1, 1},
                                     (ntlm_bytes){NULL, 0}, (ntlm_bytes){NULL, 0},
                                     (ntlm_bytes){NULL, 0}, (ntlm_bytes){NULL, 0},
                                     (ntlm_bytes){NULL, 0}, version, false, NULL);
        put_msg(F_AU, "anonymous_authenticate", buf, n);
        put_opt(F_AC, "native_anonymous_allowed", 0xa0, buf, n);
        put_opt(F_AC, "sspi_anonymous_allowed", 0x28, buf, n);
        put_opt(F_AC, "native_anonymous_refused", 0x00, buf, n);
        /* with KEY_EXCH: an EncryptedRandomSessionKey */
        n = ntlm_encode_authenticate(buf, sizeof(buf), 0xe2888a35u, (ntlm_bytes){NULL, 0},
                                     (ntlm_bytes){NULL, 0}, (ntlm_bytes){NULL, 0},
                                     (ntlm_bytes){NULL, 0}, (ntlm_bytes){NULL, 0},
                                     (ntlm_bytes){key, 16}, version, false, NULL);
        put_msg(F_AU, "anonymous_authenticate_key_exch", buf, n);
        put_opt(F_AC, "native_anonymous_key_exch", 0x20, buf, n);
    }
    /* LM-only (NT response empty) and NTLMv1 shapes with our user names */
    {
        size_t mic_at = 0;
        uint8_t lm[24], nt[24], user[6] = {'b', 0, 'o', 0, 'b', 0}, dom[14];
        memset(lm, 0x11, sizeof(lm));
        memset(nt, 0x22, sizeof(nt));
        for (int i = 0; i < 7; i++) {
            dom[2 * i] = (uint8_t) "TESTDOM"[i];
            dom[2 * i + 1] = 0;
        }
        n = ntlm_encode_authenticate(buf, sizeof(buf), 0xe2808235u, (ntlm_bytes){lm, 24},
                                     (ntlm_bytes){NULL, 0}, (ntlm_bytes){dom, 14},
                                     (ntlm_bytes){user, 6}, (ntlm_bytes){NULL, 0},
                                     (ntlm_bytes){nt, 16}, version, false, NULL);
        put_msg(F_AU, "lm_only_authenticate", buf, n);
        put_opt(F_AC, "native_lm_only_legacy", 0x01, buf, n);
        n = ntlm_encode_authenticate(buf, sizeof(buf), 0xe2888235u, (ntlm_bytes){lm, 24},
                                     (ntlm_bytes){nt, 24}, (ntlm_bytes){dom, 14},
                                     (ntlm_bytes){user, 6}, (ntlm_bytes){NULL, 0},
                                     (ntlm_bytes){NULL, 0}, version, true, &mic_at);
        put_msg(F_AU, "ntlmv1_ess_authenticate", buf, n);
        put_opt(F_AC, "native_ntlmv1_ess_legacy", 0x01, buf, n);
    }

    /* edge cases: empty, 12 bytes, headers only, one past the max token */
    static const char *const targets[3] = {"fuzz_ntlm_negotiate", "fuzz_ntlm_challenge",
                                           "fuzz_ntlm_authenticate"};
    static const size_t hdr[3][3] = {{16, 32, 40}, {32, 48, 56}, {52, 64, 88}};
    for (int t = 0; t < 3; t++) {
        char name[64];
        memset(buf, 0, sizeof(buf));
        memcpy(buf, "NTLMSSP", 8);
        buf[8] = (uint8_t)(t + 1);
        put(targets[t], "empty", buf, 0);
        put(targets[t], "sig_and_type_12", buf, 12);
        for (int k = 0; k < 3; k++) {
            snprintf(name, sizeof(name), "header_only_%zu", hdr[t][k]);
            put(targets[t], name, buf, hdr[t][k]);
        }
        put(targets[t], "oversized_2889", buf, NTLM_MAX_TOKEN + 1);
        put(targets[t], "max_token_2888", buf, NTLM_MAX_TOKEN);
    }
    put("fuzz_ntlm_describe", "empty", buf, 0);
    put("fuzz_ntlm_describe", "not_ntlm", (const uint8_t *)"YR TlRMTVNTUAAB", 15);
    memcpy(buf, "NTLMSSP", 8);
    buf[8] = 3;
    put("fuzz_ntlm_describe", "oversized_2889", buf, NTLM_MAX_TOKEN + 1);
    put_opt(F_AC, "oversized_2889", 0x00, buf, NTLM_MAX_TOKEN + 1);
    put_opt(F_AC, "empty_auth", 0x00, buf, 0);
    buf[8] = 2;
    put_opt(F_IN, "oversized_2889", 0x00, buf, NTLM_MAX_TOKEN + 1);
    put_opt(F_IN, "header_only_56", 0x00, buf, 56);

    /* AV lists: EOL only, no EOL, bad MsvAvFlags length */
    static const uint8_t eol[4] = {0, 0, 0, 0};
    static const uint8_t no_eol[8] = {2, 0, 4, 0, 'D', 0, 'O', 0};
    static const uint8_t bad_flags[12] = {6, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0};
    static const uint8_t dup[20] = {6, 0, 4, 0, 2, 0, 0, 0, 6, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    put("fuzz_ntlm_av", "eol_only", eol, 4);
    put("fuzz_ntlm_av", "no_eol", no_eol, 8);
    put("fuzz_ntlm_av", "bad_flags_len", bad_flags, 12);
    put("fuzz_ntlm_av", "duplicate_flags", dup, 20);
    put("fuzz_ntlm_av", "empty", eol, 0);
}

static void seeds_cbt(void)
{
    uint8_t b[256];
    put("fuzz_cbt", "tls_server_end_point", g_cbt, g_cbt_len);
    memset(b, 0, sizeof(b));
    put("fuzz_cbt", "header_only_zeros", b, 32);
    put("fuzz_cbt", "short_31", b, 31);
    /* initiator (type 2, 4-byte address), acceptor (type 2), app data */
    uint32_t v[8] = {2, 4, 32, 2, 4, 36, 5, 40};
    for (int i = 0; i < 8; i++)
        for (int k = 0; k < 4; k++)
            b[4 * i + k] = (uint8_t)(v[i] >> (8 * k));
    memcpy(b + 32, "\x0a\x00\x00\x01\x0a\x00\x00\x02hello", 13);
    put("fuzz_cbt", "addresses_and_app", b, 45);
    b[28] = 0xff; /* application data offset past the end */
    put("fuzz_cbt", "bad_offset", b, 45);
}

static void seeds_users(void)
{
    static const char *const files[][2] = {
        {"basic", FZ_USERS},
        {"crlf_comments",
         "# c\r\n  \t# indented comment\r\nTESTDOM:bob:Passw0rd!\r\n\r\n*:alice:Se:cr:et\r\n"},
        {"nt_hash", "DOM:u:{NT}8846F7EAEE8FB117AD06BDD830B7586C\n"},
        {"bad_hash", "DOM:u:{NT}8846f7eaee8fb117ad06bdd830b7586\n"},
        {"missing_colon", "DOM:user_without_password\n"},
        {"empty_user", "DOM::pw\n"},
        {"utf8_names", "DOM\xc3\x84IN:\xc3\xbc"
                       "ser:p\xc3\xa4ss\xf0\x9f\x94\x91\n"},
        {"bad_utf8_password", "DOM:u:\xff\xfe\n"},
        {"no_newline_at_end", "D:u:p"},
        {"nul_in_line", "D:u:p\0w\nE:v:q\n"},
    };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        size_t n = strlen(files[i][1]);
        if (!strcmp(files[i][0], "nul_in_line"))
            n = 15;
        put("fuzz_users_file", files[i][0], (const uint8_t *)files[i][1], n);
    }
}

/* fuzz_ntlm_unseal: messages from each receiving context's peer. */
static void seeds_unseal(void)
{
    static const uint8_t msg[] = "GET / HTTP/1.1\r\nHost: server\r\n\r\n";
    for (int v = 0; v < 4; v++) {
        sspx_ctx *recv = NULL, *peer = NULL;
        sspx_buf w, s;
        char name[64];
        uint8_t buf[512];
        fz_sealed_ctx(v, g_cc[0], g_sc[0], &recv, &peer);
        FZ_MUST(sspx_ctx_wrap(peer, msg, sizeof(msg) - 1, &w));
        { /* the signature from a fresh peer: sequence number 0 too */
            sspx_ctx *r2 = NULL, *p2 = NULL;
            fz_sealed_ctx(v, g_cc[0], g_sc[0], &r2, &p2);
            FZ_MUST(sspx_ctx_sign(p2, msg, sizeof(msg) - 1, &s));
            sspx_ctx_free(&r2);
            sspx_ctx_free(&p2);
        }
        /* unwrap (native), DecryptMessage split at 5, with a read-only
         * checksummed second buffer, with padding */
        uint8_t pre[2] = {(uint8_t)v, 0};
        snprintf(name, sizeof(name), "unwrap_ctx%d", v);
        put2("fuzz_ntlm_unseal", name, pre, 2, w.data, w.len);
        pre[0] = (uint8_t)(v | 0x08);
        pre[1] = 5;
        snprintf(name, sizeof(name), "decrypt_split5_ctx%d", v);
        put2("fuzz_ntlm_unseal", name, pre, 2, w.data, w.len);
        pre[0] = (uint8_t)(v | 0x38);
        snprintf(name, sizeof(name), "decrypt_readonly_pad_ctx%d", v);
        put2("fuzz_ntlm_unseal", name, pre, 2, w.data, w.len);
        /* verify: native (signature length 16, then the message) and SSPI */
        memcpy(buf, s.data, 16);
        memcpy(buf + 16, msg, sizeof(msg) - 1);
        pre[0] = (uint8_t)(v | 0x04);
        pre[1] = 16;
        snprintf(name, sizeof(name), "verify_ctx%d", v);
        put2("fuzz_ntlm_unseal", name, pre, 2, buf, 16 + sizeof(msg) - 1);
        pre[0] = (uint8_t)(v | 0x0c);
        pre[1] = 3;
        snprintf(name, sizeof(name), "verifysig_split3_ctx%d", v);
        put2("fuzz_ntlm_unseal", name, pre, 2, buf, 16 + sizeof(msg) - 1);
        /* the receiving side accepts them (except variant 2: its twin has
         * the other direction's keys) */
        sspx_buf u;
        SECURITY_STATUS su = sspx_ctx_unwrap(recv, w.data, w.len, &u);
        fprintf(stderr, "unseal ctx%d: unwrap of the peer's message: %s\n", v,
                sspx_status_name(su));
        sspx_buf_free(&u);
        sspx_buf_free(&w);
        sspx_buf_free(&s);
        sspx_ctx_free(&recv);
        sspx_ctx_free(&peer);
    }
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "write")) {
        g_dir = argv[2];
        mkdir_p(g_dir);
        setup();
        seeds_messages();
        seeds_cbt();
        seeds_users();
        seeds_unseal();
        teardown();
        fprintf(stderr, "gen_corpus: %d files written under %s\n", g_count, g_dir);
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "challenge")) {
        uint8_t neg[NTLM_MAX_TOKEN], chal[1024];
        size_t n = unhex(argv[2], neg, sizeof(neg)), cl;
        setup();
        cl = server_challenge(0, neg, n, chal, sizeof(chal), NULL);
        for (size_t i = 0; i < cl; i++)
            printf("%02x", chal[i]);
        printf("\n");
        teardown();
        return 0;
    }
    if (argc == 4 && !strcmp(argv[1], "verify")) {
        uint8_t neg[NTLM_MAX_TOKEN], auth[NTLM_MAX_TOKEN];
        size_t nl = unhex(argv[2], neg, sizeof(neg)), al = unhex(argv[3], auth, sizeof(auth));
        SECURITY_STATUS st;
        setup();
        st = server_verify(0, FZ_SREQ, NULL, 0, neg, nl, auth, al);
        printf("%s%s%s\n", sspx_status_name(st), st < 0 ? ": " : "",
               st < 0 ? sspx_last_error_string() : "");
        teardown();
        return st == SEC_E_OK ? 0 : 1;
    }
    fprintf(stderr, "usage: gen_corpus write DIR | challenge NEG_HEX | verify NEG_HEX AUTH_HEX\n");
    return 2;
}
