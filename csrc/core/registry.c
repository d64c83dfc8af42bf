/* The package registry: const tables, in the order EnumerateSecurityPackages
 * lists them. Later packages add one line here and nothing else. */
#include <string.h>
#include <strings.h>

#include "core.h"
#include "packages/packages.h"

static const sspx_package *const packages[] = {
    &sspx_ntlm_package,
#ifdef SSPX_HAVE_KERBEROS
    &sspx_kerberos_package,
#endif
    &sspx_negotiate_package,
};
#define NPKG (sizeof(packages) / sizeof(packages[0]))

const sspx_package *sspx_package_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < NPKG; i++)
        if (strcasecmp(packages[i]->name, name) == 0)
            return packages[i];
    return NULL;
}

const sspx_package *sspx_package_at(size_t i)
{
    return i < NPKG ? packages[i] : NULL;
}
size_t sspx_package_total(void)
{
    return NPKG;
}

size_t sspx_package_count(void)
{
    return NPKG;
}
const char *sspx_package_name(size_t i)
{
    return i < NPKG ? packages[i]->name : NULL;
}

SecPkgInfoA *sspx_pkginfo_alloc(const sspx_package *const *pkgs, size_t n)
{
    size_t total = n * sizeof(SecPkgInfoA);
    SecPkgInfoA *info;
    char *strs;
    for (size_t i = 0; i < n; i++)
        total += strlen(pkgs[i]->name) + 1 + strlen(pkgs[i]->comment) + 1;
    info = sspx_ctxbuf_alloc(total);
    if (!info)
        return NULL;
    strs = (char *)(info + n);
    for (size_t i = 0; i < n; i++) {
        size_t a = strlen(pkgs[i]->name) + 1, b = strlen(pkgs[i]->comment) + 1;
        info[i].fCapabilities = pkgs[i]->capabilities;
        info[i].wVersion = pkgs[i]->version;
        info[i].wRPCID = pkgs[i]->rpcid;
        info[i].cbMaxToken = pkgs[i]->max_token;
        memcpy(strs, pkgs[i]->name, a);
        info[i].Name = strs;
        strs += a;
        memcpy(strs, pkgs[i]->comment, b);
        info[i].Comment = strs;
        strs += b;
    }
    return info;
}
