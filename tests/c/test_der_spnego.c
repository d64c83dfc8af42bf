/*
 * The DER reader/writer (csrc/wire/der.c) and the SPNEGO message codec
 * (csrc/wire/spnego_msg.c): DER edge cases, real Samba tokens, round trips
 * of every message form, the first-token sniffer and the descriptions.
 *
 * The real tokens were captured once from Samba 4's ntlm_auth (the test does
 * not run it): `ntlm_auth --helper-protocol=gss-spnego-client --username=bob
 * --domain=TESTDOM` answering `YR` (NegTokenInit) and the server's `TT`
 * (`--helper-protocol=gss-spnego`, NegTokenResp with a CHALLENGE), then the
 * client's `KK` to that TT (NegTokenResp with the AUTHENTICATE).
 */
#include "test.h"

#include "core/core.h"
#include "sspx/sspx.h"
#include "wire/der.h"
#include "wire/ntlm_msg.h"
#include "wire/spnego_msg.h"

/* ntlm_auth gss-spnego-client, YR */
static const char *SAMBA_INIT =
    "604806062b0601050502a03e303ca00e300c060a2b06010401823702020aa22a04284e544c4d5353500001000000"
    "0582086200000000280000000000000028000000060100000000000f";
/* ntlm_auth gss-spnego (server), TT: accept-incomplete, NTLMSSP, CHALLENGE */
static const char *SAMBA_RESP =
    "a18181307fa0030a0101a10c060a2b06010401823702020aa26a04684e544c4d535350000200000004000400380000"
    "0005828a62af9a992e4776065d00000000000000002c002c003c000000060100000000000f56004d00020004005600"
    "4d000100040056004d00040000000300040076006d000700080008185b7e527add0100000000";
/* ntlm_auth gss-spnego-client, KK: responseToken only (AUTHENTICATE), long-form lengths */
static const char *SAMBA_AUTH =
    "a18201403082013ca2820138048201344e544c4d53535000030000001800180058000000a000a00070000000"
    "0e000e0010010000060006001e0100000000000024010000100010002401000005820862060100000000000faac750"
    "04ee1161d2151d60d0bca6b346000000000000000000000000000000000000000000000000baa1408b9b85728d8901"
    "48d6b9d35715010100000000000008185b7e527add0158c41a90f2b516d1000000000200040056004d000100040056"
    "004d00040000000300040076006d000700080008185b7e527add01080030003000000000000000000000000000000"
    "0cd2209810fbfa99430b9b693ff8d7461320d8cdd13d8ea63cd07cf9a93fef37f0a00100000000000000000000000"
    "00000000000000000000540045005300540044004f004d0062006f006200f5b6b36062cf79b877669fabe03e25b4";
/* the server's final accept-completed */
static const char *ACCEPT_COMPLETED = "a107 3005 a003 0a01 00";

static uint8_t B[8192];
static size_t BL;
#define HEX(s) (BL = t_hex((s), B, sizeof(B)), B)

