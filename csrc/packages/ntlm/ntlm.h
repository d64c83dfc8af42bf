/* NTLM (MS-NLMP): the package's internal interface. */
#ifndef SSPX_NTLM_H
#define SSPX_NTLM_H

#include <stdbool.h>
#include <stdint.h>

#include "core/core.h"
#include "crypto/crypto.h"
#include "wire/ntlm_msg.h"

#define NTLM_NAME_MAX 256 /* UTF-8 bytes of a user/domain/workstation name */

typedef struct ntlm_wstr {
    uint8_t u16[2 * NTLM_NAME_MAX]; /* UTF-16LE */
    size_t u16_len;
    char utf8[NTLM_NAME_MAX + 1];
} ntlm_wstr;

typedef struct ntlm_cred {
    /* server */
    sspx_user_store users;
    ntlm_wstr nb_domain, nb_computer, dns_domain, dns_computer, dns_tree;
    uint8_t tinfo[1024]; /* target info without timestamp and EOL */
    size_t tinfo_len;
    unsigned cbt_policy;        /* SSPX_CBT_* */
    uint32_t challenge_max_age; /* seconds */
    bool allow_v1, allow_lm, require_mic, require_128;
    uint8_t dummy_hash[16]; /* checked against for unknown users (same work, same time) */
    /* client */
    ntlm_wstr user, domain, workstation;
    uint8_t nt_hash[16];
    uint8_t ntowfv2[16]; /* HMAC_MD5(NT hash, UPPER(user) || domain) */
    uint8_t lm_hash[16];
    bool have_lm_hash;
} ntlm_cred;

enum ntlm_state {
    NTLM_S_INITIAL = 0,
    NTLM_S_CHALLENGE_SENT, /* server */
    NTLM_S_NEGOTIATE_SENT, /* client */
    NTLM_S_DONE
};

typedef struct ntlm_ctx {
    int state;
    uint32_t flags; /* negotiated */
    uint8_t server_challenge[8];
    uint64_t challenge_time;
    sspx_bytes negotiate; /* copies for the MIC */
    uint8_t challenge[512];
    size_t challenge_len;
    uint8_t session_key[16]; /* ExportedSessionKey */
    uint8_t send_sign[16], recv_sign[16];
    sspx_rc4 send_rc4, recv_rc4, scratch_rc4;
    uint32_t send_seq, recv_seq;
    bool anonymous, ntlmv2, keys_ready;
    char user[NTLM_NAME_MAX + 1], domain[NTLM_NAME_MAX + 1], workstation[NTLM_NAME_MAX + 1];
} ntlm_ctx;

/* ntlm_crypto.c: MS-NLMP 3.3 and 3.4.5, named as the spec names them */
SSPX_WUR sspx_status ntlm_NTOWFv1(const char *password, uint8_t out[16]);
SSPX_WUR sspx_status ntlm_LMOWFv1(const char *password, uint8_t out[16]);
/* NTOWFv2 = HMAC_MD5(NTOWFv1, UPPER(User) || UserDom), both UTF-16LE; `user_u16`
 * is upper-cased here. */
SSPX_WUR sspx_status ntlm_NTOWFv2(const uint8_t nt_hash[16], const uint8_t *user_u16,
                                  size_t user_len, const uint8_t *domain_u16, size_t domain_len,
                                  uint8_t out[16]);
SSPX_WUR sspx_status ntlm_DESL(const uint8_t key[16], const uint8_t data[8], uint8_t out[24]);
SSPX_WUR sspx_status ntlm_SIGNKEY(const uint8_t esk[16], bool client, uint8_t out[16]);
SSPX_WUR sspx_status ntlm_SEALKEY(uint32_t flags, const uint8_t esk[16], bool client,
                                  uint8_t out[16], size_t *out_len);
SSPX_WUR sspx_status ntlm_KXKEY_v1(uint32_t flags, const uint8_t session_base_key[16],
                                   const uint8_t lm_response[24], const uint8_t lm_hash[16],
                                   const uint8_t server_challenge[8], uint8_t out[16]);
/* NTProofStr = HMAC_MD5(ResponseKeyNT, ServerChallenge || temp) */
SSPX_WUR sspx_status ntlm_v2_proof(const uint8_t key[16], const uint8_t sc[8], const uint8_t *temp,
                                   size_t temp_len, uint8_t out[16]);
/* UTF-8 name -> its UTF-16LE form, both kept in w */
SSPX_WUR sspx_status ntlm_wstr_set(ntlm_wstr *w, const char *utf8);
/* Append a name in wire form (UTF-16LE or OEM = its UTF-8 bytes). */
bool ntlm_wstr_put_u16(uint8_t *out, size_t cap, size_t *pos, const ntlm_wstr *w);
bool ntlm_wstr_put_oem(uint8_t *out, size_t cap, size_t *pos, const ntlm_wstr *w);
/* Derive sign/seal keys and RC4 handles for `flags`, for the client or server side;
 * sequence numbers from 0. */
SSPX_WUR sspx_status ntlm_setup_keys(ntlm_ctx *c, bool server);
/* Only the two RC4 handles, keyed afresh (sequence numbers and signing keys untouched). */
SSPX_WUR sspx_status ntlm_seal_init(ntlm_ctx *c, bool server);

/* ntlm_server.c / ntlm_client.c */
SSPX_WUR sspx_status ntlm_accept(sspx_ctx *ctx, const sspx_step_in *in, sspx_step_out *out);
SSPX_WUR sspx_status ntlm_init(sspx_ctx *ctx, const sspx_step_in *in, sspx_step_out *out);
SSPX_WUR sspx_status ntlm_cred_acquire(sspx_cred *cred, const sspx_config *cfg);
void ntlm_cred_free(void *state);
SSPX_WUR sspx_status ntlm_auth_data(unsigned usage, const void *auth_data, sspx_config *cfg);

/* ntlm_msgsec.c: MS-NLMP 3.4 */
SSPX_WUR sspx_status ntlm_make_signature(sspx_ctx *ctx, sspx_msg *msg);
SSPX_WUR sspx_status ntlm_verify_signature(sspx_ctx *ctx, sspx_msg *msg);
SSPX_WUR sspx_status ntlm_encrypt(sspx_ctx *ctx, sspx_msg *msg);
SSPX_WUR sspx_status ntlm_decrypt(sspx_ctx *ctx, sspx_msg *msg);
/* The package's reset_crypto slot (Negotiate, after the SPNEGO mechListMIC). */
SSPX_WUR sspx_status ntlm_reset_crypto(sspx_ctx *ctx);

/* Decode a name field of an AUTHENTICATE/NEGOTIATE message to UTF-8. */
SSPX_WUR sspx_status ntlm_field_utf8(const ntlm_field *f, bool unicode, char *out, size_t cap);

#define NTLM_VERSION_BYTES             \
    {                                  \
        10, 0, 0x63, 0x45, 0, 0, 0, 15 \
    } /* 10.0.17763, NTLMSSP rev 15 */

#endif
