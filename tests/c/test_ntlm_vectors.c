/*
 * MS-NLMP 4.2 "Cryptographic Values for Validation", reproduced through the
 * real code paths: the spec-named crypto functions, the server's
 * AcceptSecurityContext fed the published AUTHENTICATE messages, the
 * client's InitializeSecurityContext fed the published CHALLENGE (with the
 * random source and clock injected), and DecryptMessage/EncryptMessage on
 * the published sealed data. Values copied from [MS-NLMP] 4.2.2-4.2.4.
 */
#include "fixtures.h"
#include "packages/ntlm/ntlm.h"
#include "wire/ntlm_msg.h"

static uint8_t B[4096];
#define HEX(s) (t_hex((s), B, sizeof(B)), B)

static const char *V1_CHAL = "4e544c4d53535000020000000c000c0038000000338202e20123456789abcdef"
                             "00000000000000000000000000000000060070170000000f5300650072007600"
                             "65007200";
static const char *V1_AUTH =
    "4e544c4d5353500003000000180018006c00000018001800840000000c000c0048000000080008005400000010"
    "0010005c000000100010009c000000358280e20501280a0000000f44006f006d00610069006e00550073006500"
    "720043004f004d005000550054004500520098def7b87f88aa5dafe2df779688a172def11c7d5ccdef1367c430"
    "11f30298a2ad35ece64f16331c44bdbed927841f94518822b1b3f350c8958682ecbb3e3cb7";
static const char *V2_CHAL = "4e544c4d53535000020000000c000c003800000033828ae20123456789abcdef"
                             "00000000000000002400240044000000060070170000000f5300650072007600"
                             "650072000200 0c0044006f006d00610069006e0001000c0053006500720076"
                             "006500720000000000";
static const char *V2_AUTH =
    "4e544c4d5353500003000000180018006c00000054005400840000000c000c0048000000080008005400000010"
    "0010005c00000010001000d8000000358288e20501280a0000000f44006f006d00610069006e00550073006500"
    "720043004f004d005000550054004500520086c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa68cd0a"
    "b851e51c96aabc927bebef6a1c01010000000000000000000000000000aaaaaaaaaaaaaaaa0000000002000c00"
    "44006f006d00610069006e0001000c005300650072007600650072000000000000000000c5dad2544fc9799094"
    "ce1ce90bc9d03e";

static const uint8_t user_u16[] = {'U', 0, 's', 0, 'e', 0, 'r', 0};
static const uint8_t dom_u16[] = {'D', 0, 'o', 0, 'm', 0, 'a', 0, 'i', 0, 'n', 0};
static const uint8_t sc[8] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
static const uint8_t cc[8] = {0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa};
static const uint8_t plaintext[18] = {'P', 0,   'l', 0,   'a', 0,   'i', 0,   'n',
                                      0,   't', 0,   'e', 0,   'x', 0,   't', 0};
static uint8_t random_session_key[16];
static uint64_t clock_now;
static const char *users;

