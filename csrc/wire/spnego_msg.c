/*
 * SPNEGO messages, RFC 4178 4.2 and MS-SPNG 2.2.
 *
 * InitialContextToken ::= [APPLICATION 0] IMPLICIT SEQUENCE {   (RFC 2743 3.1)
 *     thisMech  MechType  -- 1.3.6.1.5.5.2
 *     innerContextToken NegotiationToken }
 * NegotiationToken ::= CHOICE {
 *     negTokenInit  [0] NegTokenInit,   -- or NegTokenInit2 (MS-SPNG 2.2.1)
 *     negTokenResp  [1] NegTokenResp }
 * MechTypeList ::= SEQUENCE OF MechType    MechType ::= OBJECT IDENTIFIER
 * NegTokenInit ::= SEQUENCE {              NegTokenInit2 ::= SEQUENCE {
 *     mechTypes    [0] MechTypeList,           mechTypes   [0] MechTypeList OPTIONAL,
 *     reqFlags     [1] ContextFlags OPT,       reqFlags    [1] ContextFlags OPT,
 *     mechToken    [2] OCTET STRING OPT,       mechToken   [2] OCTET STRING OPT,
 *     mechListMIC  [3] OCTET STRING OPT,       negHints    [3] NegHints OPT,
 *     ... }                                    mechListMIC [4] OCTET STRING OPT, ... }
 * NegHints ::= SEQUENCE { hintName [0] GeneralString OPT, hintAddress [1] OCTET STRING OPT }
 * ContextFlags ::= BIT STRING { delegFlag(0), mutualFlag(1), replayFlag(2),
 *     sequenceFlag(3), anonFlag(4), confFlag(5), integFlag(6) }
 * NegTokenResp ::= SEQUENCE {
 *     negState      [0] ENUMERATED { accept-completed(0), accept-incomplete(1),
 *                                    reject(2), request-mic(3) } OPTIONAL,
 *     supportedMech [1] MechType OPT,
 *     responseToken [2] OCTET STRING OPT,
 *     mechListMIC   [3] OCTET STRING OPT, ... }
 *
 * All tags are EXPLICIT. [3] of a NegTokenInit is told apart by its contents:
 * a SEQUENCE is negHints (NegTokenInit2), an OCTET STRING the mechListMIC.
 * Fields come in increasing tag order, each at most once; context tags past
 * the known ones are skipped (the extension marker). The mechListMIC is
 * computed over the MechTypeList's DER (its SEQUENCE TLV), exposed as
 * mech_types.
 */
#include "spnego_msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "krb5_describe.h"
#include "ntlm_msg.h"

static spnego_view contents_view(const der_tlv *t)
{
    return (spnego_view){true, t->p, t->len, t->off + t->hdr_len};
}

static spnego_view tlv_view(const der_tlv *t)
{
    return (spnego_view){true, t->raw, t->hdr_len + t->len, t->off};
}

/* The next field of a SEQUENCE of explicitly tagged fields: [n] with n above
 * *last; enters it. */
static sspx_status next_field(der_rd *seq, int64_t *last, uint32_t *tag, der_rd *f)
{
    der_tlv t;
    GUARD(der_peek(seq, &t));
    ENSURE(t.cls == DER_CONTEXT && t.constructed, SSPX_ERR_SPNEGO_FIELD_ORDER);
    ENSURE((int64_t)t.tag > *last, SSPX_ERR_SPNEGO_FIELD_ORDER);
    *last = t.tag;
    *tag = t.tag;
    return der_enter_explicit(seq, t.tag, f);
}

static sspx_status read_octets_view(der_rd *f, spnego_view *v)
{
    der_tlv t;
    GUARD(der_read_octets(f, &t));
    *v = contents_view(&t);
    return der_finish(f);
}

static sspx_status decode_mech_list(der_rd *f, spnego_init *o)
{
    der_rd ml;
    der_tlv t;
    GUARD(der_enter_seq(f, &ml, &t));
    GUARD(der_finish(f));
    o->mech_types = tlv_view(&t);
    while (!der_rd_done(&ml)) {
        ENSURE(o->nmechs < SPNEGO_MAX_MECHS, SSPX_ERR_SPNEGO_TOO_MANY_MECHS);
        GUARD(der_read_oid(&ml, &o->mechs[o->nmechs]));
        o->nmechs++;
    }
    return SEC_E_OK;
}

