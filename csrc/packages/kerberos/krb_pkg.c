/*
 * The Kerberos package table, credentials, attributes and message
 * protection (RFC 4121 tokens made by Heimdal).
 *
 * Credential options:
 *   inbound:  keytab     path or TYPE:residual (default: KRB5_KTNAME, then
 *                        the configured default keytab)
 *             principal  accept only this service principal (default: any
 *                        key of the keytab)
 *             replay_window      seconds an accepted authenticator is
 *                                remembered (1..86400; default twice
 *                                krb5.conf's clockskew: 600 with Heimdal's
 *                                default; less leaves replays of
 *                                authenticators stamped ahead undetected)
 *             replay_cache_size  authenticators remembered at most (the
 *                                oldest are evicted; default 100000)
 *             replay_cache       "shared" (default): one cache for every
 *                                credential of the process with the same
 *                                keytab (a server making a credential per
 *                                connection, or several over one keytab,
 *                                still sees each authenticator once);
 *                                "credential": this credential's own
 *             channel_bindings   "when_supplied" (default): bindings the
 *                                server supplies must match the client's,
 *                                a client that sent none is accepted;
 *                                "required": the server must supply them
 *                                and the client must have sent them;
 *                                "never": not checked
 *   outbound: ccache     TYPE:residual or path (default: KRB5CCNAME, then the
 *                        configured default)
 *             user, domain, password   get a TGT with this password instead
 *                        (SEC_WINNT_AUTH_IDENTITY): the principal is
 *                        user@DOMAIN (domain upper-cased; user may be a full
 *                        "name@REALM"; no domain: krb5.conf's default
 *                        realm). The KDC
 *                        is reached on the first InitializeSecurityContext,
 *                        not here (as Windows): an unreachable KDC fails that
 *                        call with SEC_E_NO_AUTHENTICATING_AUTHORITY, a wrong
 *                        password with SEC_E_LOGON_DENIED.
 *
 * Message layouts (as Windows' Kerberos package):
 *   MakeSignature / VerifySignature: the MIC token in the first
 *     SECBUFFER_TOKEN, over the concatenated SECBUFFER_DATA buffers.
 *   EncryptMessage / DecryptMessage: SECBUFFER_TOKEN = the wrap token's
 *     header with the trailer rotated into it (RRC), one SECBUFFER_DATA
 *     encrypted in place, an optional SECBUFFER_PADDING (0 bytes for AES).
 *   DecryptMessage, stream layout: SECBUFFER_STREAM = a whole wrap token,
 *     an empty SECBUFFER_DATA that is pointed at the plaintext inside it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "krb.h"
#include "packages/packages.h"
#include "wire/krb5_describe.h"

static const char *const known_keys[] = {"keytab",
                                         "principal",
                                         "ccache",
                                         "replay_window",
                                         "replay_cache_size",
                                         "replay_cache",
                                         "channel_bindings",
                                         "user",
                                         "domain",
                                         "password",
                                         NULL};

/* user + domain -> "user@DOMAIN" (see the options above) */
static sspx_status password_principal(const char *user, const char *domain, char *out, size_t cap)
{
    char realm[KRB_NAME_MAX];
    size_t u = strlen(user), d = domain ? strlen(domain) : 0;
    ENSURE(u > 0, SSPX_ERR_BAD_OPTION_VALUE);
    if (!strchr(user, '@') && d == 0 && krb_gss_default_realm(realm, sizeof(realm))) {
        domain = realm; /* the name the context and the credential report */
        d = strlen(realm);
    }
    if (strchr(user, '@') || d == 0) {
        ENSURE(u < cap, SSPX_ERR_KRB_BAD_PRINCIPAL);
        memcpy(out, user, u + 1);
        return SEC_E_OK;
    }
    ENSURE(u + 1 + d < cap, SSPX_ERR_KRB_BAD_PRINCIPAL);
    memcpy(out, user, u);
    out[u] = '@';
    for (size_t i = 0; i < d; i++)
        out[u + 1 + i] = (char)(domain[i] >= 'a' && domain[i] <= 'z' ? domain[i] - 32 : domain[i]);
    out[u + 1 + d] = 0;
    return SEC_E_OK;
}

