/*
 * The adaptor to Heimdal's GSS-API and krb5: the only file of the package
 * that includes Heimdal's headers. Everything here takes and returns plain
 * bytes, opaque handles and sspx statuses.
 *
 * Credentials are made per sspx credential with gss_krb5_import_cred (a
 * keytab for the acceptor, a ccache for the initiator), never with the
 * process-wide gsskrb5_register_acceptor_identity.
 *
 * Errors: GSS major/minor codes become errors.def entries (map_err); the
 * text Heimdal gives for both is kept in a thread-local (krb_gss_last_detail).
 */
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_krb5.h>
#include <krb5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "krb.h"
#include "wire/der.h"

_Static_assert(KRB_GSS_DELEG == GSS_C_DELEG_FLAG && KRB_GSS_MUTUAL == GSS_C_MUTUAL_FLAG &&
                   KRB_GSS_REPLAY == GSS_C_REPLAY_FLAG && KRB_GSS_SEQUENCE == GSS_C_SEQUENCE_FLAG &&
                   KRB_GSS_CONF == GSS_C_CONF_FLAG && KRB_GSS_INTEG == GSS_C_INTEG_FLAG,
               "RFC 2744 flag values");

_Static_assert(KRB_ERR_REPEAT == KRB5KRB_AP_ERR_REPEAT && KRB_ERR_GENERIC == KRB5KRB_ERR_GENERIC,
               "Heimdal's krb5 error codes");

#define FLAG_MASK                                                                        \
    (KRB_GSS_DELEG | KRB_GSS_MUTUAL | KRB_GSS_REPLAY | KRB_GSS_SEQUENCE | KRB_GSS_CONF | \
     KRB_GSS_INTEG)

static _Thread_local char detail[512];

/* &inq_sspi_session_key, 1.2.840.113554.1.2.2.5.5: Heimdal declares it in
 * gssapi_oid.h but does not export the symbol, so it is spelled out here. */
static gss_OID_desc inq_sspi_session_key = {11,
                                            (void *)"\x2a\x86\x48\x86\xf7\x12\x01\x02\x02\x05\x05"};

const char *krb_gss_last_detail(void)
{
    return detail;
}

/* Append Heimdal's text for one status code to the detail. */
static void append_status(OM_uint32 code, int type)
{
    OM_uint32 min, ctx = 0;
    gss_buffer_desc msg = GSS_C_EMPTY_BUFFER;
    int guard = 0;
    do {
        size_t used = strlen(detail);
        if (gss_display_status(&min, code, type, GSS_KRB5_MECHANISM, &ctx, &msg) != GSS_S_COMPLETE)
            break;
        bool first = used >= 2 && detail[used - 2] == ':' && detail[used - 1] == ' ';
        snprintf(detail + used, sizeof(detail) - used, "%s%.*s", used && !first ? "; " : "",
                 (int)msg.length, (const char *)msg.value);
        gss_release_buffer(&min, &msg);
    } while (ctx != 0 && ++guard < 4);
}

static void set_detail(const char *call, OM_uint32 major, OM_uint32 minor)
{
    snprintf(detail, sizeof(detail), "%s: ", call);
    if (GSS_ERROR(major))
        append_status(major, GSS_C_GSS_CODE);
    if (minor)
        append_status(minor, GSS_C_MECH_CODE);
}

/* A GSS failure -> an errors.def entry. `dflt` for what is not recognised. */
static enum sspx_err map_err(OM_uint32 major, OM_uint32 minor, enum sspx_err dflt)
{
    switch ((krb5_error_code)minor) {
    case KRB5KRB_AP_ERR_BAD_INTEGRITY:
    case KRB5KRB_AP_ERR_MODIFIED:
    case KRB5KRB_AP_ERR_BADKEYVER:
    case KRB5KRB_AP_ERR_NOKEY:
    case KRB5KRB_AP_ERR_NOT_US:
    case KRB5KRB_AP_WRONG_PRINC:
    case KRB5_KT_NOTFOUND:
        return dflt == SSPX_ERR_KRB_MSG_ALTERED ? dflt : SSPX_ERR_KRB_BAD_KEY;
    case KRB5KRB_AP_ERR_TKT_EXPIRED:
    case KRB5KRB_AP_ERR_TKT_NYV:
        return SSPX_ERR_KRB_EXPIRED;
    case KRB5KRB_AP_ERR_SKEW:
        return SSPX_ERR_KRB_SKEW;
    case KRB5KRB_AP_ERR_REPEAT:
        return SSPX_ERR_KRB_REPLAY;
    case KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN:
        return SSPX_ERR_KRB_TARGET_UNKNOWN;
    case KRB5KRB_AP_ERR_MSG_TYPE:
    case KRB5KRB_AP_ERR_BADVERSION:
    case KRB5KRB_AP_ERR_INAPP_CKSUM:
        return SSPX_ERR_KRB_DEFECTIVE_TOKEN;
    default:
        break;
    }
    switch (GSS_ROUTINE_ERROR(major)) {
    case GSS_S_DEFECTIVE_TOKEN:
    case GSS_S_BAD_MECH:
    case GSS_S_NO_CONTEXT:
        return SSPX_ERR_KRB_DEFECTIVE_TOKEN;
    case GSS_S_BAD_BINDINGS:
        return SSPX_ERR_KRB_BAD_BINDINGS;
    case GSS_S_BAD_SIG:
        return dflt == SSPX_ERR_KRB_MSG_ALTERED ? dflt : SSPX_ERR_KRB_BAD_KEY;
    case GSS_S_DUPLICATE_TOKEN:
        return SSPX_ERR_KRB_REPLAY;
    case GSS_S_CREDENTIALS_EXPIRED:
    case GSS_S_CONTEXT_EXPIRED:
        return SSPX_ERR_KRB_EXPIRED;
    case GSS_S_NO_CRED:
        return SSPX_ERR_KRB_NO_CRED;
    case GSS_S_BAD_NAME:
    case GSS_S_BAD_NAMETYPE:
        return SSPX_ERR_KRB_BAD_TARGET;
    default:
        break;
    }
    /* ASN.1 decoding errors of the ticket / authenticator */
    if ((minor & 0xffffff00u) == ((OM_uint32)ASN1_BAD_TIMEFORMAT & 0xffffff00u))
        return SSPX_ERR_KRB_DEFECTIVE_TOKEN;
    return dflt;
}

