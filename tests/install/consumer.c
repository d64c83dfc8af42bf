/* A program built against the installed library only (pkg-config or CMake
 * package), as a user's would be: Windows-style server and client. */
#include <sspx/sspi.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    ULONG n = 0;
    PSecPkgInfoA info = NULL;
    if (EnumerateSecurityPackagesA(&n, &info) != SEC_E_OK || n < 1)
        return 1;
    printf("%lu package(s), first %s, max token %lu\n", (unsigned long)n, info[0].Name,
           (unsigned long)info[0].cbMaxToken);
    int ok = strcmp(info[0].Name, "NTLM") == 0;
    FreeContextBuffer(info);
    CredHandle c;
    /* no SSPX_NTLM_USERS in the environment: the server refuses to start without users */
    SECURITY_STATUS st = AcquireCredentialsHandleA(NULL, "NTLM", SECPKG_CRED_INBOUND, NULL, NULL,
                                                   NULL, NULL, &c, NULL);
    printf("inbound credential without users: 0x%08lx\n", (unsigned long)(uint32_t)st);
    return ok && st == SEC_E_NO_CREDENTIALS ? 0 : 1;
}