static sspx_status password_cred(kerb_cred *cr, const sspx_config *cfg)
{
    const char *user = sspx_config_str(cfg, "user");
    const char *password = sspx_config_str(cfg, "password");
    ENSURE(user && password, SSPX_ERR_BAD_OPTION_VALUE);
    ENSURE(!sspx_config_str(cfg, "ccache"), SSPX_ERR_BAD_OPTION_VALUE); /* one or the other */
    GUARD(password_principal(user, sspx_config_str(cfg, "domain"), cr->name, sizeof(cr->name)));
    cr->password_len = strlen(password);
    cr->password = malloc(cr->password_len + 1);
    ENSURE(cr->password, SSPX_ERR_NO_MEMORY);
    memcpy(cr->password, password, cr->password_len + 1);
    cr->is_password = true;
    return SEC_E_OK;
}

sspx_status krb_cred_initiator(const kerb_cred *ccr, krb_gss_cred **out)
{
    kerb_cred *cr = (kerb_cred *)(uintptr_t)ccr; /* only the lazily fetched TGT changes */
    sspx_status st = SEC_E_OK;
    if (!cr->is_password) { /* a ccache credential: fixed at acquisition */
        ENSURE(cr->initiator, SSPX_ERR_CRED_USAGE);
        *out = cr->initiator;
        return SEC_E_OK;
    }
    pthread_mutex_lock(&cr->lock);
    if (!cr->initiator) {
        char name[KRB_NAME_MAX]; /* the KDC's spelling; cr->name stays as others read it */
        st = krb_gss_acquire_password(cr->name, cr->password, cr->ccname, sizeof(cr->ccname), name,
                                      sizeof(name), &cr->initiator);
        if (st >= 0) { /* the password is not needed any more */
            sspx_free_wiped(cr->password, cr->password_len + 1);
            cr->password = NULL;
        }
    }
    *out = cr->initiator;
    pthread_mutex_unlock(&cr->lock);
    return st;
}

static sspx_status krb_cred_acquire(sspx_cred *cred, const sspx_config *cfg)
{
    kerb_cred *cr = cred->state;
    const char *keytab = sspx_config_str(cfg, "keytab");
    const char *principal = sspx_config_str(cfg, "principal");
    const char *ccache = sspx_config_str(cfg, "ccache");
    const char *scope = sspx_config_str(cfg, "replay_cache");
    uint32_t rc_size;
    GUARD(sspx_config_check_keys(cfg, known_keys));
    GUARD(sspx_config_uint(cfg, "replay_window", 0, KRB_REPLAY_WINDOW_MAX, &cr->replay_window));
    if (!sspx_config_str(cfg, "replay_window"))
        cr->replay_window = 2 * krb_gss_max_skew();
    ENSURE(cr->replay_window > 0, SSPX_ERR_BAD_OPTION_VALUE); /* the cache cannot be turned off */
    GUARD(sspx_config_uint(cfg, "replay_cache_size", KRB_REPLAY_CACHE_DEFAULT, KRB_REPLAY_CACHE_MAX,
                           &rc_size));
    ENSURE(rc_size > 0, SSPX_ERR_BAD_OPTION_VALUE);
    ENSURE(!keytab || *keytab, SSPX_ERR_BAD_OPTION_VALUE);
    ENSURE(!principal || *principal, SSPX_ERR_BAD_OPTION_VALUE);
    ENSURE(!ccache || *ccache, SSPX_ERR_BAD_OPTION_VALUE);
    pthread_mutex_init(&cr->lock, NULL);
    cr->have_lock = true;
    ENSURE(!scope || !strcmp(scope, "shared") || !strcmp(scope, "credential"),
           SSPX_ERR_BAD_OPTION_VALUE);
    GUARD(sspx_config_cbt_policy(cfg, &cr->cbt_policy));
    if (cred->usage & SECPKG_CRED_INBOUND) {
        char kt[KRB_NAME_MAX];
        GUARD(krb_gss_acquire_acceptor(keytab, principal, kt, sizeof(kt), &cr->acceptor));
        if (scope && !strcmp(scope, "credential")) {
            GUARD(krb_rcache_mem_new(rc_size, &cr->rcache));
        } else {
            GUARD(krb_rcache_shared(kt, rc_size, &cr->rcache)); /* one per keytab */
        }
        if (principal && strlen(principal) < sizeof(cr->name)) {
            strcpy(cr->name, principal); /* an outbound side (BOTH) replaces it below */
            strcpy(cr->service, principal);
        }
    }
    if (cred->usage & SECPKG_CRED_OUTBOUND) {
        if (sspx_config_str(cfg, "user") || sspx_config_str(cfg, "password"))
            return password_cred(cr, cfg);
        ENSURE(!sspx_config_str(cfg, "domain"), SSPX_ERR_BAD_OPTION_VALUE);
        GUARD(krb_gss_acquire_initiator(ccache, cr->name, sizeof(cr->name), &cr->initiator));
        GUARD(krb_gss_cred_expiry(cr->initiator, &cred->expiry));
    }
    return SEC_E_OK;
}

