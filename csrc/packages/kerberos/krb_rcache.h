/*
 * The Kerberos acceptor's replay cache: one small interface, so that a
 * store shared by several processes or machines (docs/ARCHITECTURE.md,
 * "Growing past one machine") can replace the in-memory one later.
 *
 * A key is taken from an AP-REQ's encrypted authenticator (the cipher of
 * its EncryptedData, krb_apreq_replay_key): unique per authenticator, and
 * integrity-protected by the session key, so a token altered to dodge the
 * cache fails in GSS.
 * Keys are inserted only after gss_accept_sec_context verified the token,
 * so forged tokens cannot fill or poison the cache.
 */
#ifndef SSPX_KRB_RCACHE_H
#define SSPX_KRB_RCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

#define KRB_RC_KEY_LEN 32 /* the cipher's two ends, or SHA-256 of a short one */

typedef struct krb_rcache krb_rcache;
struct krb_rcache {
    /* Atomically: if `key` is held and its expiry is after `now`, fail with
     * SSPX_ERR_KRB_REPLAY; otherwise remember it until `expiry` and return
     * SEC_E_OK. Times are FILETIMEs. Safe to call from any thread. */
    sspx_status (*check_and_insert)(krb_rcache *rc, const uint8_t key[KRB_RC_KEY_LEN], uint64_t now,
                                    uint64_t expiry);
    /* Only the lookup: SSPX_ERR_KRB_REPLAY if `key` is held and unexpired
     * (a replay is refused before GSS sees it: cheaper, and Heimdal leaks
     * on some of the failures a replay would reach). */
    sspx_status (*check)(krb_rcache *rc, const uint8_t key[KRB_RC_KEY_LEN], uint64_t now);
    void (*destroy)(krb_rcache *rc);
};

/* The in-process store: at most `max_entries` keys (the oldest are evicted
 * first; expired ones are dropped as new ones come), one mutex. */
SSPX_WUR sspx_status krb_rcache_mem_new(size_t max_entries, krb_rcache **out);
/* The in-process store shared by all holders of the same `id` (the
 * Kerberos package: the keytab's full name); destroy() drops one holder's
 * reference. It holds the largest `max_entries` any holder asked for. */
SSPX_WUR sspx_status krb_rcache_shared(const char *id, size_t max_entries, krb_rcache **out);

/* The encrypted authenticator of an AP-REQ (GSS-framed or raw): its etype
 * and cipher (a view into tok). SSPX_ERR_KRB_DEFECTIVE_TOKEN otherwise. */
SSPX_WUR sspx_status krb_apreq_authenticator(const uint8_t *tok, size_t len, int64_t *etype,
                                             const uint8_t **cipher, size_t *cipher_len);
/* The AP-REQ's ticket's enc-part (encrypted with the service's key). */
SSPX_WUR sspx_status krb_apreq_ticket(const uint8_t *tok, size_t len, int64_t *etype,
                                      const uint8_t **cipher, size_t *cipher_len);
/* The ticket's service principal, from its clear part ("HTTP/host@REALM");
 * false (and "") when it cannot be read or has odd characters. */
bool krb_apreq_service(const uint8_t *tok, size_t len, char *out, size_t cap);
/* The session key of a decrypted EncTicketPart (a view into p). */
SSPX_WUR sspx_status krb_ticket_session_key(const uint8_t *p, size_t len, int64_t *keytype,
                                            const uint8_t **key, size_t *key_len);
/* Did a decrypted Authenticator carry channel bindings (a GSS checksum
 * 0x8003 with a non-zero Bnd field)? */
SSPX_WUR sspx_status krb_authenticator_bound(const uint8_t *p, size_t len, bool *bound);

/* The replay key of a GSS-framed krb5 AP-REQ: SHA-256 of the cipher of its
 * authenticator. SSPX_ERR_KRB_DEFECTIVE_TOKEN when it is not one. */
SSPX_WUR sspx_status krb_apreq_replay_key(const uint8_t *tok, size_t len,
                                          uint8_t key[KRB_RC_KEY_LEN]);

#endif
