/* FreeContextBuffer: memory this library handed out (wiped first). */
#include "api.h"

SSPX_API SECURITY_STATUS SEC_ENTRY FreeContextBuffer(PVOID pvContextBuffer)
{
    return sspx_ctxbuf_free(pvContextBuffer);
}
