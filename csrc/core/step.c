/*
 * What AcceptSecurityContext and InitializeSecurityContext share: reading
 * the input SecBufferDesc, creating or finding the context, running the
 * step, and publishing outputs the way the Windows documentation describes
 * (the output token in pOutput's SECBUFFER_TOKEN, allocated when
 * *_REQ_ALLOCATE_MEMORY is set; SECBUFFER_EXTRA / SECBUFFER_MISSING written
 * into pInput; SECBUFFER_ALERT into pOutput; expiry only on completion).
 */
#include <string.h>

#include "core.h"

/* Copy `b` into the caller's buffer or a new FreeContextBuffer block. */
static sspx_status publish_buf(SecBuffer *dst, const sspx_bytes *b, bool alloc)
{
    if (alloc) {
        dst->pvBuffer = NULL;
        dst->cbBuffer = 0;
        if (b->len == 0)
            return SEC_E_OK;
        dst->pvBuffer = sspx_ctxbuf_alloc(b->len);
        ENSURE(dst->pvBuffer, SSPX_ERR_NO_MEMORY);
        memcpy(dst->pvBuffer, b->data, b->len);
        dst->cbBuffer = (ULONG)b->len;
        return SEC_E_OK;
    }
    ENSURE(b->len <= dst->cbBuffer && (b->len == 0 || dst->pvBuffer), SSPX_ERR_BUFFER_TOO_SMALL);
    if (b->len)
        memcpy(dst->pvBuffer, b->data, b->len);
    dst->cbBuffer = (ULONG)b->len;
    return SEC_E_OK;
}

static void unpublish(SecBuffer *b, bool alloc)
{
    if (alloc && b && b->pvBuffer) {
        (void)sspx_ctxbuf_free(b->pvBuffer);
        b->pvBuffer = NULL;
        b->cbBuffer = 0;
    }
}