#define CHECK_ERR(expr, err)                                                  \
    do {                                                                      \
        CHECK_ST((expr), SEC_E_INVALID_TOKEN);                                \
        t_checks++;                                                           \
        if (sspx_last_error().code != (err)) {                                \
            t_failures++;                                                     \
            fprintf(stderr, "%s:%d: error %s, want %s\n", __FILE__, __LINE__, \
                    sspx_last_error().name, #err);                            \
        }                                                                     \
    } while (0)

static const spnego_bytes MECH_NTLM = {(const uint8_t *)SPNEGO_OID_NTLMSSP,
                                       SPNEGO_OID_LEN(SPNEGO_OID_NTLMSSP)};
static const spnego_bytes MECH_KRB5 = {(const uint8_t *)SPNEGO_OID_KRB5,
                                       SPNEGO_OID_LEN(SPNEGO_OID_KRB5)};
static const spnego_bytes MECH_MSKRB5 = {(const uint8_t *)SPNEGO_OID_MS_KRB5,
                                         SPNEGO_OID_LEN(SPNEGO_OID_MS_KRB5)};
static const spnego_bytes MECH_NEGOEX = {(const uint8_t *)SPNEGO_OID_NEGOEX,
                                         SPNEGO_OID_LEN(SPNEGO_OID_NEGOEX)};

static sspx_status read_one(const char *hex, der_tlv *t)
{
    der_rd d;
    HEX(hex);
    der_rd_init(&d, B, BL);
    GUARD(der_read(&d, t));
    return der_finish(&d);
}

/* ------------------------------------------------------------ DER reader */

static void der_lengths(void)
{
    der_tlv t;
    static uint8_t big[70000];
    der_rd d;

    CHECK_ST(read_one("0400", &t), SEC_E_OK);
    CHECK(t.len == 0 && t.hdr_len == 2 && t.tag == 4 && t.cls == DER_UNIVERSAL && !t.constructed);
    CHECK_ST(read_one("0403 010203", &t), SEC_E_OK);
    CHECK(t.len == 3 && t.p[2] == 3);
    /* long form: 128 and 256 and 65536 bytes */
    big[0] = 0x04;
    big[1] = 0x81;
    big[2] = 0x80;
    der_rd_init(&d, big, 3 + 128);
    CHECK_ST(der_read(&d, &t), SEC_E_OK);
    CHECK(t.len == 128 && t.hdr_len == 3 && der_rd_done(&d));
    big[1] = 0x82;
    big[2] = 0x01;
    big[3] = 0x00;
    der_rd_init(&d, big, 4 + 256);
    CHECK_ST(der_read(&d, &t), SEC_E_OK);
    CHECK(t.len == 256 && t.hdr_len == 4);
    big[1] = 0x83;
    big[2] = 0x01;
    big[3] = 0x00;
    big[4] = 0x00;
    der_rd_init(&d, big, 5 + 65536);
    CHECK_ST(der_read(&d, &t), SEC_E_OK);
    CHECK(t.len == 65536 && t.hdr_len == 5);
    der_rd_init(&d, big, 5 + 65535);
    CHECK_ERR(der_read(&d, &t), SSPX_ERR_DER_TRUNCATED);

    /* non-minimal lengths */
    CHECK_ERR(read_one("0481 05 0102030405", &t), SSPX_ERR_DER_BAD_LENGTH);
    CHECK_ERR(read_one("0481 7f", &t), SSPX_ERR_DER_BAD_LENGTH);
    CHECK_ERR(read_one("0482 0080", &t), SSPX_ERR_DER_BAD_LENGTH);
    CHECK_ERR(read_one("0482 0005 0102030405", &t), SSPX_ERR_DER_BAD_LENGTH);
    /* indefinite, reserved, too many length octets */
    CHECK_ERR(read_one("3080 0400 0000", &t), SSPX_ERR_DER_INDEFINITE_LENGTH);
    CHECK_ERR(read_one("04ff", &t), SSPX_ERR_DER_BAD_LENGTH);
    CHECK_ERR(read_one("0485 0100000000", &t), SSPX_ERR_DER_BAD_LENGTH);
    /* truncated, and lengths that would overflow a naive pos + len */
    CHECK_ERR(read_one("0405 01020304", &t), SSPX_ERR_DER_TRUNCATED);
    CHECK_ERR(read_one("0484 ffffffff 00", &t), SSPX_ERR_DER_TRUNCATED);
    CHECK_ERR(read_one("0484 fffffffe", &t), SSPX_ERR_DER_TRUNCATED);
    CHECK_ERR(read_one("0482 01", &t), SSPX_ERR_DER_TRUNCATED);
    CHECK_ERR(read_one("04", &t), SSPX_ERR_DER_TRUNCATED);
    CHECK_ERR(read_one("", &t), SSPX_ERR_DER_TRUNCATED);
    /* trailing bytes */
    CHECK_ERR(read_one("0400 00", &t), SSPX_ERR_DER_TRAILING);
}

static void der_tags(void)
{
    der_tlv t;
    CHECK_ST(read_one("9f1f 00", &t), SEC_E_OK);
    CHECK(t.cls == DER_CONTEXT && !t.constructed && t.tag == 31 && t.hdr_len == 3);
    CHECK_ST(read_one("bf8100 00", &t), SEC_E_OK);
    CHECK(t.cls == DER_CONTEXT && t.constructed && t.tag == 128);
    CHECK_ST(read_one("5f8fffffff7f 00", &t), SEC_E_OK);
    CHECK(t.cls == DER_APPLICATION && t.tag == UINT32_MAX);
    CHECK_ERR(read_one("5f908080807f 00", &t), SSPX_ERR_DER_BAD_TAG); /* > 32 bits */
    CHECK_ERR(read_one("5f80808080808001 00", &t), SSPX_ERR_DER_BAD_TAG);
    CHECK_ERR(read_one("9f8001 00", &t), SSPX_ERR_DER_BAD_TAG); /* leading 0x80 */
    CHECK_ERR(read_one("9f1e 00", &t), SSPX_ERR_DER_BAD_TAG);   /* 30 fits the low form */
    CHECK_ERR(read_one("9f00 00", &t), SSPX_ERR_DER_BAD_TAG);
    CHECK_ERR(read_one("9f81", &t), SSPX_ERR_DER_TRUNCATED);
    CHECK_ERR(read_one("9f", &t), SSPX_ERR_DER_TRUNCATED);
    /* private class, constructed */
    CHECK_ST(read_one("e203 020101", &t), SEC_E_OK);
    CHECK(t.cls == DER_PRIVATE && t.constructed && t.tag == 2 && t.len == 3);

    /* der_expect / der_next_is */
    der_rd d, sub;
    HEX("a003 020105 0500");
    der_rd_init(&d, B, BL);
    CHECK(der_next_is(&d, DER_CONTEXT, true, 0));
    CHECK(!der_next_is(&d, DER_CONTEXT, false, 0));
    CHECK(!der_next_is(&d, DER_CONTEXT, true, 1));
    int64_t v = 0;
    CHECK_ST(der_enter_explicit(&d, 0, &sub), SEC_E_OK);
    CHECK(sub.depth == 1 && sub.base == 2);
    CHECK_ST(der_read_int64(&sub, &v), SEC_E_OK);
    CHECK(v == 5 && der_rd_done(&sub));
    CHECK_ERR(der_read_int64(&d, &v), SSPX_ERR_DER_UNEXPECTED_TAG);
    HEX("0400");
    der_rd_init(&d, B, BL);
    CHECK_ERR(der_enter_seq(&d, &sub, &t), SSPX_ERR_DER_UNEXPECTED_TAG);
    HEX("2400"); /* constructed OCTET STRING: not entered as a SEQUENCE, not read as octets */
    der_rd_init(&d, B, BL);
    CHECK_ERR(der_read_octets(&d, &t), SSPX_ERR_DER_UNEXPECTED_TAG);
}

/* `levels` SEQUENCEs inside each other around a NULL. */
static size_t nest(uint8_t *out, int levels)
{
    size_t n = 2;
    /* build inside out at the end of a scratch buffer */
    uint8_t tmp[256];
    size_t at = sizeof(tmp) - 2;
    tmp[at] = 0x05;
    tmp[at + 1] = 0x00;
    for (int i = 0; i < levels; i++) {
        tmp[--at] = (uint8_t)n;
        tmp[--at] = 0x30;
        n += 2;
    }
    memcpy(out, tmp + at, n);
    return n;
}

static void der_depth(void)
{
    uint8_t buf[256];
    size_t n, count = 0;
    n = nest(buf, DER_MAX_DEPTH);
    CHECK_ST(der_validate(buf, n, &count), SEC_E_OK);
    CHECK(count == DER_MAX_DEPTH + 1);
    n = nest(buf, DER_MAX_DEPTH + 1);
    CHECK_ERR(der_validate(buf, n, &count), SSPX_ERR_DER_TOO_DEEP);
    n = nest(buf, 60);
    CHECK_ERR(der_validate(buf, n, &count), SSPX_ERR_DER_TOO_DEEP);
    /* every prefix of a nested value is refused, the whole one accepted */
    n = nest(buf, 5);
    for (size_t i = 0; i < n; i++)
        CHECK(der_validate(buf, i, NULL) < 0 || i == 0);
    /* one inner length too long for its container */
    buf[3] = (uint8_t)(buf[3] + 1);
    CHECK_ERR(der_validate(buf, n, NULL), SSPX_ERR_DER_TRUNCATED);
    HEX(SAMBA_INIT);
    /* the real tokens are well-formed DER */
    CHECK_ST(der_validate(B, BL, &count), SEC_E_OK);
    CHECK(count == 9);
    HEX(SAMBA_RESP);
    CHECK_ST(der_validate(B, BL, NULL), SEC_E_OK);
    HEX(SAMBA_AUTH);
    CHECK_ST(der_validate(B, BL, NULL), SEC_E_OK);
}

static void der_integers(void)
{
    der_tlv t;
    int64_t v;
    static const struct {
        const char *hex;
        int64_t v;
    } ok[] = {
        {"020100", 0},
        {"02017f", 127},
        {"02020080", 128},
        {"020180", -128},
        {"0202ff7f", -129},
        {"0201ff", -1},
        {"02087fffffffffffffff", INT64_MAX},
        {"02088000000000000000", INT64_MIN},
        {"0a0103", 3},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        CHECK_ST(read_one(ok[i].hex, &t), SEC_E_OK);
        CHECK_ST(der_get_int64(&t, &v), SEC_E_OK);
        CHECK(v == ok[i].v);
        /* the writer gives the same bytes */
        uint8_t out[16];
        sspx_wr w;
        sspx_wr_init(&w, out, sizeof(out));
        if (ok[i].hex[1] == 'a')
            der_wr_enum(&w, ok[i].v);
        else
            der_wr_int64(&w, ok[i].v);
        CHECK(!w.overflow && w.pos == BL);
        CHECK_MEM(out, B, BL);
    }
    static const char *const bad[] = {"0200", "0202007f", "0202ff80", "0209008000000000000000",
                                      "020900ffffffffffffffff"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_ST(read_one(bad[i], &t), SEC_E_OK);
        CHECK_ERR(der_get_int64(&t, &v), SSPX_ERR_DER_BAD_INTEGER);
    }
    der_rd d;
    HEX("0a0101");
    der_rd_init(&d, B, BL);
    CHECK_ERR(der_read_int64(&d, &v), SSPX_ERR_DER_UNEXPECTED_TAG);
    der_rd_init(&d, B, BL);
    CHECK_ST(der_read_enum(&d, &v), SEC_E_OK);
    CHECK(v == 1);
}

static void der_bits_and_strings(void)
{
    der_tlv t;
    der_rd d;
    unsigned unused;
    const uint8_t *bits;
    size_t n;
    CHECK_ST(read_one("030100", &t), SEC_E_OK);
    CHECK_ST(der_get_bit_string(&t, &unused, &bits, &n), SEC_E_OK);
    CHECK(n == 0 && unused == 0 && der_bits_to_flags(bits, n, unused) == 0);
    CHECK_ST(read_one("03020160", &t), SEC_E_OK); /* mutual, replay: 011 + padding */
    CHECK_ST(der_get_bit_string(&t, &unused, &bits, &n), SEC_E_OK);
    CHECK(unused == 1 && n == 1 && der_bits_to_flags(bits, n, unused) == 0x06);
    CHECK_ST(read_one("030201fe", &t), SEC_E_OK);
    CHECK_ST(der_get_bit_string(&t, &unused, &bits, &n), SEC_E_OK);
    CHECK(der_bits_to_flags(bits, n, unused) == 0x7f);
    static const char *const bad[] = {"0300", "030101", "03020800", "03020101", "03020703"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_ST(read_one(bad[i], &t), SEC_E_OK);
        CHECK_ERR(der_get_bit_string(&t, &unused, &bits, &n), SSPX_ERR_DER_BAD_BIT_STRING);
    }
    /* named bits writer: trailing zero bits dropped */
    uint8_t out[16];
    sspx_wr w;
    sspx_wr_init(&w, out, sizeof(out));
    der_wr_named_bits(&w, SPNEGO_FLAG_MUTUAL | SPNEGO_FLAG_REPLAY);
    der_wr_named_bits(&w, 0);
    der_wr_named_bits(&w, SPNEGO_FLAG_INTEG | SPNEGO_FLAG_DELEG);
    der_wr_named_bits(&w, 1u << 8);
    HEX("03020560 030100 03020182 0303070080");
    CHECK(!w.overflow && w.pos == BL);
    CHECK_MEM(out, B, BL);

    /* GeneralString and UTF8String views, not IA5String */
    HEX("1b03616263 0c02c3a9 1603616263");
    der_rd_init(&d, B, BL);
    CHECK_ST(der_read_string(&d, &t), SEC_E_OK);
    CHECK(t.len == 3 && memcmp(t.p, "abc", 3) == 0 && t.off == 0);
    CHECK_ST(der_read_string(&d, &t), SEC_E_OK);
    CHECK(t.len == 2 && t.off == 5);
    CHECK_ERR(der_read_string(&d, &t), SSPX_ERR_DER_UNEXPECTED_TAG);
}

static void der_oids(void)
{
    static const struct {
        const char *der, *dotted;
    } known[] = {
        {SPNEGO_OID_SPNEGO, "1.3.6.1.5.5.2"},
        {SPNEGO_OID_KRB5, "1.2.840.113554.1.2.2"},
        {SPNEGO_OID_MS_KRB5, "1.2.840.48018.1.2.2"},
        {SPNEGO_OID_NTLMSSP, "1.3.6.1.4.1.311.2.2.10"},
        {SPNEGO_OID_NEGOEX, "1.3.6.1.4.1.311.2.2.30"},
    };
    char txt[128];
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        der_rd d;
        der_oid o;
        size_t l = 2u + (uint8_t)known[i].der[1];
        der_rd_init(&d, (const uint8_t *)known[i].der, l);
        CHECK_ST(der_read_oid(&d, &o), SEC_E_OK);
        CHECK(der_oid_format(o.p, o.len, txt, sizeof(txt)));
        CHECK(strcmp(txt, known[i].dotted) == 0);
        CHECK(der_oid_eq(&o, (const uint8_t *)known[i].der, l));
        CHECK(spnego_mech_name(&o) != NULL);
        CHECK(o.der_len == l && o.off == 0);
    }
    CHECK(der_oid_format((const uint8_t *)"\x88\x37", 2, txt, sizeof(txt)));
    CHECK(strcmp(txt, "2.999") == 0);
    CHECK(der_oid_format((const uint8_t *)"\x00", 1, txt, sizeof(txt)));
    CHECK(strcmp(txt, "0.0") == 0);
    CHECK(!der_oid_format((const uint8_t *)"\x2b\x06\x01", 3, txt, 5)); /* too small */
    /* an arc above 64 bits: valid DER, not formatted */
    CHECK(!der_oid_format((const uint8_t *)"\x2b\x82\x80\x80\x80\x80\x80\x80\x80\x80\x00", 11, txt,
                          sizeof(txt)));
    der_tlv t;
    der_oid o;
    static const char *const bad[] = {"0600", "06022b80", "0602802b", "06032b8001"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_ST(read_one(bad[i], &t), SEC_E_OK);
        CHECK_ERR(der_get_oid(&t, &o), SSPX_ERR_DER_BAD_OID);
    }
    CHECK_ST(read_one("06022a03", &t), SEC_E_OK);
    CHECK_ST(der_get_oid(&t, &o), SEC_E_OK);
    CHECK(spnego_mech_name(&o) == NULL);
    CHECK(!der_oid_eq(&o, (const uint8_t *)SPNEGO_OID_SPNEGO, SPNEGO_OID_LEN(SPNEGO_OID_SPNEGO)));
}

