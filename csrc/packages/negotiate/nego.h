/*
 * Negotiate (SPNEGO, RFC 4178 + MS-SPNG): the package's internal interface.
 *
 * Negotiate reaches Kerberos and NTLM only through the package table
 * (sspx_package_find + the table's slots), with sub-credentials and
 * sub-contexts made by the core's object functions.
 */
#ifndef SSPX_NEGO_H
#define SSPX_NEGO_H

#include <stdbool.h>
#include <stdint.h>

#include "core/core.h"
#include "wire/spnego_msg.h"

/* Mechanisms, in the order of preference: Kerberos first, then NTLM. */
enum nego_mech { NEGO_KRB = 0, NEGO_NTLM = 1, NEGO_NMECH = 2, NEGO_NONE = -1 };

#define NEGO_MAX_TOKEN 48256 /* Windows' cbMaxToken for Negotiate (Kerberos' 48000 + SPNEGO) */

typedef struct nego_cred {
    sspx_cred *sub[NEGO_NMECH]; /* NULL: not offered */
    int order[NEGO_NMECH];      /* preference, most preferred first (the packages option) */
    bool client_selects;        /* server: the client's first usable mechanism, not ours */
} nego_cred;

enum nego_state {
    NEGO_S_START = 0,
    NEGO_S_RAW,      /* server: a raw NTLMSSP / Kerberos token, no SPNEGO framing */
    NEGO_S_RUNNING,  /* sub-context under way */
    NEGO_S_WAIT_MIC, /* server: sub done, our MIC sent, waiting for the client's */
    NEGO_S_WAIT_END, /* client: sub done, our MIC sent, waiting for accept-completed */
    NEGO_S_DONE,
};

typedef struct nego_ctx {
    int state;
    int mech; /* enum nego_mech: the chosen (or, client, the current) mechanism */
    sspx_ctx *sub;
    bool sub_done;
    bool mic_required; /* the chosen mechanism was not the initiator's first choice */
    bool mic_sent, mic_verified;
    uint8_t *mech_types; /* the MechTypeList DER, the mechListMIC's input */
    size_t mech_types_len;
    int offered[NEGO_NMECH]; /* client: mechanisms listed, in order */
    size_t noffered;
    bool sub_error_token; /* the failed sub-step left an error token (KRB-ERROR) in out_tok */
    bool hinted;          /* server: sent its NegTokenInit2 (called with no input) */
} nego_ctx;

/* nego_pkg.c */
const uint8_t *nego_mech_oid(int mech, size_t *len);
int nego_mech_of_oid(const der_oid *o); /* NEGO_NONE when not Kerberos / NTLM */
SSPX_WUR sspx_status nego_sub_start(sspx_ctx *ctx, int mech);
SSPX_WUR sspx_status nego_sub_step(sspx_ctx *ctx, const sspx_step_in *in, const uint8_t *tok,
                                   size_t len, sspx_bytes *out_tok, uint32_t *ret_flags);
SSPX_WUR sspx_status nego_mic_make(sspx_ctx *ctx, uint8_t *mic, size_t cap, size_t *len);
SSPX_WUR sspx_status nego_mic_verify(sspx_ctx *ctx, const uint8_t *mic, size_t len);
SSPX_WUR sspx_status nego_finish(sspx_ctx *ctx);
SSPX_WUR sspx_status nego_set_mech_types(nego_ctx *c, const uint8_t *p, size_t len);
/* Server, after a failed sub-step: with ASC_REQ_EXTENDED_ERROR and an error
 * token from the sub-package, hand it to the client (raw, or in a
 * NegTokenResp with negState reject); returns `st` unchanged. */
SSPX_WUR sspx_status nego_fail(sspx_ctx *ctx, sspx_step_out *out, sspx_bytes *tok, bool raw,
                               sspx_status st);
SSPX_WUR sspx_status nego_emit_resp(sspx_step_out *out, int neg_state, int supported_mech,
                                    const sspx_bytes *tok, const uint8_t *mic, size_t mic_len);

/*
 * The end of a SPNEGO exchange with the mechanism's context complete: once a
 * mechListMIC was made or checked with the sub-context, its package restarts
 * its message-protection state (the reset_crypto slot; NTLM: the RC4 handles,
 * MS-SPNG 3.3.5.1) before the first application message, then the context
 * takes the sub-context's name and expiry (nego_finish). Called after the last
 * MIC operation of the exchange, on both sides.
 */
static inline SSPX_WUR sspx_status nego_complete(sspx_ctx *ctx)
{
    nego_ctx *c = ctx->state;
    if ((c->mic_sent || c->mic_verified) && c->sub->pkg->reset_crypto)
        GUARD(c->sub->pkg->reset_crypto(c->sub));
    return nego_finish(ctx);
}

/* nego_server.c / nego_client.c */
SSPX_WUR sspx_status nego_accept(sspx_ctx *ctx, const sspx_step_in *in, sspx_step_out *out);
SSPX_WUR sspx_status nego_init(sspx_ctx *ctx, const sspx_step_in *in, sspx_step_out *out);

#endif
