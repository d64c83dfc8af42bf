/*
 * sspx.h: the native object API of sspx.
 *
 * The SSPI entry points of <sspx/sspi.h> and this API reach the same
 * objects: a credential acquired here can be used by a context created here,
 * and the Python and Lua front ends wrap only this header.
 *
 * Conventions
 *  - Every function that can fail returns a SECURITY_STATUS (0 = SEC_E_OK,
 *    the SEC_I_* values are successes, negative values are errors). After a
 *    failure sspx_last_error() describes which check failed and where.
 *  - Objects are opaque and reference counted. `*_free(T **p)` drops the
 *    caller's reference and sets *p to NULL; freeing NULL is a no-op.
 *  - Byte buffers handed out (sspx_buf) are owned by the caller and released
 *    with sspx_buf_free(), which wipes them first.
 *  - Every constant a binding may need is also reachable through a function.
 */
#ifndef SSPX_SSPX_H
#define SSPX_SSPX_H

#include <stddef.h>
#include <stdint.h>

#include "sspi.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SSPX_VERSION_MAJOR  0
#define SSPX_VERSION_MINOR  1
#define SSPX_VERSION_PATCH  0
#define SSPX_VERSION_STRING "0.1.0"

SSPX_API const char *sspx_version(void);

/* ---------------------------------------------------------------- buffers */

/* An owned byte buffer. Release with sspx_buf_free (wipes, then frees). */
typedef struct sspx_buf {
    uint8_t *data;
    size_t len;
} sspx_buf;

SSPX_API void sspx_buf_free(sspx_buf *buf);

/* ------------------------------------------------------------------ errors */

/* Details of the last failure on this thread. Strings are static. */
typedef struct sspx_error_info {
    SECURITY_STATUS status; /* the SEC_E_* value returned               */
    int code;               /* sspx's own error code (SSPX_ERR_*)        */
    const char *name;       /* e.g. "SSPX_ERR_NTLM_MIC_MISMATCH"         */
    const char *message;    /* one line, for people                      */
    const char *file;       /* source file of the check that failed      */
    int line;
    const char *detail; /* what the library below said (Heimdal's
                           text for a Kerberos failure), or ""      */
} sspx_error_info;

/* Returns the last error recorded on the calling thread (status 0 if none). */
SSPX_API sspx_error_info sspx_last_error(void);
/* "file.c:123: message (NAME)" for the last error, then ": detail" when
 * there is one; a static per-thread string. */
SSPX_API const char *sspx_last_error_string(void);
SSPX_API void sspx_clear_error(void);
/* Symbolic name of a status: "SEC_E_LOGON_DENIED", or NULL if unknown. */
SSPX_API const char *sspx_status_name(SECURITY_STATUS status);
/* Human-readable message for a status. Never NULL. */
SSPX_API const char *sspx_status_message(SECURITY_STATUS status);

/* ------------------------------------------------------------ credentials */

typedef struct sspx_cred sspx_cred;
typedef struct sspx_config sspx_config;

/* The secret a lookup callback gives for a user. */
typedef struct sspx_secret sspx_secret;

/* Results of a user lookup. */
#define SSPX_LOOKUP_FOUND       0
#define SSPX_LOOKUP_NO_USER     1
#define SSPX_LOOKUP_UNAVAILABLE 2 /* -> SEC_E_NO_AUTHENTICATING_AUTHORITY */
#define SSPX_LOOKUP_ERROR       3 /* the lookup itself failed -> SEC_E_LOGON_DENIED */

/*
 * The server's user lookup: for (user, domain) as the client sent them
 * (UTF-8), fill `out` with sspx_secret_set_password() or
 * sspx_secret_set_nt_hash() and return SSPX_LOOKUP_FOUND, or return
 * SSPX_LOOKUP_NO_USER / SSPX_LOOKUP_UNAVAILABLE / SSPX_LOOKUP_ERROR (the
 * lookup broke: logon denied, and the last-error detail says so). Any other
 * return value, or FOUND without a secret, is treated as NO_USER. The callback may be called
 * from several threads at once.
 */
typedef int (*sspx_lookup_fn)(void *user_data, const char *user, const char *domain,
                              sspx_secret *out);