static sspx_status decode_hints(der_rd *f, spnego_init *o)
{
    der_rd h, g;
    der_tlv t;
    int64_t last = -1;
    uint32_t tag = 0;
    GUARD(der_enter_seq(f, &h, &t));
    GUARD(der_finish(f));
    o->neg_hints = tlv_view(&t);
    while (!der_rd_done(&h)) {
        GUARD(next_field(&h, &last, &tag, &g));
        if (tag == 0) {
            GUARD(der_read_string(&g, &t));
            o->hint_name = contents_view(&t);
            GUARD(der_finish(&g));
        } else if (tag == 1) {
            GUARD(read_octets_view(&g, &o->hint_address));
        }
    }
    return SEC_E_OK;
}

/* [0] NegTokenInit at the reader's position. */
static sspx_status decode_init_choice(der_rd *d, spnego_init *o)
{
    der_rd choice, seq, f;
    der_tlv t;
    int64_t last = -1;
    uint32_t tag = 0;
    ENSURE(der_next_is(d, DER_CONTEXT, true, 0), SSPX_ERR_SPNEGO_BAD_CHOICE);
    GUARD(der_enter_explicit(d, 0, &choice));
    GUARD(der_enter_seq(&choice, &seq, &t));
    GUARD(der_finish(&choice));
    while (!der_rd_done(&seq)) {
        GUARD(next_field(&seq, &last, &tag, &f));
        switch (tag) {
        case 0:
            GUARD(decode_mech_list(&f, o));
            break;
        case 1: {
            unsigned unused;
            const uint8_t *bits;
            size_t n;
            GUARD(der_read_bit_string(&f, &unused, &bits, &n, &t));
            GUARD(der_finish(&f));
            o->has_req_flags = true;
            o->req_flags = der_bits_to_flags(bits, n, unused);
            o->req_flags_raw = tlv_view(&t);
            break;
        }
        case 2:
            GUARD(read_octets_view(&f, &o->mech_token));
            break;
        case 3:
            if (der_next_is(&f, DER_UNIVERSAL, true, DER_TAG_SEQUENCE)) {
                GUARD(decode_hints(&f, o));
                o->init2 = true;
            } else {
                GUARD(read_octets_view(&f, &o->mech_list_mic));
            }
            break;
        case 4:
            ENSURE(!o->mech_list_mic.present, SSPX_ERR_SPNEGO_FIELD_ORDER);
            GUARD(read_octets_view(&f, &o->mech_list_mic));
            o->init2 = true;
            break;
        default: /* extensions: skipped */
            break;
        }
    }
    ENSURE(o->mech_types.present, SSPX_ERR_SPNEGO_NO_MECH_TYPES);
    return SEC_E_OK;
}

sspx_status spnego_decode_init(const uint8_t *p, size_t len, spnego_init *out)
{
    der_rd d;
    memset(out, 0, sizeof(*out));
    der_rd_init(&d, p, len);
    ENSURE(len > 0, SSPX_ERR_DER_TRUNCATED);
    if (p[0] == (DER_APPLICATION | DER_CONSTRUCTED | 0)) {
        gss_framed g;
        GUARD(gss_decode_framing(p, len, &g));
        ENSURE(der_oid_eq(&g.mech, (const uint8_t *)SPNEGO_OID_SPNEGO,
                          SPNEGO_OID_LEN(SPNEGO_OID_SPNEGO)),
               SSPX_ERR_SPNEGO_NOT_SPNEGO);
        out->framed = true;
        out->this_mech = g.mech;
        sspx_rd_init(&d.r, g.inner, g.inner_len);
        d.base = g.inner_off;
        d.depth = 1;
    }
    GUARD(decode_init_choice(&d, out));
    return der_finish(&d);
}

