/* WinPR's own view of the SSPI structures (compiled against
 * /usr/include/winpr2, never linked against libwinpr2). */
#include <stddef.h>

#include <winpr/sspi.h>

#include "bench_layout.h"

#ifndef SECPKG_ATTR_AUTH_NTLM_SAM_FILE
#define SECPKG_ATTR_AUTH_NTLM_SAM_FILE 0
#endif
#ifndef SECPKG_ATTR_AUTH_NTLM_HASH
#define SECPKG_ATTR_AUTH_NTLM_HASH 0
#endif

void bench_winpr_layout(bench_layout *o)
{
    o->ulong_size = sizeof(ULONG);
    o->secbuffer_size = sizeof(SecBuffer);
    o->secbuffer_cb = offsetof(SecBuffer, cbBuffer);
    o->secbuffer_type = offsetof(SecBuffer, BufferType);
    o->secbuffer_pv = offsetof(SecBuffer, pvBuffer);
    o->secbufferdesc_size = sizeof(SecBufferDesc);
    o->secbufferdesc_ver = offsetof(SecBufferDesc, ulVersion);
    o->secbufferdesc_n = offsetof(SecBufferDesc, cBuffers);
    o->secbufferdesc_p = offsetof(SecBufferDesc, pBuffers);
    o->sechandle_size = sizeof(SecHandle);
    o->sechandle_lower = offsetof(SecHandle, dwLower);
    o->sechandle_upper = offsetof(SecHandle, dwUpper);
    o->timestamp_size = sizeof(TimeStamp);
    o->id_a_size = sizeof(SEC_WINNT_AUTH_IDENTITY_A);
    o->id_a_user = offsetof(SEC_WINNT_AUTH_IDENTITY_A, User);
    o->id_a_userlen = offsetof(SEC_WINNT_AUTH_IDENTITY_A, UserLength);
    o->id_a_domain = offsetof(SEC_WINNT_AUTH_IDENTITY_A, Domain);
    o->id_a_domainlen = offsetof(SEC_WINNT_AUTH_IDENTITY_A, DomainLength);
    o->id_a_password = offsetof(SEC_WINNT_AUTH_IDENTITY_A, Password);
    o->id_a_passwordlen = offsetof(SEC_WINNT_AUTH_IDENTITY_A, PasswordLength);
    o->id_a_flags = offsetof(SEC_WINNT_AUTH_IDENTITY_A, Flags);
    o->tab_acquire = offsetof(SecurityFunctionTableA, AcquireCredentialsHandleA);
    o->tab_free_cred = offsetof(SecurityFunctionTableA, FreeCredentialsHandle);
    o->tab_isc = offsetof(SecurityFunctionTableA, InitializeSecurityContextA);
    o->tab_asc = offsetof(SecurityFunctionTableA, AcceptSecurityContext);
    o->tab_complete = offsetof(SecurityFunctionTableA, CompleteAuthToken);
    o->tab_delete = offsetof(SecurityFunctionTableA, DeleteSecurityContext);
    o->tab_set_ctx_attr = offsetof(SecurityFunctionTableA, SetContextAttributesA);
    o->tab_encrypt = offsetof(SecurityFunctionTableA, EncryptMessage);
    o->tab_decrypt = offsetof(SecurityFunctionTableA, DecryptMessage);
    o->isc_req_integrity = ISC_REQ_INTEGRITY;
    o->isc_req_confidentiality = ISC_REQ_CONFIDENTIALITY;
    o->asc_req_integrity = ASC_REQ_INTEGRITY;
    o->asc_req_confidentiality = ASC_REQ_CONFIDENTIALITY;
    o->secpkg_cred_inbound = SECPKG_CRED_INBOUND;
    o->secpkg_cred_outbound = SECPKG_CRED_OUTBOUND;
    o->native_drep = SECURITY_NATIVE_DREP;
    o->secbuffer_token = SECBUFFER_TOKEN;
    o->secbuffer_data = SECBUFFER_DATA;
    o->id_ansi = SEC_WINNT_AUTH_IDENTITY_ANSI;
    o->attr_sam_file = SECPKG_ATTR_AUTH_NTLM_SAM_FILE;
    o->attr_ntlm_hash = SECPKG_ATTR_AUTH_NTLM_HASH;
    o->auth_ntlm_hash_size = sizeof(SecPkgContext_AuthNtlmHash);
    o->auth_ntlm_hash_hash = offsetof(SecPkgContext_AuthNtlmHash, NtlmHash);
}
