/*
 * sspx/sspi.h - the Windows-compatible SSPI surface of sspx.
 *
 * Source written against the Windows SDK's <sspi.h>, <security.h>,
 * <winerror.h> (SEC_* codes) and the SSPI parts of <schannel.h> should
 * compile against this header unchanged: names, constant values, struct
 * layouts and integer widths follow the SDK.  Windows is LLP64, so its
 * "long" is 32 bits; here LONG/ULONG are int32_t/uint32_t, never long.
 *
 * Character sets: the ...A entry points take UTF-8, the ...W entry points
 * take UTF-16 code units (SEC_WCHAR is unsigned short, not wchar_t).  The
 * unsuffixed names map to the A forms unless UNICODE is defined.
 *
 * SSPX_BUILDING_LIBRARY (defined only by the library's own sources)
 * suppresses the unsuffixed #define mappings: the library exports real
 * symbols under some of those plain names, declared below with the A
 * signature, and the type aliases become typedefs of the A forms.
 */
#ifndef SSPX_SSPI_H
#define SSPX_SSPI_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Helpers private to this header.
 * --------------------------------------------------------------------- */

#if defined(__GNUC__) || defined(__clang__)
#define SSPX_EXTENSION __extension__
#else
#define SSPX_EXTENSION
#endif

#if defined(__cplusplus) && __cplusplus >= 201103L
#define SSPX_STATIC_ASSERT(expr, msg) static_assert(expr, msg)
#elif !defined(__cplusplus) && defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define SSPX_STATIC_ASSERT(expr, msg) _Static_assert(expr, msg)
#else
#define SSPX_STATIC_ASSERT_JOIN2_(a, b) a##b
#define SSPX_STATIC_ASSERT_JOIN_(a, b)  SSPX_STATIC_ASSERT_JOIN2_(a, b)
#define SSPX_STATIC_ASSERT(expr, msg) \
    typedef char SSPX_STATIC_ASSERT_JOIN_(sspx_static_assert_line_, __LINE__)[(expr) ? 1 : -1]
#endif

/* UTF-16 string literals typed as SEC_WCHAR; L"" would give 32-bit wchar_t.
 * C99 and C++98 have no UTF-16 literals, so the wide package-name macros
 * exist only from C11 / C++11 on. */
#if defined(__cplusplus) && __cplusplus >= 201103L
#define SSPX_UTF16_LITERAL(s) ((const SEC_WCHAR *)(u"" s))
#elif !defined(__cplusplus) && defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define SSPX_UTF16_LITERAL(s) (u"" s)
#endif

/* ------------------------------------------------------------------------
 * Base Windows types (winnt.h / basetsd.h / wincrypt.h widths).
 * Define SSPX_HAVE_WIN_TYPES beforehand if another header already
 * provides them with the same widths.
 * --------------------------------------------------------------------- */
#ifndef SSPX_HAVE_WIN_TYPES
#define SSPX_HAVE_WIN_TYPES 1

typedef char CHAR;
typedef unsigned char UCHAR, *PUCHAR;
typedef unsigned char BYTE, *PBYTE;
typedef unsigned char BOOLEAN, *PBOOLEAN;
typedef short SHORT;
typedef unsigned short USHORT, *PUSHORT;
typedef unsigned short WORD, *PWORD;
typedef unsigned short WCHAR;
typedef int32_t LONG, *PLONG;
typedef uint32_t ULONG, *PULONG;
typedef uint32_t DWORD, *PDWORD;
typedef int64_t LONGLONG;
typedef uint64_t ULONGLONG;
typedef intptr_t INT_PTR, LONG_PTR;
typedef uintptr_t UINT_PTR, ULONG_PTR, *PULONG_PTR;
typedef void *PVOID;
typedef void *HANDLE, **PHANDLE;
typedef char *LPSTR, *PSTR;
typedef const char *LPCSTR, *PCSTR;
typedef WCHAR *LPWSTR, *PWSTR;
typedef const WCHAR *LPCWSTR, *PCWSTR;
typedef unsigned int ALG_ID;