SSPX_API SECURITY_STATUS sspx_secret_set_password(sspx_secret *s, const char *password_utf8);
SSPX_API SECURITY_STATUS sspx_secret_set_nt_hash(sspx_secret *s, const uint8_t *hash, size_t len);

/*
 * A credential's configuration: string options, byte options and a lookup
 * callback. Keys (see docs/API.md for the whole list):
 *   client: "user", "domain", "password", "nt_hash" (bytes or hex)
 *   server: "users_file", "netbios_domain", "netbios_computer", "dns_domain",
 *           "dns_computer", "dns_tree", "channel_bindings" (never|if_present|
 *           required), "challenge_max_age" (seconds), "allow_ntlmv1",
 *           "allow_lm", "require_mic"
 * A key the chosen package does not know makes acquisition fail with
 * SEC_E_INVALID_PARAMETER: misspelt options are never ignored.
 */
SSPX_API sspx_config *sspx_config_new(void);
SSPX_API void sspx_config_free(sspx_config **cfg);
SSPX_API SECURITY_STATUS sspx_config_set(sspx_config *cfg, const char *key, const char *value);
SSPX_API SECURITY_STATUS sspx_config_set_bytes(sspx_config *cfg, const char *key,
                                               const uint8_t *value, size_t len);
/* `free_fn` (may be NULL) is called on user_data when the last credential
 * holding it is freed. */
SSPX_API SECURITY_STATUS sspx_config_set_lookup(sspx_config *cfg, sspx_lookup_fn fn,
                                                void *user_data, void (*free_fn)(void *));

#define SSPX_CRED_INBOUND  1 /* = SECPKG_CRED_INBOUND: a server        */
#define SSPX_CRED_OUTBOUND 2 /* = SECPKG_CRED_OUTBOUND: a client       */

/* Acquire a credential for `package` ("NTLM", ...). `cfg` may be NULL. The
 * configuration is copied: the credential is immutable afterwards and may
 * be shared by any number of threads and contexts. */
SSPX_API SECURITY_STATUS sspx_cred_acquire(const char *package, unsigned usage,
                                           const sspx_config *cfg, sspx_cred **out);
SSPX_API void sspx_cred_free(sspx_cred **cred);
SSPX_API const char *sspx_cred_package(const sspx_cred *cred);

/*
 * pAuthData for AcquireCredentialsHandle(SECPKG_CRED_INBOUND): how the
 * server verifies users. pAuthData may also point at an sspx_config. With
 * pAuthData == NULL an inbound NTLM credential reads the users file named by
 * the environment variable SSPX_NTLM_USERS, and fails with
 * SEC_E_NO_CREDENTIALS if there is none.
 */
#define SSPX_SERVER_AUTH_DATA_VERSION 0x31585053u /* "SPX1" */
#define SSPX_AUTH_ALLOW_NTLMV1        0x1u
#define SSPX_AUTH_ALLOW_LM            0x2u
#define SSPX_AUTH_REQUIRE_MIC         0x4u
#define SSPX_AUTH_REQUIRE_128         0x8u
#define SSPX_CBT_WHEN_SUPPLIED        0u /* check when the application supplies bindings */
#define SSPX_CBT_NEVER                1u
#define SSPX_CBT_REQUIRED             2u

typedef struct SSPX_SERVER_AUTH_DATA {
    ULONG Version;         /* SSPX_SERVER_AUTH_DATA_VERSION */
    ULONG Flags;           /* SSPX_AUTH_* */
    const char *UsersFile; /* see docs/USERS.md; may be NULL */
    sspx_lookup_fn Lookup; /* may be NULL; consulted after the file */
    void *LookupContext;
    const char *NetbiosDomain, *NetbiosComputer; /* NULL: defaults */
    const char *DnsDomain, *DnsComputer;
    ULONG ChannelBindings; /* SSPX_CBT_* */
    ULONG ChallengeMaxAge; /* seconds; 0 = 300 */
} SSPX_SERVER_AUTH_DATA;

/* --------------------------------------------------------------- contexts */

typedef struct sspx_ctx sspx_ctx;

