/*
 * Kerberos client: InitializeSecurityContext over gss_init_sec_context.
 *
 *   state        input    output   status
 *   INITIAL      (none)   AP-REQ   SEC_I_CONTINUE_NEEDED (mutual) / SEC_E_OK
 *   WAIT_AP_REP  AP-REP   (none)   SEC_E_OK
 *
 * The target is remembered from the first call (GSS needs the same name on
 * every call of one context).
 */
#include <string.h>

#include "krb.h"

static uint32_t gss_req(uint32_t isc)
{
    return (isc & ISC_REQ_DELEGATE ? KRB_GSS_DELEG : 0) |
           (isc & ISC_REQ_MUTUAL_AUTH ? KRB_GSS_MUTUAL : 0) |
           (isc & ISC_REQ_REPLAY_DETECT ? KRB_GSS_REPLAY : 0) |
           (isc & ISC_REQ_SEQUENCE_DETECT ? KRB_GSS_SEQUENCE : 0) |
           (isc & ISC_REQ_CONFIDENTIALITY ? KRB_GSS_CONF : 0) |
           (isc & ISC_REQ_INTEGRITY ? KRB_GSS_INTEG : 0);
}

static uint32_t isc_flags(uint32_t g)
{
    return (g & KRB_GSS_DELEG ? ISC_RET_DELEGATE : 0) |
           (g & KRB_GSS_MUTUAL ? ISC_RET_MUTUAL_AUTH : 0) |
           (g & KRB_GSS_REPLAY ? ISC_RET_REPLAY_DETECT : 0) |
           (g & KRB_GSS_SEQUENCE ? ISC_RET_SEQUENCE_DETECT : 0) |
           (g & KRB_GSS_CONF ? ISC_RET_CONFIDENTIALITY : 0) |
           (g & KRB_GSS_INTEG ? ISC_RET_INTEGRITY : 0);
}

sspx_status krb_init(sspx_ctx *ctx, const sspx_step_in *in, sspx_step_out *out)
{
    kerb_ctx *c = ctx->state;
    const kerb_cred *cr = ctx->cred->state;
    krb_gss_step r;
    sspx_cbt cbt;
    const uint8_t *tok = NULL;
    size_t tok_len = 0;

    krb_gss_cred *g = NULL;
    ENSURE(ctx->cred->usage & SECPKG_CRED_OUTBOUND, SSPX_ERR_CRED_USAGE);
    if (c->state == KRB_S_INITIAL) {
        const char *t = in->target ? in->target : ctx->target;
        ENSURE(t && *t, SSPX_ERR_KRB_BAD_TARGET);
        ENSURE(strlen(t) < sizeof(c->peer), SSPX_ERR_KRB_BAD_TARGET);
        strcpy(c->peer, t);
    } else {
        ENSURE(c->state == KRB_S_WAIT_AP_REP, SSPX_ERR_CTX_ALREADY_COMPLETE);
        ENSURE(in->token && in->token_len, SSPX_ERR_NO_INPUT_TOKEN);
        ENSURE(in->token_len <= KRB_MAX_TOKEN, SSPX_ERR_KRB_TOKEN_TOO_LARGE);
        tok = in->token;
        tok_len = in->token_len;
    }
    if (in->cbt)
        GUARD(sspx_cbt_parse(in->cbt, in->cbt_len, &cbt));
    GUARD(krb_cred_initiator(cr, &g)); /* a password credential's TGT: now */
    GUARD(krb_gss_init(g, &c->gctx, c->peer, gss_req(ctx->req_flags), tok, tok_len,
                       in->cbt ? &cbt : NULL, &out->token, &r));
    c->gss_flags = r.flags;
    out->ret_flags = isc_flags(r.flags);
    if (!r.complete) {
        c->state = KRB_S_WAIT_AP_REP;
        return SEC_I_CONTINUE_NEEDED;
    }
    GUARD(krb_set_client_name(ctx, cr->name));
    ctx->expiry = krb_expiry(r.time_rec);
    c->state = KRB_S_DONE;
    return SEC_E_OK;
}