static sspx_status gss_fail(const char *call, OM_uint32 major, OM_uint32 minor, enum sspx_err dflt,
                            int line)
{
    sspx_status st;
    set_detail(call, major, minor);
    st = sspx_err_set(map_err(major, minor, dflt), __FILE__, line);
    sspx_err_detail(detail);
    return st;
}
#define GSS_FAIL(call, maj, min, dflt) gss_fail(call, maj, min, dflt, __LINE__)

static sspx_status krb5_fail(krb5_context k, const char *call, krb5_error_code code,
                             enum sspx_err err, int line)
{
    const char *m = k ? krb5_get_error_message(k, code) : NULL;
    sspx_status st;
    snprintf(detail, sizeof(detail), "%s: %s (%d)", call, m ? m : "error", (int)code);
    if (m)
        krb5_free_error_message(k, m);
    st = sspx_err_set(err, __FILE__, line);
    sspx_err_detail(detail);
    return st;
}
#define KRB5_FAIL(k, call, code, err) krb5_fail(k, call, code, err, __LINE__)

/* A krb5 context of this call's own (Heimdal's GSS keeps one per thread;
 * these calls do not touch it). *k stays NULL on failure. */
static sspx_status new_context(krb5_context *k)
{
    krb5_error_code code = krb5_init_context(k);
    if (code) {
        *k = NULL;
        return KRB5_FAIL(NULL, "krb5_init_context", code, SSPX_ERR_KRB_INIT);
    }
    return SEC_E_OK;
}

/* ----------------------------------------------------------- credentials */

sspx_status krb_gss_acquire_acceptor(const char *keytab, const char *principal, char *kt_name,
                                     size_t kt_cap, krb_gss_cred **out)
{
    krb5_context k = NULL;
    krb5_keytab kt = NULL;
    krb5_principal p = NULL;
    krb5_kt_cursor cur;
    krb5_keytab_entry e;
    char *full = NULL;
    krb5_error_code code;
    gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;
    OM_uint32 maj, min;
    sspx_status st = SEC_E_OK;

    detail[0] = 0;
    st = new_context(&k);
    if (st < 0)
        goto out;
    code = keytab ? krb5_kt_resolve(k, keytab, &kt) : krb5_kt_default(k, &kt);
    if (code) {
        st = KRB5_FAIL(k, "krb5_kt_resolve", code, SSPX_ERR_KRB_NO_KEYTAB);
        goto out;
    }
    if (principal) {
        code = krb5_parse_name(k, principal, &p);
        if (code) {
            st = KRB5_FAIL(k, "krb5_parse_name", code, SSPX_ERR_KRB_BAD_PRINCIPAL);
            goto out;
        }
        code = krb5_kt_get_entry(k, kt, p, 0, 0, &e);
        if (code) {
            st = KRB5_FAIL(k, "krb5_kt_get_entry", code, SSPX_ERR_KRB_NO_KEYTAB);
            goto out;
        }
        krb5_kt_free_entry(k, &e);
    } else { /* any key will do; an empty or unreadable keytab is refused now */
        code = krb5_kt_start_seq_get(k, kt, &cur);
        if (code) {
            st = KRB5_FAIL(k, "krb5_kt_start_seq_get", code, SSPX_ERR_KRB_NO_KEYTAB);
            goto out;
        }
        code = krb5_kt_next_entry(k, kt, &e, &cur);
        krb5_kt_end_seq_get(k, kt, &cur);
        if (code) {
            st = KRB5_FAIL(k, "krb5_kt_next_entry", code, SSPX_ERR_KRB_NO_KEYTAB);
            goto out;
        }
        krb5_kt_free_entry(k, &e);
    }
    if (krb5_kt_get_full_name(k, kt, &full) || strlen(full) >= kt_cap) {
        st = KRB5_FAIL(k, "krb5_kt_get_full_name", 0, SSPX_ERR_KRB_NO_KEYTAB);
        goto out;
    }
    strcpy(kt_name, full);
    maj = gss_krb5_import_cred(&min, NULL, p, kt, &cred);
    if (GSS_ERROR(maj)) {
        st = GSS_FAIL("gss_krb5_import_cred", maj, min, SSPX_ERR_KRB_NO_KEYTAB);
        goto out;
    }
    *out = (krb_gss_cred *)cred;
out:
    free(full);
    if (p)
        krb5_free_principal(k, p);
    if (kt)
        krb5_kt_close(k, kt);
    if (k)
        krb5_free_context(k);
    return st;
}

