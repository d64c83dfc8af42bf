/*
 * The bounded reader and writer every wire format goes through.
 *
 * Reader: a cursor over untrusted bytes; every read checks the remaining
 * length first and fails (returns 0) instead of reading past the end. Peer
 * supplied offset/length pairs are checked as `off <= len && len - off >= n`.
 *
 * Writer: appends into a caller-provided fixed buffer (no allocation); an
 * overflow sets a sticky error flag and later writes are ignored, so a
 * message is built with straight-line code and checked once at the end.
 * `reserve` returns the position of a field to fill later (lengths,
 * offsets).
 *
 * Pure: no crypto, no package, no core objects.
 */
#ifndef SSPX_WIRE_CURSOR_H
#define SSPX_WIRE_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct sspx_rd {
    const uint8_t *p;
    size_t len;
    size_t pos;
} sspx_rd;

static inline void sspx_rd_init(sspx_rd *r, const uint8_t *p, size_t len)
{
    r->p = p;
    r->len = len;
    r->pos = 0;
}

static inline size_t sspx_rd_left(const sspx_rd *r)
{
    return r->len - r->pos;
}

static inline bool sspx_rd_u8(sspx_rd *r, uint8_t *v)
{
    if (sspx_rd_left(r) < 1)
        return false;
    *v = r->p[r->pos++];
    return true;
}

static inline bool sspx_rd_le16(sspx_rd *r, uint16_t *v)
{
    if (sspx_rd_left(r) < 2)
        return false;
    const uint8_t *b = r->p + r->pos;
    *v = (uint16_t)(b[0] | (uint16_t)b[1] << 8);
    r->pos += 2;
    return true;
}

static inline bool sspx_rd_le32(sspx_rd *r, uint32_t *v)
{
    if (sspx_rd_left(r) < 4)
        return false;
    const uint8_t *b = r->p + r->pos;
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    r->pos += 4;
    return true;
}

static inline bool sspx_rd_le64(sspx_rd *r, uint64_t *v)
{
    uint32_t lo, hi;
    if (sspx_rd_left(r) < 8)
        return false;
    (void)sspx_rd_le32(r, &lo);
    (void)sspx_rd_le32(r, &hi);
    *v = (uint64_t)hi << 32 | lo;
    return true;
}

/* Point at the next n bytes without copying. */
static inline bool sspx_rd_ptr(sspx_rd *r, size_t n, const uint8_t **out)
{
    if (sspx_rd_left(r) < n)
        return false;
    *out = r->p + r->pos;
    r->pos += n;
    return true;
}

static inline bool sspx_rd_copy(sspx_rd *r, void *out, size_t n)
{
    const uint8_t *p;
    if (!sspx_rd_ptr(r, n, &p))
        return false;
    memcpy(out, p, n);
    return true;
}

static inline bool sspx_rd_skip(sspx_rd *r, size_t n)
{
    if (sspx_rd_left(r) < n)
        return false;
    r->pos += n;
    return true;
}

/* Does [off, off+n) lie within a buffer of `len` bytes? Overflow-safe. */
static inline bool sspx_range_ok(size_t len, size_t off, size_t n)
{
    return off <= len && len - off >= n;
}

typedef struct sspx_wr {
    uint8_t *p;
    size_t cap;
    size_t pos;
    bool overflow;
} sspx_wr;

static inline void sspx_wr_init(sspx_wr *w, uint8_t *p, size_t cap)
{
    w->p = p;
    w->cap = cap;
    w->pos = 0;
    w->overflow = false;
}

static inline bool sspx_wr_room(sspx_wr *w, size_t n)
{
    if (w->overflow || w->cap - w->pos < n) {
        w->overflow = true;
        return false;
    }
    return true;
}

static inline void sspx_wr_bytes(sspx_wr *w, const void *b, size_t n)
{
    if (n == 0 || !sspx_wr_room(w, n))
        return;
    memcpy(w->p + w->pos, b, n);
    w->pos += n;
}

static inline void sspx_wr_zeros(sspx_wr *w, size_t n)
{
    if (n == 0 || !sspx_wr_room(w, n))
        return;
    memset(w->p + w->pos, 0, n);
    w->pos += n;
}

static inline void sspx_put_le16(uint8_t *b, uint16_t v)
{
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
}

static inline void sspx_put_le32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
    b[2] = (uint8_t)(v >> 16);
    b[3] = (uint8_t)(v >> 24);
}

static inline uint32_t sspx_get_le32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static inline uint16_t sspx_get_le16(const uint8_t *b)
{
    return (uint16_t)(b[0] | (uint16_t)b[1] << 8);
}

static inline void sspx_wr_u8(sspx_wr *w, uint8_t v)
{
    sspx_wr_bytes(w, &v, 1);
}

static inline void sspx_wr_le16(sspx_wr *w, uint16_t v)
{
    uint8_t b[2];
    sspx_put_le16(b, v);
    sspx_wr_bytes(w, b, 2);
}

static inline void sspx_wr_le32(sspx_wr *w, uint32_t v)
{
    uint8_t b[4];
    sspx_put_le32(b, v);
    sspx_wr_bytes(w, b, 4);
}

static inline void sspx_wr_le64(sspx_wr *w, uint64_t v)
{
    sspx_wr_le32(w, (uint32_t)v);
    sspx_wr_le32(w, (uint32_t)(v >> 32));
}

/* Reserve n bytes to fill later; returns their position (or SIZE_MAX). */
static inline size_t sspx_wr_reserve(sspx_wr *w, size_t n)
{
    size_t at = w->pos;
    if (!sspx_wr_room(w, n))
        return SIZE_MAX;
    memset(w->p + at, 0, n);
    w->pos += n;
    return at;
}

static inline void sspx_wr_fill_le16(sspx_wr *w, size_t at, uint16_t v)
{
    if (!w->overflow && at != SIZE_MAX && at + 2 <= w->pos)
        sspx_put_le16(w->p + at, v);
}

static inline void sspx_wr_fill_le32(sspx_wr *w, size_t at, uint32_t v)
{
    if (!w->overflow && at != SIZE_MAX && at + 4 <= w->pos)
        sspx_put_le32(w->p + at, v);
}

#endif
