/* The DER reader and writer on arbitrary bytes: der_validate (depth limit),
 * a walk reading every TLV with every primitive getter (each TLV and view
 * inside its container), and for valid input a re-encoding through the
 * writer (der_wr_begin/der_wr_end choose minimal lengths) that must give the
 * input back byte for byte, since DER is canonical. Also the GSS-API
 * framing decoder, and its encoder on what it decoded. */
#include "fuzz_decode_common.h"
#include "wire/der.h"

static const uint8_t *g_in;
static size_t g_len;

static void inside(const uint8_t *p, size_t n)
{
    FZ_CHECK(p >= g_in && (size_t)(p - g_in) <= g_len && g_len - (size_t)(p - g_in) >= n);
    fz_touch(p, n);
}

/* Walk d, re-encoding every TLV into w; returns false on a decode error. */
static bool walk(der_rd *d, sspx_wr *w, unsigned depth)
{
    FZ_CHECK(depth <= DER_MAX_DEPTH);
    while (!der_rd_done(d)) {
        der_tlv t;
        size_t before = der_rd_offset(d);
        if (der_read(d, &t) != SEC_E_OK)
            return false;
        FZ_CHECK(t.off == before && der_rd_offset(d) == before + t.hdr_len + t.len);
        FZ_CHECK(t.raw == g_in + t.off && t.p == t.raw + t.hdr_len);
        inside(t.raw, t.hdr_len + t.len);
        if (t.constructed) {
            der_rd sub;
            if (der_enter(d, &t, &sub) != SEC_E_OK)
                return false;
            size_t m = der_wr_begin(w, t.cls, true, t.tag);
            if (!walk(&sub, w, depth + 1))
                return false;
            der_wr_end(w, m);
            continue;
        }
        int64_t v;
        unsigned unused;
        const uint8_t *bits;
        size_t nb;
        der_oid o;
        char txt[512];
        if (der_get_int64(&t, &v) == SEC_E_OK) {
            sspx_wr iw;
            uint8_t ib[16];
            sspx_wr_init(&iw, ib, sizeof(ib));
            der_wr_int64(&iw, v);
            FZ_CHECK(!iw.overflow && iw.pos == 2 + t.len && memcmp(ib + 2, t.p, t.len) == 0);
        }
        if (der_get_bit_string(&t, &unused, &bits, &nb) == SEC_E_OK) {
            inside(bits, nb);
            (void)der_bits_to_flags(bits, nb, unused);
        }
        if (der_get_oid(&t, &o) == SEC_E_OK) {
            inside(o.der, o.der_len);
            FZ_CHECK(der_oid_eq(&o, t.raw, t.hdr_len + t.len));
            if (der_oid_format(o.p, o.len, txt, sizeof(txt)))
                FZ_CHECK(strlen(txt) >= 3);
        }
        der_wr_tlv(w, t.cls, false, t.tag, t.p, t.len);
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t out[1 << 16];
    size_t count = 0;
    der_rd d;
    sspx_wr w;
    g_in = data;
    g_len = size;
    sspx_status st = der_validate(data, size, &count);
    der_rd_init(&d, data, size);
    sspx_wr_init(&w, out, sizeof(out));
    bool ok = walk(&d, &w, 0);
    FZ_CHECK(ok == (st == SEC_E_OK));
    if (ok && size <= sizeof(out)) {
        FZ_CHECK(!w.overflow && w.pos == size);
        FZ_CHECK(memcmp(out, data, size) == 0);
    }

    gss_framed g;
    if (gss_decode_framing(data, size, &g) == SEC_E_OK) {
        inside(g.mech.der, g.mech.der_len);
        inside(g.inner, g.inner_len);
        FZ_CHECK(g.inner == data + g.inner_off && g.inner_off + g.inner_len == size);
        size_t n =
            gss_encode_framing(out, sizeof(out), g.mech.der, g.mech.der_len, g.inner, g.inner_len);
        FZ_CHECK(n == size && memcmp(out, data, size) == 0);
    }
    return 0;
}