/* Options of one context. Zero-initialise, then set what you need. */
typedef struct sspx_ctx_params {
    uint32_t flags;                  /* ASC_REQ_* (server) or ISC_REQ_* (client)   */
    const char *target;              /* client: service principal, e.g. HTTP/host */
    const uint8_t *channel_bindings; /* SEC_CHANNEL_BINDINGS blob, or NULL */
    size_t channel_bindings_len;
} sspx_ctx_params;

SSPX_API SECURITY_STATUS sspx_ctx_new(sspx_cred *cred, const sspx_ctx_params *params,
                                      sspx_ctx **out);
SSPX_API void sspx_ctx_free(sspx_ctx **ctx);

/*
 * One leg of the handshake. `in` is the peer's token (NULL/0 for a client's
 * first call). On SEC_E_OK or SEC_I_CONTINUE_NEEDED `*out` holds the token to
 * send (possibly empty). The status is also returned on failure; the
 * context is then unusable except for sspx_ctx_free. A server context made
 * with ASC_REQ_EXTENDED_ERROR may then hold in `*out` an error token for the
 * client (Kerberos: a KRB-ERROR); free it as usual.
 */
SSPX_API SECURITY_STATUS sspx_ctx_step(sspx_ctx *ctx, const uint8_t *in, size_t in_len,
                                       sspx_buf *out);

SSPX_API int sspx_ctx_is_complete(const sspx_ctx *ctx);
SSPX_API uint32_t sspx_ctx_flags(const sspx_ctx *ctx); /* ASC_RET_* / ISC_RET_* */
SSPX_API const char *sspx_ctx_package(const sspx_ctx *ctx);
/* "DOMAIN\user" of the authenticated client (server) or of the credential
 * (client); NULL before completion. Valid until the context is freed. */
SSPX_API const char *sspx_ctx_client_name(const sspx_ctx *ctx);
SSPX_API SECURITY_STATUS sspx_ctx_session_key(sspx_ctx *ctx, sspx_buf *out);
/* Expiry as a Windows TimeStamp (100 ns units since 1601, INT64_MAX = never). */
SSPX_API int64_t sspx_ctx_expiry(const sspx_ctx *ctx);

/* Delegation (Kerberos, and Negotiate when it chose Kerberos): on a complete
 * server context made with ASC_REQ_DELEGATE whose client delegated (its
 * ticket forwardable, ISC_REQ_DELEGATE), a new outbound credential holding
 * the client's forwarded TGT, usable with InitializeSecurityContext to reach
 * a further service as the client. Each call gives an independent copy;
 * free it with sspx_cred_free. SEC_E_NO_CREDENTIALS when nothing was
 * delegated, SEC_E_UNSUPPORTED_FUNCTION for packages without delegation. */
SSPX_API SECURITY_STATUS sspx_ctx_delegated_cred(sspx_ctx *ctx, sspx_cred **out);
/* The same for SSPI handles: the new credential's handle to *cred (free it
 * with FreeCredentialsHandle). Windows reaches delegated credentials through
 * ImpersonateSecurityContext, which has no Linux equivalent. */
SSPX_API SECURITY_STATUS SEC_ENTRY sspx_delegated_credentials(PCtxtHandle ctx, PCredHandle cred,
                                                              PTimeStamp expiry);

/* Message protection. sign/verify: a detached signature; wrap/unwrap: the
 * message sealed (encrypted and signed) as signature || ciphertext, the
 * layout MakeSignature/EncryptMessage produce with a TOKEN buffer first.
 * A failed verify/unwrap does not advance the context's sequence. */
SSPX_API SECURITY_STATUS sspx_ctx_sign(sspx_ctx *ctx, const uint8_t *msg, size_t len,
                                       sspx_buf *sig);
SSPX_API SECURITY_STATUS sspx_ctx_verify(sspx_ctx *ctx, const uint8_t *msg, size_t len,
                                         const uint8_t *sig, size_t sig_len);
SSPX_API SECURITY_STATUS sspx_ctx_wrap(sspx_ctx *ctx, const uint8_t *msg, size_t len,
                                       sspx_buf *out);
SSPX_API SECURITY_STATUS sspx_ctx_unwrap(sspx_ctx *ctx, const uint8_t *in, size_t len,
                                         sspx_buf *out);

