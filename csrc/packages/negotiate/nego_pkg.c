/*
 * The Negotiate package table, credentials (sub-credentials of Kerberos and
 * NTLM, made through their tables), the shared sub-context helpers, and the
 * delegation of attributes and message protection to the chosen package.
 *
 * Options are split by package: each sub-package receives only the keys its
 * table lists (sspx_package.options), and a key no package knows is refused.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nego.h"

static const char *const nego_keys[] = {"packages", "selection", NULL};
static const char *const sub_names[NEGO_NMECH] = {"Kerberos", "NTLM"};

const uint8_t *nego_mech_oid(int mech, size_t *len)
{
    if (mech == NEGO_KRB) {
        *len = SPNEGO_OID_LEN(SPNEGO_OID_KRB5);
        return (const uint8_t *)SPNEGO_OID_KRB5;
    }
    *len = SPNEGO_OID_LEN(SPNEGO_OID_NTLMSSP);
    return (const uint8_t *)SPNEGO_OID_NTLMSSP;
}

int nego_mech_of_oid(const der_oid *o)
{
    if (der_oid_eq(o, (const uint8_t *)SPNEGO_OID_KRB5, SPNEGO_OID_LEN(SPNEGO_OID_KRB5)) ||
        der_oid_eq(o, (const uint8_t *)SPNEGO_OID_MS_KRB5, SPNEGO_OID_LEN(SPNEGO_OID_MS_KRB5)))
        return NEGO_KRB;
    if (der_oid_eq(o, (const uint8_t *)SPNEGO_OID_NTLMSSP, SPNEGO_OID_LEN(SPNEGO_OID_NTLMSSP)))
        return NEGO_NTLM;
    return NEGO_NONE;
}

static bool in_list(const char *key, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(key, *list))
            return true;
    return false;
}

/* "kerberos,ntlm", "ntlm,kerberos", "ntlm", "!ntlm": the mechanisms allowed
 * (bit per mech) and the order of preference: as listed, then the rest in
 * the default order (Kerberos, NTLM). */
static sspx_status parse_packages(const char *v, unsigned *allow, int order[NEGO_NMECH])
{
    char buf[128], *save = NULL;
    unsigned plus = 0, minus = 0;
    int n = 0;
    if (v) {
        ENSURE(strlen(v) < sizeof(buf), SSPX_ERR_NEGO_BAD_PACKAGES);
        strcpy(buf, v);
        for (char *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
            bool neg = *t == '!' || *t == '-';
            int m = NEGO_NONE;
            if (neg)
                t++;
            if (!strcasecmp(t, "kerberos") || !strcasecmp(t, "krb5"))
                m = NEGO_KRB;
            else if (!strcasecmp(t, "ntlm"))
                m = NEGO_NTLM;
            ENSURE(m != NEGO_NONE, SSPX_ERR_NEGO_BAD_PACKAGES);
            ENSURE(!((plus | minus) & (1u << m)), SSPX_ERR_NEGO_BAD_PACKAGES); /* twice */
            if (neg) {
                minus |= 1u << m;
            } else {
                plus |= 1u << m;
                order[n++] = m;
            }
        }
        ENSURE(plus || minus, SSPX_ERR_NEGO_BAD_PACKAGES);
    }
    *allow = (plus ? plus : (1u << NEGO_NMECH) - 1) & ~minus;
    ENSURE(*allow, SSPX_ERR_NEGO_BAD_PACKAGES);
    for (int m = 0; m < NEGO_NMECH; m++) /* the default order for the rest */
        if (!(plus & (1u << m)))
            order[n++] = m;
    return SEC_E_OK;
}

/* The items of `cfg` whose key is in `keys`; *given says whether any was. */
static sspx_status split(const sspx_config *cfg, const char *const *keys, sspx_config *out,
                         bool *given)
{
    size_t k = 0;
    memset(out, 0, sizeof(*out));
    GUARD(sspx_config_copy(cfg, out));
    *given = false;
    for (size_t i = 0; i < out->n; i++) {
        if (in_list(out->items[i].key, keys)) {
            out->items[k++] = out->items[i];
            *given = true;
        } else {
            sspx_free_str(&out->items[i].key);
            sspx_free_wiped(out->items[i].value, out->items[i].len + 1);
        }
    }
    out->n = k;
    return SEC_E_OK;
}

