/*
 * DER, X.690 (08/2015) 8.1 and 10.1, as the Kerberos and SPNEGO messages use it.
 *
 * TLV (8.1.1)
 *   identifier  bits 8-7 class (00 universal, 01 application, 10 context,
 *               11 private), bit 6 constructed, bits 5-1 tag number;
 *               11111 = high tag number form (8.1.2.4): base-128 octets,
 *               bit 8 set on all but the last, the first not 0x80 (minimal),
 *               the number >= 31. We accept numbers up to 2^32-1.
 *   length      0xxxxxxx short form (0..127)
 *               1nnnnnnn long form: n octets, big-endian (8.1.3.5); DER
 *               (10.1): the fewest octets, so no leading zero octet and no
 *               long form below 128. 0x80 is the indefinite form (BER only,
 *               refused); 0xff is reserved. We accept n <= 4.
 *   contents    `length` octets, which must fit in the enclosing value.
 * INTEGER / ENUMERATED (8.3, 8.4): two's complement, >= 1 octet, the first
 *   9 bits not all equal (minimal). We bound them to int64.
 * BIT STRING (8.6, 11.2): first octet = unused bits in the last octet
 *   (0..7, 0 if there are no bits); DER: the unused bits are zero.
 * OBJECT IDENTIFIER (8.19): base-128 subidentifiers, bit 8 set on all but
 *   each one's last octet, no leading 0x80 octet; the first subidentifier is
 *   40 * arc1 + arc2.
 */
#include "der.h"

#include <stdio.h>
#include <string.h>

void der_rd_init(der_rd *d, const uint8_t *p, size_t len)
{
    sspx_rd_init(&d->r, p, len);
    d->base = 0;
    d->depth = 0;
}

/* Parse the TLV at the reader's position; *total = header + contents. */
static sspx_status parse(const der_rd *d, der_tlv *t, size_t *total)
{
    sspx_rd r = d->r;
    size_t start = r.pos;
    uint8_t b;
    uint32_t tag;

    ENSURE(sspx_rd_u8(&r, &b), SSPX_ERR_DER_TRUNCATED);
    t->cls = b & 0xc0u;
    t->constructed = (b & DER_CONSTRUCTED) != 0;
    tag = b & 0x1fu;
    if (tag == 0x1f) {
        tag = 0;
        for (int i = 0;; i++) {
            ENSURE(sspx_rd_u8(&r, &b), SSPX_ERR_DER_TRUNCATED);
            ENSURE(i > 0 || b != 0x80, SSPX_ERR_DER_BAD_TAG);
            ENSURE(tag <= (UINT32_MAX >> 7), SSPX_ERR_DER_BAD_TAG);
            tag = tag << 7 | (b & 0x7fu);
            if (!(b & 0x80))
                break;
        }
        ENSURE(tag >= 31, SSPX_ERR_DER_BAD_TAG);
    }
    t->tag = tag;

    size_t len;
    ENSURE(sspx_rd_u8(&r, &b), SSPX_ERR_DER_TRUNCATED);
    if (b < 0x80) {
        len = b;
    } else {
        unsigned n = b & 0x7fu;
        uint32_t v = 0;
        ENSURE(n != 0, SSPX_ERR_DER_INDEFINITE_LENGTH);
        ENSURE(n <= DER_MAX_LEN_OCTETS, SSPX_ERR_DER_BAD_LENGTH);
        for (unsigned i = 0; i < n; i++) {
            ENSURE(sspx_rd_u8(&r, &b), SSPX_ERR_DER_TRUNCATED);
            ENSURE(i > 0 || b != 0, SSPX_ERR_DER_BAD_LENGTH);
            v = v << 8 | b;
        }
        ENSURE(v >= 0x80, SSPX_ERR_DER_BAD_LENGTH);
        len = v;
    }
    ENSURE(sspx_rd_left(&r) >= len, SSPX_ERR_DER_TRUNCATED);
    t->hdr_len = r.pos - start;
    t->len = len;
    t->off = d->base + start;
    t->raw = d->r.p + start;
    t->p = t->raw + t->hdr_len;
    *total = t->hdr_len + len;
    return SEC_E_OK;
}