typedef union _LARGE_INTEGER {
    SSPX_EXTENSION struct {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        LONG HighPart;
        ULONG LowPart;
#else
        ULONG LowPart;
        LONG HighPart;
#endif
    };
    struct {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        LONG HighPart;
        ULONG LowPart;
#else
        ULONG LowPart;
        LONG HighPart;
#endif
    } u;
    LONGLONG QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER;

#endif /* SSPX_HAVE_WIN_TYPES */

#ifndef ANYSIZE_ARRAY
#define ANYSIZE_ARRAY 1
#endif

/* ------------------------------------------------------------------------
 * sspi.h: basic types
 * --------------------------------------------------------------------- */

/* Code written for the SDK must define SECURITY_WIN32 before including
 * sspi.h; here user mode is the only mode. */
#ifndef ISSP_LEVEL
#define ISSP_LEVEL 32
#endif
#ifndef ISSP_MODE
#define ISSP_MODE 1
#endif

#define SEC_FAR
#define __SEC_FAR

typedef WCHAR SEC_WCHAR;
typedef CHAR SEC_CHAR;

#ifndef __SECSTATUS_DEFINED__
#define __SECSTATUS_DEFINED__
typedef LONG SECURITY_STATUS;
#endif

#if defined(UNICODE) && !defined(SSPX_BUILDING_LIBRARY)
typedef SEC_WCHAR *SECURITY_PSTR;
typedef const SEC_WCHAR *SECURITY_PCSTR;
#else
typedef SEC_CHAR *SECURITY_PSTR;
typedef const SEC_CHAR *SECURITY_PCSTR;
#endif

#ifndef __SECHANDLE_DEFINED__
#define __SECHANDLE_DEFINED__
typedef struct _SecHandle {
    ULONG_PTR dwLower;
    ULONG_PTR dwUpper;
} SecHandle, *PSecHandle;
#endif

/* The SDK's version carries a trailing ';'; this one is an expression so
 * that it is safe inside an unbraced if/else. */
#define SecInvalidateHandle(x) \
    (((PSecHandle)(x))->dwLower = ((PSecHandle)(x))->dwUpper = ((ULONG_PTR)((INT_PTR)-1)))

#define SecIsValidHandle(x)                                        \
    ((((PSecHandle)(x))->dwLower != ((ULONG_PTR)((INT_PTR)-1))) && \
     (((PSecHandle)(x))->dwUpper != ((ULONG_PTR)((INT_PTR)-1))))

#define SEC_DELETED_HANDLE ((ULONG_PTR)(-2))

typedef SecHandle CredHandle;
typedef PSecHandle PCredHandle;
typedef SecHandle CtxtHandle;
typedef PSecHandle PCtxtHandle;

/* 100 ns units since 1601-01-01 UTC, as a Windows FILETIME. */
typedef LARGE_INTEGER SECURITY_INTEGER, *PSECURITY_INTEGER;
typedef SECURITY_INTEGER TimeStamp;
typedef SECURITY_INTEGER *PTimeStamp;

typedef struct _SECURITY_STRING {
    unsigned short Length;
    unsigned short MaximumLength;
    unsigned short *Buffer;
} SECURITY_STRING, *PSECURITY_STRING;

#define SEC_SUCCESS(Status) ((Status) >= 0)

/* ------------------------------------------------------------------------
 * winerror.h: SSPI status codes (facility 9, FACILITY_SECURITY)
 * --------------------------------------------------------------------- */
#define SEC_E_OK                            ((SECURITY_STATUS)0x00000000L)
#define SEC_E_INSUFFICIENT_MEMORY           ((SECURITY_STATUS)0x80090300L)
#define SEC_E_INVALID_HANDLE                ((SECURITY_STATUS)0x80090301L)
#define SEC_E_UNSUPPORTED_FUNCTION          ((SECURITY_STATUS)0x80090302L)
#define SEC_E_TARGET_UNKNOWN                ((SECURITY_STATUS)0x80090303L)
#define SEC_E_INTERNAL_ERROR                ((SECURITY_STATUS)0x80090304L)
#define SEC_E_SECPKG_NOT_FOUND              ((SECURITY_STATUS)0x80090305L)
#define SEC_E_NOT_OWNER                     ((SECURITY_STATUS)0x80090306L)
#define SEC_E_CANNOT_INSTALL                ((SECURITY_STATUS)0x80090307L)
#define SEC_E_INVALID_TOKEN                 ((SECURITY_STATUS)0x80090308L)
#define SEC_E_CANNOT_PACK                   ((SECURITY_STATUS)0x80090309L)
#define SEC_E_QOP_NOT_SUPPORTED             ((SECURITY_STATUS)0x8009030AL)
#define SEC_E_NO_IMPERSONATION              ((SECURITY_STATUS)0x8009030BL)
#define SEC_E_LOGON_DENIED                  ((SECURITY_STATUS)0x8009030CL)
#define SEC_E_UNKNOWN_CREDENTIALS           ((SECURITY_STATUS)0x8009030DL)
#define SEC_E_NO_CREDENTIALS                ((SECURITY_STATUS)0x8009030EL)
#define SEC_E_MESSAGE_ALTERED               ((SECURITY_STATUS)0x8009030FL)
#define SEC_E_OUT_OF_SEQUENCE               ((SECURITY_STATUS)0x80090310L)
#define SEC_E_NO_AUTHENTICATING_AUTHORITY   ((SECURITY_STATUS)0x80090311L)
#define SEC_I_CONTINUE_NEEDED               ((SECURITY_STATUS)0x00090312L)
#define SEC_I_COMPLETE_NEEDED               ((SECURITY_STATUS)0x00090313L)
#define SEC_I_COMPLETE_AND_CONTINUE         ((SECURITY_STATUS)0x00090314L)
#define SEC_I_LOCAL_LOGON                   ((SECURITY_STATUS)0x00090315L)
#define SEC_I_GENERIC_EXTENSION_RECEIVED    ((SECURITY_STATUS)0x00090316L)
#define SEC_E_BAD_PKGID                     ((SECURITY_STATUS)0x80090316L)
#define SEC_E_CONTEXT_EXPIRED               ((SECURITY_STATUS)0x80090317L)
#define SEC_I_CONTEXT_EXPIRED               ((SECURITY_STATUS)0x00090317L)
#define SEC_E_INCOMPLETE_MESSAGE            ((SECURITY_STATUS)0x80090318L)
#define SEC_E_INCOMPLETE_CREDENTIALS        ((SECURITY_STATUS)0x80090320L)
#define SEC_E_BUFFER_TOO_SMALL              ((SECURITY_STATUS)0x80090321L)
#define SEC_I_INCOMPLETE_CREDENTIALS        ((SECURITY_STATUS)0x00090320L)
#define SEC_I_RENEGOTIATE                   ((SECURITY_STATUS)0x00090321L)
#define SEC_E_WRONG_PRINCIPAL               ((SECURITY_STATUS)0x80090322L)
#define SEC_I_NO_LSA_CONTEXT                ((SECURITY_STATUS)0x00090323L)
#define SEC_E_TIME_SKEW                     ((SECURITY_STATUS)0x80090324L)
#define SEC_E_UNTRUSTED_ROOT                ((SECURITY_STATUS)0x80090325L)
#define SEC_E_ILLEGAL_MESSAGE               ((SECURITY_STATUS)0x80090326L)
#define SEC_E_CERT_UNKNOWN                  ((SECURITY_STATUS)0x80090327L)
#define SEC_E_CERT_EXPIRED                  ((SECURITY_STATUS)0x80090328L)
#define SEC_E_ENCRYPT_FAILURE               ((SECURITY_STATUS)0x80090329L)
#define SEC_E_DECRYPT_FAILURE               ((SECURITY_STATUS)0x80090330L)
#define SEC_E_ALGORITHM_MISMATCH            ((SECURITY_STATUS)0x80090331L)
#define SEC_E_SECURITY_QOS_FAILED           ((SECURITY_STATUS)0x80090332L)
#define SEC_E_UNFINISHED_CONTEXT_DELETED    ((SECURITY_STATUS)0x80090333L)
#define SEC_E_NO_TGT_REPLY                  ((SECURITY_STATUS)0x80090334L)
#define SEC_E_NO_IP_ADDRESSES               ((SECURITY_STATUS)0x80090335L)
#define SEC_E_WRONG_CREDENTIAL_HANDLE       ((SECURITY_STATUS)0x80090336L)
#define SEC_E_CRYPTO_SYSTEM_INVALID         ((SECURITY_STATUS)0x80090337L)
#define SEC_E_MAX_REFERRALS_EXCEEDED        ((SECURITY_STATUS)0x80090338L)
#define SEC_E_MUST_BE_KDC                   ((SECURITY_STATUS)0x80090339L)
#define SEC_E_STRONG_CRYPTO_NOT_SUPPORTED   ((SECURITY_STATUS)0x8009033AL)
#define SEC_E_TOO_MANY_PRINCIPALS           ((SECURITY_STATUS)0x8009033BL)
#define SEC_E_NO_PA_DATA                    ((SECURITY_STATUS)0x8009033CL)
#define SEC_E_PKINIT_NAME_MISMATCH          ((SECURITY_STATUS)0x8009033DL)
#define SEC_E_SMARTCARD_LOGON_REQUIRED      ((SECURITY_STATUS)0x8009033EL)
#define SEC_E_SHUTDOWN_IN_PROGRESS          ((SECURITY_STATUS)0x8009033FL)
#define SEC_E_KDC_INVALID_REQUEST           ((SECURITY_STATUS)0x80090340L)
#define SEC_E_KDC_UNABLE_TO_REFER           ((SECURITY_STATUS)0x80090341L)
#define SEC_E_KDC_UNKNOWN_ETYPE             ((SECURITY_STATUS)0x80090342L)
#define SEC_E_UNSUPPORTED_PREAUTH           ((SECURITY_STATUS)0x80090343L)
#define SEC_E_DELEGATION_REQUIRED           ((SECURITY_STATUS)0x80090345L)
#define SEC_E_BAD_BINDINGS                  ((SECURITY_STATUS)0x80090346L)
#define SEC_E_MULTIPLE_ACCOUNTS             ((SECURITY_STATUS)0x80090347L)
#define SEC_E_NO_KERB_KEY                   ((SECURITY_STATUS)0x80090348L)
#define SEC_E_CERT_WRONG_USAGE              ((SECURITY_STATUS)0x80090349L)
#define SEC_E_DOWNGRADE_DETECTED            ((SECURITY_STATUS)0x80090350L)
#define SEC_E_SMARTCARD_CERT_REVOKED        ((SECURITY_STATUS)0x80090351L)
#define SEC_E_ISSUING_CA_UNTRUSTED          ((SECURITY_STATUS)0x80090352L)
#define SEC_E_REVOCATION_OFFLINE_C          ((SECURITY_STATUS)0x80090353L)
#define SEC_E_PKINIT_CLIENT_FAILURE         ((SECURITY_STATUS)0x80090354L)
#define SEC_E_SMARTCARD_CERT_EXPIRED        ((SECURITY_STATUS)0x80090355L)
#define SEC_E_NO_S4U_PROT_SUPPORT           ((SECURITY_STATUS)0x80090356L)
#define SEC_E_CROSSREALM_DELEGATION_FAILURE ((SECURITY_STATUS)0x80090357L)
#define SEC_E_REVOCATION_OFFLINE_KDC        ((SECURITY_STATUS)0x80090358L)
#define SEC_E_ISSUING_CA_UNTRUSTED_KDC      ((SECURITY_STATUS)0x80090359L)
#define SEC_E_KDC_CERT_EXPIRED              ((SECURITY_STATUS)0x8009035AL)
#define SEC_E_KDC_CERT_REVOKED              ((SECURITY_STATUS)0x8009035BL)
#define SEC_I_SIGNATURE_NEEDED              ((SECURITY_STATUS)0x0009035CL)
#define SEC_E_INVALID_PARAMETER             ((SECURITY_STATUS)0x8009035DL)
#define SEC_E_DELEGATION_POLICY             ((SECURITY_STATUS)0x8009035EL)
#define SEC_E_POLICY_NLTM_ONLY              ((SECURITY_STATUS)0x8009035FL)
#define SEC_I_NO_RENEGOTIATION              ((SECURITY_STATUS)0x00090360L)
#define SEC_E_NO_CONTEXT                    ((SECURITY_STATUS)0x80090361L)
#define SEC_E_PKU2U_CERT_FAILURE            ((SECURITY_STATUS)0x80090362L)
#define SEC_E_MUTUAL_AUTH_FAILED            ((SECURITY_STATUS)0x80090363L)
#define SEC_I_MESSAGE_FRAGMENT              ((SECURITY_STATUS)0x00090364L)
#define SEC_E_ONLY_HTTPS_ALLOWED            ((SECURITY_STATUS)0x80090365L)
#define SEC_I_CONTINUE_NEEDED_MESSAGE_OK    ((SECURITY_STATUS)0x00090366L)
#define SEC_E_APPLICATION_PROTOCOL_MISMATCH ((SECURITY_STATUS)0x80090367L)
#define SEC_I_ASYNC_CALL_PENDING            ((SECURITY_STATUS)0x00090368L)
#define SEC_E_INVALID_UPN_NAME              ((SECURITY_STATUS)0x80090369L)
#define SEC_E_EXT_BUFFER_TOO_SMALL          ((SECURITY_STATUS)0x8009036AL)
#define SEC_E_INSUFFICIENT_BUFFERS          ((SECURITY_STATUS)0x8009036BL)

/* Older spellings the SDK keeps as aliases. */
#define SEC_E_NO_SPM        SEC_E_INTERNAL_ERROR
#define SEC_E_NOT_SUPPORTED SEC_E_UNSUPPORTED_FUNCTION

/* ------------------------------------------------------------------------
 * sspi.h: security packages
 * --------------------------------------------------------------------- */
typedef struct _SecPkgInfoW {
    ULONG fCapabilities;
    USHORT wVersion;
    USHORT wRPCID;
    ULONG cbMaxToken;
    SEC_WCHAR *Name;
    SEC_WCHAR *Comment;
} SecPkgInfoW, *PSecPkgInfoW;

typedef struct _SecPkgInfoA {
    ULONG fCapabilities;
    USHORT wVersion;
    USHORT wRPCID;
    ULONG cbMaxToken;
    SEC_CHAR *Name;
    SEC_CHAR *Comment;
} SecPkgInfoA, *PSecPkgInfoA;

/* SecPkgInfo.fCapabilities */
#define SECPKG_FLAG_INTEGRITY                    0x00000001
#define SECPKG_FLAG_PRIVACY                      0x00000002
#define SECPKG_FLAG_TOKEN_ONLY                   0x00000004
#define SECPKG_FLAG_DATAGRAM                     0x00000008
#define SECPKG_FLAG_CONNECTION                   0x00000010
#define SECPKG_FLAG_MULTI_REQUIRED               0x00000020
#define SECPKG_FLAG_CLIENT_ONLY                  0x00000040
#define SECPKG_FLAG_EXTENDED_ERROR               0x00000080
#define SECPKG_FLAG_IMPERSONATION                0x00000100
#define SECPKG_FLAG_ACCEPT_WIN32_NAME            0x00000200
#define SECPKG_FLAG_STREAM                       0x00000400
#define SECPKG_FLAG_NEGOTIABLE                   0x00000800
#define SECPKG_FLAG_GSS_COMPATIBLE               0x00001000
#define SECPKG_FLAG_LOGON                        0x00002000
#define SECPKG_FLAG_ASCII_BUFFERS                0x00004000
#define SECPKG_FLAG_FRAGMENT                     0x00008000
#define SECPKG_FLAG_MUTUAL_AUTH                  0x00010000
#define SECPKG_FLAG_DELEGATION                   0x00020000
#define SECPKG_FLAG_READONLY_WITH_CHECKSUM       0x00040000
#define SECPKG_FLAG_RESTRICTED_TOKENS            0x00080000
#define SECPKG_FLAG_NEGO_EXTENDER                0x00100000
#define SECPKG_FLAG_NEGOTIABLE2                  0x00200000
#define SECPKG_FLAG_APPCONTAINER_PASSTHROUGH     0x00400000
#define SECPKG_FLAG_APPCONTAINER_CHECKS          0x00800000
#define SECPKG_FLAG_CREDENTIAL_ISOLATION_ENABLED 0x01000000
#define SECPKG_FLAG_APPLY_LOOPBACK               0x02000000

/* SecPkgInfo.wRPCID of a package that has no DCE RPC identifier. */
#define SECPKG_ID_NONE 0xFFFF

#define SECPKG_CALLFLAGS_APPCONTAINER             0x00000001
#define SECPKG_CALLFLAGS_APPCONTAINER_AUTHCAPABLE 0x00000002
#define SECPKG_CALLFLAGS_FORCE_SUPPLIED           0x00000004
#define SECPKG_CALLFLAGS_APPCONTAINER_UPNCAPABLE  0x00000008

/* ------------------------------------------------------------------------
 * sspi.h: message buffers
 * --------------------------------------------------------------------- */
typedef struct _SecBuffer {
    ULONG cbBuffer;
    ULONG BufferType;
    void *pvBuffer;
} SecBuffer, *PSecBuffer;

typedef struct _SecBufferDesc {
    ULONG ulVersion;
    ULONG cBuffers;
    PSecBuffer pBuffers;
} SecBufferDesc, *PSecBufferDesc;

#define SECBUFFER_VERSION 0

/* SecBuffer.BufferType, low bits */
#define SECBUFFER_EMPTY                           0
#define SECBUFFER_DATA                            1
#define SECBUFFER_TOKEN                           2
#define SECBUFFER_PKG_PARAMS                      3
#define SECBUFFER_MISSING                         4
#define SECBUFFER_EXTRA                           5
#define SECBUFFER_STREAM_TRAILER                  6
#define SECBUFFER_STREAM_HEADER                   7
#define SECBUFFER_NEGOTIATION_INFO                8
#define SECBUFFER_PADDING                         9
#define SECBUFFER_STREAM                          10
#define SECBUFFER_MECHLIST                        11
#define SECBUFFER_MECHLIST_SIGNATURE              12
#define SECBUFFER_TARGET                          13
#define SECBUFFER_CHANNEL_BINDINGS                14
#define SECBUFFER_CHANGE_PASS_RESPONSE            15
#define SECBUFFER_TARGET_HOST                     16
#define SECBUFFER_ALERT                           17
#define SECBUFFER_APPLICATION_PROTOCOLS           18
#define SECBUFFER_SRTP_PROTECTION_PROFILES        19
#define SECBUFFER_SRTP_MASTER_KEY_IDENTIFIER      20
#define SECBUFFER_TOKEN_BINDING                   21
#define SECBUFFER_PRESHARED_KEY                   22
#define SECBUFFER_PRESHARED_KEY_IDENTITY          23
#define SECBUFFER_DTLS_MTU                        24
#define SECBUFFER_SEND_GENERIC_TLS_EXTENSION      25
#define SECBUFFER_SUBSCRIBE_GENERIC_TLS_EXTENSION 26
#define SECBUFFER_FLAGS                           27
#define SECBUFFER_TRAFFIC_SECRETS                 28
#define SECBUFFER_CERTIFICATE_REQUEST_CONTEXT     29
#define SECBUFFER_CHANNEL_BINDINGS_RESULT         30

/* SecBuffer.BufferType, attribute bits OR-ed onto the type */
#define SECBUFFER_ATTRMASK               0xF0000000
#define SECBUFFER_READONLY               0x80000000
#define SECBUFFER_READONLY_WITH_CHECKSUM 0x10000000
#define SECBUFFER_RESERVED               0x60000000

typedef struct _SEC_NEGOTIATION_INFO {
    ULONG Size;
    ULONG NameLength;
    SEC_WCHAR *Name;
    void *Reserved;
} SEC_NEGOTIATION_INFO, *PSEC_NEGOTIATION_INFO;

/* Header of a SECBUFFER_CHANNEL_BINDINGS buffer; offsets are from its
 * start. */
typedef struct _SEC_CHANNEL_BINDINGS {
    ULONG dwInitiatorAddrType;
    ULONG cbInitiatorLength;
    ULONG dwInitiatorOffset;
    ULONG dwAcceptorAddrType;
    ULONG cbAcceptorLength;
    ULONG dwAcceptorOffset;
    ULONG cbApplicationDataLength;
    ULONG dwApplicationDataOffset;
} SEC_CHANNEL_BINDINGS, *PSEC_CHANNEL_BINDINGS;

/* The SDK spells the magic as the multi-character constant 'XEBC'. */
#define SEC_CHANNEL_BINDINGS_EX_MAGIC 0x58454243

typedef struct _SEC_CHANNEL_BINDINGS_EX {
    ULONG magicNumber;
    ULONG flags;
    ULONG cbHeaderLength;
    ULONG cbStructureLength;
    ULONG dwInitiatorAddrType;
    ULONG cbInitiatorLength;
    ULONG dwInitiatorOffset;
    ULONG dwAcceptorAddrType;
    ULONG cbAcceptorLength;
    ULONG dwAcceptorOffset;
    ULONG cbApplicationDataLength;
    ULONG dwApplicationDataOffset;
} SEC_CHANNEL_BINDINGS_EX, *PSEC_CHANNEL_BINDINGS_EX;

#define SEC_CHANNEL_BINDINGS_AUDIT_BINDINGS 0x1
#define SEC_CHANNEL_BINDINGS_VALID_FLAGS    SEC_CHANNEL_BINDINGS_AUDIT_BINDINGS

typedef struct _SEC_CHANNEL_BINDINGS_RESULT {
    ULONG flags;
} SEC_CHANNEL_BINDINGS_RESULT, *PSEC_CHANNEL_BINDINGS_RESULT;

#define SEC_CHANNEL_BINDINGS_RESULT_CLIENT_SUPPORT    0x1
#define SEC_CHANNEL_BINDINGS_RESULT_ABSENT            0x2
#define SEC_CHANNEL_BINDINGS_RESULT_NOTVALID_MISMATCH 0x4
#define SEC_CHANNEL_BINDINGS_RESULT_NOTVALID_MISSING  0x8
#define SEC_CHANNEL_BINDINGS_RESULT_VALID_MATCHED     0x10
#define SEC_CHANNEL_BINDINGS_RESULT_VALID_PROXY       0x20
#define SEC_CHANNEL_BINDINGS_RESULT_VALID_MISSING     0x40
#define SEC_CHANNEL_BINDINGS_RESULT_VALID                                                  \
    (SEC_CHANNEL_BINDINGS_RESULT_VALID_MATCHED | SEC_CHANNEL_BINDINGS_RESULT_VALID_PROXY | \
     SEC_CHANNEL_BINDINGS_RESULT_VALID_MISSING)
#define SEC_CHANNEL_BINDINGS_RESULT_NOTVALID \
    (SEC_CHANNEL_BINDINGS_RESULT_NOTVALID_MISMATCH | SEC_CHANNEL_BINDINGS_RESULT_NOTVALID_MISSING)

/* Payloads of the TLS-specific buffer types. */
typedef enum _SEC_APPLICATION_PROTOCOL_NEGOTIATION_EXT {
    SecApplicationProtocolNegotiationExt_None,
    SecApplicationProtocolNegotiationExt_NPN,
    SecApplicationProtocolNegotiationExt_ALPN
} SEC_APPLICATION_PROTOCOL_NEGOTIATION_EXT,
    *PSEC_APPLICATION_PROTOCOL_NEGOTIATION_EXT;

typedef struct _SEC_APPLICATION_PROTOCOL_LIST {
    SEC_APPLICATION_PROTOCOL_NEGOTIATION_EXT ProtoNegoExt;
    unsigned short ProtocolListSize;
    unsigned char ProtocolList[ANYSIZE_ARRAY];
} SEC_APPLICATION_PROTOCOL_LIST, *PSEC_APPLICATION_PROTOCOL_LIST;

typedef struct _SEC_APPLICATION_PROTOCOLS {
    ULONG ProtocolListsSize;
    SEC_APPLICATION_PROTOCOL_LIST ProtocolLists[ANYSIZE_ARRAY];
} SEC_APPLICATION_PROTOCOLS, *PSEC_APPLICATION_PROTOCOLS;

typedef struct _SEC_SRTP_PROTECTION_PROFILES {
    unsigned short ProfilesSize;
    unsigned short ProfilesList[ANYSIZE_ARRAY];
} SEC_SRTP_PROTECTION_PROFILES, *PSEC_SRTP_PROTECTION_PROFILES;

typedef struct _SEC_SRTP_MASTER_KEY_IDENTIFIER {
    unsigned char MasterKeyIdentifierSize;
    unsigned char MasterKeyIdentifier[ANYSIZE_ARRAY];
} SEC_SRTP_MASTER_KEY_IDENTIFIER, *PSEC_SRTP_MASTER_KEY_IDENTIFIER;

typedef struct _SEC_TOKEN_BINDING {
    unsigned char MajorVersion;
    unsigned char MinorVersion;
    unsigned short KeyParametersSize;
    unsigned char KeyParameters[ANYSIZE_ARRAY];
} SEC_TOKEN_BINDING, *PSEC_TOKEN_BINDING;

typedef struct _SEC_PRESHAREDKEY {
    unsigned short KeySize;
    unsigned char Key[ANYSIZE_ARRAY];
} SEC_PRESHAREDKEY, *PSEC_PRESHAREDKEY;

typedef struct _SEC_PRESHAREDKEY_IDENTITY {
    unsigned short KeyIdentitySize;
    unsigned char KeyIdentity[ANYSIZE_ARRAY];
} SEC_PRESHAREDKEY_IDENTITY, *PSEC_PRESHAREDKEY_IDENTITY;

typedef struct _SEC_DTLS_MTU {
    unsigned short PathMTU;
} SEC_DTLS_MTU, *PSEC_DTLS_MTU;

typedef struct _SEC_FLAGS {
    ULONGLONG Flags;
} SEC_FLAGS, *PSEC_FLAGS;

typedef struct _SEC_CERTIFICATE_REQUEST_CONTEXT {
    unsigned char cbCertificateRequestContext;
    unsigned char rgCertificateRequestContext[ANYSIZE_ARRAY];
} SEC_CERTIFICATE_REQUEST_CONTEXT, *PSEC_CERTIFICATE_REQUEST_CONTEXT;

typedef enum _SEC_TRAFFIC_SECRET_TYPE {
    SecTrafficSecret_None,
    SecTrafficSecret_Client,
    SecTrafficSecret_Server
} SEC_TRAFFIC_SECRET_TYPE,
    *PSEC_TRAFFIC_SECRET_TYPE;

#define SZ_ALG_MAX_SIZE 64

/* The SDK declares the name arrays as wchar_t, which is 16-bit there. */
typedef struct _SEC_TRAFFIC_SECRETS {
    SEC_WCHAR SymmetricAlgId[SZ_ALG_MAX_SIZE];
    SEC_WCHAR ChainingMode[SZ_ALG_MAX_SIZE];
    SEC_WCHAR HashAlgId[SZ_ALG_MAX_SIZE];
    unsigned short KeySize;
    unsigned short IvSize;
    unsigned short MsgSequenceStart;
    unsigned short MsgSequenceEnd;
    SEC_TRAFFIC_SECRET_TYPE TrafficSecretType;
    unsigned short TrafficSecretSize;
    unsigned char TrafficSecret[ANYSIZE_ARRAY];
} SEC_TRAFFIC_SECRETS, *PSEC_TRAFFIC_SECRETS;

/* TargetDataRep */
#define SECURITY_NATIVE_DREP  0x00000010
#define SECURITY_NETWORK_DREP 0x00000000

/* fCredentialUse */
#define SECPKG_CRED_INBOUND              0x00000001
#define SECPKG_CRED_OUTBOUND             0x00000002
#define SECPKG_CRED_BOTH                 0x00000003
#define SECPKG_CRED_DEFAULT              0x00000004
#define SECPKG_CRED_RESERVED             0xF0000000
#define SECPKG_CRED_AUTOLOGON_RESTRICTED 0x00000010
#define SECPKG_CRED_PROCESS_POLICY_ONLY  0x00000020

/* ------------------------------------------------------------------------
 * sspi.h: context requirement / attribute flags
 * --------------------------------------------------------------------- */

/* InitializeSecurityContext fContextReq; the values above 32 bits exist
 * only for the 64-bit-flag variants of the API. */
#define ISC_REQ_DELEGATE                 0x00000001
#define ISC_REQ_MUTUAL_AUTH              0x00000002
#define ISC_REQ_REPLAY_DETECT            0x00000004
#define ISC_REQ_SEQUENCE_DETECT          0x00000008
#define ISC_REQ_CONFIDENTIALITY          0x00000010
#define ISC_REQ_USE_SESSION_KEY          0x00000020
#define ISC_REQ_PROMPT_FOR_CREDS         0x00000040
#define ISC_REQ_USE_SUPPLIED_CREDS       0x00000080
#define ISC_REQ_ALLOCATE_MEMORY          0x00000100
#define ISC_REQ_USE_DCE_STYLE            0x00000200
#define ISC_REQ_DATAGRAM                 0x00000400
#define ISC_REQ_CONNECTION               0x00000800
#define ISC_REQ_CALL_LEVEL               0x00001000
#define ISC_REQ_FRAGMENT_SUPPLIED        0x00002000
#define ISC_REQ_EXTENDED_ERROR           0x00004000
#define ISC_REQ_STREAM                   0x00008000
#define ISC_REQ_INTEGRITY                0x00010000
#define ISC_REQ_IDENTIFY                 0x00020000
#define ISC_REQ_NULL_SESSION             0x00040000
#define ISC_REQ_MANUAL_CRED_VALIDATION   0x00080000
#define ISC_REQ_RESERVED1                0x00100000
#define ISC_REQ_FRAGMENT_TO_FIT          0x00200000
#define ISC_REQ_FORWARD_CREDENTIALS      0x00400000
#define ISC_REQ_NO_INTEGRITY             0x00800000
#define ISC_REQ_USE_HTTP_STYLE           0x01000000
#define ISC_REQ_UNVERIFIED_TARGET_NAME   0x20000000
#define ISC_REQ_CONFIDENTIALITY_ONLY     0x40000000
#define ISC_REQ_MESSAGES                 0x0000000100000000
#define ISC_REQ_DEFERRED_CRED_VALIDATION 0x0000000200000000
#define ISC_REQ_NO_POST_HANDSHAKE_AUTH   0x0000000400000000

/* InitializeSecurityContext *pfContextAttr */
#define ISC_RET_DELEGATE                 0x00000001
#define ISC_RET_MUTUAL_AUTH              0x00000002
#define ISC_RET_REPLAY_DETECT            0x00000004
#define ISC_RET_SEQUENCE_DETECT          0x00000008
#define ISC_RET_CONFIDENTIALITY          0x00000010
#define ISC_RET_USE_SESSION_KEY          0x00000020
#define ISC_RET_USED_COLLECTED_CREDS     0x00000040
#define ISC_RET_USED_SUPPLIED_CREDS      0x00000080
#define ISC_RET_ALLOCATED_MEMORY         0x00000100
#define ISC_RET_USED_DCE_STYLE           0x00000200
#define ISC_RET_DATAGRAM                 0x00000400
#define ISC_RET_CONNECTION               0x00000800
#define ISC_RET_INTERMEDIATE_RETURN      0x00001000
#define ISC_RET_CALL_LEVEL               0x00002000
#define ISC_RET_EXTENDED_ERROR           0x00004000
#define ISC_RET_STREAM                   0x00008000
#define ISC_RET_INTEGRITY                0x00010000
#define ISC_RET_IDENTIFY                 0x00020000
#define ISC_RET_NULL_SESSION             0x00040000
#define ISC_RET_MANUAL_CRED_VALIDATION   0x00080000
#define ISC_RET_RESERVED1                0x00100000
#define ISC_RET_FRAGMENT_ONLY            0x00200000
#define ISC_RET_FORWARD_CREDENTIALS      0x00400000
#define ISC_RET_USED_HTTP_STYLE          0x01000000
#define ISC_RET_NO_ADDITIONAL_TOKEN      0x02000000
#define ISC_RET_REAUTHENTICATION         0x08000000
#define ISC_RET_CONFIDENTIALITY_ONLY     0x40000000
#define ISC_RET_MESSAGES                 0x0000000100000000
#define ISC_RET_DEFERRED_CRED_VALIDATION 0x0000000200000000
#define ISC_RET_NO_POST_HANDSHAKE_AUTH   0x0000000400000000

/* AcceptSecurityContext fContextReq; note the bit positions differ from
 * ISC_REQ_* from ASC_REQ_EXTENDED_ERROR on. */
#define ASC_REQ_DELEGATE               0x00000001
#define ASC_REQ_MUTUAL_AUTH            0x00000002
#define ASC_REQ_REPLAY_DETECT          0x00000004
#define ASC_REQ_SEQUENCE_DETECT        0x00000008
#define ASC_REQ_CONFIDENTIALITY        0x00000010
#define ASC_REQ_USE_SESSION_KEY        0x00000020
#define ASC_REQ_SESSION_TICKET         0x00000040
#define ASC_REQ_ALLOCATE_MEMORY        0x00000100
#define ASC_REQ_USE_DCE_STYLE          0x00000200
#define ASC_REQ_DATAGRAM               0x00000400
#define ASC_REQ_CONNECTION             0x00000800
#define ASC_REQ_CALL_LEVEL             0x00001000
#define ASC_REQ_FRAGMENT_SUPPLIED      0x00002000
#define ASC_REQ_EXTENDED_ERROR         0x00008000
#define ASC_REQ_STREAM                 0x00010000
#define ASC_REQ_INTEGRITY              0x00020000
#define ASC_REQ_LICENSING              0x00040000
#define ASC_REQ_IDENTIFY               0x00080000
#define ASC_REQ_ALLOW_NULL_SESSION     0x00100000
#define ASC_REQ_ALLOW_NON_USER_LOGONS  0x00200000
#define ASC_REQ_ALLOW_CONTEXT_REPLAY   0x00400000
#define ASC_REQ_FRAGMENT_TO_FIT        0x00800000
#define ASC_REQ_NO_TOKEN               0x01000000
#define ASC_REQ_PROXY_BINDINGS         0x04000000
#define ASC_REQ_ALLOW_MISSING_BINDINGS 0x10000000
#define ASC_REQ_MESSAGES               0x0000000100000000

/* AcceptSecurityContext *pfContextAttr */
#define ASC_RET_DELEGATE              0x00000001
#define ASC_RET_MUTUAL_AUTH           0x00000002
#define ASC_RET_REPLAY_DETECT         0x00000004
#define ASC_RET_SEQUENCE_DETECT       0x00000008
#define ASC_RET_CONFIDENTIALITY       0x00000010
#define ASC_RET_USE_SESSION_KEY       0x00000020
#define ASC_RET_SESSION_TICKET        0x00000040
#define ASC_RET_ALLOCATED_MEMORY      0x00000100
#define ASC_RET_USED_DCE_STYLE        0x00000200
#define ASC_RET_DATAGRAM              0x00000400
#define ASC_RET_CONNECTION            0x00000800
#define ASC_RET_CALL_LEVEL            0x00002000
#define ASC_RET_THIRD_LEG_FAILED      0x00004000
#define ASC_RET_EXTENDED_ERROR        0x00008000
#define ASC_RET_STREAM                0x00010000
#define ASC_RET_INTEGRITY             0x00020000
#define ASC_RET_LICENSING             0x00040000
#define ASC_RET_IDENTIFY              0x00080000
#define ASC_RET_NULL_SESSION          0x00100000
#define ASC_RET_ALLOW_NON_USER_LOGONS 0x00200000
#define ASC_RET_ALLOW_CONTEXT_REPLAY  0x00400000
#define ASC_RET_FRAGMENT_ONLY         0x00800000
#define ASC_RET_NO_TOKEN              0x01000000
#define ASC_RET_NO_ADDITIONAL_TOKEN   0x02000000
#define ASC_RET_MESSAGES              0x0000000100000000

/* ------------------------------------------------------------------------
 * sspi.h: credential attributes (QueryCredentialsAttributes)
 * --------------------------------------------------------------------- */
#define SECPKG_CRED_ATTR_NAMES              1
#define SECPKG_CRED_ATTR_SSI_PROVIDER       2
#define SECPKG_CRED_ATTR_KDC_PROXY_SETTINGS 3
#define SECPKG_CRED_ATTR_CERT               4
#define SECPKG_CRED_ATTR_PAC_BYPASS         5

typedef struct _SecPkgCredentials_NamesW {
    SEC_WCHAR *sUserName;
} SecPkgCredentials_NamesW, *PSecPkgCredentials_NamesW;

typedef struct _SecPkgCredentials_NamesA {
    SEC_CHAR *sUserName;
} SecPkgCredentials_NamesA, *PSecPkgCredentials_NamesA;

typedef struct _SecPkgCredentials_SSIProviderW {
    SEC_WCHAR *sProviderName;
    ULONG ProviderInfoLength;
    char *ProviderInfo;
} SecPkgCredentials_SSIProviderW, *PSecPkgCredentials_SSIProviderW;

typedef struct _SecPkgCredentials_SSIProviderA {
    SEC_CHAR *sProviderName;
    ULONG ProviderInfoLength;
    char *ProviderInfo;
} SecPkgCredentials_SSIProviderA, *PSecPkgCredentials_SSIProviderA;

#define KDC_PROXY_SETTINGS_V1               1
#define KDC_PROXY_SETTINGS_FLAGS_FORCEPROXY 0x1

typedef struct _SecPkgCredentials_KdcProxySettingsW {
    ULONG Version;
    ULONG Flags;
    USHORT ProxyServerOffset;
    USHORT ProxyServerLength;
    USHORT ClientTlsCredOffset;
    USHORT ClientTlsCredLength;
} SecPkgCredentials_KdcProxySettingsW, *PSecPkgCredentials_KdcProxySettingsW;

typedef struct _SecPkgCredentials_Cert {
    ULONG EncodedCertSize;
    unsigned char *EncodedCert;
} SecPkgCredentials_Cert, *PSecPkgCredentials_Cert;

/* ------------------------------------------------------------------------
 * sspi.h: context attributes (QueryContextAttributes ulAttribute)
 * --------------------------------------------------------------------- */
#define SECPKG_ATTR_SIZES                       0
#define SECPKG_ATTR_NAMES                       1
#define SECPKG_ATTR_LIFESPAN                    2
#define SECPKG_ATTR_DCE_INFO                    3
#define SECPKG_ATTR_STREAM_SIZES                4
#define SECPKG_ATTR_KEY_INFO                    5
#define SECPKG_ATTR_AUTHORITY                   6
#define SECPKG_ATTR_PROTO_INFO                  7
#define SECPKG_ATTR_PASSWORD_EXPIRY             8
#define SECPKG_ATTR_SESSION_KEY                 9
#define SECPKG_ATTR_PACKAGE_INFO                10
#define SECPKG_ATTR_USER_FLAGS                  11
#define SECPKG_ATTR_NEGOTIATION_INFO            12
#define SECPKG_ATTR_NATIVE_NAMES                13
#define SECPKG_ATTR_FLAGS                       14
#define SECPKG_ATTR_USE_VALIDATED               15
#define SECPKG_ATTR_CREDENTIAL_NAME             16
#define SECPKG_ATTR_TARGET_INFORMATION          17
#define SECPKG_ATTR_ACCESS_TOKEN                18
#define SECPKG_ATTR_TARGET                      19
#define SECPKG_ATTR_AUTHENTICATION_ID           20
#define SECPKG_ATTR_LOGOFF_TIME                 21
#define SECPKG_ATTR_NEGO_KEYS                   22
#define SECPKG_ATTR_PROMPTING_NEEDED            24
#define SECPKG_ATTR_UNIQUE_BINDINGS             25
#define SECPKG_ATTR_ENDPOINT_BINDINGS           26
#define SECPKG_ATTR_CLIENT_SPECIFIED_TARGET     27
#define SECPKG_ATTR_LAST_CLIENT_TOKEN_STATUS    30
#define SECPKG_ATTR_NEGO_PKG_INFO               31
#define SECPKG_ATTR_NEGO_STATUS                 32
#define SECPKG_ATTR_CONTEXT_DELETED             33
#define SECPKG_ATTR_DTLS_MTU                    34
#define SECPKG_ATTR_DATAGRAM_SIZES              SECPKG_ATTR_STREAM_SIZES
#define SECPKG_ATTR_APPLICATION_PROTOCOL        35
#define SECPKG_ATTR_NEGOTIATED_TLS_EXTENSIONS   36
#define SECPKG_ATTR_IS_LOOPBACK                 37
/* 128 per the SDK header; the generated Windows metadata says 124. */
#define SECPKG_ATTR_SUBJECT_SECURITY_ATTRIBUTES 128

/* SecPkgContext_NegoPackageInfo.PackageMask */
#define SECPKG_ATTR_NEGO_INFO_FLAG_NO_KERBEROS 0x1
#define SECPKG_ATTR_NEGO_INFO_FLAG_NO_NTLM     0x2

typedef struct _SecPkgContext_SubjectAttributes {
    void *AttributeInfo;
} SecPkgContext_SubjectAttributes, *PSecPkgContext_SubjectAttributes;

typedef enum _SECPKG_CRED_CLASS {
    SecPkgCredClass_None = 0,
    SecPkgCredClass_Ephemeral = 10,
    SecPkgCredClass_PersistedGeneric = 20,
    SecPkgCredClass_PersistedSpecific = 30,
    SecPkgCredClass_Explicit = 40
} SECPKG_CRED_CLASS,
    *PSECPKG_CRED_CLASS;

typedef struct _SecPkgContext_CredInfo {
    SECPKG_CRED_CLASS CredClass;
    ULONG IsPromptingNeeded;
} SecPkgContext_CredInfo, *PSecPkgContext_CredInfo;

typedef struct _SecPkgContext_NegoPackageInfo {
    ULONG PackageMask;
} SecPkgContext_NegoPackageInfo, *PSecPkgContext_NegoPackageInfo;

typedef struct _SecPkgContext_NegoStatus {
    ULONG LastStatus;
} SecPkgContext_NegoStatus, *PSecPkgContext_NegoStatus;

typedef struct _SecPkgContext_Sizes {
    ULONG cbMaxToken;
    ULONG cbMaxSignature;
    ULONG cbBlockSize;
    ULONG cbSecurityTrailer;
} SecPkgContext_Sizes, *PSecPkgContext_Sizes;

typedef struct _SecPkgContext_StreamSizes {
    ULONG cbHeader;
    ULONG cbTrailer;
    ULONG cbMaximumMessage;
    ULONG cBuffers;
    ULONG cbBlockSize;
} SecPkgContext_StreamSizes, *PSecPkgContext_StreamSizes;

typedef SecPkgContext_StreamSizes SecPkgContext_DatagramSizes;
typedef PSecPkgContext_StreamSizes PSecPkgContext_DatagramSizes;

typedef struct _SecPkgContext_NamesW {
    SEC_WCHAR *sUserName;
} SecPkgContext_NamesW, *PSecPkgContext_NamesW;

typedef struct _SecPkgContext_NamesA {
    SEC_CHAR *sUserName;
} SecPkgContext_NamesA, *PSecPkgContext_NamesA;

typedef enum _SECPKG_ATTR_LCT_STATUS {
    SecPkgAttrLastClientTokenYes,
    SecPkgAttrLastClientTokenNo,
    SecPkgAttrLastClientTokenMaybe
} SECPKG_ATTR_LCT_STATUS,
    *PSECPKG_ATTR_LCT_STATUS;

typedef struct _SecPkgContext_LastClientTokenStatus {
    SECPKG_ATTR_LCT_STATUS LastClientTokenStatus;
} SecPkgContext_LastClientTokenStatus, *PSecPkgContext_LastClientTokenStatus;

typedef struct _SecPkgContext_Lifespan {
    TimeStamp tsStart;
    TimeStamp tsExpiry;
} SecPkgContext_Lifespan, *PSecPkgContext_Lifespan;

typedef struct _SecPkgContext_DceInfo {
    ULONG AuthzSvc;
    void *pPac;
} SecPkgContext_DceInfo, *PSecPkgContext_DceInfo;

typedef struct _SecPkgContext_KeyInfoA {
    SEC_CHAR *sSignatureAlgorithmName;
    SEC_CHAR *sEncryptAlgorithmName;
    ULONG KeySize;
    ULONG SignatureAlgorithm;
    ULONG EncryptAlgorithm;
} SecPkgContext_KeyInfoA, *PSecPkgContext_KeyInfoA;

typedef struct _SecPkgContext_KeyInfoW {
    SEC_WCHAR *sSignatureAlgorithmName;
    SEC_WCHAR *sEncryptAlgorithmName;
    ULONG KeySize;
    ULONG SignatureAlgorithm;
    ULONG EncryptAlgorithm;
} SecPkgContext_KeyInfoW, *PSecPkgContext_KeyInfoW;

typedef struct _SecPkgContext_AuthorityA {
    SEC_CHAR *sAuthorityName;
} SecPkgContext_AuthorityA, *PSecPkgContext_AuthorityA;

typedef struct _SecPkgContext_AuthorityW {
    SEC_WCHAR *sAuthorityName;
} SecPkgContext_AuthorityW, *PSecPkgContext_AuthorityW;

typedef struct _SecPkgContext_ProtoInfoA {
    SEC_CHAR *sProtocolName;
    ULONG majorVersion;
    ULONG minorVersion;
} SecPkgContext_ProtoInfoA, *PSecPkgContext_ProtoInfoA;

typedef struct _SecPkgContext_ProtoInfoW {
    SEC_WCHAR *sProtocolName;
    ULONG majorVersion;
    ULONG minorVersion;
} SecPkgContext_ProtoInfoW, *PSecPkgContext_ProtoInfoW;

typedef struct _SecPkgContext_PasswordExpiry {
    TimeStamp tsPasswordExpires;
} SecPkgContext_PasswordExpiry, *PSecPkgContext_PasswordExpiry;

typedef struct _SecPkgContext_LogoffTime {
    TimeStamp tsLogoffTime;
} SecPkgContext_LogoffTime, *PSecPkgContext_LogoffTime;

typedef struct _SecPkgContext_SessionKey {
    ULONG SessionKeyLength;
    unsigned char *SessionKey;
} SecPkgContext_SessionKey, *PSecPkgContext_SessionKey;

typedef struct _SecPkgContext_NegoKeys {
    ULONG KeyType;
    unsigned short KeyLength;
    unsigned char *KeyValue;
    ULONG VerifyKeyType;
    unsigned short VerifyKeyLength;
    unsigned char *VerifyKeyValue;
} SecPkgContext_NegoKeys, *PSecPkgContext_NegoKeys;

typedef struct _SecPkgContext_PackageInfoW {
    PSecPkgInfoW PackageInfo;
} SecPkgContext_PackageInfoW, *PSecPkgContext_PackageInfoW;

typedef struct _SecPkgContext_PackageInfoA {
    PSecPkgInfoA PackageInfo;
} SecPkgContext_PackageInfoA, *PSecPkgContext_PackageInfoA;

typedef struct _SecPkgContext_UserFlags {
    ULONG UserFlags;
} SecPkgContext_UserFlags, *PSecPkgContext_UserFlags;

typedef struct _SecPkgContext_Flags {
    ULONG Flags;
} SecPkgContext_Flags, *PSecPkgContext_Flags;

typedef struct _SecPkgContext_NegotiationInfoA {
    PSecPkgInfoA PackageInfo;
    ULONG NegotiationState;
} SecPkgContext_NegotiationInfoA, *PSecPkgContext_NegotiationInfoA;

typedef struct _SecPkgContext_NegotiationInfoW {
    PSecPkgInfoW PackageInfo;
    ULONG NegotiationState;
} SecPkgContext_NegotiationInfoW, *PSecPkgContext_NegotiationInfoW;

/* SecPkgContext_NegotiationInfo.NegotiationState */
#define SECPKG_NEGOTIATION_COMPLETE      0
#define SECPKG_NEGOTIATION_OPTIMISTIC    1
#define SECPKG_NEGOTIATION_IN_PROGRESS   2
#define SECPKG_NEGOTIATION_DIRECT        3
#define SECPKG_NEGOTIATION_TRY_MULTICRED 4

typedef struct _SecPkgContext_NativeNamesW {
    SEC_WCHAR *sClientName;
    SEC_WCHAR *sServerName;
} SecPkgContext_NativeNamesW, *PSecPkgContext_NativeNamesW;

typedef struct _SecPkgContext_NativeNamesA {
    SEC_CHAR *sClientName;
    SEC_CHAR *sServerName;
} SecPkgContext_NativeNamesA, *PSecPkgContext_NativeNamesA;

typedef struct _SecPkgContext_CredentialNameW {
    ULONG CredentialType;
    SEC_WCHAR *sCredentialName;
} SecPkgContext_CredentialNameW, *PSecPkgContext_CredentialNameW;

typedef struct _SecPkgContext_CredentialNameA {
    ULONG CredentialType;
    SEC_CHAR *sCredentialName;
} SecPkgContext_CredentialNameA, *PSecPkgContext_CredentialNameA;

typedef struct _SecPkgContext_AccessToken {
    void *AccessToken;
} SecPkgContext_AccessToken, *PSecPkgContext_AccessToken;

typedef struct _SecPkgContext_TargetInformation {
    ULONG MarshalledTargetInfoLength;
    unsigned char *MarshalledTargetInfo;
} SecPkgContext_TargetInformation, *PSecPkgContext_TargetInformation;

typedef struct _SecPkgContext_AuthzID {
    ULONG AuthzIDLength;
    char *AuthzID;
} SecPkgContext_AuthzID, *PSecPkgContext_AuthzID;

typedef struct _SecPkgContext_Target {
    ULONG TargetLength;
    char *Target;
} SecPkgContext_Target, *PSecPkgContext_Target;

typedef struct _SecPkgContext_ClientSpecifiedTarget {
    SEC_WCHAR *sTargetName;
} SecPkgContext_ClientSpecifiedTarget, *PSecPkgContext_ClientSpecifiedTarget;

typedef struct _SecPkgContext_Bindings {
    ULONG BindingsLength;
    SEC_CHANNEL_BINDINGS *Bindings;
} SecPkgContext_Bindings, *PSecPkgContext_Bindings;

typedef enum _SEC_APPLICATION_PROTOCOL_NEGOTIATION_STATUS {
    SecApplicationProtocolNegotiationStatus_None,
    SecApplicationProtocolNegotiationStatus_Success,
    SecApplicationProtocolNegotiationStatus_SelectedClientOnly
} SEC_APPLICATION_PROTOCOL_NEGOTIATION_STATUS,
    *PSEC_APPLICATION_PROTOCOL_NEGOTIATION_STATUS;

#define MAX_PROTOCOL_ID_SIZE 0xff

typedef struct _SecPkgContext_ApplicationProtocol {
    SEC_APPLICATION_PROTOCOL_NEGOTIATION_STATUS ProtoNegoStatus;
    SEC_APPLICATION_PROTOCOL_NEGOTIATION_EXT ProtoNegoExt;
    unsigned char ProtocolIdSize;
    unsigned char ProtocolId[MAX_PROTOCOL_ID_SIZE];
} SecPkgContext_ApplicationProtocol, *PSecPkgContext_ApplicationProtocol;

typedef struct _SecPkgContext_NegotiatedTlsExtensions {
    ULONG ExtensionsCount;
    unsigned short *Extensions;
} SecPkgContext_NegotiatedTlsExtensions, *PSecPkgContext_NegotiatedTlsExtensions;

typedef struct _SECPKG_APP_MODE_INFO {
    ULONG UserFunction;
    ULONG_PTR Argument1;
    ULONG_PTR Argument2;
    SecBuffer UserData;
    BOOLEAN ReturnToLsa;
} SECPKG_APP_MODE_INFO, *PSECPKG_APP_MODE_INFO;

/* ------------------------------------------------------------------------
 * schannel.h: Schannel context attributes and their SSPI-level payloads
 * --------------------------------------------------------------------- */
#define UNISP_RPC_ID 14

#define SECPKG_ATTR_ISSUER_LIST                   0x50
#define SECPKG_ATTR_REMOTE_CRED                   0x51
#define SECPKG_ATTR_LOCAL_CRED                    0x52
#define SECPKG_ATTR_REMOTE_CERT_CONTEXT           0x53
#define SECPKG_ATTR_LOCAL_CERT_CONTEXT            0x54
#define SECPKG_ATTR_ROOT_STORE                    0x55
#define SECPKG_ATTR_SUPPORTED_ALGS                0x56
#define SECPKG_ATTR_CIPHER_STRENGTHS              0x57
#define SECPKG_ATTR_SUPPORTED_PROTOCOLS           0x58
#define SECPKG_ATTR_ISSUER_LIST_EX                0x59
#define SECPKG_ATTR_CONNECTION_INFO               0x5a
#define SECPKG_ATTR_EAP_KEY_BLOCK                 0x5b
#define SECPKG_ATTR_MAPPED_CRED_ATTR              0x5c
#define SECPKG_ATTR_SESSION_INFO                  0x5d
#define SECPKG_ATTR_APP_DATA                      0x5e
#define SECPKG_ATTR_REMOTE_CERTIFICATES           0x5f
#define SECPKG_ATTR_CLIENT_CERT_POLICY            0x60
#define SECPKG_ATTR_CC_POLICY_RESULT              0x61
#define SECPKG_ATTR_USE_NCRYPT                    0x62
#define SECPKG_ATTR_LOCAL_CERT_INFO               0x63
#define SECPKG_ATTR_CIPHER_INFO                   0x64
#define SECPKG_ATTR_EAP_PRF_INFO                  0x65
#define SECPKG_ATTR_SUPPORTED_SIGNATURES          0x66
#define SECPKG_ATTR_REMOTE_CERT_CHAIN             0x67
#define SECPKG_ATTR_UI_INFO                       0x68
#define SECPKG_ATTR_EARLY_START                   0x69
#define SECPKG_ATTR_KEYING_MATERIAL_INFO          0x6a
#define SECPKG_ATTR_KEYING_MATERIAL               0x6b
#define SECPKG_ATTR_SRTP_PARAMETERS               0x6c
#define SECPKG_ATTR_TOKEN_BINDING                 0x6d
#define SECPKG_ATTR_CONNECTION_INFO_EX            0x6e
#define SECPKG_ATTR_KEYING_MATERIAL_TOKEN_BINDING 0x6f
#define SECPKG_ATTR_KEYING_MATERIAL_INPROC        0x70

/* dwProtocol holds SP_PROT_* bits, ai* hold CALG_* identifiers. */
typedef struct _SecPkgContext_ConnectionInfo {
    DWORD dwProtocol;
    ALG_ID aiCipher;
    DWORD dwCipherStrength;
    ALG_ID aiHash;
    DWORD dwHashStrength;
    ALG_ID aiExch;
    DWORD dwExchStrength;
} SecPkgContext_ConnectionInfo, *PSecPkgContext_ConnectionInfo;

/* ------------------------------------------------------------------------
 * credssp.h: CredSSP context attributes (the SECPKG_ALT_ATTR range)
 * --------------------------------------------------------------------- */
#define SECPKG_ALT_ATTR                 0x80000000
#define SECPKG_ATTR_C_ACCESS_TOKEN      (SECPKG_ATTR_ACCESS_TOKEN | SECPKG_ALT_ATTR)
#define SECPKG_ATTR_CREDS               0x80000080
#define SECPKG_ATTR_NEGOTIATION_PACKAGE 0x80000081
#define SECPKG_ATTR_C_FULL_ACCESS_TOKEN 0x80000082
#define SECPKG_ATTR_SERVER_AUTH_FLAGS   0x80000083
#define SECPKG_ATTR_CERT_TRUST_STATUS   0x80000084
/* Value taken from the QueryContextAttributes (CredSSP) documentation. */
#define SECPKG_ATTR_CREDS_2             0x80000086

#define CREDSSP_SERVER_AUTH_NEGOTIATE   0x1
#define CREDSSP_SERVER_AUTH_CERTIFICATE 0x2

typedef struct _SecPkgContext_ClientCreds {
    ULONG AuthBufferLen;
    PUCHAR AuthBuffer;
} SecPkgContext_ClientCreds, *PSecPkgContext_ClientCreds;

/* ------------------------------------------------------------------------
 * sspi.h: message protection and context export
 * --------------------------------------------------------------------- */
/* fQOP for EncryptMessage/DecryptMessage */
#define SECQOP_WRAP_NO_ENCRYPT 0x80000001
#define SECQOP_WRAP_OOB_DATA   0x40000000
/* ntsecapi.h spelling of SECQOP_WRAP_NO_ENCRYPT used with Kerberos. */
#define KERB_WRAP_NO_ENCRYPT   0x80000001

/* ExportSecurityContext fFlags */
#define SECPKG_CONTEXT_EXPORT_RESET_NEW  0x00000001
#define SECPKG_CONTEXT_EXPORT_DELETE_OLD 0x00000002
#define SECPKG_CONTEXT_EXPORT_TO_KERNEL  0x00000004

/* Kept for source compatibility; sspx has no delegation-type API. */
typedef enum _SecDelegationType {
    SecFull,
    SecService,
    SecTree,
    SecDirectory,
    SecObject
} SecDelegationType,
    *PSecDelegationType;

/* ------------------------------------------------------------------------
 * sspi.h: authentication identities (pAuthData of AcquireCredentialsHandle)
 * --------------------------------------------------------------------- */
/* Flags of SEC_WINNT_AUTH_IDENTITY*; low byte tells the string encoding. */
#define SEC_WINNT_AUTH_IDENTITY_ANSI       0x1
#define SEC_WINNT_AUTH_IDENTITY_UNICODE    0x2
#define SEC_WINNT_AUTH_IDENTITY_MARSHALLED 0x4
#define SEC_WINNT_AUTH_IDENTITY_ONLY       0x8

/* Lengths are in characters, not counting the terminator. */
typedef struct _SEC_WINNT_AUTH_IDENTITY_W {
    unsigned short *User;
    ULONG UserLength;
    unsigned short *Domain;
    ULONG DomainLength;
    unsigned short *Password;
    ULONG PasswordLength;
    ULONG Flags;
} SEC_WINNT_AUTH_IDENTITY_W, *PSEC_WINNT_AUTH_IDENTITY_W;

typedef struct _SEC_WINNT_AUTH_IDENTITY_A {
    unsigned char *User;
    ULONG UserLength;
    unsigned char *Domain;
    ULONG DomainLength;
    unsigned char *Password;
    ULONG PasswordLength;
    ULONG Flags;
} SEC_WINNT_AUTH_IDENTITY_A, *PSEC_WINNT_AUTH_IDENTITY_A;

/* Version field of SEC_WINNT_AUTH_IDENTITY_EX{A,W}. */
#define SEC_WINNT_AUTH_IDENTITY_VERSION 0x200

typedef struct _SEC_WINNT_AUTH_IDENTITY_EXW {
    ULONG Version;
    ULONG Length;
    unsigned short *User;
    ULONG UserLength;
    unsigned short *Domain;
    ULONG DomainLength;
    unsigned short *Password;
    ULONG PasswordLength;
    ULONG Flags;
    unsigned short *PackageList;
    ULONG PackageListLength;
} SEC_WINNT_AUTH_IDENTITY_EXW, *PSEC_WINNT_AUTH_IDENTITY_EXW;

typedef struct _SEC_WINNT_AUTH_IDENTITY_EXA {
    ULONG Version;
    ULONG Length;
    unsigned char *User;
    ULONG UserLength;
    unsigned char *Domain;
    ULONG DomainLength;
    unsigned char *Password;
    ULONG PasswordLength;
    ULONG Flags;
    unsigned char *PackageList;
    ULONG PackageListLength;
} SEC_WINNT_AUTH_IDENTITY_EXA, *PSEC_WINNT_AUTH_IDENTITY_EXA;

/* Version field of SEC_WINNT_AUTH_IDENTITY_EX2; the strings follow the
 * header at the given byte offsets. */
#define SEC_WINNT_AUTH_IDENTITY_VERSION_2 0x201

typedef struct _SEC_WINNT_AUTH_IDENTITY_EX2 {
    ULONG Version;
    USHORT cbHeaderLength;
    ULONG cbStructureLength;
    ULONG UserOffset;
    USHORT UserLength;
    ULONG DomainOffset;
    USHORT DomainLength;
    ULONG PackedCredentialsOffset;
    USHORT PackedCredentialsLength;
    ULONG Flags;
    ULONG PackageListOffset;
    USHORT PackageListLength;
} SEC_WINNT_AUTH_IDENTITY_EX2, *PSEC_WINNT_AUTH_IDENTITY_EX2;

typedef union _SEC_WINNT_AUTH_IDENTITY_INFO {
    SEC_WINNT_AUTH_IDENTITY_EXW AuthIdExw;
    SEC_WINNT_AUTH_IDENTITY_EXA AuthIdExa;
    SEC_WINNT_AUTH_IDENTITY_A AuthId_a;
    SEC_WINNT_AUTH_IDENTITY_W AuthId_w;
    SEC_WINNT_AUTH_IDENTITY_EX2 AuthIdEx2;
} SEC_WINNT_AUTH_IDENTITY_INFO, *PSEC_WINNT_AUTH_IDENTITY_INFO;

typedef PVOID PSEC_WINNT_AUTH_IDENTITY_OPAQUE;

#define SEC_WINNT_AUTH_IDENTITY_FLAGS_PROCESS_ENCRYPTED 0x10
#define SEC_WINNT_AUTH_IDENTITY_FLAGS_SYSTEM_PROTECTED  0x20
#define SEC_WINNT_AUTH_IDENTITY_FLAGS_USER_PROTECTED    0x40
#define SEC_WINNT_AUTH_IDENTITY_FLAGS_SYSTEM_ENCRYPTED  0x80
#define SEC_WINNT_AUTH_IDENTITY_FLAGS_RESERVED          0x10000
#define SEC_WINNT_AUTH_IDENTITY_FLAGS_NULL_USER         0x20000
#define SEC_WINNT_AUTH_IDENTITY_FLAGS_NULL_DOMAIN       0x40000
#define SEC_WINNT_AUTH_IDENTITY_FLAGS_ID_PROVIDER       0x80000

#define SEC_WINNT_AUTH_IDENTITY_FLAGS_SSPIPFC_USE_MASK             0xff000000
#define SEC_WINNT_AUTH_IDENTITY_FLAGS_SSPIPFC_CREDPROV_DO_NOT_SAVE 0x80000000
#define SEC_WINNT_AUTH_IDENTITY_FLAGS_SSPIPFC_SAVE_CRED_BY_CALLER \
    SEC_WINNT_AUTH_IDENTITY_FLAGS_SSPIPFC_CREDPROV_DO_NOT_SAVE
#define SEC_WINNT_AUTH_IDENTITY_FLAGS_SSPIPFC_SAVE_CRED_CHECKED    0x40000000
#define SEC_WINNT_AUTH_IDENTITY_FLAGS_SSPIPFC_NO_CHECKBOX          0x20000000
#define SEC_WINNT_AUTH_IDENTITY_FLAGS_SSPIPFC_CREDPROV_DO_NOT_LOAD 0x10000000
#define SEC_WINNT_AUTH_IDENTITY_FLAGS_VALID_SSPIPFC_FLAGS         \
    (SEC_WINNT_AUTH_IDENTITY_FLAGS_SSPIPFC_CREDPROV_DO_NOT_SAVE | \
     SEC_WINNT_AUTH_IDENTITY_FLAGS_SSPIPFC_SAVE_CRED_CHECKED |    \
     SEC_WINNT_AUTH_IDENTITY_FLAGS_SSPIPFC_NO_CHECKBOX |          \
     SEC_WINNT_AUTH_IDENTITY_FLAGS_SSPIPFC_CREDPROV_DO_NOT_LOAD)

/* Options of SspiEncryptAuthIdentityEx. */
#define SEC_WINNT_AUTH_IDENTITY_ENCRYPT_SAME_LOGON   1
#define SEC_WINNT_AUTH_IDENTITY_ENCRYPT_SAME_PROCESS 2
#define SEC_WINNT_AUTH_IDENTITY_ENCRYPT_FOR_SYSTEM   4

/* ------------------------------------------------------------------------
 * sspi.h: security package options (AddSecurityPackage)
 * --------------------------------------------------------------------- */
typedef struct _SECURITY_PACKAGE_OPTIONS {
    ULONG Size;
    ULONG Type;
    ULONG Flags;
    ULONG SignatureSize;
    void *Signature;
} SECURITY_PACKAGE_OPTIONS, *PSECURITY_PACKAGE_OPTIONS;

#define SECPKG_OPTIONS_TYPE_UNKNOWN 0
#define SECPKG_OPTIONS_TYPE_LSA     1
#define SECPKG_OPTIONS_TYPE_SSPI    2
#define SECPKG_OPTIONS_PERMANENT    0x00000001

/* ------------------------------------------------------------------------
 * security.h, schannel.h, wdigest.h, credssp.h: package names
 * --------------------------------------------------------------------- */
#define NTLMSP_NAME_A             "NTLM"
#define MICROSOFT_KERBEROS_NAME_A "Kerberos"
#define NEGOSSP_NAME_A            "Negotiate"
#define UNISP_NAME_A              "Microsoft Unified Security Protocol Provider"
#define SCHANNEL_NAME_A           "Schannel"
#define WDIGEST_SP_NAME_A         "WDigest"
/* The SDK defines only the wide CREDSSP_NAME; this narrow one is ours. */
#define CREDSSP_NAME_A            "CREDSSP"
#define TS_SSP_NAME_A             "TSSSP"

#ifdef SSPX_UTF16_LITERAL
#define NTLMSP_NAME               SSPX_UTF16_LITERAL("NTLM")
#define MICROSOFT_KERBEROS_NAME_W SSPX_UTF16_LITERAL("Kerberos")
#define NEGOSSP_NAME_W            SSPX_UTF16_LITERAL("Negotiate")
#define UNISP_NAME_W              SSPX_UTF16_LITERAL("Microsoft Unified Security Protocol Provider")
#define SCHANNEL_NAME_W           SSPX_UTF16_LITERAL("Schannel")
#define WDIGEST_SP_NAME_W         SSPX_UTF16_LITERAL("WDigest")
#define CREDSSP_NAME              SSPX_UTF16_LITERAL("CREDSSP")
#define TS_SSP_NAME               SSPX_UTF16_LITERAL("TSSSP")
/* The SDK makes this one wide whatever UNICODE says. */
#define MICROSOFT_KERBEROS_NAME   MICROSOFT_KERBEROS_NAME_W
#endif

#if defined(UNICODE) && defined(SSPX_UTF16_LITERAL)
#define NEGOSSP_NAME    NEGOSSP_NAME_W
#define UNISP_NAME      UNISP_NAME_W
#define SCHANNEL_NAME   SCHANNEL_NAME_W
#define WDIGEST_SP_NAME WDIGEST_SP_NAME_W
#elif !defined(UNICODE)
#define NEGOSSP_NAME    NEGOSSP_NAME_A
#define UNISP_NAME      UNISP_NAME_A
#define SCHANNEL_NAME   SCHANNEL_NAME_A
#define WDIGEST_SP_NAME WDIGEST_SP_NAME_A
#endif

/* ------------------------------------------------------------------------
 * sspi.h: entry-point signatures (function-pointer types)
 * --------------------------------------------------------------------- */
typedef void(SEC_ENTRY *SEC_GET_KEY_FN)(void *Arg, void *Principal, ULONG KeyVer, void **Key,
                                        SECURITY_STATUS *Status);

typedef SECURITY_STATUS(SEC_ENTRY *ENUMERATE_SECURITY_PACKAGES_FN_A)(PULONG, PSecPkgInfoA *);
typedef SECURITY_STATUS(SEC_ENTRY *ENUMERATE_SECURITY_PACKAGES_FN_W)(PULONG, PSecPkgInfoW *);

typedef SECURITY_STATUS(SEC_ENTRY *QUERY_CREDENTIALS_ATTRIBUTES_FN_A)(PCredHandle, ULONG, void *);
typedef SECURITY_STATUS(SEC_ENTRY *QUERY_CREDENTIALS_ATTRIBUTES_FN_W)(PCredHandle, ULONG, void *);

typedef SECURITY_STATUS(SEC_ENTRY *QUERY_CREDENTIALS_ATTRIBUTES_EX_FN_A)(PCredHandle, ULONG, void *,
                                                                         ULONG);
typedef SECURITY_STATUS(SEC_ENTRY *QUERY_CREDENTIALS_ATTRIBUTES_EX_FN_W)(PCredHandle, ULONG, void *,
                                                                         ULONG);

typedef SECURITY_STATUS(SEC_ENTRY *ACQUIRE_CREDENTIALS_HANDLE_FN_A)(SEC_CHAR *, SEC_CHAR *, ULONG,
                                                                    void *, void *, SEC_GET_KEY_FN,
                                                                    void *, PCredHandle,
                                                                    PTimeStamp);
typedef SECURITY_STATUS(SEC_ENTRY *ACQUIRE_CREDENTIALS_HANDLE_FN_W)(SEC_WCHAR *, SEC_WCHAR *, ULONG,
                                                                    void *, void *, SEC_GET_KEY_FN,
                                                                    void *, PCredHandle,
                                                                    PTimeStamp);

typedef SECURITY_STATUS(SEC_ENTRY *FREE_CREDENTIALS_HANDLE_FN)(PCredHandle);

typedef SECURITY_STATUS(SEC_ENTRY *ADD_CREDENTIALS_FN_A)(PCredHandle, SEC_CHAR *, SEC_CHAR *, ULONG,
                                                         void *, SEC_GET_KEY_FN, void *,
                                                         PTimeStamp);
typedef SECURITY_STATUS(SEC_ENTRY *ADD_CREDENTIALS_FN_W)(PCredHandle, SEC_WCHAR *, SEC_WCHAR *,
                                                         ULONG, void *, SEC_GET_KEY_FN, void *,
                                                         PTimeStamp);

typedef SECURITY_STATUS(SEC_ENTRY *INITIALIZE_SECURITY_CONTEXT_FN_A)(PCredHandle, PCtxtHandle,
                                                                     SEC_CHAR *, ULONG, ULONG,
                                                                     ULONG, PSecBufferDesc, ULONG,
                                                                     PCtxtHandle, PSecBufferDesc,
                                                                     PULONG, PTimeStamp);
typedef SECURITY_STATUS(SEC_ENTRY *INITIALIZE_SECURITY_CONTEXT_FN_W)(PCredHandle, PCtxtHandle,
                                                                     SEC_WCHAR *, ULONG, ULONG,
                                                                     ULONG, PSecBufferDesc, ULONG,
                                                                     PCtxtHandle, PSecBufferDesc,
                                                                     PULONG, PTimeStamp);

typedef SECURITY_STATUS(SEC_ENTRY *ACCEPT_SECURITY_CONTEXT_FN)(PCredHandle, PCtxtHandle,
                                                               PSecBufferDesc, ULONG, ULONG,
                                                               PCtxtHandle, PSecBufferDesc, PULONG,
                                                               PTimeStamp);

typedef SECURITY_STATUS(SEC_ENTRY *COMPLETE_AUTH_TOKEN_FN)(PCtxtHandle, PSecBufferDesc);

typedef SECURITY_STATUS(SEC_ENTRY *IMPERSONATE_SECURITY_CONTEXT_FN)(PCtxtHandle);

typedef SECURITY_STATUS(SEC_ENTRY *REVERT_SECURITY_CONTEXT_FN)(PCtxtHandle);

typedef SECURITY_STATUS(SEC_ENTRY *QUERY_SECURITY_CONTEXT_TOKEN_FN)(PCtxtHandle, HANDLE *);

typedef SECURITY_STATUS(SEC_ENTRY *DELETE_SECURITY_CONTEXT_FN)(PCtxtHandle);

typedef SECURITY_STATUS(SEC_ENTRY *APPLY_CONTROL_TOKEN_FN)(PCtxtHandle, PSecBufferDesc);

typedef SECURITY_STATUS(SEC_ENTRY *QUERY_CONTEXT_ATTRIBUTES_FN_A)(PCtxtHandle, ULONG, void *);
typedef SECURITY_STATUS(SEC_ENTRY *QUERY_CONTEXT_ATTRIBUTES_FN_W)(PCtxtHandle, ULONG, void *);

typedef SECURITY_STATUS(SEC_ENTRY *QUERY_CONTEXT_ATTRIBUTES_EX_FN_A)(PCtxtHandle, ULONG, void *,
                                                                     ULONG);
typedef SECURITY_STATUS(SEC_ENTRY *QUERY_CONTEXT_ATTRIBUTES_EX_FN_W)(PCtxtHandle, ULONG, void *,
                                                                     ULONG);

typedef SECURITY_STATUS(SEC_ENTRY *SET_CONTEXT_ATTRIBUTES_FN_A)(PCtxtHandle, ULONG, void *, ULONG);
typedef SECURITY_STATUS(SEC_ENTRY *SET_CONTEXT_ATTRIBUTES_FN_W)(PCtxtHandle, ULONG, void *, ULONG);

typedef SECURITY_STATUS(SEC_ENTRY *SET_CREDENTIALS_ATTRIBUTES_FN_A)(PCredHandle, ULONG, void *,
                                                                    ULONG);
typedef SECURITY_STATUS(SEC_ENTRY *SET_CREDENTIALS_ATTRIBUTES_FN_W)(PCredHandle, ULONG, void *,
                                                                    ULONG);

typedef SECURITY_STATUS(SEC_ENTRY *FREE_CONTEXT_BUFFER_FN)(PVOID);

typedef SECURITY_STATUS(SEC_ENTRY *MAKE_SIGNATURE_FN)(PCtxtHandle, ULONG, PSecBufferDesc, ULONG);

typedef SECURITY_STATUS(SEC_ENTRY *VERIFY_SIGNATURE_FN)(PCtxtHandle, PSecBufferDesc, ULONG, PULONG);

typedef SECURITY_STATUS(SEC_ENTRY *ENCRYPT_MESSAGE_FN)(PCtxtHandle, ULONG, PSecBufferDesc, ULONG);

typedef SECURITY_STATUS(SEC_ENTRY *DECRYPT_MESSAGE_FN)(PCtxtHandle, PSecBufferDesc, ULONG, PULONG);

typedef SECURITY_STATUS(SEC_ENTRY *QUERY_SECURITY_PACKAGE_INFO_FN_A)(SEC_CHAR *, PSecPkgInfoA *);
typedef SECURITY_STATUS(SEC_ENTRY *QUERY_SECURITY_PACKAGE_INFO_FN_W)(SEC_WCHAR *, PSecPkgInfoW *);

typedef SECURITY_STATUS(SEC_ENTRY *EXPORT_SECURITY_CONTEXT_FN)(PCtxtHandle, ULONG, PSecBuffer,
                                                               void **);

typedef SECURITY_STATUS(SEC_ENTRY *IMPORT_SECURITY_CONTEXT_FN_A)(SEC_CHAR *, PSecBuffer, void *,
                                                                 PCtxtHandle);
typedef SECURITY_STATUS(SEC_ENTRY *IMPORT_SECURITY_CONTEXT_FN_W)(SEC_WCHAR *, PSecBuffer, void *,
                                                                 PCtxtHandle);

typedef SECURITY_STATUS(SEC_ENTRY *CHANGE_PASSWORD_FN_A)(SEC_CHAR *, SEC_CHAR *, SEC_CHAR *,
                                                         SEC_CHAR *, SEC_CHAR *, BOOLEAN, ULONG,
                                                         PSecBufferDesc);
typedef SECURITY_STATUS(SEC_ENTRY *CHANGE_PASSWORD_FN_W)(SEC_WCHAR *, SEC_WCHAR *, SEC_WCHAR *,
                                                         SEC_WCHAR *, SEC_WCHAR *, BOOLEAN, ULONG,
                                                         PSecBufferDesc);

/* ------------------------------------------------------------------------
 * sspi.h: the dispatch table returned by InitSecurityInterface
 * --------------------------------------------------------------------- */

/* Values of dwVersion; each adds slots at the end of the table. */
#define SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION   1
#define SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_2 2
#define SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_3 3
#define SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_4 4
#define SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_5 5

/* The SDK's A table names this slot with a typo and maps it back. */
#define FreeCredentialHandle FreeCredentialsHandle

typedef struct _SECURITY_FUNCTION_TABLE_A {
    ULONG dwVersion;
    ENUMERATE_SECURITY_PACKAGES_FN_A EnumerateSecurityPackagesA;
    QUERY_CREDENTIALS_ATTRIBUTES_FN_A QueryCredentialsAttributesA;
    ACQUIRE_CREDENTIALS_HANDLE_FN_A AcquireCredentialsHandleA;
    FREE_CREDENTIALS_HANDLE_FN FreeCredentialsHandle;
    void *Reserved2;
    INITIALIZE_SECURITY_CONTEXT_FN_A InitializeSecurityContextA;
    ACCEPT_SECURITY_CONTEXT_FN AcceptSecurityContext;
    COMPLETE_AUTH_TOKEN_FN CompleteAuthToken;
    DELETE_SECURITY_CONTEXT_FN DeleteSecurityContext;
    APPLY_CONTROL_TOKEN_FN ApplyControlToken;
    QUERY_CONTEXT_ATTRIBUTES_FN_A QueryContextAttributesA;
    IMPERSONATE_SECURITY_CONTEXT_FN ImpersonateSecurityContext;
    REVERT_SECURITY_CONTEXT_FN RevertSecurityContext;
    MAKE_SIGNATURE_FN MakeSignature;
    VERIFY_SIGNATURE_FN VerifySignature;
    FREE_CONTEXT_BUFFER_FN FreeContextBuffer;
    QUERY_SECURITY_PACKAGE_INFO_FN_A QuerySecurityPackageInfoA;
    void *Reserved3;
    void *Reserved4;
    EXPORT_SECURITY_CONTEXT_FN ExportSecurityContext;
    IMPORT_SECURITY_CONTEXT_FN_A ImportSecurityContextA;
    ADD_CREDENTIALS_FN_A AddCredentialsA;
    void *Reserved8;
    QUERY_SECURITY_CONTEXT_TOKEN_FN QuerySecurityContextToken;
    ENCRYPT_MESSAGE_FN EncryptMessage;
    DECRYPT_MESSAGE_FN DecryptMessage;
    SET_CONTEXT_ATTRIBUTES_FN_A SetContextAttributesA;
    SET_CREDENTIALS_ATTRIBUTES_FN_A SetCredentialsAttributesA;
    CHANGE_PASSWORD_FN_A ChangeAccountPasswordA;
    QUERY_CONTEXT_ATTRIBUTES_EX_FN_A QueryContextAttributesExA;
    QUERY_CREDENTIALS_ATTRIBUTES_EX_FN_A QueryCredentialsAttributesExA;
} SecurityFunctionTableA, *PSecurityFunctionTableA;

typedef struct _SECURITY_FUNCTION_TABLE_W {
    ULONG dwVersion;
    ENUMERATE_SECURITY_PACKAGES_FN_W EnumerateSecurityPackagesW;
    QUERY_CREDENTIALS_ATTRIBUTES_FN_W QueryCredentialsAttributesW;
    ACQUIRE_CREDENTIALS_HANDLE_FN_W AcquireCredentialsHandleW;
    FREE_CREDENTIALS_HANDLE_FN FreeCredentialsHandle;
    void *Reserved2;
    INITIALIZE_SECURITY_CONTEXT_FN_W InitializeSecurityContextW;
    ACCEPT_SECURITY_CONTEXT_FN AcceptSecurityContext;
    COMPLETE_AUTH_TOKEN_FN CompleteAuthToken;
    DELETE_SECURITY_CONTEXT_FN DeleteSecurityContext;
    APPLY_CONTROL_TOKEN_FN ApplyControlToken;
    QUERY_CONTEXT_ATTRIBUTES_FN_W QueryContextAttributesW;
    IMPERSONATE_SECURITY_CONTEXT_FN ImpersonateSecurityContext;
    REVERT_SECURITY_CONTEXT_FN RevertSecurityContext;
    MAKE_SIGNATURE_FN MakeSignature;
    VERIFY_SIGNATURE_FN VerifySignature;
    FREE_CONTEXT_BUFFER_FN FreeContextBuffer;
    QUERY_SECURITY_PACKAGE_INFO_FN_W QuerySecurityPackageInfoW;
    void *Reserved3;
    void *Reserved4;
    EXPORT_SECURITY_CONTEXT_FN ExportSecurityContext;
    IMPORT_SECURITY_CONTEXT_FN_W ImportSecurityContextW;
    ADD_CREDENTIALS_FN_W AddCredentialsW;
    void *Reserved8;
    QUERY_SECURITY_CONTEXT_TOKEN_FN QuerySecurityContextToken;
    ENCRYPT_MESSAGE_FN EncryptMessage;
    DECRYPT_MESSAGE_FN DecryptMessage;
    SET_CONTEXT_ATTRIBUTES_FN_W SetContextAttributesW;
    SET_CREDENTIALS_ATTRIBUTES_FN_W SetCredentialsAttributesW;
    CHANGE_PASSWORD_FN_W ChangeAccountPasswordW;
    QUERY_CONTEXT_ATTRIBUTES_EX_FN_W QueryContextAttributesExW;
    QUERY_CREDENTIALS_ATTRIBUTES_EX_FN_W QueryCredentialsAttributesExW;
} SecurityFunctionTableW, *PSecurityFunctionTableW;

typedef PSecurityFunctionTableA(SEC_ENTRY *INIT_SECURITY_INTERFACE_A)(void);
typedef PSecurityFunctionTableW(SEC_ENTRY *INIT_SECURITY_INTERFACE_W)(void);

/* Symbol names to look up with dlsym(); plain strings on every platform. */
#define SECURITY_ENTRYPOINT_ANSIA "InitSecurityInterfaceA"
#define SECURITY_ENTRYPOINT_ANSIW "InitSecurityInterfaceW"
#define SECURITY_ENTRYPOINTA      SECURITY_ENTRYPOINT_ANSIA
#define SECURITY_ENTRYPOINTW      SECURITY_ENTRYPOINT_ANSIW
#if defined(UNICODE) && !defined(SSPX_BUILDING_LIBRARY)
#define SECURITY_ENTRYPOINT_ANSI SECURITY_ENTRYPOINT_ANSIW
#else
#define SECURITY_ENTRYPOINT_ANSI SECURITY_ENTRYPOINT_ANSIA
#endif
#define SECURITY_ENTRYPOINT SECURITY_ENTRYPOINT_ANSI

/* ------------------------------------------------------------------------
 * sspi.h: exported entry points
 * --------------------------------------------------------------------- */
SSPX_API SECURITY_STATUS SEC_ENTRY
AcquireCredentialsHandleA(LPSTR pszPrincipal, LPSTR pszPackage, ULONG fCredentialUse,
                          void *pvLogonId, void *pAuthData, SEC_GET_KEY_FN pGetKeyFn,
                          void *pvGetKeyArgument, PCredHandle phCredential, PTimeStamp ptsExpiry);

SSPX_API SECURITY_STATUS SEC_ENTRY
AcquireCredentialsHandleW(LPWSTR pszPrincipal, LPWSTR pszPackage, ULONG fCredentialUse,
                          void *pvLogonId, void *pAuthData, SEC_GET_KEY_FN pGetKeyFn,
                          void *pvGetKeyArgument, PCredHandle phCredential, PTimeStamp ptsExpiry);

SSPX_API SECURITY_STATUS SEC_ENTRY FreeCredentialsHandle(PCredHandle phCredential);

SSPX_API SECURITY_STATUS SEC_ENTRY InitializeSecurityContextA(
    PCredHandle phCredential, PCtxtHandle phContext, SEC_CHAR *pszTargetName, ULONG fContextReq,
    ULONG Reserved1, ULONG TargetDataRep, PSecBufferDesc pInput, ULONG Reserved2,
    PCtxtHandle phNewContext, PSecBufferDesc pOutput, PULONG pfContextAttr, PTimeStamp ptsExpiry);

SSPX_API SECURITY_STATUS SEC_ENTRY InitializeSecurityContextW(
    PCredHandle phCredential, PCtxtHandle phContext, SEC_WCHAR *pszTargetName, ULONG fContextReq,
    ULONG Reserved1, ULONG TargetDataRep, PSecBufferDesc pInput, ULONG Reserved2,
    PCtxtHandle phNewContext, PSecBufferDesc pOutput, PULONG pfContextAttr, PTimeStamp ptsExpiry);

SSPX_API SECURITY_STATUS SEC_ENTRY
AcceptSecurityContext(PCredHandle phCredential, PCtxtHandle phContext, PSecBufferDesc pInput,
                      ULONG fContextReq, ULONG TargetDataRep, PCtxtHandle phNewContext,
                      PSecBufferDesc pOutput, PULONG pfContextAttr, PTimeStamp ptsExpiry);

SSPX_API SECURITY_STATUS SEC_ENTRY CompleteAuthToken(PCtxtHandle phContext, PSecBufferDesc pToken);

SSPX_API SECURITY_STATUS SEC_ENTRY ImpersonateSecurityContext(PCtxtHandle phContext);

SSPX_API SECURITY_STATUS SEC_ENTRY RevertSecurityContext(PCtxtHandle phContext);

SSPX_API SECURITY_STATUS SEC_ENTRY QuerySecurityContextToken(PCtxtHandle phContext, HANDLE *Token);

SSPX_API SECURITY_STATUS SEC_ENTRY DeleteSecurityContext(PCtxtHandle phContext);

SSPX_API SECURITY_STATUS SEC_ENTRY ApplyControlToken(PCtxtHandle phContext, PSecBufferDesc pInput);

SSPX_API SECURITY_STATUS SEC_ENTRY QueryContextAttributesA(PCtxtHandle phContext, ULONG ulAttribute,
                                                           void *pBuffer);

SSPX_API SECURITY_STATUS SEC_ENTRY QueryContextAttributesW(PCtxtHandle phContext, ULONG ulAttribute,
                                                           void *pBuffer);

SSPX_API SECURITY_STATUS SEC_ENTRY SetContextAttributesA(PCtxtHandle phContext, ULONG ulAttribute,
                                                         void *pBuffer, ULONG cbBuffer);

SSPX_API SECURITY_STATUS SEC_ENTRY SetContextAttributesW(PCtxtHandle phContext, ULONG ulAttribute,
                                                         void *pBuffer, ULONG cbBuffer);

SSPX_API SECURITY_STATUS SEC_ENTRY QueryCredentialsAttributesA(PCredHandle phCredential,
                                                               ULONG ulAttribute, void *pBuffer);

SSPX_API SECURITY_STATUS SEC_ENTRY QueryCredentialsAttributesW(PCredHandle phCredential,
                                                               ULONG ulAttribute, void *pBuffer);

SSPX_API SECURITY_STATUS SEC_ENTRY FreeContextBuffer(PVOID pvContextBuffer);

SSPX_API SECURITY_STATUS SEC_ENTRY MakeSignature(PCtxtHandle phContext, ULONG fQOP,
                                                 PSecBufferDesc pMessage, ULONG MessageSeqNo);

SSPX_API SECURITY_STATUS SEC_ENTRY VerifySignature(PCtxtHandle phContext, PSecBufferDesc pMessage,
                                                   ULONG MessageSeqNo, PULONG pfQOP);

SSPX_API SECURITY_STATUS SEC_ENTRY EncryptMessage(PCtxtHandle phContext, ULONG fQOP,
                                                  PSecBufferDesc pMessage, ULONG MessageSeqNo);

SSPX_API SECURITY_STATUS SEC_ENTRY DecryptMessage(PCtxtHandle phContext, PSecBufferDesc pMessage,
                                                  ULONG MessageSeqNo, PULONG pfQOP);

SSPX_API SECURITY_STATUS SEC_ENTRY EnumerateSecurityPackagesA(PULONG pcPackages,
                                                              PSecPkgInfoA *ppPackageInfo);

SSPX_API SECURITY_STATUS SEC_ENTRY EnumerateSecurityPackagesW(PULONG pcPackages,
                                                              PSecPkgInfoW *ppPackageInfo);

SSPX_API SECURITY_STATUS SEC_ENTRY QuerySecurityPackageInfoA(LPSTR pszPackageName,
                                                             PSecPkgInfoA *ppPackageInfo);

SSPX_API SECURITY_STATUS SEC_ENTRY QuerySecurityPackageInfoW(LPWSTR pszPackageName,
                                                             PSecPkgInfoW *ppPackageInfo);

SSPX_API SECURITY_STATUS SEC_ENTRY ExportSecurityContext(PCtxtHandle phContext, ULONG fFlags,
                                                         PSecBuffer pPackedContext, void **pToken);

SSPX_API SECURITY_STATUS SEC_ENTRY ImportSecurityContextA(LPSTR pszPackage,
                                                          PSecBuffer pPackedContext, void *Token,
                                                          PCtxtHandle phContext);

SSPX_API SECURITY_STATUS SEC_ENTRY ImportSecurityContextW(LPWSTR pszPackage,
                                                          PSecBuffer pPackedContext, void *Token,
                                                          PCtxtHandle phContext);

SSPX_API PSecurityFunctionTableA SEC_ENTRY InitSecurityInterfaceA(void);

SSPX_API PSecurityFunctionTableW SEC_ENTRY InitSecurityInterfaceW(void);

/* ------------------------------------------------------------------------
 * Unsuffixed names: A/W selection by UNICODE, as in the SDK.
 * --------------------------------------------------------------------- */
#if !defined(SSPX_BUILDING_LIBRARY)

#ifdef UNICODE
#define SSPX_AW_(name)  name##W
#define SSPX_UAW_(name) name##_W
#else
#define SSPX_AW_(name)  name##A
#define SSPX_UAW_(name) name##_A
#endif

#define AcquireCredentialsHandle   SSPX_AW_(AcquireCredentialsHandle)
#define InitializeSecurityContext  SSPX_AW_(InitializeSecurityContext)
#define QueryContextAttributes     SSPX_AW_(QueryContextAttributes)
#define SetContextAttributes       SSPX_AW_(SetContextAttributes)
#define QueryCredentialsAttributes SSPX_AW_(QueryCredentialsAttributes)
#define EnumerateSecurityPackages  SSPX_AW_(EnumerateSecurityPackages)
#define QuerySecurityPackageInfo   SSPX_AW_(QuerySecurityPackageInfo)
#define ImportSecurityContext      SSPX_AW_(ImportSecurityContext)
#define InitSecurityInterface      SSPX_AW_(InitSecurityInterface)

#define SecPkgInfo                     SSPX_AW_(SecPkgInfo)
#define PSecPkgInfo                    SSPX_AW_(PSecPkgInfo)
#define SecPkgCredentials_Names        SSPX_AW_(SecPkgCredentials_Names)
#define PSecPkgCredentials_Names       SSPX_AW_(PSecPkgCredentials_Names)
#define SecPkgCredentials_SSIProvider  SSPX_AW_(SecPkgCredentials_SSIProvider)
#define PSecPkgCredentials_SSIProvider SSPX_AW_(PSecPkgCredentials_SSIProvider)
#define SecPkgContext_Names            SSPX_AW_(SecPkgContext_Names)
#define PSecPkgContext_Names           SSPX_AW_(PSecPkgContext_Names)
#define SecPkgContext_KeyInfo          SSPX_AW_(SecPkgContext_KeyInfo)
#define PSecPkgContext_KeyInfo         SSPX_AW_(PSecPkgContext_KeyInfo)
#define SecPkgContext_Authority        SSPX_AW_(SecPkgContext_Authority)
#define PSecPkgContext_Authority       SSPX_AW_(PSecPkgContext_Authority)
#define SecPkgContext_ProtoInfo        SSPX_AW_(SecPkgContext_ProtoInfo)
#define PSecPkgContext_ProtoInfo       SSPX_AW_(PSecPkgContext_ProtoInfo)
#define SecPkgContext_PackageInfo      SSPX_AW_(SecPkgContext_PackageInfo)
#define PSecPkgContext_PackageInfo     SSPX_AW_(PSecPkgContext_PackageInfo)
#define SecPkgContext_NegotiationInfo  SSPX_AW_(SecPkgContext_NegotiationInfo)
#define PSecPkgContext_NegotiationInfo SSPX_AW_(PSecPkgContext_NegotiationInfo)
#define SecPkgContext_NativeNames      SSPX_AW_(SecPkgContext_NativeNames)
#define PSecPkgContext_NativeNames     SSPX_AW_(PSecPkgContext_NativeNames)
#define SecPkgContext_CredentialName   SSPX_AW_(SecPkgContext_CredentialName)
#define PSecPkgContext_CredentialName  SSPX_AW_(PSecPkgContext_CredentialName)
#define SEC_WINNT_AUTH_IDENTITY        SSPX_UAW_(SEC_WINNT_AUTH_IDENTITY)
#define PSEC_WINNT_AUTH_IDENTITY       SSPX_UAW_(PSEC_WINNT_AUTH_IDENTITY)
#define SEC_WINNT_AUTH_IDENTITY_EX     SSPX_AW_(SEC_WINNT_AUTH_IDENTITY_EX)
#define PSEC_WINNT_AUTH_IDENTITY_EX    SSPX_AW_(PSEC_WINNT_AUTH_IDENTITY_EX)
#define SecurityFunctionTable          SSPX_AW_(SecurityFunctionTable)
#define PSecurityFunctionTable         SSPX_AW_(PSecurityFunctionTable)

#define ENUMERATE_SECURITY_PACKAGES_FN     SSPX_UAW_(ENUMERATE_SECURITY_PACKAGES_FN)
#define QUERY_CREDENTIALS_ATTRIBUTES_FN    SSPX_UAW_(QUERY_CREDENTIALS_ATTRIBUTES_FN)
#define QUERY_CREDENTIALS_ATTRIBUTES_EX_FN SSPX_UAW_(QUERY_CREDENTIALS_ATTRIBUTES_EX_FN)
#define ACQUIRE_CREDENTIALS_HANDLE_FN      SSPX_UAW_(ACQUIRE_CREDENTIALS_HANDLE_FN)
#define ADD_CREDENTIALS_FN                 SSPX_UAW_(ADD_CREDENTIALS_FN)
#define INITIALIZE_SECURITY_CONTEXT_FN     SSPX_UAW_(INITIALIZE_SECURITY_CONTEXT_FN)
#define QUERY_CONTEXT_ATTRIBUTES_FN        SSPX_UAW_(QUERY_CONTEXT_ATTRIBUTES_FN)
#define QUERY_CONTEXT_ATTRIBUTES_EX_FN     SSPX_UAW_(QUERY_CONTEXT_ATTRIBUTES_EX_FN)
#define SET_CONTEXT_ATTRIBUTES_FN          SSPX_UAW_(SET_CONTEXT_ATTRIBUTES_FN)
#define SET_CREDENTIALS_ATTRIBUTES_FN      SSPX_UAW_(SET_CREDENTIALS_ATTRIBUTES_FN)
#define QUERY_SECURITY_PACKAGE_INFO_FN     SSPX_UAW_(QUERY_SECURITY_PACKAGE_INFO_FN)
#define IMPORT_SECURITY_CONTEXT_FN         SSPX_UAW_(IMPORT_SECURITY_CONTEXT_FN)
#define CHANGE_PASSWORD_FN                 SSPX_UAW_(CHANGE_PASSWORD_FN)
#define INIT_SECURITY_INTERFACE            SSPX_UAW_(INIT_SECURITY_INTERFACE)

#else /* SSPX_BUILDING_LIBRARY */

/* Real exported symbols under the plain names, for dlsym() callers;
 * they behave as the A forms. */
SSPX_API SECURITY_STATUS SEC_ENTRY
AcquireCredentialsHandle(LPSTR pszPrincipal, LPSTR pszPackage, ULONG fCredentialUse,
                         void *pvLogonId, void *pAuthData, SEC_GET_KEY_FN pGetKeyFn,
                         void *pvGetKeyArgument, PCredHandle phCredential, PTimeStamp ptsExpiry);

SSPX_API SECURITY_STATUS SEC_ENTRY InitializeSecurityContext(
    PCredHandle phCredential, PCtxtHandle phContext, SEC_CHAR *pszTargetName, ULONG fContextReq,
    ULONG Reserved1, ULONG TargetDataRep, PSecBufferDesc pInput, ULONG Reserved2,
    PCtxtHandle phNewContext, PSecBufferDesc pOutput, PULONG pfContextAttr, PTimeStamp ptsExpiry);

SSPX_API SECURITY_STATUS SEC_ENTRY QueryContextAttributes(PCtxtHandle phContext, ULONG ulAttribute,
                                                          void *pBuffer);

SSPX_API SECURITY_STATUS SEC_ENTRY QueryCredentialsAttributes(PCredHandle phCredential,
                                                              ULONG ulAttribute, void *pBuffer);

SSPX_API SECURITY_STATUS SEC_ENTRY EnumerateSecurityPackages(PULONG pcPackages,
                                                             PSecPkgInfoA *ppPackageInfo);

SSPX_API SECURITY_STATUS SEC_ENTRY QuerySecurityPackageInfo(LPSTR pszPackageName,
                                                            PSecPkgInfoA *ppPackageInfo);

SSPX_API PSecurityFunctionTableA SEC_ENTRY InitSecurityInterface(void);

typedef SecPkgInfoA SecPkgInfo;
typedef PSecPkgInfoA PSecPkgInfo;
typedef SecPkgCredentials_NamesA SecPkgCredentials_Names;
typedef PSecPkgCredentials_NamesA PSecPkgCredentials_Names;
typedef SecPkgCredentials_SSIProviderA SecPkgCredentials_SSIProvider;
typedef PSecPkgCredentials_SSIProviderA PSecPkgCredentials_SSIProvider;
typedef SecPkgContext_NamesA SecPkgContext_Names;
typedef PSecPkgContext_NamesA PSecPkgContext_Names;
typedef SecPkgContext_KeyInfoA SecPkgContext_KeyInfo;
typedef PSecPkgContext_KeyInfoA PSecPkgContext_KeyInfo;
typedef SecPkgContext_AuthorityA SecPkgContext_Authority;
typedef PSecPkgContext_AuthorityA PSecPkgContext_Authority;
typedef SecPkgContext_ProtoInfoA SecPkgContext_ProtoInfo;
typedef PSecPkgContext_ProtoInfoA PSecPkgContext_ProtoInfo;
typedef SecPkgContext_PackageInfoA SecPkgContext_PackageInfo;
typedef PSecPkgContext_PackageInfoA PSecPkgContext_PackageInfo;
typedef SecPkgContext_NegotiationInfoA SecPkgContext_NegotiationInfo;
typedef PSecPkgContext_NegotiationInfoA PSecPkgContext_NegotiationInfo;
typedef SecPkgContext_NativeNamesA SecPkgContext_NativeNames;
typedef PSecPkgContext_NativeNamesA PSecPkgContext_NativeNames;
typedef SecPkgContext_CredentialNameA SecPkgContext_CredentialName;
typedef PSecPkgContext_CredentialNameA PSecPkgContext_CredentialName;
typedef SEC_WINNT_AUTH_IDENTITY_A SEC_WINNT_AUTH_IDENTITY;
typedef PSEC_WINNT_AUTH_IDENTITY_A PSEC_WINNT_AUTH_IDENTITY;
typedef SEC_WINNT_AUTH_IDENTITY_EXA SEC_WINNT_AUTH_IDENTITY_EX;
typedef PSEC_WINNT_AUTH_IDENTITY_EXA PSEC_WINNT_AUTH_IDENTITY_EX;
typedef SecurityFunctionTableA SecurityFunctionTable;
typedef PSecurityFunctionTableA PSecurityFunctionTable;

typedef ENUMERATE_SECURITY_PACKAGES_FN_A ENUMERATE_SECURITY_PACKAGES_FN;
typedef QUERY_CREDENTIALS_ATTRIBUTES_FN_A QUERY_CREDENTIALS_ATTRIBUTES_FN;
typedef QUERY_CREDENTIALS_ATTRIBUTES_EX_FN_A QUERY_CREDENTIALS_ATTRIBUTES_EX_FN;
typedef ACQUIRE_CREDENTIALS_HANDLE_FN_A ACQUIRE_CREDENTIALS_HANDLE_FN;
typedef ADD_CREDENTIALS_FN_A ADD_CREDENTIALS_FN;
typedef INITIALIZE_SECURITY_CONTEXT_FN_A INITIALIZE_SECURITY_CONTEXT_FN;
typedef QUERY_CONTEXT_ATTRIBUTES_FN_A QUERY_CONTEXT_ATTRIBUTES_FN;
typedef QUERY_CONTEXT_ATTRIBUTES_EX_FN_A QUERY_CONTEXT_ATTRIBUTES_EX_FN;
typedef SET_CONTEXT_ATTRIBUTES_FN_A SET_CONTEXT_ATTRIBUTES_FN;
typedef SET_CREDENTIALS_ATTRIBUTES_FN_A SET_CREDENTIALS_ATTRIBUTES_FN;
typedef QUERY_SECURITY_PACKAGE_INFO_FN_A QUERY_SECURITY_PACKAGE_INFO_FN;
typedef IMPORT_SECURITY_CONTEXT_FN_A IMPORT_SECURITY_CONTEXT_FN;
typedef CHANGE_PASSWORD_FN_A CHANGE_PASSWORD_FN;
typedef INIT_SECURITY_INTERFACE_A INIT_SECURITY_INTERFACE;

#endif /* SSPX_BUILDING_LIBRARY */

/* ------------------------------------------------------------------------
 * ABI checks: layouts must match 64-bit Windows (LLP64) field for field.
 * --------------------------------------------------------------------- */
SSPX_STATIC_ASSERT(sizeof(ULONG) == 4, "ULONG must be 32-bit");
SSPX_STATIC_ASSERT(sizeof(LONG) == 4, "LONG must be 32-bit");
SSPX_STATIC_ASSERT(sizeof(USHORT) == 2, "USHORT must be 16-bit");
SSPX_STATIC_ASSERT(sizeof(SEC_WCHAR) == 2, "SEC_WCHAR must be UTF-16");
SSPX_STATIC_ASSERT(sizeof(ULONG_PTR) == sizeof(void *), "ULONG_PTR must be pointer-sized");
SSPX_STATIC_ASSERT(sizeof(LARGE_INTEGER) == 8, "LARGE_INTEGER is 64-bit");
SSPX_STATIC_ASSERT(sizeof(TimeStamp) == 8, "TimeStamp is 64-bit");
SSPX_STATIC_ASSERT(sizeof(SecHandle) == 2 * sizeof(void *), "SecHandle is two pointer-sized words");
SSPX_STATIC_ASSERT(offsetof(SecHandle, dwUpper) == sizeof(void *), "SecHandle.dwUpper offset");
SSPX_STATIC_ASSERT(offsetof(SecBuffer, BufferType) == 4, "SecBuffer.BufferType offset");
SSPX_STATIC_ASSERT(offsetof(SecBuffer, pvBuffer) == 8, "SecBuffer.pvBuffer offset");
SSPX_STATIC_ASSERT(offsetof(SecBufferDesc, cBuffers) == 4, "SecBufferDesc.cBuffers offset");
SSPX_STATIC_ASSERT(offsetof(SecBufferDesc, pBuffers) == 8, "SecBufferDesc.pBuffers offset");
SSPX_STATIC_ASSERT(sizeof(SEC_CHANNEL_BINDINGS) == 32, "SEC_CHANNEL_BINDINGS is eight ULONGs");
SSPX_STATIC_ASSERT(offsetof(SEC_CHANNEL_BINDINGS, dwApplicationDataOffset) == 28,
                   "SEC_CHANNEL_BINDINGS.dwApplicationDataOffset offset");
SSPX_STATIC_ASSERT(offsetof(SecPkgInfoA, wVersion) == 4, "SecPkgInfoA.wVersion offset");
SSPX_STATIC_ASSERT(offsetof(SecPkgInfoA, wRPCID) == 6, "SecPkgInfoA.wRPCID offset");
SSPX_STATIC_ASSERT(offsetof(SecPkgInfoA, cbMaxToken) == 8, "SecPkgInfoA.cbMaxToken offset");
SSPX_STATIC_ASSERT(sizeof(SecPkgContext_Sizes) == 16, "SecPkgContext_Sizes is four ULONGs");
SSPX_STATIC_ASSERT(sizeof(SecPkgContext_StreamSizes) == 20,
                   "SecPkgContext_StreamSizes is five ULONGs");
SSPX_STATIC_ASSERT(sizeof(SecPkgContext_ConnectionInfo) == 28,
                   "SecPkgContext_ConnectionInfo is seven DWORDs");
SSPX_STATIC_ASSERT(sizeof(SEC_WINNT_AUTH_IDENTITY_EX2) == 48, "SEC_WINNT_AUTH_IDENTITY_EX2 size");
SSPX_STATIC_ASSERT(offsetof(SecurityFunctionTableA, EnumerateSecurityPackagesA) == sizeof(void *),
                   "function table: first slot follows dwVersion");
SSPX_STATIC_ASSERT(offsetof(SecurityFunctionTableA, QueryCredentialsAttributesExA) ==
                       31 * sizeof(void *),
                   "function table: 31 slots after dwVersion");
SSPX_STATIC_ASSERT(sizeof(SecurityFunctionTableA) == sizeof(SecurityFunctionTableW),
                   "function tables A and W have the same shape");

#if defined(__LP64__) || defined(_LP64)
SSPX_STATIC_ASSERT(sizeof(SecBuffer) == 16, "SecBuffer size on LP64");
SSPX_STATIC_ASSERT(sizeof(SecBufferDesc) == 16, "SecBufferDesc size on LP64");
SSPX_STATIC_ASSERT(offsetof(SecPkgInfoA, Name) == 16, "SecPkgInfoA.Name offset on LP64");
SSPX_STATIC_ASSERT(offsetof(SecPkgInfoA, Comment) == 24, "SecPkgInfoA.Comment offset on LP64");
SSPX_STATIC_ASSERT(sizeof(SecPkgInfoA) == 32, "SecPkgInfoA size on LP64");
SSPX_STATIC_ASSERT(sizeof(SecPkgInfoW) == 32, "SecPkgInfoW size on LP64");
SSPX_STATIC_ASSERT(sizeof(SEC_WINNT_AUTH_IDENTITY_A) == 48,
                   "SEC_WINNT_AUTH_IDENTITY_A size on LP64");
SSPX_STATIC_ASSERT(sizeof(SEC_WINNT_AUTH_IDENTITY_EXW) == 72,
                   "SEC_WINNT_AUTH_IDENTITY_EXW size on LP64");
SSPX_STATIC_ASSERT(sizeof(SecurityFunctionTableA) == 256, "function table size on LP64");
#endif

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SSPX_SSPI_H */
