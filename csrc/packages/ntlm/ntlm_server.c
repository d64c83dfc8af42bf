/*
 * NTLM server: AcceptSecurityContext, MS-NLMP 3.2.5.
 *
 *   state              input            output      status
 *   INITIAL            NEGOTIATE        CHALLENGE   SEC_I_CONTINUE_NEEDED
 *   CHALLENGE_SENT     AUTHENTICATE     (none)      SEC_E_OK
 *
 * Verification always runs the same computation whether or not the user
 * exists (an unknown user is checked against a random key), so the status
 * and the time of a refusal do not tell the two apart.
 */
#include <string.h>

#include "ntlm.h"
#include "wire/cursor.h"
#include "wire/utf.h"

/* Flags the server can grant (3.2.5.1.1); the rest of the client's are dropped. */
#define SERVER_FLAGS                                                                   \
    (NTLMSSP_NEGOTIATE_SIGN | NTLMSSP_NEGOTIATE_SEAL | NTLMSSP_NEGOTIATE_NTLM |        \
     NTLMSSP_NEGOTIATE_ALWAYS_SIGN | NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY |      \
     NTLMSSP_NEGOTIATE_IDENTIFY | NTLMSSP_NEGOTIATE_128 | NTLMSSP_NEGOTIATE_KEY_EXCH | \
     NTLMSSP_NEGOTIATE_56 | NTLMSSP_REQUEST_TARGET)

sspx_status ntlm_field_utf8(const ntlm_field *f, bool unicode, char *out, size_t cap)
{
    out[0] = 0;
    if (f->len == 0)
        return SEC_E_OK;
    ENSURE(f->len <= 2 * NTLM_NAME_MAX, SSPX_ERR_NTLM_BAD_STRING);
    if (unicode) {
        ENSURE(!(f->len & 1), SSPX_ERR_NTLM_FIELD_ODD);
        ENSURE(sspx_utf16le_to_utf8(f->p, f->len, out, cap), SSPX_ERR_NTLM_BAD_STRING);
    } else {
        ENSURE(sspx_oem_to_utf8(f->p, f->len, out, cap), SSPX_ERR_NTLM_BAD_STRING);
    }
    return SEC_E_OK;
}

static sspx_status put_name(uint8_t *out, size_t cap, size_t *pos, const ntlm_wstr *w, bool unicode)
{
    bool ok = unicode ? ntlm_wstr_put_u16(out, cap, pos, w) : ntlm_wstr_put_oem(out, cap, pos, w);
    ENSURE(ok, SSPX_ERR_NTLM_TOO_LARGE);
    return SEC_E_OK;
}

static sspx_status server_challenge(sspx_ctx *ctx, const sspx_step_in *in, sspx_step_out *out)
{
    ntlm_ctx *c = ctx->state;
    const ntlm_cred *cr = ctx->cred->state;
    ntlm_negotiate neg;
    uint8_t tinfo[1100], tname[2 * NTLM_NAME_MAX], msg[sizeof(c->challenge)];
    static const uint8_t version[8] = NTLM_VERSION_BYTES;
    size_t tinfo_len = cr->tinfo_len, tname_len = 0, len;
    uint32_t f;
    uint64_t now;

    ENSURE(in->token, SSPX_ERR_NO_INPUT_TOKEN);
    GUARD(ntlm_decode_negotiate(in->token, in->token_len, &neg));
    /* NTLM must be set (2.2.2.5), but NTLMv2 clients that ask for extended
     * session security without it exist (python's ntlm-auth, under requests_ntlm)
     * and Windows accepts them: ESS implies it. The response is verified the
     * same way either way. */
    ENSURE(neg.flags & (NTLMSSP_NEGOTIATE_NTLM | NTLMSSP_ANONYMOUS |
                        NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY),
           SSPX_ERR_NTLM_NO_NTLM_FLAG);
    ENSURE(neg.flags & (NTLMSSP_NEGOTIATE_UNICODE | NTLMSSP_NEGOTIATE_OEM),
           SSPX_ERR_NTLM_NO_ENCODING);
    ENSURE(!(in->req_flags & ASC_REQ_DATAGRAM), SSPX_ERR_UNSUPPORTED);

    f = (neg.flags & SERVER_FLAGS) | NTLMSSP_NEGOTIATE_NTLM | NTLMSSP_NEGOTIATE_TARGET_INFO |
        NTLMSSP_NEGOTIATE_VERSION | NTLMSSP_TARGET_TYPE_DOMAIN;
    f |=
        (neg.flags & NTLMSSP_NEGOTIATE_UNICODE) ? NTLMSSP_NEGOTIATE_UNICODE : NTLMSSP_NEGOTIATE_OEM;
    if (!(f & NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY) && cr->allow_lm &&
        (neg.flags & NTLMSSP_NEGOTIATE_LM_KEY))
        f |= NTLMSSP_NEGOTIATE_LM_KEY;
    if (cr->require_128)
        ENSURE(!(f & (NTLMSSP_NEGOTIATE_SEAL | NTLMSSP_NEGOTIATE_SIGN)) ||
                   (f & NTLMSSP_NEGOTIATE_128),
               SSPX_ERR_NTLM_WEAK_KEY);

    GUARD(sspx_random(c->server_challenge, 8));
    now = sspx_now_filetime();
    c->challenge_time = now;

    /* TargetInfo: the credential's names, MsvAvTimestamp, MsvAvEOL (2.2.2.1) */
    memcpy(tinfo, cr->tinfo, tinfo_len);
    uint8_t ts[8];
    for (int i = 0; i < 8; i++)
        ts[i] = (uint8_t)(now >> (8 * i));
    ENSURE(ntlm_av_put(tinfo, sizeof(tinfo), &tinfo_len, MsvAvTimestamp, ts, 8) &&
               ntlm_av_put(tinfo, sizeof(tinfo), &tinfo_len, MsvAvEOL, NULL, 0),
           SSPX_ERR_NTLM_TOO_LARGE);
    GUARD(
        put_name(tname, sizeof(tname), &tname_len, &cr->nb_domain, f & NTLMSSP_NEGOTIATE_UNICODE));

    len = ntlm_encode_challenge(msg, sizeof(msg), f, (ntlm_bytes){tname, tname_len},
                                c->server_challenge, (ntlm_bytes){tinfo, tinfo_len}, version);
    ENSURE(len, SSPX_ERR_NTLM_TOO_LARGE);
    GUARD(sspx_bytes_set(&c->negotiate, in->token, in->token_len));
    memcpy(c->challenge, msg, len);
    c->challenge_len = len;
    c->flags = f;
    GUARD(sspx_bytes_set(&out->token, msg, len));
    c->state = NTLM_S_CHALLENGE_SENT;
    return SEC_I_CONTINUE_NEEDED;
}

