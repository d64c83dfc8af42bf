/*
 * Kerberos server: AcceptSecurityContext over gss_accept_sec_context.
 *
 *   state     input                      output              status
 *   INITIAL   AP-REQ (GSS-framed krb5)   AP-REP if mutual     SEC_E_OK
 *
 * The krb5 mechanism completes in one leg on the acceptor (no DCE style
 * yet); SEC_I_CONTINUE_NEEDED is passed through should GSS ask for more.
 *
 * Replays: Heimdal's acceptor has no replay cache, so the credential keeps
 * one (krb_rcache.h). The AP-REQ's authenticator is keyed before GSS sees
 * the token (a token we cannot parse is refused), and the key is inserted
 * only once GSS has verified ticket and authenticator: a forged token
 * never reaches the cache. A key already there -> SSPX_ERR_KRB_REPLAY.
 */
#include <string.h>

#include "krb.h"

int64_t krb_expiry(uint32_t time_rec)
{
    if (time_rec == UINT32_MAX) /* GSS_C_INDEFINITE */
        return SSPX_TIMESTAMP_NEVER;
    return (int64_t)(sspx_now_filetime() + (uint64_t)time_rec * SSPX_FILETIME_SECOND);
}

static uint32_t asc_flags(uint32_t g)
{
    return (g & KRB_GSS_DELEG ? ASC_RET_DELEGATE : 0) |
           (g & KRB_GSS_MUTUAL ? ASC_RET_MUTUAL_AUTH : 0) |
           (g & KRB_GSS_REPLAY ? ASC_RET_REPLAY_DETECT : 0) |
           (g & KRB_GSS_SEQUENCE ? ASC_RET_SEQUENCE_DETECT : 0) |
           (g & KRB_GSS_CONF ? ASC_RET_CONFIDENTIALITY : 0) |
           (g & KRB_GSS_INTEG ? ASC_RET_INTEGRITY : 0);
}

/* "alice@TEST.LOCAL" -> "TEST.LOCAL\alice", as Windows names a Kerberos
 * client in SECPKG_ATTR_NAMES (the realm as the domain). The realm starts
 * after the last '@' not escaped with '\'. */
sspx_status krb_set_client_name(sspx_ctx *ctx, const char *principal)
{
    char user[KRB_NAME_MAX];
    const char *at = NULL;
    for (const char *p = principal; *p; p++) {
        if (*p == '\\' && p[1])
            p++;
        else if (*p == '@')
            at = p;
    }
    if (!at)
        return sspx_ctx_set_client_name(ctx, "", principal);
    memcpy(user, principal, (size_t)(at - principal));
    user[at - principal] = 0;
    return sspx_ctx_set_client_name(ctx, at + 1, user);
}

/* Did the client bind its authenticator to a channel? */
static sspx_status client_bound(krb_gss_ctx *g, const uint8_t *tok, size_t len)
{
    size_t plen = 0;
    uint8_t *plain = NULL;
    bool bound = false;
    sspx_status st;
    GUARD(krb_gss_decrypt_authenticator(g, tok, len, &plain, &plen));
    st = krb_authenticator_bound(plain, plen, &bound);
    sspx_free_wiped(plain, plen ? plen : 1);
    GUARD(st);
    ENSURE(bound, SSPX_ERR_KRB_CBT_MISSING);
    return SEC_E_OK;
}

/* A token GSS accepted that sspx refuses after all (bindings, replay): drop
 * the GSS context, what was delegated and the AP-REP; with `error_srv` (the
 * caller asked for extended errors) a KRB-ERROR `code` instead. */
static sspx_status refuse(kerb_ctx *c, sspx_step_out *out, sspx_status st, const char *error_srv,
                          int32_t code)
{
    krb_gss_ctx_delete(&c->gctx);
    krb_gss_cred_release(&c->delegated);
    sspx_bytes_clear(&out->token);
    if (error_srv)
        krb_gss_error_token(code, error_srv, &out->token);
    out->error_token = error_srv != NULL;
    return st;
}

