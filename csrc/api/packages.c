/* EnumerateSecurityPackagesA/W, QuerySecurityPackageInfoA/W */
#include <string.h>

#include "api.h"

#define MAX_PACKAGES 16

/* Every registered package, in registry order; returns how many. */
static size_t all_packages(const sspx_package *all[MAX_PACKAGES])
{
    size_t n = sspx_package_total();
    for (size_t i = 0; i < n && i < MAX_PACKAGES; i++)
        all[i] = sspx_package_at(i);
    return n < MAX_PACKAGES ? n : MAX_PACKAGES;
}

SSPX_API SECURITY_STATUS SEC_ENTRY EnumerateSecurityPackagesA(PULONG pcPackages,
                                                              PSecPkgInfoA *ppPackageInfo)
{
    const sspx_package *all[MAX_PACKAGES];
    size_t n;
    if (pcPackages)
        *pcPackages = 0;
    if (ppPackageInfo)
        *ppPackageInfo = NULL;
    ENSURE(pcPackages && ppPackageInfo, SSPX_ERR_NULL_ARG);
    n = all_packages(all);
    *ppPackageInfo = sspx_pkginfo_alloc(all, n);
    ENSURE(*ppPackageInfo, SSPX_ERR_NO_MEMORY);
    *pcPackages = (ULONG)n;
    return SEC_E_OK;
}

SSPX_API SECURITY_STATUS SEC_ENTRY EnumerateSecurityPackages(PULONG pcPackages,
                                                             PSecPkgInfoA *ppPackageInfo)
{
    return EnumerateSecurityPackagesA(pcPackages, ppPackageInfo);
}

SSPX_API SECURITY_STATUS SEC_ENTRY QuerySecurityPackageInfoA(LPSTR pszPackageName,
                                                             PSecPkgInfoA *ppPackageInfo)
{
    const sspx_package *pkg;
    if (ppPackageInfo)
        *ppPackageInfo = NULL;
    ENSURE(pszPackageName && ppPackageInfo, SSPX_ERR_NULL_ARG);
    pkg = sspx_package_find(pszPackageName);
    ENSURE(pkg, SSPX_ERR_UNKNOWN_PACKAGE);
    *ppPackageInfo = sspx_pkginfo_alloc(&pkg, 1);
    ENSURE(*ppPackageInfo, SSPX_ERR_NO_MEMORY);
    return SEC_E_OK;
}

SSPX_API SECURITY_STATUS SEC_ENTRY QuerySecurityPackageInfo(LPSTR pszPackageName,
                                                            PSecPkgInfoA *ppPackageInfo)
{
    return QuerySecurityPackageInfoA(pszPackageName, ppPackageInfo);
}

/* The W forms: the same records with UTF-16 strings, in one block. */
PSecPkgInfoW sspx_api_pkginfo_w(const sspx_package *const *pkgs, size_t n)
{
    size_t total = n * sizeof(SecPkgInfoW);
    SecPkgInfoW *info;
    SEC_WCHAR *s;
    for (size_t i = 0; i < n; i++)
        total += (sspx_api_utf8_wlen(pkgs[i]->name) + sspx_api_utf8_wlen(pkgs[i]->comment)) *
                 sizeof(SEC_WCHAR);
    info = sspx_ctxbuf_alloc(total);
    if (!info)
        return NULL;
    s = (SEC_WCHAR *)(info + n);
    for (size_t i = 0; i < n; i++) {
        size_t a = sspx_api_utf8_wlen(pkgs[i]->name), b = sspx_api_utf8_wlen(pkgs[i]->comment);
        info[i].fCapabilities = pkgs[i]->capabilities;
        info[i].wVersion = pkgs[i]->version;
        info[i].wRPCID = pkgs[i]->rpcid;
        info[i].cbMaxToken = pkgs[i]->max_token;
        sspx_api_utf8_to_wstr(pkgs[i]->name, s, a);
        info[i].Name = s;
        s += a;
        sspx_api_utf8_to_wstr(pkgs[i]->comment, s, b);
        info[i].Comment = s;
        s += b;
    }
    return info;
}

SSPX_API SECURITY_STATUS SEC_ENTRY EnumerateSecurityPackagesW(PULONG pcPackages,
                                                              PSecPkgInfoW *ppPackageInfo)
{
    const sspx_package *all[MAX_PACKAGES];
    size_t n;
    if (pcPackages)
        *pcPackages = 0;
    if (ppPackageInfo)
        *ppPackageInfo = NULL;
    ENSURE(pcPackages && ppPackageInfo, SSPX_ERR_NULL_ARG);
    n = all_packages(all);
    *ppPackageInfo = sspx_api_pkginfo_w(all, n);
    ENSURE(*ppPackageInfo, SSPX_ERR_NO_MEMORY);
    *pcPackages = (ULONG)n;
    return SEC_E_OK;
}

SSPX_API SECURITY_STATUS SEC_ENTRY QuerySecurityPackageInfoW(LPWSTR pszPackageName,
                                                             PSecPkgInfoW *ppPackageInfo)
{
    const sspx_package *pkg;
    char name[64];
    if (ppPackageInfo)
        *ppPackageInfo = NULL;
    ENSURE(pszPackageName && ppPackageInfo, SSPX_ERR_NULL_ARG);
    GUARD(sspx_api_wstr_to_utf8(pszPackageName, name, sizeof(name)));
    pkg = sspx_package_find(name);
    ENSURE(pkg, SSPX_ERR_UNKNOWN_PACKAGE);
    *ppPackageInfo = sspx_api_pkginfo_w(&pkg, 1);
    ENSURE(*ppPackageInfo, SSPX_ERR_NO_MEMORY);
    return SEC_E_OK;
}
