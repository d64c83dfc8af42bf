/* AcceptSecurityContext */
#include <string.h>

#include "api.h"

SSPX_API SECURITY_STATUS SEC_ENTRY
AcceptSecurityContext(PCredHandle phCredential, PCtxtHandle phContext, PSecBufferDesc pInput,
                      ULONG fContextReq, ULONG TargetDataRep, PCtxtHandle phNewContext,
                      PSecBufferDesc pOutput, PULONG pfContextAttr, PTimeStamp ptsExpiry)
{
    sspx_api_step_args a;
    memset(&a, 0, sizeof(a));
    a.server = 1;
    a.cred = phCredential;
    a.ctx = phContext;
    a.req_flags = fContextReq;
    a.data_rep = TargetDataRep;
    a.input = pInput;
    a.new_ctx = phNewContext;
    a.output = pOutput;
    a.attrs = pfContextAttr;
    a.expiry = ptsExpiry;
    return sspx_api_step(&a);
}