sspx_status spnego_decode_resp(const uint8_t *p, size_t len, spnego_resp *out)
{
    der_rd d, choice, seq, f;
    der_tlv t;
    int64_t last = -1;
    uint32_t tag = 0;
    memset(out, 0, sizeof(*out));
    out->neg_state = SPNEGO_NEG_STATE_ABSENT;
    der_rd_init(&d, p, len);
    ENSURE(len > 0, SSPX_ERR_DER_TRUNCATED);
    ENSURE(der_next_is(&d, DER_CONTEXT, true, 1), SSPX_ERR_SPNEGO_BAD_CHOICE);
    GUARD(der_enter_explicit(&d, 1, &choice));
    GUARD(der_finish(&d));
    GUARD(der_enter_seq(&choice, &seq, &t));
    GUARD(der_finish(&choice));
    while (!der_rd_done(&seq)) {
        GUARD(next_field(&seq, &last, &tag, &f));
        switch (tag) {
        case 0: {
            int64_t v;
            GUARD(der_peek(&f, &t));
            GUARD(der_read_enum(&f, &v));
            GUARD(der_finish(&f));
            ENSURE(v >= SPNEGO_ACCEPT_COMPLETED && v <= SPNEGO_REQUEST_MIC,
                   SSPX_ERR_SPNEGO_NEG_STATE);
            out->neg_state = (int)v;
            out->neg_state_tlv = tlv_view(&t);
            break;
        }
        case 1:
            GUARD(der_read_oid(&f, &out->supported_mech));
            GUARD(der_finish(&f));
            out->has_supported_mech = true;
            break;
        case 2:
            GUARD(read_octets_view(&f, &out->response_token));
            break;
        case 3:
            GUARD(read_octets_view(&f, &out->mech_list_mic));
            break;
        default:
            break;
        }
    }
    return SEC_E_OK;
}

sspx_status spnego_decode(const uint8_t *p, size_t len, spnego_token *out)
{
    memset(out, 0, sizeof(*out));
    out->resp.neg_state = SPNEGO_NEG_STATE_ABSENT;
    ENSURE(len > 0, SSPX_ERR_DER_TRUNCATED);
    if (p[0] == (DER_CONTEXT | DER_CONSTRUCTED | 1)) {
        out->kind = SPNEGO_NEG_TOKEN_RESP;
        return spnego_decode_resp(p, len, &out->resp);
    }
    ENSURE(p[0] == (DER_APPLICATION | DER_CONSTRUCTED | 0) ||
               p[0] == (DER_CONTEXT | DER_CONSTRUCTED | 0),
           SSPX_ERR_SPNEGO_BAD_CHOICE);
    out->kind = SPNEGO_NEG_TOKEN_INIT;
    return spnego_decode_init(p, len, &out->init);
}

/* ---------------------------------------------------------------- encoders */

/* A caller's OID must be one well-formed OID TLV. */
static bool oid_ok(spnego_bytes o)
{
    der_rd d;
    der_tlv t;
    der_oid x;
    if (!o.p || o.len < 3 || o.p[0] != 0x06)
        return false;
    der_rd_init(&d, o.p, o.len);
    return der_read(&d, &t) == SEC_E_OK && der_rd_done(&d) && der_get_oid(&t, &x) == SEC_E_OK;
}

static bool mechs_ok(const spnego_bytes *mechs, size_t n)
{
    if (n > SPNEGO_MAX_MECHS || (n && !mechs))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!oid_ok(mechs[i]))
            return false;
    return true;
}

static void wr_mech_types(sspx_wr *w, const spnego_bytes *mechs, size_t n)
{
    size_t f = der_wr_begin(w, DER_CONTEXT, true, 0);
    size_t s = der_wr_begin(w, DER_UNIVERSAL, true, DER_TAG_SEQUENCE);
    for (size_t i = 0; i < n; i++)
        der_wr_oid(w, mechs[i].p, mechs[i].len);
    der_wr_end(w, s);
    der_wr_end(w, f);
}

static void wr_octets_field(sspx_wr *w, uint32_t tag, spnego_bytes b)
{
    if (!b.p)
        return;
    size_t f = der_wr_begin(w, DER_CONTEXT, true, tag);
    der_wr_octets(w, b.p, b.len);
    der_wr_end(w, f);
}

/* GSS framing + [0] + SEQUENCE: open, returning the three marks. */
static void open_init(sspx_wr *w, size_t marks[3])
{
    marks[0] = der_wr_begin(w, DER_APPLICATION, true, 0);
    der_wr_oid(w, (const uint8_t *)SPNEGO_OID_SPNEGO, SPNEGO_OID_LEN(SPNEGO_OID_SPNEGO));
    marks[1] = der_wr_begin(w, DER_CONTEXT, true, 0);
    marks[2] = der_wr_begin(w, DER_UNIVERSAL, true, DER_TAG_SEQUENCE);
}

