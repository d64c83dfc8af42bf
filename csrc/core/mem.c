/* Allocation helpers: zeroed allocation, wiping frees, FreeContextBuffer
 * memory, capped growable buffers. */
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "crypto/crypto.h"

void *sspx_calloc(size_t n)
{
    return calloc(1, n ? n : 1);
}

void sspx_wipe(void *p, size_t n)
{
    if (p && n)
        sspx_cleanse(p, n);
}

void sspx_free_wiped(void *p, size_t n)
{
    if (!p)
        return;
    sspx_wipe(p, n);
    free(p);
}

int sspx_ct_equal(const void *a, const void *b, size_t n)
{
    return sspx_crypto_memeq(a, b, n);
}

char *sspx_strdup(const char *s)
{
    size_t n;
    char *d;
    if (!s)
        return NULL;
    n = strlen(s) + 1;
    d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

void sspx_free_str(char **s)
{
    if (!s || !*s)
        return;
    sspx_free_wiped(*s, strlen(*s));
    *s = NULL;
}

/* FreeContextBuffer memory: a 16-byte header (magic, size) before the
 * caller's bytes. The magic is cleared on free so a double free is caught
 * while the block has not been reused. */
#define CTXBUF_MAGIC 0x5350584255465231ull /* "SPXBUFR1" */
typedef struct ctxbuf_hdr {
    uint64_t magic;
    uint64_t size;
} ctxbuf_hdr;

void *sspx_ctxbuf_alloc(size_t n)
{
    ctxbuf_hdr *h;
    if (n > SIZE_MAX - sizeof(*h))
        return NULL;
    h = calloc(1, sizeof(*h) + n);
    if (!h)
        return NULL;
    h->magic = CTXBUF_MAGIC;
    h->size = n;
    return h + 1;
}

sspx_status sspx_ctxbuf_free(void *p)
{
    ctxbuf_hdr *h;
    if (!p)
        return SEC_E_OK;
    h = (ctxbuf_hdr *)p - 1;
    ENSURE(h->magic == CTXBUF_MAGIC, SSPX_ERR_NOT_FROM_LIBRARY);
    h->magic = 0;
    sspx_free_wiped(h, sizeof(*h) + h->size);
    return SEC_E_OK;
}

sspx_status sspx_bytes_set(sspx_bytes *b, const void *p, size_t n)
{
    if (n > b->cap) {
        uint8_t *d = malloc(n ? n : 1);
        ENSURE(d, SSPX_ERR_NO_MEMORY);
        sspx_free_wiped(b->data, b->cap);
        b->data = d;
        b->cap = n;
    }
    if (n)
        memcpy(b->data, p, n);
    b->len = n;
    return SEC_E_OK;
}

void sspx_bytes_clear(sspx_bytes *b)
{
    sspx_free_wiped(b->data, b->cap);
    b->data = NULL;
    b->len = b->cap = 0;
}

void sspx_buf_free(sspx_buf *buf)
{
    if (!buf)
        return;
    sspx_free_wiped(buf->data, buf->len);
    buf->data = NULL;
    buf->len = 0;
}
