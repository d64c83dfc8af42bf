/* The native object API of sspx.h over the same objects and the same step
 * path as the SSPI entry points. */
#include <stdlib.h>
#include <string.h>

#include "core.h"

const char *sspx_version(void)
{
    return SSPX_VERSION_STRING;
}

/* A new credential (its creation reference) into the handle table and to
 * the caller: one reference for each. */
static sspx_status publish_cred(sspx_cred *c, sspx_cred **out)
{
    sspx_status st = sspx_handle_new(SSPX_OBJ_CRED, c, &c->handle);
    if (st < 0) {
        sspx_cred_unref(c);
        return st;
    }
    sspx_cred_ref(c);
    *out = c;
    return SEC_E_OK;
}

SECURITY_STATUS sspx_cred_acquire(const char *package, unsigned usage, const sspx_config *cfg,
                                  sspx_cred **out)
{
    const sspx_package *pkg;
    sspx_cred *c;
    sspx_config copy;
    sspx_status st;
    ENSURE(out, SSPX_ERR_NULL_ARG);
    *out = NULL;
    ENSURE(package, SSPX_ERR_NULL_ARG);
    ENSURE(!cfg || cfg->magic == SSPX_CONFIG_MAGIC, SSPX_ERR_BAD_ARG);
    pkg = sspx_package_find(package);
    ENSURE(pkg, SSPX_ERR_UNKNOWN_PACKAGE);
    memset(&copy, 0, sizeof(copy));
    copy.magic = SSPX_CONFIG_MAGIC;
    if (cfg)
        GUARD(sspx_config_copy(cfg, &copy));
    st = sspx_cred_create(pkg, usage, &copy, &c);
    sspx_config_clear(&copy);
    GUARD(st);
    return publish_cred(c, out);
}

void sspx_cred_free(sspx_cred **cred)
{
    void *obj;
    if (!cred || !*cred)
        return;
    if (sspx_handle_release(&(*cred)->handle, SSPX_OBJ_CRED, &obj) == SEC_E_OK)
        sspx_cred_unref(obj);
    sspx_cred_unref(*cred);
    *cred = NULL;
}

const char *sspx_cred_package(const sspx_cred *cred)
{
    return cred ? cred->pkg->name : NULL;
}

void sspx_cred_handle(const sspx_cred *cred, CredHandle *out)
{
    if (cred && out)
        *out = cred->handle;
}

SECURITY_STATUS sspx_ctx_new(sspx_cred *cred, const sspx_ctx_params *params, sspx_ctx **out)
{
    sspx_ctx *c;
    int server;
    ENSURE(out, SSPX_ERR_NULL_ARG);
    *out = NULL;
    ENSURE(cred && cred->kind == SSPX_OBJ_CRED, SSPX_ERR_NULL_ARG);
    server = (cred->usage & SECPKG_CRED_INBOUND) ? 1 : 0;
    if (cred->usage == SECPKG_CRED_BOTH && params && params->target)
        server = 0;
    GUARD(sspx_ctx_create(cred, server, &c));
    if (params) {
        c->req_flags = params->flags;
        if (params->target && !(c->target = sspx_strdup(params->target)))
            goto oom;
        if (params->channel_bindings && params->channel_bindings_len) {
            sspx_cbt cbt;
            sspx_status st =
                sspx_cbt_parse(params->channel_bindings, params->channel_bindings_len, &cbt);
            if (st < 0) {
                sspx_ctx_unref(c);
                return st;
            }
            c->cbt = malloc(params->channel_bindings_len);
            if (!c->cbt)
                goto oom;
            memcpy(c->cbt, params->channel_bindings, params->channel_bindings_len);
            c->cbt_len = params->channel_bindings_len;
        }
    }
    if (sspx_handle_new(SSPX_OBJ_CTX, c, &c->handle) < 0)
        goto oom;
    sspx_ctx_ref(c);
    *out = c;
    return SEC_E_OK;
oom:
    sspx_ctx_unref(c);
    BAIL(SSPX_ERR_NO_MEMORY);
}

void sspx_ctx_free(sspx_ctx **ctx)
{
    void *obj;
    if (!ctx || !*ctx)
        return;
    if (sspx_handle_release(&(*ctx)->handle, SSPX_OBJ_CTX, &obj) == SEC_E_OK)
        sspx_ctx_unref(obj);
    sspx_ctx_unref(*ctx);
    *ctx = NULL;
}

void sspx_ctx_handle(const sspx_ctx *ctx, CtxtHandle *out)
{
    if (ctx && out)
        *out = ctx->handle;
}

