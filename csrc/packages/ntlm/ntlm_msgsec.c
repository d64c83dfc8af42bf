/*
 * NTLM message integrity and confidentiality, MS-NLMP 3.4.
 *
 * Signature (2.2.2.9), 16 bytes:
 *   with extended session security:    Version=1 | Checksum(8) | SeqNum(4)
 *     Checksum = HMAC_MD5(SignKey, SeqNum || message)[0..7], RC4'd with
 *     the sealing handle when KEY_EXCH was negotiated
 *   without:                           Version=1 | RandomPad(4)=0 |
 *     RC4(CRC32(message)) | RC4(0) XOR SeqNum
 * Sealing encrypts the message with the same RC4 handle first (3.4.3).
 *
 * Connection-oriented only: each side keeps a send and a receive handle and
 * sequence number. Verification runs on a copy of the receive handle that
 * replaces it only on success, so a forged, replayed or reordered message
 * leaves the context usable. Decrypted bytes of a message that fails
 * verification are wiped, never handed out.
 */
#include <string.h>

#include "ntlm.h"
#include "wire/cursor.h"

#define SIG_LEN 16
#define MAX_IOV 66

static sspx_status ensure_keys(sspx_ctx *ctx)
{
    ntlm_ctx *c = ctx->state;
    if (c->keys_ready)
        return SEC_E_OK;
    ENSURE(c->state == NTLM_S_DONE, SSPX_ERR_CTX_NOT_COMPLETE);
    GUARD(ntlm_setup_keys(c, ctx->server));
    c->keys_ready = true;
    return SEC_E_OK;
}

static bool is_data(const SecBuffer *b)
{
    return (b->BufferType & ~SECBUFFER_ATTRMASK) == SECBUFFER_DATA;
}

static bool is_sealable(const SecBuffer *b)
{
    return is_data(b) && !(b->BufferType & (SECBUFFER_READONLY | SECBUFFER_READONLY_WITH_CHECKSUM));
}

/* The 16-byte signature buffer (first SECBUFFER_TOKEN). */
static sspx_status sig_buffer(SecBufferDesc *d, SecBuffer **out)
{
    SecBuffer *b = sspx_desc_find_buf(d, SECBUFFER_TOKEN);
    ENSURE(b, SSPX_ERR_NO_SIG_BUFFER);
    ENSURE(b->cbBuffer >= SIG_LEN && b->pvBuffer, SSPX_ERR_SIG_BUFFER_SMALL);
    *out = b;
    return SEC_E_OK;
}

/* First half of a signature: what depends on the plaintext only.
 * ESS: HMAC_MD5(SignKey, SeqNum || data)[0..7]; else CRC32(data). */
static sspx_status digest(const ntlm_ctx *c, const uint8_t *sign_key, uint32_t seq,
                          const SecBufferDesc *d, uint8_t mac[16])
{
    if (c->flags & NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY) {
        uint8_t seqb[4];
        sspx_iov v[MAX_IOV];
        size_t n = 0;
        sspx_put_le32(seqb, seq);
        v[n++] = (sspx_iov){seqb, 4};
        for (ULONG i = 0; i < d->cBuffers && n < MAX_IOV; i++)
            if (is_data(&d->pBuffers[i]))
                v[n++] = (sspx_iov){d->pBuffers[i].pvBuffer, d->pBuffers[i].cbBuffer};
        return sspx_hmac_md5v(sign_key, 16, v, n, mac);
    }
    uint32_t crc = 0;
    for (ULONG i = 0; i < d->cBuffers; i++)
        if (is_data(&d->pBuffers[i]))
            crc = sspx_crc32(crc, d->pBuffers[i].pvBuffer, d->pBuffers[i].cbBuffer);
    sspx_put_le32(mac, crc);
    return SEC_E_OK;
}

