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

sspx_status sspx_answer_package_info(const sspx_package *pkg, uint32_t attr, bool complete,
                                     void *buf)
{
    PSecPkgInfoA info = sspx_pkginfo_alloc(&pkg, 1);
    ENSURE(info, SSPX_ERR_NO_MEMORY);
    if (attr == SECPKG_ATTR_PACKAGE_INFO) {
        ((SecPkgContext_PackageInfoA *)buf)->PackageInfo = info;
    } else {
        ((SecPkgContext_NegotiationInfoA *)buf)->PackageInfo = info;
        ((SecPkgContext_NegotiationInfoA *)buf)->NegotiationState =
            complete ? SECPKG_NEGOTIATION_COMPLETE : SECPKG_NEGOTIATION_IN_PROGRESS;
    }
    return SEC_E_OK;
}

sspx_status sspx_answer_native_names(const char *client, const char *server, void *buf)
{
    SecPkgContext_NativeNamesA *n = buf;
    size_t a = strlen(client) + 1, b = strlen(server) + 1;
    n->sClientName = sspx_ctxbuf_alloc(a);
    n->sServerName = sspx_ctxbuf_alloc(b);
    if (!n->sClientName || !n->sServerName) {
        (void)sspx_ctxbuf_free(n->sClientName);
        (void)sspx_ctxbuf_free(n->sServerName);
        n->sClientName = n->sServerName = NULL;
        BAIL(SSPX_ERR_NO_MEMORY);
    }
    memcpy(n->sClientName, client, a);
    memcpy(n->sServerName, server, b);
    return SEC_E_OK;
}