/* pAuthData: SEC_WINNT_AUTH_IDENTITY_A/_W -> user, domain, password. */
static sspx_status krb_auth_data(unsigned usage, const void *auth_data, sspx_config *cfg)
{
    ENSURE(usage & SECPKG_CRED_OUTBOUND, SSPX_ERR_BAD_AUTH_DATA);
    return sspx_identity_to_config(auth_data, cfg);
}

static void krb_cred_free(void *state)
{
    kerb_cred *cr = state;
    krb_gss_cred_release(&cr->acceptor);
    krb_gss_cred_release(&cr->initiator);
    krb_gss_destroy_ccache(cr->ccname);
    if (cr->password)
        sspx_free_wiped(cr->password, cr->password_len + 1);
    cr->password = NULL;
    if (cr->have_lock)
        pthread_mutex_destroy(&cr->lock);
    if (cr->rcache)
        cr->rcache->destroy(cr->rcache);
    cr->rcache = NULL;
}

static sspx_status krb_cred_query(sspx_cred *cred, uint32_t attr, void *buf)
{
    const kerb_cred *cr = cred->state;
    ENSURE(attr == SECPKG_CRED_ATTR_NAMES, SSPX_ERR_UNSUPPORTED_ATTR);
    size_t n = strlen(cr->name) + 1;
    char *p = sspx_ctxbuf_alloc(n);
    ENSURE(p, SSPX_ERR_NO_MEMORY);
    memcpy(p, cr->name, n);
    ((SecPkgCredentials_NamesA *)buf)->sUserName = p;
    return SEC_E_OK;
}

static void krb_ctx_free(void *state)
{
    kerb_ctx *c = state;
    krb_gss_ctx_delete(&c->gctx);
    krb_gss_cred_release(&c->delegated);
}

/* The client's delegated TGT as a new outbound credential with a MEMORY
 * ccache of its own (each call: an independent copy). */
static sspx_status krb_delegated_cred(sspx_ctx *ctx, sspx_cred **out)
{
    kerb_ctx *c = ctx->state;
    char ccname[KRB_CCNAME_MAX];
    sspx_config cfg;
    sspx_status st;
    ENSURE(ctx->server && c->state == KRB_S_DONE, SSPX_ERR_CTX_NOT_COMPLETE);
    ENSURE(c->delegated, SSPX_ERR_KRB_NO_DELEGATION);
    GUARD(krb_gss_copy_to_memory(c->delegated, ccname, sizeof(ccname)));
    memset(&cfg, 0, sizeof(cfg));
    cfg.magic = SSPX_CONFIG_MAGIC;
    st = sspx_config_set(&cfg, "ccache", ccname);
    if (st >= 0)
        st = sspx_cred_create(&sspx_kerberos_package, SECPKG_CRED_OUTBOUND, &cfg, out);
    sspx_config_clear(&cfg);
    if (st < 0) {
        krb_gss_destroy_ccache(ccname);
        return st;
    }
    strcpy(((kerb_cred *)(*out)->state)->ccname, ccname); /* destroyed with the credential */
    return SEC_E_OK;
}

