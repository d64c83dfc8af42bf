/*
 * Negotiate, client side (InitializeSecurityContext).
 *
 * First call (its input, if any, the server's NegTokenInit2: decoded, its
 * list not followed): mechTypes = [Kerberos (when its sub-credential exists and it
 * can make a first token for the target), NTLM], the optimistic token of the
 * first. Later calls: NegTokenResp (negState, supportedMech, responseToken,
 * mechListMIC). When the sub-context completes the client sends its
 * mechListMIC when NTLM was chosen (as Windows), when the chosen mechanism
 * was not its first (downgrade protection) or when the server sent one; a
 * server MIC is verified; a required one that is missing fails.
 */
#include <stdlib.h>
#include <string.h>

#include "nego.h"

#define MIC_MAX 128

static sspx_status init_first(sspx_ctx *ctx, const sspx_step_in *in, sspx_step_out *out)
{
    nego_ctx *c = ctx->state;
    nego_cred *cr = ctx->cred->state;
    sspx_bytes tok = {0};
    spnego_bytes mechs[NEGO_NMECH];
    sspx_status st = SSPX_ERROR(SSPX_ERR_NEGO_NO_CRED), last = st;
    uint8_t *buf;
    size_t n, cap;
    spnego_init ti;
    int first = NEGO_NONE;
    /* The server spoke first (its NegTokenInit2): it must decode, but its
     * mechTypes are not followed. Nothing protects them (the mechListMIC
     * covers the client's own list), so dropping what they leave out would
     * let anyone in the path steer the client to NTLM; every mechanism is
     * offered, and the server's choice of a later one then needs the MICs. */
    if (in->token && in->token_len)
        GUARD(spnego_decode_init(in->token, in->token_len, &ti));
    /* in order of preference: the first mechanism that yields a token; the
     * rest follow untried */
    for (int k = 0; k < NEGO_NMECH; k++) {
        int m = cr->order[k];
        if (!cr->sub[m])
            continue;
        if (first == NEGO_NONE) {
            st = nego_sub_start(ctx, m);
            if (st >= 0)
                st = nego_sub_step(ctx, in, NULL, 0, &tok, &out->ret_flags);
            if (st < 0) { /* e.g. no ticket for the target: fall back */
                last = st;
                sspx_ctx_unref(c->sub);
                c->sub = NULL;
                sspx_bytes_clear(&tok);
                continue;
            }
            first = m;
        }
        c->offered[c->noffered++] = m;
    }
    if (first == NEGO_NONE)
        return last;
    for (size_t i = 0; i < c->noffered; i++)
        mechs[i].p = nego_mech_oid(c->offered[i], &mechs[i].len);
    cap = tok.len + 128;
    ENSURE(cap <= NEGO_MAX_TOKEN, SSPX_ERR_NEGO_TOKEN_TOO_LARGE);
    buf = malloc(cap);
    if (!buf) {
        sspx_bytes_clear(&tok);
        BAIL(SSPX_ERR_NO_MEMORY);
    }
    n = spnego_encode_init(buf, cap, mechs, c->noffered, 0, (spnego_bytes){tok.data, tok.len},
                           (spnego_bytes){NULL, 0});
    sspx_bytes_clear(&tok);
    st = n ? SEC_E_OK : SSPX_ERROR(SSPX_ERR_NEGO_TOKEN_TOO_LARGE);
    /* the mechListMIC covers the MechTypeList exactly as sent */
    if (st >= 0)
        st = spnego_decode_init(buf, n, &ti);
    if (st >= 0)
        st = nego_set_mech_types(c, ti.mech_types.p, ti.mech_types.len);
    if (st >= 0)
        st = sspx_bytes_set(&out->token, buf, n);
    free(buf);
    GUARD(st);
    c->state = NEGO_S_RUNNING;
    return SEC_I_CONTINUE_NEEDED;
}

