/*
 * NTLM client: InitializeSecurityContext, MS-NLMP 3.1.5.
 *
 *   state              input        output         status
 *   INITIAL            (none)       NEGOTIATE      SEC_I_CONTINUE_NEEDED
 *   NEGOTIATE_SENT     CHALLENGE    AUTHENTICATE   SEC_E_OK
 *
 * The client always answers with NTLMv2 (3.3.2). When the server sent
 * MsvAvTimestamp (every server since Windows Vista does) it adds MsvAvFlags
 * with the MIC bit, a MIC, and MsvAvChannelBindings (zeros when the
 * application gives none); against an older server it answers as Windows XP
 * did (MS-NLMP 4.2.4: no MIC, LMv2 response).
 */
#include <string.h>

#include "ntlm.h"
#include "wire/cursor.h"

#define CLIENT_FLAGS                                                                   \
    (NTLMSSP_NEGOTIATE_UNICODE | NTLMSSP_NEGOTIATE_OEM | NTLMSSP_REQUEST_TARGET |      \
     NTLMSSP_NEGOTIATE_SIGN | NTLMSSP_NEGOTIATE_NTLM | NTLMSSP_NEGOTIATE_ALWAYS_SIGN | \
     NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY | NTLMSSP_NEGOTIATE_VERSION |          \
     NTLMSSP_NEGOTIATE_128 | NTLMSSP_NEGOTIATE_KEY_EXCH | NTLMSSP_NEGOTIATE_56)

static const uint8_t version[8] = NTLM_VERSION_BYTES;

static sspx_status client_negotiate(sspx_ctx *ctx, const sspx_step_in *in, sspx_step_out *out)
{
    ntlm_ctx *c = ctx->state;
    uint8_t msg[64];
    size_t len;
    uint32_t f = CLIENT_FLAGS;
    ENSURE(!(in->req_flags & ISC_REQ_DATAGRAM), SSPX_ERR_UNSUPPORTED);
    if (in->req_flags & ISC_REQ_CONFIDENTIALITY)
        f |= NTLMSSP_NEGOTIATE_SEAL;
    if (in->req_flags & ISC_REQ_IDENTIFY)
        f |= NTLMSSP_NEGOTIATE_IDENTIFY;
    len = ntlm_encode_negotiate(msg, sizeof(msg), f, (ntlm_bytes){NULL, 0}, (ntlm_bytes){NULL, 0},
                                version);
    ENSURE(len, SSPX_ERR_NTLM_TOO_LARGE);
    GUARD(sspx_bytes_set(&c->negotiate, msg, len));
    GUARD(sspx_bytes_set(&out->token, msg, len));
    c->flags = f;
    c->state = NTLM_S_NEGOTIATE_SENT;
    return SEC_I_CONTINUE_NEEDED;
}

/* The AV pairs of the client blob: the server's, then MsvAvFlags,
 * MsvAvChannelBindings, MsvAvTargetName, MsvAvEOL (3.1.5.1.2). */
static sspx_status build_av(const sspx_step_in *in, const ntlm_challenge *ch, const ntlm_av *sav,
                            bool mic, uint8_t *out, size_t cap, size_t *len)
{
    size_t pos = 0;
    uint8_t cb[16] = {0}, flags[4] = {0};
    ntlm_wstr spn;
    sspx_rd r;
    sspx_rd_init(&r, ch->target_info.p, sav->list_len);
    /* copy the server's pairs except EOL and the ones we set ourselves */
    while (sspx_rd_left(&r) >= 4) {
        uint16_t id = 0, l = 0;
        const uint8_t *v;
        (void)sspx_rd_le16(&r, &id);
        (void)sspx_rd_le16(&r, &l);
        if (!sspx_rd_ptr(&r, l, &v) || id == MsvAvEOL)
            break;
        if (id == MsvAvFlags || id == MsvAvChannelBindings || id == MsvAvTargetName)
            continue;
        ENSURE(ntlm_av_put(out, cap, &pos, id, v, l), SSPX_ERR_NTLM_TOO_LARGE);
    }
    if (mic) {
        sspx_put_le32(flags, NTLM_AVFLAG_MIC);
        ENSURE(ntlm_av_put(out, cap, &pos, MsvAvFlags, flags, 4), SSPX_ERR_NTLM_TOO_LARGE);
    }
    if (in->cbt) {
        sspx_cbt cbt;
        GUARD(sspx_cbt_parse(in->cbt, in->cbt_len, &cbt));
        GUARD(sspx_cbt_hash(&cbt, cb));
    }
    if (mic || in->cbt)
        ENSURE(ntlm_av_put(out, cap, &pos, MsvAvChannelBindings, cb, 16), SSPX_ERR_NTLM_TOO_LARGE);
    if (in->target && *in->target) {
        GUARD(ntlm_wstr_set(&spn, in->target));
        ENSURE(ntlm_av_put(out, cap, &pos, MsvAvTargetName, spn.u16, spn.u16_len),
               SSPX_ERR_NTLM_TOO_LARGE);
    }
    ENSURE(ntlm_av_put(out, cap, &pos, MsvAvEOL, NULL, 0), SSPX_ERR_NTLM_TOO_LARGE);
    *len = pos;
    return SEC_E_OK;
}