/* ------------------------------------------------------------ DER writer */

static void der_writer(void)
{
    static uint8_t out[70100], content[70000];
    static const size_t sizes[] = {0, 1, 127, 128, 255, 256, 65535, 65536};
    static const size_t hdr[] = {2, 2, 2, 3, 3, 4, 4, 5};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        sspx_wr w;
        der_rd d, sub;
        der_tlv t;
        memset(content, (int)i + 1, sizes[i]);
        sspx_wr_init(&w, out, sizeof(out));
        size_t m = der_wr_begin(&w, DER_UNIVERSAL, true, DER_TAG_SEQUENCE);
        size_t m2 = der_wr_begin(&w, DER_CONTEXT, true, 200); /* high tag: 2 octets */
        der_wr_octets(&w, content, sizes[i]);
        der_wr_end(&w, m2);
        der_wr_end(&w, m);
        CHECK(!w.overflow);
        der_rd_init(&d, out, w.pos);
        CHECK_ST(der_enter_seq(&d, &sub, &t), SEC_E_OK);
        CHECK_ST(der_finish(&d), SEC_E_OK);
        CHECK(t.len == w.pos - t.hdr_len);
        der_rd e;
        CHECK_ST(der_peek(&sub, &t), SEC_E_OK);
        CHECK(t.tag == 200 && t.cls == DER_CONTEXT && t.constructed);
        CHECK_ST(der_enter_explicit(&sub, 200, &e), SEC_E_OK);
        CHECK_ST(der_read_octets(&e, &t), SEC_E_OK);
        CHECK(t.len == sizes[i] && t.hdr_len == hdr[i]);
        CHECK(sizes[i] == 0 || memcmp(t.p, content, sizes[i]) == 0);
        CHECK(t.off == (size_t)(t.p - out) - t.hdr_len);
        CHECK_ST(der_validate(out, w.pos, NULL), SEC_E_OK);
    }
    /* overflow is sticky and caught at the end, at every capacity */
    uint8_t small[64];
    for (size_t cap = 0; cap < 16; cap++) {
        sspx_wr w;
        sspx_wr_init(&w, small, cap);
        size_t m = der_wr_begin(&w, DER_UNIVERSAL, true, DER_TAG_SEQUENCE);
        der_wr_int64(&w, 1000);
        der_wr_octets(&w, "abcdef", 6);
        der_wr_end(&w, m);
        CHECK(w.overflow == (cap < 14));
    }
    /* the long-form move needs room too */
    {
        sspx_wr w;
        sspx_wr_init(&w, out, 2 + 128);
        size_t m = der_wr_begin(&w, DER_UNIVERSAL, false, DER_TAG_OCTET_STRING);
        sspx_wr_zeros(&w, 128);
        CHECK(!w.overflow);
        der_wr_end(&w, m);
        CHECK(w.overflow);
    }
    /* GSS framing */
    uint8_t g[64];
    size_t n = gss_encode_framing(g, sizeof(g), (const uint8_t *)SPNEGO_OID_KRB5,
                                  SPNEGO_OID_LEN(SPNEGO_OID_KRB5), "\x01\x00\x6e\x00", 4);
    HEX("600f 06092a864886f712010202 01006e00");
    CHECK(n == BL);
    CHECK_MEM(g, B, BL);
    gss_framed f;
    CHECK_ST(gss_decode_framing(g, n, &f), SEC_E_OK);
    CHECK(der_oid_eq(&f.mech, (const uint8_t *)SPNEGO_OID_KRB5, SPNEGO_OID_LEN(SPNEGO_OID_KRB5)));
    CHECK(f.inner_len == 4 && f.inner == g + 13 && f.inner_off == 13);
    CHECK(gss_encode_framing(g, 16, (const uint8_t *)SPNEGO_OID_KRB5,
                             SPNEGO_OID_LEN(SPNEGO_OID_KRB5), "\x01\x00\x6e\x00", 4) == 0);
    g[n] = 0;
    CHECK_ERR(gss_decode_framing(g, n + 1, &f), SSPX_ERR_DER_TRAILING);
    CHECK_ERR(gss_decode_framing(g + 1, n - 1, &f), SSPX_ERR_DER_GSS_FRAMING);
    HEX("6003 040100");
    CHECK_ERR(gss_decode_framing(B, BL, &f), SSPX_ERR_DER_GSS_FRAMING);
    HEX("6000");
    CHECK_ERR(gss_decode_framing(B, BL, &f), SSPX_ERR_DER_GSS_FRAMING);
    HEX("6002 0600");
    CHECK_ERR(gss_decode_framing(B, BL, &f), SSPX_ERR_DER_BAD_OID);
    HEX("6003 06012a");
    CHECK_ST(gss_decode_framing(B, BL, &f), SEC_E_OK);
    CHECK(f.inner_len == 0);
}

