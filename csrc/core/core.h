/*
 * The core: objects (credentials, contexts), the handle table, the package
 * table, the buffers of a handshake step, the injectable random source and
 * clock. Packages see only this header, wire/ and crypto/.
 */
#ifndef SSPX_CORE_CORE_H
#define SSPX_CORE_CORE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "sspx/sspx.h"

/* ------------------------------------------------------------ allocation */

/* Zeroed allocation; NULL on failure. */
SSPX_INTERNAL void *sspx_calloc(size_t n);
/* Wipe `n` bytes, then free. */
SSPX_INTERNAL void sspx_free_wiped(void *p, size_t n);
SSPX_INTERNAL void sspx_wipe(void *p, size_t n);
/* Constant-time comparison: 1 if equal. */
SSPX_INTERNAL int sspx_ct_equal(const void *a, const void *b, size_t n);
SSPX_INTERNAL char *sspx_strdup(const char *s);
SSPX_INTERNAL void sspx_free_str(char **s); /* wipes */

/* Memory handed to callers and released by FreeContextBuffer: a header
 * records the size so that FreeContextBuffer can wipe it. */
SSPX_INTERNAL void *sspx_ctxbuf_alloc(size_t n);
SSPX_INTERNAL sspx_status sspx_ctxbuf_free(void *p);

/* A growable byte buffer with a hard cap (the package's max token). */
typedef struct sspx_bytes {
    uint8_t *data;
    size_t len;
    size_t cap;
} sspx_bytes;
SSPX_INTERNAL SSPX_WUR sspx_status sspx_bytes_set(sspx_bytes *b, const void *p, size_t n);
SSPX_INTERNAL void sspx_bytes_clear(sspx_bytes *b); /* wipes, frees */

/* ----------------------------------------------------------- rng + clock */

SSPX_INTERNAL SSPX_WUR sspx_status sspx_random(uint8_t *out, size_t len);
/* Windows FILETIME: 100 ns intervals since 1601-01-01 UTC. */
SSPX_INTERNAL uint64_t sspx_now_filetime(void);
#define SSPX_FILETIME_SECOND 10000000ULL
#define SSPX_TIMESTAMP_NEVER INT64_MAX

/* --------------------------------------------------------------- configs */

enum sspx_cfg_kind { SSPX_CFG_STR = 1, SSPX_CFG_BYTES = 2 };

typedef struct sspx_cfg_item {
    char *key;
    uint8_t *value; /* NUL-terminated for strings */
    size_t len;
    int kind;
} sspx_cfg_item;

/* A lookup callback shared by a config and the credentials made from it;
 * free_fn runs when the last holder lets go. */
typedef struct sspx_lookup_ref {
    atomic_int refs;
    sspx_lookup_fn fn;
    void *ud;
    void (*free_fn)(void *);
} sspx_lookup_ref;
SSPX_INTERNAL sspx_lookup_ref *sspx_lookup_hold(sspx_lookup_ref *r);
SSPX_INTERNAL void sspx_lookup_drop(sspx_lookup_ref **r);

struct sspx_config {
    uint32_t magic; /* SSPX_CONFIG_MAGIC: lets pAuthData carry a config */
    sspx_cfg_item *items;
    size_t n;
    sspx_lookup_ref *lookup;
};
/* Deep copy (items; the lookup is shared). */
SSPX_INTERNAL SSPX_WUR sspx_status sspx_config_copy(const sspx_config *src, sspx_config *dst);
SSPX_INTERNAL void sspx_config_clear(sspx_config *cfg);
#define SSPX_CONFIG_MAGIC 0x58505353u /* "SSPX" */

/* Options a package recognises; a config key outside the list is an error. */
SSPX_INTERNAL const sspx_cfg_item *sspx_config_get(const sspx_config *cfg, const char *key);
SSPX_INTERNAL const char *sspx_config_str(const sspx_config *cfg, const char *key);
SSPX_INTERNAL SSPX_WUR sspx_status sspx_config_check_keys(const sspx_config *cfg,
                                                          const char *const *known);
SSPX_INTERNAL SSPX_WUR sspx_status sspx_config_bool(const sspx_config *cfg, const char *key,
                                                    bool dflt, bool *out);
SSPX_INTERNAL SSPX_WUR sspx_status sspx_config_uint(const sspx_config *cfg, const char *key,
                                                    uint32_t dflt, uint32_t max, uint32_t *out);

/* The option channel_bindings ("when_supplied" (default; also "if_present"),
 * "never", "required") as SSPX_CBT_*. */
SSPX_INTERNAL SSPX_WUR sspx_status sspx_config_cbt_policy(const sspx_config *cfg, unsigned *policy);
/* SEC_WINNT_AUTH_IDENTITY_A / _W (its Flags say which) -> the options user,
 * domain, password (UTF-8). */