sspx_status krb_gss_acquire_initiator(const char *ccache, char *name, size_t cap,
                                      krb_gss_cred **out)
{
    krb5_context k = NULL;
    krb5_ccache cc = NULL;
    krb5_principal p = NULL;
    char *s = NULL;
    krb5_error_code code;
    gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;
    OM_uint32 maj, min;
    sspx_status st = SEC_E_OK;

    detail[0] = 0;
    st = new_context(&k);
    if (st < 0)
        goto out;
    code = ccache ? krb5_cc_resolve(k, ccache, &cc) : krb5_cc_default(k, &cc);
    if (code) {
        st = KRB5_FAIL(k, "krb5_cc_resolve", code, SSPX_ERR_KRB_NO_CCACHE);
        goto out;
    }
    code = krb5_cc_get_principal(k, cc, &p);
    if (code) {
        st = KRB5_FAIL(k, "krb5_cc_get_principal", code, SSPX_ERR_KRB_NO_CCACHE);
        goto out;
    }
    code = krb5_unparse_name(k, p, &s);
    if (code || strlen(s) >= cap) {
        st = KRB5_FAIL(k, "krb5_unparse_name", code, SSPX_ERR_KRB_BAD_PRINCIPAL);
        goto out;
    }
    strcpy(name, s);
    maj = gss_krb5_import_cred(&min, cc, NULL, NULL, &cred);
    if (GSS_ERROR(maj)) {
        st = GSS_FAIL("gss_krb5_import_cred", maj, min, SSPX_ERR_KRB_NO_CCACHE);
        goto out;
    }
    *out = (krb_gss_cred *)cred;
out:
    if (s)
        krb5_xfree(s);
    if (p)
        krb5_free_principal(k, p);
    if (cc)
        krb5_cc_close(k, cc);
    if (k)
        krb5_free_context(k);
    return st;
}

/* The remaining lifetime of a GSS credential as a FILETIME expiry. */
static int64_t cred_expiry(gss_cred_id_t cred)
{
    OM_uint32 maj, min, life = 0;
    maj = gss_inquire_cred(&min, cred, NULL, &life, NULL, NULL);
    if (GSS_ERROR(maj))
        return SSPX_TIMESTAMP_NEVER;
    return krb_expiry(life);
}

sspx_status krb_gss_cred_expiry(krb_gss_cred *c, int64_t *expiry)
{
    *expiry = cred_expiry((gss_cred_id_t)c);
    return SEC_E_OK;
}

/* A new MEMORY ccache; its full name ("MEMORY:...") to ccname. */
static krb5_error_code new_mem_ccache(krb5_context k, krb5_ccache *cc, char *ccname, size_t cap)
{
    char *full = NULL;
    krb5_error_code code = krb5_cc_new_unique(k, "MEMORY", NULL, cc);
    if (code)
        return code;
    code = krb5_cc_get_full_name(k, *cc, &full);
    if (!code && strlen(full) >= cap)
        code = KRB5_CC_BADNAME;
    if (!code)
        strcpy(ccname, full);
    free(full);
    if (code) {
        krb5_cc_destroy(k, *cc);
        *cc = NULL;
    }
    return code;
}

/* A failure of krb5_get_init_creds_password -> an errors.def entry. */
static enum sspx_err map_as_err(krb5_error_code code)
{
    switch (code) {
    case KRB5_KDC_UNREACH:
    case KRB5_REALM_UNKNOWN:
    case KRB5_REALM_CANT_RESOLVE:
    case KRB5_NO_LOCALNAME:
        return SSPX_ERR_KRB_NO_AUTHORITY;
    case KRB5KDC_ERR_PREAUTH_FAILED:
    case KRB5KRB_AP_ERR_BAD_INTEGRITY:
    case KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN:
    case KRB5KDC_ERR_CLIENT_REVOKED:
    case KRB5KDC_ERR_KEY_EXPIRED:
    case KRB5KDC_ERR_POLICY:
        return SSPX_ERR_KRB_PASSWORD;
    case KRB5KRB_AP_ERR_SKEW:
        return SSPX_ERR_KRB_SKEW;
    default:
        return SSPX_ERR_KRB_DENIED;
    }
}

sspx_status krb_gss_acquire_password(const char *principal, const char *password, char *ccname,
                                     size_t cc_cap, char *name, size_t name_cap, krb_gss_cred **out)
{
    krb5_context k = NULL;
    krb5_principal p = NULL;
    krb5_get_init_creds_opt *opt = NULL;
    krb5_creds creds;
    krb5_ccache cc = NULL;
    char *s = NULL;
    krb5_error_code code;
    gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;
    OM_uint32 maj, min;
    bool have_creds = false;
    sspx_status st = SEC_E_OK;

    detail[0] = 0;
    ccname[0] = 0;
    memset(&creds, 0, sizeof(creds));
    st = new_context(&k);
    if (st < 0)
        goto out;
    code = krb5_parse_name(k, principal, &p);
    if (code) {
        st = KRB5_FAIL(k, "krb5_parse_name", code, SSPX_ERR_KRB_BAD_PRINCIPAL);
        goto out;
    }
    code = krb5_get_init_creds_opt_alloc(k, &opt);
    if (code) {
        st = KRB5_FAIL(k, "krb5_get_init_creds_opt_alloc", code, SSPX_ERR_NO_MEMORY);
        goto out;
    }
    /* as Windows' TGTs: forwardable (delegation needs it) */
    krb5_get_init_creds_opt_set_forwardable(opt, 1);
    code = krb5_get_init_creds_password(k, &creds, p, password, NULL, NULL, 0, NULL, opt);
    if (code) {
        st = KRB5_FAIL(k, "krb5_get_init_creds_password", code, map_as_err(code));
        goto out;
    }
    have_creds = true;
    code = krb5_unparse_name(k, creds.client, &s);
    if (code || strlen(s) >= name_cap) {
        st = KRB5_FAIL(k, "krb5_unparse_name", code, SSPX_ERR_KRB_BAD_PRINCIPAL);
        goto out;
    }
    strcpy(name, s);
    code = new_mem_ccache(k, &cc, ccname, cc_cap);
    if (!code)
        code = krb5_cc_initialize(k, cc, creds.client);
    if (!code)
        code = krb5_cc_store_cred(k, cc, &creds);
    if (code) {
        st = KRB5_FAIL(k, "krb5_cc_store_cred", code, SSPX_ERR_KRB_NO_CCACHE);
        goto out;
    }
    maj = gss_krb5_import_cred(&min, cc, NULL, NULL, &cred);
    if (GSS_ERROR(maj)) {
        st = GSS_FAIL("gss_krb5_import_cred", maj, min, SSPX_ERR_KRB_NO_CCACHE);
        goto out;
    }
    *out = (krb_gss_cred *)cred;
out:
    if (st < 0 && cc) {
        krb5_cc_destroy(k, cc);
        ccname[0] = 0;
    } else if (cc) {
        krb5_cc_close(k, cc); /* a MEMORY ccache lives on until destroyed */
    }
    if (s)
        krb5_xfree(s);
    if (have_creds)
        krb5_free_cred_contents(k, &creds);
    if (opt)
        krb5_get_init_creds_opt_free(k, opt);
    if (p)
        krb5_free_principal(k, p);
    if (k)
        krb5_free_context(k);
    return st;
}