sspx_status der_peek(const der_rd *d, der_tlv *t)
{
    size_t total = 0;
    return parse(d, t, &total);
}

sspx_status der_read(der_rd *d, der_tlv *t)
{
    size_t total = 0;
    GUARD(parse(d, t, &total));
    (void)sspx_rd_skip(&d->r, total);
    return SEC_E_OK;
}

bool der_next_is(const der_rd *d, uint8_t cls, bool constructed, uint32_t tag)
{
    der_tlv t = {0};
    size_t total = 0;
    /* a peek must not leave an error behind when the caller only asks */
    if (der_rd_done(d))
        return false;
    sspx_rd r = d->r;
    uint8_t b = r.p[r.pos];
    if ((b & 0xc0u) != cls || ((b & DER_CONSTRUCTED) != 0) != constructed)
        return false;
    if (tag < 31)
        return (b & 0x1fu) == tag;
    return parse(d, &t, &total) == SEC_E_OK && t.tag == tag;
}

sspx_status der_expect(der_rd *d, uint8_t cls, bool constructed, uint32_t tag, der_tlv *t)
{
    GUARD(der_read(d, t));
    ENSURE(t->cls == cls && t->constructed == constructed && t->tag == tag,
           SSPX_ERR_DER_UNEXPECTED_TAG);
    return SEC_E_OK;
}

sspx_status der_enter(const der_rd *parent, const der_tlv *t, der_rd *sub)
{
    ENSURE(t->constructed, SSPX_ERR_DER_UNEXPECTED_TAG);
    ENSURE(parent->depth < DER_MAX_DEPTH, SSPX_ERR_DER_TOO_DEEP);
    sspx_rd_init(&sub->r, t->p, t->len);
    sub->base = t->off + t->hdr_len;
    sub->depth = parent->depth + 1;
    return SEC_E_OK;
}

sspx_status der_enter_seq(der_rd *d, der_rd *sub, der_tlv *t)
{
    GUARD(der_expect(d, DER_UNIVERSAL, true, DER_TAG_SEQUENCE, t));
    return der_enter(d, t, sub);
}

sspx_status der_enter_explicit(der_rd *d, uint32_t n, der_rd *sub)
{
    der_tlv t = {0};
    GUARD(der_expect(d, DER_CONTEXT, true, n, &t));
    return der_enter(d, &t, sub);
}

sspx_status der_finish(const der_rd *d)
{
    ENSURE(der_rd_done(d), SSPX_ERR_DER_TRAILING);
    return SEC_E_OK;
}

/* ------------------------------------------------------------- primitives */

sspx_status der_get_int64(const der_tlv *t, int64_t *v)
{
    const uint8_t *p = t->p;
    ENSURE(!t->constructed && t->len >= 1 && t->len <= 8, SSPX_ERR_DER_BAD_INTEGER);
    if (t->len > 1) {
        ENSURE(!(p[0] == 0x00 && !(p[1] & 0x80)), SSPX_ERR_DER_BAD_INTEGER);
        ENSURE(!(p[0] == 0xff && (p[1] & 0x80)), SSPX_ERR_DER_BAD_INTEGER);
    }
    uint64_t u = (p[0] & 0x80) ? UINT64_MAX : 0;
    for (size_t i = 0; i < t->len; i++)
        u = u << 8 | p[i];
    *v = (int64_t)u;
    return SEC_E_OK;
}

