/*
 * QuerySecurityContextToken: the authenticated client as a token object.
 * Linux has no access tokens; the HANDLE is an sspx token (a handle-table
 * entry) that sspx_token_name() reads and sspx_token_close() releases.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"

#define TOKEN_TAG ((ULONG_PTR)0x53505800u | SSPX_OBJ_TOKEN)

SSPX_API SECURITY_STATUS SEC_ENTRY QuerySecurityContextToken(PCtxtHandle phContext, HANDLE *Token)
{
    sspx_ctx *ctx;
    sspx_token *t;
    SecHandle h;
    sspx_status st = SEC_E_OK;
    if (Token)
        *Token = NULL;
    GUARD(sspx_handle_get(phContext, SSPX_OBJ_CTX, (void **)&ctx));
    if (!Token) {
        sspx_ctx_unref(ctx);
        BAIL(SSPX_ERR_NULL_ARG);
    }
    t = calloc(1, sizeof(*t));
    if (t) {
        atomic_init(&t->refs, 1);
        t->kind = SSPX_OBJ_TOKEN;
    }
    pthread_mutex_lock(&ctx->lock);
    if (!t)
        st = SSPX_ERROR(SSPX_ERR_NO_MEMORY);
    else if (!ctx->server || ctx->phase != SSPX_PHASE_DONE || !ctx->client_name)
        st = SSPX_ERROR(SSPX_ERR_CTX_NOT_COMPLETE);
    else {
        t->name = sspx_strdup(ctx->client_name);
        t->package = ctx->pkg->name;
        if (!t->name)
            st = SSPX_ERROR(SSPX_ERR_NO_MEMORY);
    }
    pthread_mutex_unlock(&ctx->lock);
    sspx_ctx_unref(ctx);
    if (st == SEC_E_OK)
        st = sspx_handle_new(SSPX_OBJ_TOKEN, t, &h);
    if (st < 0) {
        if (t)
            sspx_token_unref(t);
        return st;
    }
    *Token = (HANDLE)(uintptr_t)h.dwLower;
    return SEC_E_OK;
}

SSPX_API SECURITY_STATUS sspx_token_name(HANDLE token, char *buf, size_t cap)
{
    SecHandle h = {(ULONG_PTR)(uintptr_t)token, TOKEN_TAG};
    sspx_token *t;
    size_t n;
    sspx_status st = SEC_E_OK;
    ENSURE(buf && cap, SSPX_ERR_NULL_ARG);
    GUARD(sspx_handle_get(&h, SSPX_OBJ_TOKEN, (void **)&t));
    n = strlen(t->name);
    if (n >= cap)
        st = SSPX_ERROR(SSPX_ERR_BUFFER_TOO_SMALL);
    else
        memcpy(buf, t->name, n + 1);
    sspx_token_unref(t);
    return st;
}

SSPX_API SECURITY_STATUS sspx_token_close(HANDLE token)
{
    SecHandle h = {(ULONG_PTR)(uintptr_t)token, TOKEN_TAG};
    sspx_token *t;
    GUARD(sspx_handle_release(&h, SSPX_OBJ_TOKEN, (void **)&t));
    sspx_token_unref(t);
    return SEC_E_OK;
}
