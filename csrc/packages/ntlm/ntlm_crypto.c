/* NTLM's cryptographic functions, MS-NLMP 3.3.1, 3.3.2, 3.4.5, 6. */
#include <string.h>

#include "ntlm.h"
#include "wire/utf.h"

sspx_status ntlm_wstr_set(ntlm_wstr *w, const char *utf8)
{
    size_t n = strlen(utf8);
    ENSURE(n <= NTLM_NAME_MAX, SSPX_ERR_BAD_OPTION_VALUE);
    ENSURE(sspx_utf8_to_utf16le(utf8, n, false, w->u16, sizeof(w->u16), &w->u16_len),
           SSPX_ERR_BAD_OPTION_VALUE);
    memcpy(w->utf8, utf8, n + 1);
    return SEC_E_OK;
}

bool ntlm_wstr_put_u16(uint8_t *out, size_t cap, size_t *pos, const ntlm_wstr *w)
{
    if (*pos > cap || cap - *pos < w->u16_len)
        return false;
    memcpy(out + *pos, w->u16, w->u16_len);
    *pos += w->u16_len;
    return true;
}

bool ntlm_wstr_put_oem(uint8_t *out, size_t cap, size_t *pos, const ntlm_wstr *w)
{
    size_t n = strlen(w->utf8);
    if (*pos > cap || cap - *pos < n)
        return false;
    memcpy(out + *pos, w->utf8, n);
    *pos += n;
    return true;
}

sspx_status ntlm_NTOWFv1(const char *password, uint8_t out[16])
{
    uint8_t u[1024];
    size_t n;
    ENSURE(sspx_utf8_to_utf16le(password, strlen(password), false, u, sizeof(u), &n),
           SSPX_ERR_BAD_OPTION_VALUE);
    sspx_status st = sspx_md4(u, n, out);
    sspx_wipe(u, sizeof(u));
    return st;
}

/* LMOWFv1 = DES(UPPER(pw)[0..7], "KGS!@#$%") || DES(UPPER(pw)[7..14], ...) */
sspx_status ntlm_LMOWFv1(const char *password, uint8_t out[16])
{
    static const uint8_t magic[8] = {'K', 'G', 'S', '!', '@', '#', '$', '%'};
    uint8_t pw[14] = {0};
    sspx_status st;
    for (size_t i = 0; i < 14 && password[i]; i++) {
        unsigned char c = (unsigned char)password[i];
        pw[i] = (c >= 'a' && c <= 'z') ? (uint8_t)(c - 0x20) : c;
    }
    st = sspx_des7(pw, magic, out);
    if (st == SEC_E_OK)
        st = sspx_des7(pw + 7, magic, out + 8);
    sspx_wipe(pw, sizeof(pw));
    return st;
}

sspx_status ntlm_NTOWFv2(const uint8_t nt_hash[16], const uint8_t *user_u16, size_t user_len,
                         const uint8_t *domain_u16, size_t domain_len, uint8_t out[16])
{
    uint8_t up[2 * NTLM_NAME_MAX];
    ENSURE(user_len <= sizeof(up) && !(user_len & 1), SSPX_ERR_NTLM_FIELD_ODD);
    for (size_t i = 0; i < user_len; i += 2) {
        uint32_t c = (uint32_t)user_u16[i] | (uint32_t)user_u16[i + 1] << 8;
        if (c < 0xd800 || c > 0xdfff)
            c = sspx_unicode_upper(c);
        up[i] = (uint8_t)c;
        up[i + 1] = (uint8_t)(c >> 8);
    }
    sspx_iov v[2] = {{up, user_len}, {domain_u16, domain_len}};
    return sspx_hmac_md5v(nt_hash, 16, v, 2, out);
}

/* DESL(K, D) = DES(K[0..6], D) || DES(K[7..13], D) || DES(K[14..15] || Z(5), D) */
sspx_status ntlm_DESL(const uint8_t key[16], const uint8_t data[8], uint8_t out[24])
{
    uint8_t k3[7] = {key[14], key[15], 0, 0, 0, 0, 0};
    GUARD(sspx_des7(key, data, out));
    GUARD(sspx_des7(key + 7, data, out + 8));
    GUARD(sspx_des7(k3, data, out + 16));
    return SEC_E_OK;
}

