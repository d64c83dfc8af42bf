/*
 * Kerberos over Heimdal's GSS-API: the package's internal interface.
 *
 * krb_gss.c is the only file that includes Heimdal's headers (as
 * crypto/crypto.c is for OpenSSL): the rest of the package sees opaque
 * handles, plain bytes and RFC 2744 flag values.
 */
#ifndef SSPX_KRB_H
#define SSPX_KRB_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/core.h"
#include "krb_rcache.h"

/* RFC 2744 context flags (krb_gss.c checks they equal Heimdal's) */
#define KRB_GSS_DELEG    1u
#define KRB_GSS_MUTUAL   2u
#define KRB_GSS_REPLAY   4u
#define KRB_GSS_SEQUENCE 8u
#define KRB_GSS_CONF     16u
#define KRB_GSS_INTEG    32u

/* krb5 error codes (Heimdal's values; krb_gss.c checks them) */
#define KRB_ERR_REPEAT  (-1765328350) /* KRB5KRB_AP_ERR_REPEAT */
#define KRB_ERR_GENERIC (-1765328324) /* KRB5KRB_ERR_GENERIC */

#define KRB_NAME_MAX    512 /* bytes of a displayed principal name */
#define KRB_KEY_MAX     64  /* bytes of a session key */
#define KRB_MAX_TOKEN   48000
#define KRB_MAX_SIG     28 /* CFX MIC token: 16 header + 12 HMAC-SHA1-96 (AES) */
#define KRB_MAX_TRAILER 60 /* CFX wrap, rotated: 16 header + 16 confounder + 16 + 12 */

typedef struct krb_gss_cred krb_gss_cred; /* a gss_cred_id_t */
typedef struct krb_gss_ctx krb_gss_ctx;   /* a gss_ctx_id_t */

#define KRB_CCNAME_MAX 128

typedef struct kerb_cred {
    krb_gss_cred *acceptor;     /* inbound */
    krb_gss_cred *initiator;    /* outbound (a password credential: once its TGT is fetched) */
    char name[KRB_NAME_MAX];    /* the principal option (inbound) or the client (outbound) */
    char service[KRB_NAME_MAX]; /* inbound: the principal option, "" when any key will do */
    krb_rcache *rcache;         /* inbound: authenticators seen (thread-safe itself) */
    uint32_t replay_window;     /* seconds an authenticator stays in rcache */
    unsigned cbt_policy;        /* SSPX_CBT_* (inbound; the channel_bindings option) */
    /* outbound with user + password (SEC_WINNT_AUTH_IDENTITY): the TGT is
     * fetched on first use (as Windows: AcquireCredentialsHandle does not
     * reach the KDC), under `lock`, into the MEMORY ccache `ccname`. */
    pthread_mutex_t lock;
    bool have_lock;
    bool is_password; /* a password credential (immutable) */
    char *password;   /* until the TGT is fetched (under lock), then wiped and freed */
    size_t password_len;
    char ccname[KRB_CCNAME_MAX]; /* an owned MEMORY ccache, destroyed on free; "" none */
} kerb_cred;

/* the default window: twice the clock skew (an authenticator stamped up to
 * one skew ahead stays acceptable for one skew after that) */
#define KRB_REPLAY_WINDOW_MAX    86400  /* one day */
#define KRB_REPLAY_CACHE_DEFAULT 100000 /* entries */
#define KRB_REPLAY_CACHE_MAX     (1u << 26)

enum krb_state { KRB_S_INITIAL = 0, KRB_S_WAIT_AP_REP, KRB_S_DONE };

typedef struct kerb_ctx {
    int state;
    krb_gss_ctx *gctx;
    uint32_t gss_flags; /* ret_flags of the GSS context */
    uint8_t session_key[KRB_KEY_MAX];
    size_t session_key_len;
    char peer[KRB_NAME_MAX]; /* "alice@TEST.LOCAL" (server) / the target (client) */
    krb_gss_cred *delegated; /* server: what the client delegated (ASC_REQ_DELEGATE) */
} kerb_ctx;

/* The outcome of one accept/init call. */
typedef struct krb_gss_step {
    bool complete;           /* GSS_S_COMPLETE */
    uint32_t flags;          /* KRB_GSS_* */
    uint32_t time_rec;       /* seconds; UINT32_MAX = indefinite */
    char peer[KRB_NAME_MAX]; /* acceptor: the initiator's name */
} krb_gss_step;

/* krb_gss.c: credentials */
/* kt_name: the keytab's full name ("FILE:/etc/krb5.keytab") */
SSPX_WUR sspx_status krb_gss_acquire_acceptor(const char *keytab, const char *principal,
                                              char *kt_name, size_t kt_cap, krb_gss_cred **out);
SSPX_WUR sspx_status krb_gss_acquire_initiator(const char *ccache, char *name, size_t cap,
                                               krb_gss_cred **out);
/* A TGT for `principal` with `password` (forwardable) into a new MEMORY
 * ccache (its name to ccname: the caller destroys it with
 * krb_gss_destroy_ccache after releasing the credential). */