static void close_init(sspx_wr *w, const size_t marks[3])
{
    der_wr_end(w, marks[2]);
    der_wr_end(w, marks[1]);
    der_wr_end(w, marks[0]);
}

size_t spnego_encode_init(uint8_t *out, size_t cap, const spnego_bytes *mechs, size_t nmechs,
                          uint32_t req_flags, spnego_bytes mech_token, spnego_bytes mic)
{
    sspx_wr w;
    size_t m[3];
    if (!mechs_ok(mechs, nmechs))
        return 0;
    sspx_wr_init(&w, out, cap);
    open_init(&w, m);
    wr_mech_types(&w, mechs, nmechs);
    if (req_flags) {
        size_t f = der_wr_begin(&w, DER_CONTEXT, true, 1);
        der_wr_named_bits(&w, req_flags);
        der_wr_end(&w, f);
    }
    wr_octets_field(&w, 2, mech_token);
    wr_octets_field(&w, 3, mic);
    close_init(&w, m);
    return w.overflow ? 0 : w.pos;
}

size_t spnego_encode_init2(uint8_t *out, size_t cap, const spnego_bytes *mechs, size_t nmechs,
                           spnego_bytes hint_name, spnego_bytes hint_address, spnego_bytes mic)
{
    sspx_wr w;
    size_t m[3];
    if (!mechs_ok(mechs, nmechs))
        return 0;
    if (!hint_name.p)
        hint_name = (spnego_bytes){(const uint8_t *)SPNEGO_HINT_NAME, sizeof(SPNEGO_HINT_NAME) - 1};
    sspx_wr_init(&w, out, cap);
    open_init(&w, m);
    wr_mech_types(&w, mechs, nmechs);
    size_t f = der_wr_begin(&w, DER_CONTEXT, true, 3);
    size_t s = der_wr_begin(&w, DER_UNIVERSAL, true, DER_TAG_SEQUENCE);
    size_t h = der_wr_begin(&w, DER_CONTEXT, true, 0);
    der_wr_tlv(&w, DER_UNIVERSAL, false, DER_TAG_GENERAL_STRING, hint_name.p, hint_name.len);
    der_wr_end(&w, h);
    wr_octets_field(&w, 1, hint_address);
    der_wr_end(&w, s);
    der_wr_end(&w, f);
    wr_octets_field(&w, 4, mic);
    close_init(&w, m);
    return w.overflow ? 0 : w.pos;
}

size_t spnego_encode_resp(uint8_t *out, size_t cap, int neg_state, spnego_bytes supported_mech,
                          spnego_bytes response_token, spnego_bytes mic)
{
    sspx_wr w;
    if (neg_state != SPNEGO_NEG_STATE_ABSENT &&
        (neg_state < SPNEGO_ACCEPT_COMPLETED || neg_state > SPNEGO_REQUEST_MIC))
        return 0;
    if (supported_mech.p && !oid_ok(supported_mech))
        return 0;
    sspx_wr_init(&w, out, cap);
    size_t c = der_wr_begin(&w, DER_CONTEXT, true, 1);
    size_t s = der_wr_begin(&w, DER_UNIVERSAL, true, DER_TAG_SEQUENCE);
    if (neg_state != SPNEGO_NEG_STATE_ABSENT) {
        size_t f = der_wr_begin(&w, DER_CONTEXT, true, 0);
        der_wr_enum(&w, neg_state);
        der_wr_end(&w, f);
    }
    if (supported_mech.p) {
        size_t f = der_wr_begin(&w, DER_CONTEXT, true, 1);
        der_wr_oid(&w, supported_mech.p, supported_mech.len);
        der_wr_end(&w, f);
    }
    wr_octets_field(&w, 2, response_token);
    wr_octets_field(&w, 3, mic);
    der_wr_end(&w, s);
    der_wr_end(&w, c);
    return w.overflow ? 0 : w.pos;
}

/* ----------------------------------------------------------------- sniffer */

/* A low-tag identifier and a well-formed definite length at p[0]; the
 * contents need not all be there (a prefix of a token may be sniffed). */
