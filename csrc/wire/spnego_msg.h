/*
 * SPNEGO messages, RFC 4178 4.2 with MS-SPNG 2.2 (NegTokenInit2), the
 * first-token sniffer and the known mechanism OIDs. Decoders take untrusted
 * bytes and produce views into them (offsets relative to the token start);
 * encoders write into a caller's buffer. Pure: no crypto.
 */
#ifndef SSPX_WIRE_SPNEGO_MSG_H
#define SSPX_WIRE_SPNEGO_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "der.h"

/* Known OIDs, full DER (06 len contents):
 * SPNEGO 1.3.6.1.5.5.2, Kerberos 5 1.2.840.113554.1.2.2, the legacy Microsoft
 * Kerberos OID 1.2.840.48018.1.2.2, NTLMSSP 1.3.6.1.4.1.311.2.2.10, NEGOEX
 * 1.3.6.1.4.1.311.2.2.30. */
#define SPNEGO_OID_SPNEGO   "\x06\x06\x2b\x06\x01\x05\x05\x02"
#define SPNEGO_OID_KRB5     "\x06\x09\x2a\x86\x48\x86\xf7\x12\x01\x02\x02"
#define SPNEGO_OID_MS_KRB5  "\x06\x09\x2a\x86\x48\x82\xf7\x12\x01\x02\x02"
#define SPNEGO_OID_NTLMSSP  "\x06\x0a\x2b\x06\x01\x04\x01\x82\x37\x02\x02\x0a"
#define SPNEGO_OID_NEGOEX   "\x06\x0a\x2b\x06\x01\x04\x01\x82\x37\x02\x02\x1e"
#define SPNEGO_OID_LEN(oid) (sizeof(oid) - 1)

#define SPNEGO_MAX_MECHS 32
/* MS-SPNG 3.2.5.2: the hintName Windows and Samba send */
#define SPNEGO_HINT_NAME "not_defined_in_RFC4178@please_ignore"

/* ContextFlags (RFC 4178 4.2.1): bit i = named bit i */
#define SPNEGO_FLAG_DELEG    0x01u
#define SPNEGO_FLAG_MUTUAL   0x02u
#define SPNEGO_FLAG_REPLAY   0x04u
#define SPNEGO_FLAG_SEQUENCE 0x08u
#define SPNEGO_FLAG_ANON     0x10u
#define SPNEGO_FLAG_CONF     0x20u
#define SPNEGO_FLAG_INTEG    0x40u

/* negState (RFC 4178 4.2.2) */
enum spnego_neg_state {
    SPNEGO_ACCEPT_COMPLETED = 0,
    SPNEGO_ACCEPT_INCOMPLETE = 1,
    SPNEGO_REJECT = 2,
    SPNEGO_REQUEST_MIC = 3,
    SPNEGO_NEG_STATE_ABSENT = -1, /* encoder: leave negState out; decoder: absent */
};

/* A view of a field's bytes in the token. */
typedef struct spnego_view {
    bool present;
    const uint8_t *p;
    size_t len;
    size_t off; /* offset of p in the token */
} spnego_view;

typedef struct spnego_init {
    bool framed;       /* wrapped in the GSS-API framing with the SPNEGO OID */
    bool init2;        /* MS-SPNG NegTokenInit2: negHints [3] present or mechListMIC at [4] */
    der_oid this_mech; /* the framing's OID (SPNEGO) when framed */
    der_oid mechs[SPNEGO_MAX_MECHS];
    size_t nmechs;
    spnego_view mech_types; /* the whole MechTypeList SEQUENCE TLV: the mechListMIC's input */
    bool has_req_flags;
    uint32_t req_flags;        /* SPNEGO_FLAG_* */
    spnego_view req_flags_raw; /* the BIT STRING TLV */
    spnego_view mech_token;
    spnego_view neg_hints; /* the NegHints SEQUENCE TLV */
    spnego_view hint_name; /* GeneralString contents */
    spnego_view hint_address;
    spnego_view mech_list_mic;
} spnego_init;

