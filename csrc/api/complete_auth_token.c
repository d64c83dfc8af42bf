/* CompleteAuthToken: packages that never return SEC_I_COMPLETE_NEEDED
 * (NTLM) have nothing to complete; the call checks its arguments and
 * succeeds, as on Windows. */
#include "api.h"

SSPX_API SECURITY_STATUS SEC_ENTRY CompleteAuthToken(PCtxtHandle phContext, PSecBufferDesc pToken)
{
    sspx_ctx *ctx;
    sspx_status st = SEC_E_OK;
    GUARD(sspx_handle_get(phContext, SSPX_OBJ_CTX, (void **)&ctx));
    if ((st = sspx_desc_check(pToken)) < 0) {
        sspx_ctx_unref(ctx);
        return st;
    }
    pthread_mutex_lock(&ctx->lock);
    if (ctx->phase == SSPX_PHASE_FAILED)
        st = SSPX_ERROR(SSPX_ERR_CTX_FAILED);
    else if (ctx->pkg->complete_token)
        st = ctx->pkg->complete_token(ctx, pToken);
    pthread_mutex_unlock(&ctx->lock);
    sspx_ctx_unref(ctx);
    return st;
}
