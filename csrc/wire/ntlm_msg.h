/*
 * NTLM messages and AV pairs, MS-NLMP 2.2. Decoders take untrusted bytes and
 * produce views (pointers into the message, every offset/length checked);
 * encoders write into a caller's fixed buffer. Pure: no crypto.
 */
#ifndef SSPX_WIRE_NTLM_MSG_H
#define SSPX_WIRE_NTLM_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* MS-NLMP 2.2.2.5 NEGOTIATE flags */
#define NTLMSSP_NEGOTIATE_UNICODE                  0x00000001u
#define NTLMSSP_NEGOTIATE_OEM                      0x00000002u
#define NTLMSSP_REQUEST_TARGET                     0x00000004u
#define NTLMSSP_NEGOTIATE_SIGN                     0x00000010u
#define NTLMSSP_NEGOTIATE_SEAL                     0x00000020u
#define NTLMSSP_NEGOTIATE_DATAGRAM                 0x00000040u
#define NTLMSSP_NEGOTIATE_LM_KEY                   0x00000080u
#define NTLMSSP_NEGOTIATE_NTLM                     0x00000200u
#define NTLMSSP_ANONYMOUS                          0x00000800u
#define NTLMSSP_NEGOTIATE_OEM_DOMAIN_SUPPLIED      0x00001000u
#define NTLMSSP_NEGOTIATE_OEM_WORKSTATION_SUPPLIED 0x00002000u
#define NTLMSSP_NEGOTIATE_ALWAYS_SIGN              0x00008000u
#define NTLMSSP_TARGET_TYPE_DOMAIN                 0x00010000u
#define NTLMSSP_TARGET_TYPE_SERVER                 0x00020000u
#define NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY 0x00080000u
#define NTLMSSP_NEGOTIATE_IDENTIFY                 0x00100000u
#define NTLMSSP_REQUEST_NON_NT_SESSION_KEY         0x00400000u
#define NTLMSSP_NEGOTIATE_TARGET_INFO              0x00800000u
#define NTLMSSP_NEGOTIATE_VERSION                  0x02000000u
#define NTLMSSP_NEGOTIATE_128                      0x20000000u
#define NTLMSSP_NEGOTIATE_KEY_EXCH                 0x40000000u
#define NTLMSSP_NEGOTIATE_56                       0x80000000u

/* MS-NLMP 2.2.2.1 AV_PAIR ids */
enum ntlm_av_id {
    MsvAvEOL = 0,
    MsvAvNbComputerName = 1,
    MsvAvNbDomainName = 2,
    MsvAvDnsComputerName = 3,
    MsvAvDnsDomainName = 4,
    MsvAvDnsTreeName = 5,
    MsvAvFlags = 6,
    MsvAvTimestamp = 7,
    MsvAvSingleHost = 8,
    MsvAvTargetName = 9,
    MsvAvChannelBindings = 10,
    NTLM_AV_MAX = 11
};
#define NTLM_AVFLAG_CONSTRAINED   0x1u
#define NTLM_AVFLAG_MIC           0x2u
#define NTLM_AVFLAG_UNTRUSTED_SPN 0x4u

#define NTLM_SIGNATURE            "NTLMSSP" /* 8 bytes with the NUL */
#define NTLM_MAX_TOKEN            2888      /* Windows' cbMaxToken for NTLM */
#define NTLM_NEGOTIATE_MIN        16        /* signature, type, flags */
#define NTLM_CHALLENGE_MIN        32        /* up to and including ServerChallenge */
#define NTLM_AUTHENTICATE_MIN     52        /* up to and including Workstation fields */
#define NTLM_MIC_OFFSET           72
#define NTLM_AUTH_HEADER_WITH_MIC 88

/* A (len, maxlen, offset) field resolved against its message. */
typedef struct ntlm_field {
    uint16_t len, maxlen;
    uint32_t off;
    const uint8_t *p; /* NULL when len == 0 */
} ntlm_field;

typedef struct ntlm_negotiate {
    uint32_t flags;
    ntlm_field domain, workstation;
    bool has_version;
    uint8_t version[8];
} ntlm_negotiate;