sspx_status sspx_api_step(const sspx_api_step_args *a)
{
    sspx_step_in in;
    sspx_step_out out;
    sspx_cred *cred = NULL;
    sspx_ctx *ctx = NULL;
    SecBuffer *tok_out = NULL, *alert_out = NULL;
    bool alloc = a->req_flags & ASC_REQ_ALLOCATE_MEMORY, created = false;
    sspx_status st, pst;

    memset(&in, 0, sizeof(in));
    memset(&out, 0, sizeof(out));
    if (a->attrs)
        *a->attrs = 0;
    if (a->expiry)
        a->expiry->QuadPart = 0;
    ENSURE(a->data_rep == SECURITY_NATIVE_DREP || a->data_rep == SECURITY_NETWORK_DREP,
           SSPX_ERR_BAD_DATA_REP);
    ENSURE(a->cred || a->ctx, SSPX_ERR_NO_HANDLE);
    ENSURE(a->new_ctx || a->ctx, SSPX_ERR_NULL_ARG);
    if (a->input) {
        GUARD(sspx_desc_check(a->input));
        SecBuffer *t = sspx_desc_find_buf(a->input, SECBUFFER_TOKEN);
        SecBuffer *cb = sspx_desc_find_buf(a->input, SECBUFFER_CHANNEL_BINDINGS);
        if (t) {
            in.token = t->pvBuffer;
            in.token_len = t->cbBuffer;
        }
        if (cb && cb->cbBuffer) {
            in.cbt = cb->pvBuffer;
            in.cbt_len = cb->cbBuffer;
        }
        in.desc = a->input;
    }
    if (a->output) {
        GUARD(sspx_desc_check(a->output));
        tok_out = sspx_desc_find_buf(a->output, SECBUFFER_TOKEN);
        alert_out = sspx_desc_find_buf(a->output, SECBUFFER_ALERT);
        if (tok_out && alloc) {
            tok_out->pvBuffer = NULL;
            tok_out->cbBuffer = 0;
        }
    }
    in.req_flags = a->req_flags;
    in.target = a->target;

    if (a->ctx) {
        GUARD(sspx_handle_get(a->ctx, SSPX_OBJ_CTX, (void **)&ctx));
        if (a->cred) { /* when given again it must still be a live credential */
            st = sspx_handle_get(a->cred, SSPX_OBJ_CRED, (void **)&cred);
            if (st < 0) {
                sspx_ctx_unref(ctx);
                return st;
            }
            sspx_cred_unref(cred);
        }
        ENSURE_GOTO(ctx->server == a->server, SSPX_ERR_WRONG_ROLE);
    } else {
        ENSURE(a->cred, SSPX_ERR_NULL_ARG);
        GUARD(sspx_handle_get(a->cred, SSPX_OBJ_CRED, (void **)&cred));
        st = sspx_ctx_create(cred, a->server, &ctx);
        sspx_cred_unref(cred);
        GUARD(st);
        created = true;
    }

    st = sspx_ctx_run_step(ctx, &in, &out);
    if (st < 0 && st != SEC_E_INCOMPLETE_MESSAGE) {
        /* ASC_REQ_EXTENDED_ERROR: the package's error token goes to the
         * caller with the failure status, for the client */
        if (out.error_token && out.token.len && a->server &&
            (a->req_flags & ASC_REQ_EXTENDED_ERROR) && tok_out &&
            publish_buf(tok_out, &out.token, alloc) >= 0) {
            if (a->attrs)
                *a->attrs = ASC_RET_EXTENDED_ERROR | (alloc ? ASC_RET_ALLOCATED_MEMORY : 0);
        } else if (tok_out) {
            tok_out->cbBuffer = 0; /* nothing to send */
        }
        goto out;
    }

    /* publish: output token, alert, extra/missing, flags, expiry */
    if (out.token.len) {
        ENSURE_GOTO(tok_out, SSPX_ERR_NO_OUTPUT_BUFFER);
        pst = publish_buf(tok_out, &out.token, alloc);
    } else {
        pst = SEC_E_OK;
        if (tok_out)
            tok_out->cbBuffer = 0;
    }
    if (pst >= 0 && out.alert.len && alert_out)
        pst = publish_buf(alert_out, &out.alert, alloc);
    if (pst < 0) {
        unpublish(tok_out, alloc);
        pthread_mutex_lock(&ctx->lock);
        ctx->phase = SSPX_PHASE_FAILED; /* the step happened; its token is lost */
        pthread_mutex_unlock(&ctx->lock);
        st = pst;
        goto out;
    }
    if (a->input && (out.extra || out.missing)) {
        SecBuffer *e = sspx_desc_find_buf(a->input, SECBUFFER_EMPTY);
        if (e) {
            e->BufferType = out.extra ? SECBUFFER_EXTRA : SECBUFFER_MISSING;
            e->cbBuffer = out.extra ? out.extra : out.missing;
            e->pvBuffer =
                out.extra ? (uint8_t *)(uintptr_t)in.token + in.token_len - out.extra : NULL;
        }
    }
    if (a->attrs)
        *a->attrs = out.ret_flags | (alloc && out.token.len ? ASC_RET_ALLOCATED_MEMORY : 0);
    if (st == SEC_E_OK && a->expiry)
        a->expiry->QuadPart = ctx->expiry;
    if (created && st == SEC_E_INCOMPLETE_MESSAGE)
        goto out; /* no context yet: call again with more bytes and phContext NULL */
    if (created) {
        pst = sspx_handle_new(SSPX_OBJ_CTX, ctx, &ctx->handle);
        if (pst < 0) {
            unpublish(tok_out, alloc);
            st = pst;
            goto out;
        }
        *a->new_ctx = ctx->handle;
        ctx = NULL; /* the table owns the first reference now */
    } else if (a->new_ctx && a->new_ctx != a->ctx) {
        *a->new_ctx = *a->ctx;
    }
out:
    sspx_step_out_clear(&out);
    sspx_ctx_unref(ctx);
    return st;
}