/* ------------------------------------------------------------ real tokens */

static void real_tokens(void)
{
    spnego_init in;
    spnego_resp r;
    const uint8_t *p = HEX(SAMBA_INIT);
    size_t len = BL;
    CHECK_ST(spnego_decode_init(p, len, &in), SEC_E_OK);
    CHECK(in.framed && !in.init2 && in.nmechs == 1);
    CHECK(der_oid_eq(&in.mechs[0], (const uint8_t *)SPNEGO_OID_NTLMSSP,
                     SPNEGO_OID_LEN(SPNEGO_OID_NTLMSSP)));
    CHECK(in.mechs[0].off == 18);
    uint8_t mt[14];
    t_hex("300c060a2b06010401823702020a", mt, sizeof(mt));
    CHECK(in.mech_types.present && in.mech_types.len == 14 && in.mech_types.off == 16);
    CHECK_MEM(in.mech_types.p, mt, 14);
    CHECK(in.mech_types.p == p + in.mech_types.off);
    CHECK(!in.has_req_flags && !in.mech_list_mic.present && !in.neg_hints.present);
    CHECK(in.mech_token.present && in.mech_token.len == 40 && in.mech_token.off == 34);
    CHECK(in.mech_token.p == p + 34 && ntlm_msg_type(in.mech_token.p, in.mech_token.len) == 1);
    ntlm_negotiate neg;
    CHECK_ST(ntlm_decode_negotiate(in.mech_token.p, in.mech_token.len, &neg), SEC_E_OK);
    CHECK(neg.flags == 0x62088205);

    p = HEX(SAMBA_RESP);
    len = BL;
    CHECK_ST(spnego_decode_resp(p, len, &r), SEC_E_OK);
    CHECK(r.neg_state == SPNEGO_ACCEPT_INCOMPLETE && r.has_supported_mech);
    CHECK(der_oid_eq(&r.supported_mech, (const uint8_t *)SPNEGO_OID_NTLMSSP,
                     SPNEGO_OID_LEN(SPNEGO_OID_NTLMSSP)));
    CHECK(r.response_token.present && r.response_token.len == 0x68);
    CHECK(r.response_token.p == p + r.response_token.off && r.response_token.off == 28);
    CHECK(ntlm_msg_type(r.response_token.p, r.response_token.len) == 2);
    ntlm_challenge ch;
    CHECK_ST(ntlm_decode_challenge(r.response_token.p, r.response_token.len, &ch), SEC_E_OK);
    CHECK(!r.mech_list_mic.present);

    p = HEX(SAMBA_AUTH);
    len = BL;
    CHECK(len == 0x144);
    CHECK_ST(spnego_decode_resp(p, len, &r), SEC_E_OK);
    CHECK(r.neg_state == SPNEGO_NEG_STATE_ABSENT && !r.has_supported_mech);
    CHECK(r.response_token.len == 0x134 && r.response_token.off == 16);
    ntlm_authenticate au;
    CHECK_ST(ntlm_decode_authenticate(r.response_token.p, r.response_token.len, &au), SEC_E_OK);

    p = HEX(ACCEPT_COMPLETED);
    len = BL;
    CHECK_ST(spnego_decode_resp(p, len, &r), SEC_E_OK);
    CHECK(r.neg_state == SPNEGO_ACCEPT_COMPLETED && !r.response_token.present);
    CHECK(r.neg_state_tlv.off == 6 && r.neg_state_tlv.len == 3);

    /* spnego_decode picks the form */
    spnego_token tok;
    HEX(SAMBA_INIT);
    CHECK_ST(spnego_decode(B, BL, &tok), SEC_E_OK);
    CHECK(tok.kind == SPNEGO_NEG_TOKEN_INIT && tok.init.nmechs == 1);
    HEX(SAMBA_RESP);
    CHECK_ST(spnego_decode(B, BL, &tok), SEC_E_OK);
    CHECK(tok.kind == SPNEGO_NEG_TOKEN_RESP && tok.resp.neg_state == 1);
    HEX("a200");
    CHECK_ERR(spnego_decode(B, BL, &tok), SSPX_ERR_SPNEGO_BAD_CHOICE);
    HEX("");
    CHECK_ERR(spnego_decode(B, BL, &tok), SSPX_ERR_DER_TRUNCATED);
}