static sspx_status ctx_step_held(sspx_ctx *ctx, const uint8_t *in, size_t in_len, sspx_buf *out)
{
    sspx_step_in si;
    sspx_step_out so;
    sspx_status st;
    ENSURE(out, SSPX_ERR_NULL_ARG);
    out->data = NULL;
    out->len = 0;
    ENSURE(ctx && (in || in_len == 0), SSPX_ERR_NULL_ARG);
    memset(&si, 0, sizeof(si));
    memset(&so, 0, sizeof(so));
    si.token = in;
    si.token_len = in_len;
    si.cbt = ctx->cbt;
    si.cbt_len = ctx->cbt_len;
    si.req_flags = ctx->req_flags;
    si.target = ctx->target;
    st = sspx_ctx_run_step(ctx, &si, &so);
    /* a failure's error token (Kerberos KRB-ERROR) only with ASC_REQ_EXTENDED_ERROR */
    if (st < 0 && !(so.error_token && ctx->server && (ctx->req_flags & ASC_REQ_EXTENDED_ERROR)))
        sspx_bytes_clear(&so.token);
    if (so.token.len) {
        out->data = so.token.data; /* hand the buffer over */
        out->len = so.token.len;
        so.token.data = NULL;
        so.token.len = so.token.cap = 0;
    }
    sspx_step_out_clear(&so);
    return st;
}

int sspx_ctx_is_complete(const sspx_ctx *ctx)
{
    return ctx && ctx->phase == SSPX_PHASE_DONE;
}
uint32_t sspx_ctx_flags(const sspx_ctx *ctx)
{
    return ctx ? ctx->ret_flags : 0;
}
const char *sspx_ctx_package(const sspx_ctx *ctx)
{
    return ctx ? ctx->pkg->name : NULL;
}
const char *sspx_ctx_client_name(const sspx_ctx *ctx)
{
    return (ctx && ctx->phase == SSPX_PHASE_DONE) ? ctx->client_name : NULL;
}
int64_t sspx_ctx_expiry(const sspx_ctx *ctx)
{
    return ctx ? ctx->expiry : 0;
}

static sspx_status ctx_session_key_held(sspx_ctx *ctx, sspx_buf *out)
{
    const uint8_t *k;
    size_t n;
    sspx_status st;
    ENSURE(ctx && out, SSPX_ERR_NULL_ARG);
    out->data = NULL;
    out->len = 0;
    ENSURE(ctx->pkg->session_key, SSPX_ERR_UNSUPPORTED);
    pthread_mutex_lock(&ctx->lock);
    if (ctx->phase != SSPX_PHASE_DONE) {
        st = SSPX_ERROR(SSPX_ERR_CTX_NOT_COMPLETE);
    } else if ((st = ctx->pkg->session_key(ctx, &k, &n)) >= 0) {
        out->data = malloc(n);
        if (out->data) {
            memcpy(out->data, k, n);
            out->len = n;
        } else {
            st = SSPX_ERROR(SSPX_ERR_NO_MEMORY);
        }
    }
    pthread_mutex_unlock(&ctx->lock);
    return st;
}

enum { OP_SIGN, OP_VERIFY, OP_SEAL, OP_UNSEAL };

/* Signature and trailer sizes of this context: the package may answer for
 * the context (Negotiate: the chosen package's), else its table's. */
static void ctx_sizes(sspx_ctx *ctx, size_t *max_sig, size_t *trailer)
{
    SecPkgContext_Sizes z;
    *max_sig = ctx->pkg->max_signature;
    *trailer = ctx->pkg->security_trailer;
    if (ctx->pkg->query) {
        pthread_mutex_lock(&ctx->lock);
        if (ctx->pkg->query(ctx, SECPKG_ATTR_SIZES, &z) == SEC_E_OK) {
            *max_sig = z.cbMaxSignature;
            *trailer = z.cbSecurityTrailer;
        }
        pthread_mutex_unlock(&ctx->lock);
    }
}

/* Run a message operation on a two-buffer SecBufferDesc (TOKEN + DATA);
 * the lengths the package left in the buffers come back in *sig_len and *len. */