SSPX_INTERNAL SSPX_WUR sspx_status sspx_identity_to_config(const void *auth_data, sspx_config *cfg);

/* ------------------------------------------------------------ user store */

struct sspx_secret {
    int have_nt_hash;
    uint8_t nt_hash[16];
    char *password; /* UTF-8, kept for packages that need it (Digest) */
};
SSPX_INTERNAL void sspx_secret_clear(sspx_secret *s);

typedef struct sspx_user_entry {
    char *domain; /* "*" = any */
    char *user;
    sspx_secret secret;
    int usable; /* 0: empty password -> always denied */
} sspx_user_entry;

typedef struct sspx_user_store {
    sspx_user_entry *entries;
    size_t n;
    sspx_lookup_ref *lookup;
    char *default_domain; /* matches a client that sends no domain */
} sspx_user_store;

/* Load a users file (see docs/USERS.md) into memory. */
SSPX_INTERNAL SSPX_WUR sspx_status sspx_users_load_file(sspx_user_store *st, const char *path);
SSPX_INTERNAL void sspx_users_clear(sspx_user_store *st);
/* Returns SSPX_LOOKUP_*; on FOUND `out` has an NT hash, and the password
 * too when `want_password` and the store knows it. `name` receives the
 * account's own spelling of user and domain (the file's entry; the domain
 * the server stands for when the entry says "*" and the client named none),
 * valid as long as the store and the given strings. */
typedef struct sspx_account_name {
    const char *user, *domain;
} sspx_account_name;
SSPX_INTERNAL int sspx_users_lookup(const sspx_user_store *st, const char *user, const char *domain,
                                    bool want_password, sspx_secret *out, sspx_account_name *name);

/* ------------------------------------------------------- channel bindings */

/* A parsed SEC_CHANNEL_BINDINGS: pointers into the caller's buffer, valid
 * for one call only (contexts keep their own copy). */
typedef struct sspx_cbt {
    uint32_t initiator_type, acceptor_type;
    const uint8_t *initiator, *acceptor, *app;
    uint32_t initiator_len, acceptor_len, app_len;
} sspx_cbt;
SSPX_INTERNAL SSPX_WUR sspx_status sspx_cbt_parse(const uint8_t *buf, size_t len, sspx_cbt *out);
/* MD5 of the gss_channel_bindings_struct layout (RFC 4121 4.1.1.2 / MS-NLMP 3.1.5.1.2) */
SSPX_INTERNAL SSPX_WUR sspx_status sspx_cbt_hash(const sspx_cbt *cbt, uint8_t out[16]);

/* ----------------------------------------------------------------- steps */

/* What one handshake call gives a package. */
typedef struct sspx_step_in {
    const uint8_t *token; /* first SECBUFFER_TOKEN of pInput, or NULL */
    size_t token_len;
    const uint8_t *cbt; /* SEC_CHANNEL_BINDINGS blob, or NULL */
    size_t cbt_len;
    uint32_t req_flags;  /* ASC_REQ_* / ISC_REQ_* */
    const char *target;  /* client: pszTargetName */
    SecBufferDesc *desc; /* the whole input, for packages with several buffers */
} sspx_step_in;

/* What a package returns from one call; the core publishes it. */
typedef struct sspx_step_out {
    sspx_bytes token;   /* output token (may be empty) */
    sspx_bytes alert;   /* SECBUFFER_ALERT (Schannel) */
    uint32_t extra;     /* unconsumed bytes at the end of the input token */
    uint32_t missing;   /* bytes still needed (SEC_E_INCOMPLETE_MESSAGE) */
    uint32_t ret_flags; /* ASC_RET_* / ISC_RET_* */
    /* on failure: `token` is an error token for the peer (Kerberos KRB-ERROR),
     * handed out when the caller asked for ASC_REQ_EXTENDED_ERROR */
    bool error_token;
} sspx_step_out;

/* A message buffer set for sign/seal calls: the caller's SecBufferDesc. */
typedef struct sspx_msg {
    SecBufferDesc *desc;
    uint32_t qop;
    uint32_t seqno;
} sspx_msg;

/* ---------------------------------------------------------------- objects */

typedef struct sspx_package sspx_package;

enum sspx_obj_kind { SSPX_OBJ_CRED = 1, SSPX_OBJ_CTX = 2, SSPX_OBJ_TOKEN = 3 };

struct sspx_cred {
    atomic_int refs;
    uint32_t kind; /* SSPX_OBJ_CRED */
    const sspx_package *pkg;
    unsigned usage; /* SECPKG_CRED_INBOUND / OUTBOUND / BOTH */
    CredHandle handle;
    int64_t expiry;
    void *state; /* package's, pkg->cred_size bytes, immutable */
};

