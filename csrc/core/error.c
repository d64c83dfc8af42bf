#include <stdio.h>
#include <string.h>

#include "core.h"

typedef struct err_entry {
    const char *name;
    SECURITY_STATUS status;
    const char *message;
} err_entry;

static const err_entry table[SSPX_ERR_COUNT] = {
    [SSPX_ERR_NONE] = {"SSPX_ERR_NONE", SEC_E_OK, "no error"},
#define SSPX_E(n, s, m) [n] = {#n, s, m},
#include "errors.def"
#undef SSPX_E
};

static _Thread_local struct {
    enum sspx_err err;
    const char *file;
    int line;
    char detail[384]; /* what a library below said (Heimdal's text); "" if nothing */
    char text[768];
} last;

SECURITY_STATUS sspx_err_status(enum sspx_err err)
{
    return (err > 0 && err < SSPX_ERR_COUNT) ? table[err].status : SEC_E_INTERNAL_ERROR;
}

sspx_status sspx_err_set(enum sspx_err err, const char *file, int line)
{
    const char *slash = strrchr(file, '/');
    last.err = err;
    last.file = slash ? slash + 1 : file;
    last.line = line;
    last.detail[0] = 0;
    return sspx_err_status(err);
}

void sspx_err_detail(const char *text)
{
    snprintf(last.detail, sizeof(last.detail), "%s", text ? text : "");
}

sspx_error_info sspx_last_error(void)
{
    sspx_error_info e;
    memset(&e, 0, sizeof(e));
    if (last.err <= 0 || last.err >= SSPX_ERR_COUNT) {
        e.name = table[0].name;
        e.message = table[0].message;
        e.file = "";
        e.detail = "";
        return e;
    }
    e.status = table[last.err].status;
    e.code = (int)last.err;
    e.name = table[last.err].name;
    e.message = table[last.err].message;
    e.file = last.file;
    e.line = last.line;
    e.detail = last.detail;
    return e;
}

const char *sspx_last_error_string(void)
{
    sspx_error_info e = sspx_last_error();
    if (e.code == 0)
        return "no error";
    snprintf(last.text, sizeof(last.text), "%s:%d: %s (%s)%s%s", e.file, e.line, e.message, e.name,
             e.detail[0] ? ": " : "", e.detail);
    return last.text;
}

void sspx_clear_error(void)
{
    last.err = SSPX_ERR_NONE;
}

typedef struct status_entry {
    SECURITY_STATUS st;
    const char *name;
    const char *msg;
} status_entry;

#define S(n, m)  \
    {            \
        n, #n, m \
    }
