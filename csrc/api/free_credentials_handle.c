/* FreeCredentialsHandle */
#include "api.h"

SSPX_API SECURITY_STATUS SEC_ENTRY FreeCredentialsHandle(PCredHandle phCredential)
{
    sspx_cred *cred;
    GUARD(sspx_handle_release(phCredential, SSPX_OBJ_CRED, (void **)&cred));
    sspx_cred_unref(cred); /* contexts made from it keep their own reference */
    return SEC_E_OK;
}