typedef struct ntlm_challenge {
    uint32_t flags;
    ntlm_field target_name;
    uint8_t server_challenge[8];
    ntlm_field target_info;
    bool has_version;
    uint8_t version[8];
} ntlm_challenge;

typedef struct ntlm_authenticate {
    ntlm_field lm, nt, domain, user, workstation, enc_key;
    uint32_t flags;
    size_t header_len; /* where the payload may start */
    bool has_version;
    uint8_t version[8];
    bool has_mic; /* header long enough to hold a MIC at offset 72 */
    uint8_t mic[16];
} ntlm_authenticate;

/* Positions of each AV pair seen in a list (first occurrence wins). */
typedef struct ntlm_av {
    const uint8_t *v[NTLM_AV_MAX];
    uint16_t len[NTLM_AV_MAX];
    uint32_t off[NTLM_AV_MAX]; /* offset of the pair (AvId) within the list */
    bool seen[NTLM_AV_MAX];
    size_t list_len; /* bytes up to and including MsvAvEOL */
    size_t count;    /* pairs, EOL included */
} ntlm_av;

/* NTLMv2 client challenge (MS-NLMP 2.2.2.7) inside NtChallengeResponse. */
typedef struct ntlm_v2_blob {
    uint8_t resp_type, hi_resp_type;
    uint64_t timestamp;
    uint8_t client_challenge[8];
    const uint8_t *av; /* AV pair list */
    size_t av_len;     /* bytes from av to end of response */
} ntlm_v2_blob;

/* Returns the message type (1, 2, 3) if `p` starts with the NTLMSSP header, else 0. */
int ntlm_msg_type(const uint8_t *p, size_t len);

SSPX_WUR sspx_status ntlm_decode_negotiate(const uint8_t *p, size_t len, ntlm_negotiate *out);
SSPX_WUR sspx_status ntlm_decode_challenge(const uint8_t *p, size_t len, ntlm_challenge *out);
SSPX_WUR sspx_status ntlm_decode_authenticate(const uint8_t *p, size_t len, ntlm_authenticate *out);
SSPX_WUR sspx_status ntlm_decode_av(const uint8_t *p, size_t len, ntlm_av *out);
/* NtChallengeResponse of more than 24 bytes: NTProofStr(16) + blob. */
SSPX_WUR sspx_status ntlm_decode_v2_response(const uint8_t *p, size_t len, ntlm_v2_blob *out);

/* Encoders. Strings are already in wire form (UTF-16LE or OEM). */
typedef struct ntlm_bytes {
    const uint8_t *p;
    size_t len;
} ntlm_bytes;

/* Returns the length written, or 0 on overflow. */
size_t ntlm_encode_negotiate(uint8_t *out, size_t cap, uint32_t flags, ntlm_bytes domain,
                             ntlm_bytes workstation, const uint8_t version[8]);
size_t ntlm_encode_challenge(uint8_t *out, size_t cap, uint32_t flags, ntlm_bytes target_name,
                             const uint8_t server_challenge[8], ntlm_bytes target_info,
                             const uint8_t version[8]);
/* Writes a zeroed MIC field when `with_mic`; *mic_at receives its offset. */
size_t ntlm_encode_authenticate(uint8_t *out, size_t cap, uint32_t flags, ntlm_bytes lm,
                                ntlm_bytes nt, ntlm_bytes domain, ntlm_bytes user,
                                ntlm_bytes workstation, ntlm_bytes enc_key,
                                const uint8_t version[8], bool with_mic, size_t *mic_at);

/* AV pair list writer: append pairs into out[cap] at *pos. */
bool ntlm_av_put(uint8_t *out, size_t cap, size_t *pos, uint16_t id, const void *v, size_t len);

/* Describe any NTLM message for people (ntlm_describe.c). */
struct sspx_desc;
SSPX_WUR sspx_status ntlm_describe(const uint8_t *tok, size_t len, struct sspx_desc **out);

/* Names of flags and AV ids for descriptions. */
const char *ntlm_flag_name(uint32_t bit);
const char *ntlm_av_name(uint16_t id);

#endif