static sspx_status nego_cred_acquire(sspx_cred *cred, const sspx_config *cfg)
{
    nego_cred *cr = cred->state;
    unsigned allow;
    int have = 0;
    const char *v;
    for (size_t i = 0; i < cfg->n; i++) {
        bool known = in_list(cfg->items[i].key, nego_keys);
        for (int m = 0; m < NEGO_NMECH && !known; m++) {
            const sspx_package *pkg = sspx_package_find(sub_names[m]);
            known = pkg && pkg->options && in_list(cfg->items[i].key, pkg->options);
        }
        ENSURE(known, SSPX_ERR_UNKNOWN_OPTION);
    }
    GUARD(parse_packages(sspx_config_str(cfg, "packages"), &allow, cr->order));
    v = sspx_config_str(cfg, "selection");
    ENSURE(!v || !strcmp(v, "server") || !strcmp(v, "client"), SSPX_ERR_BAD_OPTION_VALUE);
    cr->client_selects = v && !strcmp(v, "client");
    for (int m = 0; m < NEGO_NMECH; m++) {
        const sspx_package *pkg = sspx_package_find(sub_names[m]);
        sspx_config sub;
        bool given;
        sspx_status st;
        if (!pkg || !(allow & (1u << m)))
            continue;
        GUARD(split(cfg, pkg->options, &sub, &given));
        /* NTLM's server side also counts a lookup callback as "given" */
        if (m == NEGO_NTLM && (cred->usage & SECPKG_CRED_INBOUND) && cfg->lookup)
            given = true;
        st = sspx_cred_create(pkg, cred->usage, &sub, &cr->sub[m]);
        sspx_config_clear(&sub);
        if (st < 0 && given) /* options for this package that do not work: say so */
            return st;
        if (st >= 0) {
            have++;
            if (cr->sub[m]->expiry < cred->expiry)
                cred->expiry = cr->sub[m]->expiry;
        }
    }
    ENSURE(have, SSPX_ERR_NEGO_NO_CRED);
    return SEC_E_OK;
}

static void nego_cred_free(void *state)
{
    nego_cred *cr = state;
    for (int m = 0; m < NEGO_NMECH; m++)
        sspx_cred_unref(cr->sub[m]);
}

sspx_status nego_fail(sspx_ctx *ctx, sspx_step_out *out, sspx_bytes *tok, bool raw, sspx_status st)
{
    nego_ctx *c = ctx->state;
    if (st >= 0 || !c->sub_error_token || !tok->len)
        return st;
    sspx_bytes_clear(&out->token);
    if (raw) {
        if (sspx_bytes_set(&out->token, tok->data, tok->len) < 0)
            return st;
    } else if (nego_emit_resp(out, SPNEGO_REJECT, NEGO_NONE, tok, NULL, 0) < 0) {
        sspx_bytes_clear(&out->token);
        return st;
    }
    out->error_token = true;
    return st;
}

/* A leg of either side; once complete the context's flags are the chosen
 * sub-context's (a last leg that only checks a MIC has none of its own). */
static sspx_status with_sub_flags(sspx_ctx *ctx, sspx_step_out *out, sspx_status st)
{
    nego_ctx *c = ctx->state;
    if (st == SEC_E_OK && c->sub)
        out->ret_flags = c->sub->ret_flags;
    return st;
}

static sspx_status nego_accept_step(sspx_ctx *ctx, const sspx_step_in *in, sspx_step_out *out)
{
    return with_sub_flags(ctx, out, nego_accept(ctx, in, out));
}

static sspx_status nego_init_step(sspx_ctx *ctx, const sspx_step_in *in, sspx_step_out *out)
{
    return with_sub_flags(ctx, out, nego_init(ctx, in, out));
}

/* Delegation: the chosen sub-context's (Kerberos). */
static sspx_status nego_delegated_cred(sspx_ctx *ctx, sspx_cred **out)
{
    nego_ctx *c = ctx->state;
    ENSURE(c->sub, SSPX_ERR_CTX_NOT_COMPLETE);
    ENSURE(c->sub->pkg->delegated_cred, SSPX_ERR_KRB_NO_DELEGATION);
    return c->sub->pkg->delegated_cred(c->sub, out);
}

/* pAuthData: SEC_WINNT_AUTH_IDENTITY / SSPX_SERVER_AUTH_DATA mean NTLM's options. */
static sspx_status nego_auth_data(unsigned usage, const void *auth_data, sspx_config *cfg)
{
    const sspx_package *ntlm = sspx_package_find("NTLM");
    ENSURE(ntlm && ntlm->auth_data, SSPX_ERR_BAD_AUTH_DATA);
    return ntlm->auth_data(usage, auth_data, cfg);
}

