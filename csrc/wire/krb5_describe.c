/*
 * Kerberos V5 messages described for people (krb5_describe.h).
 *
 * RFC 4121 4.1 (the mechanism's context tokens):
 *   InitialContextToken ::= [APPLICATION 0] IMPLICIT SEQUENCE {   (RFC 2743 3.1)
 *       thisMech MechType,    -- 1.2.840.113554.1.2.2 (or MS 1.2.840.48018.1.2.2)
 *       innerContextToken }   -- TOK_ID (2 octets) then the krb5 message
 *   TOK_ID 01 00 KRB_AP_REQ, 02 00 KRB_AP_REP, 03 00 KRB_ERROR
 * RFC 4120 (all tags EXPLICIT):
 *   AP-REQ ::= [APPLICATION 14] SEQUENCE { pvno [0] INTEGER (5),
 *       msg-type [1] INTEGER (14), ap-options [2] APOptions,
 *       ticket [3] Ticket, authenticator [4] EncryptedData }
 *   APOptions ::= KerberosFlags -- reserved(0), use-session-key(1), mutual-required(2)
 *   Ticket ::= [APPLICATION 1] SEQUENCE { tkt-vno [0] INTEGER (5),
 *       realm [1] Realm, sname [2] PrincipalName, enc-part [3] EncryptedData }
 *   PrincipalName ::= SEQUENCE { name-type [0] Int32,
 *       name-string [1] SEQUENCE OF KerberosString }
 *   EncryptedData ::= SEQUENCE { etype [0] Int32, kvno [1] UInt32 OPTIONAL,
 *       cipher [2] OCTET STRING }
 *   AP-REP ::= [APPLICATION 15] SEQUENCE { pvno [0], msg-type [1] (15),
 *       enc-part [2] EncryptedData }
 *   KRB-ERROR ::= [APPLICATION 30] SEQUENCE { pvno [0], msg-type [1] (30),
 *       ctime [2] KerberosTime OPTIONAL, cusec [3] Microseconds OPTIONAL,
 *       stime [4] KerberosTime, susec [5] Microseconds, error-code [6] Int32,
 *       crealm [7] Realm OPTIONAL, cname [8] PrincipalName OPTIONAL,
 *       realm [9] Realm, sname [10] PrincipalName,
 *       e-text [11] KerberosString OPTIONAL, e-data [12] OCTET STRING OPTIONAL }
 *   KerberosTime ::= GeneralizedTime -- "YYYYMMDDHHMMSSZ"
 *
 * Fields are read in order, each where the ASN.1 puts it; anything else
 * (a missing field, another tag, bytes after a value, msg-type or TOK_ID
 * disagreeing with the application tag) refuses the token. Node offsets and
 * lengths: integers, flags and enums cover the value's whole TLV, strings
 * and bytes the contents, structures the TLV of the value inside the
 * explicit tag.
 */
#include "krb5_describe.h"

#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "der.h"
#include "spnego_msg.h"

#define TEXT_CAP 512

/* ---------------------------------------------------------------- names */

const char *krb5_etype_name(int64_t e)
{
    switch (e) { /* RFC 3961 8, 3962, 4757, 6803, 8009; IANA */
    case 1:
        return "des-cbc-crc";
    case 2:
        return "des-cbc-md4";
    case 3:
        return "des-cbc-md5";
    case 5:
        return "des3-cbc-md5";
    case 7:
        return "des3-cbc-sha1";
    case 16:
        return "des3-cbc-sha1-kd";
    case 17:
        return "aes128-cts-hmac-sha1-96";
    case 18:
        return "aes256-cts-hmac-sha1-96";
    case 19:
        return "aes128-cts-hmac-sha256-128";
    case 20:
        return "aes256-cts-hmac-sha384-192";
    case 23:
        return "rc4-hmac";
    case 24:
        return "rc4-hmac-exp";
    case 25:
        return "camellia128-cts-cmac";
    case 26:
        return "camellia256-cts-cmac";
    default:
        return NULL;
    }
}

