/*
 * NTLM messages described for people: the decoders of ntlm_msg.c (the same
 * ones the package runs) turned into a description tree with field names,
 * offsets and lengths.
 */
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "cursor.h"
#include "ntlm_msg.h"
#include "utf.h"

static void flags_node(sspx_desc *parent, const char *name, size_t off, uint32_t flags)
{
    sspx_desc *f = sspx_desc_text_node(parent, name, SSPX_DESC_FLAGS, off, 4, flags, NULL);
    for (int i = 0; i < 32; i++) {
        uint32_t bit = 1u << i;
        if (flags & bit)
            sspx_desc_text_node(f, ntlm_flag_name(bit), SSPX_DESC_FLAG, off, 4, bit, NULL);
    }
}

static void version_node(sspx_desc *parent, size_t off, const uint8_t v[8])
{
    char txt[64];
    snprintf(txt, sizeof(txt), "%u.%u.%u NTLMSSP revision %u", v[0], v[1],
             (unsigned)(v[2] | v[3] << 8), v[7]);
    sspx_desc_text_node(parent, "Version", SSPX_DESC_STRING, off, 8, 0, txt);
}

/* A string field: its header, and its value decoded from UTF-16LE or OEM. */
static void string_node(sspx_desc *parent, const char *name, size_t hdr_off, const ntlm_field *f,
                        bool unicode)
{
    char txt[1024];
    sspx_desc *d;
    bool ok = f->len == 0 || (unicode ? sspx_utf16le_to_utf8(f->p, f->len, txt, sizeof(txt))
                                      : sspx_oem_to_utf8(f->p, f->len, txt, sizeof(txt)));
    /* an empty field's offset is whatever the peer wrote: point at its header */
    size_t off = f->len ? f->off : hdr_off;
    if (f->len == 0)
        txt[0] = 0;
    if (ok)
        d = sspx_desc_text_node(parent, name, SSPX_DESC_STRING, off, f->len, 0, txt);
    else
        d = sspx_desc_bytes_node(parent, name, off, f->p, f->len);
    sspx_desc_uint_node(d, "FieldHeaderOffset", hdr_off, 8, hdr_off);
}

static void bytes_field(sspx_desc *parent, const char *name, size_t hdr_off, const ntlm_field *f)
{
    sspx_desc *d = sspx_desc_bytes_node(parent, name, f->len ? f->off : hdr_off, f->p, f->len);
    sspx_desc_uint_node(d, "FieldHeaderOffset", hdr_off, 8, hdr_off);
}

static void av_nodes(sspx_desc *parent, const char *name, size_t base, const uint8_t *p, size_t len)
{
    sspx_desc *list = sspx_desc_node(parent, name, SSPX_DESC_STRUCT, base, len);
    sspx_rd r;
    sspx_rd_init(&r, p, len);
    while (sspx_rd_left(&r) >= 4) {
        uint16_t id = 0, l = 0;
        const uint8_t *v;
        size_t at = r.pos;
        char txt[1024];
        (void)sspx_rd_le16(&r, &id);
        (void)sspx_rd_le16(&r, &l);
        if (!sspx_rd_ptr(&r, l, &v))
            break;
        const char *n = ntlm_av_name(id);
        if (id == MsvAvEOL) {
            sspx_desc_node(list, n, SSPX_DESC_STRUCT, base + at, 4);
            break;
        }
        if (id >= MsvAvNbComputerName && id <= MsvAvDnsTreeName && l % 2 == 0 &&
            sspx_utf16le_to_utf8(v, l, txt, sizeof(txt)))
            sspx_desc_text_node(list, n, SSPX_DESC_STRING, base + at, 4u + l, 0, txt);
        else if (id == MsvAvTargetName && l % 2 == 0 &&
                 sspx_utf16le_to_utf8(v, l, txt, sizeof(txt)))
            sspx_desc_text_node(list, n, SSPX_DESC_STRING, base + at, 4u + l, 0, txt);
        else if (id == MsvAvFlags && l == 4) {
            uint32_t fl = sspx_get_le32(v);
            sspx_desc *f = sspx_desc_text_node(list, n, SSPX_DESC_FLAGS, base + at, 8, fl, NULL);
            if (fl & NTLM_AVFLAG_CONSTRAINED)
                sspx_desc_text_node(f, "CONSTRAINED_AUTHENTICATION", SSPX_DESC_FLAG, base + at, 8,
                                    1, NULL);
            if (fl & NTLM_AVFLAG_MIC)
                sspx_desc_text_node(f, "MIC_PROVIDED", SSPX_DESC_FLAG, base + at, 8, 2, NULL);
            if (fl & NTLM_AVFLAG_UNTRUSTED_SPN)
                sspx_desc_text_node(f, "UNTRUSTED_SPN_SOURCE", SSPX_DESC_FLAG, base + at, 8, 4,
                                    NULL);
        } else if (id == MsvAvTimestamp && l == 8) {
            uint64_t t = (uint64_t)sspx_get_le32(v + 4) << 32 | sspx_get_le32(v);
            sspx_desc_uint_node(list, n, base + at, 12, t);
        } else { /* the value's bytes, where they are (after the 4-byte AvId/AvLen) */
            sspx_desc_bytes_node(list, n, base + at + 4, v, l);
        }
    }
}

