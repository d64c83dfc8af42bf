/* Token descriptions: a tree of named fields built by the wire decoders'
 * describe functions, read through accessors in sspx.h. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

static void node_free(sspx_desc *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->nkids; i++)
        node_free(d->kids[i]);
    free(d->kids);
    free(d->name);
    free(d->text);
    free(d->bytes);
    free(d);
}

void sspx_desc_free(sspx_desc **d)
{
    if (!d)
        return;
    node_free(*d);
    *d = NULL;
}

/* Allocation failures leave the tree shorter, never inconsistent: a NULL
 * parent makes every child call a no-op returning NULL. */
sspx_desc *sspx_desc_node(sspx_desc *parent, const char *name, int kind, size_t offset,
                          size_t length)
{
    sspx_desc *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->name = sspx_strdup(name);
    d->kind = kind;
    d->offset = offset;
    d->length = length;
    if (!d->name) {
        free(d);
        return NULL;
    }
    if (parent) {
        if (parent->nkids == parent->capkids) {
            size_t nc = parent->capkids ? parent->capkids * 2 : 4;
            sspx_desc **k = realloc(parent->kids, nc * sizeof(*k));
            if (!k) {
                node_free(d);
                return NULL;
            }
            parent->kids = k;
            parent->capkids = nc;
        }
        parent->kids[parent->nkids++] = d;
    }
    return d;
}

sspx_desc *sspx_desc_uint_node(sspx_desc *parent, const char *name, size_t off, size_t len,
                               uint64_t v)
{
    sspx_desc *d = parent ? sspx_desc_node(parent, name, SSPX_DESC_UINT, off, len) : NULL;
    if (d)
        d->u = v;
    return d;
}

sspx_desc *sspx_desc_bytes_node(sspx_desc *parent, const char *name, size_t off, const uint8_t *p,
                                size_t len)
{
    sspx_desc *d = parent ? sspx_desc_node(parent, name, SSPX_DESC_BYTES, off, len) : NULL;
    if (d && len) {
        d->bytes = malloc(len);
        if (d->bytes) {
            memcpy(d->bytes, p, len);
            d->nbytes = len;
        }
    }
    return d;
}

sspx_desc *sspx_desc_text_node(sspx_desc *parent, const char *name, int kind, size_t off,
                               size_t len, uint64_t v, const char *text)
{
    sspx_desc *d = parent ? sspx_desc_node(parent, name, kind, off, len) : NULL;
    if (d) {
        d->u = v;
        d->text = text ? sspx_strdup(text) : NULL;
    }
    return d;
}

const char *sspx_desc_name(const sspx_desc *d)
{
    return d ? d->name : NULL;
}
sspx_desc_kind sspx_desc_get_kind(const sspx_desc *d)
{
    return d ? (sspx_desc_kind)d->kind : SSPX_DESC_STRUCT;
}
size_t sspx_desc_offset(const sspx_desc *d)
{
    return d ? d->offset : 0;
}
size_t sspx_desc_length(const sspx_desc *d)
{
    return d ? d->length : 0;
}
uint64_t sspx_desc_uint(const sspx_desc *d)
{
    return d ? d->u : 0;
}
const char *sspx_desc_text(const sspx_desc *d)
{
    return d ? d->text : NULL;
}
const uint8_t *sspx_desc_bytes(const sspx_desc *d, size_t *len)
{
    if (len)
        *len = d ? d->nbytes : 0;
    return d ? d->bytes : NULL;
}
size_t sspx_desc_child_count(const sspx_desc *d)
{
    return d ? d->nkids : 0;
}
const sspx_desc *sspx_desc_child(const sspx_desc *d, size_t i)
{
    return (d && i < d->nkids) ? d->kids[i] : NULL;
}

const sspx_desc *sspx_desc_find(const sspx_desc *d, const char *name)
{
    if (!d || !name)
        return NULL;
    if (d->name && strcmp(d->name, name) == 0)
        return d;
    for (size_t i = 0; i < d->nkids; i++) {
        const sspx_desc *f = sspx_desc_find(d->kids[i], name);
        if (f)
            return f;
    }
    return NULL;
}

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    if (b->oom)
        return;
    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = 1;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t nc = b->cap * 2 + (size_t)n + 1;
        char *np = realloc(b->p, nc);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
}

static void render(sbuf *b, const sspx_desc *d, int depth)
{
    sb_printf(b, "%*s%s", depth * 2, "", d->name);
    switch (d->kind) {
    case SSPX_DESC_UINT:
        sb_printf(b, ": %" PRIu64 " (0x%" PRIx64 ")", d->u, d->u);
        break;
    case SSPX_DESC_FLAGS:
        sb_printf(b, ": 0x%08" PRIx64, d->u);
        break;
    case SSPX_DESC_ENUM:
        sb_printf(b, ": %s (%" PRIu64 ")", d->text ? d->text : "?", d->u);
        break;
    case SSPX_DESC_FLAG:
        sb_printf(b, " (0x%08" PRIx64 ")", d->u);
        break;
    case SSPX_DESC_STRING:
        sb_printf(b, ": \"%s\"", d->text ? d->text : "");
        break;
    case SSPX_DESC_BYTES:
        sb_printf(b, ": ");
        for (size_t i = 0; i < d->nbytes && i < 64; i++)
            sb_printf(b, "%02x", d->bytes[i]);
        if (d->nbytes > 64)
            sb_printf(b, "... (%zu bytes)", d->nbytes);
        break;
    default:
        break;
    }
    if (d->length)
        sb_printf(b, "  [@%zu+%zu]", d->offset, d->length);
    sb_printf(b, "\n");
    if (d->kind == SSPX_DESC_FLAGS && d->nkids) {
        sb_printf(b, "%*s", depth * 2 + 2, "");
        for (size_t i = 0; i < d->nkids; i++)
            sb_printf(b, "%s%s", i ? " | " : "", d->kids[i]->name);
        sb_printf(b, "\n");
        return;
    }
    for (size_t i = 0; i < d->nkids; i++)
        render(b, d->kids[i], depth + 1);
}

SECURITY_STATUS sspx_desc_to_text(const sspx_desc *d, sspx_buf *out)
{
    sbuf b = {NULL, 0, 0, 0};
    ENSURE(d && out, SSPX_ERR_NULL_ARG);
    out->data = NULL;
    out->len = 0;
    b.p = malloc(256);
    ENSURE(b.p, SSPX_ERR_NO_MEMORY);
    b.cap = 256;
    b.p[0] = 0;
    render(&b, d, 0);
    if (b.oom) {
        free(b.p);
        BAIL(SSPX_ERR_NO_MEMORY);
    }
    out->data = (uint8_t *)b.p;
    out->len = b.len;
    return SEC_E_OK;
}

SECURITY_STATUS sspx_describe(const char *package, const uint8_t *token, size_t len,
                              sspx_desc **out)
{
    const sspx_package *pkg = NULL;
    ENSURE(out && (token || len == 0), SSPX_ERR_NULL_ARG);
    *out = NULL;
    if (package) {
        pkg = sspx_package_find(package);
        ENSURE(pkg, SSPX_ERR_UNKNOWN_PACKAGE);
    } else {
        for (size_t i = 0; i < sspx_package_total() && !pkg; i++) {
            const sspx_package *p = sspx_package_at(i);
            if (p->recognise && p->recognise(token, len))
                pkg = p;
        }
        ENSURE(pkg, SSPX_ERR_DESCRIBE_UNKNOWN);
    }
    ENSURE(pkg->describe, SSPX_ERR_UNSUPPORTED);
    return pkg->describe(token, len, out);
}