typedef struct spnego_resp {
    int neg_state;             /* enum spnego_neg_state, SPNEGO_NEG_STATE_ABSENT when absent */
    spnego_view neg_state_tlv; /* the ENUMERATED TLV */
    bool has_supported_mech;
    der_oid supported_mech;
    spnego_view response_token;
    spnego_view mech_list_mic;
} spnego_resp;

enum spnego_kind { SPNEGO_NEG_TOKEN_INIT = 0, SPNEGO_NEG_TOKEN_RESP = 1 };

typedef struct spnego_token {
    int kind; /* enum spnego_kind */
    spnego_init init;
    spnego_resp resp;
} spnego_token;

/* NegTokenInit or NegTokenInit2, GSS-framed (the initial token) or bare [0]. */
SSPX_WUR sspx_status spnego_decode_init(const uint8_t *p, size_t len, spnego_init *out);
/* NegTokenResp: [1] NegTokenResp. */
SSPX_WUR sspx_status spnego_decode_resp(const uint8_t *p, size_t len, spnego_resp *out);
/* Either, by the first byte (0x60 or 0xa0: init, 0xa1: resp). */
SSPX_WUR sspx_status spnego_decode(const uint8_t *p, size_t len, spnego_token *out);

/* Encoder inputs: a field is present when p != NULL (it may be empty). */
typedef struct spnego_bytes {
    const uint8_t *p;
    size_t len;
} spnego_bytes;

/* Mechanisms are given as full DER OIDs (SPNEGO_OID_*). Each encoder returns
 * the length written, or 0 on overflow or a bad argument. */
/* Client's NegTokenInit, GSS-framed. reqFlags is left out when req_flags is 0. */
size_t spnego_encode_init(uint8_t *out, size_t cap, const spnego_bytes *mechs, size_t nmechs,
                          uint32_t req_flags, spnego_bytes mech_token, spnego_bytes mic);
/* Server's NegTokenInit2 (MS-SPNG 2.2.1), GSS-framed: mechTypes, negHints
 * with hintName (SPNEGO_HINT_NAME when hint_name.p is NULL) and hintAddress
 * when given, mechListMIC [4] when given. */
size_t spnego_encode_init2(uint8_t *out, size_t cap, const spnego_bytes *mechs, size_t nmechs,
                           spnego_bytes hint_name, spnego_bytes hint_address, spnego_bytes mic);
/* NegTokenResp, both directions; neg_state SPNEGO_NEG_STATE_ABSENT leaves it
 * out, supported_mech.p NULL leaves supportedMech out. */
size_t spnego_encode_resp(uint8_t *out, size_t cap, int neg_state, spnego_bytes supported_mech,
                          spnego_bytes response_token, spnego_bytes mic);

/* What do the first bytes of a first token look like? */
enum sspx_token_kind {
    SSPX_TOKEN_UNKNOWN = 0,
    SSPX_TOKEN_SPNEGO_INIT,     /* GSS-framed SPNEGO NegTokenInit(2) */
    SSPX_TOKEN_SPNEGO_RESP,     /* bare [1] NegTokenResp (not a first token) */
    SSPX_TOKEN_NTLMSSP,         /* raw NTLMSSP message */
    SSPX_TOKEN_KRB5_AP_REQ_GSS, /* GSS-framed krb5 (or MS krb5 OID) with TOK_ID 01 00 */
    SSPX_TOKEN_KRB5_AP_REQ,     /* raw [APPLICATION 14] AP-REQ */
    SSPX_TOKEN_NEGOEX,          /* GSS-framed NEGOEX OID, or a raw NEGOEX message */
};
enum sspx_token_kind spnego_sniff(const uint8_t *p, size_t len);
const char *spnego_token_kind_name(enum sspx_token_kind k);

/* Names for descriptions. */
const char *spnego_mech_name(const der_oid *o); /* NULL when unknown */
const char *spnego_neg_state_name(int s);

struct sspx_desc;
SSPX_WUR sspx_status spnego_describe(const uint8_t *tok, size_t len, struct sspx_desc **out);

#endif
