/*
 * NTLM messages, MS-NLMP 2.2.1 and 2.2.2.
 *
 * NEGOTIATE_MESSAGE (2.2.1.1)        CHALLENGE_MESSAGE (2.2.1.2)
 *   0 Signature "NTLMSSP\0"    8       0 Signature                8
 *   8 MessageType = 1          4       8 MessageType = 2          4
 *  12 NegotiateFlags           4      12 TargetNameFields         8
 *  16 DomainNameFields         8 (*)  20 NegotiateFlags           4
 *  24 WorkstationFields        8 (*)  24 ServerChallenge          8
 *  32 Version                  8 (*)  32 Reserved                 8
 *  .. Payload                         40 TargetInfoFields         8 (*)
 *                                     48 Version                  8 (*)
 *                                     56 Payload
 * AUTHENTICATE_MESSAGE (2.2.1.3)
 *   0 Signature 8, 8 MessageType = 3 4,
 *  12 LmChallengeResponseFields 8   20 NtChallengeResponseFields 8
 *  28 DomainNameFields 8            36 UserNameFields 8
 *  44 WorkstationFields 8           52 EncryptedRandomSessionKeyFields 8 (*)
 *  60 NegotiateFlags 4 (*)          64 Version 8 (*)      72 MIC 16 (*)
 *  88 Payload
 * A field is { Len u16, MaxLen u16, BufferOffset u32 } (2.2.1.1).
 * (*) optional in practice: curl sends a 32-byte NEGOTIATE without Version;
 * old clients send shorter AUTHENTICATE headers. Where the header ends is
 * told by the lowest payload offset.
 */
#include "ntlm_msg.h"

#include <string.h>

#include "cursor.h"

static const uint8_t sig[8] = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0};

int ntlm_msg_type(const uint8_t *p, size_t len)
{
    if (len < 12 || memcmp(p, sig, 8) != 0)
        return 0;
    uint32_t t = sspx_get_le32(p + 8);
    return (t >= 1 && t <= 3) ? (int)t : 0;
}

/* Read a field header and resolve it within the message. */
static sspx_status rd_field(sspx_rd *r, const uint8_t *msg, size_t len, ntlm_field *f)
{
    if (!sspx_rd_le16(r, &f->len) || !sspx_rd_le16(r, &f->maxlen) || !sspx_rd_le32(r, &f->off))
        BAIL(SSPX_ERR_NTLM_TRUNCATED);
    f->p = NULL;
    if (f->len == 0)
        return SEC_E_OK;
    ENSURE(sspx_range_ok(len, f->off, f->len), SSPX_ERR_NTLM_FIELD_BOUNDS);
    f->p = msg + f->off;
    return SEC_E_OK;
}

static sspx_status check_header(const uint8_t *p, size_t len, uint32_t type, size_t min)
{
    ENSURE(len <= NTLM_MAX_TOKEN, SSPX_ERR_NTLM_TOO_LARGE);
    ENSURE(len >= 12, SSPX_ERR_NTLM_TRUNCATED);
    ENSURE(memcmp(p, sig, 8) == 0, SSPX_ERR_NTLM_SIGNATURE);
    ENSURE(sspx_get_le32(p + 8) == type, SSPX_ERR_NTLM_MSG_TYPE);
    ENSURE(len >= min, SSPX_ERR_NTLM_TRUNCATED);
    return SEC_E_OK;
}

/* Lowest offset of the non-empty fields, i.e. where the header must end. */
static size_t payload_start(const ntlm_field *const *f, size_t n, size_t len)
{
    size_t lo = len;
    for (size_t i = 0; i < n; i++)
        if (f[i]->len && f[i]->off < lo)
            lo = f[i]->off;
    return lo;
}

sspx_status ntlm_decode_negotiate(const uint8_t *p, size_t len, ntlm_negotiate *out)
{
    sspx_rd r;
    memset(out, 0, sizeof(*out));
    GUARD(check_header(p, len, 1, NTLM_NEGOTIATE_MIN));
    sspx_rd_init(&r, p, len);
    (void)sspx_rd_skip(&r, 12);
    (void)sspx_rd_le32(&r, &out->flags);
    if (sspx_rd_left(&r) == 0)
        return SEC_E_OK; /* 16-byte form: no domain or workstation */
    GUARD(rd_field(&r, p, len, &out->domain));
    GUARD(rd_field(&r, p, len, &out->workstation));
    const ntlm_field *fs[] = {&out->domain, &out->workstation};
    size_t start = payload_start(fs, 2, len);
    ENSURE(start >= 32, SSPX_ERR_NTLM_FIELD_BOUNDS);
    if ((out->flags & NTLMSSP_NEGOTIATE_VERSION) && start >= 40 && sspx_rd_left(&r) >= 8) {
        (void)sspx_rd_copy(&r, out->version, 8);
        out->has_version = true;
    }
    return SEC_E_OK;
}