const char *krb5_error_name(int64_t c)
{
    static const char *const names[] = {
        /* RFC 4120 7.5.9, RFC 4556, RFC 6113 */
        [0] = "KDC_ERR_NONE",
        [1] = "KDC_ERR_NAME_EXP",
        [2] = "KDC_ERR_SERVICE_EXP",
        [3] = "KDC_ERR_BAD_PVNO",
        [4] = "KDC_ERR_C_OLD_MAST_KVNO",
        [5] = "KDC_ERR_S_OLD_MAST_KVNO",
        [6] = "KDC_ERR_C_PRINCIPAL_UNKNOWN",
        [7] = "KDC_ERR_S_PRINCIPAL_UNKNOWN",
        [8] = "KDC_ERR_PRINCIPAL_NOT_UNIQUE",
        [9] = "KDC_ERR_NULL_KEY",
        [10] = "KDC_ERR_CANNOT_POSTDATE",
        [11] = "KDC_ERR_NEVER_VALID",
        [12] = "KDC_ERR_POLICY",
        [13] = "KDC_ERR_BADOPTION",
        [14] = "KDC_ERR_ETYPE_NOSUPP",
        [15] = "KDC_ERR_SUMTYPE_NOSUPP",
        [16] = "KDC_ERR_PADATA_TYPE_NOSUPP",
        [17] = "KDC_ERR_TRTYPE_NOSUPP",
        [18] = "KDC_ERR_CLIENT_REVOKED",
        [19] = "KDC_ERR_SERVICE_REVOKED",
        [20] = "KDC_ERR_TGT_REVOKED",
        [21] = "KDC_ERR_CLIENT_NOTYET",
        [22] = "KDC_ERR_SERVICE_NOTYET",
        [23] = "KDC_ERR_KEY_EXPIRED",
        [24] = "KDC_ERR_PREAUTH_FAILED",
        [25] = "KDC_ERR_PREAUTH_REQUIRED",
        [26] = "KDC_ERR_SERVER_NOMATCH",
        [27] = "KDC_ERR_MUST_USE_USER2USER",
        [28] = "KDC_ERR_PATH_NOT_ACCEPTED",
        [29] = "KDC_ERR_SVC_UNAVAILABLE",
        [31] = "KRB_AP_ERR_BAD_INTEGRITY",
        [32] = "KRB_AP_ERR_TKT_EXPIRED",
        [33] = "KRB_AP_ERR_TKT_NYV",
        [34] = "KRB_AP_ERR_REPEAT",
        [35] = "KRB_AP_ERR_NOT_US",
        [36] = "KRB_AP_ERR_BADMATCH",
        [37] = "KRB_AP_ERR_SKEW",
        [38] = "KRB_AP_ERR_BADADDR",
        [39] = "KRB_AP_ERR_BADVERSION",
        [40] = "KRB_AP_ERR_MSG_TYPE",
        [41] = "KRB_AP_ERR_MODIFIED",
        [42] = "KRB_AP_ERR_BADORDER",
        [44] = "KRB_AP_ERR_BADKEYVER",
        [45] = "KRB_AP_ERR_NOKEY",
        [46] = "KRB_AP_ERR_MUT_FAIL",
        [47] = "KRB_AP_ERR_BADDIRECTION",
        [48] = "KRB_AP_ERR_METHOD",
        [49] = "KRB_AP_ERR_BADSEQ",
        [50] = "KRB_AP_ERR_INAPP_CKSUM",
        [51] = "KRB_AP_PATH_NOT_ACCEPTED",
        [52] = "KRB_ERR_RESPONSE_TOO_BIG",
        [60] = "KRB_ERR_GENERIC",
        [61] = "KRB_ERR_FIELD_TOOLONG",
        [62] = "KDC_ERROR_CLIENT_NOT_TRUSTED",
        [63] = "KDC_ERROR_KDC_NOT_TRUSTED",
        [64] = "KDC_ERROR_INVALID_SIG",
        [65] = "KDC_ERR_KEY_TOO_WEAK",
        [66] = "KDC_ERR_CERTIFICATE_MISMATCH",
        [67] = "KRB_AP_ERR_NO_TGT",
        [68] = "KDC_ERR_WRONG_REALM",
        [69] = "KRB_AP_ERR_USER_TO_USER_REQUIRED",
        [70] = "KDC_ERR_CANT_VERIFY_CERTIFICATE",
        [71] = "KDC_ERR_INVALID_CERTIFICATE",
        [72] = "KDC_ERR_REVOKED_CERTIFICATE",
        [73] = "KDC_ERR_REVOCATION_STATUS_UNKNOWN",
        [74] = "KDC_ERR_REVOCATION_STATUS_UNAVAILABLE",
        [75] = "KDC_ERR_CLIENT_NAME_MISMATCH",
        [76] = "KDC_ERR_KDC_NAME_MISMATCH",
        [77] = "KDC_ERR_INCONSISTENT_KEY_PURPOSE",
        [78] = "KDC_ERR_DIGEST_IN_CERT_NOT_ACCEPTED",
        [79] = "KDC_ERR_PA_CHECKSUM_MUST_BE_INCLUDED",
        [80] = "KDC_ERR_DIGEST_IN_SIGNED_DATA_NOT_ACCEPTED",
        [81] = "KDC_ERR_PUBLIC_KEY_ENCRYPTION_NOT_SUPPORTED",
        [91] = "KDC_ERR_PREAUTH_EXPIRED",
        [92] = "KDC_ERR_MORE_PREAUTH_DATA_REQUIRED",
        [93] = "KDC_ERR_PREAUTH_BAD_AUTHENTICATION_SET",
        [94] = "KDC_ERR_UNKNOWN_CRITICAL_FAST_OPTIONS",
    };
    if (c < 0 || (uint64_t)c >= sizeof(names) / sizeof(names[0]))
        return NULL;
    return names[c];
}