sspx_status der_get_bit_string(const der_tlv *t, unsigned *unused, const uint8_t **bits,
                               size_t *nbytes)
{
    ENSURE(!t->constructed && t->len >= 1, SSPX_ERR_DER_BAD_BIT_STRING);
    unsigned u = t->p[0];
    ENSURE(u <= 7, SSPX_ERR_DER_BAD_BIT_STRING);
    ENSURE(t->len > 1 || u == 0, SSPX_ERR_DER_BAD_BIT_STRING);
    if (t->len > 1)
        ENSURE((t->p[t->len - 1] & ((1u << u) - 1)) == 0, SSPX_ERR_DER_BAD_BIT_STRING);
    *unused = u;
    *bits = t->p + 1;
    *nbytes = t->len - 1;
    return SEC_E_OK;
}

sspx_status der_get_oid(const der_tlv *t, der_oid *o)
{
    ENSURE(!t->constructed && t->len >= 1, SSPX_ERR_DER_BAD_OID);
    ENSURE(!(t->p[t->len - 1] & 0x80), SSPX_ERR_DER_BAD_OID);
    bool start = true;
    for (size_t i = 0; i < t->len; i++) {
        ENSURE(!start || t->p[i] != 0x80, SSPX_ERR_DER_BAD_OID);
        start = !(t->p[i] & 0x80);
    }
    o->p = t->p;
    o->len = t->len;
    o->der = t->raw;
    o->der_len = t->hdr_len + t->len;
    o->off = t->off;
    return SEC_E_OK;
}

static sspx_status read_universal(der_rd *d, uint32_t tag, der_tlv *t)
{
    return der_expect(d, DER_UNIVERSAL, false, tag, t);
}

sspx_status der_read_int64(der_rd *d, int64_t *v)
{
    der_tlv t = {0};
    GUARD(read_universal(d, DER_TAG_INTEGER, &t));
    return der_get_int64(&t, v);
}

sspx_status der_read_enum(der_rd *d, int64_t *v)
{
    der_tlv t = {0};
    GUARD(read_universal(d, DER_TAG_ENUMERATED, &t));
    return der_get_int64(&t, v);
}

sspx_status der_read_bit_string(der_rd *d, unsigned *unused, const uint8_t **bits, size_t *nbytes,
                                der_tlv *t)
{
    GUARD(read_universal(d, DER_TAG_BIT_STRING, t));
    return der_get_bit_string(t, unused, bits, nbytes);
}

sspx_status der_read_octets(der_rd *d, der_tlv *t)
{
    return read_universal(d, DER_TAG_OCTET_STRING, t);
}

sspx_status der_read_string(der_rd *d, der_tlv *t)
{
    GUARD(der_read(d, t));
    ENSURE(t->cls == DER_UNIVERSAL && !t->constructed &&
               (t->tag == DER_TAG_GENERAL_STRING || t->tag == DER_TAG_UTF8_STRING),
           SSPX_ERR_DER_UNEXPECTED_TAG);
    return SEC_E_OK;
}

sspx_status der_read_oid(der_rd *d, der_oid *o)
{
    der_tlv t = {0};
    GUARD(read_universal(d, DER_TAG_OID, &t));
    return der_get_oid(&t, o);
}

uint32_t der_bits_to_flags(const uint8_t *bits, size_t nbytes, unsigned unused)
{
    uint32_t f = 0;
    size_t nbits = nbytes * 8 - (nbytes ? unused : 0);
    for (size_t i = 0; i < nbits && i < 32; i++)
        if (bits[i / 8] & (0x80u >> (i % 8)))
            f |= 1u << i;
    return f;
}

bool der_oid_eq(const der_oid *o, const uint8_t *der, size_t der_len)
{
    return o->der_len == der_len && memcmp(o->der, der, der_len) == 0;
}

