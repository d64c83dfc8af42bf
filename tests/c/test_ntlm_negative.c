/* Every rejection path of the NTLM server, each with the status Windows
 * gives: wrong password, unknown user (same status, same time), tampered
 * MIC / NEGOTIATE / response, replayed AUTHENTICATE, expired challenge,
 * truncated / oversized / malformed tokens, NTLMv1, LM and anonymous by
 * policy, missing MIC by policy, and credential acquisition failures. */
#include <time.h>

#include "fixtures.h"
#include "packages/ntlm/ntlm.h"
#include "wire/cursor.h"
#include "wire/ntlm_msg.h"

static const char *users;

static sspx_cred *server(const char *opt_key, const char *opt_val)
{
    sspx_config *cfg = sspx_config_new();
    sspx_cred *c = NULL;
    CHECK_ST(sspx_config_set(cfg, "users_file", users), SEC_E_OK);
    CHECK_ST(sspx_config_set(cfg, "netbios_domain", "TESTDOM"), SEC_E_OK);
    if (opt_key)
        CHECK_ST(sspx_config_set(cfg, opt_key, opt_val), SEC_E_OK);
    CHECK_ST(sspx_cred_acquire("NTLM", SSPX_CRED_INBOUND, cfg, &c), SEC_E_OK);
    sspx_config_free(&cfg);
    return c;
}

static sspx_cred *client(const char *user, const char *pw)
{
    sspx_config *cfg = sspx_config_new();
    sspx_cred *c = NULL;
    CHECK_ST(sspx_config_set(cfg, "user", user), SEC_E_OK);
    CHECK_ST(sspx_config_set(cfg, "password", pw), SEC_E_OK);
    CHECK_ST(sspx_cred_acquire("NTLM", SSPX_CRED_OUTBOUND, cfg, &c), SEC_E_OK);
    sspx_config_free(&cfg);
    return c;
}

/* A handshake leg by leg; `tamper` may change the NEGOTIATE (leg 0) or the
 * AUTHENTICATE (leg 2) before the server sees it. Returns the server's last
 * status; `auth_out` (if given) receives the AUTHENTICATE. */
typedef void (*tamper_fn)(int leg, sspx_buf *tok);

static SECURITY_STATUS run(sspx_cred *s, sspx_cred *c, tamper_fn tamper, sspx_buf *auth_out,
                           sspx_ctx **server_ctx)
{
    sspx_ctx *sx = NULL, *cx = NULL;
    sspx_buf t1 = {0}, t2 = {0}, t3 = {0}, t4 = {0};
    SECURITY_STATUS st;
    CHECK_ST(sspx_ctx_new(s, NULL, &sx), SEC_E_OK);
    CHECK_ST(sspx_ctx_new(c, NULL, &cx), SEC_E_OK);
    CHECK_ST(sspx_ctx_step(cx, NULL, 0, &t1), SEC_I_CONTINUE_NEEDED);
    if (tamper)
        tamper(0, &t1);
    st = sspx_ctx_step(sx, t1.data, t1.len, &t2);
    if (st != SEC_I_CONTINUE_NEEDED)
        goto out;
    CHECK_ST(sspx_ctx_step(cx, t2.data, t2.len, &t3), SEC_E_OK);
    if (tamper)
        tamper(2, &t3);
    st = sspx_ctx_step(sx, t3.data, t3.len, &t4);
    if (auth_out) {
        *auth_out = t3;
        t3.data = NULL;
        t3.len = 0;
    }
out:
    sspx_buf_free(&t1);
    sspx_buf_free(&t2);
    sspx_buf_free(&t3);
    sspx_buf_free(&t4);
    if (server_ctx)
        *server_ctx = sx;
    else
        sspx_ctx_free(&sx);
    sspx_ctx_free(&cx);
    return st;
}

static const char *last_name(void)
{
    return sspx_last_error().name;
}

