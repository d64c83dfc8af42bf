/*
 * Negotiate, server side (AcceptSecurityContext).
 *
 * No input at all first: the server's NegTokenInit2 (hints), then as below.
 * First token (spnego_sniff):
 *   GSS-framed NegTokenInit  -> the first of the client's mechTypes this
 *                               credential offers (RFC 4178 4.2.1); its
 *                               optimistic mechToken runs when it is for it
 *   raw NTLMSSP              -> NTLM, answered raw (as Windows)
 *   raw / GSS-framed AP-REQ  -> Kerberos, answered raw
 *   NEGOEX                   -> refused
 * Later tokens: NegTokenResp whose responseToken goes to the sub-context.
 *
 * mechListMIC: required when the chosen mechanism is not the client's
 * first; verified whenever the client sends one; the server sends its own
 * after verifying the client's, or (required, sub-context done before the
 * client could send one) with accept-incomplete, then waits for the client's.
 */
#include <string.h>

#include "nego.h"

#define MIC_MAX 128

static sspx_status accept_raw(sspx_ctx *ctx, const sspx_step_in *in, sspx_step_out *out, int mech)
{
    nego_ctx *c = ctx->state;
    sspx_status st;
    if (c->state == NEGO_S_START) {
        GUARD(nego_sub_start(ctx, mech));
        c->state = NEGO_S_RAW;
    }
    st = nego_sub_step(ctx, in, in->token, in->token_len, &out->token, &out->ret_flags);
    if (st < 0) {
        if (c->sub_error_token) /* already in out->token, raw as the request */
            out->error_token = true;
        return st;
    }
    if (st == SEC_E_OK)
        GUARD(nego_complete(ctx));
    return st;
}

/* After the sub-context completed in this call: the MIC exchange. */
static sspx_status server_complete(sspx_ctx *ctx, sspx_step_out *out, const sspx_bytes *tok,
                                   const spnego_view *client_mic, bool client_could_mic,
                                   int supported)
{
    nego_ctx *c = ctx->state;
    uint8_t mic[MIC_MAX];
    size_t mic_len = 0;
    if (client_mic && client_mic->present) {
        GUARD(nego_mic_verify(ctx, client_mic->p, client_mic->len));
    } else if (c->mic_required && client_could_mic) {
        BAIL(SSPX_ERR_NEGO_MIC_MISSING);
    }
    if (c->mic_verified || c->mic_required)
        GUARD(nego_mic_make(ctx, mic, sizeof(mic), &mic_len));
    if (c->mic_required && !c->mic_verified) { /* wait for the client's MIC */
        GUARD(nego_emit_resp(out, SPNEGO_ACCEPT_INCOMPLETE, supported, tok, mic, mic_len));
        c->state = NEGO_S_WAIT_MIC;
        return SEC_I_CONTINUE_NEEDED;
    }
    GUARD(nego_emit_resp(out, SPNEGO_ACCEPT_COMPLETED, supported, tok, mic_len ? mic : NULL,
                         mic_len));
    GUARD(nego_complete(ctx));
    return SEC_E_OK;
}

static sspx_status accept_init(sspx_ctx *ctx, const sspx_step_in *in, sspx_step_out *out)
{
    nego_ctx *c = ctx->state;
    nego_cred *cr = ctx->cred->state;
    spnego_init ti;
    sspx_bytes tok = {0};
    int chosen = NEGO_NONE;
    size_t idx = 0;
    sspx_status st;
    GUARD(spnego_decode_init(in->token, in->token_len, &ti));
    if (cr->client_selects) { /* the first of the client's list we offer */
        for (size_t i = 0; i < ti.nmechs && chosen == NEGO_NONE; i++) {
            int m = nego_mech_of_oid(&ti.mechs[i]);
            if (m != NEGO_NONE && cr->sub[m]) {
                chosen = m;
                idx = i;
            }
        }
    } else { /* our most preferred mechanism the client lists (anywhere) */
        for (int k = 0; k < NEGO_NMECH && chosen == NEGO_NONE; k++) {
            int m = cr->order[k];
            for (size_t i = 0; i < ti.nmechs && cr->sub[m]; i++)
                if (nego_mech_of_oid(&ti.mechs[i]) == m) {
                    chosen = m;
                    idx = i;
                    break;
                }
        }
    }
    ENSURE(chosen != NEGO_NONE, SSPX_ERR_NEGO_NO_COMMON_MECH);
    GUARD(nego_set_mech_types(c, ti.mech_types.p, ti.mech_types.len));
    GUARD(nego_sub_start(ctx, chosen));
    c->mic_required = idx != 0;
    c->state = NEGO_S_RUNNING;
    if (idx != 0 || !ti.mech_token.present) { /* no usable optimistic token */
        GUARD(nego_emit_resp(out, SPNEGO_ACCEPT_INCOMPLETE, chosen, NULL, NULL, 0));
        return SEC_I_CONTINUE_NEEDED;
    }
    st = nego_sub_step(ctx, in, ti.mech_token.p, ti.mech_token.len, &tok, &out->ret_flags);
    if (st == SEC_I_CONTINUE_NEEDED)
        st = nego_emit_resp(out, SPNEGO_ACCEPT_INCOMPLETE, chosen, &tok, NULL, 0) < 0
                 ? SSPX_ERROR(SSPX_ERR_NO_MEMORY)
                 : SEC_I_CONTINUE_NEEDED;
    else if (st == SEC_E_OK)
        st = server_complete(ctx, out, &tok, &ti.mech_list_mic, ti.mech_list_mic.present, chosen);
    else
        st = nego_fail(ctx, out, &tok, false, st);
    sspx_bytes_clear(&tok);
    return st;
}

