/* Credentials and contexts: creation, reference counting, and the step
 * runner that serialises the calls on one context. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "crypto/crypto.h"

void sspx_cred_ref(sspx_cred *c)
{
    atomic_fetch_add(&c->refs, 1);
}

void sspx_cred_unref(sspx_cred *c)
{
    if (!c || atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    if (c->state) {
        if (c->pkg->cred_free)
            c->pkg->cred_free(c->state);
        sspx_free_wiped(c->state, c->pkg->cred_size);
    }
    sspx_free_wiped(c, sizeof(*c));
}

sspx_status sspx_cred_create(const sspx_package *pkg, unsigned usage, const sspx_config *cfg,
                             sspx_cred **out)
{
    sspx_cred *c;
    sspx_status st;
    static const sspx_config empty = {SSPX_CONFIG_MAGIC, NULL, 0, NULL};
    *out = NULL;
    ENSURE(pkg->cred_acquire, SSPX_ERR_UNSUPPORTED);
    ENSURE(usage == SECPKG_CRED_INBOUND || usage == SECPKG_CRED_OUTBOUND ||
               usage == SECPKG_CRED_BOTH,
           SSPX_ERR_BAD_ARG);
    GUARD(sspx_crypto_init());
    c = sspx_calloc(sizeof(*c));
    ENSURE(c, SSPX_ERR_NO_MEMORY);
    atomic_init(&c->refs, 1);
    c->kind = SSPX_OBJ_CRED;
    c->pkg = pkg;
    c->usage = usage;
    c->expiry = SSPX_TIMESTAMP_NEVER;
    c->state = sspx_calloc(pkg->cred_size);
    ENSURE_GOTO(c->state, SSPX_ERR_NO_MEMORY);
    GUARD_GOTO(pkg->cred_acquire(c, cfg ? cfg : &empty));
    *out = c;
    return st;
out:
    if (c->state && pkg->cred_free)
        pkg->cred_free(c->state);
    sspx_free_wiped(c->state, pkg->cred_size);
    c->state = NULL;
    sspx_free_wiped(c, sizeof(*c));
    return st;
}

void sspx_ctx_ref(sspx_ctx *c)
{
    atomic_fetch_add(&c->refs, 1);
}

void sspx_ctx_unref(sspx_ctx *c)
{
    if (!c || atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    if (c->state) {
        if (c->pkg->ctx_free)
            c->pkg->ctx_free(c->state);
        sspx_free_wiped(c->state, c->pkg->ctx_size);
    }
    sspx_free_str(&c->client_name);
    sspx_free_wiped(c->cbt, c->cbt_len);
    sspx_free_str(&c->target);
    sspx_cred_unref(c->cred);
    pthread_mutex_destroy(&c->lock);
    sspx_free_wiped(c, sizeof(*c));
}

sspx_status sspx_ctx_create(sspx_cred *cred, int server, sspx_ctx **out)
{
    sspx_ctx *c;
    *out = NULL;
    ENSURE(server ? (cred->usage & SECPKG_CRED_INBOUND) : (cred->usage & SECPKG_CRED_OUTBOUND),
           SSPX_ERR_CRED_USAGE);
    ENSURE(server ? cred->pkg->accept != NULL : cred->pkg->init != NULL, SSPX_ERR_UNSUPPORTED);
    c = sspx_calloc(sizeof(*c));
    ENSURE(c, SSPX_ERR_NO_MEMORY);
    c->state = sspx_calloc(cred->pkg->ctx_size);
    if (!c->state) {
        free(c);
        BAIL(SSPX_ERR_NO_MEMORY);
    }
    atomic_init(&c->refs, 1);
    c->kind = SSPX_OBJ_CTX;
    c->pkg = cred->pkg;
    c->server = server;
    c->expiry = SSPX_TIMESTAMP_NEVER;
    pthread_mutex_init(&c->lock, NULL);
    sspx_cred_ref(cred);
    c->cred = cred;
    *out = c;
    return SEC_E_OK;
}

void sspx_step_out_clear(sspx_step_out *out)
{
    sspx_bytes_clear(&out->token);
    sspx_bytes_clear(&out->alert);
    out->extra = out->missing = out->ret_flags = 0;
    out->error_token = false;
}

sspx_status sspx_ctx_run_step(sspx_ctx *ctx, const sspx_step_in *in, sspx_step_out *out)
{
    sspx_status st;
    pthread_mutex_lock(&ctx->lock);
    if (ctx->phase == SSPX_PHASE_DONE) {
        st = SSPX_ERROR(SSPX_ERR_CTX_ALREADY_COMPLETE);
    } else if (ctx->phase == SSPX_PHASE_FAILED) {
        st = SSPX_ERROR(SSPX_ERR_CTX_FAILED);
    } else {
        if (ctx->phase == SSPX_PHASE_NEW)
            ctx->req_flags = in->req_flags;
        ctx->phase = SSPX_PHASE_RUNNING;
        st = ctx->server ? ctx->pkg->accept(ctx, in, out) : ctx->pkg->init(ctx, in, out);
        if (st == SEC_E_OK) {
            ctx->phase = SSPX_PHASE_DONE;
            ctx->ret_flags = out->ret_flags;
        } else if (st == SEC_I_CONTINUE_NEEDED || st == SEC_I_COMPLETE_NEEDED ||
                   st == SEC_I_COMPLETE_AND_CONTINUE || st == SEC_E_INCOMPLETE_MESSAGE) {
            ctx->ret_flags = out->ret_flags;
            if (st == SEC_I_COMPLETE_NEEDED)
                ctx->phase = SSPX_PHASE_DONE;
        } else if (st < 0) {
            ctx->phase = SSPX_PHASE_FAILED;
        }
    }
    pthread_mutex_unlock(&ctx->lock);
    return st;
}

sspx_status sspx_ctx_set_client_name(sspx_ctx *ctx, const char *domain, const char *user)
{
    size_t dl = strlen(domain), ul = strlen(user);
    char *s = malloc(dl + ul + 2), *p;
    ENSURE(s, SSPX_ERR_NO_MEMORY);
    p = s;
    if (dl) { /* "DOMAIN\user", or "user" alone when there is no domain */
        memcpy(p, domain, dl);
        p += dl;
        *p++ = '\\';
    }
    memcpy(p, user, ul + 1);
    sspx_free_str(&ctx->client_name);
    ctx->client_name = s;
    return SEC_E_OK;
}

