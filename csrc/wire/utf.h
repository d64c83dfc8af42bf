/* UTF-8 <-> UTF-16LE conversion and the upper-casing NTOWFv2 needs. Pure. */
#ifndef SSPX_WIRE_UTF_H
#define SSPX_WIRE_UTF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* UTF-8 -> UTF-16LE into out[cap]; *out_len bytes written. `upper` maps each
 * code point through sspx_unicode_upper first. false on invalid UTF-8 or
 * overflow. */
bool sspx_utf8_to_utf16le(const char *s, size_t slen, bool upper, uint8_t *out, size_t cap,
                          size_t *out_len);
/* UTF-16LE -> UTF-8 (NUL-terminated) into out[cap]. false on an odd length,
 * an unpaired surrogate, an embedded NUL or overflow. */
bool sspx_utf16le_to_utf8(const uint8_t *p, size_t len, char *out, size_t cap);
/* OEM (8-bit) -> UTF-8: valid UTF-8 is kept, anything else is read as
 * Latin-1. Rejects embedded NULs. */
bool sspx_oem_to_utf8(const uint8_t *p, size_t len, char *out, size_t cap);
/* Simple case mapping (RtlUpcaseUnicodeChar for the ranges it covers:
 * ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic). */
uint32_t sspx_unicode_upper(uint32_t cp);

#endif