/* The session key is fetched from GSS on first use, not in every handshake
 * (most servers never ask for it). */
static sspx_status krb_session_key(sspx_ctx *ctx, const uint8_t **key, size_t *len)
{
    kerb_ctx *c = ctx->state;
    ENSURE(c->state == KRB_S_DONE, SSPX_ERR_CTX_NOT_COMPLETE);
    if (!c->session_key_len)
        GUARD(krb_gss_session_key(c->gctx, c->session_key, sizeof(c->session_key),
                                  &c->session_key_len));
    *key = c->session_key;
    *len = c->session_key_len;
    return SEC_E_OK;
}

static sspx_status krb_query(sspx_ctx *ctx, uint32_t attr, void *buf)
{
    kerb_ctx *c = ctx->state;
    const kerb_cred *cr = ctx->cred->state;
    if (attr == SECPKG_ATTR_NATIVE_NAMES) {
        /* client principal, service principal (as Windows: full names) */
        ENSURE(c->state == KRB_S_DONE, SSPX_ERR_CTX_NOT_COMPLETE);
        return sspx_answer_native_names(ctx->server ? c->peer : cr->name,
                                        ctx->server ? cr->service : c->peer, buf);
    }
    BAIL(SSPX_ERR_UNSUPPORTED_ATTR);
}

/* ---------------------------------------------------- message protection */

static bool is_data(const SecBuffer *b)
{
    return (b->BufferType & ~SECBUFFER_ATTRMASK) == SECBUFFER_DATA;
}

/* The DATA buffers, concatenated (a MIC covers them as one message). */
static sspx_status gather(const SecBufferDesc *d, uint8_t **out, size_t *len)
{
    size_t n = 0, pos = 0;
    uint8_t *p;
    for (ULONG i = 0; i < d->cBuffers; i++)
        if (is_data(&d->pBuffers[i])) {
            ENSURE(d->pBuffers[i].pvBuffer || !d->pBuffers[i].cbBuffer, SSPX_ERR_BAD_BUFFER_DESC);
            n += d->pBuffers[i].cbBuffer;
        }
    p = malloc(n ? n : 1);
    ENSURE(p, SSPX_ERR_NO_MEMORY);
    for (ULONG i = 0; i < d->cBuffers; i++)
        if (is_data(&d->pBuffers[i]) && d->pBuffers[i].cbBuffer) {
            memcpy(p + pos, d->pBuffers[i].pvBuffer, d->pBuffers[i].cbBuffer);
            pos += d->pBuffers[i].cbBuffer;
        }
    *out = p;
    *len = n;
    return SEC_E_OK;
}

static sspx_status token_buf(SecBufferDesc *d, SecBuffer **out)
{
    SecBuffer *b = sspx_desc_find_buf(d, SECBUFFER_TOKEN);
    ENSURE(b, SSPX_ERR_NO_SIG_BUFFER);
    ENSURE(b->pvBuffer || !b->cbBuffer, SSPX_ERR_BAD_BUFFER_DESC);
    *out = b;
    return SEC_E_OK;
}

static sspx_status krb_make_signature(sspx_ctx *ctx, sspx_msg *msg)
{
    kerb_ctx *c = ctx->state;
    SecBuffer *tb = NULL;
    uint8_t *data;
    size_t len, mic_len = 0;
    sspx_status st;
    ENSURE(msg->qop == 0, SSPX_ERR_UNSUPPORTED);
    GUARD(sspx_desc_check(msg->desc));
    GUARD(token_buf(msg->desc, &tb));
    GUARD(gather(msg->desc, &data, &len));
    st = krb_gss_get_mic(c->gctx, data, len, tb->pvBuffer, tb->cbBuffer, &mic_len);
    free(data);
    GUARD(st);
    tb->cbBuffer = (ULONG)mic_len;
    return SEC_E_OK;
}