static sspx_status nego_cred_query(sspx_cred *cred, uint32_t attr, void *buf)
{
    nego_cred *cr = cred->state;
    for (int m = 0; m < NEGO_NMECH; m++)
        if (cr->sub[m] && cr->sub[m]->pkg->cred_query)
            return cr->sub[m]->pkg->cred_query(cr->sub[m], attr, buf);
    BAIL(SSPX_ERR_UNSUPPORTED_ATTR);
}

/* ------------------------------------------------------- sub-contexts */

sspx_status nego_sub_start(sspx_ctx *ctx, int mech)
{
    nego_ctx *c = ctx->state;
    nego_cred *cr = ctx->cred->state;
    if (c->sub) {
        sspx_ctx_unref(c->sub);
        c->sub = NULL;
    }
    c->sub_done = false;
    ENSURE(cr->sub[mech], SSPX_ERR_NEGO_NO_COMMON_MECH);
    GUARD(sspx_ctx_create(cr->sub[mech], ctx->server, &c->sub));
    c->mech = mech;
    return SEC_E_OK;
}

sspx_status nego_sub_step(sspx_ctx *ctx, const sspx_step_in *in, const uint8_t *tok, size_t len,
                          sspx_bytes *out_tok, uint32_t *ret_flags)
{
    nego_ctx *c = ctx->state;
    sspx_step_in sin = *in;
    sspx_step_out sout;
    sspx_status st;
    memset(&sout, 0, sizeof(sout));
    sin.token = tok;
    sin.token_len = len;
    sin.desc = NULL; /* the sub-package reads the token and bindings given here */
    if (!c->sub->target && ctx->target)
        c->sub->target = sspx_strdup(ctx->target);
    if (!c->sub->cbt && ctx->cbt) {
        c->sub->cbt = malloc(ctx->cbt_len);
        ENSURE(c->sub->cbt, SSPX_ERR_NO_MEMORY);
        memcpy(c->sub->cbt, ctx->cbt, ctx->cbt_len);
        c->sub->cbt_len = ctx->cbt_len;
    }
    c->sub_error_token = false;
    st = sspx_ctx_run_step(c->sub, &sin, &sout);
    if (st < 0 && sout.error_token && sout.token.len &&
        sspx_bytes_set(out_tok, sout.token.data, sout.token.len) >= 0)
        c->sub_error_token = true;
    if (st >= 0) {
        sspx_status st2 = sspx_bytes_set(out_tok, sout.token.data, sout.token.len);
        if (st2 < 0)
            st = st2;
        *ret_flags = sout.ret_flags;
        if (st == SEC_E_OK)
            c->sub_done = true;
    }
    sspx_step_out_clear(&sout);
    ENSURE(st == SEC_E_OK || st == SEC_I_CONTINUE_NEEDED || st < 0, SSPX_ERR_NEGO_UNEXPECTED);
    return st;
}

/* The mechListMIC: the chosen package's MakeSignature / VerifySignature
 * over the MechTypeList DER (the first message of the sub-context). */
sspx_status nego_mic_make(sspx_ctx *ctx, uint8_t *mic, size_t cap, size_t *len)
{
    nego_ctx *c = ctx->state;
    uint8_t *copy = malloc(c->mech_types_len ? c->mech_types_len : 1);
    SecBuffer b[2] = {{(ULONG)cap, SECBUFFER_TOKEN, mic},
                      {(ULONG)c->mech_types_len, SECBUFFER_DATA, copy}};
    SecBufferDesc d = {SECBUFFER_VERSION, 2, b};
    sspx_msg m = {&d, 0, 0};
    sspx_status st;
    ENSURE(copy, SSPX_ERR_NO_MEMORY);
    memcpy(copy, c->mech_types, c->mech_types_len);
    st = c->sub->pkg->make_signature ? c->sub->pkg->make_signature(c->sub, &m)
                                     : SSPX_ERROR(SSPX_ERR_UNSUPPORTED);
    free(copy);
    GUARD(st);
    *len = b[0].cbBuffer;
    c->mic_sent = true;
    return SEC_E_OK;
}