enum sspx_ctx_phase { SSPX_PHASE_NEW = 0, SSPX_PHASE_RUNNING, SSPX_PHASE_DONE, SSPX_PHASE_FAILED };

struct sspx_ctx {
    atomic_int refs;
    uint32_t kind; /* SSPX_OBJ_CTX */
    const sspx_package *pkg;
    sspx_cred *cred;      /* holds a reference */
    pthread_mutex_t lock; /* serialises every call on the context */
    int server;           /* 1: accept side */
    int phase;            /* enum sspx_ctx_phase */
    uint32_t req_flags;
    uint32_t ret_flags;
    int64_t expiry;
    CtxtHandle handle;
    char *client_name; /* "DOMAIN\user" once complete */
    uint8_t *cbt;      /* native API's channel bindings, copied */
    size_t cbt_len;
    char *target; /* native API's target name */
    void *state;  /* package's, pkg->ctx_size bytes */
};

/* The identity QuerySecurityContextToken hands out (an HANDLE). */
typedef struct sspx_token {
    atomic_int refs;
    uint32_t kind; /* SSPX_OBJ_TOKEN */
    char *user, *domain, *name;
    const char *package;
} sspx_token;
SSPX_INTERNAL void sspx_token_unref(sspx_token *t);

SSPX_INTERNAL void sspx_cred_ref(sspx_cred *c);
SSPX_INTERNAL void sspx_cred_unref(sspx_cred *c);
SSPX_INTERNAL void sspx_ctx_ref(sspx_ctx *c);
SSPX_INTERNAL void sspx_ctx_unref(sspx_ctx *c);

/* --------------------------------------------------------------- handles */

/* Handles are generation-tagged slots: dwLower = generation << 32 | slot,
 * dwUpper = kind tag. Lookups take a reference on the object. */
SSPX_INTERNAL SSPX_WUR sspx_status sspx_handle_new(int kind, void *obj, SecHandle *out);
SSPX_INTERNAL SSPX_WUR sspx_status sspx_handle_get(const SecHandle *h, int kind, void **obj);
/* Invalidate the handle (later lookups fail); returns the object with the
 * table's reference transferred to the caller. */
SSPX_INTERNAL SSPX_WUR sspx_status sspx_handle_release(const SecHandle *h, int kind, void **obj);

/* --------------------------------------------------------------- packages */

/*
 * A security package: one const table. NULL slots mean "unsupported"; the
 * core answers SEC_E_UNSUPPORTED_FUNCTION for them. The core allocates and
 * zeroes `cred_size` / `ctx_size` bytes of state, and wipes and frees them
 * after the package's *_free hook.
 */
struct sspx_package {
    const char *name;
    const char *comment;
    uint32_t capabilities; /* SECPKG_FLAG_* */
    uint16_t version;
    uint16_t rpcid;
    uint32_t max_token;
    uint32_t max_signature;    /* SecPkgContext_Sizes.cbMaxSignature */
    uint32_t security_trailer; /* SecPkgContext_Sizes.cbSecurityTrailer */
    uint32_t block_size;
    size_t cred_size;
    size_t ctx_size;
    /* the credential options it knows (NULL-terminated); others are refused */
    const char *const *options;

    /* credentials: `cfg` is never NULL (an empty config if none given) */
    sspx_status (*cred_acquire)(sspx_cred *cred, const sspx_config *cfg);
    void (*cred_free)(void *state);
    /* pAuthData of AcquireCredentialsHandle, other than an sspx_config:
     * translate into `cfg` (which the core created empty). */
    sspx_status (*auth_data)(unsigned usage, const void *auth_data, sspx_config *cfg);
    sspx_status (*cred_query)(sspx_cred *cred, uint32_t attr, void *buf);

    /* handshake legs; `ctx->state` is zeroed before the first call */
    sspx_status (*accept)(sspx_ctx *ctx, const sspx_step_in *in, sspx_step_out *out);
    sspx_status (*init)(sspx_ctx *ctx, const sspx_step_in *in, sspx_step_out *out);
    sspx_status (*complete_token)(sspx_ctx *ctx, SecBufferDesc *token);
    void (*ctx_free)(void *state);

    sspx_status (*query)(sspx_ctx *ctx, uint32_t attr, void *buf);
    sspx_status (*session_key)(sspx_ctx *ctx, const uint8_t **key, size_t *len);

    /* message protection */
    sspx_status (*make_signature)(sspx_ctx *ctx, sspx_msg *msg);
    sspx_status (*verify_signature)(sspx_ctx *ctx, sspx_msg *msg);
    sspx_status (*encrypt)(sspx_ctx *ctx, sspx_msg *msg);
    sspx_status (*decrypt)(sspx_ctx *ctx, sspx_msg *msg);