/* Every proper prefix of a real token fails; so does any appended byte. */
static void truncations(void)
{
    const char *toks[] = {SAMBA_INIT, SAMBA_RESP, SAMBA_AUTH, ACCEPT_COMPLETED};
    static uint8_t t[1024];
    for (size_t k = 0; k < 4; k++) {
        size_t n = t_hex(toks[k], t, sizeof(t));
        spnego_token tok;
        int bad = 0;
        CHECK_ST(spnego_decode(t, n, &tok), SEC_E_OK);
        for (size_t i = 0; i < n; i++)
            if (spnego_decode(t, i, &tok) != SEC_E_INVALID_TOKEN)
                bad++;
        CHECK(bad == 0);
        t[n] = 0;
        CHECK_ERR(spnego_decode(t, n + 1, &tok), SSPX_ERR_DER_TRAILING);
        /* every prefix, also through the DER walker */
        for (size_t i = 1; i < n; i++)
            if (der_validate(t, i, NULL) >= 0)
                bad++;
        CHECK(bad == 0);
    }
}

static void malformed_spnego(void)
{
    spnego_init in;
    spnego_resp r;
    HEX("600f 06092a864886f712010202 a0023000");
    /* framed with another mechanism */
    CHECK_ERR(spnego_decode_init(B, BL, &in), SSPX_ERR_SPNEGO_NOT_SPNEGO);
    HEX("600c 06062b0601050502 a1023000");
    /* framed SPNEGO with a [1] inside */
    CHECK_ERR(spnego_decode_init(B, BL, &in), SSPX_ERR_SPNEGO_BAD_CHOICE);
    HEX("a0023000");
    /* no mechTypes */
    CHECK_ERR(spnego_decode_init(B, BL, &in), SSPX_ERR_SPNEGO_NO_MECH_TYPES);
    HEX("a006 3004 a0023000");
    /* bare [0], empty mech list: decodes (the package finds no common mech) */
    CHECK_ST(spnego_decode_init(B, BL, &in), SEC_E_OK);
    CHECK(!in.framed && in.nmechs == 0 && in.mech_types.len == 2);
    HEX("a00e 300c a2020400 a0063004 06022a03");
    /* fields out of order, duplicated, untagged, of the wrong type */
    CHECK_ERR(spnego_decode_init(B, BL, &in), SSPX_ERR_SPNEGO_FIELD_ORDER);
    HEX("a00c 300a a0023000 a0043002 3000");
    CHECK_ERR(spnego_decode_init(B, BL, &in), SSPX_ERR_SPNEGO_FIELD_ORDER);
    HEX("a006 3004 04023000");
    CHECK_ERR(spnego_decode_init(B, BL, &in), SSPX_ERR_SPNEGO_FIELD_ORDER);
    HEX("a008 3006 a0040402 3000");
    CHECK_ERR(spnego_decode_init(B, BL, &in), SSPX_ERR_DER_UNEXPECTED_TAG);
    HEX("a008 3006 a0043000 0500");
    /* two values inside one explicit tag */
    CHECK_ERR(spnego_decode_init(B, BL, &in), SSPX_ERR_DER_TRAILING);
    HEX("a00a 3008 a0023000 a7020500");
    /* unknown extension field [7] is skipped */
    CHECK_ST(spnego_decode_init(B, BL, &in), SEC_E_OK);
    HEX("a00e 300c a0023000 a3020400 a4020400");
    /* mechListMIC twice ([3] and [4]) */
    CHECK_ERR(spnego_decode_init(B, BL, &in), SSPX_ERR_SPNEGO_FIELD_ORDER);
    /* 33 mechs */
    {
        uint8_t t[512];
        sspx_wr w;
        sspx_wr_init(&w, t, sizeof(t));
        size_t c = der_wr_begin(&w, DER_CONTEXT, true, 0);
        size_t s = der_wr_begin(&w, DER_UNIVERSAL, true, DER_TAG_SEQUENCE);
        size_t f = der_wr_begin(&w, DER_CONTEXT, true, 0);
        size_t l = der_wr_begin(&w, DER_UNIVERSAL, true, DER_TAG_SEQUENCE);
        for (int i = 0; i < 33; i++)
            sspx_wr_bytes(&w, "\x06\x02\x2a\x03", 4);
        der_wr_end(&w, l);
        der_wr_end(&w, f);
        der_wr_end(&w, s);
        der_wr_end(&w, c);
        CHECK(!w.overflow);
        CHECK_ERR(spnego_decode_init(t, w.pos, &in), SSPX_ERR_SPNEGO_TOO_MANY_MECHS);
        /* 32 are fine */
        CHECK_ST(der_validate(t, w.pos, NULL), SEC_E_OK);
    }
    HEX("a107 3005 a0030a0104");
    /* negState out of range, non-minimal, of the wrong type */
    CHECK_ERR(spnego_decode_resp(B, BL, &r), SSPX_ERR_SPNEGO_NEG_STATE);
    HEX("a107 3005 a0030a01ff");
    CHECK_ERR(spnego_decode_resp(B, BL, &r), SSPX_ERR_SPNEGO_NEG_STATE);
    HEX("a108 3006 a0040a020001");
    CHECK_ERR(spnego_decode_resp(B, BL, &r), SSPX_ERR_DER_BAD_INTEGER);
    HEX("a107 3005 a003020100");
    CHECK_ERR(spnego_decode_resp(B, BL, &r), SSPX_ERR_DER_UNEXPECTED_TAG);
    HEX("a102 3000");
    /* empty NegTokenResp decodes with nothing present */
    CHECK_ST(spnego_decode_resp(B, BL, &r), SEC_E_OK);
    CHECK(r.neg_state == SPNEGO_NEG_STATE_ABSENT && !r.response_token.present);
    HEX("a0023000");
    CHECK_ERR(spnego_decode_resp(B, BL, &r), SSPX_ERR_SPNEGO_BAD_CHOICE);
    HEX("a1023000 00");
    CHECK_ERR(spnego_decode_resp(B, BL, &r), SSPX_ERR_DER_TRAILING);
    HEX("a104 3000 3000");
    CHECK_ERR(spnego_decode_resp(B, BL, &r), SSPX_ERR_DER_TRAILING);
    HEX("a180 3000 0000");
    /* indefinite length inside a real-looking token */
    CHECK_ERR(spnego_decode_resp(B, BL, &r), SSPX_ERR_DER_INDEFINITE_LENGTH);
}

/* ------------------------------------------------------------ round trips */

