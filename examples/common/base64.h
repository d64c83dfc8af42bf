/* Strict base64 (RFC 4648, with padding) for the example programs: HTTP
 * and helper-protocol tokens. Header-only, shared by examples/ and tools/. */
#ifndef SSPX_EXAMPLES_BASE64_H
#define SSPX_EXAMPLES_BASE64_H

#include <stdint.h>
#include <stdlib.h>

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static inline char *b64_encode(const uint8_t *in, size_t len)
{
    char *out = malloc(4 * ((len + 2) / 3) + 1), *p = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        *p++ = b64_alphabet[(v >> 18) & 63];
        *p++ = b64_alphabet[(v >> 12) & 63];
        *p++ = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
        *p++ = i + 2 < len ? b64_alphabet[v & 63] : '=';
    }
    *p = 0;
    return out;
}

static inline int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Decodes `len` chars of strict base64; NULL if malformed or empty. */
static inline uint8_t *b64_decode(const char *in, size_t len, size_t *out_len)
{
    size_t pad = 0, o = 0;
    uint32_t acc = 0;
    int bits = 0;
    uint8_t *out;
    while (len > 0 && in[len - 1] == '=' && pad < 2) {
        len--;
        pad++;
    }
    if (len == 0 || (len + pad) % 4 != 0)
        return NULL;
    out = malloc(len * 3 / 4 + 1);
    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        int v = b64_value(in[i]);
        if (v < 0) {
            free(out);
            return NULL;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    *out_len = o;
    return out;
}

#endif
