/* Oracles shared by the decoder targets: every field a decoder returns lies
 * inside the message, and every byte of it can be read. */
#ifndef SSPX_FUZZ_DECODE_COMMON_H
#define SSPX_FUZZ_DECODE_COMMON_H

#include "fuzz_common.h"
#include "wire/ntlm_msg.h"

static volatile uint8_t fz_sink FZ_UNUSED;

/* Read every byte (ASan reports a read outside the input). */
static inline void fz_touch(const uint8_t *p, size_t n)
{
    uint8_t x = 0;
    for (size_t i = 0; i < n; i++)
        x ^= p[i];
    fz_sink = x;
}

static inline void fz_check_field(const ntlm_field *f, const uint8_t *msg, size_t len)
{
    if (f->len == 0) {
        FZ_CHECK(f->p == NULL);
        return;
    }
    FZ_CHECK(f->p == msg + f->off);
    FZ_CHECK(f->off <= len && len - f->off >= f->len);
    fz_touch(f->p, f->len);
}

static inline int fz_field_eq(const ntlm_field *a, const ntlm_field *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

static inline ntlm_bytes fz_nb(const ntlm_field *f)
{
    return (ntlm_bytes){f->p, f->len};
}

#endif
