/*
 * krb5_describe / krb5_recognise (wire/krb5_describe.c): the Kerberos
 * AP-REQ, AP-REP and KRB-ERROR described for people, and the same inside a
 * SPNEGO NegTokenInit (spnego_msg.c's token_node adopts the tree). Pure
 * parsing: no Heimdal needed, so this target is always built.
 *
 * The input is used three times, each in an exact-size heap copy:
 *   1. as the token (GSS-framed, raw, or anything else);
 *   2. when it starts like a raw message (6e / 6f / 7e), framed here with the
 *      krb5 OID and the TOK_ID its tag announces: it must then be described
 *      exactly when the raw one is, with the same tree shifted by the
 *      framing (plus ThisMech and TokId);
 *   3. as the mechToken of a NegTokenInit (spnego_encode_init), through
 *      sspx_describe("Negotiate"): always described; the Kerberos subtree is
 *      there exactly when step 1 described the token.
 * Invariants on every tree: each node lies inside its token, bytes nodes are
 * the token's bytes at their offset, names are non-empty, texts are valid
 * UTF-8 (the Python binding decodes them strictly), the first child is the
 * MessageType enum (14, 15 or 30), the depth is small, and a described token
 * is one krb5_recognise accepts. Seeds: the tokens test_krb5_describe writes
 * (SSPX_KRB_DESCRIBE_SEEDS) and AP-REQs of fuzz_krb_replay_key.
 */
#include "core/core.h"
#include "fuzz_decode_common.h"
#include "wire/der.h"
#include "wire/krb5_describe.h"
#include "wire/spnego_msg.h"