sspx_status krb_gss_copy_to_memory(krb_gss_cred *c, char *ccname, size_t cap)
{
    krb5_context k = NULL;
    krb5_ccache cc = NULL;
    krb5_error_code code;
    OM_uint32 maj, min;
    sspx_status st = SEC_E_OK;
    detail[0] = 0;
    ccname[0] = 0;
    GUARD(new_context(&k));
    code = new_mem_ccache(k, &cc, ccname, cap);
    if (code) {
        st = KRB5_FAIL(k, "krb5_cc_new_unique", code, SSPX_ERR_KRB_NO_CCACHE);
    } else {
        maj = gss_krb5_copy_ccache(&min, (gss_cred_id_t)c, cc);
        if (GSS_ERROR(maj)) {
            st = GSS_FAIL("gss_krb5_copy_ccache", maj, min, SSPX_ERR_KRB_NO_DELEGATION);
            krb5_cc_destroy(k, cc);
            ccname[0] = 0;
        } else {
            krb5_cc_close(k, cc);
        }
    }
    krb5_free_context(k);
    return st;
}

uint32_t krb_gss_max_skew(void)
{
    krb5_context k = NULL;
    time_t skew = 300;
    if (krb5_init_context(&k) == 0) {
        skew = krb5_get_max_time_skew(k);
        krb5_free_context(k);
    }
    return skew > 0 && skew < 86400 ? (uint32_t)skew : 300;
}

bool krb_gss_default_realm(char *out, size_t cap)
{
    krb5_context k = NULL;
    char *r = NULL;
    bool ok = false;
    if (krb5_init_context(&k))
        return false;
    if (krb5_get_default_realm(k, &r) == 0 && r && strlen(r) < cap) {
        strcpy(out, r);
        ok = true;
    }
    if (r)
        krb5_xfree(r);
    krb5_free_context(k);
    return ok;
}

void krb_gss_destroy_ccache(const char *ccname)
{
    krb5_context k = NULL;
    krb5_ccache cc = NULL;
    if (!ccname || !*ccname || krb5_init_context(&k))
        return;
    if (krb5_cc_resolve(k, ccname, &cc) == 0)
        krb5_cc_destroy(k, cc);
    krb5_free_context(k);
}

void krb_gss_cred_release(krb_gss_cred **c)
{
    OM_uint32 min;
    gss_cred_id_t g = (gss_cred_id_t)*c;
    if (g != GSS_C_NO_CREDENTIAL)
        gss_release_cred(&min, &g);
    *c = NULL;
}

/* -------------------------------------------------------------- contexts */

/* The krb5 error code (KRB5KDC_ERR_NONE + error-code) of a GSS-framed
 * KRB-ERROR token, or 0 when the token is not one. */
static int32_t krb_error_token_code(const void *tok, size_t len)
{
    gss_framed f;
    krb5_context k = NULL;
    krb5_data d;
    KRB_ERROR e;
    int32_t code = 0;
    if (gss_decode_framing(tok, len, &f) < 0 || f.inner_len < 3 || f.inner[0] != 0x03 ||
        f.inner[1] != 0x00)
        return 0;
    if (krb5_init_context(&k))
        return KRB5KRB_ERR_GENERIC;
    d.length = f.inner_len - 2;
    d.data = (void *)(uintptr_t)(f.inner + 2);
    if (krb5_rd_error(k, &d, &e) == 0) {
        code = (int32_t)e.error_code; /* Heimdal's rd_error adds KRB5KDC_ERR_NONE */
        krb5_free_error_contents(k, &e);
    } else {
        code = KRB5KRB_ERR_GENERIC;
    }
    krb5_free_context(k);
    return code ? code : KRB5KRB_ERR_GENERIC;
}

void krb_gss_error_token(int32_t code, const char *server, sspx_bytes *out)
{
    static const uint8_t krb5_oid[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                       0xf7, 0x12, 0x01, 0x02, 0x02};
    krb5_context k = NULL;
    krb5_principal sp = NULL;
    krb5_data reply = {0, NULL};
    uint8_t *inner = NULL, *buf = NULL;
    size_t cap, n;
    sspx_bytes_clear(out);
    if (krb5_init_context(&k))
        return;
    if (server && *server && krb5_parse_name(k, server, &sp))
        sp = NULL;
    /* a KRB-ERROR carries error codes 0..127 (RFC 4120 7.5.9) */
    if (code < KRB5KDC_ERR_NONE || code > KRB5KDC_ERR_NONE + 127)
        code = KRB5KRB_ERR_GENERIC;
    if (krb5_mk_error(k, (krb5_error_code)code, NULL, NULL, NULL, sp, NULL, NULL, &reply) == 0 &&
        reply.length < KRB_MAX_TOKEN - 64) {
        /* RFC 4121 4.1: TOK_ID 03 00, then the KRB-ERROR, in the GSS framing */
        inner = malloc(reply.length + 2);
        cap = reply.length + 64;
        buf = malloc(cap);
        if (inner && buf) {
            inner[0] = 0x03;
            inner[1] = 0x00;
            memcpy(inner + 2, reply.data, reply.length);
            n = gss_encode_framing(buf, cap, krb5_oid, sizeof(krb5_oid), inner, reply.length + 2);
            if (n && sspx_bytes_set(out, buf, n) < 0)
                sspx_bytes_clear(out);
        }
        free(inner);
        free(buf);
    }
    krb5_data_free(&reply);
    if (sp)
        krb5_free_principal(k, sp);
    krb5_free_context(k);
}