static void round_trips(void)
{
    uint8_t out[2048], ntlm[40];
    size_t n;
    spnego_init in;
    spnego_resp r;
    t_hex("4e544c4d5353500001000000058208620000000028000000000000002800000006010000"
          "0000000f",
          ntlm, sizeof(ntlm));

    /* our encoder reproduces Samba's tokens byte for byte */
    n = spnego_encode_init(out, sizeof(out), &MECH_NTLM, 1, 0, (spnego_bytes){ntlm, 40},
                           (spnego_bytes){NULL, 0});
    HEX(SAMBA_INIT);
    CHECK(n == BL);
    CHECK_MEM(out, B, BL);
    {
        uint8_t chal[0x68];
        memcpy(chal, HEX(SAMBA_RESP) + 28, 0x68);
        n = spnego_encode_resp(out, sizeof(out), SPNEGO_ACCEPT_INCOMPLETE, MECH_NTLM,
                               (spnego_bytes){chal, sizeof(chal)}, (spnego_bytes){NULL, 0});
        HEX(SAMBA_RESP);
        CHECK(n == BL);
        CHECK_MEM(out, B, BL);
    }
    {
        static uint8_t auth[0x134];
        memcpy(auth, HEX(SAMBA_AUTH) + 16, sizeof(auth));
        n = spnego_encode_resp(out, sizeof(out), SPNEGO_NEG_STATE_ABSENT, (spnego_bytes){NULL, 0},
                               (spnego_bytes){auth, sizeof(auth)}, (spnego_bytes){NULL, 0});
        HEX(SAMBA_AUTH);
        CHECK(n == BL);
        CHECK_MEM(out, B, BL);
    }
    n = spnego_encode_resp(out, sizeof(out), SPNEGO_ACCEPT_COMPLETED, (spnego_bytes){NULL, 0},
                           (spnego_bytes){NULL, 0}, (spnego_bytes){NULL, 0});
    HEX(ACCEPT_COMPLETED);
    CHECK(n == BL);
    CHECK_MEM(out, B, BL);

    /* NegTokenInit: every field, several mechs, long mech token */
    static uint8_t big[1000];
    memset(big, 0xab, sizeof(big));
    spnego_bytes mechs[4] = {MECH_MSKRB5, MECH_KRB5, MECH_NEGOEX, MECH_NTLM};
    uint8_t mic[16];
    memset(mic, 0x5a, 16);
    n = spnego_encode_init(out, sizeof(out), mechs, 4,
                           SPNEGO_FLAG_MUTUAL | SPNEGO_FLAG_INTEG | SPNEGO_FLAG_CONF,
                           (spnego_bytes){big, sizeof(big)}, (spnego_bytes){mic, 16});
    CHECK(n > 1000);
    CHECK_ST(spnego_decode_init(out, n, &in), SEC_E_OK);
    CHECK(in.framed && !in.init2 && in.nmechs == 4);
    for (int i = 0; i < 4; i++)
        CHECK(der_oid_eq(&in.mechs[i], mechs[i].p, mechs[i].len));
    CHECK(in.has_req_flags &&
          in.req_flags == (SPNEGO_FLAG_MUTUAL | SPNEGO_FLAG_INTEG | SPNEGO_FLAG_CONF));
    CHECK(in.mech_token.len == 1000 && in.mech_token.p == out + in.mech_token.off);
    CHECK(memcmp(in.mech_token.p, big, 1000) == 0);
    CHECK(in.mech_list_mic.len == 16 && memcmp(in.mech_list_mic.p, mic, 16) == 0);
    CHECK(in.mech_types.p[0] == 0x30 && in.mech_types.len == 2 + 11 + 11 + 12 + 12);
    /* an empty mechToken is present and empty; fields absent otherwise */
    n = spnego_encode_init(out, sizeof(out), mechs + 1, 1, 0, (spnego_bytes){big, 0},
                           (spnego_bytes){NULL, 0});
    CHECK_ST(spnego_decode_init(out, n, &in), SEC_E_OK);
    CHECK(in.mech_token.present && in.mech_token.len == 0 && !in.has_req_flags &&
          !in.mech_list_mic.present && in.nmechs == 1);
    /* too small a buffer, bad OIDs, too many mechs: 0 */
    CHECK(spnego_encode_init(out, 20, mechs, 4, 0, (spnego_bytes){NULL, 0},
                             (spnego_bytes){NULL, 0}) == 0);
    spnego_bytes badm = {(const uint8_t *)"\x06\x02\x2a", 3};
    CHECK(spnego_encode_init(out, sizeof(out), &badm, 1, 0, (spnego_bytes){NULL, 0},
                             (spnego_bytes){NULL, 0}) == 0);
    spnego_bytes many[33];
    for (int i = 0; i < 33; i++)
        many[i] = MECH_NTLM;
    CHECK(spnego_encode_init(out, sizeof(out), many, 33, 0, (spnego_bytes){NULL, 0},
                             (spnego_bytes){NULL, 0}) == 0);
    n = spnego_encode_init(out, sizeof(out), many, 32, 0, (spnego_bytes){NULL, 0},
                           (spnego_bytes){NULL, 0});
    CHECK_ST(spnego_decode_init(out, n, &in), SEC_E_OK);
    CHECK(in.nmechs == 32);

    /* NegTokenInit2: default hint name; with address and MIC */
    n = spnego_encode_init2(out, sizeof(out), mechs, 2, (spnego_bytes){NULL, 0},
                            (spnego_bytes){NULL, 0}, (spnego_bytes){NULL, 0});
    CHECK_ST(spnego_decode_init(out, n, &in), SEC_E_OK);
    CHECK(in.framed && in.init2 && in.nmechs == 2 && in.neg_hints.present);
    CHECK(in.hint_name.present && in.hint_name.len == strlen(SPNEGO_HINT_NAME) &&
          memcmp(in.hint_name.p, SPNEGO_HINT_NAME, in.hint_name.len) == 0);
    CHECK(!in.hint_address.present && !in.mech_list_mic.present && !in.mech_token.present);
    /* the shape Windows sends: [3] { SEQUENCE { [0] GeneralString } } */
    CHECK(out[in.hint_name.off - 4] == 0xa0 && out[in.hint_name.off - 2] == 0x1b);
    n = spnego_encode_init2(
        out, sizeof(out), mechs, 4, (spnego_bytes){(const uint8_t *)"host@server", 11},
        (spnego_bytes){(const uint8_t *)"\x0a\x00\x00\x01", 4}, (spnego_bytes){mic, 16});
    CHECK_ST(spnego_decode_init(out, n, &in), SEC_E_OK);
    CHECK(in.init2 && in.nmechs == 4 && in.hint_name.len == 11 && in.hint_address.len == 4);
    CHECK(memcmp(in.hint_address.p, "\x0a\x00\x00\x01", 4) == 0);
    CHECK(in.mech_list_mic.len == 16);
    HEX("a00a 3008 a0023000 a4020400");
    /* an init2 with only mechListMIC [4] */
    CHECK_ST(spnego_decode_init(B, BL, &in), SEC_E_OK);
    CHECK(in.init2 && in.mech_list_mic.present && !in.neg_hints.present);

    /* NegTokenResp: every state, each field alone and all together */
    for (int s = -1; s <= 3; s++) {
        n = spnego_encode_resp(out, sizeof(out), s, s == 1 ? MECH_KRB5 : (spnego_bytes){NULL, 0},
                               s >= 0 ? (spnego_bytes){big, (size_t)(200 * (s + 1))}
                                      : (spnego_bytes){NULL, 0},
                               s == 3 ? (spnego_bytes){mic, 16} : (spnego_bytes){NULL, 0});
        CHECK(n > 0);
        CHECK_ST(spnego_decode_resp(out, n, &r), SEC_E_OK);
        CHECK(r.neg_state == s);
        CHECK(r.has_supported_mech == (s == 1));
        CHECK(r.response_token.present == (s >= 0));
        CHECK(s < 0 || r.response_token.len == (size_t)(200 * (s + 1)));
        CHECK(r.mech_list_mic.present == (s == 3));
        CHECK_ST(der_validate(out, n, NULL), SEC_E_OK);
    }
    CHECK(spnego_encode_resp(out, sizeof(out), 4, (spnego_bytes){NULL, 0}, (spnego_bytes){NULL, 0},
                             (spnego_bytes){NULL, 0}) == 0);
    CHECK(spnego_encode_resp(out, 8, 0, (spnego_bytes){NULL, 0}, (spnego_bytes){NULL, 0},
                             (spnego_bytes){NULL, 0}) == 0);
    n = spnego_encode_resp(out, sizeof(out), SPNEGO_NEG_STATE_ABSENT, (spnego_bytes){NULL, 0},
                           (spnego_bytes){NULL, 0}, (spnego_bytes){NULL, 0});
    CHECK(n == 4 && memcmp(out, "\xa1\x02\x30\x00", 4) == 0);
}