/* 4.2.2.1, 4.2.2.2, 4.2.3, 4.2.4.1, 4.2.4.2: the spec-named functions */
static void crypto_values(void)
{
    uint8_t lm[16], nt[16], sbk[16], out[24], kx[16], ntv2[16], proof[16], k[16];
    size_t kl;
    CHECK_ST(ntlm_LMOWFv1("Password", lm), SEC_E_OK);
    CHECK_MEM(lm, HEX("e52cac67419a9a224a3b108f3fa6cb6d"), 16);
    CHECK_ST(ntlm_NTOWFv1("Password", nt), SEC_E_OK);
    CHECK_MEM(nt, HEX("a4f49c406510bdcab6824ee7c30fd852"), 16);
    CHECK_ST(sspx_md4(nt, 16, sbk), SEC_E_OK);
    CHECK_MEM(sbk, HEX("d87262b0cde4b1cb7499becccdf10784"), 16);
    CHECK_ST(ntlm_DESL(nt, sc, out), SEC_E_OK);
    CHECK_MEM(out, HEX("67c43011f30298a2ad35ece64f16331c44bdbed927841f94"), 24);
    CHECK_ST(ntlm_DESL(lm, sc, out), SEC_E_OK);
    CHECK_MEM(out, HEX("98def7b87f88aa5dafe2df779688a172def11c7d5ccdef13"), 24);
    /* KXKEY variants (3.4.5.1) and EncryptedRandomSessionKey (4.2.2.2.3) */
    uint8_t lmresp[24];
    memcpy(lmresp, HEX("98def7b87f88aa5dafe2df779688a172def11c7d5ccdef13"), 24);
    CHECK_ST(ntlm_KXKEY_v1(NTLMSSP_NEGOTIATE_LM_KEY, sbk, lmresp, lm, sc, kx), SEC_E_OK);
    CHECK_MEM(kx, HEX("b09e379f7fbecb1eaf0afdcb0383c8a0"), 16);
    CHECK_ST(sspx_rc4k(kx, 16, random_session_key, out, 16), SEC_E_OK);
    CHECK_MEM(out, HEX("4cd7bb57d697ef9b549f02b8f9b37864"), 16);
    CHECK_ST(ntlm_KXKEY_v1(NTLMSSP_REQUEST_NON_NT_SESSION_KEY, sbk, lmresp, lm, sc, kx), SEC_E_OK);
    CHECK_MEM(kx, HEX("e52cac67419a9a220000000000000000"), 16);
    CHECK_ST(sspx_rc4k(kx, 16, random_session_key, out, 16), SEC_E_OK);
    CHECK_MEM(out, HEX("7452ca55c225a1ca04b48fae32cf56fc"), 16);
    CHECK_ST(ntlm_KXKEY_v1(0, sbk, lmresp, lm, sc, kx), SEC_E_OK);
    CHECK_ST(sspx_rc4k(kx, 16, random_session_key, out, 16), SEC_E_OK);
    CHECK_MEM(out, HEX("518822b1b3f350c8958682ecbb3e3cb7"), 16);
    /* 4.2.3: NTLMv1 with extended session security */
    uint8_t ess_lm[24] = {0}, h[16], chal[8];
    memcpy(ess_lm, cc, 8);
    sspx_iov v[2] = {{sc, 8}, {cc, 8}};
    CHECK_ST(sspx_md5v(v, 2, h), SEC_E_OK);
    memcpy(chal, h, 8);
    CHECK_ST(ntlm_DESL(nt, chal, out), SEC_E_OK);
    CHECK_MEM(out, HEX("7537f803ae367128ca458204bde7caf81e97ed2683267232"), 24);
    CHECK_ST(ntlm_KXKEY_v1(NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY, sbk, ess_lm, lm, sc, kx),
             SEC_E_OK);
    CHECK_MEM(kx, HEX("eb93429a8bd952f8b89c55b87f475edc"), 16);
    uint32_t f56 = NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY | NTLMSSP_NEGOTIATE_56;
    CHECK_ST(ntlm_SEALKEY(f56, kx, true, k, &kl), SEC_E_OK);
    CHECK_MEM(k, HEX("04dd7f014d8504d265a25cc86a3a7c06"), 16);
    CHECK_ST(ntlm_SIGNKEY(kx, true, k), SEC_E_OK);
    CHECK_MEM(k, HEX("60e799be5c72fc92922ae8ebe961fb8d"), 16);
    /* 4.2.4: NTLMv2 */
    CHECK_ST(ntlm_NTOWFv2(nt, user_u16, sizeof(user_u16), dom_u16, sizeof(dom_u16), ntv2),
             SEC_E_OK);
    CHECK_MEM(ntv2, HEX("0c868a403bfd7a93a3001ef22ef02e3f"), 16);
    uint8_t temp[128];
    size_t tl = t_hex("0101000000000000 0000000000000000 aaaaaaaaaaaaaaaa 00000000"
                      "02000c0044006f006d00610069006e00"
                      "01000c00530065007200760065007200"
                      "00000000 00000000",
                      temp, sizeof(temp));
    CHECK_ST(ntlm_v2_proof(ntv2, sc, temp, tl, proof), SEC_E_OK);
    CHECK_MEM(proof, HEX("68cd0ab851e51c96aabc927bebef6a1c"), 16);
    CHECK_ST(sspx_hmac_md5v(ntv2, 16, v, 2, h), SEC_E_OK);
    CHECK_MEM(h, HEX("86c35097ac9cec102554764a57cccc19"), 16);
    CHECK_ST(sspx_hmac_md5(ntv2, 16, proof, 16, sbk), SEC_E_OK);
    CHECK_MEM(sbk, HEX("8de40ccadbc14a82f15cb0ad0de95ca3"), 16);
    CHECK_ST(sspx_rc4k(sbk, 16, random_session_key, out, 16), SEC_E_OK);
    CHECK_MEM(out, HEX("c5dad2544fc9799094ce1ce90bc9d03e"), 16);
    /* 4.2.4.4 keys, both directions, and the 56/40-bit seal keys */
    uint32_t f128 = NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY | NTLMSSP_NEGOTIATE_128;
    CHECK_ST(ntlm_SEALKEY(f128, random_session_key, true, k, &kl), SEC_E_OK);
    CHECK_MEM(k, HEX("59f600973cc4960a25480a7c196e4c58"), 16);
    CHECK_ST(ntlm_SEALKEY(f128, random_session_key, false, k, &kl), SEC_E_OK);
    CHECK_MEM(k, HEX("9355f3a957c1583d25c4c2f11e40390e"), 16);
    CHECK_ST(ntlm_SIGNKEY(random_session_key, true, k), SEC_E_OK);
    CHECK_MEM(k, HEX("4788dc861b4782f35d43fd98fe1a2d39"), 16);
    CHECK_ST(ntlm_SIGNKEY(random_session_key, false, k), SEC_E_OK);
    CHECK_MEM(k, HEX("d04d6f10741041d1d246d64188d7a8ad"), 16);
    CHECK_ST(ntlm_SEALKEY(f56, random_session_key, true, k, &kl), SEC_E_OK);
    CHECK_MEM(k, HEX("a5f7253c1065e8d3d68642040e71cfe0"), 16);
    CHECK_ST(ntlm_SEALKEY(f56, random_session_key, false, k, &kl), SEC_E_OK);
    CHECK_MEM(k, HEX("583e2f98959b385cd158f3734b5f5d3f"), 16);
    CHECK_ST(
        ntlm_SEALKEY(NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY, random_session_key, true, k, &kl),
        SEC_E_OK);
    CHECK_MEM(k, HEX("42f964a471091a02ff4a77455366e4e5"), 16);
    CHECK_ST(
        ntlm_SEALKEY(NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY, random_session_key, false, k, &kl),
        SEC_E_OK);
    CHECK_MEM(k, HEX("c5d3853b406b7c1241c595f0ce0750e2"), 16);
    /* 4.2.2.4 prints CRC32 as its little-endian bytes 7d84aa93 */
    CHECK(sspx_crc32(0, plaintext, sizeof(plaintext)) == 0x93aa847du);
}