static void fill_cb(const sspx_cbt *cbt, struct gss_channel_bindings_struct *cb)
{
    memset(cb, 0, sizeof(*cb));
    cb->initiator_addrtype = cbt->initiator_type;
    cb->initiator_address.length = cbt->initiator_len;
    cb->initiator_address.value = (void *)(uintptr_t)cbt->initiator;
    cb->acceptor_addrtype = cbt->acceptor_type;
    cb->acceptor_address.length = cbt->acceptor_len;
    cb->acceptor_address.value = (void *)(uintptr_t)cbt->acceptor;
    cb->application_data.length = cbt->app_len;
    cb->application_data.value = (void *)(uintptr_t)cbt->app;
}

static sspx_status take_token(gss_buffer_t b, sspx_bytes *out)
{
    OM_uint32 min;
    sspx_status st = SEC_E_OK;
    if (b->length > KRB_MAX_TOKEN)
        st = SSPX_ERROR(SSPX_ERR_KRB_TOKEN_TOO_LARGE);
    else if (b->length)
        st = sspx_bytes_set(out, b->value, b->length);
    gss_release_buffer(&min, b);
    return st;
}

void krb_gss_ctx_delete(krb_gss_ctx **ctx)
{
    OM_uint32 min;
    gss_ctx_id_t g = (gss_ctx_id_t)*ctx;
    if (g != GSS_C_NO_CONTEXT)
        gss_delete_sec_context(&min, &g, GSS_C_NO_BUFFER);
    *ctx = NULL;
}

sspx_status krb_gss_accept(krb_gss_cred *cred, krb_gss_ctx **ctx, const uint8_t *tok, size_t len,
                           const sspx_cbt *cbt, sspx_bytes *out, krb_gss_step *res,
                           krb_gss_cred **delegated, const char *error_token_server)
{
    gss_cred_id_t deleg = GSS_C_NO_CREDENTIAL;
    struct gss_channel_bindings_struct cb;
    gss_buffer_desc in = {len, (void *)(uintptr_t)tok}, ob = GSS_C_EMPTY_BUFFER;
    gss_buffer_desc nb = GSS_C_EMPTY_BUFFER;
    gss_name_t src = GSS_C_NO_NAME;
    gss_ctx_id_t g = (gss_ctx_id_t)*ctx;
    OM_uint32 maj, min, min2, flags = 0, time_rec = 0;
    sspx_status st;

    detail[0] = 0;
    memset(res, 0, sizeof(*res));
    if (cbt)
        fill_cb(cbt, &cb);
    maj = gss_accept_sec_context(&min, &g, (gss_cred_id_t)cred, &in,
                                 cbt ? &cb : GSS_C_NO_CHANNEL_BINDINGS, &src, NULL, &ob, &flags,
                                 &time_rec, delegated ? &deleg : NULL);
    *ctx = (krb_gss_ctx *)g;
    if (delegated && deleg != GSS_C_NO_CREDENTIAL) {
        if (!GSS_ERROR(maj) && (flags & GSS_C_DELEG_FLAG))
            *delegated = (krb_gss_cred *)deleg;
        else
            gss_release_cred(&min2, &deleg);
    }
    if (GSS_ERROR(maj)) {
        st = GSS_FAIL("gss_accept_sec_context", maj, min, SSPX_ERR_KRB_DENIED);
        if (error_token_server) { /* ASC_REQ_EXTENDED_ERROR: a KRB-ERROR for the client */
            if (ob.length)        /* Heimdal made one (clock skew) */
                (void)take_token(&ob, out);
            else
                krb_gss_error_token((int32_t)min, error_token_server, out);
        }
        gss_release_buffer(&min2, &ob);
        if (src != GSS_C_NO_NAME)
            gss_release_name(&min2, &src);
        return st;
    }
    if (maj == GSS_S_CONTINUE_NEEDED && ob.length) {
        /* Heimdal answers a skewed authenticator with a KRB-ERROR and
         * "continue" (for the client to retry with the server's time). A
         * one-leg acceptor refuses instead: the error becomes the status,
         * the KRB-ERROR the error token. */
        int32_t code = krb_error_token_code(ob.value, ob.length);
        if (code) {
            krb5_context k = NULL;
            const char *m = NULL;
            st = sspx_err_set(map_err(GSS_S_FAILURE, (OM_uint32)code, SSPX_ERR_KRB_DENIED),
                              __FILE__, __LINE__);
            if (krb5_init_context(&k) == 0)
                m = krb5_get_error_message(k, code);
            snprintf(detail, sizeof(detail), "gss_accept_sec_context: KRB-ERROR %d: %s",
                     (int)(code - KRB5KDC_ERR_NONE), m ? m : "");
            if (m)
                krb5_free_error_message(k, m);
            if (k)
                krb5_free_context(k);
            sspx_err_detail(detail);
            if (error_token_server)
                (void)take_token(&ob, out);
            goto out;
        }
    }
    st = take_token(&ob, out);
    if (st < 0)
        goto out;
    res->complete = maj == GSS_S_COMPLETE;
    res->flags = flags & FLAG_MASK;
    res->time_rec = time_rec;
    if (res->complete) {
        maj = gss_display_name(&min, src, &nb, NULL);
        if (GSS_ERROR(maj)) {
            st = GSS_FAIL("gss_display_name", maj, min, SSPX_ERR_KRB_GSS);
            goto out;
        }
        if (nb.length >= sizeof(res->peer) || memchr(nb.value, 0, nb.length)) {
            st = SSPX_ERROR(SSPX_ERR_KRB_BAD_PRINCIPAL);
            goto out;
        }
        memcpy(res->peer, nb.value, nb.length);
        res->peer[nb.length] = 0;
    }
out:
    gss_release_buffer(&min2, &ob); /* a KRB-ERROR nobody asked for (empty when taken) */
    gss_release_buffer(&min2, &nb);
    if (src != GSS_C_NO_NAME)
        gss_release_name(&min2, &src);
    return st;
}