static const status_entry statuses[] = {
    S(SEC_E_OK, "success"),
    S(SEC_I_CONTINUE_NEEDED, "the handshake continues: send the output token"),
    S(SEC_I_COMPLETE_NEEDED, "call CompleteAuthToken"),
    S(SEC_I_COMPLETE_AND_CONTINUE, "call CompleteAuthToken, then continue"),
    S(SEC_I_INCOMPLETE_CREDENTIALS, "the credentials are incomplete"),
    S(SEC_I_RENEGOTIATE, "the peer wants to renegotiate"),
    S(SEC_I_CONTEXT_EXPIRED, "the context has expired"),
    S(SEC_E_INSUFFICIENT_MEMORY, "not enough memory"),
    S(SEC_E_INVALID_HANDLE, "the handle is invalid"),
    S(SEC_E_UNSUPPORTED_FUNCTION, "the function is not supported"),
    S(SEC_E_TARGET_UNKNOWN, "the target is unknown"),
    S(SEC_E_INTERNAL_ERROR, "internal error"),
    S(SEC_E_SECPKG_NOT_FOUND, "the security package was not found"),
    S(SEC_E_NOT_OWNER, "not the owner"),
    S(SEC_E_CANNOT_INSTALL, "cannot install"),
    S(SEC_E_INVALID_TOKEN, "the token is invalid"),
    S(SEC_E_CANNOT_PACK, "cannot pack"),
    S(SEC_E_QOP_NOT_SUPPORTED, "quality of protection not supported"),
    S(SEC_E_NO_IMPERSONATION, "no impersonation"),
    S(SEC_E_LOGON_DENIED, "logon denied"),
    S(SEC_E_UNKNOWN_CREDENTIALS, "unknown credentials"),
    S(SEC_E_NO_CREDENTIALS, "no credentials"),
    S(SEC_E_MESSAGE_ALTERED, "the message or signature was altered"),
    S(SEC_E_OUT_OF_SEQUENCE, "the message is out of sequence"),
    S(SEC_E_NO_AUTHENTICATING_AUTHORITY, "no authority could be contacted"),
    S(SEC_E_BAD_PKGID, "bad package id"),
    S(SEC_E_CONTEXT_EXPIRED, "the context has expired"),
    S(SEC_E_INCOMPLETE_MESSAGE, "the message is incomplete"),
    S(SEC_E_INCOMPLETE_CREDENTIALS, "the credentials are incomplete"),
    S(SEC_E_BUFFER_TOO_SMALL, "the buffer is too small"),
    S(SEC_E_WRONG_PRINCIPAL, "wrong principal"),
    S(SEC_E_TIME_SKEW, "clock skew too great"),
    S(SEC_E_UNTRUSTED_ROOT, "untrusted root"),
    S(SEC_E_ILLEGAL_MESSAGE, "illegal message"),
    S(SEC_E_CERT_UNKNOWN, "unknown certificate"),
    S(SEC_E_CERT_EXPIRED, "certificate expired"),
    S(SEC_E_ENCRYPT_FAILURE, "encryption failed"),
    S(SEC_E_DECRYPT_FAILURE, "decryption failed"),
    S(SEC_E_ALGORITHM_MISMATCH, "no common algorithm"),
    S(SEC_E_SECURITY_QOS_FAILED, "security quality of service failed"),
    S(SEC_E_UNFINISHED_CONTEXT_DELETED, "unfinished context deleted"),
    S(SEC_E_NO_TGT_REPLY, "no TGT reply"),
    S(SEC_E_NO_IP_ADDRESSES, "no IP addresses"),
    S(SEC_E_WRONG_CREDENTIAL_HANDLE, "wrong credential handle"),
    S(SEC_E_CRYPTO_SYSTEM_INVALID, "crypto system invalid"),
    S(SEC_E_MAX_REFERRALS_EXCEEDED, "maximum referrals exceeded"),
    S(SEC_E_MUST_BE_KDC, "must be KDC"),
    S(SEC_E_STRONG_CRYPTO_NOT_SUPPORTED, "strong crypto not supported"),
    S(SEC_E_TOO_MANY_PRINCIPALS, "too many principals"),
    S(SEC_E_NO_PA_DATA, "no pre-authentication data"),
    S(SEC_E_PKINIT_NAME_MISMATCH, "PKINIT name mismatch"),
    S(SEC_E_SMARTCARD_LOGON_REQUIRED, "smart card logon required"),
    S(SEC_E_SHUTDOWN_IN_PROGRESS, "shutdown in progress"),
    S(SEC_E_KDC_INVALID_REQUEST, "invalid KDC request"),
    S(SEC_E_KDC_UNABLE_TO_REFER, "KDC unable to refer"),
    S(SEC_E_KDC_UNKNOWN_ETYPE, "unknown encryption type"),
    S(SEC_E_UNSUPPORTED_PREAUTH, "unsupported pre-authentication"),
    S(SEC_E_DELEGATION_REQUIRED, "delegation required"),
    S(SEC_E_BAD_BINDINGS, "channel bindings do not match"),
    S(SEC_E_MULTIPLE_ACCOUNTS, "multiple accounts"),
    S(SEC_E_NO_KERB_KEY, "no Kerberos key"),
    S(SEC_E_CERT_WRONG_USAGE, "certificate wrong usage"),
    S(SEC_E_DOWNGRADE_DETECTED, "downgrade detected"),
    S(SEC_E_SMARTCARD_CERT_REVOKED, "smart card certificate revoked"),
    S(SEC_E_ISSUING_CA_UNTRUSTED, "issuing CA untrusted"),
    S(SEC_E_REVOCATION_OFFLINE_C, "revocation offline"),
    S(SEC_E_PKINIT_CLIENT_FAILURE, "PKINIT client failure"),
    S(SEC_E_SMARTCARD_CERT_EXPIRED, "smart card certificate expired"),
    S(SEC_E_NO_S4U_PROT_SUPPORT, "no S4U protocol support"),
    S(SEC_E_CROSSREALM_DELEGATION_FAILURE, "cross-realm delegation failure"),
    S(SEC_E_REVOCATION_OFFLINE_KDC, "revocation offline (KDC)"),
    S(SEC_E_ISSUING_CA_UNTRUSTED_KDC, "issuing CA untrusted (KDC)"),
    S(SEC_E_KDC_CERT_EXPIRED, "KDC certificate expired"),
    S(SEC_E_KDC_CERT_REVOKED, "KDC certificate revoked"),
    S(SEC_E_INVALID_PARAMETER, "invalid parameter"),
    S(SEC_E_DELEGATION_POLICY, "delegation policy"),
    S(SEC_E_POLICY_NLTM_ONLY, "policy allows NTLM only"),
    S(SEC_E_NO_CONTEXT, "no context"),
    S(SEC_E_PKU2U_CERT_FAILURE, "PKU2U certificate failure"),
    S(SEC_E_MUTUAL_AUTH_FAILED, "mutual authentication failed"),
    S(SEC_E_APPLICATION_PROTOCOL_MISMATCH, "application protocol mismatch"),
    S(SEC_I_NO_LSA_CONTEXT, "no LSA context"),
    S(SEC_I_CONTEXT_EXPIRED, "context expired"),
    S(SEC_I_NO_RENEGOTIATION, "no renegotiation"),
    S(SEC_I_SIGNATURE_NEEDED, "signature needed"),
    S(SEC_I_MESSAGE_FRAGMENT, "message fragment"),
    S(SEC_I_CONTINUE_NEEDED_MESSAGE_OK, "continue needed, message OK"),
};
#undef S

const char *sspx_status_name(SECURITY_STATUS status)
{
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
        if (statuses[i].st == status)
            return statuses[i].name;
    return NULL;
}

const char *sspx_status_message(SECURITY_STATUS status)
{
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
        if (statuses[i].st == status)
            return statuses[i].msg;
    return "unknown status";
}