/* Server: NEGOTIATE asking for `flags`, the server challenge injected. */
static SECURITY_STATUS server_first_leg(CredHandle *cred, CtxtHandle *ctx, uint32_t flags,
                                        t_rng *rng)
{
    uint8_t neg[64], chal[1024];
    size_t nl =
        ntlm_encode_negotiate(neg, sizeof(neg), flags, (ntlm_bytes){NULL, 0}, (ntlm_bytes){NULL, 0},
                              (const uint8_t *)"\x05\x01\x28\x0a\0\0\0\x0f");
    SecBuffer ib = {(ULONG)nl, SECBUFFER_TOKEN, neg}, ob = {sizeof(chal), SECBUFFER_TOKEN, chal};
    SecBufferDesc id = {SECBUFFER_VERSION, 1, &ib}, od = {SECBUFFER_VERSION, 1, &ob};
    ULONG attr;
    rng->pos = 0;
    sspx_test_set_rng(t_rng_fn, rng);
    SECURITY_STATUS st = AcceptSecurityContext(cred, NULL, &id, ASC_REQ_CONFIDENTIALITY,
                                               SECURITY_NATIVE_DREP, ctx, &od, &attr, NULL);
    sspx_test_set_rng(NULL, NULL);
    return st;
}

static SECURITY_STATUS server_auth_leg(CredHandle *cred, CtxtHandle *ctx, const uint8_t *auth,
                                       size_t len)
{
    SecBuffer ib = {(ULONG)len, SECBUFFER_TOKEN, (void *)auth}, ob = {0, SECBUFFER_TOKEN, NULL};
    SecBufferDesc id = {SECBUFFER_VERSION, 1, &ib}, od = {SECBUFFER_VERSION, 1, &ob};
    ULONG attr;
    return AcceptSecurityContext(cred, ctx, &id, ASC_REQ_CONFIDENTIALITY, SECURITY_NATIVE_DREP, ctx,
                                 &od, &attr, NULL);
}