/* "HTTP/host" -> "HTTP@host" (host-based); "HTTP@host" as is; "HTTP/host@REALM"
 * and names of more than two components as krb5 principal names. */
static sspx_status import_target(const char *target, gss_name_t *out)
{
    char buf[KRB_NAME_MAX];
    const char *slash, *at;
    gss_OID type = GSS_C_NT_HOSTBASED_SERVICE;
    gss_buffer_desc b;
    OM_uint32 maj, min;
    size_t n;
    ENSURE(target && *target, SSPX_ERR_KRB_BAD_TARGET);
    n = strlen(target);
    ENSURE(n < sizeof(buf), SSPX_ERR_KRB_BAD_TARGET);
    memcpy(buf, target, n + 1);
    slash = strchr(target, '/');
    at = strchr(target, '@');
    if (slash && (at || strchr(slash + 1, '/'))) {
        type = GSS_KRB5_NT_PRINCIPAL_NAME;
    } else if (slash) {
        ENSURE(slash != target && slash[1], SSPX_ERR_KRB_BAD_TARGET);
        buf[slash - target] = '@';
    } else {
        ENSURE(at && at != target && at[1], SSPX_ERR_KRB_BAD_TARGET);
    }
    b.length = n;
    b.value = buf;
    maj = gss_import_name(&min, &b, type, out);
    if (GSS_ERROR(maj))
        return GSS_FAIL("gss_import_name", maj, min, SSPX_ERR_KRB_BAD_TARGET);
    return SEC_E_OK;
}

sspx_status krb_gss_init(krb_gss_cred *cred, krb_gss_ctx **ctx, const char *target,
                         uint32_t req_flags, const uint8_t *tok, size_t len, const sspx_cbt *cbt,
                         sspx_bytes *out, krb_gss_step *res)
{
    struct gss_channel_bindings_struct cb;
    gss_buffer_desc in = {len, (void *)(uintptr_t)tok}, ob = GSS_C_EMPTY_BUFFER;
    gss_name_t name = GSS_C_NO_NAME;
    gss_ctx_id_t g = (gss_ctx_id_t)*ctx;
    OM_uint32 maj, min, min2, flags = 0, time_rec = 0;

    detail[0] = 0;
    memset(res, 0, sizeof(*res));
    GUARD(import_target(target, &name));
    if (cbt)
        fill_cb(cbt, &cb);
    maj = gss_init_sec_context(&min, (gss_cred_id_t)cred, &g, name, GSS_KRB5_MECHANISM,
                               req_flags & FLAG_MASK, 0, cbt ? &cb : GSS_C_NO_CHANNEL_BINDINGS,
                               tok ? &in : GSS_C_NO_BUFFER, NULL, &ob, &flags, &time_rec);
    *ctx = (krb_gss_ctx *)g;
    gss_release_name(&min2, &name);
    if (GSS_ERROR(maj)) {
        gss_release_buffer(&min2, &ob);
        return GSS_FAIL("gss_init_sec_context", maj, min, SSPX_ERR_KRB_GSS);
    }
    res->complete = maj == GSS_S_COMPLETE;
    res->flags = flags & FLAG_MASK;
    res->time_rec = time_rec;
    return take_token(&ob, out);
}

/* Decrypt `cipher` with `key` for `usage` into a malloc'd copy. */
static sspx_status decrypt(krb5_context k, const krb5_keyblock *key, int64_t etype, unsigned usage,
                           const uint8_t *cipher, size_t len, uint8_t **plain, size_t *plain_len)
{
    krb5_crypto crypto = NULL;
    krb5_data out = {0, NULL};
    krb5_error_code code;
    sspx_status st = SEC_E_OK;
    ENSURE(etype >= INT32_MIN && etype <= INT32_MAX, SSPX_ERR_KRB_DEFECTIVE_TOKEN);
    code = krb5_crypto_init(k, key, (krb5_enctype)etype, &crypto);
    if (!code)
        code = krb5_decrypt(k, crypto, usage, (void *)(uintptr_t)cipher, len, &out);
    if (code) {
        st = KRB5_FAIL(k, "krb5_decrypt", code, SSPX_ERR_KRB_GSS);
    } else if (!(*plain = malloc(out.length ? out.length : 1))) {
        st = SSPX_ERROR(SSPX_ERR_NO_MEMORY);
    } else {
        memcpy(*plain, out.data, out.length);
        *plain_len = out.length;
    }
    if (out.data) {
        memset(out.data, 0, out.length);
        krb5_data_free(&out);
    }
    if (crypto)
        krb5_crypto_destroy(k, crypto);
    return st;
}