static sspx_status accept_resp(sspx_ctx *ctx, const sspx_step_in *in, sspx_step_out *out)
{
    nego_ctx *c = ctx->state;
    spnego_resp r;
    sspx_bytes tok = {0};
    sspx_status st;
    GUARD(spnego_decode_resp(in->token, in->token_len, &r));
    if (r.neg_state == SPNEGO_REJECT)
        BAIL(SSPX_ERR_NEGO_REJECTED);
    if (c->state == NEGO_S_WAIT_MIC) {
        ENSURE(!r.response_token.present || !r.response_token.len, SSPX_ERR_NEGO_UNEXPECTED);
        ENSURE(r.mech_list_mic.present, SSPX_ERR_NEGO_MIC_MISSING);
        GUARD(nego_mic_verify(ctx, r.mech_list_mic.p, r.mech_list_mic.len));
        GUARD(nego_emit_resp(out, SPNEGO_ACCEPT_COMPLETED, NEGO_NONE, NULL, NULL, 0));
        GUARD(nego_complete(ctx));
        return SEC_E_OK;
    }
    ENSURE(r.response_token.present && r.response_token.len, SSPX_ERR_NEGO_UNEXPECTED);
    st = nego_sub_step(ctx, in, r.response_token.p, r.response_token.len, &tok, &out->ret_flags);
    if (st == SEC_I_CONTINUE_NEEDED)
        st = nego_emit_resp(out, SPNEGO_ACCEPT_INCOMPLETE, NEGO_NONE, &tok, NULL, 0) < 0
                 ? SSPX_ERROR(SSPX_ERR_NO_MEMORY)
                 : SEC_I_CONTINUE_NEEDED;
    else if (st == SEC_E_OK) /* a last token of ours (AP-REP): the client is not done yet */
        st = server_complete(ctx, out, &tok, &r.mech_list_mic, tok.len == 0, NEGO_NONE);
    else
        st = nego_fail(ctx, out, &tok, false, st);
    sspx_bytes_clear(&tok);
    return st;
}

/* Called with no input first (as SMB servers do): the server's NegTokenInit2
 * (MS-SPNG 2.2.1) listing its mechanisms, with the "not_defined_in_RFC4178@
 * please_ignore" hint; the client's NegTokenInit comes next. */
static sspx_status accept_hint(sspx_ctx *ctx, sspx_step_out *out)
{
    nego_ctx *c = ctx->state;
    const nego_cred *cr = ctx->cred->state;
    spnego_bytes mechs[NEGO_NMECH];
    uint8_t buf[256];
    size_t n = 0, len;
    for (int k = 0; k < NEGO_NMECH; k++)
        if (cr->sub[cr->order[k]]) {
            mechs[n].p = nego_mech_oid(cr->order[k], &mechs[n].len);
            n++;
        }
    len = spnego_encode_init2(buf, sizeof(buf), mechs, n, (spnego_bytes){NULL, 0},
                              (spnego_bytes){NULL, 0}, (spnego_bytes){NULL, 0});
    ENSURE(len, SSPX_ERR_NEGO_TOKEN_TOO_LARGE);
    GUARD(sspx_bytes_set(&out->token, buf, len));
    c->hinted = true;
    return SEC_I_CONTINUE_NEEDED;
}

sspx_status nego_accept(sspx_ctx *ctx, const sspx_step_in *in, sspx_step_out *out)
{
    nego_ctx *c = ctx->state;
    if ((!in->token || !in->token_len) && c->state == NEGO_S_START && !c->hinted)
        return accept_hint(ctx, out);
    ENSURE(in->token && in->token_len, SSPX_ERR_NEGO_UNEXPECTED);
    ENSURE(in->token_len <= NEGO_MAX_TOKEN, SSPX_ERR_NEGO_TOKEN_TOO_LARGE);
    switch (c->state) {
    case NEGO_S_START:
        switch (spnego_sniff(in->token, in->token_len)) {
        case SSPX_TOKEN_SPNEGO_INIT:
            return accept_init(ctx, in, out);
        case SSPX_TOKEN_NTLMSSP:
            return accept_raw(ctx, in, out, NEGO_NTLM);
        case SSPX_TOKEN_KRB5_AP_REQ_GSS:
        case SSPX_TOKEN_KRB5_AP_REQ:
            return accept_raw(ctx, in, out, NEGO_KRB);
        case SSPX_TOKEN_NEGOEX:
            BAIL(SSPX_ERR_NEGO_NEGOEX);
        case SSPX_TOKEN_SPNEGO_RESP:
            BAIL(SSPX_ERR_NEGO_UNEXPECTED);
        default: {
            /* not recognised: let the decoder say what is wrong with it */
            spnego_init ti;
            GUARD(spnego_decode_init(in->token, in->token_len, &ti));
            BAIL(SSPX_ERR_NEGO_UNEXPECTED);
        }
        }
    case NEGO_S_RAW:
        return accept_raw(ctx, in, out, c->mech);
    case NEGO_S_RUNNING:
    case NEGO_S_WAIT_MIC:
        return accept_resp(ctx, in, out);
    default:
        BAIL(SSPX_ERR_NEGO_UNEXPECTED);
    }
}