static void check_session_key(CtxtHandle *ctx, const uint8_t *want)
{
    SecPkgContext_SessionKey sk;
    CHECK_ST(QueryContextAttributesA(ctx, SECPKG_ATTR_SESSION_KEY, &sk), SEC_E_OK);
    CHECK(sk.SessionKeyLength == 16);
    CHECK_MEM(sk.SessionKey, want, 16);
    FreeContextBuffer(sk.SessionKey);
}

/* DecryptMessage of published sealed data + signature gives U("Plaintext") */
static void check_unseal(CtxtHandle *ctx, const char *sealed_hex, const char *sig_hex)
{
    uint8_t data[18], sig[16];
    t_hex(sealed_hex, data, sizeof(data));
    t_hex(sig_hex, sig, sizeof(sig));
    SecBuffer b[2] = {{16, SECBUFFER_TOKEN, sig}, {18, SECBUFFER_DATA, data}};
    SecBufferDesc d = {SECBUFFER_VERSION, 2, b};
    ULONG qop;
    CHECK_ST(DecryptMessage(ctx, &d, 0, &qop), SEC_E_OK);
    CHECK_MEM(data, plaintext, 18);
}

static void server_ntlmv1(void)
{
    CredHandle cred;
    CtxtHandle ctx;
    uint8_t auth[512];
    size_t al = t_hex(V1_AUTH, auth, sizeof(auth));
    t_rng rng = {sc, 8, 0};
    CHECK_ST(t_server_cred(&cred, users, 0, SSPX_CBT_WHEN_SUPPLIED), SEC_E_OK);
    /* refused unless enabled */
    CHECK_ST(server_first_leg(&cred, &ctx, 0xe2008235u, &rng), SEC_I_CONTINUE_NEEDED);
    CHECK_ST(server_auth_leg(&cred, &ctx, auth, al), SEC_E_LOGON_DENIED);
    CHECK(sspx_last_error().code > 0 &&
          strcmp(sspx_last_error().name, "SSPX_ERR_NTLM_V1_REFUSED") == 0);
    DeleteSecurityContext(&ctx);
    FreeCredentialsHandle(&cred);

    CHECK_ST(t_server_cred(&cred, users, SSPX_AUTH_ALLOW_NTLMV1, SSPX_CBT_WHEN_SUPPLIED), SEC_E_OK);
    CHECK_ST(server_first_leg(&cred, &ctx, 0xe2008235u, &rng), SEC_I_CONTINUE_NEEDED);
    CHECK_ST(server_auth_leg(&cred, &ctx, auth, al), SEC_E_OK);
    check_session_key(&ctx, random_session_key);
    /* 4.2.2.4 from our side: without ESS both directions use the same key,
     * so the server's first sealed message is the published one */
    {
        uint8_t data[18], sig[16];
        memcpy(data, plaintext, 18);
        SecBuffer b[2] = {{16, SECBUFFER_TOKEN, sig}, {18, SECBUFFER_DATA, data}};
        SecBufferDesc d = {SECBUFFER_VERSION, 2, b};
        CHECK_ST(EncryptMessage(&ctx, 0, &d, 0), SEC_E_OK);
        CHECK_MEM(data, HEX("56fe04d861f9319af0d7238a2e3b4d457fb8"), 18);
        CHECK_MEM(sig, HEX("01000000 00000000 09dcd1df 2e459d36"), 16);
    }
    /* 4.2.2.4: no ESS, one RC4 stream for data then signature, RandomPad 0 */
    check_unseal(&ctx, "56fe04d861f9319af0d7238a2e3b4d457fb8",
                 "01000000 00000000 09dcd1df 2e459d36");
    DeleteSecurityContext(&ctx);
    FreeCredentialsHandle(&cred);
}