/* ---------------------------------------------------------------- sniffer */

static void sniffer(void)
{
    HEX(SAMBA_INIT);
    CHECK(spnego_sniff(B, BL) == SSPX_TOKEN_SPNEGO_INIT);
    for (size_t i = 11; i <= BL; i++)
        CHECK(spnego_sniff(B, i) == SSPX_TOKEN_SPNEGO_INIT); /* a prefix suffices */
    for (size_t i = 0; i < 11; i++)
        CHECK(spnego_sniff(B, i) == SSPX_TOKEN_UNKNOWN);
    HEX(SAMBA_RESP);
    CHECK(spnego_sniff(B, BL) == SSPX_TOKEN_SPNEGO_RESP);
    HEX(ACCEPT_COMPLETED);
    CHECK(spnego_sniff(B, BL) == SSPX_TOKEN_SPNEGO_RESP);
    CHECK(spnego_sniff(HEX(SAMBA_INIT) + 34, 40) == SSPX_TOKEN_NTLMSSP);
    CHECK(spnego_sniff((const uint8_t *)"NTLMSSP\0", 8) == SSPX_TOKEN_NTLMSSP);
    CHECK(spnego_sniff((const uint8_t *)"NTLMSSP", 7) == SSPX_TOKEN_UNKNOWN);
    HEX("6082 0150 06092a864886f712010202 0100 6e82013f 3082013b a003020105");
    /* GSS-framed AP-REQ, both OIDs */
    CHECK(spnego_sniff(B, BL) == SSPX_TOKEN_KRB5_AP_REQ_GSS);
    HEX("6082 0150 06092a864882f712010202 0100 6e82013f");
    CHECK(spnego_sniff(B, BL) == SSPX_TOKEN_KRB5_AP_REQ_GSS);
    HEX("6082 0150 06092a864886f712010202 0200 6f");
    /* krb5 with another TOK_ID (AP-REP 0200) or none */
    CHECK(spnego_sniff(B, BL) == SSPX_TOKEN_UNKNOWN);
    HEX("6082 0150 06092a864886f712010202 01");
    CHECK(spnego_sniff(B, BL) == SSPX_TOKEN_UNKNOWN);
    HEX("6e82013f 3082013b a003020105 a10302010e");
    /* raw AP-REQ */
    CHECK(spnego_sniff(B, BL) == SSPX_TOKEN_KRB5_AP_REQ);
    HEX("6e82013f 04");
    CHECK(spnego_sniff(B, BL) == SSPX_TOKEN_UNKNOWN);
    HEX("6040 060a2b06010401823702021e 4e45474f45585453");
    /* NEGOEX framed, and a raw NEGOEX message */
    CHECK(spnego_sniff(B, BL) == SSPX_TOKEN_NEGOEX);
    CHECK(spnego_sniff((const uint8_t *)"NEGOEXTS\0\0\0\0", 12) == SSPX_TOKEN_NEGOEX);
    HEX("6010 06022a03 a0");
    /* unknown: other OIDs, malformed headers, SPNEGO OID with a [1] */
    CHECK(spnego_sniff(B, BL) == SSPX_TOKEN_UNKNOWN);
    HEX("600c 06062b0601050502 a1");
    CHECK(spnego_sniff(B, BL) == SSPX_TOKEN_UNKNOWN);
    HEX("6005 06062b0601050502 a0");
    CHECK(spnego_sniff(B, BL) == SSPX_TOKEN_UNKNOWN);
    HEX("6080 06062b0601050502 a0");
    CHECK(spnego_sniff(B, BL) == SSPX_TOKEN_UNKNOWN);
    HEX("608148 06062b0601050502 a0");
    CHECK(spnego_sniff(B, BL) == SSPX_TOKEN_UNKNOWN);
    HEX("4e544c4d");
    CHECK(spnego_sniff(B, BL) == SSPX_TOKEN_UNKNOWN);
    HEX("ffff");
    CHECK(spnego_sniff(B, BL) == SSPX_TOKEN_UNKNOWN);
    CHECK(spnego_sniff(NULL, 0) == SSPX_TOKEN_UNKNOWN);
    CHECK(strcmp(spnego_token_kind_name(SSPX_TOKEN_NTLMSSP), "NTLMSSP") == 0);
    CHECK(strcmp(spnego_token_kind_name(SSPX_TOKEN_UNKNOWN), "unknown") == 0);
}

/* ----------------------------------------------------------- descriptions */

static int inside(const sspx_desc *d, size_t len)
{
    if (!(d->offset <= len && len - d->offset >= d->length))
        return 0;
    for (size_t i = 0; i < d->nkids; i++)
        if (!inside(d->kids[i], len))
            return 0;
    return 1;
}

