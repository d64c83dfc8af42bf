#include "utf.h"

#include <string.h>

uint32_t sspx_unicode_upper(uint32_t c)
{
    if (c >= 'a' && c <= 'z')
        return c - 0x20;
    if (c < 0xe0)
        return c == 0xb5 ? 0x39c : c;
    if (c <= 0xfe)
        return c == 0xf7 ? c : c - 0x20;
    if (c == 0xff)
        return 0x178;
    if (c >= 0x100 && c <= 0x17f) {
        /* Latin Extended-A: mostly even = upper, odd = lower, with a shifted
         * run 0x139..0x148 and 0x179..0x17e where odd = upper. */
        if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
            return (c & 1) ? c : c - 1;
        if (c == 0x131)
            return 'I';
        if (c == 0x138 || c == 0x149 || c == 0x17f)
            return c;
        return (c & 1) ? c - 1 : c;
    }
    if (c >= 0x3b1 && c <= 0x3c9 && c != 0x3c2)
        return c - 0x20;
    if (c >= 0x430 && c <= 0x44f)
        return c - 0x20;
    if (c >= 0x450 && c <= 0x45f)
        return c - 0x50;
    return c;
}

/* Decode one UTF-8 code point; 0 on invalid input. */
static size_t utf8_next(const uint8_t *s, size_t n, uint32_t *cp)
{
    uint8_t b = s[0];
    size_t need;
    uint32_t c, min;
    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    if ((b & 0xe0) == 0xc0) {
        need = 2;
        c = b & 0x1f;
        min = 0x80;
    } else if ((b & 0xf0) == 0xe0) {
        need = 3;
        c = b & 0x0f;
        min = 0x800;
    } else if ((b & 0xf8) == 0xf0) {
        need = 4;
        c = b & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n < need)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = c << 6 | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return need;
}

bool sspx_utf8_to_utf16le(const char *str, size_t slen, bool upper, uint8_t *out, size_t cap,
                          size_t *out_len)
{
    const uint8_t *s = (const uint8_t *)str;
    size_t i = 0, o = 0;
    while (i < slen) {
        uint32_t cp = 0;
        size_t k = utf8_next(s + i, slen - i, &cp);
        if (k == 0)
            return false;
        i += k;
        if (upper)
            cp = sspx_unicode_upper(cp);
        if (cp >= 0x10000) {
            uint32_t v = cp - 0x10000;
            uint16_t hi = (uint16_t)(0xd800 | (v >> 10)), lo = (uint16_t)(0xdc00 | (v & 0x3ff));
            if (cap - o < 4)
                return false;
            out[o++] = (uint8_t)hi;
            out[o++] = (uint8_t)(hi >> 8);
            out[o++] = (uint8_t)lo;
            out[o++] = (uint8_t)(lo >> 8);
        } else {
            if (cap - o < 2)
                return false;
            out[o++] = (uint8_t)cp;
            out[o++] = (uint8_t)(cp >> 8);
        }
    }
    *out_len = o;
    return true;
}

static bool put_utf8(uint32_t cp, char *out, size_t cap, size_t *o)
{
    uint8_t b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (uint8_t)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (uint8_t)(0xc0 | cp >> 6);
        b[1] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (uint8_t)(0xe0 | cp >> 12);
        b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        b[0] = (uint8_t)(0xf0 | cp >> 18);
        b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        b[3] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 4;
    }
    if (cap - *o < n + 1) /* keep room for the NUL */
        return false;
    memcpy(out + *o, b, n);
    *o += n;
    return true;
}

bool sspx_utf16le_to_utf8(const uint8_t *p, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    if (cap == 0 || (len & 1))
        return false;
    for (size_t i = 0; i < len; i += 2) {
        uint32_t u = (uint32_t)p[i] | (uint32_t)p[i + 1] << 8;
        if (u == 0)
            return false;
        if (u >= 0xd800 && u <= 0xdbff) {
            if (len - i < 4)
                return false;
            uint32_t l = (uint32_t)p[i + 2] | (uint32_t)p[i + 3] << 8;
            if (l < 0xdc00 || l > 0xdfff)
                return false;
            u = 0x10000 + ((u - 0xd800) << 10) + (l - 0xdc00);
            i += 2;
        } else if (u >= 0xdc00 && u <= 0xdfff) {
            return false;
        }
        if (!put_utf8(u, out, cap, &o))
            return false;
    }
    out[o] = '\0';
    return true;
}

bool sspx_oem_to_utf8(const uint8_t *p, size_t len, char *out, size_t cap)
{
    size_t o = 0, i = 0;
    bool utf8 = true;
    if (cap == 0)
        return false;
    while (i < len) {
        uint32_t cp = 0;
        size_t k;
        if (p[i] == 0)
            return false;
        k = utf8_next(p + i, len - i, &cp);
        if (k == 0) {
            utf8 = false;
            break;
        }
        i += k;
    }
    i = 0;
    while (i < len) {
        uint32_t cp = 0;
        size_t k = 1;
        if (utf8)
            k = utf8_next(p + i, len - i, &cp);
        else
            cp = p[i];
        if (p[i] == 0 || !put_utf8(cp, out, cap, &o))
            return false;
        i += k;
    }
    out[o] = '\0';
    return true;
}