    /* Negotiate, after the SPNEGO mechListMIC has been produced and checked:
     * restart the sub-context's message-protection state (NTLM: the RC4
     * keystreams from their start, the sequence numbers going on, as MS-SPNG
     * 3.3.5.1 and Windows/Samba/gss-ntlmssp do). NULL: nothing to reset. */
    sspx_status (*reset_crypto)(sspx_ctx *ctx);
    /* The credentials the client delegated to this (complete, server)
     * context, as a new outbound credential of the caller's (one
     * reference). SSPX_ERR_NO_DELEGATION when there are none. */
    sspx_status (*delegated_cred)(sspx_ctx *ctx, sspx_cred **out);

    /* token description for people; returns NULL-safe description tree */
    sspx_status (*describe)(const uint8_t *tok, size_t len, sspx_desc **out);
    /* cheap check: does `tok` look like this package's token? */
    int (*recognise)(const uint8_t *tok, size_t len);
};

SSPX_INTERNAL const sspx_package *sspx_package_find(const char *name);
SSPX_INTERNAL const sspx_package *sspx_package_at(size_t i);
SSPX_INTERNAL size_t sspx_package_total(void);

/* Fill a SecPkgInfoA (and its strings) in one FreeContextBuffer-able block. */
SSPX_INTERNAL SecPkgInfoA *sspx_pkginfo_alloc(const sspx_package *const *pkgs, size_t n);
/* QueryContextAttributes answers every package gives the same way:
 * SECPKG_ATTR_PACKAGE_INFO / NEGOTIATION_INFO naming `pkg` (attr is one of
 * the two), and SECPKG_ATTR_NATIVE_NAMES from two strings (copied). */
SSPX_INTERNAL SSPX_WUR sspx_status sspx_answer_package_info(const sspx_package *pkg, uint32_t attr,
                                                            bool complete, void *buf);
SSPX_INTERNAL SSPX_WUR sspx_status sspx_answer_native_names(const char *client, const char *server,
                                                            void *buf);

/* ------------------------------------------------------ object operations */

SSPX_INTERNAL SSPX_WUR sspx_status sspx_cred_create(const sspx_package *pkg, unsigned usage,
                                                    const sspx_config *cfg, sspx_cred **out);
SSPX_INTERNAL SSPX_WUR sspx_status sspx_ctx_create(sspx_cred *cred, int server, sspx_ctx **out);
/* One leg: locks the context, dispatches, updates phase and flags. */
SSPX_INTERNAL SSPX_WUR sspx_status sspx_ctx_run_step(sspx_ctx *ctx, const sspx_step_in *in,
                                                     sspx_step_out *out);
SSPX_INTERNAL void sspx_step_out_clear(sspx_step_out *out);

/* The arguments of AcceptSecurityContext / InitializeSecurityContext. */
typedef struct sspx_api_step_args {
    int server;
    CredHandle *cred;
    CtxtHandle *ctx;
    const char *target;
    uint32_t req_flags;
    uint32_t data_rep;
    SecBufferDesc *input;
    CtxtHandle *new_ctx;
    SecBufferDesc *output;
    ULONG *attrs;
    TimeStamp *expiry;
} sspx_api_step_args;
SSPX_INTERNAL SSPX_WUR sspx_status sspx_api_step(const sspx_api_step_args *a);

/* Set the context's client name ("DOMAIN\user"). */
SSPX_INTERNAL SSPX_WUR sspx_status sspx_ctx_set_client_name(sspx_ctx *ctx, const char *domain,
                                                            const char *user);

/* SecBufferDesc helpers */
SSPX_INTERNAL SSPX_WUR sspx_status sspx_desc_check(const SecBufferDesc *d);
SSPX_INTERNAL SecBuffer *sspx_desc_find_buf(SecBufferDesc *d, uint32_t type);

/* -------------------------------------------------------- description tree */

struct sspx_desc {
    char *name;
    int kind;
    size_t offset, length;
    uint64_t u;
    char *text;
    uint8_t *bytes;
    size_t nbytes;
    struct sspx_desc **kids;
    size_t nkids, capkids;
};
SSPX_INTERNAL sspx_desc *sspx_desc_node(sspx_desc *parent, const char *name, int kind,
                                        size_t offset, size_t length);
SSPX_INTERNAL sspx_desc *sspx_desc_uint_node(sspx_desc *parent, const char *name, size_t off,
                                             size_t len, uint64_t v);
SSPX_INTERNAL sspx_desc *sspx_desc_bytes_node(sspx_desc *parent, const char *name, size_t off,
                                              const uint8_t *p, size_t len);
SSPX_INTERNAL sspx_desc *sspx_desc_text_node(sspx_desc *parent, const char *name, int kind,
                                             size_t off, size_t len, uint64_t v, const char *text);

#endif
