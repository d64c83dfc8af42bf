/*
 * Kerberos V5 messages described for people: the AP-REQ, AP-REP and
 * KRB-ERROR of RFC 4120 (5.5.1, 5.5.2, 5.9.1), GSS-framed as RFC 4121 4.1
 * sends them (RFC 2743 3.1 framing with the krb5 OID 1.2.840.113554.1.2.2 or
 * Microsoft's 1.2.840.48018.1.2.2, then TOK_ID 01 00 / 02 00 / 03 00) or raw
 * ([APPLICATION 14 / 15 / 30] alone). Parsed with der.h's bounded reader;
 * pure: no crypto, nothing decrypted (ciphertexts are shown as bytes).
 */
#ifndef SSPX_WIRE_KRB5_DESCRIBE_H
#define SSPX_WIRE_KRB5_DESCRIBE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

struct sspx_desc;

/* The description tree of one token (root "Kerberos"); SEC_E_INVALID_TOKEN
 * (the reason in sspx_last_error) when the bytes are not one whole AP-REQ,
 * AP-REP or KRB-ERROR. */
SSPX_WUR sspx_status krb5_describe(const uint8_t *tok, size_t len, struct sspx_desc **out);
/* Cheap: does it look like one (the framing with a krb5 OID and one of the
 * three TOK_IDs, or a raw message's [APPLICATION n] SEQUENCE header)? */
int krb5_recognise(const uint8_t *tok, size_t len);

/* Names for people; NULL when unknown. */
const char *krb5_etype_name(int64_t etype);         /* "aes256-cts-hmac-sha1-96" */
const char *krb5_error_name(int64_t code);          /* "KRB_AP_ERR_SKEW" */
const char *krb5_name_type_name(int64_t name_type); /* "KRB_NT_SRV_INST" */

#endif