bool der_oid_format(const uint8_t *p, size_t len, char *out, size_t cap)
{
    size_t at = 0;
    bool first = true;
    if (cap == 0)
        return false;
    out[0] = 0;
    if (len == 0 || (p[len - 1] & 0x80))
        return false;
    for (size_t i = 0; i < len;) {
        uint64_t v = 0;
        if (p[i] == 0x80)
            return false;
        for (;;) {
            if (v > (UINT64_MAX >> 7))
                return false;
            v = v << 7 | (p[i] & 0x7fu);
            if (!(p[i++] & 0x80))
                break;
        }
        int n;
        if (first) {
            unsigned a = v < 40 ? 0 : v < 80 ? 1 : 2;
            n = snprintf(out + at, cap - at, "%u.%llu", a, (unsigned long long)(v - 40u * a));
            first = false;
        } else {
            n = snprintf(out + at, cap - at, ".%llu", (unsigned long long)v);
        }
        if (n < 0 || (size_t)n >= cap - at) {
            out[0] = 0;
            return false;
        }
        at += (size_t)n;
    }
    return true;
}

/* ----------------------------------------------------------------- writer */

void der_wr_tag(sspx_wr *w, uint8_t cls, bool constructed, uint32_t tag)
{
    uint8_t id = (uint8_t)((cls & 0xc0u) | (constructed ? DER_CONSTRUCTED : 0));
    if (tag < 31) {
        sspx_wr_u8(w, (uint8_t)(id | tag));
        return;
    }
    uint8_t b[6];
    size_t n = 0;
    for (uint32_t v = tag; v; v >>= 7)
        n++;
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(((tag >> (7 * (n - 1 - i))) & 0x7fu) | (i + 1 < n ? 0x80u : 0));
    sspx_wr_u8(w, (uint8_t)(id | 0x1fu));
    sspx_wr_bytes(w, b, n);
}

/* Octets a long-form length needs (0 for the short form). */
static size_t len_octets(size_t len)
{
    size_t n = 0;
    if (len < 0x80)
        return 0;
    for (size_t v = len; v; v >>= 8)
        n++;
    return n;
}

static void put_len(uint8_t *b, size_t len, size_t n)
{
    if (n == 0) {
        b[0] = (uint8_t)len;
        return;
    }
    b[0] = (uint8_t)(0x80u | n);
    for (size_t i = 0; i < n; i++)
        b[1 + i] = (uint8_t)(len >> (8 * (n - 1 - i)));
}

void der_wr_len(sspx_wr *w, size_t len)
{
    uint8_t b[1 + sizeof(size_t)];
    size_t n = len_octets(len);
    if (n > DER_MAX_LEN_OCTETS) {
        w->overflow = true;
        return;
    }
    put_len(b, len, n);
    sspx_wr_bytes(w, b, 1 + n);
}

size_t der_wr_begin(sspx_wr *w, uint8_t cls, bool constructed, uint32_t tag)
{
    der_wr_tag(w, cls, constructed, tag);
    return sspx_wr_reserve(w, 1);
}

void der_wr_end(sspx_wr *w, size_t mark)
{
    if (w->overflow || mark == SIZE_MAX || mark >= w->pos) {
        w->overflow = true;
        return;
    }
    size_t clen = w->pos - mark - 1;
    size_t n = len_octets(clen);
    if (n > DER_MAX_LEN_OCTETS || (n && !sspx_wr_room(w, n))) {
        w->overflow = true;
        return;
    }
    if (n)
        memmove(w->p + mark + 1 + n, w->p + mark + 1, clen);
    put_len(w->p + mark, clen, n);
    w->pos += n;
}

void der_wr_tlv(sspx_wr *w, uint8_t cls, bool constructed, uint32_t tag, const void *p, size_t len)
{
    der_wr_tag(w, cls, constructed, tag);
    der_wr_len(w, len);
    sspx_wr_bytes(w, p, len);
}

static void wr_integer(sspx_wr *w, uint32_t tag, int64_t v)
{
    uint8_t b[8];
    uint64_t u = (uint64_t)v;
    size_t i = 0;
    for (int k = 0; k < 8; k++)
        b[k] = (uint8_t)(u >> (56 - 8 * k));
    /* drop leading octets that only repeat the sign */
    while (i < 7 && ((b[i] == 0x00 && !(b[i + 1] & 0x80)) || (b[i] == 0xff && (b[i + 1] & 0x80))))
        i++;
    der_wr_tlv(w, DER_UNIVERSAL, false, tag, b + i, 8 - i);
}

