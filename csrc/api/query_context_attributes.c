/*
 * QueryContextAttributesA/W. The package's query hook is asked first (it
 * may override any attribute: Negotiate names the package it chose); the
 * attributes every package has (SIZES, FLAGS, NAMES, LIFESPAN, PACKAGE_INFO,
 * NEGOTIATION_INFO, SESSION_KEY) are then answered from the context. Strings and keys are
 * FreeContextBuffer blocks, as on Windows.
 */
#include <string.h>

#include "api.h"

static char *dup_ctxbuf(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = sspx_ctxbuf_alloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static SEC_WCHAR *dup_ctxbuf_w(const char *s)
{
    size_t n = sspx_api_utf8_wlen(s);
    SEC_WCHAR *d = n ? sspx_ctxbuf_alloc(n * sizeof(SEC_WCHAR)) : NULL;
    if (d)
        sspx_api_utf8_to_wstr(s, d, n);
    return d;
}

static sspx_status query(sspx_ctx *ctx, ULONG attr, void *buf, bool wide)
{
    const sspx_package *pkg = ctx->pkg;
    bool done = ctx->phase == SSPX_PHASE_DONE;
    switch (attr) {
    case SECPKG_ATTR_SIZES: {
        SecPkgContext_Sizes *s = buf;
        s->cbMaxToken = pkg->max_token;
        s->cbMaxSignature = pkg->max_signature;
        s->cbBlockSize = pkg->block_size;
        s->cbSecurityTrailer = pkg->security_trailer;
        return SEC_E_OK;
    }
    case SECPKG_ATTR_FLAGS:
        ((SecPkgContext_Flags *)buf)->Flags = ctx->ret_flags;
        return SEC_E_OK;
    case SECPKG_ATTR_NAMES:
        ENSURE(done && ctx->client_name, SSPX_ERR_CTX_NOT_COMPLETE);
        if (wide) {
            SEC_WCHAR *w = dup_ctxbuf_w(ctx->client_name);
            ENSURE(w, SSPX_ERR_NO_MEMORY);
            ((SecPkgContext_NamesW *)buf)->sUserName = w;
        } else {
            char *a = dup_ctxbuf(ctx->client_name);
            ENSURE(a, SSPX_ERR_NO_MEMORY);
            ((SecPkgContext_NamesA *)buf)->sUserName = a;
        }
        return SEC_E_OK;
    case SECPKG_ATTR_LIFESPAN: {
        SecPkgContext_Lifespan *l = buf;
        l->tsStart.QuadPart = 0;
        l->tsExpiry.QuadPart = ctx->expiry;
        return SEC_E_OK;
    }
    case SECPKG_ATTR_PACKAGE_INFO:
    case SECPKG_ATTR_NEGOTIATION_INFO:
        return sspx_answer_package_info(pkg, attr, done, buf);
    case SECPKG_ATTR_SESSION_KEY: {
        const uint8_t *key;
        size_t len;
        ENSURE(done, SSPX_ERR_CTX_NOT_COMPLETE);
        ENSURE(pkg->session_key, SSPX_ERR_UNSUPPORTED_ATTR);
        GUARD(pkg->session_key(ctx, &key, &len));
        SecPkgContext_SessionKey *k = buf;
        k->SessionKey = sspx_ctxbuf_alloc(len);
        ENSURE(k->SessionKey, SSPX_ERR_NO_MEMORY);
        memcpy(k->SessionKey, key, len);
        k->SessionKeyLength = (ULONG)len;
        return SEC_E_OK;
    }
    default:
        BAIL(SSPX_ERR_UNSUPPORTED_ATTR);
    }
}

/* The package first (Negotiate answers for the package it chose); what it
 * does not answer, or cannot yet, the context answers. */
static sspx_status query_any(sspx_ctx *ctx, ULONG attr, void *buf, bool wide)
{
    /* a package answers in A structures: for W callers only the attributes
     * without strings (SIZES, FLAGS, ...; the string ones are converted in
     * QueryContextAttributesW) */
    bool strings = attr == SECPKG_ATTR_NAMES || attr == SECPKG_ATTR_NATIVE_NAMES ||
                   attr == SECPKG_ATTR_PACKAGE_INFO || attr == SECPKG_ATTR_NEGOTIATION_INFO;
    if (ctx->pkg->query && (!wide || !strings)) {
        sspx_status st = ctx->pkg->query(ctx, attr, buf);
        int code = sspx_last_error().code;
        if (st >= 0 || (code != SSPX_ERR_UNSUPPORTED_ATTR && code != SSPX_ERR_CTX_NOT_COMPLETE))
            return st;
    }
    return query(ctx, attr, buf, wide);
}

static SECURITY_STATUS query_entry(PCtxtHandle h, ULONG attr, void *buf, bool wide)
{
    sspx_ctx *ctx;
    sspx_status st;
    GUARD(sspx_handle_get(h, SSPX_OBJ_CTX, (void **)&ctx));
    if (!buf) {
        sspx_ctx_unref(ctx);
        BAIL(SSPX_ERR_NULL_ARG);
    }
    pthread_mutex_lock(&ctx->lock);
    st = query_any(ctx, attr, buf, wide);
    pthread_mutex_unlock(&ctx->lock);
    sspx_ctx_unref(ctx);
    return st;
}

SSPX_API SECURITY_STATUS SEC_ENTRY QueryContextAttributesA(PCtxtHandle phContext, ULONG ulAttribute,
                                                           void *pBuffer)
{
    return query_entry(phContext, ulAttribute, pBuffer, false);
}

SSPX_API SECURITY_STATUS SEC_ENTRY QueryContextAttributes(PCtxtHandle phContext, ULONG ulAttribute,
                                                          void *pBuffer)
{
    return query_entry(phContext, ulAttribute, pBuffer, false);
}

/* A FreeContextBuffer'd UTF-8 string -> a FreeContextBuffer-able UTF-16 one. */
static sspx_status a_to_w(char *a, SEC_WCHAR **w)
{
    *w = a ? dup_ctxbuf_w(a) : NULL;
    (void)sspx_ctxbuf_free(a);
    ENSURE(!a || *w, SSPX_ERR_NO_MEMORY);
    return SEC_E_OK;
}

/* The package records of an A answer, again with UTF-16 strings. */
static sspx_status info_to_w(PSecPkgInfoA a, PSecPkgInfoW *w)
{
    const sspx_package *pkg = a ? sspx_package_find(a->Name) : NULL;
    (void)sspx_ctxbuf_free(a);
    ENSURE(pkg, SSPX_ERR_UNSUPPORTED_ATTR);
    *w = sspx_api_pkginfo_w(&pkg, 1);
    ENSURE(*w, SSPX_ERR_NO_MEMORY);
    return SEC_E_OK;
}

SSPX_API SECURITY_STATUS SEC_ENTRY QueryContextAttributesW(PCtxtHandle phContext, ULONG ulAttribute,
                                                           void *pBuffer)
{
    /* The string-bearing attributes besides NAMES: asked in their A form
     * (the package answers those), then converted. */
    switch (ulAttribute) {
    case SECPKG_ATTR_NATIVE_NAMES: {
        SecPkgContext_NativeNamesA a;
        SecPkgContext_NativeNamesW *w = pBuffer;
        sspx_status st;
        ENSURE(w, SSPX_ERR_NULL_ARG);
        GUARD(query_entry(phContext, ulAttribute, &a, false));
        st = a_to_w(a.sClientName, &w->sClientName);
        if (st >= 0)
            st = a_to_w(a.sServerName, &w->sServerName);
        else
            (void)sspx_ctxbuf_free(a.sServerName);
        if (st < 0) {
            (void)sspx_ctxbuf_free(w->sClientName);
            w->sClientName = w->sServerName = NULL;
        }
        return st;
    }
    case SECPKG_ATTR_PACKAGE_INFO: {
        SecPkgContext_PackageInfoA a;
        ENSURE(pBuffer, SSPX_ERR_NULL_ARG);
        GUARD(query_entry(phContext, ulAttribute, &a, false));
        return info_to_w(a.PackageInfo, &((SecPkgContext_PackageInfoW *)pBuffer)->PackageInfo);
    }
    case SECPKG_ATTR_NEGOTIATION_INFO: {
        SecPkgContext_NegotiationInfoA a;
        SecPkgContext_NegotiationInfoW *w = pBuffer;
        ENSURE(w, SSPX_ERR_NULL_ARG);
        GUARD(query_entry(phContext, ulAttribute, &a, false));
        w->NegotiationState = a.NegotiationState;
        return info_to_w(a.PackageInfo, &w->PackageInfo);
    }
    default:
        return query_entry(phContext, ulAttribute, pBuffer, true);
    }
}
