/* QueryCredentialsAttributesA/W: SECPKG_CRED_ATTR_NAMES, and whatever the
 * package's hook answers. */
#include <string.h>

#include "api.h"

static SECURITY_STATUS query(PCredHandle h, ULONG attr, void *buf, bool wide)
{
    sspx_cred *cred;
    sspx_status st;
    GUARD(sspx_handle_get(h, SSPX_OBJ_CRED, (void **)&cred));
    if (!buf)
        st = SSPX_ERROR(SSPX_ERR_NULL_ARG);
    else if (!cred->pkg->cred_query)
        st = SSPX_ERROR(SSPX_ERR_UNSUPPORTED_ATTR);
    else if (wide && attr == SECPKG_CRED_ATTR_NAMES) {
        SecPkgCredentials_NamesA a;
        st = cred->pkg->cred_query(cred, attr, &a);
        if (st == SEC_E_OK) {
            size_t n = sspx_api_utf8_wlen(a.sUserName);
            SEC_WCHAR *w = n ? sspx_ctxbuf_alloc(n * sizeof(SEC_WCHAR)) : NULL;
            if (w)
                sspx_api_utf8_to_wstr(a.sUserName, w, n);
            (void)sspx_ctxbuf_free(a.sUserName);
            ((SecPkgCredentials_NamesW *)buf)->sUserName = w;
            if (!w)
                st = SSPX_ERROR(SSPX_ERR_NO_MEMORY);
        }
    } else if (wide) {
        st = SSPX_ERROR(SSPX_ERR_UNSUPPORTED_ATTR);
    } else {
        st = cred->pkg->cred_query(cred, attr, buf);
    }
    sspx_cred_unref(cred);
    return st;
}

SSPX_API SECURITY_STATUS SEC_ENTRY QueryCredentialsAttributesA(PCredHandle phCredential,
                                                               ULONG ulAttribute, void *pBuffer)
{
    return query(phCredential, ulAttribute, pBuffer, false);
}

SSPX_API SECURITY_STATUS SEC_ENTRY QueryCredentialsAttributes(PCredHandle phCredential,
                                                              ULONG ulAttribute, void *pBuffer)
{
    return query(phCredential, ulAttribute, pBuffer, false);
}

SSPX_API SECURITY_STATUS SEC_ENTRY QueryCredentialsAttributesW(PCredHandle phCredential,
                                                               ULONG ulAttribute, void *pBuffer)
{
    return query(phCredential, ulAttribute, pBuffer, true);
}