sspx_status ntlm_decode_challenge(const uint8_t *p, size_t len, ntlm_challenge *out)
{
    sspx_rd r;
    memset(out, 0, sizeof(*out));
    GUARD(check_header(p, len, 2, NTLM_CHALLENGE_MIN));
    sspx_rd_init(&r, p, len);
    (void)sspx_rd_skip(&r, 12);
    GUARD(rd_field(&r, p, len, &out->target_name));
    (void)sspx_rd_le32(&r, &out->flags);
    (void)sspx_rd_copy(&r, out->server_challenge, 8);
    size_t start = len;
    if (sspx_rd_left(&r) >= 16) {
        (void)sspx_rd_skip(&r, 8); /* Reserved */
        GUARD(rd_field(&r, p, len, &out->target_info));
        const ntlm_field *fs[] = {&out->target_name, &out->target_info};
        start = payload_start(fs, 2, len);
        ENSURE(start >= 48, SSPX_ERR_NTLM_FIELD_BOUNDS);
        if ((out->flags & NTLMSSP_NEGOTIATE_VERSION) && start >= 56 && sspx_rd_left(&r) >= 8) {
            (void)sspx_rd_copy(&r, out->version, 8);
            out->has_version = true;
        }
    } else {
        ENSURE(out->target_name.len == 0 || out->target_name.off >= 32, SSPX_ERR_NTLM_FIELD_BOUNDS);
    }
    return SEC_E_OK;
}

sspx_status ntlm_decode_authenticate(const uint8_t *p, size_t len, ntlm_authenticate *out)
{
    sspx_rd r;
    memset(out, 0, sizeof(*out));
    GUARD(check_header(p, len, 3, NTLM_AUTHENTICATE_MIN));
    sspx_rd_init(&r, p, len);
    (void)sspx_rd_skip(&r, 12);
    GUARD(rd_field(&r, p, len, &out->lm));
    GUARD(rd_field(&r, p, len, &out->nt));
    GUARD(rd_field(&r, p, len, &out->domain));
    GUARD(rd_field(&r, p, len, &out->user));
    GUARD(rd_field(&r, p, len, &out->workstation));
    size_t nf = 5;
    if (sspx_rd_left(&r) >= 12) {
        GUARD(rd_field(&r, p, len, &out->enc_key));
        (void)sspx_rd_le32(&r, &out->flags);
        nf = 6;
    }
    const ntlm_field *fs[] = {&out->lm,   &out->nt,          &out->domain,
                              &out->user, &out->workstation, &out->enc_key};
    size_t start = payload_start(fs, nf, len);
    ENSURE(start >= (nf == 6 ? 64u : 52u), SSPX_ERR_NTLM_FIELD_BOUNDS);
    out->header_len = start;
    if (start >= 72 && sspx_rd_left(&r) >= 8) {
        (void)sspx_rd_copy(&r, out->version, 8);
        out->has_version = true;
    }
    if (start >= NTLM_AUTH_HEADER_WITH_MIC && sspx_rd_left(&r) >= 16) {
        (void)sspx_rd_copy(&r, out->mic, 16);
        out->has_mic = true;
    }
    return SEC_E_OK;
}