sspx_status ntlm_v2_proof(const uint8_t key[16], const uint8_t sc[8], const uint8_t *temp,
                          size_t temp_len, uint8_t out[16])
{
    sspx_iov v[2] = {{sc, 8}, {temp, temp_len}};
    return sspx_hmac_md5v(key, 16, v, 2, out);
}

static const char client_sign[] = "session key to client-to-server signing key magic constant";
static const char server_sign[] = "session key to server-to-client signing key magic constant";
static const char client_seal[] = "session key to client-to-server sealing key magic constant";
static const char server_seal[] = "session key to server-to-client sealing key magic constant";

/* 3.4.5.2: the magic constants include their terminating NUL. */
sspx_status ntlm_SIGNKEY(const uint8_t esk[16], bool client, uint8_t out[16])
{
    sspx_iov v[2] = {{esk, 16}, {client ? client_sign : server_sign, sizeof(client_sign)}};
    return sspx_md5v(v, 2, out);
}

/* 3.4.5.3 */
sspx_status ntlm_SEALKEY(uint32_t flags, const uint8_t esk[16], bool client, uint8_t out[16],
                         size_t *out_len)
{
    if (flags & NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY) {
        size_t klen = (flags & NTLMSSP_NEGOTIATE_128) ? 16 : (flags & NTLMSSP_NEGOTIATE_56) ? 7 : 5;
        sspx_iov v[2] = {{esk, klen}, {client ? client_seal : server_seal, sizeof(client_seal)}};
        *out_len = 16;
        return sspx_md5v(v, 2, out);
    }
    if (flags & NTLMSSP_NEGOTIATE_LM_KEY) {
        memcpy(out, esk, 8);
        if (flags & NTLMSSP_NEGOTIATE_56) {
            out[7] = 0xa0;
        } else {
            out[5] = 0xe5;
            out[6] = 0x38;
            out[7] = 0xb0;
        }
        *out_len = 8;
        return SEC_E_OK;
    }
    memcpy(out, esk, 16);
    *out_len = 16;
    return SEC_E_OK;
}

/* 3.4.5.1 KXKEY for NTLMv1 (NTLMv2's is the SessionBaseKey itself). */
sspx_status ntlm_KXKEY_v1(uint32_t flags, const uint8_t sbk[16], const uint8_t lm_resp[24],
                          const uint8_t lm_hash[16], const uint8_t sc[8], uint8_t out[16])
{
    if (flags & NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY) {
        sspx_iov v[2] = {{sc, 8}, {lm_resp, 8}};
        return sspx_hmac_md5v(sbk, 16, v, 2, out);
    }
    if (flags & NTLMSSP_NEGOTIATE_LM_KEY) {
        uint8_t k2[7] = {lm_hash[7], 0xbd, 0xbd, 0xbd, 0xbd, 0xbd, 0xbd};
        GUARD(sspx_des7(lm_hash, lm_resp, out));
        GUARD(sspx_des7(k2, lm_resp, out + 8));
        return SEC_E_OK;
    }
    if (flags & NTLMSSP_REQUEST_NON_NT_SESSION_KEY) {
        memcpy(out, lm_hash, 8);
        memset(out + 8, 0, 8);
        return SEC_E_OK;
    }
    memcpy(out, sbk, 16);
    return SEC_E_OK;
}

/* The two sealing (RC4) handles from the start of their keystreams:
 * SEALKEY of the direction each one serves (3.4.5.3). */
sspx_status ntlm_seal_init(ntlm_ctx *c, bool server)
{
    uint8_t k[16];
    size_t klen = 0;
    sspx_status st = ntlm_SEALKEY(c->flags, c->session_key, !server, k, &klen);
    if (st >= 0)
        st = sspx_rc4_init(&c->send_rc4, k, klen);
    if (st >= 0)
        st = ntlm_SEALKEY(c->flags, c->session_key, server, k, &klen);
    if (st >= 0)
        st = sspx_rc4_init(&c->recv_rc4, k, klen);
    sspx_wipe(k, sizeof(k));
    return st;
}

sspx_status ntlm_setup_keys(ntlm_ctx *c, bool server)
{
    bool ess = c->flags & NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY;
    c->send_seq = c->recv_seq = 0;
    if (ess) {
        /* the side that sends uses its own direction's keys */
        GUARD(ntlm_SIGNKEY(c->session_key, !server, c->send_sign));
        GUARD(ntlm_SIGNKEY(c->session_key, server, c->recv_sign));
    }
    return ntlm_seal_init(c, server);
}