sspx_status nego_mic_verify(sspx_ctx *ctx, const uint8_t *mic, size_t len)
{
    nego_ctx *c = ctx->state;
    uint8_t *copy = malloc(c->mech_types_len + len + 1);
    SecBuffer b[2];
    SecBufferDesc d = {SECBUFFER_VERSION, 2, b};
    sspx_msg m = {&d, 0, 0};
    sspx_status st;
    ENSURE(copy, SSPX_ERR_NO_MEMORY);
    memcpy(copy, c->mech_types, c->mech_types_len);
    memcpy(copy + c->mech_types_len, mic, len);
    b[0] = (SecBuffer){(ULONG)len, SECBUFFER_TOKEN, copy + c->mech_types_len};
    b[1] = (SecBuffer){(ULONG)c->mech_types_len, SECBUFFER_DATA, copy};
    st = c->sub->pkg->verify_signature ? c->sub->pkg->verify_signature(c->sub, &m)
                                       : SSPX_ERROR(SSPX_ERR_UNSUPPORTED);
    free(copy);
    if (st < 0)
        BAIL(SSPX_ERR_NEGO_MIC_BAD); /* the sub-package's reason is replaced by ours */
    c->mic_verified = true;
    return SEC_E_OK;
}

/* The sub-context is complete: its name and expiry become the context's. */
sspx_status nego_finish(sspx_ctx *ctx)
{
    nego_ctx *c = ctx->state;
    if (c->sub->client_name) {
        char *n = sspx_strdup(c->sub->client_name);
        ENSURE(n, SSPX_ERR_NO_MEMORY);
        sspx_free_str(&ctx->client_name);
        ctx->client_name = n;
    }
    ctx->expiry = c->sub->expiry;
    c->state = NEGO_S_DONE;
    return SEC_E_OK;
}

sspx_status nego_set_mech_types(nego_ctx *c, const uint8_t *p, size_t len)
{
    ENSURE(len && len <= NEGO_MAX_TOKEN, SSPX_ERR_NEGO_UNEXPECTED);
    c->mech_types = malloc(len);
    ENSURE(c->mech_types, SSPX_ERR_NO_MEMORY);
    memcpy(c->mech_types, p, len);
    c->mech_types_len = len;
    return SEC_E_OK;
}

sspx_status nego_emit_resp(sspx_step_out *out, int neg_state, int supported_mech,
                           const sspx_bytes *tok, const uint8_t *mic, size_t mic_len)
{
    size_t cap = (tok ? tok->len : 0) + mic_len + 64, n, olen = 0;
    const uint8_t *oid = supported_mech != NEGO_NONE ? nego_mech_oid(supported_mech, &olen) : NULL;
    uint8_t *buf;
    sspx_status st;
    ENSURE(cap <= NEGO_MAX_TOKEN, SSPX_ERR_NEGO_TOKEN_TOO_LARGE);
    buf = malloc(cap);
    ENSURE(buf, SSPX_ERR_NO_MEMORY);
    n = spnego_encode_resp(buf, cap, neg_state, (spnego_bytes){oid, olen},
                           (spnego_bytes){tok && tok->len ? tok->data : NULL, tok ? tok->len : 0},
                           (spnego_bytes){mic, mic_len});
    st = n ? sspx_bytes_set(&out->token, buf, n) : SSPX_ERROR(SSPX_ERR_NEGO_TOKEN_TOO_LARGE);
    free(buf);
    return st;
}

/* ------------------------------------------------- delegated operations */

static void nego_ctx_free(void *state)
{
    nego_ctx *c = state;
    sspx_ctx_unref(c->sub);
    sspx_free_wiped(c->mech_types, c->mech_types_len);
}

static sspx_status done_sub(sspx_ctx *ctx, sspx_ctx **sub)
{
    nego_ctx *c = ctx->state;
    ENSURE(c->state == NEGO_S_DONE && c->sub, SSPX_ERR_CTX_NOT_COMPLETE);
    *sub = c->sub;
    return SEC_E_OK;
}

