/*
 * A bounded DER reader and writer (X.690 8 and 10) over cursor.h, and the
 * GSS-API initial-token framing (RFC 2743 3.1). Pure: no crypto.
 *
 * Reader: a der_rd is a window over untrusted bytes (the whole input or the
 * contents of one constructed value). Every TLV read checks the identifier
 * (high tag numbers minimal, at most 32 bits), the length (definite only,
 * minimally encoded, at most 4 length octets) and that the contents fit in
 * the window. Entering a constructed value gives a sub-reader limited to its
 * contents, one level deeper; deeper than DER_MAX_DEPTH is refused. Offsets
 * in der_tlv are relative to the outermost input, so decoders can report
 * where each field lies.
 *
 * Writer: appends to an sspx_wr. der_wr_begin writes the identifier and one
 * length octet; der_wr_end fills the length and, when it needs the long form,
 * moves the contents up by the extra length octets. Lengths are thereby
 * always minimal; overflow is sticky in the sspx_wr and checked once.
 */
#ifndef SSPX_WIRE_DER_H
#define SSPX_WIRE_DER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "cursor.h"

/* Tag classes (the identifier octet's top two bits) */
#define DER_UNIVERSAL   0x00u
#define DER_APPLICATION 0x40u
#define DER_CONTEXT     0x80u
#define DER_PRIVATE     0xc0u
#define DER_CONSTRUCTED 0x20u

/* Universal tag numbers */
#define DER_TAG_BOOLEAN          1u
#define DER_TAG_INTEGER          2u
#define DER_TAG_BIT_STRING       3u
#define DER_TAG_OCTET_STRING     4u
#define DER_TAG_NULL             5u
#define DER_TAG_OID              6u
#define DER_TAG_ENUMERATED       10u
#define DER_TAG_UTF8_STRING      12u
#define DER_TAG_SEQUENCE         16u
#define DER_TAG_SET              17u
#define DER_TAG_IA5_STRING       22u
#define DER_TAG_GENERALIZED_TIME 24u
#define DER_TAG_GENERAL_STRING   27u

#define DER_MAX_DEPTH      16 /* constructed values nested at most this deep */
#define DER_MAX_LEN_OCTETS 4  /* long-form length octets accepted (< 4 GiB) */

/* One TLV as read. */
typedef struct der_tlv {
    uint8_t cls; /* DER_UNIVERSAL, DER_APPLICATION, DER_CONTEXT, DER_PRIVATE */
    bool constructed;
    uint32_t tag;       /* tag number */
    size_t off;         /* offset of the identifier in the outermost input */
    size_t hdr_len;     /* identifier + length octets */
    size_t len;         /* contents length */
    const uint8_t *raw; /* the whole TLV: raw[0 .. hdr_len + len) */
    const uint8_t *p;   /* the contents: raw + hdr_len */
} der_tlv;

/* A window over DER bytes. */
typedef struct der_rd {
    sspx_rd r;
    size_t base;    /* offset of r.p[0] in the outermost input */
    unsigned depth; /* constructed values entered to get here */
} der_rd;

/* An OBJECT IDENTIFIER: its contents (no tag/length) and its whole TLV. */
typedef struct der_oid {
    const uint8_t *p; /* contents */
    size_t len;
    const uint8_t *der; /* 06 len contents */
    size_t der_len;
    size_t off; /* offset of the TLV in the outermost input */
} der_oid;

void der_rd_init(der_rd *d, const uint8_t *p, size_t len);
static inline bool der_rd_done(const der_rd *d)
{
    return sspx_rd_left(&d->r) == 0;
}
/* Offset of the next unread byte in the outermost input. */
static inline size_t der_rd_offset(const der_rd *d)
{
    return d->base + d->r.pos;
}

/* Read the next TLV, whatever it is. */
SSPX_WUR sspx_status der_read(der_rd *d, der_tlv *t);
/* Parse the next TLV without consuming it. */
SSPX_WUR sspx_status der_peek(const der_rd *d, der_tlv *t);
/* Does the next TLV's identifier match? false at the end or on a bad identifier. */
bool der_next_is(const der_rd *d, uint8_t cls, bool constructed, uint32_t tag);
/* Read a TLV and require this identifier (SSPX_ERR_DER_UNEXPECTED_TAG). */
SSPX_WUR sspx_status der_expect(der_rd *d, uint8_t cls, bool constructed, uint32_t tag, der_tlv *t);
/* A sub-reader over a constructed TLV's contents, one level deeper. */
SSPX_WUR sspx_status der_enter(const der_rd *parent, const der_tlv *t, der_rd *sub);
/* Read a SEQUENCE and enter it. */
SSPX_WUR sspx_status der_enter_seq(der_rd *d, der_rd *sub, der_tlv *t);
/* Read an explicit tag [n] (context, constructed) and enter it; the caller
 * reads its one value and then calls der_finish on the sub-reader. */