sspx_status krb_gss_decrypt_authenticator(krb_gss_ctx *ctx, const uint8_t *tok, size_t len,
                                          uint8_t **plain, size_t *plain_len)
{
    krb5_context k = NULL;
    krb5_keyblock *service = NULL, session;
    OM_uint32 maj, min;
    const uint8_t *cipher, *skey;
    size_t clen, tlen = 0, sklen;
    int64_t etype, keytype;
    uint8_t *ticket = NULL;
    sspx_status st;
    *plain = NULL;
    /* the service's long-term key GSS used for this ticket (Heimdal keeps it) */
    maj = gsskrb5_extract_service_keyblock(&min, (gss_ctx_id_t)ctx, &service);
    if (GSS_ERROR(maj))
        return GSS_FAIL("gsskrb5_extract_service_keyblock", maj, min, SSPX_ERR_KRB_GSS);
    st = new_context(&k);
    if (st < 0)
        goto out;
    /* ticket (key usage 2) -> its session key -> the authenticator (11) */
    st = krb_apreq_ticket(tok, len, &etype, &cipher, &clen);
    if (st >= 0)
        st = decrypt(k, service, etype, KRB5_KU_TICKET, cipher, clen, &ticket, &tlen);
    if (st >= 0)
        st = krb_ticket_session_key(ticket, tlen, &keytype, &skey, &sklen);
    if (st >= 0)
        st = krb_apreq_authenticator(tok, len, &etype, &cipher, &clen);
    if (st >= 0 && (keytype < INT32_MIN || keytype > INT32_MAX))
        st = SSPX_ERROR(SSPX_ERR_KRB_DEFECTIVE_TOKEN);
    if (st >= 0) {
        session.keytype = (krb5_enctype)keytype;
        session.keyvalue.length = sklen;
        session.keyvalue.data = (void *)(uintptr_t)skey;
        st = decrypt(k, &session, etype, KRB5_KU_AP_REQ_AUTH, cipher, clen, plain, plain_len);
    }
out:
    if (ticket)
        sspx_free_wiped(ticket, tlen ? tlen : 1);
    if (service)
        krb5_free_keyblock(k, service);
    if (k)
        krb5_free_context(k);
    return st;
}

sspx_status krb_gss_session_key(krb_gss_ctx *ctx, uint8_t *key, size_t cap, size_t *len)
{
    gss_buffer_set_t set = GSS_C_NO_BUFFER_SET;
    OM_uint32 maj, min;
    sspx_status st = SEC_E_OK;
    maj = gss_inquire_sec_context_by_oid(&min, (gss_ctx_id_t)ctx, &inq_sspi_session_key, &set);
    if (GSS_ERROR(maj))
        return GSS_FAIL("gss_inquire_sec_context_by_oid", maj, min, SSPX_ERR_KRB_GSS);
    if (!set || set->count < 1 || set->elements[0].length == 0 || set->elements[0].length > cap) {
        st = SSPX_ERROR(SSPX_ERR_KRB_GSS);
    } else {
        memcpy(key, set->elements[0].value, set->elements[0].length);
        *len = set->elements[0].length;
    }
    gss_release_buffer_set(&min, &set);
    return st;
}

/* ---------------------------------------------------- message protection */

/* Sequence problems GSS reports as supplementary bits of a successful call. */
static sspx_status check_supplementary(const char *call, OM_uint32 maj, OM_uint32 min)
{
    if (GSS_SUPPLEMENTARY_INFO(maj) &
        (GSS_S_DUPLICATE_TOKEN | GSS_S_OLD_TOKEN | GSS_S_UNSEQ_TOKEN | GSS_S_GAP_TOKEN)) {
        snprintf(detail, sizeof(detail), "%s: supplementary status 0x%x", call,
                 (unsigned)GSS_SUPPLEMENTARY_INFO(maj));
        (void)min;
        BAIL(SSPX_ERR_KRB_OUT_OF_SEQUENCE);
    }
    return SEC_E_OK;
}

sspx_status krb_gss_get_mic(krb_gss_ctx *ctx, const uint8_t *msg, size_t len, uint8_t *mic,
                            size_t cap, size_t *mic_len)
{
    gss_buffer_desc m = {len, (void *)(uintptr_t)msg}, t = GSS_C_EMPTY_BUFFER;
    OM_uint32 maj, min;
    sspx_status st = SEC_E_OK;
    detail[0] = 0;
    maj = gss_get_mic(&min, (gss_ctx_id_t)ctx, GSS_C_QOP_DEFAULT, &m, &t);
    if (GSS_ERROR(maj))
        return GSS_FAIL("gss_get_mic", maj, min, SSPX_ERR_KRB_GSS);
    if (t.length > cap)
        st = SSPX_ERROR(SSPX_ERR_KRB_SIG_BUFFER_SMALL);
    else {
        memcpy(mic, t.value, t.length);
        *mic_len = t.length;
    }
    gss_release_buffer(&min, &t);
    return st;
}

sspx_status krb_gss_verify_mic(krb_gss_ctx *ctx, const uint8_t *msg, size_t len, const uint8_t *mic,
                               size_t mic_len)
{
    gss_buffer_desc m = {len, (void *)(uintptr_t)msg}, t = {mic_len, (void *)(uintptr_t)mic};
    OM_uint32 maj, min;
    gss_qop_t qop = 0;
    detail[0] = 0;
    maj = gss_verify_mic(&min, (gss_ctx_id_t)ctx, &m, &t, &qop);
    if (GSS_ERROR(maj))
        return GSS_FAIL("gss_verify_mic", maj, min, SSPX_ERR_KRB_MSG_ALTERED);
    return check_supplementary("gss_verify_mic", maj, min);
}

sspx_status krb_gss_wrap(krb_gss_ctx *ctx, bool conf, uint8_t *data, size_t len, uint8_t *hdr,
                         size_t hdr_cap, size_t *hdr_len, uint8_t *pad, size_t pad_cap,
                         size_t *pad_len)
{
    gss_iov_buffer_desc iov[3];
    OM_uint32 maj, min;
    int conf_state = 0;
    detail[0] = 0;
    memset(iov, 0, sizeof(iov));
    iov[0].type = GSS_IOV_BUFFER_TYPE_HEADER;
    iov[1].type = GSS_IOV_BUFFER_TYPE_DATA;
    iov[1].buffer.length = len;
    iov[1].buffer.value = data;
    iov[2].type = GSS_IOV_BUFFER_TYPE_PADDING;
    maj =
        gss_wrap_iov_length(&min, (gss_ctx_id_t)ctx, conf, GSS_C_QOP_DEFAULT, &conf_state, iov, 3);
    if (GSS_ERROR(maj))
        return GSS_FAIL("gss_wrap_iov_length", maj, min, SSPX_ERR_KRB_GSS);
    ENSURE(iov[0].buffer.length <= hdr_cap, SSPX_ERR_KRB_SIG_BUFFER_SMALL);
    ENSURE(iov[2].buffer.length <= pad_cap, SSPX_ERR_KRB_SIG_BUFFER_SMALL);
    iov[0].buffer.value = hdr;
    iov[2].buffer.value = pad;
    maj = gss_wrap_iov(&min, (gss_ctx_id_t)ctx, conf, GSS_C_QOP_DEFAULT, &conf_state, iov, 3);
    if (GSS_ERROR(maj))
        return GSS_FAIL("gss_wrap_iov", maj, min, SSPX_ERR_KRB_GSS);
    *hdr_len = iov[0].buffer.length;
    *pad_len = iov[2].buffer.length;
    return SEC_E_OK;
}