static sspx_status init_resp(sspx_ctx *ctx, const sspx_step_in *in, sspx_step_out *out)
{
    nego_ctx *c = ctx->state;
    spnego_resp r;
    sspx_bytes tok = {0};
    uint8_t mic[MIC_MAX];
    size_t mic_len = 0;
    sspx_status st = SEC_E_OK;
    ENSURE(in->token && in->token_len, SSPX_ERR_NEGO_UNEXPECTED);
    ENSURE(in->token_len <= NEGO_MAX_TOKEN, SSPX_ERR_NEGO_TOKEN_TOO_LARGE);
    GUARD(spnego_decode_resp(in->token, in->token_len, &r));
    if (r.neg_state == SPNEGO_REJECT)
        BAIL(SSPX_ERR_NEGO_REJECTED);
    if (c->state == NEGO_S_WAIT_END) {
        ENSURE(r.neg_state == SPNEGO_ACCEPT_COMPLETED, SSPX_ERR_NEGO_UNEXPECTED);
        ENSURE(!r.response_token.present || !r.response_token.len, SSPX_ERR_NEGO_UNEXPECTED);
        if (r.mech_list_mic.present)
            GUARD(nego_mic_verify(ctx, r.mech_list_mic.p, r.mech_list_mic.len));
        ENSURE(c->mic_verified || !c->mic_required, SSPX_ERR_NEGO_MIC_MISSING);
        return nego_complete(ctx);
    }
    if (r.has_supported_mech) {
        int m = nego_mech_of_oid(&r.supported_mech);
        bool offered = false;
        for (size_t i = 0; i < c->noffered; i++)
            offered |= c->offered[i] == m;
        ENSURE(m != NEGO_NONE && offered, SSPX_ERR_NEGO_UNEXPECTED);
        if (m != c->offered[0]) { /* the server chose another: start it afresh */
            c->mic_required = true;
            ENSURE(!r.response_token.present || !r.response_token.len, SSPX_ERR_NEGO_UNEXPECTED);
            GUARD(nego_sub_start(ctx, m));
            GUARD(nego_sub_step(ctx, in, NULL, 0, &tok, &out->ret_flags));
            /* complete at once (Kerberos without mutual auth): the MIC goes
             * along, then the server's completes the exchange */
            if (c->sub_done)
                st = nego_mic_make(ctx, mic, sizeof(mic), &mic_len);
            if (st >= 0)
                st = nego_emit_resp(out, SPNEGO_NEG_STATE_ABSENT, NEGO_NONE, &tok,
                                    mic_len ? mic : NULL, mic_len);
            sspx_bytes_clear(&tok);
            GUARD(st);
            if (c->sub_done)
                c->state = NEGO_S_WAIT_END;
            return SEC_I_CONTINUE_NEEDED;
        }
    }
    if (!c->sub_done) {
        ENSURE(r.response_token.present && r.response_token.len, SSPX_ERR_NEGO_UNEXPECTED);
        st =
            nego_sub_step(ctx, in, r.response_token.p, r.response_token.len, &tok, &out->ret_flags);
        if (st < 0)
            goto out;
    } else {
        ENSURE(!r.response_token.present || !r.response_token.len, SSPX_ERR_NEGO_UNEXPECTED);
    }
    if (st == SEC_I_CONTINUE_NEEDED) {
        st = nego_emit_resp(out, SPNEGO_NEG_STATE_ABSENT, NEGO_NONE, &tok, NULL, 0);
        if (st >= 0)
            st = SEC_I_CONTINUE_NEEDED;
        goto out;
    }
    /* the sub-context is complete */
    if (r.mech_list_mic.present)
        GUARD_GOTO(nego_mic_verify(ctx, r.mech_list_mic.p, r.mech_list_mic.len));
    if (r.neg_state == SPNEGO_ACCEPT_COMPLETED && !tok.len && !c->mic_required &&
        c->mech != NEGO_NTLM) {
        st = nego_complete(ctx); /* e.g. Kerberos, first choice: no MIC exchange */
        goto out;
    }
    if (r.neg_state == SPNEGO_ACCEPT_COMPLETED && c->mic_verified) {
        /* the server is done and proved the list: a last token only if the
         * sub-context produced one */
        if (tok.len)
            GUARD_GOTO(nego_emit_resp(out, SPNEGO_NEG_STATE_ABSENT, NEGO_NONE, &tok, NULL, 0));
        st = nego_complete(ctx);
        goto out;
    }
    ENSURE_GOTO(r.neg_state != SPNEGO_ACCEPT_COMPLETED || !c->mic_required,
                SSPX_ERR_NEGO_MIC_MISSING);
    GUARD_GOTO(nego_mic_make(ctx, mic, sizeof(mic), &mic_len));
    GUARD_GOTO(nego_emit_resp(out, SPNEGO_NEG_STATE_ABSENT, NEGO_NONE, &tok, mic, mic_len));
    c->state = NEGO_S_WAIT_END;
    st = SEC_I_CONTINUE_NEEDED;
out:
    sspx_bytes_clear(&tok);
    return st;
}

sspx_status nego_init(sspx_ctx *ctx, const sspx_step_in *in, sspx_step_out *out)
{
    nego_ctx *c = ctx->state;
    if (c->state == NEGO_S_START)
        return init_first(ctx, in, out);
    if (c->state == NEGO_S_RUNNING || c->state == NEGO_S_WAIT_END)
        return init_resp(ctx, in, out);
    BAIL(SSPX_ERR_NEGO_UNEXPECTED);
}