static bool utf8_valid(const char *s)
{
    const uint8_t *p = (const uint8_t *)s;
    while (*p) {
        uint32_t cp, min;
        size_t k;
        if (*p < 0x80) {
            p++;
            continue;
        }
        if ((*p & 0xe0) == 0xc0)
            k = 2, cp = *p & 0x1fu, min = 0x80;
        else if ((*p & 0xf0) == 0xe0)
            k = 3, cp = *p & 0x0fu, min = 0x800;
        else if ((*p & 0xf8) == 0xf0)
            k = 4, cp = *p & 0x07u, min = 0x10000;
        else
            return false;
        for (size_t j = 1; j < k; j++) {
            if ((p[j] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (p[j] & 0x3fu);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        p += k;
    }
    return true;
}

/* strict: bytes nodes are the token's bytes at their offset (the Kerberos
 * describer's promise; NTLM's AV pairs point at the pair's header). */
static void walk(const sspx_desc *d, const uint8_t *tok, size_t len, int depth, bool strict)
{
    size_t off = sspx_desc_offset(d), n = sspx_desc_length(d), nb = 0;
    const uint8_t *b = sspx_desc_bytes(d, &nb);
    const char *name = sspx_desc_name(d), *text = sspx_desc_text(d);
    FZ_CHECK(depth < 10);
    FZ_CHECK(name && *name && utf8_valid(name));
    FZ_CHECK(off <= len && len - off >= n);
    if (text)
        FZ_CHECK(utf8_valid(text));
    switch (sspx_desc_get_kind(d)) {
    case SSPX_DESC_BYTES:
        FZ_CHECK(nb == n || !strict);
        FZ_CHECK(!strict || n == 0 || memcmp(b, tok + off, n) == 0);
        break;
    case SSPX_DESC_STRING:
    case SSPX_DESC_ENUM:
        FZ_CHECK(text != NULL);
        break;
    default:
        break;
    }
    for (size_t i = 0; i < sspx_desc_child_count(d); i++)
        walk(sspx_desc_child(d, i), tok, len, depth + 1, strict);
    FZ_CHECK(sspx_desc_child(d, sspx_desc_child_count(d)) == NULL);
}

/* b is a shifted by `shift`, a's children from index `ai` against b's from `bi`. */
static bool same(const sspx_desc *a, const sspx_desc *b, size_t shift, size_t ai, size_t bi)
{
    size_t na = 0, nb = 0;
    const uint8_t *ba = sspx_desc_bytes(a, &na), *bb = sspx_desc_bytes(b, &nb);
    const char *ta = sspx_desc_text(a), *tb = sspx_desc_text(b);
    if (strcmp(sspx_desc_name(a), sspx_desc_name(b)) ||
        sspx_desc_get_kind(a) != sspx_desc_get_kind(b) || sspx_desc_uint(a) != sspx_desc_uint(b) ||
        !ta != !tb || (ta && strcmp(ta, tb)) || na != nb || (na && memcmp(ba, bb, na)) ||
        sspx_desc_child_count(a) - ai != sspx_desc_child_count(b) - bi)
        return false;
    for (size_t i = 0; ai + i < sspx_desc_child_count(a); i++) {
        const sspx_desc *x = sspx_desc_child(a, ai + i), *y = sspx_desc_child(b, bi + i);
        if (sspx_desc_offset(x) + shift != sspx_desc_offset(y) ||
            sspx_desc_length(x) != sspx_desc_length(y) || !same(x, y, shift, 0, 0))
            return false;
    }
    return true;
}

static sspx_status describe(const uint8_t *tok, size_t len, sspx_desc **out)
{
    uint8_t *copy = fz_dup(tok, len);
    sspx_status st = krb5_describe(copy, len, out);
    FZ_CHECK(st == SEC_E_OK || st == SEC_E_INVALID_TOKEN);
    FZ_CHECK((st == SEC_E_OK) == (*out != NULL));
    if (st == SEC_E_OK) {
        const sspx_desc *mt = sspx_desc_child(*out, 0);
        walk(*out, copy, len, 0, true);
        FZ_CHECK(!strcmp(sspx_desc_name(*out), "Kerberos") && sspx_desc_length(*out) == len);
        FZ_CHECK(mt && !strcmp(sspx_desc_name(mt), "MessageType"));
        FZ_CHECK(sspx_desc_uint(mt) == 14 || sspx_desc_uint(mt) == 15 || sspx_desc_uint(mt) == 30);
        FZ_CHECK(krb5_recognise(copy, len));
    }
    free(copy);
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t inner[70000], framed[70016], nego[70100];
    sspx_desc *raw = NULL, *fr = NULL, *sp = NULL;
    sspx_status st;
    size_t n;

    /* 1 */
    st = describe(data, size, &raw);

    /* 2 */
    if (size >= 1 && size + 2 <= sizeof(inner) &&
        (data[0] == 0x6e || data[0] == 0x6f || data[0] == 0x7e)) {
        inner[0] = data[0] == 0x6e ? 1 : data[0] == 0x6f ? 2 : 3;
        inner[1] = 0x00;
        memcpy(inner + 2, data, size);
        n = gss_encode_framing(framed, sizeof(framed), (const uint8_t *)SPNEGO_OID_KRB5,
                               SPNEGO_OID_LEN(SPNEGO_OID_KRB5), inner, size + 2);
        FZ_CHECK(n > size);
        sspx_status st2 = describe(framed, n, &fr);
        FZ_CHECK((st == SEC_E_OK) == (st2 == SEC_E_OK));
        if (raw && fr) /* MessageType, then ThisMech and TokId in the framed one */
            FZ_CHECK(same(raw, fr, n - size, 1, 3) &&
                     sspx_desc_offset(sspx_desc_child(raw, 0)) + (n - size) ==
                         sspx_desc_offset(sspx_desc_child(fr, 0)));
        sspx_desc_free(&fr);
    }

    /* 3 */
    {
        spnego_bytes mech = {(const uint8_t *)SPNEGO_OID_KRB5, SPNEGO_OID_LEN(SPNEGO_OID_KRB5)};
        n = spnego_encode_init(nego, sizeof(nego), &mech, 1, 0, (spnego_bytes){data, size},
                               (spnego_bytes){NULL, 0});
        if (n > 0) {
            uint8_t *copy = fz_dup(nego, n);
            const sspx_desc *mt, *k;
            FZ_CHECK(sspx_describe("Negotiate", copy, n, &sp) == SEC_E_OK);
            walk(sp, copy, n, 0, false);
            mt = NULL;
            for (size_t i = 0; i < sspx_desc_child_count(sp); i++)
                if (!strcmp(sspx_desc_name(sspx_desc_child(sp, i)), "MechToken"))
                    mt = sspx_desc_child(sp, i);
            FZ_CHECK(mt != NULL && sspx_desc_length(mt) == size);
            k = sspx_desc_child_count(mt) ? sspx_desc_child(mt, 0) : NULL;
            FZ_CHECK((raw != NULL) == (k && !strcmp(sspx_desc_name(k), "Kerberos")));
            if (raw && k) {
                walk(k, copy, n, 2, true);
                FZ_CHECK(same(raw, k, sspx_desc_offset(mt), 0, 0));
            }
            sspx_desc_free(&sp);
            free(copy);
        }
    }
    sspx_desc_free(&raw);
    return 0;
}
