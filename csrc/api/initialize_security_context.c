/* InitializeSecurityContextA/W */
#include <string.h>

#include "api.h"

static SECURITY_STATUS init(PCredHandle cred, PCtxtHandle ctx, const char *target, ULONG req,
                            ULONG rep, PSecBufferDesc in, PCtxtHandle new_ctx, PSecBufferDesc out,
                            PULONG attrs, PTimeStamp expiry)
{
    sspx_api_step_args a;
    memset(&a, 0, sizeof(a));
    a.server = 0;
    a.cred = cred;
    a.ctx = ctx;
    a.target = target;
    a.req_flags = req;
    a.data_rep = rep;
    a.input = in;
    a.new_ctx = new_ctx;
    a.output = out;
    a.attrs = attrs;
    a.expiry = expiry;
    return sspx_api_step(&a);
}

SSPX_API SECURITY_STATUS SEC_ENTRY InitializeSecurityContextA(
    PCredHandle phCredential, PCtxtHandle phContext, SEC_CHAR *pszTargetName, ULONG fContextReq,
    ULONG Reserved1, ULONG TargetDataRep, PSecBufferDesc pInput, ULONG Reserved2,
    PCtxtHandle phNewContext, PSecBufferDesc pOutput, PULONG pfContextAttr, PTimeStamp ptsExpiry)
{
    (void)Reserved1;
    (void)Reserved2;
    return init(phCredential, phContext, pszTargetName, fContextReq, TargetDataRep, pInput,
                phNewContext, pOutput, pfContextAttr, ptsExpiry);
}

SSPX_API SECURITY_STATUS SEC_ENTRY InitializeSecurityContext(
    PCredHandle phCredential, PCtxtHandle phContext, SEC_CHAR *pszTargetName, ULONG fContextReq,
    ULONG Reserved1, ULONG TargetDataRep, PSecBufferDesc pInput, ULONG Reserved2,
    PCtxtHandle phNewContext, PSecBufferDesc pOutput, PULONG pfContextAttr, PTimeStamp ptsExpiry)
{
    return InitializeSecurityContextA(phCredential, phContext, pszTargetName, fContextReq,
                                      Reserved1, TargetDataRep, pInput, Reserved2, phNewContext,
                                      pOutput, pfContextAttr, ptsExpiry);
}

SSPX_API SECURITY_STATUS SEC_ENTRY InitializeSecurityContextW(
    PCredHandle phCredential, PCtxtHandle phContext, SEC_WCHAR *pszTargetName, ULONG fContextReq,
    ULONG Reserved1, ULONG TargetDataRep, PSecBufferDesc pInput, ULONG Reserved2,
    PCtxtHandle phNewContext, PSecBufferDesc pOutput, PULONG pfContextAttr, PTimeStamp ptsExpiry)
{
    char target[1024];
    (void)Reserved1;
    (void)Reserved2;
    if (pszTargetName)
        GUARD(sspx_api_wstr_to_utf8(pszTargetName, target, sizeof(target)));
    return init(phCredential, phContext, pszTargetName ? target : NULL, fContextReq, TargetDataRep,
                pInput, phNewContext, pOutput, pfContextAttr, ptsExpiry);
}
