/* sspx_describe("NTLM", ...) and sspx_describe(NULL, ...) on arbitrary
 * bytes; every node of a description is read through the accessors, found
 * again by name, and the tree is rendered with sspx_desc_to_text. Every
 * node's [offset, offset + length) lies inside the token. */
#include "fuzz_common.h"

static size_t g_len;

static void walk(const sspx_desc *root, const sspx_desc *d, int depth)
{
    size_t n, nb = 0;
    const uint8_t *b;
    const char *name = sspx_desc_name(d), *text;
    FZ_CHECK(depth < 16);
    FZ_CHECK(name && *name);
    /* Every node lies inside the token, empty fields included (they point
     * at their header: corpus/fuzz_ntlm_describe/regress-empty-field-offset). */
    FZ_CHECK(sspx_desc_offset(d) <= g_len && g_len - sspx_desc_offset(d) >= sspx_desc_length(d));
    (void)sspx_desc_uint(d);
    text = sspx_desc_text(d);
    if (text)
        (void)strlen(text);
    b = sspx_desc_bytes(d, &nb);
    FZ_CHECK(nb == 0 || b != NULL);
    for (size_t i = 0; i < nb; i++)
        (void)*(volatile const uint8_t *)&b[i];
    switch (sspx_desc_get_kind(d)) {
    case SSPX_DESC_STRING:
        FZ_CHECK(text != NULL);
        break;
    case SSPX_DESC_BYTES:
        FZ_CHECK(text == NULL);
        break;
    case SSPX_DESC_STRUCT:
    case SSPX_DESC_UINT:
    case SSPX_DESC_FLAGS:
    case SSPX_DESC_ENUM:
    case SSPX_DESC_FLAG:
        break;
    default:
        FZ_CHECK(!"unknown node kind");
    }
    /* the first node of that name, depth-first, is this one or came earlier */
    FZ_CHECK(sspx_desc_find(root, name) != NULL);
    n = sspx_desc_child_count(d);
    for (size_t i = 0; i < n; i++) {
        const sspx_desc *k = sspx_desc_child(d, i);
        FZ_CHECK(k != NULL);
        walk(root, k, depth + 1);
    }
    FZ_CHECK(sspx_desc_child(d, n) == NULL);
}

static void run(const char *pkg, const uint8_t *data, size_t size)
{
    sspx_desc *d = NULL;
    sspx_buf txt;
    SECURITY_STATUS st = sspx_describe(pkg, data, size, &d);
    if (st != SEC_E_OK) {
        FZ_CHECK(d == NULL);
        FZ_CHECK(st < 0);
        return;
    }
    FZ_CHECK(d != NULL);
    walk(d, d, 0);
    FZ_CHECK(sspx_desc_find(d, "MessageType") != NULL);
    FZ_CHECK(sspx_desc_find(d, "no such node") == NULL);
    FZ_CHECK(sspx_desc_to_text(d, &txt) == SEC_E_OK);
    FZ_CHECK(txt.data && txt.len > 0 && strlen((const char *)txt.data) == txt.len);
    sspx_buf_free(&txt);
    sspx_desc_free(&d);
    FZ_CHECK(d == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_len = size;
    run("NTLM", data, size);
    run(NULL, data, size);
    return 0;
}