const char *krb5_name_type_name(int64_t t)
{
    static const char *const names[] = {
        /* RFC 4120 6.2, RFC 6111 */
        "KRB_NT_UNKNOWN",
        "KRB_NT_PRINCIPAL",
        "KRB_NT_SRV_INST",
        "KRB_NT_SRV_HST",
        "KRB_NT_SRV_XHST",
        "KRB_NT_UID",
        "KRB_NT_X500_PRINCIPAL",
        "KRB_NT_SMTP_NAME",
        NULL,
        NULL,
        "KRB_NT_ENTERPRISE",
        "KRB_NT_WELLKNOWN",
    };
    if (t < 0 || (uint64_t)t >= sizeof(names) / sizeof(names[0]))
        return NULL;
    return names[t];
}

static const char *msg_type_name(int64_t m)
{
    switch (m) {
    case 14:
        return "AP-REQ";
    case 15:
        return "AP-REP";
    case 30:
        return "KRB-ERROR";
    default:
        return NULL;
    }
}

/* ----------------------------------------------------------------- text */

/* Valid UTF-8 (no overlong forms, surrogates or code points past U+10FFFF)
 * without C0 controls or DEL. */
static bool utf8_printable(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint8_t c = p[i];
        size_t k;
        uint32_t cp, min;
        if (c < 0x20 || c == 0x7f)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xe0) == 0xc0) {
            k = 2, cp = c & 0x1fu, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            k = 3, cp = c & 0x0fu, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            k = 4, cp = c & 0x07u, min = 0x10000;
        } else {
            return false;
        }
        if (n - i < k)
            return false;
        for (size_t j = 1; j < k; j++) {
            if ((p[i + j] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (p[i + j] & 0x3fu);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += k;
    }
    return true;
}

/* Untrusted bytes as text for people, always valid UTF-8 and NUL-terminated
 * in out[cap] (cap >= 16): valid printable UTF-8 as is, otherwise printable
 * ASCII as is and every other byte as \xNN. esc_sep: a principal name
 * component, whose '/', '@' and '\' are escaped with '\' (as krb5 writes
 * them). Too long: cut at a character boundary and ended with "...". */
static void text_of(const uint8_t *p, size_t n, bool esc_sep, char *out, size_t cap)
{
    bool utf8 = utf8_printable(p, n);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        char tmp[8];
        size_t k;
        if (esc_sep && (c == '/' || c == '@' || c == '\\')) {
            tmp[0] = '\\';
            tmp[1] = (char)c;
            k = 2;
        } else if ((c >= 0x20 && c < 0x7f && c != '\\') || (utf8 && c >= 0x80) ||
                   (utf8 && c == '\\')) {
            tmp[0] = (char)c;
            k = 1;
        } else {
            snprintf(tmp, sizeof(tmp), "\\x%02x", c);
            k = 4;
        }
        if (o + k + 4 > cap) { /* room for "..." and the NUL */
            while (o > 0 && ((uint8_t)out[o - 1] & 0xc0) == 0x80)
                o--; /* a cut sequence's continuation bytes */
            if (o > 0 && (uint8_t)out[o - 1] >= 0xc0)
                o--; /* and its lead byte */
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        memcpy(out + o, tmp, k);
        o += k;
    }
    out[o] = 0;
}

/* ------------------------------------------------------------- reading */

/* [n] EXPLICIT around one value: enter it, read the value, require the end. */
static sspx_status explicit_value(der_rd *seq, uint32_t n, der_tlv *t)
{
    der_rd f;
    GUARD(der_enter_explicit(seq, n, &f));
    GUARD(der_read(&f, t));
    return der_finish(&f);
}

static bool has(const der_rd *seq, uint32_t n)
{
    return der_next_is(seq, DER_CONTEXT, true, n);
}

static bool is(const der_tlv *t, uint32_t tag)
{
    return t->cls == DER_UNIVERSAL && !t->constructed && t->tag == tag;
}

static sspx_status int_field(der_rd *seq, uint32_t n, int64_t *v, der_tlv *t)
{
    GUARD(explicit_value(seq, n, t));
    ENSURE(is(t, DER_TAG_INTEGER), SSPX_ERR_DER_UNEXPECTED_TAG);
    return der_get_int64(t, v);
}

/* KerberosString / Realm: GeneralString (UTF8String accepted too). */
static sspx_status string_field(der_rd *seq, uint32_t n, der_tlv *t)
{
    GUARD(explicit_value(seq, n, t));
    ENSURE(is(t, DER_TAG_GENERAL_STRING) || is(t, DER_TAG_UTF8_STRING),
           SSPX_ERR_DER_UNEXPECTED_TAG);
    return SEC_E_OK;
}

/* A constructed value inside [n]: a reader over its contents. */
static sspx_status struct_field(der_rd *seq, uint32_t n, uint8_t cls, uint32_t tag, der_tlv *t,
                                der_rd *sub)
{
    der_rd f;
    GUARD(der_enter_explicit(seq, n, &f));
    GUARD(der_expect(&f, cls, true, tag, t));
    GUARD(der_finish(&f));
    return der_enter(&f, t, sub);
}

/* -------------------------------------------------------------- nodes */

static void uint_node(sspx_desc *parent, const char *name, const der_tlv *t, int64_t v)
{
    sspx_desc_uint_node(parent, name, t->off, t->hdr_len + t->len, (uint64_t)v);
}

static void enum_node(sspx_desc *parent, const char *name, const der_tlv *t, int64_t v,
                      const char *text)
{
    char num[32];
    if (!text) {
        snprintf(num, sizeof(num), "unknown (%lld)", (long long)v);
        text = num;
    }
    sspx_desc_text_node(parent, name, SSPX_DESC_ENUM, t->off, t->hdr_len + t->len, (uint64_t)v,
                        text);
}

static sspx_desc *string_node(sspx_desc *parent, const char *name, const der_tlv *t)
{
    char txt[TEXT_CAP];
    text_of(t->p, t->len, false, txt, sizeof(txt));
    return sspx_desc_text_node(parent, name, SSPX_DESC_STRING, t->off + t->hdr_len, t->len, 0, txt);
}

static void bytes_node(sspx_desc *parent, const char *name, const der_tlv *t)
{
    sspx_desc_bytes_node(parent, name, t->off + t->hdr_len, t->p, t->len);
}

/* KerberosTime "YYYYMMDDHHMMSSZ" as "YYYY-MM-DD HH:MM:SS UTC"; anything
 * else as its text. */
static void time_node(sspx_desc *parent, const char *name, const der_tlv *t)
{
    char txt[TEXT_CAP];
    bool ok = t->len == 15 && t->p[14] == 'Z';
    for (size_t i = 0; ok && i < 14; i++)
        ok = t->p[i] >= '0' && t->p[i] <= '9';
    if (ok) {
        const char *s = (const char *)t->p;
        snprintf(txt, sizeof(txt), "%.4s-%.2s-%.2s %.2s:%.2s:%.2s UTC", s, s + 4, s + 6, s + 8,
                 s + 10, s + 12);
    } else {
        text_of(t->p, t->len, false, txt, sizeof(txt));
    }
    sspx_desc_text_node(parent, name, SSPX_DESC_STRING, t->off + t->hdr_len, t->len, 0, txt);
}

static sspx_status time_field(der_rd *seq, uint32_t n, sspx_desc *parent, const char *name)
{
    der_tlv t;
    GUARD(explicit_value(seq, n, &t));
    ENSURE(is(&t, DER_TAG_GENERALIZED_TIME), SSPX_ERR_DER_UNEXPECTED_TAG);
    time_node(parent, name, &t);
    return SEC_E_OK;
}

static sspx_status uint_field(der_rd *seq, uint32_t n, sspx_desc *parent, const char *name)
{
    der_tlv t;
    int64_t v;
    GUARD(int_field(seq, n, &v, &t));
    uint_node(parent, name, &t, v);
    return SEC_E_OK;
}

static sspx_status realm_field(der_rd *seq, uint32_t n, sspx_desc *parent, const char *name)
{
    der_tlv t;
    GUARD(string_field(seq, n, &t));
    string_node(parent, name, &t);
    return SEC_E_OK;
}

#define MAX_COMPONENTS 16

/* PrincipalName in [n]: a string node with the components joined by '/'
 * ("HTTP/localhost"), holding NameType and each NameString. */
static sspx_status principal_field(der_rd *seq, uint32_t n, sspx_desc *parent, const char *name)
{
    der_rd pn, names;
    der_tlv t, nt, comps[MAX_COMPONENTS], s;
    int64_t type;
    size_t count = 0, o = 0;
    char joined[TEXT_CAP], one[TEXT_CAP];
    GUARD(struct_field(seq, n, DER_UNIVERSAL, DER_TAG_SEQUENCE, &t, &pn));
    GUARD(int_field(&pn, 0, &type, &nt));
    GUARD(struct_field(&pn, 1, DER_UNIVERSAL, DER_TAG_SEQUENCE, &s, &names));
    GUARD(der_finish(&pn));
    joined[0] = 0;
    while (!der_rd_done(&names)) {
        der_tlv c;
        GUARD(der_read(&names, &c));
        ENSURE(is(&c, DER_TAG_GENERAL_STRING) || is(&c, DER_TAG_UTF8_STRING),
               SSPX_ERR_DER_UNEXPECTED_TAG);
        ENSURE(count < MAX_COMPONENTS, SSPX_ERR_KRB_DEFECTIVE_TOKEN);
        comps[count++] = c;
        text_of(c.p, c.len, true, one, sizeof(one));
        size_t k = strlen(one);
        if (o == SIZE_MAX) /* already cut */
            continue;
        if (o + (count > 1) + k + 4 > sizeof(joined)) {
            memcpy(joined + o, "...", 4);
            o = SIZE_MAX;
            continue;
        }
        if (count > 1)
            joined[o++] = '/';
        memcpy(joined + o, one, k + 1);
        o += k;
    }
    sspx_desc *d =
        sspx_desc_text_node(parent, name, SSPX_DESC_STRING, t.off, t.hdr_len + t.len, 0, joined);
    ENSURE(d, SSPX_ERR_NO_MEMORY); /* a NULL parent would start a tree of its own */
    enum_node(d, "NameType", &nt, type, krb5_name_type_name(type));
    for (size_t i = 0; i < count; i++)
        string_node(d, "NameString", &comps[i]);
    return SEC_E_OK;
}

/* EncryptedData in [n]: EType (named), Kvno when present, Cipher. */
static sspx_status enc_data_field(der_rd *seq, uint32_t n, sspx_desc *parent, const char *name)
{
    der_rd ed;
    der_tlv t, et, c;
    int64_t etype;
    GUARD(struct_field(seq, n, DER_UNIVERSAL, DER_TAG_SEQUENCE, &t, &ed));
    sspx_desc *d = sspx_desc_node(parent, name, SSPX_DESC_STRUCT, t.off, t.hdr_len + t.len);
    ENSURE(d, SSPX_ERR_NO_MEMORY); /* a NULL parent would start a tree of its own */
    GUARD(int_field(&ed, 0, &etype, &et));
    enum_node(d, "EType", &et, etype, krb5_etype_name(etype));
    if (has(&ed, 1))
        GUARD(uint_field(&ed, 1, d, "Kvno"));
    GUARD(explicit_value(&ed, 2, &c));
    ENSURE(is(&c, DER_TAG_OCTET_STRING), SSPX_ERR_DER_UNEXPECTED_TAG);
    bytes_node(d, "Cipher", &c);
    return der_finish(&ed);
}

/* pvno [0] and msg-type [1], which must agree with the application tag. */
static sspx_status header(der_rd *seq, sspx_desc *root, int64_t want, der_tlv *mt)
{
    der_tlv t;
    int64_t pvno, m;
    GUARD(int_field(seq, 0, &pvno, &t));
    GUARD(int_field(seq, 1, &m, mt));
    ENSURE(m == want, SSPX_ERR_KRB_DEFECTIVE_TOKEN);
    if (root->nkids && strcmp(root->kids[0]->name, "MessageType") == 0) {
        root->kids[0]->offset = mt->off;
        root->kids[0]->length = mt->hdr_len + mt->len;
    }
    uint_node(root, "Pvno", &t, pvno);
    return SEC_E_OK;
}

static const char *const ap_option_names[3] = {"reserved", "use-session-key", "mutual-required"};

static sspx_status describe_ap_req(der_rd *seq, sspx_desc *root)
{
    der_tlv t, mt;
    unsigned unused;
    const uint8_t *bits;
    size_t nbytes;
    GUARD(header(seq, root, 14, &mt));
    GUARD(explicit_value(seq, 2, &t));
    ENSURE(is(&t, DER_TAG_BIT_STRING), SSPX_ERR_DER_UNEXPECTED_TAG);
    GUARD(der_get_bit_string(&t, &unused, &bits, &nbytes));
    uint32_t opts = der_bits_to_flags(bits, nbytes, unused);
    sspx_desc *f = sspx_desc_text_node(root, "ApOptions", SSPX_DESC_FLAGS, t.off, t.hdr_len + t.len,
                                       opts, NULL);
    ENSURE(f, SSPX_ERR_NO_MEMORY);
    for (unsigned i = 0; i < 32; i++) {
        char other[16];
        if (!(opts & (1u << i)))
            continue;
        snprintf(other, sizeof(other), "bit%u", i);
        sspx_desc_text_node(f, i < 3 ? ap_option_names[i] : other, SSPX_DESC_FLAG, t.off,
                            t.hdr_len + t.len, 1u << i, NULL);
    }
    /* ticket [3] Ticket ::= [APPLICATION 1] SEQUENCE */
    {
        der_rd app, ts;
        der_tlv s;
        GUARD(struct_field(seq, 3, DER_APPLICATION, 1, &t, &app));
        sspx_desc *tn = sspx_desc_node(root, "Ticket", SSPX_DESC_STRUCT, t.off, t.hdr_len + t.len);
        ENSURE(tn, SSPX_ERR_NO_MEMORY);
        GUARD(der_enter_seq(&app, &ts, &s));
        GUARD(der_finish(&app));
        GUARD(uint_field(&ts, 0, tn, "TktVno"));
        GUARD(realm_field(&ts, 1, tn, "Realm"));
        GUARD(principal_field(&ts, 2, tn, "SName"));
        GUARD(enc_data_field(&ts, 3, tn, "EncPart"));
        GUARD(der_finish(&ts));
    }
    GUARD(enc_data_field(seq, 4, root, "Authenticator"));
    return der_finish(seq);
}

static sspx_status describe_ap_rep(der_rd *seq, sspx_desc *root)
{
    der_tlv mt;
    GUARD(header(seq, root, 15, &mt));
    GUARD(enc_data_field(seq, 2, root, "EncPart"));
    return der_finish(seq);
}

static sspx_status describe_error(der_rd *seq, sspx_desc *root)
{
    der_tlv mt, t;
    int64_t code;
    GUARD(header(seq, root, 30, &mt));
    if (has(seq, 2))
        GUARD(time_field(seq, 2, root, "CTime"));
    if (has(seq, 3))
        GUARD(uint_field(seq, 3, root, "Cusec"));
    GUARD(time_field(seq, 4, root, "STime"));
    GUARD(uint_field(seq, 5, root, "Susec"));
    GUARD(int_field(seq, 6, &code, &t));
    enum_node(root, "ErrorCode", &t, code, krb5_error_name(code));
    if (has(seq, 7))
        GUARD(realm_field(seq, 7, root, "CRealm"));
    if (has(seq, 8))
        GUARD(principal_field(seq, 8, root, "CName"));
    GUARD(realm_field(seq, 9, root, "Realm"));
    GUARD(principal_field(seq, 10, root, "SName"));
    if (has(seq, 11))
        GUARD(realm_field(seq, 11, root, "EText"));
    if (has(seq, 12)) {
        GUARD(explicit_value(seq, 12, &t));
        ENSURE(is(&t, DER_TAG_OCTET_STRING), SSPX_ERR_DER_UNEXPECTED_TAG);
        bytes_node(root, "EData", &t);
    }
    return der_finish(seq);
}

/* ---------------------------------------------------------------- entry */

static bool krb5_oid(const der_oid *o)
{
    return der_oid_eq(o, (const uint8_t *)SPNEGO_OID_KRB5, SPNEGO_OID_LEN(SPNEGO_OID_KRB5)) ||
           der_oid_eq(o, (const uint8_t *)SPNEGO_OID_MS_KRB5, SPNEGO_OID_LEN(SPNEGO_OID_MS_KRB5));
}

/* The application tag a TOK_ID announces (RFC 4121 4.1), or 0. */
static uint32_t tok_id_app(const uint8_t *p)
{
    if (p[1] != 0x00)
        return 0;
    return p[0] == 0x01 ? 14 : p[0] == 0x02 ? 15 : p[0] == 0x03 ? 30 : 0;
}

static const char *tok_id_name(uint32_t app)
{
    return app == 14 ? "KRB_AP_REQ" : app == 15 ? "KRB_AP_REP" : "KRB_ERROR";
}

static bool app_known(uint8_t id)
{
    return id == (DER_APPLICATION | DER_CONSTRUCTED | 14) ||
           id == (DER_APPLICATION | DER_CONSTRUCTED | 15) ||
           id == (DER_APPLICATION | DER_CONSTRUCTED | 30);
}

int krb5_recognise(const uint8_t *tok, size_t len)
{
    der_rd d, app;
    der_tlv t;
    if (!tok || len < 2)
        return 0;
    if (tok[0] == (DER_APPLICATION | DER_CONSTRUCTED | 0)) {
        gss_framed f;
        if (gss_decode_framing(tok, len, &f) < 0 || !krb5_oid(&f.mech) || f.inner_len < 3)
            return 0;
        return tok_id_app(f.inner) != 0 &&
               f.inner[2] == (DER_APPLICATION | DER_CONSTRUCTED | tok_id_app(f.inner));
    }
    if (!app_known(tok[0]))
        return 0;
    der_rd_init(&d, tok, len);
    return der_read(&d, &t) == SEC_E_OK && der_enter(&d, &t, &app) == SEC_E_OK &&
           der_next_is(&app, DER_UNIVERSAL, true, DER_TAG_SEQUENCE);
}

static sspx_status describe(const uint8_t *tok, size_t len, sspx_desc *root)
{
    der_rd d, app, seq;
    der_tlv t;
    gss_framed f;
    uint32_t want;
    bool framed = len > 0 && tok[0] == (DER_APPLICATION | DER_CONSTRUCTED | 0);
    ENSURE(len > 0, SSPX_ERR_DER_TRUNCATED);
    der_rd_init(&d, tok, len);
    if (framed) {
        GUARD(gss_decode_framing(tok, len, &f));
        ENSURE(krb5_oid(&f.mech), SSPX_ERR_KRB_DEFECTIVE_TOKEN);
        ENSURE(f.inner_len >= 2, SSPX_ERR_DER_TRUNCATED);
        want = tok_id_app(f.inner);
        ENSURE(want != 0, SSPX_ERR_KRB_DEFECTIVE_TOKEN);
        sspx_rd_init(&d.r, f.inner + 2, f.inner_len - 2);
        d.base = f.inner_off + 2;
        d.depth = 1;
    } else {
        ENSURE(app_known(tok[0]), SSPX_ERR_KRB_DEFECTIVE_TOKEN);
        want = tok[0] & 0x1fu;
    }
    /* MessageType first: the first enum names the message (its place is
     * set when msg-type is read) */
    sspx_desc_text_node(root, "MessageType", SSPX_DESC_ENUM, 0, 0, want, msg_type_name(want));
    if (framed) {
        char dotted[64], txt[96];
        if (!der_oid_format(f.mech.p, f.mech.len, dotted, sizeof(dotted)))
            dotted[0] = 0;
        snprintf(txt, sizeof(txt), "%s (%s)", dotted, spnego_mech_name(&f.mech));
        sspx_desc_text_node(root, "ThisMech", SSPX_DESC_STRING, f.mech.off, f.mech.der_len, 0, txt);
        sspx_desc_text_node(root, "TokId", SSPX_DESC_ENUM, f.inner_off, 2,
                            (uint64_t)f.inner[0] << 8 | f.inner[1], tok_id_name(want));
    }
    /* a TOK_ID announcing another message is refused here */
    GUARD(der_expect(&d, DER_APPLICATION, true, want, &t));
    GUARD(der_finish(&d));
    GUARD(der_enter(&d, &t, &app));
    GUARD(der_enter_seq(&app, &seq, &t));
    GUARD(der_finish(&app));
    return want == 14   ? describe_ap_req(&seq, root)
           : want == 15 ? describe_ap_rep(&seq, root)
                        : describe_error(&seq, root);
}

sspx_status krb5_describe(const uint8_t *tok, size_t len, sspx_desc **out)
{
    sspx_desc *root;
    sspx_status st;
    ENSURE(out && (tok || len == 0), SSPX_ERR_NULL_ARG);
    *out = NULL;
    root = sspx_desc_node(NULL, "Kerberos", SSPX_DESC_STRUCT, 0, len);
    ENSURE(root, SSPX_ERR_NO_MEMORY);
    st = describe(tok, len, root);
    if (st < 0) {
        sspx_desc_free(&root);
        return st;
    }
    *out = root;
    return SEC_E_OK;
}