sspx_status ntlm_decode_av(const uint8_t *p, size_t len, ntlm_av *out)
{
    sspx_rd r;
    memset(out, 0, sizeof(*out));
    sspx_rd_init(&r, p, len);
    for (;;) {
        uint16_t id, alen;
        const uint8_t *v;
        size_t at = r.pos;
        ENSURE(sspx_rd_le16(&r, &id) && sspx_rd_le16(&r, &alen), SSPX_ERR_NTLM_AVPAIR);
        ENSURE(sspx_rd_ptr(&r, alen, &v), SSPX_ERR_NTLM_AVPAIR);
        out->count++;
        if (id == MsvAvEOL) {
            ENSURE(alen == 0, SSPX_ERR_NTLM_AVPAIR);
            out->seen[MsvAvEOL] = true;
            out->off[MsvAvEOL] = (uint32_t)at;
            out->list_len = r.pos;
            return SEC_E_OK;
        }
        if (id == MsvAvFlags)
            ENSURE(alen == 4, SSPX_ERR_NTLM_AVPAIR);
        if (id == MsvAvTimestamp)
            ENSURE(alen == 8, SSPX_ERR_NTLM_AVPAIR);
        if (id == MsvAvChannelBindings)
            ENSURE(alen == 16, SSPX_ERR_NTLM_AVPAIR);
        if (id < NTLM_AV_MAX && !out->seen[id]) {
            out->seen[id] = true;
            out->v[id] = v;
            out->len[id] = alen;
            out->off[id] = (uint32_t)at;
        }
    }
}

sspx_status ntlm_decode_v2_response(const uint8_t *p, size_t len, ntlm_v2_blob *out)
{
    sspx_rd r;
    memset(out, 0, sizeof(*out));
    /* NTProofStr(16) RespType(1) HiRespType(1) Reserved1(2) Reserved2(4)
     * TimeStamp(8) ChallengeFromClient(8) Reserved3(4) AvPairs(var) */
    ENSURE(len >= 16 + 28, SSPX_ERR_NTLM_BLOB);
    sspx_rd_init(&r, p, len);
    (void)sspx_rd_skip(&r, 16);
    (void)sspx_rd_u8(&r, &out->resp_type);
    (void)sspx_rd_u8(&r, &out->hi_resp_type);
    ENSURE(out->resp_type == 1 && out->hi_resp_type == 1, SSPX_ERR_NTLM_BLOB);
    (void)sspx_rd_skip(&r, 6);
    (void)sspx_rd_le64(&r, &out->timestamp);
    (void)sspx_rd_copy(&r, out->client_challenge, 8);
    (void)sspx_rd_skip(&r, 4);
    out->av = p + r.pos;
    out->av_len = sspx_rd_left(&r);
    return SEC_E_OK;
}

/* ---------------------------------------------------------------- encoders */

typedef struct field_slot {
    size_t at;
    ntlm_bytes v;
} field_slot;

/* Append each payload and fill its header field. */
static void put_payloads(sspx_wr *w, const field_slot *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i].v.len > UINT16_MAX) {
            w->overflow = true;
            return;
        }
        sspx_wr_fill_le16(w, s[i].at, (uint16_t)s[i].v.len);
        sspx_wr_fill_le16(w, s[i].at + 2, (uint16_t)s[i].v.len);
        sspx_wr_fill_le32(w, s[i].at + 4, (uint32_t)w->pos);
        sspx_wr_bytes(w, s[i].v.p, s[i].v.len);
    }
}

size_t ntlm_encode_negotiate(uint8_t *out, size_t cap, uint32_t flags, ntlm_bytes domain,
                             ntlm_bytes workstation, const uint8_t version[8])
{
    sspx_wr w;
    sspx_wr_init(&w, out, cap);
    sspx_wr_bytes(&w, sig, 8);
    sspx_wr_le32(&w, 1);
    sspx_wr_le32(&w, flags);
    field_slot s[2] = {{sspx_wr_reserve(&w, 8), domain}, {sspx_wr_reserve(&w, 8), workstation}};
    if (flags & NTLMSSP_NEGOTIATE_VERSION)
        sspx_wr_bytes(&w, version, 8);
    put_payloads(&w, s, 2);
    return w.overflow ? 0 : w.pos;
}

size_t ntlm_encode_challenge(uint8_t *out, size_t cap, uint32_t flags, ntlm_bytes target_name,
                             const uint8_t server_challenge[8], ntlm_bytes target_info,
                             const uint8_t version[8])
{
    sspx_wr w;
    sspx_wr_init(&w, out, cap);
    sspx_wr_bytes(&w, sig, 8);
    sspx_wr_le32(&w, 2);
    size_t tn = sspx_wr_reserve(&w, 8);
    sspx_wr_le32(&w, flags);
    sspx_wr_bytes(&w, server_challenge, 8);
    sspx_wr_zeros(&w, 8);
    size_t ti = sspx_wr_reserve(&w, 8);
    if (flags & NTLMSSP_NEGOTIATE_VERSION)
        sspx_wr_bytes(&w, version, 8);
    else
        sspx_wr_zeros(&w, 8);
    field_slot s[2] = {{tn, target_name}, {ti, target_info}};
    put_payloads(&w, s, 2);
    return w.overflow ? 0 : w.pos;
}

