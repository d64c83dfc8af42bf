/* InitSecurityInterfaceA/W: the function tables, with every slot in its
 * Windows position (Encrypt/DecryptMessage after QuerySecurityContextToken).
 * Slots for functions not exported stay NULL, as Windows allows. */
#include "api.h"

static SecurityFunctionTableA table_a = {
    .dwVersion = SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_2,
    .EnumerateSecurityPackagesA = EnumerateSecurityPackagesA,
    .QueryCredentialsAttributesA = QueryCredentialsAttributesA,
    .AcquireCredentialsHandleA = AcquireCredentialsHandleA,
    .FreeCredentialsHandle = FreeCredentialsHandle,
    .InitializeSecurityContextA = InitializeSecurityContextA,
    .AcceptSecurityContext = AcceptSecurityContext,
    .CompleteAuthToken = CompleteAuthToken,
    .DeleteSecurityContext = DeleteSecurityContext,
    .ApplyControlToken = ApplyControlToken,
    .QueryContextAttributesA = QueryContextAttributesA,
    .ImpersonateSecurityContext = ImpersonateSecurityContext,
    .RevertSecurityContext = RevertSecurityContext,
    .MakeSignature = MakeSignature,
    .VerifySignature = VerifySignature,
    .FreeContextBuffer = FreeContextBuffer,
    .QuerySecurityPackageInfoA = QuerySecurityPackageInfoA,
    .ExportSecurityContext = ExportSecurityContext,
    .ImportSecurityContextA = ImportSecurityContextA,
    .QuerySecurityContextToken = QuerySecurityContextToken,
    .EncryptMessage = EncryptMessage,
    .DecryptMessage = DecryptMessage,
    .SetContextAttributesA = SetContextAttributesA,
};

static SecurityFunctionTableW table_w = {
    .dwVersion = SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_2,
    .EnumerateSecurityPackagesW = EnumerateSecurityPackagesW,
    .QueryCredentialsAttributesW = QueryCredentialsAttributesW,
    .AcquireCredentialsHandleW = AcquireCredentialsHandleW,
    .FreeCredentialsHandle = FreeCredentialsHandle,
    .InitializeSecurityContextW = InitializeSecurityContextW,
    .AcceptSecurityContext = AcceptSecurityContext,
    .CompleteAuthToken = CompleteAuthToken,
    .DeleteSecurityContext = DeleteSecurityContext,
    .ApplyControlToken = ApplyControlToken,
    .QueryContextAttributesW = QueryContextAttributesW,
    .ImpersonateSecurityContext = ImpersonateSecurityContext,
    .RevertSecurityContext = RevertSecurityContext,
    .MakeSignature = MakeSignature,
    .VerifySignature = VerifySignature,
    .FreeContextBuffer = FreeContextBuffer,
    .QuerySecurityPackageInfoW = QuerySecurityPackageInfoW,
    .ExportSecurityContext = ExportSecurityContext,
    .ImportSecurityContextW = ImportSecurityContextW,
    .QuerySecurityContextToken = QuerySecurityContextToken,
    .EncryptMessage = EncryptMessage,
    .DecryptMessage = DecryptMessage,
    .SetContextAttributesW = SetContextAttributesW,
};

SSPX_API PSecurityFunctionTableA SEC_ENTRY InitSecurityInterfaceA(void)
{
    return &table_a;
}
SSPX_API PSecurityFunctionTableA SEC_ENTRY InitSecurityInterface(void)
{
    return &table_a;
}
SSPX_API PSecurityFunctionTableW SEC_ENTRY InitSecurityInterfaceW(void)
{
    return &table_w;
}