static void descriptions(void)
{
    sspx_desc *d = NULL;
    const sspx_desc *n;
    HEX(SAMBA_INIT);
    CHECK_ST(spnego_describe(B, BL, &d), SEC_E_OK);
    CHECK(d && strcmp(sspx_desc_name(d), "SPNEGO") == 0 && sspx_desc_length(d) == BL);
    CHECK(d && inside(d, BL));
    n = sspx_desc_find(d, "ThisMech");
    CHECK(n && strcmp(sspx_desc_text(n), "1.3.6.1.5.5.2 (SPNEGO)") == 0 &&
          sspx_desc_offset(n) == 2);
    n = sspx_desc_find(d, "MessageType");
    CHECK(n && strcmp(sspx_desc_text(n), "NegTokenInit") == 0);
    n = sspx_desc_find(d, "MechTypes");
    CHECK(n && sspx_desc_offset(n) == 16 && sspx_desc_length(n) == 14 &&
          sspx_desc_child_count(n) == 1);
    n = sspx_desc_find(d, "MechType");
    CHECK(n && strcmp(sspx_desc_text(n), "1.3.6.1.4.1.311.2.2.10 (NTLMSSP)") == 0);
    n = sspx_desc_find(d, "MechToken");
    CHECK(n && sspx_desc_offset(n) == 34 && sspx_desc_length(n) == 40);
    /* NTLM's tree, offsets rebased into the SPNEGO token */
    n = sspx_desc_find(d, "NTLM");
    CHECK(n && sspx_desc_offset(n) == 34 && sspx_desc_length(n) == 40);
    n = sspx_desc_find(d, "NegotiateFlags");
    CHECK(n && sspx_desc_offset(n) == 34 + 12 && sspx_desc_uint(n) == 0x62088205);
    n = sspx_desc_find(d, "MessageType"); /* SPNEGO's own comes first */
    CHECK(n && sspx_desc_uint(n) == 0);
    sspx_buf txt;
    CHECK_ST(sspx_desc_to_text(d, &txt), SEC_E_OK);
    CHECK(txt.data && strstr((const char *)txt.data, "NEGOTIATE_MESSAGE") != NULL);
    sspx_buf_free(&txt);
    sspx_desc_free(&d);
    HEX(SAMBA_RESP);

    CHECK_ST(spnego_describe(B, BL, &d), SEC_E_OK);
    CHECK(d && inside(d, BL));
    n = sspx_desc_find(d, "NegState");
    CHECK(n && strcmp(sspx_desc_text(n), "accept-incomplete") == 0 && sspx_desc_uint(n) == 1);
    n = sspx_desc_find(d, "SupportedMech");
    CHECK(n && strstr(sspx_desc_text(n), "NTLMSSP") != NULL);
    n = sspx_desc_find(d, "ServerChallenge");
    CHECK(n && sspx_desc_offset(n) == 28 + 24);
    n = sspx_desc_find(d, "TargetInfo");
    CHECK(n != NULL);
    sspx_desc_free(&d);
    HEX(SAMBA_AUTH);

    CHECK_ST(spnego_describe(B, BL, &d), SEC_E_OK);
    CHECK(d && inside(d, BL));
    n = sspx_desc_find(d, "UserName");
    CHECK(n && strcmp(sspx_desc_text(n), "bob") == 0);
    CHECK(sspx_desc_find(d, "NegState") == NULL);
    sspx_desc_free(&d);
    HEX(ACCEPT_COMPLETED);

    CHECK_ST(spnego_describe(B, BL, &d), SEC_E_OK);
    n = sspx_desc_find(d, "NegState");
    CHECK(n && strcmp(sspx_desc_text(n), "accept-completed") == 0 && sspx_desc_offset(n) == 6);
    sspx_desc_free(&d);

    /* NegTokenInit2 with flags, hints, MIC; a non-NTLM token stays bytes */
    uint8_t out[512];
    spnego_bytes mechs[2] = {MECH_KRB5, MECH_NTLM};
    size_t len = spnego_encode_init2(out, sizeof(out), mechs, 2, (spnego_bytes){NULL, 0},
                                     (spnego_bytes){(const uint8_t *)"\x01\x02", 2},
                                     (spnego_bytes){(const uint8_t *)"0123456789abcdef", 16});
    CHECK_ST(spnego_describe(out, len, &d), SEC_E_OK);
    CHECK(d && inside(d, len));
    n = sspx_desc_find(d, "MessageType");
    CHECK(n && strcmp(sspx_desc_text(n), "NegTokenInit2") == 0);
    n = sspx_desc_find(d, "HintName");
    CHECK(n && strcmp(sspx_desc_text(n), SPNEGO_HINT_NAME) == 0);
    CHECK(sspx_desc_find(d, "HintAddress") && sspx_desc_find(d, "MechListMIC"));
    n = sspx_desc_find(d, "MechType");
    CHECK(n && strcmp(sspx_desc_text(n), "1.2.840.113554.1.2.2 (Kerberos 5)") == 0);
    sspx_desc_free(&d);

    len = spnego_encode_init(
        out, sizeof(out), mechs, 2, SPNEGO_FLAG_MUTUAL | SPNEGO_FLAG_INTEG | (1u << 9),
        (spnego_bytes){(const uint8_t *)"\x6e\x00", 2}, (spnego_bytes){NULL, 0});
    CHECK_ST(spnego_describe(out, len, &d), SEC_E_OK);
    CHECK(d && inside(d, len));
    n = sspx_desc_find(d, "ReqFlags");
    CHECK(n && sspx_desc_uint(n) == (SPNEGO_FLAG_MUTUAL | SPNEGO_FLAG_INTEG | (1u << 9)) &&
          sspx_desc_child_count(n) == 3);
    CHECK(sspx_desc_find(d, "mutualFlag") && sspx_desc_find(d, "integFlag") &&
          sspx_desc_find(d, "unknownFlag"));
    n = sspx_desc_find(d, "MechToken");
    CHECK(n && sspx_desc_child_count(n) == 0 && sspx_desc_get_kind(n) == SSPX_DESC_BYTES);
    sspx_desc_free(&d);

    /* an NTLMSSP-looking token that does not decode: a note, no failure */
    len = spnego_encode_resp(out, sizeof(out), 1, (spnego_bytes){NULL, 0},
                             (spnego_bytes){(const uint8_t *)"NTLMSSP\0\x02\0\0\0", 12},
                             (spnego_bytes){NULL, 0});
    CHECK_ST(spnego_describe(out, len, &d), SEC_E_OK);
    CHECK(d && sspx_desc_find(d, "Note") != NULL && inside(d, len));
    sspx_desc_free(&d);

    /* garbage fails with no tree; an unknown OID is shown dotted */
    HEX("a008 3006 a0043002 0600");
    CHECK_ST(spnego_describe(B, BL, &d), SEC_E_INVALID_TOKEN);
    CHECK(d == NULL);
    HEX("a008 3006 a0043002 2a03");
    CHECK_ST(spnego_describe(B, BL, &d), SEC_E_INVALID_TOKEN);
    HEX("a00a 3008 a0063004 06022a03");
    CHECK_ST(spnego_describe(B, BL, &d), SEC_E_OK);
    n = sspx_desc_find(d, "MechType");
    CHECK(n && strcmp(sspx_desc_text(n), "1.2.3") == 0);
    sspx_desc_free(&d);
    HEX("4e544c4d53535000");
    CHECK_ST(spnego_describe(B, BL, &d), SEC_E_INVALID_TOKEN);
    CHECK(d == NULL);
}

int main(void)
{
    RUN(der_lengths);
    RUN(der_tags);
    RUN(der_depth);
    RUN(der_integers);
    RUN(der_bits_and_strings);
    RUN(der_oids);
    RUN(der_writer);
    RUN(real_tokens);
    RUN(truncations);
    RUN(malformed_spnego);
    RUN(round_trips);
    RUN(sniffer);
    RUN(descriptions);
    return t_done();
}