sspx_status krb_accept(sspx_ctx *ctx, const sspx_step_in *in, sspx_step_out *out)
{
    bool in_cbt = in->cbt != NULL;
    kerb_ctx *c = ctx->state;
    const kerb_cred *cr = ctx->cred->state;
    krb_gss_step r;
    sspx_cbt cbt;
    uint8_t key[KRB_RC_KEY_LEN];
    uint64_t now;
    sspx_status st;
    /* on failure, a KRB-ERROR in the output token (the core hands it out),
     * from the principal option or else the service the ticket names */
    const bool ext_error = ctx->req_flags & ASC_REQ_EXTENDED_ERROR;
    char srv[KRB_NAME_MAX] = "";

    ENSURE(c->state == KRB_S_INITIAL, SSPX_ERR_CTX_ALREADY_COMPLETE);
    ENSURE(cr->acceptor, SSPX_ERR_CRED_USAGE);
    ENSURE(in->token && in->token_len, SSPX_ERR_NO_INPUT_TOKEN);
    ENSURE(in->token_len <= KRB_MAX_TOKEN, SSPX_ERR_KRB_TOKEN_TOO_LARGE);
    if (cr->cbt_policy == SSPX_CBT_REQUIRED)
        ENSURE(in->cbt, SSPX_ERR_KRB_CBT_NOT_SUPPLIED);
    if (in->cbt && cr->cbt_policy != SSPX_CBT_NEVER)
        GUARD(sspx_cbt_parse(in->cbt, in->cbt_len, &cbt));
    else
        in_cbt = false;
    if (ext_error && cr->service[0])
        strcpy(srv, cr->service);
    else if (ext_error)
        (void)krb_apreq_service(in->token, in->token_len, srv, sizeof(srv));
    st = krb_apreq_replay_key(in->token, in->token_len, key);
    if (st < 0) {
        if (ext_error)
            krb_gss_error_token(KRB_ERR_GENERIC, srv, &out->token);
        out->error_token = ext_error;
        return st;
    }
    /* a replay is refused before GSS: it costs nothing and never reaches
     * Heimdal's failure paths (some leak) */
    st = cr->rcache->check(cr->rcache, key, sspx_now_filetime());
    if (st < 0) {
        if (ext_error)
            krb_gss_error_token(KRB_ERR_REPEAT, srv, &out->token);
        out->error_token = ext_error;
        return st;
    }
    st = krb_gss_accept(cr->acceptor, &c->gctx, in->token, in->token_len, in_cbt ? &cbt : NULL,
                        &out->token, &r, ctx->req_flags & ASC_REQ_DELEGATE ? &c->delegated : NULL,
                        ext_error ? srv : NULL);
    if (st < 0) {
        out->error_token = ext_error;
        return st;
    }
    /* GSS compared bindings the client sent; "required" also refuses a
     * client that sent none (a zero Bnd, which GSS lets through) */
    if (cr->cbt_policy == SSPX_CBT_REQUIRED)
        st = client_bound(c->gctx, in->token, in->token_len);
    if (st < 0)
        return refuse(c, out, st, ext_error ? srv : NULL, KRB_ERR_GENERIC);
    /* verified: now (and only now) the authenticator counts as used */
    now = sspx_now_filetime();
    st = cr->rcache->check_and_insert(cr->rcache, key, now,
                                      now + (uint64_t)cr->replay_window * SSPX_FILETIME_SECOND);
    if (st < 0)
        return refuse(c, out, st, ext_error ? srv : NULL, KRB_ERR_REPEAT);
    c->gss_flags = r.flags;
    out->ret_flags = asc_flags(r.flags);
    if (!c->delegated) /* delegated only when asked for and a TGT came */
        out->ret_flags &= ~(uint32_t)ASC_RET_DELEGATE;
    if (!r.complete)
        return SEC_I_CONTINUE_NEEDED;
    memcpy(c->peer, r.peer, sizeof(c->peer));
    GUARD(krb_set_client_name(ctx, r.peer));
    ctx->expiry = krb_expiry(r.time_rec);
    c->state = KRB_S_DONE;
    return SEC_E_OK;
}
