/* Entry points no package implements yet: they answer
 * SEC_E_UNSUPPORTED_FUNCTION (after checking the handle), never success. */
#include "api.h"

static SECURITY_STATUS unsupported_ctx(PCtxtHandle h)
{
    sspx_ctx *ctx;
    GUARD(sspx_handle_get(h, SSPX_OBJ_CTX, (void **)&ctx));
    sspx_ctx_unref(ctx);
    BAIL(SSPX_ERR_UNSUPPORTED);
}

SSPX_API SECURITY_STATUS SEC_ENTRY ImpersonateSecurityContext(PCtxtHandle phContext)
{
    return unsupported_ctx(phContext);
}

SSPX_API SECURITY_STATUS SEC_ENTRY RevertSecurityContext(PCtxtHandle phContext)
{
    return unsupported_ctx(phContext);
}

SSPX_API SECURITY_STATUS SEC_ENTRY ApplyControlToken(PCtxtHandle phContext, PSecBufferDesc pInput)
{
    (void)pInput;
    return unsupported_ctx(phContext);
}

SSPX_API SECURITY_STATUS SEC_ENTRY SetContextAttributesA(PCtxtHandle phContext, ULONG ulAttribute,
                                                         void *pBuffer, ULONG cbBuffer)
{
    (void)ulAttribute;
    (void)pBuffer;
    (void)cbBuffer;
    return unsupported_ctx(phContext);
}

SSPX_API SECURITY_STATUS SEC_ENTRY SetContextAttributesW(PCtxtHandle phContext, ULONG ulAttribute,
                                                         void *pBuffer, ULONG cbBuffer)
{
    (void)ulAttribute;
    (void)pBuffer;
    (void)cbBuffer;
    return unsupported_ctx(phContext);
}

SSPX_API SECURITY_STATUS SEC_ENTRY ExportSecurityContext(PCtxtHandle phContext, ULONG fFlags,
                                                         PSecBuffer pPackedContext, void **pToken)
{
    (void)fFlags;
    if (pPackedContext) {
        pPackedContext->cbBuffer = 0;
        pPackedContext->pvBuffer = NULL;
    }
    if (pToken)
        *pToken = NULL;
    return unsupported_ctx(phContext);
}

SSPX_API SECURITY_STATUS SEC_ENTRY ImportSecurityContextA(LPSTR pszPackage,
                                                          PSecBuffer pPackedContext, void *Token,
                                                          PCtxtHandle phContext)
{
    (void)pszPackage;
    (void)pPackedContext;
    (void)Token;
    if (phContext)
        SecInvalidateHandle(phContext);
    BAIL(SSPX_ERR_UNSUPPORTED);
}

SSPX_API SECURITY_STATUS SEC_ENTRY ImportSecurityContextW(LPWSTR pszPackage,
                                                          PSecBuffer pPackedContext, void *Token,
                                                          PCtxtHandle phContext)
{
    (void)pszPackage;
    (void)pPackedContext;
    (void)Token;
    if (phContext)
        SecInvalidateHandle(phContext);
    BAIL(SSPX_ERR_UNSUPPORTED);
}