static void server_ntlmv1_ess(void)
{
    CredHandle cred;
    CtxtHandle ctx;
    uint8_t auth[512], lm[24] = {0}, nt[24];
    static const uint8_t ver[8] = {5, 1, 0x28, 0x0a, 0, 0, 0, 15};
    t_rng rng = {sc, 8, 0};
    uint32_t f = NTLMSSP_NEGOTIATE_56 | NTLMSSP_NEGOTIATE_VERSION |
                 NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY | NTLMSSP_NEGOTIATE_ALWAYS_SIGN |
                 NTLMSSP_NEGOTIATE_NTLM | NTLMSSP_NEGOTIATE_SEAL | NTLMSSP_NEGOTIATE_SIGN |
                 NTLMSSP_NEGOTIATE_UNICODE;
    memcpy(lm, cc, 8);
    t_hex("7537f803ae367128ca458204bde7caf81e97ed2683267232", nt, 24);
    size_t al = ntlm_encode_authenticate(
        auth, sizeof(auth), f, (ntlm_bytes){lm, 24}, (ntlm_bytes){nt, 24},
        (ntlm_bytes){dom_u16, sizeof(dom_u16)}, (ntlm_bytes){user_u16, sizeof(user_u16)},
        (ntlm_bytes){NULL, 0}, (ntlm_bytes){NULL, 0}, ver, false, NULL);
    CHECK(al > 0);
    CHECK_ST(t_server_cred(&cred, users, SSPX_AUTH_ALLOW_NTLMV1, SSPX_CBT_WHEN_SUPPLIED), SEC_E_OK);
    CHECK_ST(server_first_leg(&cred, &ctx, f, &rng), SEC_I_CONTINUE_NEEDED);
    CHECK_ST(server_auth_leg(&cred, &ctx, auth, al), SEC_E_OK);
    check_session_key(&ctx, HEX("eb93429a8bd952f8b89c55b87f475edc"));
    /* 4.2.3.4: 56-bit seal key, checksum not RC4'd (no KEY_EXCH) */
    check_unseal(&ctx, "a02372f6530273f3aa1eb90190ce5200c99d",
                 "01000000 ff2aeb52f681793a 00000000");
    DeleteSecurityContext(&ctx);
    FreeCredentialsHandle(&cred);
}

static void server_ntlmv2(void)
{
    CredHandle cred;
    CtxtHandle ctx;
    uint8_t auth[512];
    size_t al = t_hex(V2_AUTH, auth, sizeof(auth));
    t_rng rng = {sc, 8, 0};
    CHECK(al == 0xe8);
    CHECK_ST(t_server_cred(&cred, users, 0, SSPX_CBT_WHEN_SUPPLIED), SEC_E_OK);
    CHECK_ST(server_first_leg(&cred, &ctx, 0xe2888235u, &rng), SEC_I_CONTINUE_NEEDED);
    CHECK_ST(server_auth_leg(&cred, &ctx, auth, al), SEC_E_OK);
    check_session_key(&ctx, random_session_key);
    SecPkgContext_NamesA n;
    CHECK_ST(QueryContextAttributesA(&ctx, SECPKG_ATTR_NAMES, &n), SEC_E_OK);
    CHECK(strcmp(n.sUserName, "Domain\\User") == 0);
    FreeContextBuffer(n.sUserName);
    /* 4.2.4.4: client-to-server sealing, KEY_EXCH: checksum RC4'd */
    check_unseal(&ctx, "54e50165bf1936dc996020c1811b0f06fb5f",
                 "01000000 7fb38ec5c55d4976 00000000");
    DeleteSecurityContext(&ctx);
    FreeCredentialsHandle(&cred);
}