/* The client's channel bindings against the application's (3.2.5.1.2). */
static sspx_status check_bindings(const ntlm_cred *cr, const sspx_step_in *in, const ntlm_av *av)
{
    static const uint8_t zero[16] = {0};
    uint8_t want[16];
    sspx_cbt cbt;
    bool client_sent =
        av->seen[MsvAvChannelBindings] && !sspx_ct_equal(av->v[MsvAvChannelBindings], zero, 16);
    if (cr->cbt_policy == SSPX_CBT_NEVER)
        return SEC_E_OK;
    if (!in->cbt) {
        ENSURE(cr->cbt_policy != SSPX_CBT_REQUIRED, SSPX_ERR_NTLM_CBT_NOT_SUPPLIED);
        return SEC_E_OK;
    }
    if (!client_sent) {
        ENSURE(cr->cbt_policy != SSPX_CBT_REQUIRED, SSPX_ERR_NTLM_CBT_MISSING);
        return SEC_E_OK;
    }
    GUARD(sspx_cbt_parse(in->cbt, in->cbt_len, &cbt));
    GUARD(sspx_cbt_hash(&cbt, want));
    ENSURE(sspx_ct_equal(want, av->v[MsvAvChannelBindings], 16), SSPX_ERR_NTLM_CBT_MISMATCH);
    return SEC_E_OK;
}

/* MIC = HMAC_MD5(ExportedSessionKey, NEGOTIATE || CHALLENGE || AUTHENTICATE
 * with its MIC field zeroed) (3.1.5.1.2). */
static sspx_status compute_mic(const ntlm_ctx *c, const uint8_t *auth, size_t auth_len,
                               uint8_t mic[16])
{
    static const uint8_t zero[16] = {0};
    sspx_iov v[5] = {{c->negotiate.data, c->negotiate.len},
                     {c->challenge, c->challenge_len},
                     {auth, NTLM_MIC_OFFSET},
                     {zero, 16},
                     {auth + NTLM_MIC_OFFSET + 16, auth_len - NTLM_MIC_OFFSET - 16}};
    return sspx_hmac_md5v(c->session_key, 16, v, 5, mic);
}

