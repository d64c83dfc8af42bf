/* DeleteSecurityContext */
#include "api.h"

SSPX_API SECURITY_STATUS SEC_ENTRY DeleteSecurityContext(PCtxtHandle phContext)
{
    sspx_ctx *ctx;
    GUARD(sspx_handle_release(phContext, SSPX_OBJ_CTX, (void **)&ctx));
    sspx_ctx_unref(ctx); /* freed now, or when a concurrent call on it returns */
    return SEC_E_OK;
}
