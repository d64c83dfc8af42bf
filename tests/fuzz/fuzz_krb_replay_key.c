/*
 * krb_apreq_replay_key (packages/kerberos/krb_rcache.c): the DER walk that
 * keys the Kerberos acceptor's replay cache. It runs on every untrusted
 * AP-REQ before Heimdal sees it.
 *
 * The input is used twice:
 *   1. as the token (GSS-framed, a raw AP-REQ, or anything else);
 *   2. as the body of an AP-REQ: framed here with the krb5 OID and TOK_ID
 *      01 00, so that mutations reach the AP-REQ walk without having to keep
 *      the framing's lengths right.
 * Invariants: the status is SEC_E_OK or SEC_E_INVALID_TOKEN; a key is the
 * same when computed again; a token whose key is
 * found is what spnego_sniff (the Negotiate server's first-token sniffer)
 * calls a raw AP-REQ, or a GSS-framed krb5 token when its OID is krb5's.
 */
#include "core/core.h"
#include "fuzz_decode_common.h"
#include "packages/kerberos/krb_rcache.h"
#include "wire/der.h"
#include "wire/spnego_msg.h"

/* The other walkers over the same bytes: the ticket's enc-part and service
 * name, and (as if it were decrypted plaintext) an Authenticator's GSS
 * checksum and an EncTicketPart's session key. Views must stay inside. */
static void walkers(const uint8_t *tok, size_t len)
{
    const uint8_t *p;
    size_t n;
    int64_t v;
    bool bound;
    char name[128];
    if (krb_apreq_ticket(tok, len, &v, &p, &n) == SEC_E_OK)
        FZ_CHECK(p >= tok && p + n <= tok + len);
    if (krb_apreq_authenticator(tok, len, &v, &p, &n) == SEC_E_OK)
        FZ_CHECK(p >= tok && p + n <= tok + len);
    if (krb_apreq_service(tok, len, name, sizeof(name)))
        FZ_CHECK(strlen(name) < sizeof(name) && strchr(name, '@') != NULL);
    else
        FZ_CHECK(name[0] == 0);
    (void)krb_authenticator_bound(tok, len, &bound);
    if (krb_ticket_session_key(tok, len, &v, &p, &n) == SEC_E_OK)
        FZ_CHECK(p >= tok && p + n <= tok + len);
}

static void one(const uint8_t *tok, size_t len, int framed_here)
{
    uint8_t key[KRB_RC_KEY_LEN], again[KRB_RC_KEY_LEN];
    sspx_status st = krb_apreq_replay_key(tok, len, key);
    FZ_CHECK(st == SEC_E_OK || st == SEC_E_INVALID_TOKEN);
    walkers(tok, len);
    if (st != SEC_E_OK)
        return;
    FZ_CHECK(krb_apreq_replay_key(tok, len, again) == SEC_E_OK);
    FZ_CHECK(memcmp(key, again, sizeof(key)) == 0);
    /* (No "the key's bytes are in the token" check: for a short cipher the
     * key is a SHA-256, and libFuzzer's comparison tracing copies hash bytes
     * into the input, so either half can appear there by construction.) */
    fz_touch(key, sizeof(key));
    if (framed_here) {
        FZ_CHECK(spnego_sniff(tok, len) == SSPX_TOKEN_KRB5_AP_REQ_GSS);
    } else if (tok[0] == 0x6e) { /* a raw AP-REQ */
        FZ_CHECK(spnego_sniff(tok, len) == SSPX_TOKEN_KRB5_AP_REQ);
    } else {
        gss_framed f;
        FZ_CHECK(gss_decode_framing(tok, len, &f) == SEC_E_OK);
        FZ_CHECK(f.inner_len > 2 && f.inner[0] == 0x01 && f.inner[1] == 0x00);
        if (der_oid_eq(&f.mech, (const uint8_t *)SPNEGO_OID_KRB5, SPNEGO_OID_LEN(SPNEGO_OID_KRB5)))
            FZ_CHECK(spnego_sniff(tok, len) == SSPX_TOKEN_KRB5_AP_REQ_GSS);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t inner[70000], framed[70016];
    uint8_t *copy;
    size_t n;
    /* 1: the token itself, an exact-size heap copy (reads past it are
     * ASan reports) */
    copy = fz_dup(data, size);
    one(copy, size, 0);
    free(copy);
    /* 2: framed here */
    if (size + 2 > sizeof(inner))
        return 0;
    inner[0] = 0x01;
    inner[1] = 0x00;
    memcpy(inner + 2, data, size);
    n = gss_encode_framing(framed, sizeof(framed), (const uint8_t *)SPNEGO_OID_KRB5,
                           SPNEGO_OID_LEN(SPNEGO_OID_KRB5), inner, size + 2);
    FZ_CHECK(n > 0);
    copy = fz_dup(framed, n);
    one(copy, n, 1);
    free(copy);
    return 0;
}