static sspx_status run_msg(sspx_ctx *ctx, int op, uint8_t *sig, size_t *sig_len, uint8_t *data,
                           size_t *len)
{
    SecBuffer b[2] = {{(ULONG)*sig_len, SECBUFFER_TOKEN, sig}, {(ULONG)*len, SECBUFFER_DATA, data}};
    SecBufferDesc d = {SECBUFFER_VERSION, 2, b};
    sspx_msg m = {&d, 0, 0};
    sspx_status st;
    ENSURE(*len <= UINT32_MAX && *sig_len <= UINT32_MAX, SSPX_ERR_BAD_ARG);
    sspx_status (*fn)(sspx_ctx *, sspx_msg *) = op == OP_SIGN     ? ctx->pkg->make_signature
                                                : op == OP_VERIFY ? ctx->pkg->verify_signature
                                                : op == OP_SEAL   ? ctx->pkg->encrypt
                                                                  : ctx->pkg->decrypt;
    ENSURE(fn, SSPX_ERR_UNSUPPORTED);
    pthread_mutex_lock(&ctx->lock);
    st = ctx->phase == SSPX_PHASE_DONE ? fn(ctx, &m) : SSPX_ERROR(SSPX_ERR_CTX_NOT_COMPLETE);
    pthread_mutex_unlock(&ctx->lock);
    if (st >= 0) {
        *sig_len = b[0].cbBuffer;
        *len = b[1].cbBuffer;
    }
    return st;
}

static sspx_status ctx_sign_held(sspx_ctx *ctx, const uint8_t *msg, size_t len, sspx_buf *sig)
{
    uint8_t *copy;
    size_t max_sig, trailer, sl, dl = len;
    sspx_status st;
    ENSURE(ctx && sig && (msg || !len), SSPX_ERR_NULL_ARG);
    sig->data = NULL;
    sig->len = 0;
    ctx_sizes(ctx, &max_sig, &trailer);
    sl = max_sig;
    copy = malloc(len ? len : 1);
    sig->data = malloc(max_sig ? max_sig : 1);
    if (!copy || !sig->data) {
        free(copy);
        free(sig->data);
        sig->data = NULL;
        BAIL(SSPX_ERR_NO_MEMORY);
    }
    if (len)
        memcpy(copy, msg, len);
    st = run_msg(ctx, OP_SIGN, sig->data, &sl, copy, &dl);
    free(copy);
    if (st < 0) {
        free(sig->data);
        sig->data = NULL;
        return st;
    }
    sig->len = sl;
    return st;
}

static sspx_status ctx_verify_held(sspx_ctx *ctx, const uint8_t *msg, size_t len,
                                   const uint8_t *sig, size_t sig_len)
{
    uint8_t *copy, *s;
    size_t sl = sig_len, dl = len;
    sspx_status st;
    ENSURE(ctx && sig && (msg || !len), SSPX_ERR_NULL_ARG);
    copy = malloc(len ? len : 1);
    s = malloc(sig_len ? sig_len : 1);
    if (!copy || !s) {
        free(copy);
        free(s);
        BAIL(SSPX_ERR_NO_MEMORY);
    }
    if (len)
        memcpy(copy, msg, len);
    memcpy(s, sig, sig_len);
    st = run_msg(ctx, OP_VERIFY, s, &sl, copy, &dl);
    free(copy);
    free(s);
    return st;
}

static sspx_status ctx_wrap_held(sspx_ctx *ctx, const uint8_t *msg, size_t len, sspx_buf *out)
{
    size_t max_sig, trailer, sl, dl = len;
    sspx_status st;
    ENSURE(ctx && out && (msg || !len), SSPX_ERR_NULL_ARG);
    out->data = NULL;
    out->len = 0;
    ctx_sizes(ctx, &max_sig, &trailer);
    sl = trailer;
    ENSURE(len <= SIZE_MAX - trailer - 1, SSPX_ERR_BAD_ARG);
    out->data = malloc(trailer + len + 1);
    ENSURE(out->data, SSPX_ERR_NO_MEMORY);
    if (len)
        memcpy(out->data + trailer, msg, len);
    st = run_msg(ctx, OP_SEAL, out->data, &sl, out->data + trailer, &dl);
    if (st < 0 || sl > trailer || dl > len) {
        sspx_free_wiped(out->data, trailer + len + 1);
        out->data = NULL;
        return st < 0 ? st : SSPX_ERROR(SSPX_ERR_BUFFER_TOO_SMALL);
    }
    /* signature || data, without a gap when the signature came out shorter */
    memmove(out->data + sl, out->data + trailer, dl);
    out->len = sl + dl;
    return st;
}

static sspx_status ctx_unwrap_held(sspx_ctx *ctx, const uint8_t *in, size_t len, sspx_buf *out)
{
    size_t max_sig, trailer, sl, dl;
    uint8_t *buf;
    sspx_status st;
    ENSURE(ctx && out && (in || !len), SSPX_ERR_NULL_ARG);
    out->data = NULL;
    out->len = 0;
    ctx_sizes(ctx, &max_sig, &trailer);
    ENSURE(len >= trailer, SSPX_ERR_NTLM_SIG_SIZE);
    sl = trailer;
    dl = len - trailer;
    buf = malloc(len + 1);
    ENSURE(buf, SSPX_ERR_NO_MEMORY);
    memcpy(buf, in, len);
    st = run_msg(ctx, OP_UNSEAL, buf, &sl, buf + trailer, &dl);
    if (st < 0 || dl > len - trailer) {
        sspx_free_wiped(buf, len + 1);
        return st < 0 ? st : SSPX_ERROR(SSPX_ERR_BAD_ARG);
    }
    memmove(buf, buf + trailer, dl);
    out->data = buf;
    out->len = dl;
    return st;
}