/* Verify an NTLMv1 (or NTLM2 session) response; only with allow_ntlmv1 / allow_lm. */
static sspx_status verify_v1(ntlm_ctx *c, const ntlm_authenticate *a, const sspx_secret *sec,
                             bool found, uint8_t kxkey[16])
{
    uint8_t expect[24], sbk[16], chal[8], lm_hash[16] = {0};
    bool ok;
    if (a->nt.len == 24) {
        if (c->flags & NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY) {
            uint8_t h[16];
            ENSURE(a->lm.len >= 8, SSPX_ERR_NTLM_BAD_RESPONSE_LEN);
            sspx_iov v[2] = {{c->server_challenge, 8}, {a->lm.p, 8}};
            GUARD(sspx_md5v(v, 2, h));
            memcpy(chal, h, 8);
        } else {
            memcpy(chal, c->server_challenge, 8);
        }
        GUARD(ntlm_DESL(sec->nt_hash, chal, expect));
        ok = sspx_ct_equal(expect, a->nt.p, 24);
        GUARD(sspx_md4(sec->nt_hash, 16, sbk));
    } else {
        /* LM only: needs the password */
        ENSURE(a->lm.len == 24, SSPX_ERR_NTLM_BAD_RESPONSE_LEN);
        ok = sec->password != NULL;
        if (ok)
            GUARD(ntlm_LMOWFv1(sec->password, lm_hash));
        GUARD(ntlm_DESL(lm_hash, c->server_challenge, expect));
        ok = ok && sspx_ct_equal(expect, a->lm.p, 24);
        memset(sbk, 0, 16);
    }
    if (sec->password)
        GUARD(ntlm_LMOWFv1(sec->password, lm_hash));
    ENSURE(found && ok, SSPX_ERR_BAD_PASSWORD);
    uint8_t lm24[24] = {0};
    if (a->lm.len == 24)
        memcpy(lm24, a->lm.p, 24);
    GUARD(ntlm_KXKEY_v1(c->flags, sbk, lm24, lm_hash, c->server_challenge, kxkey));
    sspx_wipe(sbk, 16);
    sspx_wipe(lm_hash, 16);
    return SEC_E_OK;
}

