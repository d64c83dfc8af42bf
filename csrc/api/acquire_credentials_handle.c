/* AcquireCredentialsHandleA/W */
#include <string.h>

#include "api.h"

static SECURITY_STATUS acquire(const char *package, ULONG use, void *auth_data,
                               PCredHandle cred_out, PTimeStamp expiry)
{
    const sspx_package *pkg;
    sspx_config cfg;
    sspx_cred *cred = NULL;
    sspx_status st;
    if (cred_out)
        SecInvalidateHandle(cred_out);
    if (expiry)
        expiry->QuadPart = 0;
    ENSURE(package && cred_out, SSPX_ERR_NULL_ARG);
    pkg = sspx_package_find(package);
    ENSURE(pkg, SSPX_ERR_UNKNOWN_PACKAGE);
    use &= ~(ULONG)(SECPKG_CRED_AUTOLOGON_RESTRICTED | SECPKG_CRED_PROCESS_POLICY_ONLY);
    ENSURE(use == SECPKG_CRED_INBOUND || use == SECPKG_CRED_OUTBOUND || use == SECPKG_CRED_BOTH,
           SSPX_ERR_BAD_ARG);
    memset(&cfg, 0, sizeof(cfg));
    cfg.magic = SSPX_CONFIG_MAGIC;
    if (auth_data) {
        if (((const sspx_config *)auth_data)->magic == SSPX_CONFIG_MAGIC) {
            GUARD(sspx_config_copy(auth_data, &cfg));
        } else {
            ENSURE(pkg->auth_data, SSPX_ERR_BAD_AUTH_DATA);
            st = pkg->auth_data(use, auth_data, &cfg);
            if (st < 0) {
                sspx_config_clear(&cfg);
                return st;
            }
        }
    }
    st = sspx_cred_create(pkg, use, &cfg, &cred);
    sspx_config_clear(&cfg);
    GUARD(st);
    st = sspx_handle_new(SSPX_OBJ_CRED, cred, &cred->handle);
    if (st < 0) {
        sspx_cred_unref(cred);
        return st;
    }
    *cred_out = cred->handle;
    if (expiry)
        expiry->QuadPart = cred->expiry;
    return SEC_E_OK;
}

SSPX_API SECURITY_STATUS SEC_ENTRY
AcquireCredentialsHandleA(LPSTR pszPrincipal, LPSTR pszPackage, ULONG fCredentialUse,
                          PVOID pvLogonId, PVOID pAuthData, SEC_GET_KEY_FN pGetKeyFn,
                          PVOID pvGetKeyArgument, PCredHandle phCredential, PTimeStamp ptsExpiry)
{
    (void)pszPrincipal; /* NTLM: the identity comes from pAuthData */
    (void)pvLogonId;
    (void)pGetKeyFn;
    (void)pvGetKeyArgument;
    return acquire(pszPackage, fCredentialUse, pAuthData, phCredential, ptsExpiry);
}

SSPX_API SECURITY_STATUS SEC_ENTRY
AcquireCredentialsHandle(LPSTR pszPrincipal, LPSTR pszPackage, ULONG fCredentialUse,
                         PVOID pvLogonId, PVOID pAuthData, SEC_GET_KEY_FN pGetKeyFn,
                         PVOID pvGetKeyArgument, PCredHandle phCredential, PTimeStamp ptsExpiry)
{
    return AcquireCredentialsHandleA(pszPrincipal, pszPackage, fCredentialUse, pvLogonId, pAuthData,
                                     pGetKeyFn, pvGetKeyArgument, phCredential, ptsExpiry);
}

SSPX_API SECURITY_STATUS SEC_ENTRY
AcquireCredentialsHandleW(LPWSTR pszPrincipal, LPWSTR pszPackage, ULONG fCredentialUse,
                          PVOID pvLogonId, PVOID pAuthData, SEC_GET_KEY_FN pGetKeyFn,
                          PVOID pvGetKeyArgument, PCredHandle phCredential, PTimeStamp ptsExpiry)
{
    char pkg[64];
    (void)pszPrincipal;
    (void)pvLogonId;
    (void)pGetKeyFn;
    (void)pvGetKeyArgument;
    if (phCredential)
        SecInvalidateHandle(phCredential);
    ENSURE(pszPackage, SSPX_ERR_NULL_ARG);
    GUARD(sspx_api_wstr_to_utf8(pszPackage, pkg, sizeof(pkg)));
    return acquire(pkg, fCredentialUse, pAuthData, phCredential, ptsExpiry);
}