static sspx_status client_authenticate(sspx_ctx *ctx, const sspx_step_in *in, sspx_step_out *out)
{
    ntlm_ctx *c = ctx->state;
    const ntlm_cred *cr = ctx->cred->state;
    ntlm_challenge ch;
    ntlm_av sav;
    uint8_t temp[1400], nt[16 + sizeof(temp)], lm[24], proof[16], kxkey[16], enc_key[16];
    uint8_t msg[NTLM_MAX_TOKEN], cc[8], name_buf[3][2 * NTLM_NAME_MAX];
    size_t temp_len, av_len = 0, len, mic_at = 0, nl[3] = {0, 0, 0};
    uint64_t ts;
    bool mic, unicode;
    sspx_status st;

    ENSURE(in->token, SSPX_ERR_NO_INPUT_TOKEN);
    GUARD(ntlm_decode_challenge(in->token, in->token_len, &ch));
    ENSURE(ch.flags & NTLMSSP_NEGOTIATE_NTLM, SSPX_ERR_NTLM_CHALLENGE_FLAGS);
    ENSURE(ch.target_info.len > 0, SSPX_ERR_NTLM_NO_TARGET_INFO);
    ENSURE(ch.target_info.len <= 1024, SSPX_ERR_NTLM_TOO_LARGE);
    GUARD(ntlm_decode_av(ch.target_info.p, ch.target_info.len, &sav));

    unicode = ch.flags & NTLMSSP_NEGOTIATE_UNICODE;
    c->flags = (c->flags & ch.flags & ~(NTLMSSP_NEGOTIATE_UNICODE | NTLMSSP_NEGOTIATE_OEM)) |
               (ch.flags & NTLMSSP_NEGOTIATE_TARGET_INFO) | (c->flags & NTLMSSP_REQUEST_TARGET) |
               (unicode ? NTLMSSP_NEGOTIATE_UNICODE : NTLMSSP_NEGOTIATE_OEM);
    if ((ctx->req_flags & ISC_REQ_CONFIDENTIALITY) && !(c->flags & NTLMSSP_NEGOTIATE_SEAL))
        BAIL(SSPX_ERR_NTLM_CHALLENGE_FLAGS);
    memcpy(c->server_challenge, ch.server_challenge, 8);

    mic = sav.seen[MsvAvTimestamp];
    ts = mic ? ((uint64_t)sspx_get_le32(sav.v[MsvAvTimestamp] + 4) << 32 |
                sspx_get_le32(sav.v[MsvAvTimestamp]))
             : sspx_now_filetime();
    GUARD(sspx_random(cc, 8));

    /* temp = 0x01 0x01 Z(6) Time ClientChallenge Z(4) AvPairs Z(4) (3.3.2) */
    temp[0] = 1;
    temp[1] = 1;
    memset(temp + 2, 0, 6);
    for (int i = 0; i < 8; i++)
        temp[8 + i] = (uint8_t)(ts >> (8 * i));
    memcpy(temp + 16, cc, 8);
    memset(temp + 24, 0, 4);
    GUARD(build_av(in, &ch, &sav, mic, temp + 28, sizeof(temp) - 32, &av_len));
    memset(temp + 28 + av_len, 0, 4);
    temp_len = 28 + av_len + 4;

    GUARD(ntlm_v2_proof(cr->ntowfv2, ch.server_challenge, temp, temp_len, proof));
    memcpy(nt, proof, 16);
    memcpy(nt + 16, temp, temp_len);
    if (mic) {
        memset(lm, 0, 24); /* 3.1.5.1.2: with MsvAvTimestamp, LmChallengeResponse is Z(24) */
    } else {
        sspx_iov v[2] = {{ch.server_challenge, 8}, {cc, 8}};
        GUARD(sspx_hmac_md5v(cr->ntowfv2, 16, v, 2, lm));
        memcpy(lm + 16, cc, 8);
    }
    GUARD(sspx_hmac_md5(cr->ntowfv2, 16, proof, 16, kxkey));
    if (c->flags & NTLMSSP_NEGOTIATE_KEY_EXCH) {
        GUARD(sspx_random(c->session_key, 16));
        GUARD(sspx_rc4k(kxkey, 16, c->session_key, enc_key, 16));
    } else {
        memcpy(c->session_key, kxkey, 16);
    }

    const ntlm_wstr *names[3] = {&cr->domain, &cr->user, &cr->workstation};
    for (int i = 0; i < 3; i++) {
        bool ok = unicode ? ntlm_wstr_put_u16(name_buf[i], sizeof(name_buf[i]), &nl[i], names[i])
                          : ntlm_wstr_put_oem(name_buf[i], sizeof(name_buf[i]), &nl[i], names[i]);
        ENSURE(ok, SSPX_ERR_NTLM_TOO_LARGE);
    }
    len = ntlm_encode_authenticate(
        msg, sizeof(msg), c->flags, (ntlm_bytes){lm, 24}, (ntlm_bytes){nt, 16 + temp_len},
        (ntlm_bytes){name_buf[0], nl[0]}, (ntlm_bytes){name_buf[1], nl[1]},
        (ntlm_bytes){name_buf[2], nl[2]},
        (ntlm_bytes){enc_key, (c->flags & NTLMSSP_NEGOTIATE_KEY_EXCH) ? 16u : 0u}, version, mic,
        &mic_at);
    ENSURE(len, SSPX_ERR_NTLM_TOO_LARGE);
    if (mic) {
        uint8_t m[16];
        sspx_iov v[3] = {
            {c->negotiate.data, c->negotiate.len}, {in->token, in->token_len}, {msg, len}};
        GUARD(sspx_hmac_md5v(c->session_key, 16, v, 3, m));
        memcpy(msg + mic_at, m, 16);
    }
    st = sspx_bytes_set(&out->token, msg, len);
    sspx_wipe(kxkey, sizeof(kxkey));
    sspx_wipe(proof, sizeof(proof));
    GUARD(st);
    GUARD(sspx_ctx_set_client_name(ctx, cr->domain.utf8, cr->user.utf8));
    c->ntlmv2 = true;
    out->ret_flags = ISC_RET_CONNECTION;
    if (c->flags & NTLMSSP_NEGOTIATE_SIGN)
        out->ret_flags |= ISC_RET_INTEGRITY |
                          (ctx->req_flags & (ISC_REQ_REPLAY_DETECT | ISC_REQ_SEQUENCE_DETECT));
    if (c->flags & NTLMSSP_NEGOTIATE_SEAL)
        out->ret_flags |= ISC_RET_CONFIDENTIALITY;
    sspx_bytes_clear(&c->negotiate);
    c->state = NTLM_S_DONE;
    return SEC_E_OK;
}

sspx_status ntlm_init(sspx_ctx *ctx, const sspx_step_in *in, sspx_step_out *out)
{
    ntlm_ctx *c = ctx->state;
    switch (c->state) {
    case NTLM_S_INITIAL:
        return client_negotiate(ctx, in, out);
    case NTLM_S_NEGOTIATE_SENT:
        return client_authenticate(ctx, in, out);
    default:
        BAIL(SSPX_ERR_CTX_ALREADY_COMPLETE);
    }
}