/* The SSPI handles behind the objects, so that code mixing both APIs can pass
 * them to the Windows-style functions. The handles stay valid as long as the
 * object does. */
SSPX_API void sspx_cred_handle(const sspx_cred *cred, CredHandle *out);
SSPX_API void sspx_ctx_handle(const sspx_ctx *ctx, CtxtHandle *out);

/* The HANDLE QuerySecurityContextToken gives: the client's "DOMAIN\user"
 * into buf[cap], and its release. */
SSPX_API SECURITY_STATUS sspx_token_name(HANDLE token, char *buf, size_t cap);
SSPX_API SECURITY_STATUS sspx_token_close(HANDLE token);

/* ------------------------------------------------------ token description */

/*
 * A decoded token, as a tree of fields. Produced by the same decoders the
 * packages use. Each node has a name, a kind, the offset and length of its
 * bytes within the token, and a value according to its kind.
 */
typedef struct sspx_desc sspx_desc;

typedef enum sspx_desc_kind {
    SSPX_DESC_STRUCT = 0, /* children only                               */
    SSPX_DESC_UINT = 1,   /* integer value                               */
    SSPX_DESC_FLAGS = 2,  /* integer value + children naming set bits     */
    SSPX_DESC_BYTES = 3,  /* raw bytes                                    */
    SSPX_DESC_STRING = 4, /* UTF-8 text (decoded from the wire encoding)  */
    SSPX_DESC_ENUM = 5,   /* integer value + symbolic name in `text`      */
    SSPX_DESC_FLAG = 6    /* one named bit inside a FLAGS node            */
} sspx_desc_kind;

/* Decode `token` for display. `package` may be NULL to guess from the bytes.
 * Fails with SEC_E_INVALID_TOKEN (and the reason in sspx_last_error) when
 * the bytes are not a token the package knows. */
SSPX_API SECURITY_STATUS sspx_describe(const char *package, const uint8_t *token, size_t len,
                                       sspx_desc **out);
SSPX_API void sspx_desc_free(sspx_desc **desc);

SSPX_API const char *sspx_desc_name(const sspx_desc *d);
SSPX_API sspx_desc_kind sspx_desc_get_kind(const sspx_desc *d);
SSPX_API size_t sspx_desc_offset(const sspx_desc *d);
SSPX_API size_t sspx_desc_length(const sspx_desc *d);
SSPX_API uint64_t sspx_desc_uint(const sspx_desc *d);
/* STRING: the text; ENUM/FLAG: the symbolic name; else NULL. */
SSPX_API const char *sspx_desc_text(const sspx_desc *d);
SSPX_API const uint8_t *sspx_desc_bytes(const sspx_desc *d, size_t *len);
SSPX_API size_t sspx_desc_child_count(const sspx_desc *d);
SSPX_API const sspx_desc *sspx_desc_child(const sspx_desc *d, size_t i);
/* Depth-first search of a node by name (first match), or NULL. */
SSPX_API const sspx_desc *sspx_desc_find(const sspx_desc *d, const char *name);
/* An indented text rendering; release with sspx_buf_free. */
SSPX_API SECURITY_STATUS sspx_desc_to_text(const sspx_desc *d, sspx_buf *out);

/* --------------------------------------------------------------- packages */

SSPX_API size_t sspx_package_count(void);
SSPX_API const char *sspx_package_name(size_t i);

/* ----------------------------------------------------------------- testing */

/*
 * Test hooks: replace the random source and the clock of the calling
 * process. `rng` fills `len` bytes and returns 0 on success; `clock` returns
 * the current time as a Windows FILETIME (100 ns since 1601-01-01 UTC).
 * Pass NULL to restore the real ones. Not for production use.
 */
typedef int (*sspx_rng_fn)(void *user_data, uint8_t *out, size_t len);
typedef uint64_t (*sspx_clock_fn)(void *user_data);
SSPX_API void sspx_test_set_rng(sspx_rng_fn rng, void *user_data);
SSPX_API void sspx_test_set_clock(sspx_clock_fn clock, void *user_data);

#ifdef __cplusplus
}
#endif

#endif /* SSPX_SSPX_H */