size_t ntlm_encode_authenticate(uint8_t *out, size_t cap, uint32_t flags, ntlm_bytes lm,
                                ntlm_bytes nt, ntlm_bytes domain, ntlm_bytes user,
                                ntlm_bytes workstation, ntlm_bytes enc_key,
                                const uint8_t version[8], bool with_mic, size_t *mic_at)
{
    sspx_wr w;
    sspx_wr_init(&w, out, cap);
    sspx_wr_bytes(&w, sig, 8);
    sspx_wr_le32(&w, 3);
    size_t a[6];
    for (int i = 0; i < 6; i++)
        a[i] = sspx_wr_reserve(&w, 8);
    sspx_wr_le32(&w, flags);
    if (flags & NTLMSSP_NEGOTIATE_VERSION)
        sspx_wr_bytes(&w, version, 8);
    else
        sspx_wr_zeros(&w, 8);
    if (with_mic)
        *mic_at = sspx_wr_reserve(&w, 16);
    /* Payload order as Windows writes it: domain, user, workstation, LM,
     * NT, session key (4.2.4.3). */
    field_slot s[6] = {{a[2], domain}, {a[3], user}, {a[4], workstation},
                       {a[0], lm},     {a[1], nt},   {a[5], enc_key}};
    put_payloads(&w, s, 6);
    return w.overflow ? 0 : w.pos;
}

bool ntlm_av_put(uint8_t *out, size_t cap, size_t *pos, uint16_t id, const void *v, size_t len)
{
    sspx_wr w;
    if (len > UINT16_MAX || *pos > cap)
        return false;
    sspx_wr_init(&w, out + *pos, cap - *pos);
    sspx_wr_le16(&w, id);
    sspx_wr_le16(&w, (uint16_t)len);
    sspx_wr_bytes(&w, v, len);
    if (w.overflow)
        return false;
    *pos += w.pos;
    return true;
}

/* 2.2.2.5, bit 0 (NEGOTIATE_UNICODE) to bit 31 (NEGOTIATE_56); r1..r10 are reserved. */
static const char *const flag_names[32] = {
    "NEGOTIATE_UNICODE",
    "NEGOTIATE_OEM",
    "REQUEST_TARGET",
    "r10",
    "NEGOTIATE_SIGN",
    "NEGOTIATE_SEAL",
    "NEGOTIATE_DATAGRAM",
    "NEGOTIATE_LM_KEY",
    "r9",
    "NEGOTIATE_NTLM",
    "r8",
    "ANONYMOUS",
    "NEGOTIATE_OEM_DOMAIN_SUPPLIED",
    "NEGOTIATE_OEM_WORKSTATION_SUPPLIED",
    "r7",
    "NEGOTIATE_ALWAYS_SIGN",
    "TARGET_TYPE_DOMAIN",
    "TARGET_TYPE_SERVER",
    "r6",
    "NEGOTIATE_EXTENDED_SESSIONSECURITY",
    "NEGOTIATE_IDENTIFY",
    "r5",
    "REQUEST_NON_NT_SESSION_KEY",
    "NEGOTIATE_TARGET_INFO",
    "r4",
    "NEGOTIATE_VERSION",
    "r3",
    "r2",
    "r1",
    "NEGOTIATE_128",
    "NEGOTIATE_KEY_EXCH",
    "NEGOTIATE_56",
};

const char *ntlm_flag_name(uint32_t bit)
{
    for (int i = 0; i < 32; i++)
        if (bit == 1u << i)
            return flag_names[i];
    return "?";
}

const char *ntlm_av_name(uint16_t id)
{
    static const char *const names[NTLM_AV_MAX] = {
        "MsvAvEOL",           "MsvAvNbComputerName", "MsvAvNbDomainName",   "MsvAvDnsComputerName",
        "MsvAvDnsDomainName", "MsvAvDnsTreeName",    "MsvAvFlags",          "MsvAvTimestamp",
        "MsvAvSingleHost",    "MsvAvTargetName",     "MsvAvChannelBindings"};
    return id < NTLM_AV_MAX ? names[id] : "MsvAvUnknown";
}