/* Client: the published CHALLENGE in, the published AUTHENTICATE out. */
static void client_ntlmv2(void)
{
    sspx_config *cfg = sspx_config_new();
    sspx_cred *cred = NULL;
    sspx_ctx *ctx = NULL;
    sspx_buf neg = {0}, auth = {0}, wrapped = {0};
    uint8_t chal[256], want[512], script[24];
    size_t cl = t_hex(V2_CHAL, chal, sizeof(chal)), wl = t_hex(V2_AUTH, want, sizeof(want));
    sspx_ctx_params p = {ISC_REQ_CONFIDENTIALITY | ISC_REQ_INTEGRITY, NULL, NULL, 0};
    t_rng rng = {script, 24, 0};
    memcpy(script, cc, 8);
    memcpy(script + 8, random_session_key, 16);
    CHECK_ST(sspx_config_set(cfg, "user", "User"), SEC_E_OK);
    CHECK_ST(sspx_config_set(cfg, "domain", "Domain"), SEC_E_OK);
    CHECK_ST(sspx_config_set(cfg, "password", "Password"), SEC_E_OK);
    CHECK_ST(sspx_config_set(cfg, "workstation", "COMPUTER"), SEC_E_OK);
    CHECK_ST(sspx_cred_acquire("NTLM", SSPX_CRED_OUTBOUND, cfg, &cred), SEC_E_OK);
    CHECK_ST(sspx_ctx_new(cred, &p, &ctx), SEC_E_OK);
    CHECK_ST(sspx_ctx_step(ctx, NULL, 0, &neg), SEC_I_CONTINUE_NEEDED);
    clock_now = 0; /* the CHALLENGE has no MsvAvTimestamp: the client's clock is used */
    sspx_test_set_clock(t_clock_fn, &clock_now);
    sspx_test_set_rng(t_rng_fn, &rng);
    CHECK_ST(sspx_ctx_step(ctx, chal, cl, &auth), SEC_E_OK);
    sspx_test_set_rng(NULL, NULL);
    sspx_test_set_clock(NULL, NULL);
    CHECK(auth.len == wl);
    if (auth.len == wl) {
        memcpy(auth.data + 64, want + 64, 8); /* our Version field differs (10.0 vs 5.1) */
        CHECK_MEM(auth.data, want, wl);
    }
    /* 4.2.4.4: the client seals U("Plaintext") as published */
    CHECK_ST(sspx_ctx_wrap(ctx, plaintext, sizeof(plaintext), &wrapped), SEC_E_OK);
    CHECK(wrapped.len == 16 + 18);
    if (wrapped.len == 34) {
        CHECK_MEM(wrapped.data, HEX("010000007fb38ec5c55d497600000000"), 16);
        CHECK_MEM(wrapped.data + 16, HEX("54e50165bf1936dc996020c1811b0f06fb5f"), 18);
    }
    sspx_buf_free(&neg);
    sspx_buf_free(&auth);
    sspx_buf_free(&wrapped);
    sspx_ctx_free(&ctx);
    sspx_cred_free(&cred);
    sspx_config_free(&cfg);
}

/* The published v1 CHALLENGE decodes to what 4.2.2.3 lists. */
static void decode_published(void)
{
    ntlm_challenge ch;
    ntlm_authenticate a;
    uint8_t m[512];
    size_t n = t_hex(V1_CHAL, m, sizeof(m));
    CHECK_ST(ntlm_decode_challenge(m, n, &ch), SEC_E_OK);
    CHECK(ch.flags == 0xe2028233u);
    CHECK_MEM(ch.server_challenge, sc, 8);
    CHECK(ch.target_name.len == 12);
    n = t_hex(V1_AUTH, m, sizeof(m));
    CHECK_ST(ntlm_decode_authenticate(m, n, &a), SEC_E_OK);
    CHECK(a.lm.len == 24 && a.nt.len == 24 && a.enc_key.len == 16);
    CHECK(!a.has_mic && a.has_version);
}

int main(void)
{
    memset(random_session_key, 0x55, 16);
    users = t_users_file("Domain:User:Password\n");
    RUN(crypto_values);
    RUN(decode_published);
    RUN(server_ntlmv1);
    RUN(server_ntlmv1_ess);
    RUN(server_ntlmv2);
    RUN(client_ntlmv2);
    t_users_free(users);
    return t_done();
}