static sspx_status server_authenticate(sspx_ctx *ctx, const sspx_step_in *in, sspx_step_out *out)
{
    ntlm_ctx *c = ctx->state;
    const ntlm_cred *cr = ctx->cred->state;
    ntlm_authenticate a;
    ntlm_v2_blob blob;
    ntlm_av av;
    sspx_secret sec;
    sspx_account_name account = {"ANONYMOUS LOGON", "NT AUTHORITY"};
    uint8_t kxkey[16], proof[16], ntowf[16], mic[16];
    bool unicode, found, lookup_failed, mic_expected = false;
    uint64_t now, age;
    int r;
    sspx_status st = SEC_E_OK;

    memset(&sec, 0, sizeof(sec));
    memset(&av, 0, sizeof(av));
    ENSURE(in->token, SSPX_ERR_NO_INPUT_TOKEN);
    GUARD(ntlm_decode_authenticate(in->token, in->token_len, &a));

    now = sspx_now_filetime();
    age = now >= c->challenge_time ? now - c->challenge_time : UINT64_MAX;
    ENSURE(age <= (uint64_t)cr->challenge_max_age * SSPX_FILETIME_SECOND,
           SSPX_ERR_NTLM_CHALLENGE_EXPIRED);

    /* The flags the client used, limited to what the CHALLENGE offered. */
    if (a.flags)
        c->flags =
            (c->flags & a.flags) | (c->flags & (NTLMSSP_NEGOTIATE_UNICODE | NTLMSSP_NEGOTIATE_OEM));
    unicode = c->flags & NTLMSSP_NEGOTIATE_UNICODE;
    GUARD(ntlm_field_utf8(&a.user, unicode, c->user, sizeof(c->user)));
    GUARD(ntlm_field_utf8(&a.domain, unicode, c->domain, sizeof(c->domain)));
    GUARD(ntlm_field_utf8(&a.workstation, unicode, c->workstation, sizeof(c->workstation)));

    /* Anonymous (3.2.5.1.2): empty user, empty NT response, LM empty or Z(1). */
    if (a.user.len == 0 && a.nt.len == 0 && (a.lm.len == 0 || (a.lm.len == 1 && a.lm.p[0] == 0))) {
        ENSURE(in->req_flags & ASC_REQ_ALLOW_NULL_SESSION, SSPX_ERR_NTLM_ANON_REFUSED);
        c->anonymous = true;
        memset(kxkey, 0, 16);
        goto keys;
    }
    ENSURE(a.user.len > 0, SSPX_ERR_UNKNOWN_USER);
    if (a.nt.len <= 24) {
        ENSURE(a.nt.len == 24 || a.nt.len == 0, SSPX_ERR_NTLM_BAD_RESPONSE_LEN);
        ENSURE(a.nt.len == 24 || cr->allow_lm, SSPX_ERR_NTLM_LM_REFUSED);
        ENSURE(a.nt.len == 0 || cr->allow_v1, SSPX_ERR_NTLM_V1_REFUSED);
    } else {
        GUARD(ntlm_decode_v2_response(a.nt.p, a.nt.len, &blob));
        GUARD(ntlm_decode_av(blob.av, blob.av_len, &av));
    }

    r = sspx_users_lookup(&cr->users, c->user, c->domain, a.nt.len == 0, &sec, &account);
    ENSURE_GOTO(r != SSPX_LOOKUP_UNAVAILABLE, SSPX_ERR_AUTHORITY_UNAVAILABLE);
    found = r == SSPX_LOOKUP_FOUND;
    lookup_failed = r == SSPX_LOOKUP_ERROR;
    if (!found) /* same work as for a wrong password */
        memcpy(sec.nt_hash, cr->dummy_hash, 16);

    if (a.nt.len <= 24) {
        GUARD_GOTO(verify_v1(c, &a, &sec, found, kxkey));
        goto keys;
    }
    c->ntlmv2 = true;
    if (unicode) {
        GUARD_GOTO(
            ntlm_NTOWFv2(sec.nt_hash, a.user.p, a.user.len, a.domain.p, a.domain.len, ntowf));
    } else {
        /* OEM names: NTOWFv2 is still over their UTF-16 form */
        ntlm_wstr u, d;
        GUARD_GOTO(ntlm_wstr_set(&u, c->user));
        GUARD_GOTO(ntlm_wstr_set(&d, c->domain));
        GUARD_GOTO(ntlm_NTOWFv2(sec.nt_hash, u.u16, u.u16_len, d.u16, d.u16_len, ntowf));
    }
    GUARD_GOTO(ntlm_v2_proof(ntowf, c->server_challenge, a.nt.p + 16, a.nt.len - 16, proof));
    ENSURE_GOTO(sspx_ct_equal(proof, a.nt.p, 16) && found, found           ? SSPX_ERR_BAD_PASSWORD
                                                           : lookup_failed ? SSPX_ERR_LOOKUP_FAILED
                                                                           : SSPX_ERR_UNKNOWN_USER);
    /* SessionBaseKey = KXKEY = HMAC_MD5(ResponseKeyNT, NTProofStr) (3.3.2) */
    GUARD_GOTO(sspx_hmac_md5(ntowf, 16, proof, 16, kxkey));
    mic_expected = av.seen[MsvAvFlags] && (sspx_get_le32(av.v[MsvAvFlags]) & NTLM_AVFLAG_MIC);
    ENSURE_GOTO(mic_expected || !cr->require_mic, SSPX_ERR_NTLM_MIC_REQUIRED);
    GUARD_GOTO(check_bindings(cr, in, &av));

keys:
    if (c->flags & NTLMSSP_NEGOTIATE_KEY_EXCH) {
        ENSURE_GOTO(a.enc_key.len == 16, SSPX_ERR_NTLM_KEY_EXCH_LEN);
        GUARD_GOTO(sspx_rc4k(kxkey, 16, a.enc_key.p, c->session_key, 16));
    } else {
        memcpy(c->session_key, kxkey, 16);
    }
    if (mic_expected) {
        ENSURE_GOTO(a.has_mic, SSPX_ERR_NTLM_MIC_MISSING);
        GUARD_GOTO(compute_mic(c, in->token, in->token_len, mic));
        ENSURE_GOTO(sspx_ct_equal(mic, a.mic, 16), SSPX_ERR_NTLM_MIC_MISMATCH);
    }
    /* the account's own spelling, as Windows reports the account it found */
    GUARD_GOTO(sspx_ctx_set_client_name(ctx, account.domain, account.user));

    out->ret_flags = ASC_RET_CONNECTION;
    if (c->flags & NTLMSSP_NEGOTIATE_SIGN)
        out->ret_flags |=
            ASC_RET_INTEGRITY | (in->req_flags & (ASC_REQ_REPLAY_DETECT | ASC_REQ_SEQUENCE_DETECT));
    if (c->flags & NTLMSSP_NEGOTIATE_SEAL)
        out->ret_flags |= ASC_RET_CONFIDENTIALITY;
    if (c->flags & NTLMSSP_NEGOTIATE_IDENTIFY)
        out->ret_flags |= ASC_RET_IDENTIFY;
    if (c->anonymous)
        out->ret_flags |= ASC_RET_NULL_SESSION;
    c->state = NTLM_S_DONE;
    sspx_bytes_clear(&c->negotiate);
    st = SEC_E_OK;
out:
    sspx_secret_clear(&sec);
    sspx_wipe(kxkey, sizeof(kxkey));
    sspx_wipe(ntowf, sizeof(ntowf));
    sspx_wipe(proof, sizeof(proof));
    return st;
}

sspx_status ntlm_accept(sspx_ctx *ctx, const sspx_step_in *in, sspx_step_out *out)
{
    ntlm_ctx *c = ctx->state;
    switch (c->state) {
    case NTLM_S_INITIAL:
        return server_challenge(ctx, in, out);
    case NTLM_S_CHALLENGE_SENT:
        return server_authenticate(ctx, in, out);
    default:
        BAIL(SSPX_ERR_CTX_ALREADY_COMPLETE);
    }
}