/*
 * A CFX wrap token whose RRC is 0 (MIT's gss_wrap, RFC 4121 senders other
 * than SSPI) split at our header size: header, confounder and the first
 * ciphertext bytes in hdr, the rest and the trailer in data. Heimdal's
 * unwrap_iov cannot take that split, so the token is joined and given to
 * gss_unwrap, which handles any rotation; the plaintext goes back to data.
 */
static sspx_status unwrap_joined(gss_ctx_id_t g, uint8_t *data, size_t len, const uint8_t *hdr,
                                 size_t hdr_len, bool *conf, size_t *out_len)
{
    gss_buffer_desc in, out = GSS_C_EMPTY_BUFFER;
    OM_uint32 maj, min;
    int conf_state = 0;
    gss_qop_t qop = 0;
    sspx_status st = SEC_E_OK;
    ENSURE(hdr_len <= SIZE_MAX - len, SSPX_ERR_KRB_DEFECTIVE_TOKEN);
    in.length = hdr_len + len;
    in.value = malloc(in.length);
    ENSURE(in.value, SSPX_ERR_NO_MEMORY);
    memcpy(in.value, hdr, hdr_len);
    if (len)
        memcpy((uint8_t *)in.value + hdr_len, data, len);
    maj = gss_unwrap(&min, g, &in, &out, &conf_state, &qop);
    free(in.value);
    if (GSS_ERROR(maj))
        return GSS_FAIL("gss_unwrap", maj, min, SSPX_ERR_KRB_MSG_ALTERED);
    if (out.length > len) {
        st = SSPX_ERROR(SSPX_ERR_KRB_DEFECTIVE_TOKEN);
    } else {
        if (out.length)
            memcpy(data, out.value, out.length);
        *out_len = out.length;
        *conf = conf_state != 0;
        st = check_supplementary("gss_unwrap", maj, min);
    }
    if (out.value)
        memset(out.value, 0, out.length);
    gss_release_buffer(&min, &out);
    return st;
}

sspx_status krb_gss_unwrap_stream(krb_gss_ctx *ctx, uint8_t *buf, size_t len, size_t *off,
                                  size_t *plain_len, bool *conf)
{
    gss_buffer_desc in = {len, buf}, out = GSS_C_EMPTY_BUFFER;
    OM_uint32 maj, min;
    int conf_state = 0;
    gss_qop_t qop = 0;
    sspx_status st;
    detail[0] = 0;
    maj = gss_unwrap(&min, (gss_ctx_id_t)ctx, &in, &out, &conf_state, &qop);
    if (GSS_ERROR(maj))
        return GSS_FAIL("gss_unwrap", maj, min, SSPX_ERR_KRB_MSG_ALTERED);
    /* the plaintext goes back into the stream after the 16-byte header (a
     * token is at least header + plaintext long); an out-of-sequence message
     * is refused before anything is copied */
    st = check_supplementary("gss_unwrap", maj, min);
    if (st >= 0 && (len < 16 || out.length > len - 16))
        st = SSPX_ERROR(SSPX_ERR_KRB_DEFECTIVE_TOKEN);
    if (st >= 0) {
        if (out.length)
            memcpy(buf + 16, out.value, out.length);
        *off = 16;
        *plain_len = out.length;
        *conf = conf_state != 0;
    }
    if (out.value)
        memset(out.value, 0, out.length);
    gss_release_buffer(&min, &out);
    return st;
}

sspx_status krb_gss_unwrap(krb_gss_ctx *ctx, uint8_t *data, size_t len, uint8_t *hdr,
                           size_t hdr_len, bool *conf, size_t *out_len)
{
    gss_iov_buffer_desc iov[2];
    OM_uint32 maj, min;
    int conf_state = 0;
    gss_qop_t qop = 0;
    detail[0] = 0;
    *out_len = len;
    /* RFC 4121 4.2.6.2: TOK_ID 05 04, Flags, Filler, EC (2), RRC (2) */
    if (hdr_len >= 16 && hdr[0] == 0x05 && hdr[1] == 0x04 && hdr[6] == 0 && hdr[7] == 0)
        return unwrap_joined((gss_ctx_id_t)ctx, data, len, hdr, hdr_len, conf, out_len);
    memset(iov, 0, sizeof(iov));
    iov[0].type = GSS_IOV_BUFFER_TYPE_HEADER;
    iov[0].buffer.length = hdr_len;
    iov[0].buffer.value = hdr;
    iov[1].type = GSS_IOV_BUFFER_TYPE_DATA;
    iov[1].buffer.length = len;
    iov[1].buffer.value = data;
    maj = gss_unwrap_iov(&min, (gss_ctx_id_t)ctx, &conf_state, &qop, iov, 2);
    if (GSS_ERROR(maj))
        return GSS_FAIL("gss_unwrap_iov", maj, min, SSPX_ERR_KRB_MSG_ALTERED);
    *conf = conf_state != 0;
    return check_supplementary("gss_unwrap_iov", maj, min);
}