void sspx_token_unref(sspx_token *t)
{
    if (!t || atomic_fetch_sub(&t->refs, 1) != 1)
        return;
    sspx_free_str(&t->user);
    sspx_free_str(&t->domain);
    sspx_free_str(&t->name);
    free(t);
}

sspx_status sspx_desc_check(const SecBufferDesc *d)
{
    ENSURE(d, SSPX_ERR_NULL_ARG);
    ENSURE(d->ulVersion == SECBUFFER_VERSION, SSPX_ERR_BAD_BUFFER_DESC);
    ENSURE(d->cBuffers == 0 || d->pBuffers, SSPX_ERR_BAD_BUFFER_DESC);
    ENSURE(d->cBuffers <= 64, SSPX_ERR_BAD_BUFFER_DESC);
    for (ULONG i = 0; i < d->cBuffers; i++)
        ENSURE(d->pBuffers[i].cbBuffer == 0 || d->pBuffers[i].pvBuffer ||
                   (d->pBuffers[i].BufferType & ~SECBUFFER_ATTRMASK) == SECBUFFER_EMPTY,
               SSPX_ERR_BAD_BUFFER_DESC);
    return SEC_E_OK;
}

SecBuffer *sspx_desc_find_buf(SecBufferDesc *d, uint32_t type)
{
    if (!d)
        return NULL;
    for (ULONG i = 0; i < d->cBuffers; i++)
        if ((d->pBuffers[i].BufferType & ~SECBUFFER_ATTRMASK) == type)
            return &d->pBuffers[i];
    return NULL;
}