void der_wr_int64(sspx_wr *w, int64_t v)
{
    wr_integer(w, DER_TAG_INTEGER, v);
}

void der_wr_enum(sspx_wr *w, int64_t v)
{
    wr_integer(w, DER_TAG_ENUMERATED, v);
}

void der_wr_octets(sspx_wr *w, const void *p, size_t len)
{
    der_wr_tlv(w, DER_UNIVERSAL, false, DER_TAG_OCTET_STRING, p, len);
}

void der_wr_bit_string(sspx_wr *w, unsigned unused, const void *bits, size_t nbytes)
{
    if (unused > 7 || (nbytes == 0 && unused != 0) || nbytes == SIZE_MAX) {
        w->overflow = true;
        return;
    }
    uint8_t u = (uint8_t)unused;
    der_wr_tag(w, DER_UNIVERSAL, false, DER_TAG_BIT_STRING);
    der_wr_len(w, nbytes + 1);
    sspx_wr_u8(w, u);
    sspx_wr_bytes(w, bits, nbytes);
}

void der_wr_named_bits(sspx_wr *w, uint32_t flags)
{
    uint8_t b[4] = {0};
    size_t nbits = 0;
    for (unsigned i = 0; i < 32; i++)
        if (flags & (1u << i)) {
            b[i / 8] |= (uint8_t)(0x80u >> (i % 8));
            nbits = i + 1;
        }
    size_t nbytes = (nbits + 7) / 8;
    der_wr_bit_string(w, (unsigned)(nbytes * 8 - nbits), b, nbytes);
}

/* ------------------------------------------------------ GSS-API framing */

sspx_status gss_decode_framing(const uint8_t *p, size_t len, gss_framed *out)
{
    der_rd d, in = {0};
    der_tlv t = {0};
    memset(out, 0, sizeof(*out));
    der_rd_init(&d, p, len);
    ENSURE(len > 0 && p[0] == (DER_APPLICATION | DER_CONSTRUCTED | 0), SSPX_ERR_DER_GSS_FRAMING);
    GUARD(der_read(&d, &t));
    GUARD(der_finish(&d));
    GUARD(der_enter(&d, &t, &in));
    ENSURE(der_next_is(&in, DER_UNIVERSAL, false, DER_TAG_OID), SSPX_ERR_DER_GSS_FRAMING);
    GUARD(der_read_oid(&in, &out->mech));
    out->inner_off = der_rd_offset(&in);
    out->inner = t.p + in.r.pos;
    out->inner_len = sspx_rd_left(&in.r);
    return SEC_E_OK;
}

size_t gss_encode_framing(uint8_t *out, size_t cap, const uint8_t *mech_der, size_t mech_der_len,
                          const void *inner, size_t inner_len)
{
    sspx_wr w;
    sspx_wr_init(&w, out, cap);
    size_t m = der_wr_begin(&w, DER_APPLICATION, true, 0);
    der_wr_oid(&w, mech_der, mech_der_len);
    sspx_wr_bytes(&w, inner, inner_len);
    der_wr_end(&w, m);
    return w.overflow ? 0 : w.pos;
}

static sspx_status validate(der_rd *d, size_t *count)
{
    while (!der_rd_done(d)) {
        der_tlv t = {0};
        GUARD(der_read(d, &t));
        (*count)++;
        if (t.constructed) {
            der_rd sub;
            GUARD(der_enter(d, &t, &sub));
            GUARD(validate(&sub, count));
        }
    }
    return SEC_E_OK;
}

sspx_status der_validate(const uint8_t *p, size_t len, size_t *count)
{
    der_rd d;
    size_t n = 0;
    der_rd_init(&d, p, len);
    sspx_status st = validate(&d, &n);
    if (count)
        *count = n;
    return st;
}