static void wrong_password_unknown_user(void)
{
    sspx_cred *s = server(NULL, NULL), *good = client("TESTDOM\\bob", "Passw0rd!");
    sspx_cred *bad = client("TESTDOM\\bob", "passw0rd!"), *nobody = client("TESTDOM\\eve", "x");
    sspx_cred *empty = client("TESTDOM\\nopw", "anything");
    CHECK_ST(run(s, good, NULL, NULL, NULL), SEC_E_OK);
    CHECK_ST(run(s, bad, NULL, NULL, NULL), SEC_E_LOGON_DENIED);
    CHECK(strcmp(last_name(), "SSPX_ERR_BAD_PASSWORD") == 0);
    CHECK_ST(run(s, nobody, NULL, NULL, NULL), SEC_E_LOGON_DENIED);
    CHECK(strcmp(last_name(), "SSPX_ERR_UNKNOWN_USER") == 0);
    CHECK_ST(run(s, empty, NULL, NULL, NULL), SEC_E_LOGON_DENIED); /* empty password in file */

    /* timing: medians of interleaved runs of the server's AUTHENTICATE leg */
    enum { N = 301 };
    static double tb[N], tu[N];
    for (int i = 0; i < N; i++) {
        for (int k = 0; k < 2; k++) {
            sspx_ctx *sx = NULL, *cx = NULL;
            sspx_buf a = {0}, b = {0}, c = {0}, d = {0};
            struct timespec t0, t1;
            (void)sspx_ctx_new(s, NULL, &sx);
            (void)sspx_ctx_new(k ? nobody : bad, NULL, &cx);
            (void)sspx_ctx_step(cx, NULL, 0, &a);
            (void)sspx_ctx_step(sx, a.data, a.len, &b);
            (void)sspx_ctx_step(cx, b.data, b.len, &c);
            clock_gettime(CLOCK_MONOTONIC, &t0);
            SECURITY_STATUS st = sspx_ctx_step(sx, c.data, c.len, &d);
            clock_gettime(CLOCK_MONOTONIC, &t1);
            CHECK(st == SEC_E_LOGON_DENIED);
            (k ? tu : tb)[i] =
                (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
            sspx_buf_free(&a), sspx_buf_free(&b), sspx_buf_free(&c), sspx_buf_free(&d);
            sspx_ctx_free(&sx);
            sspx_ctx_free(&cx);
        }
    }
    int cmp(const void *x, const void *y);
    qsort(tb, N, sizeof(double), cmp);
    qsort(tu, N, sizeof(double), cmp);
    double ratio = tu[N / 2] / tb[N / 2];
    printf("  median AUTHENTICATE leg: wrong password %.1f us, unknown user %.1f us (ratio %.2f)\n",
           tb[N / 2] / 1000, tu[N / 2] / 1000, ratio);
    CHECK(ratio > 0.8 && ratio < 1.25);
    sspx_cred_free(&s);
    sspx_cred_free(&good);
    sspx_cred_free(&bad);
    sspx_cred_free(&nobody);
    sspx_cred_free(&empty);
}

int cmp(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static void t_mic(int leg, sspx_buf *t)
{
    if (leg == 2)
        t->data[NTLM_MIC_OFFSET + 3] ^= 0x01;
}
static void t_mic_zero(int leg, sspx_buf *t)
{
    if (leg == 2)
        memset(t->data + NTLM_MIC_OFFSET, 0, 16);
}
static void t_negotiate_flags(int leg, sspx_buf *t)
{
    if (leg == 0) /* a man in the middle drops SIGN: the MIC covers NEGOTIATE */
        t->data[12] &= (uint8_t)~NTLMSSP_NEGOTIATE_SIGN;
}
static void t_proof(int leg, sspx_buf *t)
{
    if (leg == 2) {
        uint32_t off = sspx_get_le32(t->data + 24);
        t->data[off + 2] ^= 0x80;
    }
}
static void t_blob(int leg, sspx_buf *t)
{
    if (leg == 2) { /* change the client challenge inside the blob */
        uint32_t off = sspx_get_le32(t->data + 24);
        t->data[off + 16 + 16] ^= 0x01;
    }
}
static void t_user(int leg, sspx_buf *t)
{
    if (leg == 2) { /* rename the user in the message ("bob" -> "Bob" is the same account) */
        uint32_t off = sspx_get_le32(t->data + 40);
        t->data[off] = 'r';
    }
}
static void t_enc_key(int leg, sspx_buf *t)
{
    if (leg == 2) {
        uint32_t off = sspx_get_le32(t->data + 56);
        t->data[off] ^= 0x01;
    }
}

static void tampering(void)
{
    sspx_cred *s = server(NULL, NULL), *c = client("TESTDOM\\bob", "Passw0rd!");
    CHECK_ST(run(s, c, t_mic, NULL, NULL), SEC_E_MESSAGE_ALTERED);
    CHECK(strcmp(last_name(), "SSPX_ERR_NTLM_MIC_MISMATCH") == 0);
    CHECK_ST(run(s, c, t_mic_zero, NULL, NULL), SEC_E_MESSAGE_ALTERED);
    CHECK_ST(run(s, c, t_negotiate_flags, NULL, NULL), SEC_E_MESSAGE_ALTERED);
    CHECK_ST(run(s, c, t_proof, NULL, NULL), SEC_E_LOGON_DENIED);
    CHECK_ST(run(s, c, t_blob, NULL, NULL), SEC_E_LOGON_DENIED);
    CHECK_ST(run(s, c, t_user, NULL, NULL), SEC_E_LOGON_DENIED);
    CHECK_ST(run(s, c, t_enc_key, NULL, NULL), SEC_E_MESSAGE_ALTERED); /* key differs: MIC fails */
    sspx_cred_free(&s);
    sspx_cred_free(&c);
}

static void replay(void)
{
    sspx_cred *s = server(NULL, NULL), *c = client("TESTDOM\\bob", "Passw0rd!");
    sspx_buf auth = {0}, out = {0}, t1 = {0}, t2 = {0};
    sspx_ctx *done = NULL, *fresh = NULL, *cx = NULL;
    CHECK_ST(run(s, c, NULL, &auth, &done), SEC_E_OK);
    /* the same AUTHENTICATE again on the completed context */
    CHECK_ST(sspx_ctx_step(done, auth.data, auth.len, &out), SEC_E_INVALID_TOKEN);
    /* ... and on a new context, after a fresh CHALLENGE */
    CHECK_ST(sspx_ctx_new(s, NULL, &fresh), SEC_E_OK);
    CHECK_ST(sspx_ctx_new(c, NULL, &cx), SEC_E_OK);
    CHECK_ST(sspx_ctx_step(cx, NULL, 0, &t1), SEC_I_CONTINUE_NEEDED);
    CHECK_ST(sspx_ctx_step(fresh, t1.data, t1.len, &t2), SEC_I_CONTINUE_NEEDED);
    CHECK_ST(sspx_ctx_step(fresh, auth.data, auth.len, &out), SEC_E_LOGON_DENIED);
    /* a failed context stays failed */
    CHECK_ST(sspx_ctx_step(fresh, auth.data, auth.len, &out), SEC_E_INVALID_TOKEN);
    CHECK(strcmp(last_name(), "SSPX_ERR_CTX_FAILED") == 0);
    CHECK_ST(sspx_ctx_wrap(fresh, (const uint8_t *)"x", 1, &out), SEC_E_INVALID_HANDLE);
    sspx_buf_free(&auth);
    sspx_buf_free(&t1);
    sspx_buf_free(&t2);
    sspx_ctx_free(&done);
    sspx_ctx_free(&fresh);
    sspx_ctx_free(&cx);
    sspx_cred_free(&s);
    sspx_cred_free(&c);
}

static uint64_t now_ft;
static void expired_challenge(void)
{
    sspx_cred *s = server("challenge_max_age", "300"), *c = client("TESTDOM\\bob", "Passw0rd!");
    sspx_ctx *sx = NULL, *cx = NULL;
    sspx_buf a = {0}, b = {0}, d = {0}, e = {0};
    now_ft = 133000000000000000ULL;
    sspx_test_set_clock(t_clock_fn, &now_ft);
    for (int k = 0; k < 3; k++) {
        CHECK_ST(sspx_ctx_new(s, NULL, &sx), SEC_E_OK);
        CHECK_ST(sspx_ctx_new(c, NULL, &cx), SEC_E_OK);
        CHECK_ST(sspx_ctx_step(cx, NULL, 0, &a), SEC_I_CONTINUE_NEEDED);
        CHECK_ST(sspx_ctx_step(sx, a.data, a.len, &b), SEC_I_CONTINUE_NEEDED);
        CHECK_ST(sspx_ctx_step(cx, b.data, b.len, &d), SEC_E_OK);
        /* k=0: 301 s later; k=1: clock went back; k=2: 299 s later */
        now_ft += k == 0 ? 301 * 10000000ULL : k == 1 ? (uint64_t)-10000000LL : 299 * 10000000ULL;
        CHECK_ST(sspx_ctx_step(sx, d.data, d.len, &e), k == 0   ? SEC_E_CONTEXT_EXPIRED
                                                       : k == 1 ? SEC_E_CONTEXT_EXPIRED
                                                                : SEC_E_OK);
        sspx_buf_free(&a), sspx_buf_free(&b), sspx_buf_free(&d), sspx_buf_free(&e);
        sspx_ctx_free(&sx);
        sspx_ctx_free(&cx);
    }
    sspx_test_set_clock(NULL, NULL);
    sspx_cred_free(&s);
    sspx_cred_free(&c);
}

/* Malformed tokens: every truncation of real messages, oversized ones,
 * bad signatures and types, offsets outside the message, odd UTF-16. */
static void malformed(void)
{
    sspx_cred *s = server(NULL, NULL), *c = client("TESTDOM\\bob", "Passw0rd!");
    sspx_ctx *sx = NULL, *cx = NULL;
    sspx_buf neg = {0}, chal = {0}, auth = {0}, out = {0};
    uint8_t big[4000];
    CHECK_ST(sspx_ctx_new(c, NULL, &cx), SEC_E_OK);
    CHECK_ST(sspx_ctx_step(cx, NULL, 0, &neg), SEC_I_CONTINUE_NEEDED);
    for (size_t n = 0; n < 16; n++) { /* a NEGOTIATE needs 16 bytes at least */
        CHECK_ST(sspx_ctx_new(s, NULL, &sx), SEC_E_OK);
        CHECK_ST(sspx_ctx_step(sx, neg.data, n, &out), SEC_E_INVALID_TOKEN);
        sspx_ctx_free(&sx);
    }
    memset(big, 0, sizeof(big));
    memcpy(big, neg.data, neg.len);
    CHECK_ST(sspx_ctx_new(s, NULL, &sx), SEC_E_OK);
    CHECK_ST(sspx_ctx_step(sx, big, 2889, &out), SEC_E_INVALID_TOKEN);
    CHECK(strcmp(last_name(), "SSPX_ERR_NTLM_TOO_LARGE") == 0);
    sspx_ctx_free(&sx);
    CHECK_ST(sspx_ctx_new(s, NULL, &sx), SEC_E_OK);
    neg.data[0] = 'X';
    CHECK_ST(sspx_ctx_step(sx, neg.data, neg.len, &out), SEC_E_INVALID_TOKEN);
    CHECK(strcmp(last_name(), "SSPX_ERR_NTLM_SIGNATURE") == 0);
    neg.data[0] = 'N';
    sspx_ctx_free(&sx);
    CHECK_ST(sspx_ctx_new(s, NULL, &sx), SEC_E_OK);
    neg.data[8] = 3; /* an AUTHENTICATE where a NEGOTIATE is due */
    CHECK_ST(sspx_ctx_step(sx, neg.data, neg.len, &out), SEC_E_INVALID_TOKEN);
    CHECK(strcmp(last_name(), "SSPX_ERR_NTLM_MSG_TYPE") == 0);
    neg.data[8] = 1;
    sspx_ctx_free(&sx);
    CHECK_ST(sspx_ctx_new(s, NULL, &sx), SEC_E_OK);
    CHECK_ST(sspx_ctx_step(sx, NULL, 0, &out), SEC_E_INVALID_TOKEN); /* no token at all */
    sspx_ctx_free(&sx);

    /* AUTHENTICATE: every truncation, and fields pointing outside */
    CHECK_ST(sspx_ctx_new(s, NULL, &sx), SEC_E_OK);
    CHECK_ST(sspx_ctx_step(sx, neg.data, neg.len, &chal), SEC_I_CONTINUE_NEEDED);
    CHECK_ST(sspx_ctx_step(cx, chal.data, chal.len, &auth), SEC_E_OK);
    sspx_ctx_free(&sx);
    for (size_t n = 0; n < auth.len; n += (n < 100 ? 1 : 13)) {
        sspx_ctx *t = NULL;
        CHECK_ST(sspx_ctx_new(s, NULL, &t), SEC_E_OK);
        CHECK_ST(sspx_ctx_step(t, neg.data, neg.len, &out), SEC_I_CONTINUE_NEEDED);
        sspx_buf_free(&out);
        SECURITY_STATUS st = sspx_ctx_step(t, auth.data, n, &out);
        CHECK(st == SEC_E_INVALID_TOKEN || st == SEC_E_LOGON_DENIED);
        sspx_ctx_free(&t);
    }
    static const size_t field_at[] = {12, 20, 28, 36, 44, 52};
    for (size_t i = 0; i < 6; i++) {
        for (int mode = 0; mode < 3; mode++) {
            sspx_ctx *t = NULL;
            uint8_t m[4096];
            memcpy(m, auth.data, auth.len);
            if (mode == 0) /* offset past the end */
                sspx_put_le32(m + field_at[i] + 4, (uint32_t)auth.len);
            else if (mode == 1) /* length past the end */
                sspx_put_le16(m + field_at[i], 0xfff0);
            else /* offset wraps */
                sspx_put_le32(m + field_at[i] + 4, 0xfffffff0u);
            if (mode != 1 && sspx_get_le16(m + field_at[i]) == 0)
                continue; /* an empty field may point anywhere */
            CHECK_ST(sspx_ctx_new(s, NULL, &t), SEC_E_OK);
            CHECK_ST(sspx_ctx_step(t, neg.data, neg.len, &out), SEC_I_CONTINUE_NEEDED);
            sspx_buf_free(&out);
            SECURITY_STATUS st = sspx_ctx_step(t, m, auth.len, &out);
            if (st != SEC_E_INVALID_TOKEN)
                printf("  field at %zu, mode %d: 0x%08x %s\n", field_at[i], mode, (unsigned)st,
                       sspx_last_error_string());
            CHECK_ST(st, SEC_E_INVALID_TOKEN);
            sspx_ctx_free(&t);
        }
    }
    /* an odd-length UTF-16 user name */
    {
        sspx_ctx *t = NULL;
        uint8_t m[4096];
        memcpy(m, auth.data, auth.len);
        sspx_put_le16(m + 36, (uint16_t)(sspx_get_le16(m + 36) - 1));
        CHECK_ST(sspx_ctx_new(s, NULL, &t), SEC_E_OK);
        CHECK_ST(sspx_ctx_step(t, neg.data, neg.len, &out), SEC_I_CONTINUE_NEEDED);
        sspx_buf_free(&out);
        CHECK_ST(sspx_ctx_step(t, m, auth.len, &out), SEC_E_INVALID_TOKEN);
        CHECK(strcmp(last_name(), "SSPX_ERR_NTLM_FIELD_ODD") == 0);
        sspx_ctx_free(&t);
    }
    /* the client refuses a malformed CHALLENGE */
    {
        sspx_ctx *t = NULL;
        sspx_buf n2 = {0};
        CHECK_ST(sspx_ctx_new(c, NULL, &t), SEC_E_OK);
        CHECK_ST(sspx_ctx_step(t, NULL, 0, &n2), SEC_I_CONTINUE_NEEDED);
        CHECK_ST(sspx_ctx_step(t, chal.data, 40, &out), SEC_E_INVALID_TOKEN);
        sspx_buf_free(&n2);
        sspx_ctx_free(&t);
    }
    sspx_buf_free(&neg);
    sspx_buf_free(&chal);
    sspx_buf_free(&auth);
    sspx_ctx_free(&cx);
    sspx_cred_free(&s);
    sspx_cred_free(&c);
}

/* Build an AUTHENTICATE by hand (as old or minimal clients do). */
static size_t craft_auth(const sspx_buf *chal, uint32_t flags, bool unicode, const char *user,
                         const char *dom, const char *pw, bool v1, uint8_t *out, size_t cap)
{
    ntlm_challenge ch;
    ntlm_wstr u, d;
    uint8_t nt[16], ntv2[16], temp[512], resp[600], proof[16], lm[24] = {0};
    size_t tl, rl;
    static const uint8_t ver[8] = {6, 1, 0xb1, 0x1d, 0, 0, 0, 15};
    CHECK_ST(ntlm_decode_challenge(chal->data, chal->len, &ch), SEC_E_OK);
    CHECK_ST(ntlm_wstr_set(&u, user), SEC_E_OK);
    CHECK_ST(ntlm_wstr_set(&d, dom), SEC_E_OK);
    CHECK_ST(ntlm_NTOWFv1(pw, nt), SEC_E_OK);
    if (v1) {
        CHECK_ST(ntlm_DESL(nt, ch.server_challenge, resp), SEC_E_OK);
        rl = 24;
    } else {
        CHECK_ST(ntlm_NTOWFv2(nt, u.u16, u.u16_len, d.u16, d.u16_len, ntv2), SEC_E_OK);
        memset(temp, 0, 28);
        temp[0] = temp[1] = 1;
        memset(temp + 16, 0x42, 8);
        memcpy(temp + 28, ch.target_info.p, ch.target_info.len);
        tl = 28 + ch.target_info.len;
        memset(temp + tl, 0, 4);
        tl += 4;
        CHECK_ST(ntlm_v2_proof(ntv2, ch.server_challenge, temp, tl, proof), SEC_E_OK);
        memcpy(resp, proof, 16);
        memcpy(resp + 16, temp, tl);
        rl = 16 + tl;
    }
    ntlm_bytes ub = unicode ? (ntlm_bytes){u.u16, u.u16_len}
                            : (ntlm_bytes){(const uint8_t *)user, strlen(user)};
    ntlm_bytes db =
        unicode ? (ntlm_bytes){d.u16, d.u16_len} : (ntlm_bytes){(const uint8_t *)dom, strlen(dom)};
    return ntlm_encode_authenticate(out, cap, flags, (ntlm_bytes){lm, 24}, (ntlm_bytes){resp, rl},
                                    db, ub, (ntlm_bytes){NULL, 0}, (ntlm_bytes){NULL, 0}, ver,
                                    false, NULL);
}

/* curl's 32-byte NEGOTIATE (no VERSION, no UNICODE) and an OEM AUTHENTICATE */
static void curl_style_oem(void)
{
    sspx_cred *s = server(NULL, NULL), *s_mic = server("require_mic", "1");
    sspx_ctx *sx = NULL;
    sspx_buf chal = {0}, out = {0};
    uint8_t neg[32], auth[2048];
    size_t n = t_hex("4e544c4d53535000 01000000 06820800 0000000000000000 0000000000000000", neg,
                     sizeof(neg));
    ntlm_challenge ch;
    CHECK(n == 32);
    CHECK_ST(sspx_ctx_new(s, NULL, &sx), SEC_E_OK);
    CHECK_ST(sspx_ctx_step(sx, neg, 32, &chal), SEC_I_CONTINUE_NEEDED);
    CHECK_ST(ntlm_decode_challenge(chal.data, chal.len, &ch), SEC_E_OK);
    CHECK(ch.flags & NTLMSSP_NEGOTIATE_OEM);
    CHECK(!(ch.flags & NTLMSSP_NEGOTIATE_UNICODE));
    CHECK(ch.target_name.len == 7 && memcmp(ch.target_name.p, "TESTDOM", 7) == 0);
    size_t al = craft_auth(&chal, 0x00088205u & ~1u, false, "bob", "TESTDOM", "Passw0rd!", false,
                           auth, sizeof(auth));
    CHECK_ST(sspx_ctx_step(sx, auth, al, &out), SEC_E_OK);
    CHECK(strcmp(sspx_ctx_client_name(sx), "TESTDOM\\bob") == 0);
    sspx_ctx_free(&sx);
    sspx_buf_free(&chal);
    /* NEGOTIATE flags: without NTLM but with ESS (python's ntlm-auth) is taken;
     * with neither NTLM, ESS nor ANONYMOUS it is refused */
    {
        uint8_t n2[32];
        memcpy(n2, neg, 32);
        sspx_put_le32(n2 + 12, 0xe2088235u & ~NTLMSSP_NEGOTIATE_NTLM);
        CHECK_ST(sspx_ctx_new(s, NULL, &sx), SEC_E_OK);
        CHECK_ST(sspx_ctx_step(sx, n2, 32, &chal), SEC_I_CONTINUE_NEEDED);
        CHECK_ST(ntlm_decode_challenge(chal.data, chal.len, &ch), SEC_E_OK);
        CHECK(ch.flags & NTLMSSP_NEGOTIATE_NTLM);
        sspx_ctx_free(&sx);
        sspx_buf_free(&chal);
        sspx_put_le32(n2 + 12, 0xe2008235u & ~NTLMSSP_NEGOTIATE_NTLM);
        CHECK_ST(sspx_ctx_new(s, NULL, &sx), SEC_E_OK);
        CHECK_ST(sspx_ctx_step(sx, n2, 32, &chal), SEC_E_INVALID_TOKEN);
        CHECK(strcmp(last_name(), "SSPX_ERR_NTLM_NO_NTLM_FLAG") == 0);
        sspx_ctx_free(&sx);
    }
    /* the same client refused when the server requires a MIC */
    CHECK_ST(sspx_ctx_new(s_mic, NULL, &sx), SEC_E_OK);
    CHECK_ST(sspx_ctx_step(sx, neg, 32, &chal), SEC_I_CONTINUE_NEEDED);
    al = craft_auth(&chal, 0x00088206u, false, "bob", "TESTDOM", "Passw0rd!", false, auth,
                    sizeof(auth));
    CHECK_ST(sspx_ctx_step(sx, auth, al, &out), SEC_E_LOGON_DENIED);
    CHECK(strcmp(last_name(), "SSPX_ERR_NTLM_MIC_REQUIRED") == 0);
    sspx_ctx_free(&sx);
    sspx_buf_free(&chal);
    /* an NTLMv1 response: refused by default */
    CHECK_ST(sspx_ctx_new(s, NULL, &sx), SEC_E_OK);
    CHECK_ST(sspx_ctx_step(sx, neg, 32, &chal), SEC_I_CONTINUE_NEEDED);
    al = craft_auth(&chal, 0x00008206u, false, "bob", "TESTDOM", "Passw0rd!", true, auth,
                    sizeof(auth));
    CHECK_ST(sspx_ctx_step(sx, auth, al, &out), SEC_E_LOGON_DENIED);
    CHECK(strcmp(last_name(), "SSPX_ERR_NTLM_V1_REFUSED") == 0);
    sspx_ctx_free(&sx);
    sspx_buf_free(&chal);
    sspx_cred_free(&s);
    sspx_cred_free(&s_mic);
}

static void lm_and_anonymous(void)
{
    sspx_cred *s = server(NULL, NULL), *s_lm = server("allow_lm", "yes");
    sspx_ctx *sx = NULL;
    sspx_buf neg = {0}, chal = {0}, out = {0};
    uint8_t auth[512], lm[24];
    static const uint8_t ver[8] = {6, 1, 0xb1, 0x1d, 0, 0, 0, 15};
    uint8_t negm[32];
    t_hex("4e544c4d53535000 01000000 07820800 0000000000000000 0000000000000000", negm, 32);
    for (int pass = 0; pass < 2; pass++) {
        sspx_cred *srv = pass ? s_lm : s;
        ntlm_challenge ch;
        uint8_t lmh[16];
        CHECK_ST(sspx_ctx_new(srv, NULL, &sx), SEC_E_OK);
        CHECK_ST(sspx_ctx_step(sx, negm, 32, &chal), SEC_I_CONTINUE_NEEDED);
        CHECK_ST(ntlm_decode_challenge(chal.data, chal.len, &ch), SEC_E_OK);
        CHECK_ST(ntlm_LMOWFv1("Passw0rd!", lmh), SEC_E_OK);
        CHECK_ST(ntlm_DESL(lmh, ch.server_challenge, lm), SEC_E_OK);
        size_t al = ntlm_encode_authenticate(
            auth, sizeof(auth), 0x00008201u, (ntlm_bytes){lm, 24}, (ntlm_bytes){NULL, 0},
            (ntlm_bytes){(const uint8_t *)"T\0E\0S\0T\0D\0O\0M\0", 14},
            (ntlm_bytes){(const uint8_t *)"b\0o\0b\0", 6}, (ntlm_bytes){NULL, 0},
            (ntlm_bytes){NULL, 0}, ver, false, NULL);
        CHECK_ST(sspx_ctx_step(sx, auth, al, &out), pass ? SEC_E_OK : SEC_E_LOGON_DENIED);
        if (!pass)
            CHECK(strcmp(last_name(), "SSPX_ERR_NTLM_LM_REFUSED") == 0);
        sspx_ctx_free(&sx);
        sspx_buf_free(&chal);
    }
    /* anonymous: refused without ASC_REQ_ALLOW_NULL_SESSION, accepted with it */
    for (int pass = 0; pass < 2; pass++) {
        sspx_ctx_params p = {pass ? ASC_REQ_ALLOW_NULL_SESSION : 0, NULL, NULL, 0};
        uint8_t z = 0;
        CHECK_ST(sspx_ctx_new(s, &p, &sx), SEC_E_OK);
        CHECK_ST(sspx_ctx_step(sx, negm, 32, &chal), SEC_I_CONTINUE_NEEDED);
        size_t al = ntlm_encode_authenticate(auth, sizeof(auth), 0x00008a01u, (ntlm_bytes){&z, 1},
                                             (ntlm_bytes){NULL, 0}, (ntlm_bytes){NULL, 0},
                                             (ntlm_bytes){NULL, 0}, (ntlm_bytes){NULL, 0},
                                             (ntlm_bytes){NULL, 0}, ver, false, NULL);
        CHECK_ST(sspx_ctx_step(sx, auth, al, &out), pass ? SEC_E_OK : SEC_E_LOGON_DENIED);
        if (pass) {
            CHECK(strcmp(sspx_ctx_client_name(sx), "NT AUTHORITY\\ANONYMOUS LOGON") == 0);
            CHECK(sspx_ctx_flags(sx) & ASC_RET_NULL_SESSION);
        } else {
            CHECK(strcmp(last_name(), "SSPX_ERR_NTLM_ANON_REFUSED") == 0);
        }
        sspx_ctx_free(&sx);
        sspx_buf_free(&chal);
    }
    sspx_buf_free(&neg);
    sspx_cred_free(&s);
    sspx_cred_free(&s_lm);
}

static void acquisition_failures(void)
{
    CredHandle h;
    sspx_config *cfg = sspx_config_new();
    sspx_cred *c = NULL;
    unsetenv("SSPX_NTLM_USERS");
    /* no user store at all */
    CHECK_ST(AcquireCredentialsHandleA(NULL, "NTLM", SECPKG_CRED_INBOUND, NULL, NULL, NULL, NULL,
                                       &h, NULL),
             SEC_E_NO_CREDENTIALS);
    CHECK(!SecIsValidHandle(&h));
    /* ... from the environment */
    setenv("SSPX_NTLM_USERS", users, 1);
    CHECK_ST(AcquireCredentialsHandleA(NULL, "NTLM", SECPKG_CRED_INBOUND, NULL, NULL, NULL, NULL,
                                       &h, NULL),
             SEC_E_OK);
    FreeCredentialsHandle(&h);
    setenv("SSPX_NTLM_USERS", "/nonexistent/users", 1);
    CHECK_ST(AcquireCredentialsHandleA(NULL, "NTLM", SECPKG_CRED_INBOUND, NULL, NULL, NULL, NULL,
                                       &h, NULL),
             SEC_E_NO_CREDENTIALS);
    unsetenv("SSPX_NTLM_USERS");
    /* unreadable and malformed files */
    CHECK_ST(t_server_cred(&h, "/nonexistent/users", 0, 0), SEC_E_NO_CREDENTIALS);
    const char *bad = t_users_file("TESTDOM:bob:Passw0rd!\nthis line has no colons\n");
    CHECK_ST(t_server_cred(&h, bad, 0, 0), SEC_E_NO_CREDENTIALS);
    t_users_free(bad);
    bad = t_users_file("TESTDOM:bob:{NT}1234\n");
    CHECK_ST(t_server_cred(&h, bad, 0, 0), SEC_E_NO_CREDENTIALS);
    t_users_free(bad);
    /* unknown package, bad usage, unknown option, bad option value */
    CHECK_ST(AcquireCredentialsHandleA(NULL, "NoSuchPackage", SECPKG_CRED_INBOUND, NULL, NULL, NULL,
                                       NULL, &h, NULL),
             SEC_E_SECPKG_NOT_FOUND);
    CHECK_ST(AcquireCredentialsHandleA(NULL, "NTLM", 0x40, NULL, NULL, NULL, NULL, &h, NULL),
             SEC_E_INVALID_PARAMETER);
    CHECK_ST(sspx_config_set(cfg, "users_file", users), SEC_E_OK);
    CHECK_ST(sspx_config_set(cfg, "user_file", users), SEC_E_OK);
    CHECK_ST(sspx_cred_acquire("NTLM", SSPX_CRED_INBOUND, cfg, &c), SEC_E_INVALID_PARAMETER);
    CHECK(c == NULL);
    sspx_config_free(&cfg);
    cfg = sspx_config_new();
    CHECK_ST(sspx_config_set(cfg, "users_file", users), SEC_E_OK);
    CHECK_ST(sspx_config_set(cfg, "channel_bindings", "sometimes"), SEC_E_OK);
    CHECK_ST(sspx_cred_acquire("NTLM", SSPX_CRED_INBOUND, cfg, &c), SEC_E_INVALID_PARAMETER);
    sspx_config_free(&cfg);
    cfg = sspx_config_new();
    CHECK_ST(sspx_config_set(cfg, "users_file", users), SEC_E_OK);
    CHECK_ST(sspx_config_set(cfg, "challenge_max_age", "0"), SEC_E_OK);
    CHECK_ST(sspx_cred_acquire("NTLM", SSPX_CRED_INBOUND, cfg, &c), SEC_E_INVALID_PARAMETER);
    sspx_config_free(&cfg);
    /* clients: no identity, empty password */
    CHECK_ST(AcquireCredentialsHandleA(NULL, "NTLM", SECPKG_CRED_OUTBOUND, NULL, NULL, NULL, NULL,
                                       &h, NULL),
             SEC_E_NO_CREDENTIALS);
    CHECK_ST(t_client_cred(&h, "bob", "TESTDOM", ""), SEC_E_NO_CREDENTIALS);
    SEC_WINNT_AUTH_IDENTITY_A id = {0};
    id.User = (unsigned char *)"bob";
    id.UserLength = 3;
    id.Flags = 0; /* neither ANSI nor UNICODE */
    CHECK_ST(AcquireCredentialsHandleA(NULL, "NTLM", SECPKG_CRED_OUTBOUND, NULL, &id, NULL, NULL,
                                       &h, NULL),
             SEC_E_INVALID_PARAMETER);
    /* a server credential cannot start a client context and vice versa */
    sspx_cred *srv = server(NULL, NULL);
    CredHandle sh;
    CtxtHandle ch;
    SecBuffer ob = {0, SECBUFFER_TOKEN, NULL};
    SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
    ULONG attr;
    sspx_cred_handle(srv, &sh);
    CHECK_ST(InitializeSecurityContextA(&sh, NULL, NULL, ISC_REQ_ALLOCATE_MEMORY, 0,
                                        SECURITY_NATIVE_DREP, NULL, 0, &ch, &od, &attr, NULL),
             SEC_E_NO_CREDENTIALS);
    /* TargetDataRep must be NATIVE or NETWORK */
    CredHandle cc;
    CHECK_ST(t_client_cred(&cc, "bob", "TESTDOM", "pw"), SEC_E_OK);
    CHECK_ST(InitializeSecurityContextA(&cc, NULL, NULL, ISC_REQ_ALLOCATE_MEMORY, 0, 0x20, NULL, 0,
                                        &ch, &od, &attr, NULL),
             SEC_E_INVALID_PARAMETER);
    CHECK(strcmp(last_name(), "SSPX_ERR_BAD_DATA_REP") == 0);
    FreeCredentialsHandle(&cc);
    sspx_cred_free(&srv);
}

int main(void)
{
    users = t_users_file("TESTDOM:bob:Passw0rd!\nTESTDOM:nopw:\n*:alice:Secret1\n");
    RUN(wrong_password_unknown_user);
    RUN(tampering);
    RUN(replay);
    RUN(expired_challenge);
    RUN(malformed);
    RUN(curl_style_oem);
    RUN(lm_and_anonymous);
    RUN(acquisition_failures);
    t_users_free(users);
    return t_done();
}