static sspx_status krb_verify_signature(sspx_ctx *ctx, sspx_msg *msg)
{
    kerb_ctx *c = ctx->state;
    SecBuffer *tb = NULL;
    uint8_t *data;
    size_t len;
    sspx_status st;
    GUARD(sspx_desc_check(msg->desc));
    GUARD(token_buf(msg->desc, &tb));
    GUARD(gather(msg->desc, &data, &len));
    st = krb_gss_verify_mic(c->gctx, data, len, tb->pvBuffer, tb->cbBuffer);
    free(data);
    return st;
}

/* One TOKEN, one DATA, at most one PADDING; nothing else in this step. */
static sspx_status wrap_layout(SecBufferDesc *d, SecBuffer **tok, SecBuffer **data, SecBuffer **pad)
{
    *tok = *data = *pad = NULL;
    GUARD(sspx_desc_check(d));
    for (ULONG i = 0; i < d->cBuffers; i++) {
        SecBuffer *b = &d->pBuffers[i];
        ULONG t = b->BufferType & ~SECBUFFER_ATTRMASK;
        if (t == SECBUFFER_EMPTY)
            continue;
        ENSURE(b->pvBuffer || !b->cbBuffer, SSPX_ERR_BAD_BUFFER_DESC);
        if (t == SECBUFFER_TOKEN && !*tok)
            *tok = b;
        else if (t == SECBUFFER_DATA && !*data && !(b->BufferType & SECBUFFER_ATTRMASK))
            *data = b;
        else if (t == SECBUFFER_PADDING && !*pad)
            *pad = b;
        else
            BAIL(SSPX_ERR_KRB_MSG_LAYOUT);
    }
    ENSURE(*tok, SSPX_ERR_NO_SIG_BUFFER);
    ENSURE(*data, SSPX_ERR_NO_DATA_BUFFER);
    return SEC_E_OK;
}

static sspx_status krb_encrypt(sspx_ctx *ctx, sspx_msg *msg)
{
    kerb_ctx *c = ctx->state;
    SecBuffer *tb = NULL, *db = NULL, *pb = NULL;
    size_t hdr_len = 0, pad_len = 0;
    uint8_t nopad[1];
    ENSURE(msg->qop == 0 || msg->qop == KERB_WRAP_NO_ENCRYPT, SSPX_ERR_UNSUPPORTED);
    GUARD(wrap_layout(msg->desc, &tb, &db, &pb));
    GUARD(krb_gss_wrap(c->gctx, msg->qop == 0, db->pvBuffer, db->cbBuffer, tb->pvBuffer,
                       tb->cbBuffer, &hdr_len, pb ? pb->pvBuffer : nopad, pb ? pb->cbBuffer : 0,
                       &pad_len));
    tb->cbBuffer = (ULONG)hdr_len;
    if (pb)
        pb->cbBuffer = (ULONG)pad_len;
    return SEC_E_OK;
}

/* The stream layout: SECBUFFER_STREAM holds a whole wrap token (as a GSS
 * peer's gss_wrap makes it, any RRC); the empty SECBUFFER_DATA is pointed at
 * the plaintext inside it. Nothing else but EMPTY buffers. */