SSPX_WUR sspx_status der_enter_explicit(der_rd *d, uint32_t n, der_rd *sub);
/* Require the window to be used up (SSPX_ERR_DER_TRAILING). */
SSPX_WUR sspx_status der_finish(const der_rd *d);

/* Walk every TLV of the input recursively (at most DER_MAX_DEPTH deep):
 * well-formed DER values filling the input exactly. Contents of primitive
 * values are not interpreted. *count receives the number of TLVs. */
SSPX_WUR sspx_status der_validate(const uint8_t *p, size_t len, size_t *count);

/* Contents of primitive values (t already read). */
SSPX_WUR sspx_status der_get_int64(const der_tlv *t, int64_t *v); /* INTEGER or ENUMERATED */
SSPX_WUR sspx_status der_get_bit_string(const der_tlv *t, unsigned *unused, const uint8_t **bits,
                                        size_t *nbytes);
SSPX_WUR sspx_status der_get_oid(const der_tlv *t, der_oid *o);

/* Read-and-check helpers: the next value must be of this type. */
SSPX_WUR sspx_status der_read_int64(der_rd *d, int64_t *v);
SSPX_WUR sspx_status der_read_enum(der_rd *d, int64_t *v);
SSPX_WUR sspx_status der_read_bit_string(der_rd *d, unsigned *unused, const uint8_t **bits,
                                         size_t *nbytes, der_tlv *t);
SSPX_WUR sspx_status der_read_octets(der_rd *d, der_tlv *t);
/* GeneralString or UTF8String (either accepted): a view of the bytes. */
SSPX_WUR sspx_status der_read_string(der_rd *d, der_tlv *t);
SSPX_WUR sspx_status der_read_oid(der_rd *d, der_oid *o);

/* A BIT STRING as named bits: bit i of the result is named bit i (bit 0 is
 * the first byte's most significant bit); bits past 31 are ignored. */
uint32_t der_bits_to_flags(const uint8_t *bits, size_t nbytes, unsigned unused);

/* OIDs: compare with a known one given as its full DER (06 len ...). */
bool der_oid_eq(const der_oid *o, const uint8_t *der, size_t der_len);
/* Dotted form ("1.3.6.1.5.5.2") of OID contents; false if out does not
 * hold it, an arc exceeds 64 bits or the contents are malformed. */
bool der_oid_format(const uint8_t *p, size_t len, char *out, size_t cap);

/* ------------------------------------------------------------------ writer */

void der_wr_tag(sspx_wr *w, uint8_t cls, bool constructed, uint32_t tag);
void der_wr_len(sspx_wr *w, size_t len);
/* Open a value: identifier + a placeholder length; returns the mark for der_wr_end. */
size_t der_wr_begin(sspx_wr *w, uint8_t cls, bool constructed, uint32_t tag);
/* Close it: write the minimal length of everything written since. */
void der_wr_end(sspx_wr *w, size_t mark);
void der_wr_tlv(sspx_wr *w, uint8_t cls, bool constructed, uint32_t tag, const void *p, size_t len);
void der_wr_int64(sspx_wr *w, int64_t v);
void der_wr_enum(sspx_wr *w, int64_t v);
void der_wr_octets(sspx_wr *w, const void *p, size_t len);
void der_wr_bit_string(sspx_wr *w, unsigned unused, const void *bits, size_t nbytes);
/* Named bits (DER: trailing zero bits dropped), bit i = flags bit i. */
void der_wr_named_bits(sspx_wr *w, uint32_t flags);
/* An OID given as its full DER (06 len ...): copied as is. */
static inline void der_wr_oid(sspx_wr *w, const uint8_t *der, size_t der_len)
{
    sspx_wr_bytes(w, der, der_len);
}

/* ------------------------------------------------------ GSS-API framing */

/* RFC 2743 3.1: InitialContextToken ::= [APPLICATION 0] IMPLICIT SEQUENCE {
 *   thisMech MechType, innerContextToken ANY DEFINED BY thisMech } */
typedef struct gss_framed {
    der_oid mech;
    const uint8_t *inner; /* the rest of the [APPLICATION 0] contents */
    size_t inner_len;
    size_t inner_off;
} gss_framed;

/* The framing must span the whole input. */
SSPX_WUR sspx_status gss_decode_framing(const uint8_t *p, size_t len, gss_framed *out);
/* Returns the length written, or 0 on overflow. */
size_t gss_encode_framing(uint8_t *out, size_t cap, const uint8_t *mech_der, size_t mech_der_len,
                          const void *inner, size_t inner_len);

#endif