static sspx_status nego_query(sspx_ctx *ctx, uint32_t attr, void *buf)
{
    nego_ctx *c = ctx->state;
    sspx_ctx *sub = NULL;
    if (attr == SECPKG_ATTR_NEGOTIATION_INFO || attr == SECPKG_ATTR_PACKAGE_INFO) {
        /* the negotiated package (before a choice: Negotiate itself) */
        return sspx_answer_package_info(c->sub ? c->sub->pkg : ctx->pkg, attr,
                                        c->state == NEGO_S_DONE, buf);
    }
    if (attr == SECPKG_ATTR_SIZES) {
        SecPkgContext_Sizes *s = buf;
        const sspx_package *pkg = c->sub ? c->sub->pkg : ctx->pkg;
        s->cbMaxToken = ctx->pkg->max_token;
        s->cbMaxSignature = pkg->max_signature;
        s->cbBlockSize = pkg->block_size;
        s->cbSecurityTrailer = pkg->security_trailer;
        return SEC_E_OK;
    }
    GUARD(done_sub(ctx, &sub));
    ENSURE(sub->pkg->query, SSPX_ERR_UNSUPPORTED_ATTR);
    return sub->pkg->query(sub, attr, buf);
}

static sspx_status nego_session_key(sspx_ctx *ctx, const uint8_t **key, size_t *len)
{
    sspx_ctx *sub = NULL;
    GUARD(done_sub(ctx, &sub));
    ENSURE(sub->pkg->session_key, SSPX_ERR_UNSUPPORTED_ATTR);
    return sub->pkg->session_key(sub, key, len);
}

#define DELEGATE_MSG(fn, slot)                          \
    static sspx_status fn(sspx_ctx *ctx, sspx_msg *msg) \
    {                                                   \
        sspx_ctx *sub = NULL;                           \
        GUARD(done_sub(ctx, &sub));                     \
        ENSURE(sub->pkg->slot, SSPX_ERR_UNSUPPORTED);   \
        return sub->pkg->slot(sub, msg);                \
    }
DELEGATE_MSG(nego_make_signature, make_signature)
DELEGATE_MSG(nego_verify_signature, verify_signature)
DELEGATE_MSG(nego_encrypt, encrypt)
DELEGATE_MSG(nego_decrypt, decrypt)

static sspx_status nego_complete_token(sspx_ctx *ctx, SecBufferDesc *token)
{
    nego_ctx *c = ctx->state;
    if (c->sub && c->sub->pkg->complete_token)
        return c->sub->pkg->complete_token(c->sub, token);
    return SEC_E_OK;
}

static sspx_status nego_describe(const uint8_t *tok, size_t len, sspx_desc **out)
{
    return spnego_describe(tok, len, out);
}

static int nego_recognise(const uint8_t *tok, size_t len)
{
    enum sspx_token_kind k = spnego_sniff(tok, len);
    return k == SSPX_TOKEN_SPNEGO_INIT || k == SSPX_TOKEN_SPNEGO_RESP;
}

const sspx_package sspx_negotiate_package = {
    .options = nego_keys,
    .name = "Negotiate",
    .comment = "Microsoft Package Negotiator",
    /* 0x00083BB3, as Windows lists its Negotiate package */
    .capabilities = SECPKG_FLAG_INTEGRITY | SECPKG_FLAG_PRIVACY | SECPKG_FLAG_CONNECTION |
                    SECPKG_FLAG_MULTI_REQUIRED | SECPKG_FLAG_EXTENDED_ERROR |
                    SECPKG_FLAG_IMPERSONATION | SECPKG_FLAG_ACCEPT_WIN32_NAME |
                    SECPKG_FLAG_NEGOTIABLE | SECPKG_FLAG_GSS_COMPATIBLE | SECPKG_FLAG_LOGON |
                    SECPKG_FLAG_RESTRICTED_TOKENS,
    .version = 1,
    .rpcid = 9, /* RPC_C_AUTHN_GSS_NEGOTIATE */
    .max_token = NEGO_MAX_TOKEN,
    .max_signature = 28,    /* the larger of the sub-packages' (Kerberos AES MIC) */
    .security_trailer = 60, /* idem (Kerberos CFX wrap) */
    .block_size = 0,
    .cred_size = sizeof(nego_cred),
    .ctx_size = sizeof(nego_ctx),
    .cred_acquire = nego_cred_acquire,
    .cred_free = nego_cred_free,
    .auth_data = nego_auth_data,
    .cred_query = nego_cred_query,
    .delegated_cred = nego_delegated_cred,
    .accept = nego_accept_step,
    .init = nego_init_step,
    .complete_token = nego_complete_token,
    .ctx_free = nego_ctx_free,
    .query = nego_query,
    .session_key = nego_session_key,
    .make_signature = nego_make_signature,
    .verify_signature = nego_verify_signature,
    .encrypt = nego_encrypt,
    .decrypt = nego_decrypt,
    .describe = nego_describe,
    .recognise = nego_recognise,
};