static sspx_status decrypt_stream(kerb_ctx *c, SecBufferDesc *d)
{
    SecBuffer *sb = NULL, *db = NULL;
    size_t off = 0, plain = 0;
    bool conf = false;
    sspx_status st;
    for (ULONG i = 0; i < d->cBuffers; i++) {
        SecBuffer *b = &d->pBuffers[i];
        ULONG t = b->BufferType & ~SECBUFFER_ATTRMASK;
        if (t == SECBUFFER_STREAM && !sb)
            sb = b;
        else if (t == SECBUFFER_DATA && !db)
            db = b;
        else if (t != SECBUFFER_EMPTY)
            BAIL(SSPX_ERR_KRB_MSG_LAYOUT);
    }
    ENSURE(sb && db, SSPX_ERR_KRB_MSG_LAYOUT);
    ENSURE(sb->pvBuffer && sb->cbBuffer, SSPX_ERR_BAD_BUFFER_DESC);
    st = krb_gss_unwrap_stream(c->gctx, sb->pvBuffer, sb->cbBuffer, &off, &plain, &conf);
    if (st < 0) {
        db->pvBuffer = NULL;
        db->cbBuffer = 0;
        return st;
    }
    db->pvBuffer = (uint8_t *)sb->pvBuffer + off;
    db->cbBuffer = (ULONG)plain;
    return SEC_E_OK;
}

static sspx_status krb_decrypt(sspx_ctx *ctx, sspx_msg *msg)
{
    kerb_ctx *c = ctx->state;
    SecBuffer *tb = NULL, *db = NULL, *pb = NULL;
    bool conf = false;
    size_t plain = 0;
    sspx_status st;
    GUARD(sspx_desc_check(msg->desc));
    if (sspx_desc_find_buf(msg->desc, SECBUFFER_STREAM))
        return decrypt_stream(c, msg->desc);
    GUARD(wrap_layout(msg->desc, &tb, &db, &pb));
    st = krb_gss_unwrap(c->gctx, db->pvBuffer, db->cbBuffer, tb->pvBuffer, tb->cbBuffer, &conf,
                        &plain);
    if (st < 0 && db->cbBuffer) /* never hand out bytes that failed verification */
        sspx_wipe(db->pvBuffer, db->cbBuffer);
    else if (st >= 0 && plain < db->cbBuffer) /* RRC 0 token: shorter plaintext */
        db->cbBuffer = (ULONG)plain;
    return st;
}

const sspx_package sspx_kerberos_package = {
    .options = known_keys,
    .name = "Kerberos",
    .comment = "Microsoft Kerberos V1.0",
    /* 0x000F3BBF, as Windows lists its Kerberos package */
    .capabilities = SECPKG_FLAG_INTEGRITY | SECPKG_FLAG_PRIVACY | SECPKG_FLAG_TOKEN_ONLY |
                    SECPKG_FLAG_DATAGRAM | SECPKG_FLAG_CONNECTION | SECPKG_FLAG_MULTI_REQUIRED |
                    SECPKG_FLAG_EXTENDED_ERROR | SECPKG_FLAG_IMPERSONATION |
                    SECPKG_FLAG_ACCEPT_WIN32_NAME | SECPKG_FLAG_NEGOTIABLE |
                    SECPKG_FLAG_GSS_COMPATIBLE | SECPKG_FLAG_LOGON | SECPKG_FLAG_MUTUAL_AUTH |
                    SECPKG_FLAG_DELEGATION | SECPKG_FLAG_READONLY_WITH_CHECKSUM |
                    SECPKG_FLAG_RESTRICTED_TOKENS,
    .version = 1,
    .rpcid = 16, /* RPC_C_AUTHN_GSS_KERBEROS */
    .max_token = KRB_MAX_TOKEN,
    .max_signature = KRB_MAX_SIG,
    .security_trailer = KRB_MAX_TRAILER,
    .block_size = 1,
    .cred_size = sizeof(kerb_cred),
    .ctx_size = sizeof(kerb_ctx),
    .cred_acquire = krb_cred_acquire,
    .cred_free = krb_cred_free,
    .auth_data = krb_auth_data,
    .cred_query = krb_cred_query,
    .delegated_cred = krb_delegated_cred,
    .accept = krb_accept,
    .init = krb_init,
    .ctx_free = krb_ctx_free,
    .query = krb_query,
    .session_key = krb_session_key,
    .make_signature = krb_make_signature,
    .verify_signature = krb_verify_signature,
    .encrypt = krb_encrypt,
    .decrypt = krb_decrypt,
    .describe = krb5_describe,
    .recognise = krb5_recognise,
};