/* Second half: the RC4 steps, after any sealed data went through `rc4`. */
static sspx_status finish(const ntlm_ctx *c, sspx_rc4 *rc4, uint32_t seq, const uint8_t mac[16],
                          uint8_t sig[SIG_LEN])
{
    sspx_put_le32(sig, 1);
    if (c->flags & NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY) {
        if (c->flags & NTLMSSP_NEGOTIATE_KEY_EXCH)
            GUARD(sspx_rc4_update(rc4, mac, sig + 4, 8));
        else
            memcpy(sig + 4, mac, 8);
        sspx_put_le32(sig + 12, seq);
        return SEC_E_OK;
    }
    uint8_t tmp[12] = {0};
    memcpy(tmp + 4, mac, 4);
    GUARD(sspx_rc4_update(rc4, tmp, tmp, 12));
    memset(sig + 4, 0, 4); /* RandomPad is sent as zero (3.4.4.1) */
    memcpy(sig + 8, tmp + 4, 4);
    sspx_put_le32(sig + 12, sspx_get_le32(tmp + 8) ^ seq);
    return SEC_E_OK;
}

static sspx_status rc4_data(sspx_rc4 *rc4, SecBufferDesc *d)
{
    for (ULONG i = 0; i < d->cBuffers; i++)
        if (is_sealable(&d->pBuffers[i]))
            GUARD(sspx_rc4_update(rc4, d->pBuffers[i].pvBuffer, d->pBuffers[i].pvBuffer,
                                  d->pBuffers[i].cbBuffer));
    return SEC_E_OK;
}

static void wipe_data(SecBufferDesc *d)
{
    for (ULONG i = 0; i < d->cBuffers; i++)
        if (is_sealable(&d->pBuffers[i]))
            sspx_wipe(d->pBuffers[i].pvBuffer, d->pBuffers[i].cbBuffer);
}

static sspx_status check_msg(SecBufferDesc *d)
{
    GUARD(sspx_desc_check(d));
    ENSURE(d->cBuffers < MAX_IOV, SSPX_ERR_BAD_BUFFER_DESC);
    for (ULONG i = 0; i < d->cBuffers; i++)
        ENSURE(!is_data(&d->pBuffers[i]) || d->pBuffers[i].pvBuffer || d->pBuffers[i].cbBuffer == 0,
               SSPX_ERR_BAD_BUFFER_DESC);
    return SEC_E_OK;
}

/* What every message call checks first: the buffers, that the protection
 * asked for was negotiated, the signature buffer; then the keys exist. */
static sspx_status prepare(sspx_ctx *ctx, sspx_msg *msg, bool seal, SecBuffer **sb)
{
    const ntlm_ctx *c = ctx->state;
    GUARD(check_msg(msg->desc));
    if (seal)
        ENSURE(c->flags & NTLMSSP_NEGOTIATE_SEAL, SSPX_ERR_NTLM_NOT_SEALING);
    else
        ENSURE(c->flags & (NTLMSSP_NEGOTIATE_SIGN | NTLMSSP_NEGOTIATE_SEAL),
               SSPX_ERR_NTLM_NOT_SIGNING);
    GUARD(sig_buffer(msg->desc, sb));
    return ensure_keys(ctx);
}

static sspx_status protect(sspx_ctx *ctx, sspx_msg *msg, bool seal)
{
    ntlm_ctx *c = ctx->state;
    SecBuffer *sb = NULL;
    uint8_t sig[SIG_LEN], mac[16];
    ENSURE(msg->qop == 0, SSPX_ERR_UNSUPPORTED);
    GUARD(prepare(ctx, msg, seal, &sb));
    /* 3.4.3: the MAC covers the plaintext; RC4 runs over the data first,
     * then over the checksum */
    GUARD(digest(c, c->send_sign, c->send_seq, msg->desc, mac));
    if (seal)
        GUARD(rc4_data(&c->send_rc4, msg->desc));
    GUARD(finish(c, &c->send_rc4, c->send_seq, mac, sig));
    sspx_wipe(mac, sizeof(mac));
    memcpy(sb->pvBuffer, sig, SIG_LEN);
    sb->cbBuffer = SIG_LEN;
    c->send_seq++;
    return SEC_E_OK;
}