static bool sniff_header(const uint8_t *p, size_t len, size_t *hdr, size_t *clen)
{
    if (len < 2 || (p[0] & 0x1f) == 0x1f)
        return false;
    if (p[1] < 0x80) {
        *hdr = 2;
        *clen = p[1];
        return true;
    }
    size_t n = p[1] & 0x7fu, v = 0;
    if (n == 0 || n > DER_MAX_LEN_OCTETS || len < 2 + n || p[2] == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[2 + i];
    if (v < 0x80)
        return false;
    *hdr = 2 + n;
    *clen = v;
    return true;
}

static bool has_oid(const uint8_t *p, size_t n, const char *oid, size_t oid_len)
{
    return n == oid_len && memcmp(p, oid, n) == 0;
}

enum sspx_token_kind spnego_sniff(const uint8_t *p, size_t len)
{
    size_t hdr, clen;
    if (!p)
        return SSPX_TOKEN_UNKNOWN;
    if (len >= 8 && memcmp(p, "NTLMSSP\0", 8) == 0)
        return SSPX_TOKEN_NTLMSSP;
    if (len >= 8 && memcmp(p, "NEGOEXTS", 8) == 0)
        return SSPX_TOKEN_NEGOEX;
    if (!sniff_header(p, len, &hdr, &clen) || hdr >= len)
        return SSPX_TOKEN_UNKNOWN;
    switch (p[0]) {
    case 0x60: {
        /* the OID TLV, whole, inside the declared length */
        if (len - hdr < 2 || p[hdr] != 0x06 || p[hdr + 1] >= 0x80)
            return SSPX_TOKEN_UNKNOWN;
        size_t olen = 2u + p[hdr + 1];
        if (olen > clen || len - hdr < olen)
            return SSPX_TOKEN_UNKNOWN;
        const uint8_t *o = p + hdr;
        size_t after = hdr + olen;
        if (has_oid(o, olen, SPNEGO_OID_SPNEGO, SPNEGO_OID_LEN(SPNEGO_OID_SPNEGO)))
            return after < len && p[after] == 0xa0 ? SSPX_TOKEN_SPNEGO_INIT : SSPX_TOKEN_UNKNOWN;
        if (has_oid(o, olen, SPNEGO_OID_KRB5, SPNEGO_OID_LEN(SPNEGO_OID_KRB5)) ||
            has_oid(o, olen, SPNEGO_OID_MS_KRB5, SPNEGO_OID_LEN(SPNEGO_OID_MS_KRB5)))
            return len - after >= 2 && p[after] == 0x01 && p[after + 1] == 0x00
                       ? SSPX_TOKEN_KRB5_AP_REQ_GSS
                       : SSPX_TOKEN_UNKNOWN;
        if (has_oid(o, olen, SPNEGO_OID_NEGOEX, SPNEGO_OID_LEN(SPNEGO_OID_NEGOEX)))
            return SSPX_TOKEN_NEGOEX;
        return SSPX_TOKEN_UNKNOWN;
    }
    case 0x6e: /* [APPLICATION 14] AP-REQ ::= SEQUENCE */
        return p[hdr] == 0x30 ? SSPX_TOKEN_KRB5_AP_REQ : SSPX_TOKEN_UNKNOWN;
    case 0xa1: /* [1] NegTokenResp ::= SEQUENCE */
        return p[hdr] == 0x30 ? SSPX_TOKEN_SPNEGO_RESP : SSPX_TOKEN_UNKNOWN;
    default:
        return SSPX_TOKEN_UNKNOWN;
    }
}

const char *spnego_token_kind_name(enum sspx_token_kind k)
{
    switch (k) {
    case SSPX_TOKEN_SPNEGO_INIT:
        return "SPNEGO NegTokenInit";
    case SSPX_TOKEN_SPNEGO_RESP:
        return "SPNEGO NegTokenResp";
    case SSPX_TOKEN_NTLMSSP:
        return "NTLMSSP";
    case SSPX_TOKEN_KRB5_AP_REQ_GSS:
        return "Kerberos AP-REQ (GSS-API framed)";
    case SSPX_TOKEN_KRB5_AP_REQ:
        return "Kerberos AP-REQ";
    case SSPX_TOKEN_NEGOEX:
        return "NEGOEX";
    default:
        return "unknown";
    }
}

/* ------------------------------------------------------------ descriptions */

const char *spnego_mech_name(const der_oid *o)
{
    static const struct {
        const char *der;
        size_t len;
        const char *name;
    } known[] = {
        {SPNEGO_OID_SPNEGO, SPNEGO_OID_LEN(SPNEGO_OID_SPNEGO), "SPNEGO"},
        {SPNEGO_OID_KRB5, SPNEGO_OID_LEN(SPNEGO_OID_KRB5), "Kerberos 5"},
        {SPNEGO_OID_MS_KRB5, SPNEGO_OID_LEN(SPNEGO_OID_MS_KRB5), "Kerberos 5 (Microsoft)"},
        {SPNEGO_OID_NTLMSSP, SPNEGO_OID_LEN(SPNEGO_OID_NTLMSSP), "NTLMSSP"},
        {SPNEGO_OID_NEGOEX, SPNEGO_OID_LEN(SPNEGO_OID_NEGOEX), "NEGOEX"},
    };
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (der_oid_eq(o, (const uint8_t *)known[i].der, known[i].len))
            return known[i].name;
    return NULL;
}

const char *spnego_neg_state_name(int s)
{
    static const char *const names[] = {"accept-completed", "accept-incomplete", "reject",
                                        "request-mic"};
    return s >= 0 && s <= 3 ? names[s] : "absent";
}

static void oid_node(sspx_desc *parent, const char *name, const der_oid *o)
{
    char dotted[256], txt[320];
    const char *n = spnego_mech_name(o);
    if (!der_oid_format(o->p, o->len, dotted, sizeof(dotted))) {
        sspx_desc_bytes_node(parent, name, o->off, o->der, o->der_len);
        return;
    }
    snprintf(txt, sizeof(txt), "%s%s%s%s", dotted, n ? " (" : "", n ? n : "", n ? ")" : "");
    sspx_desc_text_node(parent, name, SSPX_DESC_STRING, o->off, o->der_len, 0, txt);
}

static void shift(sspx_desc *d, size_t base)
{
    d->offset += base;
    for (size_t i = 0; i < d->nkids; i++)
        shift(d->kids[i], base);
}

/* Hang `sub` (offsets relative to `base`) under parent, taking it over. */
static void adopt(sspx_desc *parent, sspx_desc *sub, size_t base)
{
    shift(sub, base);
    sspx_desc *n = sspx_desc_node(parent, sub->name, sub->kind, sub->offset, sub->length);
    if (n) {
        n->u = sub->u;
        n->text = sub->text;
        n->bytes = sub->bytes;
        n->nbytes = sub->nbytes;
        n->kids = sub->kids;
        n->nkids = sub->nkids;
        n->capkids = sub->capkids;
        sub->text = NULL;
        sub->bytes = NULL;
        sub->kids = NULL;
        sub->nkids = sub->capkids = 0;
    }
    sspx_desc_free(&sub);
}

/* A mechanism token: its bytes and, for NTLM and Kerberos, their
 * describers' trees. */
static void token_node(sspx_desc *parent, const char *name, const spnego_view *v)
{
    sspx_desc *d = sspx_desc_bytes_node(parent, name, v->off, v->p, v->len);
    sspx_desc *sub = NULL;
    if (!d)
        return;
    if (ntlm_msg_type(v->p, v->len) != 0) {
        if (ntlm_describe(v->p, v->len, &sub) == SEC_E_OK)
            adopt(d, sub, v->off);
        else
            sspx_desc_text_node(d, "Note", SSPX_DESC_STRING, v->off, v->len, 0,
                                "NTLM message that does not decode");
    } else if (krb5_recognise(v->p, v->len)) {
        if (krb5_describe(v->p, v->len, &sub) == SEC_E_OK)
            adopt(d, sub, v->off);
        else
            sspx_desc_text_node(d, "Note", SSPX_DESC_STRING, v->off, v->len, 0,
                                "Kerberos message that does not decode");
    }
}

static bool printable(const spnego_view *v)
{
    if (v->len >= 1024)
        return false;
    for (size_t i = 0; i < v->len; i++)
        if (v->p[i] < 0x20 || v->p[i] > 0x7e)
            return false;
    return true;
}

static const char *const flag_names[7] = {"delegFlag", "mutualFlag", "replayFlag", "sequenceFlag",
                                          "anonFlag",  "confFlag",   "integFlag"};

static void describe_init(sspx_desc *root, const spnego_init *m)
{
    if (m->framed)
        oid_node(root, "ThisMech", &m->this_mech);
    sspx_desc_text_node(root, "MessageType", SSPX_DESC_ENUM, 0, 0, 0,
                        m->init2 ? "NegTokenInit2" : "NegTokenInit");
    sspx_desc *l =
        sspx_desc_node(root, "MechTypes", SSPX_DESC_STRUCT, m->mech_types.off, m->mech_types.len);
    for (size_t i = 0; i < m->nmechs; i++)
        oid_node(l, "MechType", &m->mechs[i]);
    if (m->has_req_flags) {
        const spnego_view *r = &m->req_flags_raw;
        sspx_desc *f = sspx_desc_text_node(root, "ReqFlags", SSPX_DESC_FLAGS, r->off, r->len,
                                           m->req_flags, NULL);
        for (unsigned i = 0; i < 32; i++)
            if (m->req_flags & (1u << i))
                sspx_desc_text_node(f, i < 7 ? flag_names[i] : "unknownFlag", SSPX_DESC_FLAG,
                                    r->off, r->len, 1u << i, NULL);
    }
    if (m->mech_token.present)
        token_node(root, "MechToken", &m->mech_token);
    if (m->neg_hints.present) {
        sspx_desc *h =
            sspx_desc_node(root, "NegHints", SSPX_DESC_STRUCT, m->neg_hints.off, m->neg_hints.len);
        if (m->hint_name.present) {
            if (printable(&m->hint_name)) {
                char txt[1024];
                memcpy(txt, m->hint_name.p, m->hint_name.len);
                txt[m->hint_name.len] = 0;
                sspx_desc_text_node(h, "HintName", SSPX_DESC_STRING, m->hint_name.off,
                                    m->hint_name.len, 0, txt);
            } else {
                sspx_desc_bytes_node(h, "HintName", m->hint_name.off, m->hint_name.p,
                                     m->hint_name.len);
            }
        }
        if (m->hint_address.present)
            sspx_desc_bytes_node(h, "HintAddress", m->hint_address.off, m->hint_address.p,
                                 m->hint_address.len);
    }
    if (m->mech_list_mic.present)
        sspx_desc_bytes_node(root, "MechListMIC", m->mech_list_mic.off, m->mech_list_mic.p,
                             m->mech_list_mic.len);
}

static void describe_resp(sspx_desc *root, const spnego_resp *m)
{
    sspx_desc_text_node(root, "MessageType", SSPX_DESC_ENUM, 0, 0, 1, "NegTokenResp");
    if (m->neg_state != SPNEGO_NEG_STATE_ABSENT)
        sspx_desc_text_node(root, "NegState", SSPX_DESC_ENUM, m->neg_state_tlv.off,
                            m->neg_state_tlv.len, (uint64_t)m->neg_state,
                            spnego_neg_state_name(m->neg_state));
    if (m->has_supported_mech)
        oid_node(root, "SupportedMech", &m->supported_mech);
    if (m->response_token.present)
        token_node(root, "ResponseToken", &m->response_token);
    if (m->mech_list_mic.present)
        sspx_desc_bytes_node(root, "MechListMIC", m->mech_list_mic.off, m->mech_list_mic.p,
                             m->mech_list_mic.len);
}

sspx_status spnego_describe(const uint8_t *tok, size_t len, sspx_desc **out)
{
    spnego_token *t;
    sspx_desc *root;
    *out = NULL;
    t = calloc(1, sizeof(*t));
    ENSURE(t, SSPX_ERR_NO_MEMORY);
    sspx_status st = spnego_decode(tok, len, t);
    if (st < 0) {
        free(t);
        return st;
    }
    root = sspx_desc_node(NULL, "SPNEGO", SSPX_DESC_STRUCT, 0, len);
    if (!root) {
        free(t);
        BAIL(SSPX_ERR_NO_MEMORY);
    }
    if (t->kind == SPNEGO_NEG_TOKEN_INIT)
        describe_init(root, &t->init);
    else
        describe_resp(root, &t->resp);
    free(t);
    *out = root;
    return SEC_E_OK;
}