SSPX_WUR sspx_status krb_gss_acquire_password(const char *principal, const char *password,
                                              char *ccname, size_t cc_cap, char *name,
                                              size_t name_cap, krb_gss_cred **out);
/* Copy a (delegated) credential's tickets into a new MEMORY ccache. */
SSPX_WUR sspx_status krb_gss_copy_to_memory(krb_gss_cred *c, char *ccname, size_t cap);
void krb_gss_destroy_ccache(const char *ccname);
/* krb5.conf's clockskew (seconds; Heimdal's 300 by default). */
uint32_t krb_gss_max_skew(void);
/* krb5.conf's default realm into out (false: none). */
bool krb_gss_default_realm(char *out, size_t cap);
SSPX_WUR sspx_status krb_gss_cred_expiry(krb_gss_cred *c, int64_t *expiry);
void krb_gss_cred_release(krb_gss_cred **c);

/* krb_gss.c: contexts. `cbt` may be NULL. `out` receives the output token. */
SSPX_WUR sspx_status krb_gss_accept(krb_gss_cred *cred, krb_gss_ctx **ctx, const uint8_t *tok,
                                    size_t len, const sspx_cbt *cbt, sspx_bytes *out,
                                    krb_gss_step *res, krb_gss_cred **delegated,
                                    const char *error_token_server);
/* A GSS-framed KRB-ERROR (RFC 4121 4.1, TOK_ID 03 00) for the krb5 error
 * `code` from service `server` ("" unknown) into out (left empty on failure). */
void krb_gss_error_token(int32_t code, const char *server, sspx_bytes *out);
/* `target`: "HTTP/host" or "HTTP@host" (host-based) or "HTTP/host@REALM" (krb5 name) */
SSPX_WUR sspx_status krb_gss_init(krb_gss_cred *cred, krb_gss_ctx **ctx, const char *target,
                                  uint32_t req_flags, const uint8_t *tok, size_t len,
                                  const sspx_cbt *cbt, sspx_bytes *out, krb_gss_step *res);
SSPX_WUR sspx_status krb_gss_session_key(krb_gss_ctx *ctx, uint8_t *key, size_t cap, size_t *len);
/* An accepted context's AP-REQ authenticator: the ticket decrypted with the
 * service key GSS used, the authenticator with the ticket's session key;
 * *plain (malloc'd) for the caller to wipe and free. */
SSPX_WUR sspx_status krb_gss_decrypt_authenticator(krb_gss_ctx *ctx, const uint8_t *tok, size_t len,
                                                   uint8_t **plain, size_t *plain_len);
void krb_gss_ctx_delete(krb_gss_ctx **ctx);

/* krb_gss.c: message protection over one contiguous message */
SSPX_WUR sspx_status krb_gss_get_mic(krb_gss_ctx *ctx, const uint8_t *msg, size_t len, uint8_t *mic,
                                     size_t cap, size_t *mic_len);
SSPX_WUR sspx_status krb_gss_verify_mic(krb_gss_ctx *ctx, const uint8_t *msg, size_t len,
                                        const uint8_t *mic, size_t mic_len);
/* In place: data[len] is encrypted; the token (header, confounder, rotated
 * trailer) goes to hdr (cap bytes); *pad_len padding bytes to pad. */
SSPX_WUR sspx_status krb_gss_wrap(krb_gss_ctx *ctx, bool conf, uint8_t *data, size_t len,
                                  uint8_t *hdr, size_t hdr_cap, size_t *hdr_len, uint8_t *pad,
                                  size_t pad_cap, size_t *pad_len);
/* data[len] is decrypted in place; *out_len = the plaintext's length (len,
 * or less for a token with RRC 0 split at our header size: MIT's layout). */
SSPX_WUR sspx_status krb_gss_unwrap(krb_gss_ctx *ctx, uint8_t *data, size_t len, uint8_t *hdr,
                                    size_t hdr_len, bool *conf, size_t *out_len);

/* A whole wrap token (any RRC) in buf[len], unwrapped; the plaintext is
 * written back at buf + *off. */
SSPX_WUR sspx_status krb_gss_unwrap_stream(krb_gss_ctx *ctx, uint8_t *buf, size_t len, size_t *off,
                                           size_t *plain_len, bool *conf);

/* The GSS major/minor text of this thread's last Heimdal failure ("" if none). */
const char *krb_gss_last_detail(void);

/* krb_server.c / krb_client.c / krb_msgsec (in krb_pkg.c) */
SSPX_WUR sspx_status krb_accept(sspx_ctx *ctx, const sspx_step_in *in, sspx_step_out *out);
SSPX_WUR sspx_status krb_init(sspx_ctx *ctx, const sspx_step_in *in, sspx_step_out *out);
/* The context's expiry (FILETIME) from GSS's time_rec. */
int64_t krb_expiry(uint32_t time_rec);
/* The credential's initiator GSS credential (a password credential's TGT
 * is fetched on the first call). */
SSPX_WUR sspx_status krb_cred_initiator(const kerb_cred *cr, krb_gss_cred **out);
/* "alice@TEST.LOCAL" -> the context's client name "TEST.LOCAL\\alice" */
SSPX_WUR sspx_status krb_set_client_name(sspx_ctx *ctx, const char *principal);

#endif
