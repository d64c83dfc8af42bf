/* The SPNEGO codec on arbitrary bytes: spnego_decode / _init / _resp (every
 * view inside the token, the mechTypes bytes a SEQUENCE), re-encoding what
 * was decoded and decoding it again to the same fields, the first-token
 * sniffer (agreeing with the decoders), and spnego_describe (every node's
 * [offset, offset + length) inside the token, the tree rendered). */
#include "core/core.h"
#include "fuzz_decode_common.h"
#include "wire/spnego_msg.h"

static const uint8_t *g_in;
static size_t g_len;

static void view_ok(const spnego_view *v)
{
    if (!v->present)
        return;
    FZ_CHECK(v->p == g_in + v->off);
    FZ_CHECK(v->off <= g_len && g_len - v->off >= v->len);
    fz_touch(v->p, v->len);
}

static void oid_ok(const der_oid *o)
{
    FZ_CHECK(o->der == g_in + o->off && o->off <= g_len && g_len - o->off >= o->der_len);
    FZ_CHECK(o->p + o->len == o->der + o->der_len);
    fz_touch(o->der, o->der_len);
}

static bool view_eq(const spnego_view *a, const spnego_view *b)
{
    return a->present == b->present && a->len == b->len &&
           (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

static spnego_bytes sb(const spnego_view *v)
{
    return v->present ? (spnego_bytes){v->p ? v->p : (const uint8_t *)"", v->len}
                      : (spnego_bytes){NULL, 0};
}

static void check_init(const spnego_init *m)
{
    static uint8_t out[8192];
    spnego_bytes mechs[SPNEGO_MAX_MECHS];
    spnego_init again;
    FZ_CHECK(m->nmechs <= SPNEGO_MAX_MECHS && m->mech_types.present);
    FZ_CHECK(m->mech_types.p[0] == 0x30);
    view_ok(&m->mech_types);
    for (size_t i = 0; i < m->nmechs; i++) {
        oid_ok(&m->mechs[i]);
        mechs[i] = (spnego_bytes){m->mechs[i].der, m->mechs[i].der_len};
    }
    if (m->framed)
        oid_ok(&m->this_mech);
    view_ok(&m->req_flags_raw);
    view_ok(&m->mech_token);
    view_ok(&m->neg_hints);
    view_ok(&m->hint_name);
    view_ok(&m->hint_address);
    view_ok(&m->mech_list_mic);
    size_t n;
    if (!m->init2)
        n = spnego_encode_init(out, sizeof(out), mechs, m->nmechs, m->req_flags & 0x7fffffffu,
                               sb(&m->mech_token), sb(&m->mech_list_mic));
    else if (m->hint_name.present && !m->mech_token.present && !m->has_req_flags)
        n = spnego_encode_init2(out, sizeof(out), mechs, m->nmechs, sb(&m->hint_name),
                                sb(&m->hint_address), sb(&m->mech_list_mic));
    else
        return;
    if (g_len > 4096)
        return;
    FZ_CHECK(n > 0);
    FZ_CHECK(spnego_decode_init(out, n, &again) == SEC_E_OK);
    FZ_CHECK(again.framed && again.nmechs == m->nmechs);
    for (size_t i = 0; i < m->nmechs; i++)
        FZ_CHECK(der_oid_eq(&again.mechs[i], m->mechs[i].der, m->mechs[i].der_len));
    FZ_CHECK(view_eq(&again.mech_token, &m->mech_token));
    FZ_CHECK(view_eq(&again.mech_list_mic, &m->mech_list_mic));
    FZ_CHECK(view_eq(&again.hint_address, &m->hint_address));
    FZ_CHECK(again.init2 == (m->init2 && true));
    if (!m->init2)
        FZ_CHECK(again.req_flags == (m->req_flags & 0x7fffffffu));
    FZ_CHECK(spnego_sniff(out, n) == SSPX_TOKEN_SPNEGO_INIT);
}

static void check_resp(const spnego_resp *m)
{
    static uint8_t out[8192];
    spnego_resp again;
    FZ_CHECK(m->neg_state >= -1 && m->neg_state <= 3);
    view_ok(&m->neg_state_tlv);
    view_ok(&m->response_token);
    view_ok(&m->mech_list_mic);
    if (m->has_supported_mech)
        oid_ok(&m->supported_mech);
    if (g_len > 4096)
        return;
    spnego_bytes mech = m->has_supported_mech
                            ? (spnego_bytes){m->supported_mech.der, m->supported_mech.der_len}
                            : (spnego_bytes){NULL, 0};
    size_t n = spnego_encode_resp(out, sizeof(out), m->neg_state, mech, sb(&m->response_token),
                                  sb(&m->mech_list_mic));
    FZ_CHECK(n > 0);
    FZ_CHECK(spnego_decode_resp(out, n, &again) == SEC_E_OK);
    FZ_CHECK(again.neg_state == m->neg_state);
    FZ_CHECK(again.has_supported_mech == m->has_supported_mech);
    if (m->has_supported_mech)
        FZ_CHECK(der_oid_eq(&again.supported_mech, mech.p, mech.len));
    FZ_CHECK(view_eq(&again.response_token, &m->response_token));
    FZ_CHECK(view_eq(&again.mech_list_mic, &m->mech_list_mic));
    FZ_CHECK(spnego_sniff(out, n) == SSPX_TOKEN_SPNEGO_RESP);
}

static void walk(const sspx_desc *d, int depth)
{
    FZ_CHECK(depth < 16);
    FZ_CHECK(d->name && *d->name);
    FZ_CHECK(d->offset <= g_len && g_len - d->offset >= d->length);
    if (d->text)
        (void)strlen(d->text);
    fz_touch(d->bytes ? d->bytes : (const uint8_t *)"", d->nbytes);
    for (size_t i = 0; i < d->nkids; i++)
        walk(d->kids[i], depth + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static spnego_token t;
    static spnego_init in;
    static spnego_resp r;
    g_in = data;
    g_len = size;

    enum sspx_token_kind k = spnego_sniff(data, size);
    FZ_CHECK(k <= SSPX_TOKEN_NEGOEX);
    (void)spnego_token_kind_name(k);

    sspx_status st = spnego_decode(data, size, &t);
    if (st == SEC_E_OK) {
        if (t.kind == SPNEGO_NEG_TOKEN_INIT) {
            check_init(&t.init);
            if (t.init.framed)
                FZ_CHECK(k == SSPX_TOKEN_SPNEGO_INIT);
        } else {
            check_resp(&t.resp);
            FZ_CHECK(k == SSPX_TOKEN_SPNEGO_RESP);
        }
    } else {
        FZ_CHECK(st == SEC_E_INVALID_TOKEN);
    }
    sspx_status si = spnego_decode_init(data, size, &in);
    sspx_status sr = spnego_decode_resp(data, size, &r);
    FZ_CHECK(si != SEC_E_OK || sr != SEC_E_OK);
    if (si == SEC_E_OK)
        check_init(&in);
    if (sr == SEC_E_OK)
        check_resp(&r);
    FZ_CHECK(st == SEC_E_OK ? (si == SEC_E_OK || sr == SEC_E_OK)
                            : (si != SEC_E_OK && sr != SEC_E_OK));

    sspx_desc *d = NULL;
    sspx_status sd = spnego_describe(data, size, &d);
    FZ_CHECK((sd == SEC_E_OK) == (st == SEC_E_OK));
    if (sd == SEC_E_OK) {
        sspx_buf txt;
        FZ_CHECK(d != NULL);
        walk(d, 0);
        FZ_CHECK(sspx_desc_find(d, "MessageType") != NULL);
        FZ_CHECK(sspx_desc_to_text(d, &txt) == SEC_E_OK);
        sspx_buf_free(&txt);
        sspx_desc_free(&d);
    }
    FZ_CHECK(d == NULL);
    return 0;
}