static sspx_status describe_negotiate(const uint8_t *p, size_t len, sspx_desc *root)
{
    ntlm_negotiate m;
    GUARD(ntlm_decode_negotiate(p, len, &m));
    sspx_desc_text_node(root, "MessageType", SSPX_DESC_ENUM, 8, 4, 1, "NEGOTIATE_MESSAGE");
    flags_node(root, "NegotiateFlags", 12, m.flags);
    if (len >= 32) {
        string_node(root, "DomainName", 16, &m.domain, false);
        string_node(root, "Workstation", 24, &m.workstation, false);
    }
    if (m.has_version)
        version_node(root, 32, m.version);
    return SEC_E_OK;
}

static sspx_status describe_challenge(const uint8_t *p, size_t len, sspx_desc *root)
{
    ntlm_challenge m;
    ntlm_av av;
    GUARD(ntlm_decode_challenge(p, len, &m));
    bool uni = m.flags & NTLMSSP_NEGOTIATE_UNICODE;
    sspx_desc_text_node(root, "MessageType", SSPX_DESC_ENUM, 8, 4, 2, "CHALLENGE_MESSAGE");
    string_node(root, "TargetName", 12, &m.target_name, uni);
    flags_node(root, "NegotiateFlags", 20, m.flags);
    sspx_desc_bytes_node(root, "ServerChallenge", 24, m.server_challenge, 8);
    if (m.target_info.len) {
        GUARD(ntlm_decode_av(m.target_info.p, m.target_info.len, &av));
        av_nodes(root, "TargetInfo", m.target_info.off, m.target_info.p, m.target_info.len);
    }
    if (m.has_version)
        version_node(root, 48, m.version);
    return SEC_E_OK;
}

static sspx_status describe_authenticate(const uint8_t *p, size_t len, sspx_desc *root)
{
    ntlm_authenticate m;
    GUARD(ntlm_decode_authenticate(p, len, &m));
    bool uni = m.flags ? (m.flags & NTLMSSP_NEGOTIATE_UNICODE) != 0 : true;
    sspx_desc_text_node(root, "MessageType", SSPX_DESC_ENUM, 8, 4, 3, "AUTHENTICATE_MESSAGE");
    const char *kind = m.nt.len > 24     ? "NTLMv2"
                       : m.nt.len == 24  ? "NTLMv1"
                       : m.user.len == 0 ? "anonymous"
                                         : "LM";
    sspx_desc_text_node(root, "ResponseKind", SSPX_DESC_STRING, 0, 0, 0, kind);
    bytes_field(root, "LmChallengeResponse", 12, &m.lm);
    if (m.nt.len > 24) {
        ntlm_v2_blob b;
        ntlm_av av;
        sspx_desc *nt =
            sspx_desc_node(root, "NtChallengeResponse", SSPX_DESC_STRUCT, m.nt.off, m.nt.len);
        sspx_desc_uint_node(nt, "FieldHeaderOffset", 20, 8, 20);
        sspx_desc_bytes_node(nt, "NTProofStr", m.nt.off, m.nt.p, 16);
        if (ntlm_decode_v2_response(m.nt.p, m.nt.len, &b) == SEC_E_OK) {
            sspx_desc_uint_node(nt, "TimeStamp", m.nt.off + 24, 8, b.timestamp);
            sspx_desc_bytes_node(nt, "ChallengeFromClient", m.nt.off + 32, b.client_challenge, 8);
            if (ntlm_decode_av(b.av, b.av_len, &av) == SEC_E_OK)
                av_nodes(nt, "AvPairs", m.nt.off + 44, b.av, av.list_len);
        }
    } else {
        bytes_field(root, "NtChallengeResponse", 20, &m.nt);
    }
    string_node(root, "DomainName", 28, &m.domain, uni);
    string_node(root, "UserName", 36, &m.user, uni);
    string_node(root, "Workstation", 44, &m.workstation, uni);
    if (m.header_len >= 64) {
        bytes_field(root, "EncryptedRandomSessionKey", 52, &m.enc_key);
        flags_node(root, "NegotiateFlags", 60, m.flags);
    }
    if (m.has_version)
        version_node(root, 64, m.version);
    if (m.has_mic)
        sspx_desc_bytes_node(root, "MIC", NTLM_MIC_OFFSET, m.mic, 16);
    return SEC_E_OK;
}

sspx_status ntlm_describe(const uint8_t *tok, size_t len, sspx_desc **out)
{
    sspx_desc *root;
    sspx_status st;
    *out = NULL;
    int t = ntlm_msg_type(tok, len);
    ENSURE(t != 0 || len < 12, SSPX_ERR_NTLM_SIGNATURE);
    ENSURE(t != 0, len < 12 ? SSPX_ERR_NTLM_TRUNCATED : SSPX_ERR_NTLM_SIGNATURE);
    root = sspx_desc_node(NULL, "NTLM", SSPX_DESC_STRUCT, 0, len);
    ENSURE(root, SSPX_ERR_NO_MEMORY);
    st = t == 1   ? describe_negotiate(tok, len, root)
         : t == 2 ? describe_challenge(tok, len, root)
                  : describe_authenticate(tok, len, root);
    if (st < 0) {
        sspx_desc_free(&root);
        return st;
    }
    *out = root;
    return SEC_E_OK;
}