/* The package's delegated credential of a complete context (its lock held). */
static sspx_status delegated(sspx_ctx *ctx, sspx_cred **out)
{
    sspx_status st;
    ENSURE(ctx->pkg->delegated_cred, SSPX_ERR_UNSUPPORTED);
    pthread_mutex_lock(&ctx->lock);
    if (ctx->phase != SSPX_PHASE_DONE)
        st = SSPX_ERROR(SSPX_ERR_CTX_NOT_COMPLETE);
    else if (!ctx->server)
        st = SSPX_ERROR(SSPX_ERR_WRONG_ROLE);
    else
        st = ctx->pkg->delegated_cred(ctx, out);
    pthread_mutex_unlock(&ctx->lock);
    return st;
}

static sspx_status ctx_delegated_cred_held(sspx_ctx *ctx, sspx_cred **out)
{
    sspx_cred *c = NULL;
    ENSURE(out, SSPX_ERR_NULL_ARG);
    *out = NULL;
    ENSURE(ctx, SSPX_ERR_NULL_ARG);
    GUARD(delegated(ctx, &c));
    return publish_cred(c, out);
}

SECURITY_STATUS SEC_ENTRY sspx_delegated_credentials(PCtxtHandle h, PCredHandle cred,
                                                     PTimeStamp expiry)
{
    void *obj;
    sspx_cred *c = NULL;
    sspx_status st;
    ENSURE(h && cred, SSPX_ERR_NULL_ARG);
    GUARD(sspx_handle_get(h, SSPX_OBJ_CTX, &obj));
    st = delegated(obj, &c);
    sspx_ctx_unref(obj);
    GUARD(st);
    st = sspx_handle_new(SSPX_OBJ_CRED, c, &c->handle);
    if (st < 0) {
        sspx_cred_unref(c);
        return st;
    }
    *cred = c->handle; /* the table's reference; FreeCredentialsHandle drops it */
    if (expiry)
        expiry->QuadPart = c->expiry;
    return SEC_E_OK;
}

/* The calls on a context hold a reference for their duration: a context
 * freed meanwhile (by another thread, or by a lookup callback from inside
 * the call) lives until the call returns. hold() runs before the call,
 * release() after it (it takes the call's result). */
static sspx_ctx *hold(sspx_ctx *ctx)
{
    if (ctx)
        sspx_ctx_ref(ctx);
    return ctx;
}

static sspx_status release(sspx_ctx *ctx, sspx_status st)
{
    sspx_ctx_unref(ctx);
    return st;
}

SECURITY_STATUS sspx_ctx_step(sspx_ctx *ctx, const uint8_t *in, size_t in_len, sspx_buf *out)
{
    return release(ctx, ctx_step_held(hold(ctx), in, in_len, out));
}

SECURITY_STATUS sspx_ctx_session_key(sspx_ctx *ctx, sspx_buf *out)
{
    return release(ctx, ctx_session_key_held(hold(ctx), out));
}

SECURITY_STATUS sspx_ctx_sign(sspx_ctx *ctx, const uint8_t *msg, size_t len, sspx_buf *sig)
{
    return release(ctx, ctx_sign_held(hold(ctx), msg, len, sig));
}

SECURITY_STATUS sspx_ctx_verify(sspx_ctx *ctx, const uint8_t *msg, size_t len, const uint8_t *sig,
                                size_t sig_len)
{
    return release(ctx, ctx_verify_held(hold(ctx), msg, len, sig, sig_len));
}

SECURITY_STATUS sspx_ctx_wrap(sspx_ctx *ctx, const uint8_t *msg, size_t len, sspx_buf *out)
{
    return release(ctx, ctx_wrap_held(hold(ctx), msg, len, out));
}

SECURITY_STATUS sspx_ctx_unwrap(sspx_ctx *ctx, const uint8_t *in, size_t len, sspx_buf *out)
{
    return release(ctx, ctx_unwrap_held(hold(ctx), in, len, out));
}

SECURITY_STATUS sspx_ctx_delegated_cred(sspx_ctx *ctx, sspx_cred **out)
{
    return release(ctx, ctx_delegated_cred_held(hold(ctx), out));
}