static sspx_status check(sspx_ctx *ctx, sspx_msg *msg, bool seal)
{
    ntlm_ctx *c = ctx->state;
    SecBuffer *sb = NULL;
    uint8_t sig[SIG_LEN], want[SIG_LEN], mac[16];
    sspx_rc4 tmp;
    bool ess = c->flags & NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY, ok;
    GUARD(prepare(ctx, msg, seal, &sb));
    ENSURE(sb->cbBuffer == SIG_LEN, SSPX_ERR_NTLM_SIG_SIZE);
    memcpy(sig, sb->pvBuffer, SIG_LEN);
    GUARD(sspx_rc4_copy(&c->scratch_rc4, &c->recv_rc4));
    if (seal)
        GUARD(rc4_data(&c->scratch_rc4, msg->desc));
    GUARD(digest(c, c->recv_sign, c->recv_seq, msg->desc, mac));
    GUARD(finish(c, &c->scratch_rc4, c->recv_seq, mac, want));
    /* without ESS the RandomPad is not checked (see 4.2.2.4 and 3.4.4.1) */
    ok = sspx_ct_equal(sig, want, 4) &&
         (ess ? sspx_ct_equal(sig + 4, want + 4, 12) : sspx_ct_equal(sig + 8, want + 8, 8));
    if (!ok) {
        if (seal)
            wipe_data(msg->desc);
        ENSURE(sspx_get_le32(sig) == 1, SSPX_ERR_NTLM_SIG_VERSION);
        if (ess && sspx_get_le32(sig + 12) != c->recv_seq &&
            (ctx->req_flags & (ASC_REQ_REPLAY_DETECT | ASC_REQ_SEQUENCE_DETECT)))
            BAIL(SSPX_ERR_NTLM_OUT_OF_SEQUENCE);
        BAIL(SSPX_ERR_NTLM_SIG_MISMATCH);
    }
    tmp = c->recv_rc4;
    c->recv_rc4 = c->scratch_rc4;
    c->scratch_rc4 = tmp;
    c->recv_seq++;
    return SEC_E_OK;
}

sspx_status ntlm_make_signature(sspx_ctx *ctx, sspx_msg *msg)
{
    return protect(ctx, msg, false);
}
sspx_status ntlm_verify_signature(sspx_ctx *ctx, sspx_msg *msg)
{
    return check(ctx, msg, false);
}
sspx_status ntlm_encrypt(sspx_ctx *ctx, sspx_msg *msg)
{
    return protect(ctx, msg, true);
}
sspx_status ntlm_decrypt(sspx_ctx *ctx, sspx_msg *msg)
{
    return check(ctx, msg, true);
}

/*
 * Negotiate's reset after the SPNEGO mechListMIC, MS-SPNG 3.3.5.1 ("NTLM RC4
 * Key State for MechListMIC and First Signed Message"): the MIC is made and
 * checked with the handles' first keystream bytes, and the handles are then
 * put back where they were, so that the first application message uses the
 * same RC4 state as the MIC. Only the RC4 handles: the sequence numbers go on
 * (the MIC was 0, the first application message is 1), as MS-SPNG describes
 * and Samba (gensec_may_reset_crypto with reset_full = false after a MIC
 * check) and gss-ntlmssp (GSS_NTLMSSP_RESET_CRYPTO_OID, set by MIT's SPNEGO)
 * do. Both
 * handles: one that the MIC exchange did not use is at its start already.
 * Keys not derived yet (no MIC was made): nothing to reset.
 */
sspx_status ntlm_reset_crypto(sspx_ctx *ctx)
{
    ntlm_ctx *c = ctx->state;
    ENSURE(c->state == NTLM_S_DONE, SSPX_ERR_CTX_NOT_COMPLETE);
    if (!c->keys_ready)
        return SEC_E_OK;
    return ntlm_seal_init(c, ctx->server);
}
